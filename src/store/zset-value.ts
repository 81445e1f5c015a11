/**
 * Sorted-set operations whatever the encoding (t_zset.c's zset* layer):
 * zsetLength, zsetScore, zsetAdd (with the listpack -> skiplist conversion
 * of zsetConvert), zsetDel, zsetRank, the range deletions of
 * zremrangeGenericCommand, and a cursor over either encoding for the range
 * replies (the zzlNext/zzlPrev and skiplist forward/backward walks).
 *
 * A skiplist zset keeps, at its collection start, the member dict
 * (arena-dict.ts: entry key = member, aux = skiplist node) at ZS_DICT and
 * the skiplist header (skiplist.ts: node ref = dict entry) at ZS_LIST; the
 * member bytes live once, in the dict entry, freed with its node
 * (collections.ts releaseBlocks). Listpack zsets are zset-listpack.ts.
 *
 * Functions that may move the entry leave its new offset in `zv.e`.
 */
import type { Shard } from './shard.js';
import { E_ENCODING, E_VALLEN, ValueType } from './layout.js';
import { CollectionEncoding, LP_COUNT, LP_FIRST, ZS_DICT, ZS_HEADER_BYTES, ZS_LIST } from './collection-layout.js';
import { DE_AUX, DE_HASH, DE_KEY, DE_KEYLEN, dictAdd, dictFind, dictInit, dictUnlink, hashOf } from './arena-dict.js';
import {
  nodeRef, nodeScore, zslCreate, zslDelete, zslDeleteRangeByLex, zslDeleteRangeByRank, zslDeleteRangeByScore, zslFirstInLexRange,
  zslFirstInRange, zslGetRank, zslInsert, zslLastInLexRange, zslLastInRange, zslLength, zslUpdateScore, type LexRange, type ScoreRange,
} from './skiplist.js';
import { unflatten } from './collections.js';
import {
  lexAboveMin, lexBelowMax, scoreAboveMin, scoreBelowMax, useLexRange, useScoreRange, zlpAt, zlpCount, zlpDeleteBytes,
  zlpFind, zlpFirstIn, zlpInsert, zlpRead, zlpRun, zlpRunFrom, zlpSeek, zlpUpdateScore, type EntryTest,
} from './zset-listpack.js';

// zsetAdd's input flags (ZADD_IN_*) and result flags (ZADD_OUT_*).
export const ZADD_IN_INCR = 1;
export const ZADD_IN_NX = 2;
export const ZADD_IN_XX = 4;
export const ZADD_IN_GT = 8;
export const ZADD_IN_LT = 16;
export const ZADD_OUT_NOP = 1;
export const ZADD_OUT_NAN = 2;
export const ZADD_OUT_ADDED = 4;
export const ZADD_OUT_UPDATED = 8;

/** Results of the last operation: the (possibly moved) entry and the member's new score. */
export const zv = { e: 0, score: 0 };

export function isSkiplist(s: Shard, e: number): boolean {
  return s.u8[e + E_ENCODING] === CollectionEncoding.Skiplist;
}

export function zsetLength(s: Shard, e: number): number {
  const v = s.collectionStart(e);
  return isSkiplist(s, e) ? zslLength(s, v + ZS_LIST) : s.u32[(v + LP_COUNT) >>> 2];
}

/** Sets up an empty value in a new entry whose value region holds pad + the header (zsetTypeCreate). */
export function zsetInit(s: Shard, e: number, pad: number, skiplist: boolean): void {
  s.u32[(e + E_VALLEN) >>> 2] = pad + (skiplist ? ZS_HEADER_BYTES : LP_FIRST);
  s.u8[e + E_ENCODING] = skiplist ? CollectionEncoding.Skiplist : CollectionEncoding.Listpack;
  const v = s.collectionStart(e);
  if (!skiplist) {
    s.u32[(v + LP_COUNT) >>> 2] = 0;
    return;
  }
  dictInit(s, v + ZS_DICT);
  zslCreate(s, v + ZS_LIST);
}

/**
 * Fills a new entry from a flat form (u32 count, then member · score pairs
 * in order): copied as is for a listpack (its region holds pad + flat
 * bytes), rebuilt for a skiplist (its region holds pad + the header).
 */
