/**
 * The range commands of t_zset.c: ZRANGE with BYSCORE/BYLEX/REV/LIMIT/
 * WITHSCORES and its older forms ZREVRANGE, Z[REV]RANGEBYSCORE and
 * Z[REV]RANGEBYLEX (zrangeGenericCommand, genericZrangebyrankCommand,
 * genericZrangebyscoreCommand, genericZrangebylexCommand), ZRANGESTORE
 * (the zrange result handler's store consumer), ZCOUNT, ZLEXCOUNT and
 * ZREMRANGEBYRANK/SCORE/LEX (zremrangeGenericCommand).
 *
 * A client reply needs its length first, so a range is walked twice: once
 * to count (LIMIT applied), once to write; neither pass allocates.
 */
import type { CommandContext } from './context.js';
import { NOT_INTEGER, SYNTAX } from './errors.js';
import {
  findZset, parseLexRange, parseScoreRange, replyScore, storeZsetResult, type ZEntry,
} from './zset-common.js';
import type { LexRange, ScoreRange } from '../store/skiplist.js';
import {
  zsetCountInRange, zsetDeleteRangeByLex, zsetDeleteRangeByRank, zsetDeleteRangeByScore, zsetLength, zv,
} from '../store/zset-value.js';
import {
  zc, zcAboveMin, zcBelowMax, zcLexRange, zcLoad, zcNext, zcOpen, zcPrev, zcScoreRange, zcSeekRange, zcSeekRank,
} from '../store/zset-cursor.js';

const LIMIT_NEEDS_BY = 'syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX';
const WITHSCORES_BYLEX = 'syntax error, WITHSCORES not supported in combination with BYLEX';

const enum RangeType {
  Auto,
  Rank,
  Score,
  Lex,
}

const enum Direction {
  Auto,
  Forward,
  Reverse,
}

/** Where a range's members go: the client, or a list for ZRANGESTORE. */
interface RangeTarget {
  store: boolean;
  withScores: boolean;
  entries: ZEntry[];
}

/** Writes (or, storing, keeps) the member the cursor has loaded. */
function emit(c: CommandContext, t: RangeTarget): void {
  if (t.store) {
    t.entries.push({ m: Buffer.from(c.shard.u8.subarray(zc.member, zc.member + zc.len)).toString('latin1'), s: zc.score });
    return;
  }
  const out = c.out;
  if (t.withScores && out.resp > 2) out.arrayHeader(2);
  out.bulkBytes(c.shard.u8, zc.member, zc.len, c.shard.dv);
  if (t.withScores) replyScore(out, zc.score);
}

function replyHeader(c: CommandContext, t: RangeTarget, n: number): void {
  if (!t.store) c.out.arrayHeader(t.withScores && c.out.resp === 2 ? n * 2 : n);
}

/** genericZrangebyrankCommand: start and end are Redis's indexes (negative from the tail). */
function rangeByRank(c: CommandContext, e: number, start: number, end: number, reverse: boolean, t: RangeTarget): void {
  const length = zsetLength(c.shard, e);
  if (start < 0) start += length;
  if (end < 0) end += length;
  if (start < 0) start = 0;
  if (start > end || start >= length) {
    replyHeader(c, t, 0);
    return;
  }
  if (end >= length) end = length - 1;
  const n = end - start + 1;
  replyHeader(c, t, n);
  zcOpen(c.shard, e);
  zcSeekRank(reverse ? length - 1 - start : start);
  for (let i = 0; i < n; i++) {
    zcLoad();
    emit(c, t);
    if (reverse) zcPrev();
    else zcNext();
  }
}

/**
 * The members of a score or lex range after `offset` (walked, as Redis
 * does), at most `limit` of them (negative: all); emits them when `t` is
 * given. Returns how many.
 */
function walkRange(c: CommandContext, reverse: boolean, offset: number, limit: number, t: RangeTarget | null): number {
  if (offset < 0 || !zcSeekRange(reverse)) return 0;
  let ok = true;
  for (let i = 0; ok && i < offset; i++) ok = reverse ? zcPrev() : zcNext();
  let n = 0;
  while (ok && (limit < 0 || n < limit)) {
    zcLoad();
    if (reverse ? !zcAboveMin() : !zcBelowMax()) break;
    if (t !== null) emit(c, t);
    n++;
    ok = reverse ? zcPrev() : zcNext();
  }
  return n;
}

