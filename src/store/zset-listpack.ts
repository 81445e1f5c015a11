/**
 * The compact encoding of sorted sets (OBJECT ENCODING "listpack"), kept
 * inline in the key's entry: Redis's zzl* functions of t_zset.c over weft's
 * packed elements instead of listpack entries.
 *
 * Payload at the collection start `v`: u32 member count (LP_COUNT), then per
 * member a packed element followed by its packed score (packed.ts: one byte
 * for a small integer, up to ten for a double, readable from either end),
 * in (score, member bytes) order as zzlInsert keeps it. The payload is
 * `VALLEN - pad` bytes, so its end is known without a walk.
 *
 * Ported: zzlFind (zlpFind), zzlInsert/zzlInsertAt (zlpInsert, the position
 * from zlpInsertPoint), zzlDelete and zzlDeleteRangeByRank/Score/Lex (all via
 * zlpDeleteBytes on a contiguous run), zzlFirstInRange/zzlLastInRange and
 * their lex forms (zlpFirstIn, zlpLastIn; zlpRunFrom walks the forward
 * runs), and the range checks zzlIsInRange/zzlIsInLexRange (mayOverlap).
 * A -0 score is stored as 0, as Redis's listpack keeps scores as text or
 * integers that carry no sign for zero.
 *
 * Everything that changes the payload may move the entry (resizeValue) and
 * returns the entry's new offset; it relies on `shard.link` from the key's
 * last lookup. Positions handed out are absolute offsets valid until the
 * next change.
 */
import type { Shard } from './shard.js';
import { E_VALLEN } from './layout.js';
import { LP_COUNT, LP_FIRST } from './collection-layout.js';
import {
  compareBytes, elem, packedScoreSize, packedSize, readBackward, readForward, readScore, scoreSizeAt, scoreSizeBefore, writeElement, writeScore,
} from './packed.js';
import { LEX_BYTES, type LexRange, type ScoreRange } from './skiplist.js';

/** Bytes a member of `len` bytes with `score` takes in the payload. */
export function zlpEntrySize(len: number, score: number): number {
  return packedSize(len) + packedScoreSize(score);
}

/** The payload's end offset (past the last score). */
export function zlpEnd(s: Shard, e: number): number {
  return s.collectionStart(e) + s.collectionBytes(e);
}

export function zlpCount(s: Shard, e: number): number {
  return s.u32[(s.collectionStart(e) + LP_COUNT) >>> 2];
}

/** What the last walk found: an entry's start, its member (start, len), its score, and the next entry. */
export const zlpAt = { pos: 0, member: 0, len: 0, score: 0, next: 0 };

/** Reads the entry at p into zlpAt. */
export function zlpRead(u8: Uint8Array, p: number): void {
  const scoreAt = readForward(u8, p);
  zlpAt.pos = p;
  zlpAt.member = elem.start;
  zlpAt.len = elem.len;
  zlpAt.score = readScore(u8, scoreAt);
  zlpAt.next = scoreAt + scoreSizeAt(u8, scoreAt);
}

/** The start of the entry before the one at p (p > first entry). */
export function zlpPrevPos(u8: Uint8Array, p: number): number {
  return readBackward(u8, p - scoreSizeBefore(u8, p));
}

/** The start of the entry at 0-based `index` (walking from the nearer end), or 0 when out of range. */
export function zlpSeek(s: Shard, e: number, index: number): number {
  const v = s.collectionStart(e);
  const count = s.u32[(v + LP_COUNT) >>> 2];
  if (index < 0 || index >= count) return 0;
  const u8 = s.u8;
  if (index < count / 2) {
    let p = v + LP_FIRST;
    for (let i = 0; i < index; i++) {
      p = readForward(u8, p);
      p += scoreSizeAt(u8, p);
    }
    return p;
  }
  let p = zlpEnd(s, e);
  for (let i = count; i > index; i--) p = zlpPrevPos(u8, p);
  return p;
}

/** zzlFind: the entry holding the member, 0 when absent; its score is left in zlpAt. */
export function zlpFind(s: Shard, e: number, src: Uint8Array, start: number, len: number): number {
  const u8 = s.u8;
  const end = zlpEnd(s, e);
  for (let p = s.collectionStart(e) + LP_FIRST; p < end;) {
    zlpRead(u8, p);
    if (zlpAt.len === len && compareBytes(u8, zlpAt.member, len, src, start, len) === 0) return p;
    p = zlpAt.next;
  }
  return 0;
}