export function zsetInitFromFlat(s: Shard, e: number, pad: number, flat: Uint8Array, skiplist: boolean): void {
  if (!skiplist) {
    s.u32[(e + E_VALLEN) >>> 2] = pad + flat.length;
    s.u8[e + E_ENCODING] = CollectionEncoding.Listpack;
    s.u8.set(flat, s.collectionStart(e));
    return;
  }
  s.u32[(e + E_VALLEN) >>> 2] = pad + ZS_HEADER_BYTES;
  s.u8[e + E_ENCODING] = CollectionEncoding.Skiplist;
  unflatten(s, ValueType.ZSet, CollectionEncoding.Skiplist, s.collectionStart(e), flat, 0);
}

/** zsetConvert(zobj, OBJ_ENCODING_SKIPLIST): rebuilds a listpack value as dict + skiplist. Returns the entry. */
export function zsetConvertToSkiplist(s: Shard, db: number, e: number): number {
  const v = s.collectionStart(e);
  const pad = s.collectionPadOf(e);
  const flat = Buffer.from(s.u8.subarray(v, v + s.u32[(e + E_VALLEN) >>> 2] - pad));
  e = s.resizeValue(db, e, pad + ZS_HEADER_BYTES, pad, false);
  s.u8[e + E_ENCODING] = CollectionEncoding.Skiplist;
  unflatten(s, ValueType.ZSet, CollectionEncoding.Skiplist, s.collectionStart(e), flat, 0);
  return e;
}

/** The member's dict entry in a skiplist zset, 0 when absent (sets dictLink for dictUnlink). */
function dictEntryOf(s: Shard, e: number, src: Uint8Array, start: number, len: number): number {
  return dictFind(s, s.collectionStart(e) + ZS_DICT, src, start, len, hashOf(src, start, len));
}

/** zsetScore: whether the member is present; its score goes to zv.score. O(1) on a skiplist (the dict). */
export function zsetScore(s: Shard, e: number, src: Uint8Array, start: number, len: number): boolean {
  if (isSkiplist(s, e)) {
    const de = dictEntryOf(s, e, src, start, len);
    if (de === 0) return false;
    zv.score = nodeScore(s, s.u32[(de + DE_AUX) >>> 2]);
    return true;
  }
  if (zlpFind(s, e, src, start, len) === 0) return false;
  zv.score = zlpAt.score;
  return true;
}

/** An existing member's candidate score: null under NX, the sum under INCR (may be NaN), else the given score. */
function updatedScore(cur: number, score: number, flags: number): number | null {
  if (flags & ZADD_IN_NX) return null;
  if (flags & ZADD_IN_INCR) score += cur;
  return score;
}

/**
 * zsetAdd: adds or updates a member as ZADD/ZINCRBY do with `flags`
 * (ZADD_IN_*); returns ZADD_OUT_* flags (0: present and unchanged). The new
 * score goes to zv.score, the entry to zv.e. A listpack becomes a skiplist
 * when the new member would pass zset-max-listpack-entries or is longer
 * than zset-max-listpack-value.
 */
export function zsetAdd(s: Shard, db: number, e: number, maxEntries: number, maxValue: number, score: number,
  src: Uint8Array, start: number, len: number, flags: number): number {
  zv.e = e;
  if (score !== score) return ZADD_OUT_NAN;
  if (!isSkiplist(s, e)) {
    const p = zlpFind(s, e, src, start, len);
    if (p !== 0) {
      const outcome = existingMember(zlpAt.score, score, flags);
      if (outcome === ZADD_OUT_UPDATED) zv.e = zlpUpdateScore(s, db, e, p, zv.score);
      return outcome;
    }
    if (flags & ZADD_IN_XX) return ZADD_OUT_NOP;
    if (zlpCount(s, e) + 1 <= maxEntries && len <= maxValue) {
      zv.e = zlpInsert(s, db, e, score, src, start, len);
      zv.score = score;
      return ZADD_OUT_ADDED;
    }
    e = zv.e = zsetConvertToSkiplist(s, db, e);
  }
  return skiplistAdd(s, e, score, src, start, len, flags);
}

