/**
 * The single-member sorted-set commands of t_zset.c: ZADD and ZINCRBY
 * (zaddGenericCommand), ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK/ZREVRANK
 * (zrankGenericCommand), ZPOPMIN/ZPOPMAX (zpopMinMaxCommand), ZMPOP
 * (zmpopGenericCommand), ZRANDMEMBER (zrandmemberCommand and
 * zrandmemberWithCountCommand) and ZSCAN (scanGenericCommand's zset part).
 */
import { EventClass } from './keyspace-events.js';
import type { CommandContext } from './context.js';
import { NOT_FLOAT, NOT_INTEGER, SYNTAX } from './errors.js';
import { parseBigInt64 } from './numbers.js';
import { formatScore, parseScoreStrict } from './zset-scores.js';
import { beginCollectionScan, replyEmptyScan, scanCursorArg } from './collection-scan.js';
import { signalKeyAsReady } from './blocking.js';
import { createZsetKey, findZset, replyScore, zsetPopReply } from './zset-common.js';
import { ZS_DICT } from '../store/collection-layout.js';
import { DE_AUX, DE_KEY, DE_KEYLEN } from '../store/arena-dict.js';
import { nodeScore } from '../store/skiplist.js';
import {
  isSkiplist, ZADD_IN_GT, ZADD_IN_INCR, ZADD_IN_LT, ZADD_IN_NX, ZADD_IN_XX, ZADD_OUT_ADDED, ZADD_OUT_NAN, ZADD_OUT_NOP, ZADD_OUT_UPDATED,
  zsetAdd, zsetDel, zsetLength, zsetRank, zsetScore, zv,
} from '../store/zset-value.js';
import { mpopArgs, parseMpop } from './mpop-args.js';
import { zc, zcLoad, zcNext, zcOpen, zcPrev, zcSeekRandom, zcSeekRank } from '../store/zset-cursor.js';

const XX_NX = 'XX and NX options at the same time are not compatible';
const GT_LT_NX = 'GT, LT, and/or NX options at the same time are not compatible';
const INCR_PAIR = 'INCR option supports a single increment-element pair';
const NAN_RESULT = 'resulting score is not a number (NaN)';
const RANDOM_RANGE = 'value is out of range';
const RANDOM_LIMITS = 'value is out of range, value must between -9223372036854775807 and 9223372036854775807';
/** LONG_MAX / 2: ZRANDMEMBER ... WITHSCORES refuses counts beyond it (the reply has twice as many elements). */
const HALF_LONG_MAX = 4611686018427387903n;

/** Parsed ZADD scores, reused between calls. */
let scores = new Float64Array(64);

/** What zaddGenericCommand's option loop found: the ZADD_IN_* flags, CH, and where the score/member pairs start. */
const parsed = { flags: 0, ch: false, scoreIdx: 2 };

function parseZaddOptions(c: CommandContext, flags: number): void {
  let i = 2;
  let ch = false;
  for (; i < c.argc; i++) {
    if (c.argIs(i, 'nx')) flags |= ZADD_IN_NX;
    else if (c.argIs(i, 'xx')) flags |= ZADD_IN_XX;
    else if (c.argIs(i, 'ch')) ch = true;
    else if (c.argIs(i, 'incr')) flags |= ZADD_IN_INCR;
    else if (c.argIs(i, 'gt')) flags |= ZADD_IN_GT;
    else if (c.argIs(i, 'lt')) flags |= ZADD_IN_LT;
    else break;
  }
  parsed.flags = flags;
  parsed.ch = ch;
  parsed.scoreIdx = i;
}

/** The option conflicts and the scores, checked before the key is touched; false after replying an error. */
function checkZaddArgs(c: CommandContext, flags: number, pairs: number): boolean {
  const nx = (flags & ZADD_IN_NX) !== 0;
  const gt = (flags & ZADD_IN_GT) !== 0;
  const lt = (flags & ZADD_IN_LT) !== 0;
  if (nx && (flags & ZADD_IN_XX)) c.out.error(XX_NX);
  else if ((gt && nx) || (lt && nx) || (gt && lt)) c.out.error(GT_LT_NX);
  else if ((flags & ZADD_IN_INCR) && pairs > 1) c.out.error(INCR_PAIR);
  else return parseScores(c, pairs);
  return false;
}

