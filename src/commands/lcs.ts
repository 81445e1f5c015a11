/**
 * LCS (Redis 7.0's lcsCommand in t_string.c): the longest common
 * subsequence of two string values, by the classic dynamic-programming
 * table, reading both values in place in shard memory.
 */
import { arg, defineCommand, keyArg, tokenArg, type CommandSpec } from './command-spec.js';
import type { CommandContext } from './context.js';
import { E_TYPE, ValueType } from '../store/layout.js';
import { NOT_INTEGER, SYNTAX } from './errors.js';

/**
 * What the walk back through the table yields: the subsequence (when asked)
 * and the matched ranges, five numbers each: a start, a end, b start, b end
 * and the match length, in the order Redis emits them (last match first).
 */
interface Backtrack {
  text: Buffer | null;
  ranges: number[];
}

/**
 * Walks the table from (alen, blen) back to a border, as Redis does: writes
 * the subsequence into `text` (when wanted) and records each contiguous
 * range of at least `minMatchLen` bytes once it ends.
 */
function backtrack(
  table: Uint32Array, a: Uint8Array, b: Uint8Array, withText: boolean, withRanges: boolean, minMatchLen: number,
): Backtrack {
  const alen = a.length;
  const blen = b.length;
  const width = blen + 1;
  let idx = table[alen * width + blen];
  const text = withText ? Buffer.allocUnsafe(idx) : null;
  const ranges: number[] = [];
  // alen in rangeAStart means "no range open", as in Redis.
  let rangeAStart = alen;
  let rangeAEnd = 0;
  let rangeBStart = 0;
  let rangeBEnd = 0;
  let i = alen;
  let j = blen;
  while (i > 0 && j > 0) {
    let emit = false;
    const ch = a[i - 1];
    if (ch === b[j - 1]) {
      if (text !== null) text[idx - 1] = ch;
      if (rangeAStart === alen) {
        rangeAStart = rangeAEnd = i - 1;
        rangeBStart = rangeBEnd = j - 1;
      } else if (rangeAStart === i && rangeBStart === j) {
        rangeAStart--;
        rangeBStart--;
      } else {
        emit = true;
      }
      // A match on the first byte of either string ends the walk: close the range now.
      if (rangeAStart === 0 || rangeBStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if (table[(i - 1) * width + j] > table[i * width + j - 1]) i--;
      else j--;
      if (rangeAStart !== alen) emit = true;
    }
    if (emit) {
      const matchLen = rangeAEnd - rangeAStart + 1;
      if (withRanges && (minMatchLen === 0 || matchLen >= minMatchLen)) {
        ranges.push(rangeAStart, rangeAEnd, rangeBStart, rangeBEnd, matchLen);
      }
      rangeAStart = alen;
    }
  }
  return { text, ranges };
}

/** LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]. */
function lcs(c: CommandContext): void {
  c.lockKeyRange(1, 2, 1);
  // Redis 7.0 looks both keys up (and checks their types) before parsing options.
  c.selectKey(1);
  const ea = c.findRead();
  const sa = c.shard;
  c.selectKey(2);
  const eb = c.findRead();
  const sb = c.shard;
  if ((ea !== 0 && sa.u8[ea + E_TYPE] !== ValueType.String) || (eb !== 0 && sb.u8[eb + E_TYPE] !== ValueType.String)) {
    c.out.error('The specified keys must contain string values');
    return;
  }
  let getIdx = false;
  let getLen = false;
  let withMatchLen = false;
  let minMatchLen = 0;
  for (let j = 3; j < c.argc; j++) {
    if (c.argIs(j, 'idx')) getIdx = true;
    else if (c.argIs(j, 'len')) getLen = true;
    else if (c.argIs(j, 'withmatchlen')) withMatchLen = true;
    else if (c.argIs(j, 'minmatchlen') && j + 1 < c.argc) {
      const v = c.argInt(++j);
      if (v === null) {
        c.out.error(NOT_INTEGER);
        return;
      }
      minMatchLen = Math.max(0, v);
    } else {
      c.out.error(SYNTAX);
      return;
    }
  }
  if (getIdx && getLen) {
    c.out.error('If you want both the length and indexes, please just use IDX.');
    return;
  }
  const alen = ea === 0 ? 0 : sa.valueLength(ea);
  const blen = eb === 0 ? 0 : sb.valueLength(eb);
  if (alen >= 0xfffffffe || blen >= 0xfffffffe) {
    c.out.error('String too long for LCS');
    return;
  }
  // Redis caps the transient uint32 table at proto-max-bulk-len bytes.
  const cells = (alen + 1) * (blen + 1);
  if (cells * 4 > Number(c.server.configGet('proto-max-bulk-len'))) {
    c.out.error('Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');
    return;
  }
  let table: Uint32Array;
  try {
    table = new Uint32Array(cells);
  } catch {
    c.out.error('Insufficient memory, failed allocating transient memory for LCS');
    return;
  }
  // Copies of both values: the O(N*M) table is filled after the shard locks
  // are released, so LCS on big strings stalls no other client of the shards.
  const a = new Uint8Array(new Uint8Array(sa.sab, ea === 0 ? 0 : sa.valueStart(ea), alen));
  const b = new Uint8Array(new Uint8Array(sb.sab, eb === 0 ? 0 : sb.valueStart(eb), blen));
  // Inside EXEC the transaction keeps its locks to the end.
  if (!c.inTransaction) c.unlockAll();
  const width = blen + 1;
  // Row 0 and column 0 stay zero: the LCS with an empty prefix is empty.
  for (let i = 1; i <= alen; i++) {
    const ch = a[i - 1];
    const row = i * width;
    const above = row - width;
    for (let j = 1; j <= blen; j++) {
      if (ch === b[j - 1]) {
        table[row + j] = table[above + j - 1] + 1;
      } else {
        const up = table[above + j];
        const left = table[row + j - 1];
        table[row + j] = up > left ? up : left;
      }
    }
  }
  const total = table[alen * width + blen];
  if (getLen && !getIdx) {
    c.out.integer(total);
    return;
  }
  const { text, ranges } = backtrack(table, a, b, !getIdx, getIdx, minMatchLen);
  if (!getIdx) {
    c.out.bulkBytes(text!, 0, text!.length);
    return;
  }
  c.out.mapHeader(2);
  c.out.bulkString('matches');
  c.out.arrayHeader(ranges.length / 5);
  for (let k = 0; k < ranges.length; k += 5) {
    c.out.arrayHeader(withMatchLen ? 3 : 2);
    c.out.arrayHeader(2);
    c.out.integer(ranges[k]);
    c.out.integer(ranges[k + 1]);
    c.out.arrayHeader(2);
    c.out.integer(ranges[k + 2]);
    c.out.integer(ranges[k + 3]);
    if (withMatchLen) c.out.integer(ranges[k + 4]);
  }
  c.out.bulkString('len');
  c.out.integer(total);
}

export const lcsCommands: CommandSpec[] = [
  defineCommand({ name: 'lcs', arity: -3, flags: ['readonly'], keys: [1, 2, 1], keyFlags: ['RO', 'ACCESS'], categories: ['string'],
    group: 'string', since: '7.0.0', complexity: 'O(N*M) where N and M are the lengths of s1 and s2, respectively',
    summary: 'Find longest common substring',
    arguments: [keyArg('key1', 0), keyArg('key2', 0), tokenArg('len', 'LEN', { optional: true }),
      tokenArg('idx', 'IDX', { optional: true }), arg('len', 'integer', { token: 'MINMATCHLEN', optional: true }),
      tokenArg('withmatchlen', 'WITHMATCHLEN', { optional: true })],
    handler: lcs }),
];
