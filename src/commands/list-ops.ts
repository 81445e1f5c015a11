/**
 * The data side of the list family, Dragonfly-style `op*` functions over
 * the current (locked) key: Redis's t_list.c list API (listTypePush,
 * listTypePop, addListRangeReply, listPopRangeAndReplyWithKey,
 * listElementsRemoved, lmoveHandlePush, lmoveGenericCommand) on weft's
 * quicklist (src/store/quicklist.ts). The blocking commands (BLPOP,
 * BLMOVE, BLMPOP) reuse them to serve waiters.
 *
 * Conventions: `e` is the entry of the current key (c.selectKey / c.openKey
 * then c.findWrite), already checked to be a list. An op that may delete
 * the key relies on the shard's `link` from that lookup (slot-tables.ts):
 * in a command with several keys, re-find the key before calling it. Ops
 * write replies but never touch c.dirty or c.propagateAs: the commands do.
 */
import { EventClass } from './keyspace-events.js';
import type { CommandContext } from './context.js';
import { SlotTables } from '../store/slot-tables.js';
import { E_ENCODING, E_VALLEN, ValueType } from '../store/layout.js';
import { CollectionEncoding, QL_HEADER_BYTES } from '../store/collection-layout.js';
import {
  qlCount, qlCursor, qlDeleteAtCursor, qlDeleteRange, qlInit, qlPush, qlSeek, qlVisitRange,
} from '../store/quicklist.js';
import { elem, readForward } from '../store/packed.js';
import { signalKeyAsReady } from './blocking.js';

/** The list header of the current key's entry `e`. */
export function listHeader(c: CommandContext, e: number): number {
  return c.shard.collectionStart(e);
}

/** listTypeLength. */
export function listLength(c: CommandContext, e: number): number {
  return qlCount(c.shard, c.shard.collectionStart(e));
}

/**
 * createQuicklistObject + dbAdd: inserts the current key (known absent) as
 * an empty list and returns its entry. The caller pushes at least one
 * element, then calls signalKeyAsReady once its command's writes are done.
 */
export function opCreateList(c: CommandContext): number {
  const pad = SlotTables.collectionPad(c.argLen[c.keyArg]);
  const e = c.insertKey(ValueType.List, pad + QL_HEADER_BYTES);
  const s = c.shard;
  s.u32[(e + E_VALLEN) >>> 2] = pad + QL_HEADER_BYTES;
  s.u8[e + E_ENCODING] = CollectionEncoding.Quicklist;
  qlInit(s, s.collectionStart(e));
  return e;
}

/**
 * Pushes `src[start, start+len)` onto list `e` (listTypePush). A key left
 * empty by a failed first push (the shard's arena is full) is removed, so
 * no empty list is ever visible.
 */
export function opPushBytes(c: CommandContext, e: number, src: Uint8Array, start: number, len: number, atHead: boolean): void {
  const s = c.shard;
  const h = s.collectionStart(e);
  try {
    qlPush(s, h, src, start, len, atHead, c.server.limits.listMaxListpackSize);
  } catch (err) {
    if (qlCount(s, h) === 0) s.remove(c.db, e);
    throw err;
  }
}

/** Pushes the arguments from `first` to the last onto list `e`, in order; returns the new length. */
export function opPushArgs(c: CommandContext, e: number, first: number, atHead: boolean): number {
  const s = c.shard;
  const h = s.collectionStart(e);
  const fill = c.server.limits.listMaxListpackSize;
  try {
    for (let i = first; i < c.argc; i++) qlPush(s, h, c.buf, c.argStart[i], c.argLen[i], atHead, fill);
  } catch (err) {
    if (qlCount(s, h) === 0) s.remove(c.db, e);
    throw err;
  }
  return qlCount(s, h);
}

/** Deletes the current key when its list is empty (Redis never keeps empty lists); returns whether it did. */
export function opDeleteIfEmpty(c: CommandContext, e: number): boolean {
  if (qlCount(c.shard, c.shard.collectionStart(e)) !== 0) return false;
  c.shard.remove(c.db, e);
  return true;
}

/**
 * Pops one element from the head or tail of list `e` (non-empty), replies
 * it as a bulk string, and deletes the key when the list empties
 * (listTypePop + listElementsRemoved; BLPOP/BRPOP serve with it after their
 * [key] header).
 */
export function opPop(c: CommandContext, e: number, atHead: boolean): void {
  const s = c.shard;
  const h = s.collectionStart(e);
  qlSeek(s, h, atHead ? 0 : -1);
  readForward(s.u8, qlCursor.pos);
  c.out.bulkBytes(s.u8, elem.start, elem.len, s.dv);
  qlDeleteAtCursor(s, h);
  opDeleteIfEmpty(c, e);
}

/**
 * addListRangeReply: replies the elements of indexes [start, end] (already
 * clamped, start <= end) as an array, tail to head when `reverse`.
 */
export function replyRange(c: CommandContext, h: number, start: number, end: number, reverse: boolean): void {
  const out = c.out;
  out.arrayHeader(end - start + 1);
  const view = c.shard.dv;
  qlVisitRange(c.shard, h, reverse ? end : start, end - start + 1, reverse, (u8, s, len) => out.bulkBytes(u8, s, len, view));
}

