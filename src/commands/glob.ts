/**
 * Glob matching over bytes with the semantics of Redis's stringmatchlen
 * (util.c): '*', '?', '[...]' with ranges and '^' negation, '\' escapes,
 * optional case folding. Used by KEYS and SCAN MATCH.
 */

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/**
 * Set when a '*' found no match for the rest of the pattern at any later
 * position: no earlier '*' can help then (Redis 7.0.9's skipLongerMatches,
 * the fix for CVE-2022-36021's exponential backtracking).
 */
const search = { skipLongerMatches: false };

export function globMatch(
  p: Uint8Array, ps: number, pe: number, s: Uint8Array, ss: number, se: number, nocase = false,
): boolean {
  search.skipLongerMatches = false;
  return matchFrom(p, ps, pe, s, ss, se, nocase, 0);
}

function matchFrom(
  p: Uint8Array, ps: number, pe: number, s: Uint8Array, ss: number, se: number, nocase: boolean, depth: number,
): boolean {
  // Redis bails out of pathological patterns the same way (nesting limit).
  if (depth > 1000) return false;
  // Redis skips trailing '*'s only after consuming a byte: an empty string
  // matches only the empty pattern ("**" does not match the key "").
  if (ss === se) return ps === pe;
  while (ps < pe && ss < se) {
    const pc = p[ps];
    if (pc === 42 /* * */) {
      while (ps + 1 < pe && p[ps + 1] === 42) ps++;
      if (ps + 1 === pe) return true;
      for (let k = ss; k < se; k++) {
        if (matchFrom(p, ps + 1, pe, s, k, se, nocase, depth + 1)) return true;
        if (search.skipLongerMatches) return false;
      }
      search.skipLongerMatches = true;
      return false;
    } else if (pc === 63 /* ? */) {
      ss++;
    } else if (pc === 91 /* [ */) {
      ps++;
      const not = ps < pe && p[ps] === 94; /* ^ */
      if (not) ps++;
      let match = false;
      for (;;) {
        if (ps >= pe) {
          ps--; // an unterminated class: treat the end as ']'
          break;
        }
        if (p[ps] === 92 /* \ */ && ps + 1 < pe) {
          ps++;
          if (p[ps] === s[ss]) match = true;
        } else if (p[ps] === 93 /* ] */) {
          break;
        } else if (ps + 2 < pe && p[ps + 1] === 45 /* - */) {
          let start = p[ps];
          let end = p[ps + 2];
          let c = s[ss];
          if (start > end) [start, end] = [end, start];
          if (nocase) {
            start = lower(start);
            end = lower(end);
            c = lower(c);
          }
          ps += 2;
          if (c >= start && c <= end) match = true;
        } else if (nocase ? lower(p[ps]) === lower(s[ss]) : p[ps] === s[ss]) {
          match = true;
        }
        ps++;
      }
      if (not) match = !match;
      if (!match) return false;
      ss++;
    } else {
      let want = pc;
      if (pc === 92 /* \ */ && ps + 1 < pe) {
        ps++;
        want = p[ps];
      }
      if (nocase ? lower(want) !== lower(s[ss]) : want !== s[ss]) return false;
      ss++;
    }
    ps++;
  }
  if (ss === se) {
    while (ps < pe && p[ps] === 42) ps++;
  }
  return ps === pe && ss === se;
}

/** True when the pattern matches everything (Redis skips matching for "*"). */
export function isMatchAll(p: Uint8Array, ps: number, pe: number): boolean {
  return pe - ps === 1 && p[ps] === 42;
}