/**
 * ZADD on a member that exists with score `cur`: ZADD_OUT_NOP or
 * ZADD_OUT_NAN when nothing changes, 0 when the score stays the same, or
 * ZADD_OUT_UPDATED with the new score in zv.score (the caller stores it).
 */
function existingMember(cur: number, score: number, flags: number): number {
  const next = updatedScore(cur, score, flags);
  if (next === null) return ZADD_OUT_NOP;
  if (next !== next) return ZADD_OUT_NAN;
  if (((flags & ZADD_IN_LT) && next >= cur) || ((flags & ZADD_IN_GT) && next <= cur)) return ZADD_OUT_NOP;
  zv.score = next;
  return next === cur ? 0 : ZADD_OUT_UPDATED;
}

/** zsetAdd's skiplist half. */
function skiplistAdd(s: Shard, e: number, score: number, src: Uint8Array, start: number, len: number, flags: number): number {
  const v = s.collectionStart(e);
  const hash = hashOf(src, start, len);
  const de = dictFind(s, v + ZS_DICT, src, start, len, hash);
  if (de !== 0) {
    const node = s.u32[(de + DE_AUX) >>> 2];
    const outcome = existingMember(nodeScore(s, node), score, flags);
    if (outcome === ZADD_OUT_UPDATED) zslUpdateScore(s, v + ZS_LIST, node, zv.score);
    return outcome;
  }
  if (flags & ZADD_IN_XX) return ZADD_OUT_NOP;
  const entry = dictAdd(s, v + ZS_DICT, src, start, len, hash, 0, 0);
  const node = zslInsert(s, v + ZS_LIST, score, entry);
  s.u32[(entry + DE_AUX) >>> 2] = node;
  zv.score = score;
  return ZADD_OUT_ADDED;
}

/** Unlinks dict entry `de` (found by the last dictFind) and its node, and frees both (zsetRemoveFromSkiplist). */
function removeSkiplistEntry(s: Shard, v: number, de: number): void {
  const score = nodeScore(s, s.u32[(de + DE_AUX) >>> 2]);
  dictUnlink(s, v + ZS_DICT, de);
  zslDelete(s, v + ZS_LIST, score, de);
  s.free(de, DE_KEY + s.u32[(de + DE_KEYLEN) >>> 2]);
}

/** zsetDel: removes the member; whether it was there. The entry goes to zv.e. */
export function zsetDel(s: Shard, db: number, e: number, src: Uint8Array, start: number, len: number): boolean {
  zv.e = e;
  if (isSkiplist(s, e)) {
    const de = dictEntryOf(s, e, src, start, len);
    if (de === 0) return false;
    removeSkiplistEntry(s, s.collectionStart(e), de);
    return true;
  }
  const p = zlpFind(s, e, src, start, len);
  if (p === 0) return false;
  zv.e = zlpDeleteBytes(s, db, e, p, zlpAt.next, 1);
  return true;
}

/** zsetRank: the member's 0-based rank (from the top when reverse), -1 when absent. O(log N) on a skiplist. */
export function zsetRank(s: Shard, e: number, src: Uint8Array, start: number, len: number, reverse: boolean): number {
  const length = zsetLength(s, e);
  let rank: number;
  if (isSkiplist(s, e)) {
    const de = dictEntryOf(s, e, src, start, len);
    if (de === 0) return -1;
    rank = zslGetRank(s, s.collectionStart(e) + ZS_LIST, nodeScore(s, s.u32[(de + DE_AUX) >>> 2]), de) - 1;
  } else {
    rank = 0;
    const u8 = s.u8;
    let p = s.collectionStart(e) + LP_FIRST;
    for (; rank < length; rank++, p = zlpAt.next) {
      zlpRead(u8, p);
      if (zlpAt.len === len && sameBytes(u8, zlpAt.member, src, start, len)) break;
    }
    if (rank === length) return -1;
  }
  return reverse ? length - 1 - rank : rank;
}

function sameBytes(a: Uint8Array, as: number, b: Uint8Array, bs: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[as + i] !== b[bs + i]) return false;
  return true;
}

// ---- range deletion (zremrangeGenericCommand) ----

/** The dict header of the skiplist whose nodes the range deletions are removing. */
let removingFrom = 0;
let removingShard: Shard;