function parseScores(c: CommandContext, pairs: number): boolean {
  if (scores.length < pairs) scores = new Float64Array(pairs * 2);
  for (let j = 0; j < pairs; j++) {
    const i = parsed.scoreIdx + j * 2;
    const v = parseScoreStrict(c.buf, c.argStart[i], c.argLen[i]);
    if (v === null) {
      c.out.error(NOT_FLOAT);
      return false;
    }
    scores[j] = v;
  }
  return true;
}

/** ZADD / ZINCRBY (zaddGenericCommand). */
function zaddGeneric(c: CommandContext, baseFlags: number): void {
  parseZaddOptions(c, baseFlags);
  const { flags, ch, scoreIdx } = parsed;
  const elements = c.argc - scoreIdx;
  if (elements % 2 !== 0 || elements === 0) {
    c.out.error(SYNTAX);
    return;
  }
  const pairs = elements / 2;
  if (!checkZaddArgs(c, flags, pairs)) return;
  const incr = (flags & ZADD_IN_INCR) !== 0;
  c.openKey(1);
  let e = findZset(c, true);
  if (e < 0) return;
  let created = false;
  if (e === 0) {
    if (flags & ZADD_IN_XX) {
      if (incr) c.out.nullBulk();
      else c.out.integer(0);
      return;
    }
    const limits = c.server.limits;
    e = createZsetKey(c, limits.zsetMaxListpackEntries === 0 || limits.zsetMaxListpackValue < c.argLen[scoreIdx + 1]);
    created = true;
  }
  let added = 0;
  let updated = 0;
  let processed = 0;
  let score = 0;
  const limits = c.server.limits;
  for (let j = 0; j < pairs; j++) {
    const m = scoreIdx + j * 2 + 1;
    const out = zsetAdd(c.shard, c.db, e, limits.zsetMaxListpackEntries, limits.zsetMaxListpackValue, scores[j],
      c.buf, c.argStart[m], c.argLen[m], flags);
    e = zv.e;
    if (out & ZADD_OUT_NAN) {
      c.out.error(NAN_RESULT);
      c.dirty += added + updated;
      return;
    }
    if (out & ZADD_OUT_ADDED) added++;
    if (out & ZADD_OUT_UPDATED) updated++;
    if (!(out & ZADD_OUT_NOP)) processed++;
    score = zv.score;
  }
  c.dirty += added + updated;
  if (incr && added + updated > 0) c.keyEvent(EventClass.Zset, 'zincr', 1);
  if (created) signalKeyAsReady(c, 1);
  if (!incr) c.out.integer(ch ? added + updated : added);
  else if (processed) replyScore(c.out, score);
  else c.out.nullBulk();
}

export function zadd(c: CommandContext): void {
  zaddGeneric(c, 0);
}

export function zincrby(c: CommandContext): void {
  zaddGeneric(c, ZADD_IN_INCR);
}

export function zrem(c: CommandContext): void {
  c.openKey(1);
  let e = findZset(c, true);
  if (e <= 0) {
    if (e === 0) c.out.integer(0);
    return;
  }
  let deleted = 0;
  for (let i = 2; i < c.argc; i++) {
    const gone = zsetDel(c.shard, c.db, e, c.buf, c.argStart[i], c.argLen[i]);
    e = zv.e;
    if (!gone) continue;
    deleted++;
    if (zsetLength(c.shard, e) === 0) {
      c.shard.remove(c.db, e);
      break;
    }
  }
  c.dirty += deleted;
  c.out.integer(deleted);
}

export function zcard(c: CommandContext): void {
  c.openKey(1);
  const e = findZset(c, false);
  if (e >= 0) c.out.integer(e === 0 ? 0 : zsetLength(c.shard, e));
}

export function zscore(c: CommandContext): void {
  c.openKey(1);
  const e = findZset(c, false);
  if (e < 0) return;
  if (e === 0 || !zsetScore(c.shard, e, c.buf, c.argStart[2], c.argLen[2])) c.out.nullBulk();
  else replyScore(c.out, zv.score);
}

export function zmscore(c: CommandContext): void {
  c.openKey(1);
  const e = findZset(c, false);
  if (e < 0) return;
  c.out.arrayHeader(c.argc - 2);
  for (let i = 2; i < c.argc; i++) {
    if (e === 0 || !zsetScore(c.shard, e, c.buf, c.argStart[i], c.argLen[i])) c.out.nullBulk();
    else replyScore(c.out, zv.score);
  }
}

