/**
 * One cursor over a sorted set of either encoding, for the range replies
 * of t_zset.c (genericZrangebyrankCommand, genericZrangebyscoreCommand,
 * genericZrangebylexCommand, the pops and ZRANDMEMBER): positioned by rank
 * (zslGetElementByRank / lpSeek), by the first or last member of a score or
 * lex range (zslFirstInRange... / zzlFirstInRange...), then stepped
 * forwards or backwards (level-0 links / zzlNext, zzlPrev).
 *
 * Read-only: nothing here allocates in the arena, so a position (and the
 * member bytes zcLoad exposes) stays valid while replies are written. One
 * cursor per thread (`zc`), as Redis keeps its iterators on the stack.
 */
import type { Shard } from './shard.js';
import { LP_FIRST, ZS_DICT, ZS_LIST } from './collection-layout.js';
import { DE_AUX, DE_KEY, DE_KEYLEN, dictRandom } from './arena-dict.js';
import {
  nodeRef, nodeScore, zslFirstInLexRange, zslFirstInRange, zslLast, zslFirst, zslLastInLexRange, zslLastInRange, zslNext, zslNodeByRank,
  zslPrev, type LexRange, type ScoreRange,
} from './skiplist.js';
import {
  lexAboveMin, lexBelowMax, lexGteMin, lexLteMax, scoreAboveMin, scoreBelowMax, useLexRange, useScoreRange, zlpAt, zlpEnd, zlpFirstIn,
  zlpLastIn, zlpPrevPos, zlpRead, zlpSeek,
} from './zset-listpack.js';
import { isSkiplist, zsetLength } from './zset-value.js';

/**
 * The cursor: `pos` is a listpack entry offset or a skiplist node, 0 past
 * either end; zcLoad fills member (offset into s.u8), len and score.
 */
export const zc = {
  s: undefined as unknown as Shard,
  e: 0,
  skiplist: false,
  /** First entry offset (listpack) or the skiplist header (skiplist). */
  base: 0,
  pos: 0,
  member: 0,
  len: 0,
  score: 0,
};

let rangeScore: ScoreRange | null = null;
let rangeLex: LexRange | null = null;

/** Points the cursor at a sorted set (no position yet). */
export function zcOpen(s: Shard, e: number): void {
  zc.s = s;
  zc.e = e;
  zc.skiplist = isSkiplist(s, e);
  const v = s.collectionStart(e);
  zc.base = zc.skiplist ? v + ZS_LIST : v + LP_FIRST;
  zc.pos = 0;
}

/** Reads the member and score at the position. */
export function zcLoad(): void {
  const s = zc.s;
  if (zc.skiplist) {
    const ref = nodeRef(s, zc.pos);
    zc.member = ref + DE_KEY;
    zc.len = s.u32[(ref + DE_KEYLEN) >>> 2];
    zc.score = nodeScore(s, zc.pos);
    return;
  }
  zlpRead(s.u8, zc.pos);
  zc.member = zlpAt.member;
  zc.len = zlpAt.len;
  zc.score = zlpAt.score;
}

/** Steps to the next member; false (pos 0) past the last. */
export function zcNext(): boolean {
  const s = zc.s;
  if (zc.skiplist) {
    zc.pos = zslNext(s, zc.pos);
  } else {
    zlpRead(s.u8, zc.pos);
    zc.pos = zlpAt.next < zlpEnd(s, zc.e) ? zlpAt.next : 0;
  }
  return zc.pos !== 0;
}

/** Steps to the previous member; false (pos 0) before the first. */
export function zcPrev(): boolean {
  const s = zc.s;
  if (zc.skiplist) zc.pos = zslPrev(s, zc.pos);
  else zc.pos = zc.pos === zc.base ? 0 : zlpPrevPos(s.u8, zc.pos);
  return zc.pos !== 0;
}

/** Positions at 0-based `rank` (O(log N) on a skiplist); false when out of range. */
export function zcSeekRank(rank: number): boolean {
  const s = zc.s;
  if (!zc.skiplist) {
    zc.pos = zlpSeek(s, zc.e, rank);
  } else if (rank === 0) {
    zc.pos = zslFirst(s, zc.base);
  } else if (rank === zsetLength(s, zc.e) - 1) {
    zc.pos = zslLast(s, zc.base);
  } else {
    zc.pos = zslNodeByRank(s, zc.base, rank + 1);
  }
  return zc.pos !== 0;
}

/** Uses a score range for zcSeekRange and the in-range tests. */
export function zcScoreRange(r: ScoreRange): void {
  rangeScore = r;
  rangeLex = null;
}

/** Uses a lex range for zcSeekRange and the in-range tests. */
export function zcLexRange(r: LexRange): void {
  rangeLex = r;
  rangeScore = null;
}

/** Positions at the first (or, reverse, the last) member in the range; false when none. */
export function zcSeekRange(reverse: boolean): boolean {
  const s = zc.s;
  if (zc.skiplist) {
    const h = zc.base;
    if (rangeScore) zc.pos = reverse ? zslLastInRange(s, h, rangeScore) : zslFirstInRange(s, h, rangeScore);
    else zc.pos = reverse ? zslLastInLexRange(s, h, rangeLex!) : zslFirstInLexRange(s, h, rangeLex!);
    return zc.pos !== 0;
  }
  if (rangeScore) {
    useScoreRange(rangeScore);
    zc.pos = (reverse ? zlpLastIn : zlpFirstIn)(s, zc.e, scoreAboveMin, scoreBelowMax);
  } else {
    useLexRange(rangeLex!);
    zc.pos = (reverse ? zlpLastIn : zlpFirstIn)(s, zc.e, lexAboveMin, lexBelowMax);
  }
  return zc.pos !== 0;
}

/** Whether the loaded member is at or above the range's min (the reverse walks' stop test). */
export function zcAboveMin(): boolean {
  if (rangeScore) return rangeScore.minex ? zc.score > rangeScore.min : zc.score >= rangeScore.min;
  return lexGteMin(zc.s.u8, zc.member, zc.len, rangeLex!);
}

/** Whether the loaded member is at or below the range's max (the forward walks' stop test). */
export function zcBelowMax(): boolean {
  if (rangeScore) return rangeScore.maxex ? zc.score < rangeScore.max : zc.score <= rangeScore.max;
  return lexLteMax(zc.s.u8, zc.member, zc.len, rangeLex!);
}

/**
 * Positions at a random member (zsetTypeRandomElement): a uniform index in
 * a listpack, dictGetFairRandomKey's pick in a skiplist's dict.
 */
export function zcSeekRandom(random: () => number = Math.random): void {
  const s = zc.s;
  if (!zc.skiplist) {
    zc.pos = zlpSeek(s, zc.e, Math.floor(random() * zsetLength(s, zc.e)));
    return;
  }
  const de = dictRandom(s, s.collectionStart(zc.e) + ZS_DICT, random);
  zc.pos = s.u32[(de + DE_AUX) >>> 2];
}