/**
 * LPOP/RPOP with a count (> 0) on list `e` (non-empty): replies up to
 * `count` elements in pop order as an array, deletes them and the key when
 * it empties. Returns how many were popped.
 */
export function opPopRange(c: CommandContext, e: number, atHead: boolean, count: number): number {
  const s = c.shard;
  const h = s.collectionStart(e);
  const len = qlCount(s, h);
  const n = count > len ? len : count;
  if (atHead) replyRange(c, h, 0, n - 1, false);
  else replyRange(c, h, len - n, len - 1, true);
  qlDeleteRange(s, h, atHead ? 0 : -n, n);
  opDeleteIfEmpty(c, e);
  return n;
}

/**
 * listPopRangeAndReplyWithKey (LMPOP, BLMPOP): replies [key, [elements]]
 * for up to `count` elements of list `e`, the key being argument `keyArg`.
 * Returns how many were popped (the n of the propagated `LPOP|RPOP key n`).
 */
export function opPopRangeWithKey(c: CommandContext, e: number, keyArg: number, atHead: boolean, count: number): number {
  c.out.arrayHeader(2);
  c.out.bulkBytes(c.buf, c.argStart[keyArg], c.argLen[keyArg]);
  return opPopRange(c, e, atHead, count);
}

/** The smallest move buffer. */
const TAKE_MIN = 256;
/** The element taken out of a list by opTake, copied out of the arena: `bytes[0, len)`. */
export const taken = { bytes: new Uint8Array(TAKE_MIN), len: 0 };
/** Elements longer than this are copied into a one-off buffer rather than growing the kept one. */
const TAKE_KEEP_MAX = 1 << 20;

/**
 * Pops one element of list `e` (non-empty) into `taken`, without deleting
 * the key when it empties: LMOVE's source side, whose key may also be the
 * destination (a rotation). Call opDeleteIfEmpty after the push.
 */
export function opTake(c: CommandContext, e: number, atHead: boolean): void {
  const s = c.shard;
  const h = s.collectionStart(e);
  qlSeek(s, h, atHead ? 0 : -1);
  readForward(s.u8, qlCursor.pos);
  const len = elem.len;
  const room = taken.bytes.length;
  if (len > room) taken.bytes = new Uint8Array(len > TAKE_KEEP_MAX ? len : Math.min(TAKE_KEEP_MAX, Math.max(len, room * 2)));
  else if (room > TAKE_KEEP_MAX) taken.bytes = new Uint8Array(Math.max(TAKE_MIN, len));
  taken.bytes.set(s.u8.subarray(elem.start, elem.start + len));
  taken.len = len;
  qlDeleteAtCursor(s, h);
}

/**
 * Looks up the destination of a move (argument `dstArg`, its shard locked)
 * and selects it: its entry, 0 when missing, or -1 after replying
 * WRONGTYPE when it holds another type.
 */
export function opFindDestination(c: CommandContext, dstArg: number): number {
  c.selectKey(dstArg);
  const e = c.findWrite();
  if (e !== 0 && c.typeOf(e) !== ValueType.List) {
    c.wrongType();
    return -1;
  }
  return e;
}

/**
 * lmoveHandlePush: pushes the `taken` element onto the destination
 * (argument `dstArg`, entry `de` from opFindDestination, 0 to create it)
 * and replies it as a bulk string. Creating the key signals it ready for
 * blocked clients. Leaves the destination selected.
 */
export function opMovePush(c: CommandContext, dstArg: number, de: number, atHead: boolean): void {
  c.selectKey(dstArg);
  const created = de === 0;
  if (created) de = opCreateList(c);
  opPushBytes(c, de, taken.bytes, 0, taken.len, atHead);
  c.out.bulkBytes(taken.bytes, 0, taken.len);
  if (created) signalKeyAsReady(c, dstArg);
}

/**
 * lmoveGenericCommand on keys `srcArg` and `dstArg` (both shards locked):
 * replies nil when the source is missing (the destination is then not
 * checked), WRONGTYPE when either is not a list, else moves one element and
 * replies it. Returns whether an element moved (the command is then dirty).
 */
export function opMove(c: CommandContext, srcArg: number, dstArg: number, fromHead: boolean, toHead: boolean): boolean {
  c.selectKey(srcArg);
  let se = c.findWrite();
  if (se === 0) {
    c.out.nullBulk();
    return false;
  }
  if (c.typeOf(se) !== ValueType.List) {
    c.wrongType();
    return false;
  }
  const same = c.argsEqual(srcArg, dstArg);
  const de = same ? se : opFindDestination(c, dstArg);
  if (de < 0) return false;
  c.selectKey(srcArg);
  opTake(c, se, fromHead);
  opMovePush(c, dstArg, de, toHead);
  // lmoveGenericCommand's order: the push on the destination, the pop on the source, its deletion.
  c.keyEvent(EventClass.List, toHead ? 'lpush' : 'rpush', dstArg);
  c.keyEvent(EventClass.List, fromHead ? 'lpop' : 'rpop', srcArg, true);
  if (!same) {
    c.selectKey(srcArg);
    se = c.findWrite();
    opDeleteIfEmpty(c, se);
  }
  return true;
}