/** genericZrangebyscoreCommand / genericZrangebylexCommand once the cursor's range is set. */
function rangeByValue(c: CommandContext, e: number, reverse: boolean, offset: number, limit: number, t: RangeTarget): void {
  zcOpen(c.shard, e);
  if (offset > 0 && offset >= zsetLength(c.shard, e)) {
    replyHeader(c, t, 0);
    return;
  }
  if (!t.store) replyHeader(c, t, walkRange(c, reverse, offset, limit, null));
  walkRange(c, reverse, offset, limit, t);
}

/** ZRANGE's options after <key> <min> <max>. */
interface RangeOptions {
  type: RangeType;
  direction: Direction;
  withScores: boolean;
  offset: number;
  limit: number;
}

/** zrangeGenericCommand's option loop; null after replying an error. */
function parseRangeOptions(c: CommandContext, from: number, store: boolean, o: RangeOptions): RangeOptions | null {
  for (let j = from; j < c.argc; j++) {
    const left = c.argc - j - 1;
    if (!store && c.argIs(j, 'withscores')) {
      o.withScores = true;
    } else if (c.argIs(j, 'limit') && left >= 2) {
      const offset = c.argInt(j + 1);
      const limit = offset === null ? null : c.argInt(j + 2);
      if (offset === null || limit === null) {
        c.out.error(NOT_INTEGER);
        return null;
      }
      o.offset = offset;
      o.limit = limit;
      j += 2;
    } else if (o.direction === Direction.Auto && c.argIs(j, 'rev')) {
      o.direction = Direction.Reverse;
    } else if (o.type === RangeType.Auto && c.argIs(j, 'bylex')) {
      o.type = RangeType.Lex;
    } else if (o.type === RangeType.Auto && c.argIs(j, 'byscore')) {
      o.type = RangeType.Score;
    } else {
      c.out.error(SYNTAX);
      return null;
    }
  }
  if (o.direction === Direction.Auto) o.direction = Direction.Forward;
  if (o.type === RangeType.Auto) o.type = RangeType.Rank;
  if (o.limit !== -1 && o.type === RangeType.Rank) c.out.error(LIMIT_NEEDS_BY);
  else if (o.withScores && o.type === RangeType.Lex) c.out.error(WITHSCORES_BYLEX);
  else return o;
  return null;
}

/**
 * zrangeGenericCommand: the key at `keyArg`, then min and max; `store`
 * (ZRANGESTORE) writes to argument 1 instead of replying the members.
 */
function zrangeGeneric(c: CommandContext, keyArg: number, store: boolean, type: RangeType, direction: Direction): void {
  const o = parseRangeOptions(c, keyArg + 3, store, { type, direction, withScores: false, offset: 0, limit: -1 });
  if (o === null) return;
  const reverse = o.direction === Direction.Reverse;
  // BYSCORE and BYLEX take the range as max, min when reversed.
  const swap = reverse && o.type !== RangeType.Rank;
  const minIdx = swap ? keyArg + 2 : keyArg + 1;
  const maxIdx = swap ? keyArg + 1 : keyArg + 2;
  let start = 0;
  let end = 0;
  let score: ScoreRange | null = null;
  let lex: LexRange | null = null;
  if (o.type === RangeType.Rank) {
    const s = c.argInt(minIdx);
    const t = s === null ? null : c.argInt(maxIdx);
    if (s === null || t === null) {
      c.out.error(NOT_INTEGER);
      return;
    }
    start = s;
    end = t;
  } else if (o.type === RangeType.Score) {
    if ((score = parseScoreRange(c, minIdx, maxIdx)) === null) return;
  } else if ((lex = parseLexRange(c, minIdx, maxIdx)) === null) {
    return;
  }
  if (store) c.lockKeysAt([1, keyArg]);
  else c.openKey(keyArg);
  c.selectKey(keyArg);
  const e = findZset(c, false);
  if (e < 0) return;
  const t: RangeTarget = { store, withScores: o.withScores, entries: [] };
  if (e !== 0) {
    if (o.type === RangeType.Rank) {
      rangeByRank(c, e, start, end, reverse, t);
    } else {
      if (score) zcScoreRange(score);
      else zcLexRange(lex!);
      rangeByValue(c, e, reverse, o.offset, o.limit, t);
    }
  } else if (!store) {
    c.out.arrayHeader(0);
  }
  if (store) {
    dropListpackNegativeZeros(c, t.entries, o.type === RangeType.Rank && t.entries.length > c.server.limits.zsetMaxListpackEntries);
    if (reverse) t.entries.reverse();
    storeZsetResult(c, 1, t.entries);
  }
}