function zrankGeneric(c: CommandContext, reverse: boolean): void {
  c.openKey(1);
  const e = findZset(c, false);
  if (e < 0) return;
  const rank = e === 0 ? -1 : zsetRank(c.shard, e, c.buf, c.argStart[2], c.argLen[2], reverse);
  if (rank < 0) c.out.nullBulk();
  else c.out.integer(rank);
}

export function zrank(c: CommandContext): void {
  zrankGeneric(c, false);
}

export function zrevrank(c: CommandContext): void {
  zrankGeneric(c, true);
}

// ---- pops ----

/**
 * genericZpopCommand over keys first..last: the first existing key is
 * popped (a wrong type stops with WRONGTYPE). Returns the key argument
 * popped, 0 after a WRONGTYPE or COUNT 0 reply, or -1 when every key is
 * missing (nothing replied: the caller answers, or blocks).
 */
export function popFirstKey(c: CommandContext, first: number, last: number, max: boolean, count: number, emitKey: boolean,
  nested: boolean): number {
  for (let i = first; i <= last; i++) {
    c.selectKey(i);
    const e = findZset(c, true);
    if (e < 0) return 0;
    if (e === 0) continue;
    if (count === 0) {
      c.out.arrayHeader(0);
      return 0;
    }
    c.dirty += zsetPopReply(c.shard, c.db, e, c.argBuffer(i), max, count < 0 ? 1 : count, emitKey, nested, c.out);
    c.keyModified(i);
    c.keyEvent(EventClass.Zset, max ? 'zpopmax' : 'zpopmin', i, true);
    return i;
  }
  return -1;
}

/** ZPOPMIN / ZPOPMAX key [count] (zpopMinMaxCommand). */
function zpopMinMax(c: CommandContext, max: boolean): void {
  if (c.argc > 3) {
    c.out.error(SYNTAX);
    return;
  }
  let count = -1;
  if (c.argc === 3) {
    const n = c.argCountOrReply(2);
    if (n === null) return;
    count = n;
  }
  c.openKey(1);
  if (popFirstKey(c, 1, 1, max, count, false, c.out.resp > 2 && count !== -1) < 0) c.out.arrayHeader(0);
}

export function zpopmin(c: CommandContext): void {
  zpopMinMax(c, false);
}

export function zpopmax(c: CommandContext): void {
  zpopMinMax(c, true);
}

/** ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] (zmpopGenericCommand); propagated as ZPOPMIN|ZPOPMAX key count. */
export function zmpop(c: CommandContext): void {
  if (!parseMpop(c, 1, 'min', 'max')) return;
  const { firstKey, lastKey, count } = mpopArgs;
  const max = !mpopArgs.firstWord;
  c.lockKeyRange(firstKey, lastKey, 1);
  const popped = popFirstKey(c, firstKey, lastKey, max, count, true, true);
  if (popped < 0) c.out.nullArray();
  else if (popped > 0) c.propagateAs = [max ? 'ZPOPMAX' : 'ZPOPMIN', c.argBuffer(popped), count];
}

// ---- ZRANDMEMBER ----

/** zrandmemberCommand's count argument in -LONG_MAX..LONG_MAX; null after replying the error. */
function randomCount(c: CommandContext, withScores: boolean): number | null {
  const n = c.argInt(2);
  if (n === null) {
    c.out.error(NOT_INTEGER);
    return null;
  }
  // Beyond 2^53 a double cannot tell the limits apart: compare the exact integers.
  const exact = Number.isSafeInteger(n) ? BigInt(n) : parseBigInt64(c.buf, c.argStart[2], c.argLen[2])!;
  if (exact === -9223372036854775808n) {
    c.out.error(RANDOM_LIMITS);
    return null;
  }
  if (withScores && (exact > HALF_LONG_MAX || exact < -HALF_LONG_MAX)) {
    c.out.error(RANDOM_RANGE);
    return null;
  }
  return n;
}

function replyMember(c: CommandContext, withScores: boolean): void {
  zcLoad();
  if (withScores && c.out.resp > 2) c.out.arrayHeader(2);
  c.out.bulkBytes(c.shard.u8, zc.member, zc.len, c.shard.dv);
  if (withScores) replyScore(c.out, zc.score);
}