/** Where (score, member) goes: the first entry ordered after it, or the payload's end (zzlInsert's walk). */
export function zlpInsertPoint(s: Shard, e: number, score: number, src: Uint8Array, start: number, len: number): number {
  const u8 = s.u8;
  const end = zlpEnd(s, e);
  let p = s.collectionStart(e) + LP_FIRST;
  while (p < end) {
    zlpRead(u8, p);
    if (zlpAt.score > score || (zlpAt.score === score && compareBytes(u8, zlpAt.member, zlpAt.len, src, start, len) > 0)) break;
    p = zlpAt.next;
  }
  return p;
}

/**
 * zzlInsert: adds a member known to be absent at its place. `src` must not
 * be the shard's own memory (the entry may move). Returns the entry.
 */
export function zlpInsert(s: Shard, db: number, e: number, score: number, src: Uint8Array, start: number, len: number): number {
  const pad = s.collectionPadOf(e);
  const oldLen = s.u32[(e + E_VALLEN) >>> 2];
  const at = zlpInsertPoint(s, e, score, src, start, len) - s.collectionStart(e);
  // Redis's listpack keeps the score as text or an integer: -0 comes back as 0.
  if (score === 0) score = 0;
  const grow = zlpEntrySize(len, score);
  e = s.resizeValue(db, e, oldLen + grow, oldLen, false);
  const v = s.collectionStart(e);
  const u8 = s.u8;
  const payload = oldLen - pad;
  if (at < payload) u8.copyWithin(v + at + grow, v + at, v + payload);
  writeScore(u8, writeElement(u8, v + at, src, start, len), score);
  s.u32[(v + LP_COUNT) >>> 2]++;
  return e;
}

/** Removes the `members` entries lying in [from, to) (absolute offsets); returns the entry. */
export function zlpDeleteBytes(s: Shard, db: number, e: number, from: number, to: number, members: number): number {
  if (members === 0) return e;
  const v = s.collectionStart(e);
  const oldLen = s.u32[(e + E_VALLEN) >>> 2];
  const end = v + oldLen - s.collectionPadOf(e);
  const u8 = s.u8;
  u8.copyWithin(from, to, end);
  s.u32[(v + LP_COUNT) >>> 2] -= members;
  const newLen = oldLen - (to - from);
  return s.resizeValue(db, e, newLen, newLen, false);
}

/** Changes the score of the entry at p (zzlDelete + zzlInsert of the same member). Returns the entry. */
export function zlpUpdateScore(s: Shard, db: number, e: number, p: number, score: number): number {
  zlpRead(s.u8, p);
  const member = Buffer.from(s.u8.subarray(zlpAt.member, zlpAt.member + zlpAt.len));
  e = zlpDeleteBytes(s, db, e, p, zlpAt.next, 1);
  return zlpInsert(s, db, e, score, member, 0, member.length);
}

// ---- ranges ----

function gteMin(value: number, r: ScoreRange): boolean {
  return r.minex ? value > r.min : value >= r.min;
}

function lteMax(value: number, r: ScoreRange): boolean {
  return r.maxex ? value < r.max : value <= r.max;
}

/** zslParseRange's empty ranges (zzlIsInRange's first test). */
export function scoreRangeEmpty(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minex || r.maxex));
}

/** sdscmplex of a member against a lex bound. */
function compareLex(u8: Uint8Array, start: number, len: number, bound: Uint8Array, infinity: number): number {
  if (infinity !== LEX_BYTES) return -infinity;
  return compareBytes(u8, start, len, bound, 0, bound.length);
}

export function lexGteMin(u8: Uint8Array, start: number, len: number, r: LexRange): boolean {
  const c = compareLex(u8, start, len, r.min, r.minInfinity);
  return r.minex ? c > 0 : c >= 0;
}

export function lexLteMax(u8: Uint8Array, start: number, len: number, r: LexRange): boolean {
  const c = compareLex(u8, start, len, r.max, r.maxInfinity);
  return r.maxex ? c < 0 : c <= 0;
}