/**
 * ZRANGESTORE adds the members one by one (zrangeResultEmitCBufferForStore)
 * to a listpack, unless a rank range is known to be too long, which turns
 * into a skiplist when a member passes the limits: the members added while
 * it was a listpack lost the sign of a -0 score (its text form keeps none).
 */
function dropListpackNegativeZeros(c: CommandContext, entries: ZEntry[], startsAsSkiplist: boolean): void {
  if (startsAsSkiplist) return;
  const limits = c.server.limits;
  for (let i = 0; i < entries.length; i++) {
    const x = entries[i];
    if (i + 1 > limits.zsetMaxListpackEntries || x.m.length > limits.zsetMaxListpackValue) return;
    if (x.s === 0) x.s = 0;
  }
}

export const zrange = (c: CommandContext): void => zrangeGeneric(c, 1, false, RangeType.Auto, Direction.Auto);
export const zrangestore = (c: CommandContext): void => zrangeGeneric(c, 2, true, RangeType.Auto, Direction.Auto);
export const zrevrange = (c: CommandContext): void => zrangeGeneric(c, 1, false, RangeType.Rank, Direction.Reverse);
export const zrangebyscore = (c: CommandContext): void => zrangeGeneric(c, 1, false, RangeType.Score, Direction.Forward);
export const zrevrangebyscore = (c: CommandContext): void => zrangeGeneric(c, 1, false, RangeType.Score, Direction.Reverse);
export const zrangebylex = (c: CommandContext): void => zrangeGeneric(c, 1, false, RangeType.Lex, Direction.Forward);
export const zrevrangebylex = (c: CommandContext): void => zrangeGeneric(c, 1, false, RangeType.Lex, Direction.Reverse);

// ---- counting ----

export function zcount(c: CommandContext): void {
  const r = parseScoreRange(c, 2, 3);
  if (r === null) return;
  c.openKey(1);
  const e = findZset(c, false);
  if (e >= 0) c.out.integer(e === 0 ? 0 : zsetCountInRange(c.shard, e, r, null));
}

export function zlexcount(c: CommandContext): void {
  const r = parseLexRange(c, 2, 3);
  if (r === null) return;
  c.openKey(1);
  const e = findZset(c, false);
  if (e >= 0) c.out.integer(e === 0 ? 0 : zsetCountInRange(c.shard, e, null, r));
}

// ---- removal ----

/** zremrangeGenericCommand: the range is parsed before the key is looked up. */
function zremrangeGeneric(c: CommandContext, type: RangeType): void {
  let start = 0;
  let end = 0;
  let score: ScoreRange | null = null;
  let lex: LexRange | null = null;
  if (type === RangeType.Rank) {
    const s = c.argInt(2);
    const t = s === null ? null : c.argInt(3);
    if (s === null || t === null) {
      c.out.error(NOT_INTEGER);
      return;
    }
    start = s;
    end = t;
  } else if (type === RangeType.Score) {
    if ((score = parseScoreRange(c, 2, 3)) === null) return;
  } else if ((lex = parseLexRange(c, 2, 3)) === null) {
    return;
  }
  c.openKey(1);
  const e = findZset(c, true);
  if (e <= 0) {
    if (e === 0) c.out.integer(0);
    return;
  }
  const s = c.shard;
  let deleted: number;
  if (type === RangeType.Rank) {
    const length = zsetLength(s, e);
    if (start < 0) start += length;
    if (end < 0) end += length;
    if (start < 0) start = 0;
    if (start > end || start >= length) {
      c.out.integer(0);
      return;
    }
    if (end >= length) end = length - 1;
    deleted = zsetDeleteRangeByRank(s, c.db, e, start, end);
  } else {
    deleted = score ? zsetDeleteRangeByScore(s, c.db, e, score) : zsetDeleteRangeByLex(s, c.db, e, lex!);
  }
  if (deleted > 0 && zsetLength(s, zv.e) === 0) s.remove(c.db, zv.e);
  c.dirty += deleted;
  c.out.integer(deleted);
}

export const zremrangebyrank = (c: CommandContext): void => zremrangeGeneric(c, RangeType.Rank);
export const zremrangebyscore = (c: CommandContext): void => zremrangeGeneric(c, RangeType.Score);
export const zremrangebylex = (c: CommandContext): void => zremrangeGeneric(c, RangeType.Lex);