export function zrandmember(c: CommandContext): void {
  if (c.argc >= 3) {
    const withScores = c.argc === 4 && c.argIs(3, 'withscores');
    if (c.argc > 4 || (c.argc === 4 && !withScores)) {
      // The count is parsed first: its errors win over the syntax error.
      if (randomCount(c, false) !== null) c.out.error(SYNTAX);
      return;
    }
    const count = randomCount(c, withScores);
    if (count !== null) zrandmemberWithCount(c, count, withScores);
    return;
  }
  c.openKey(1);
  const e = findZset(c, false);
  if (e <= 0) {
    if (e === 0) c.out.nullBulk();
    return;
  }
  zcOpen(c.shard, e);
  zcSeekRandom();
  replyMember(c, false);
}

/** zrandmemberWithCountCommand: with replacement for a negative count, distinct members otherwise. */
function zrandmemberWithCount(c: CommandContext, count: number, withScores: boolean): void {
  c.openKey(1);
  const e = findZset(c, false);
  if (e <= 0) {
    if (e === 0) c.out.arrayHeader(0);
    return;
  }
  const size = zsetLength(c.shard, e);
  const unique = count >= 0;
  const n = Math.abs(count);
  const reply = unique ? Math.min(n, size) : n;
  c.out.arrayHeader(withScores && c.out.resp === 2 ? reply * 2 : reply);
  if (reply === 0) return;
  zcOpen(c.shard, e);
  if (!unique || n === 1) {
    for (let i = 0; i < n; i++) {
      zcSeekRandom();
      replyMember(c, withScores);
    }
  } else if (n >= size) {
    // The whole set, as zuiNext walks it: from the tail.
    zcSeekRank(size - 1);
    for (let i = 0; i < size; i++, zcPrev()) replyMember(c, withScores);
  } else {
    replyDistinct(c, size, n, withScores);
  }
}

/** zrandmemberWithCountCommand's CASE 3 threshold: above count * 3 > size, shuffle instead of sampling. */
const SUB_STRATEGY_MUL = 3;

/**
 * n distinct members (n < size) in random order: a partial Fisher-Yates
 * shuffle of the ranks when n is a good part of the set (CASE 3), random
 * ranks until n distinct ones came up otherwise (CASE 4, O(n)).
 */
function replyDistinct(c: CommandContext, size: number, n: number, withScores: boolean): void {
  if (n * SUB_STRATEGY_MUL > size) {
    const ranks = new Uint32Array(size);
    for (let i = 0; i < size; i++) ranks[i] = i;
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(Math.random() * (size - i));
      const r = ranks[j];
      ranks[j] = ranks[i];
      ranks[i] = r;
      zcSeekRank(r);
      replyMember(c, withScores);
    }
    return;
  }
  const picked = new Set<number>();
  while (picked.size < n) {
    const r = Math.floor(Math.random() * size);
    if (picked.has(r)) continue;
    picked.add(r);
    zcSeekRank(r);
    replyMember(c, withScores);
  }
}

// ---- ZSCAN ----

export function zscan(c: CommandContext): void {
  const cursor = scanCursorArg(c, 2);
  if (cursor < 0) return;
  c.openKey(1);
  const e = findZset(c, false);
  if (e <= 0) {
    if (e === 0) replyEmptyScan(c);
    return;
  }
  const res = beginCollectionScan(c, 3, true);
  if (res === null) return;
  const s = c.shard;
  if (!isSkiplist(s, e)) {
    zcOpen(s, e);
    for (let ok = zcSeekRank(0); ok; ok = zcNext()) {
      zcLoad();
      if (res.add(s.u8, zc.member, zc.len)) res.addValueText(formatScore(zc.score));
    }
    res.reply(c, 0);
    return;
  }
  const next = res.scanDict(s, s.collectionStart(e) + ZS_DICT, cursor, (de) => {
    if (res.add(s.u8, de + DE_KEY, s.u32[(de + DE_KEYLEN) >>> 2])) {
      res.addValueText(formatScore(nodeScore(s, s.u32[(de + DE_AUX) >>> 2])));
    }
  });
  res.reply(c, next);
}