/** zslLexRange's empty ranges: min after max, or equal with an open end. */
export function lexRangeEmpty(r: LexRange): boolean {
  let c: number;
  if (r.minInfinity === r.maxInfinity && r.minInfinity !== LEX_BYTES) c = 0;
  else if (r.minInfinity < 0 || r.maxInfinity > 0) c = -1;
  else if (r.minInfinity > 0 || r.maxInfinity < 0) c = 1;
  else c = compareBytes(r.min, 0, r.min.length, r.max, 0, r.max.length);
  return c > 0 || (c === 0 && (r.minex || r.maxex));
}

/** A range test on the entry last read into zlpAt. */
export type EntryTest = (u8: Uint8Array) => boolean;

let scoreRange: ScoreRange;
let lexRange: LexRange;
/** Tests of zlpAt against the range set by useScoreRange / useLexRange. */
export const scoreAboveMin: EntryTest = () => gteMin(zlpAt.score, scoreRange);
export const scoreBelowMax: EntryTest = () => lteMax(zlpAt.score, scoreRange);
export const lexAboveMin: EntryTest = (u8) => lexGteMin(u8, zlpAt.member, zlpAt.len, lexRange);
export const lexBelowMax: EntryTest = (u8) => lexLteMax(u8, zlpAt.member, zlpAt.len, lexRange);

/** Whether the range set last can hold nothing (min after max, or equal with an open end). */
let rangeEmpty = false;

export function useScoreRange(r: ScoreRange): void {
  scoreRange = r;
  rangeEmpty = scoreRangeEmpty(r);
}

export function useLexRange(r: LexRange): void {
  lexRange = r;
  rangeEmpty = lexRangeEmpty(r);
}

/** zzlIsInRange / zzlIsInLexRange: the range is not empty, the last entry is above min, the first below max. */
function mayOverlap(s: Shard, e: number, aboveMin: EntryTest, belowMax: EntryTest): boolean {
  if (rangeEmpty || zlpCount(s, e) === 0) return false;
  const u8 = s.u8;
  zlpRead(u8, zlpPrevPos(u8, zlpEnd(s, e)));
  if (!aboveMin(u8)) return false;
  zlpRead(u8, s.collectionStart(e) + LP_FIRST);
  return belowMax(u8);
}

/**
 * zzlFirstInRange / zzlFirstInLexRange (after useScoreRange/useLexRange):
 * from the head, the first entry above min, provided it is below max; 0
 * when none.
 */
export function zlpFirstIn(s: Shard, e: number, aboveMin: EntryTest, belowMax: EntryTest): number {
  if (!mayOverlap(s, e, aboveMin, belowMax)) return 0;
  const u8 = s.u8;
  const end = zlpEnd(s, e);
  for (let p = s.collectionStart(e) + LP_FIRST; p < end; p = zlpAt.next) {
    zlpRead(u8, p);
    if (aboveMin(u8)) return belowMax(u8) ? p : 0;
  }
  return 0;
}

/** zzlLastInRange / zzlLastInLexRange: from the tail, the first entry below max, provided it is above min. */
export function zlpLastIn(s: Shard, e: number, aboveMin: EntryTest, belowMax: EntryTest): number {
  if (!mayOverlap(s, e, aboveMin, belowMax)) return 0;
  const u8 = s.u8;
  const first = s.collectionStart(e) + LP_FIRST;
  for (let p = zlpPrevPos(u8, zlpEnd(s, e)); ; p = zlpPrevPos(u8, p)) {
    zlpRead(u8, p);
    if (belowMax(u8)) return aboveMin(u8) ? p : 0;
    if (p === first) return 0;
  }
}

/** Where the forward run from `first` while belowMax holds ends, and its length. */
export const zlpRun = { end: 0, count: 0 };

/** Walks forward from `first` while the entries are below max (zzlDeleteRangeByScore's loop, ZCOUNT's count). */
export function zlpRunFrom(s: Shard, e: number, first: number, belowMax: EntryTest): void {
  const u8 = s.u8;
  const end = zlpEnd(s, e);
  let p = first;
  let n = 0;
  while (p < end) {
    zlpRead(u8, p);
    if (!belowMax(u8)) break;
    p = zlpAt.next;
    n++;
  }
  zlpRun.end = p;
  zlpRun.count = n;
}
