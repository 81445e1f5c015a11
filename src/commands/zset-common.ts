/**
 * What the sorted-set command files share (t_zset.c): error texts, score
 * replies (addReplyDouble), key creation (zsetTypeCreate + dbAdd), range
 * argument parsing (zslParseRange, zslParseLexRange), the pop that ZPOPMIN,
 * ZMPOP and the blocking pops use (genericZpopCommand's body), and the
 * writing of *STORE results (setKey, zsetConvertToListpackIfNeeded).
 */
import type { CommandContext } from './context.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { Shard } from '../store/shard.js';
import { ValueType } from '../store/layout.js';
import { LP_FIRST, ZS_HEADER_BYTES } from '../store/collection-layout.js';
import { SlotTables } from '../store/slot-tables.js';
import { packedScoreSize, packedSize, writeElement, writeScore } from '../store/packed.js';
import {
  LEX_BYTES, LEX_MINUS_INFINITY, LEX_PLUS_INFINITY, type LexInfinity, type LexRange, type ScoreRange,
} from '../store/skiplist.js';
import { zsetDeleteRangeByRank, zsetInit, zsetInitFromFlat, zsetLength, zv } from '../store/zset-value.js';
import { zc, zcLoad, zcNext, zcOpen, zcPrev, zcSeekRank } from '../store/zset-cursor.js';
import { formatScore, LEX_MAX, LEX_MIN, parseLexRangeItem, parseRangeScore, type LexRangeItem, type RangeScore } from './zset-scores.js';
import { signalKeyAsReady } from './blocking.js';

export const group = 'sorted-set';
export const NOT_FLOAT_RANGE = 'min or max is not a float';
export const NOT_LEX_RANGE = 'min or max not valid string range item';

/** addReplyDouble: a bulk "%.17g" in RESP2, a RESP3 double. */
export function replyScore(out: ReplyWriter, score: number): void {
  out.double(score, formatScore(score));
}

/** Creates the current key (c.keyArg, known absent) as an empty sorted set; returns its entry. */
export function createZsetKey(c: CommandContext, skiplist: boolean): number {
  const pad = SlotTables.collectionPad(c.argLen[c.keyArg]);
  const e = c.insertKey(ValueType.ZSet, pad + (skiplist ? ZS_HEADER_BYTES : LP_FIRST));
  zsetInit(c.shard, e, pad, skiplist);
  return e;
}

/** Looks up the current key for reading; 0 when missing, -1 after replying WRONGTYPE. */
export function findZset(c: CommandContext, write: boolean): number {
  const e = write ? c.findWrite() : c.findRead();
  if (e !== 0 && c.typeOf(e) !== ValueType.ZSet) {
    c.wrongType();
    return -1;
  }
  return e;
}

const rangeEnd: RangeScore = { value: 0, exclusive: false };

/** zslParseRange of arguments i (min) and j (max); null after replying the error. */
export function parseScoreRange(c: CommandContext, i: number, j: number): ScoreRange | null {
  const r: ScoreRange = { min: 0, max: 0, minex: false, maxex: false };
  if (parseRangeScore(c.buf, c.argStart[i], c.argLen[i], rangeEnd) === null) return rangeError(c);
  r.min = rangeEnd.value;
  r.minex = rangeEnd.exclusive;
  if (parseRangeScore(c.buf, c.argStart[j], c.argLen[j], rangeEnd) === null) return rangeError(c);
  r.max = rangeEnd.value;
  r.maxex = rangeEnd.exclusive;
  return r;
}

function rangeError(c: CommandContext): null {
  c.out.error(NOT_FLOAT_RANGE);
  return null;
}

const lexItem: LexRangeItem = { kind: LEX_MIN, exclusive: false, start: 0, len: 0 };
const NO_BYTES = new Uint8Array(0);

function lexBound(c: CommandContext): [Uint8Array, LexInfinity] {
  if (lexItem.kind === LEX_MIN) return [NO_BYTES, LEX_MINUS_INFINITY];
  if (lexItem.kind === LEX_MAX) return [NO_BYTES, LEX_PLUS_INFINITY];
  return [c.buf.subarray(lexItem.start, lexItem.start + lexItem.len), LEX_BYTES];
}

/** zslParseLexRange of arguments i (min) and j (max); null after replying the error. */
export function parseLexRange(c: CommandContext, i: number, j: number): LexRange | null {
  if (parseLexRangeItem(c.buf, c.argStart[i], c.argLen[i], lexItem) === null) return lexError(c);
  const [min, minInfinity] = lexBound(c);
  const minex = lexItem.exclusive;
  if (parseLexRangeItem(c.buf, c.argStart[j], c.argLen[j], lexItem) === null) return lexError(c);
  const [max, maxInfinity] = lexBound(c);
  return { min, minInfinity, minex, max, maxInfinity, maxex: lexItem.exclusive };
}

function lexError(c: CommandContext): null {
  c.out.error(NOT_LEX_RANGE);
  return null;
}