/** Drops the dict entry of a node the skiplist is deleting (the node's ref is the entry). */
function dropDictEntry(node: number): void {
  const s = removingShard;
  const ref = nodeRef(s, node);
  const kl = s.u32[(ref + DE_KEYLEN) >>> 2];
  dictFind(s, removingFrom, s.u8, ref + DE_KEY, kl, s.u32[(ref + DE_HASH) >>> 2]);
  dictUnlink(s, removingFrom, ref);
  s.free(ref, DE_KEY + kl);
}

function beginSkiplistRemoval(s: Shard, e: number): number {
  const v = s.collectionStart(e);
  removingShard = s;
  removingFrom = v + ZS_DICT;
  return v + ZS_LIST;
}

/** Removes the members of 0-based ranks start..end (valid and ordered); returns how many. Entry in zv.e. */
export function zsetDeleteRangeByRank(s: Shard, db: number, e: number, start: number, end: number): number {
  zv.e = e;
  if (isSkiplist(s, e)) return zslDeleteRangeByRank(s, beginSkiplistRemoval(s, e), start + 1, end + 1, dropDictEntry);
  const from = zlpSeek(s, e, start);
  let to = from;
  for (let i = start; i <= end; i++) {
    zlpRead(s.u8, to);
    to = zlpAt.next;
  }
  zv.e = zlpDeleteBytes(s, db, e, from, to, end - start + 1);
  return end - start + 1;
}

/** zzlDeleteRangeByScore/Lex: from the first entry in range, while below max. */
function deleteListpackRun(s: Shard, db: number, e: number, aboveMin: EntryTest, belowMax: EntryTest): number {
  const first = zlpFirstIn(s, e, aboveMin, belowMax);
  if (first === 0) return 0;
  zlpRunFrom(s, e, first, belowMax);
  zv.e = zlpDeleteBytes(s, db, e, first, zlpRun.end, zlpRun.count);
  return zlpRun.count;
}

/** ZREMRANGEBYSCORE's removal; returns how many. Entry in zv.e. */
export function zsetDeleteRangeByScore(s: Shard, db: number, e: number, r: ScoreRange): number {
  zv.e = e;
  if (isSkiplist(s, e)) return zslDeleteRangeByScore(s, beginSkiplistRemoval(s, e), r, dropDictEntry);
  useScoreRange(r);
  return deleteListpackRun(s, db, e, scoreAboveMin, scoreBelowMax);
}

/** ZREMRANGEBYLEX's removal; returns how many. Entry in zv.e. */
export function zsetDeleteRangeByLex(s: Shard, db: number, e: number, r: LexRange): number {
  zv.e = e;
  if (isSkiplist(s, e)) return zslDeleteRangeByLex(s, beginSkiplistRemoval(s, e), r, dropDictEntry);
  useLexRange(r);
  return deleteListpackRun(s, db, e, lexAboveMin, lexBelowMax);
}

// ---- counting ----

/** ZCOUNT / ZLEXCOUNT: the members from the first in range on, while below max (skiplist: by ranks). */
export function zsetCountInRange(s: Shard, e: number, score: ScoreRange | null, lex: LexRange | null): number {
  if (!isSkiplist(s, e)) {
    if (score) useScoreRange(score);
    else useLexRange(lex!);
    const aboveMin = score ? scoreAboveMin : lexAboveMin;
    const belowMax = score ? scoreBelowMax : lexBelowMax;
    const first = zlpFirstIn(s, e, aboveMin, belowMax);
    if (first === 0) return 0;
    zlpRunFrom(s, e, first, belowMax);
    return zlpRun.count;
  }
  const h = s.collectionStart(e) + ZS_LIST;
  const length = zslLength(s, h);
  let node = score ? zslFirstInRange(s, h, score) : zslFirstInLexRange(s, h, lex!);
  if (node === 0) return 0;
  let count = length - (zslGetRank(s, h, nodeScore(s, node), nodeRef(s, node)) - 1);
  node = score ? zslLastInRange(s, h, score) : zslLastInLexRange(s, h, lex!);
  if (node !== 0) count -= length - zslGetRank(s, h, nodeScore(s, node), nodeRef(s, node));
  return count;
}