/**
 * genericZpopCommand's pop, for ZPOPMIN/ZPOPMAX, ZMPOP and the blocking
 * pops: takes up to `count` members from the minimum (or maximum) of the
 * sorted set at entry e (the last lookup in s), replies them to `out` in
 * the shape the flags choose, and deletes the key when it empties.
 * emitKey: the reply starts with the key; nested: [member, score] pairs in
 * their own arrays. Returns how many members were popped (>= 1).
 */
export function zsetPopReply(s: Shard, db: number, e: number, key: Uint8Array, max: boolean, count: number,
  emitKey: boolean, nested: boolean, out: ReplyWriter): number {
  const length = zsetLength(s, e);
  const n = count > length ? length : count;
  if (!nested && !emitKey) out.arrayHeader(n * 2);
  else if (nested && !emitKey) out.arrayHeader(n);
  else if (!nested) out.arrayHeader(n * 2 + 1);
  else out.arrayHeader(2);
  if (emitKey) out.bulkBytes(key, 0, key.length);
  if (nested && emitKey) out.arrayHeader(n);
  zcOpen(s, e);
  zcSeekRank(max ? length - 1 : 0);
  for (let i = 0; i < n; i++) {
    zcLoad();
    if (nested) out.arrayHeader(2);
    out.bulkBytes(s.u8, zc.member, zc.len, s.dv);
    replyScore(out, zc.score);
    if (max) zcPrev();
    else zcNext();
  }
  zsetDeleteRangeByRank(s, db, e, max ? length - n : 0, max ? length - 1 : n - 1);
  if (n === length) s.remove(db, zv.e);
  return n;
}

// ---- *STORE results ----

/** One member of a computed result. */
export interface ZEntry {
  /** The member's bytes as a latin1 string (one char per byte: compares as memcmp). */
  m: string;
  s: number;
}

/** The zset order: score, then member bytes (-0 equals 0). */
export function compareEntries(a: ZEntry, b: ZEntry): number {
  if (a.s < b.s) return -1;
  if (a.s > b.s) return 1;
  return a.m < b.m ? -1 : a.m > b.m ? 1 : 0;
}

/** The flat form (u32 count, then member · score) of ordered entries. */
function flatOf(entries: ZEntry[], listpack: boolean): Buffer {
  // A listpack keeps -0 as 0 (zzlInsertAt's text form).
  const scoreOf = (x: ZEntry) => (listpack && x.s === 0 ? 0 : x.s);
  let size = LP_FIRST;
  for (const x of entries) size += packedSize(x.m.length) + packedScoreSize(scoreOf(x));
  const flat = Buffer.allocUnsafe(size);
  flat.writeUInt32LE(entries.length, 0);
  let p = LP_FIRST;
  for (const x of entries) {
    const m = Buffer.from(x.m, 'latin1');
    p = writeScore(flat, writeElement(flat, p, m, 0, m.length), scoreOf(x));
  }
  return flat;
}

/**
 * Writes a *STORE result (entries in zset order) to the key at argument
 * dstArg, replacing whatever it held (setKey: its TTL goes too), as a
 * listpack when it is small enough (zsetConvertToListpackIfNeeded); an
 * empty result deletes the key. Replies the result's size.
 */
export function storeZsetResult(c: CommandContext, dstArg: number, entries: ZEntry[]): void {
  c.selectKey(dstArg);
  let e = c.findWrite();
  const existed = e !== 0;
  if (existed) c.shard.remove(c.db, e);
  if (entries.length === 0) {
    c.out.integer(0);
    if (existed) c.dirty++;
    return;
  }
  const limits = c.server.limits;
  let longest = 0;
  for (const x of entries) if (x.m.length > longest) longest = x.m.length;
  const skiplist = entries.length > limits.zsetMaxListpackEntries || longest > limits.zsetMaxListpackValue;
  const flat = flatOf(entries, !skiplist);
  const pad = SlotTables.collectionPad(c.argLen[dstArg]);
  e = c.insertKey(ValueType.ZSet, pad + (skiplist ? ZS_HEADER_BYTES : flat.length));
  zsetInitFromFlat(c.shard, e, pad, flat, skiplist);
  c.out.integer(entries.length);
  c.dirty++;
  if (!existed) signalKeyAsReady(c, dstArg);
}

/** Replies computed entries as ZRANGE does (flat with scores in RESP2, [member, score] pairs in RESP3). */
export function replyEntries(c: CommandContext, entries: ZEntry[], withScores: boolean): void {
  const out = c.out;
  out.arrayHeader(withScores && out.resp === 2 ? entries.length * 2 : entries.length);
  for (const x of entries) {
    if (withScores && out.resp > 2) out.arrayHeader(2);
    const m = Buffer.from(x.m, 'latin1');
    out.bulkBytes(m, 0, m.length);
    if (withScores) replyScore(out, x.s);
  }
}
