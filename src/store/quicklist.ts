/**
 * Lists as Redis 7.0 keeps them (quicklist.c): a doubly linked list of
 * nodes, each a pack of elements (packed.ts) in one arena block, so a push
 * or pop at either end is O(1) and a million-element list is a few thousand
 * blocks, not a million.
 *
 * Invariants:
 * - No node is empty: a deletion that empties a node frees it.
 * - A node holds at most what `list-max-listpack-size` allows (a byte cap
 *   per node block for negative values, an element count for positive ones,
 *   with Redis's 8 KB safety limit on multi-element nodes); a single element
 *   larger than the cap gets a node of its own, as Redis's plain nodes.
 * - Nodes never point back at the header, so the key's entry may move.
 *
 * Header (16 bytes, in the key's entry): head · tail · element count · node count.
 * Node block: prev · next · element count · bytes used · size class · elements.
 */
import { classSize } from './size-classes.js';
import { checkedSizeClass, type ShardArena } from './shard-arena.js';
import { packedSize, readBackward, readForward, writeElement } from './packed.js';
import { QL_COUNT, QL_HEAD, QL_HEADER_BYTES, QL_NODES, QL_TAIL } from './collection-layout.js';

const N_PREV = 0;
const N_NEXT = 4;
const N_COUNT = 8;
const N_USED = 12;
const N_CLASS = 16;
export const NODE_HEADER_BYTES = 20;

/** Redis's SIZE_SAFETY_LIMIT: a node of several elements stays under 8 KB whatever the fill. */
const SIZE_SAFETY_LIMIT = 8192;
/** optimization_level[]: the node sizes list-max-listpack-size -1..-5 stand for. */
const FILL_BYTES = [4096, 8192, 16384, 32768, 65536];

/** The most bytes a node block may reach under a fill setting (elements, not bytes, limit positive fills). */
export function nodeByteLimit(fill: number): number {
  if (fill >= 0) return SIZE_SAFETY_LIMIT;
  return FILL_BYTES[Math.min(-fill, FILL_BYTES.length) - 1];
}

/** Where an element of a list is: its node and the offset of its header (set by seeks and moves). */
export const qlCursor = { node: 0, pos: 0 };

export function qlInit(a: ShardArena, h: number): void {
  a.u8.fill(0, h, h + QL_HEADER_BYTES);
}

export function qlCount(a: ShardArena, h: number): number {
  return a.u32[(h + QL_COUNT) >>> 2];
}

export function qlNodeCount(a: ShardArena, h: number): number {
  return a.u32[(h + QL_NODES) >>> 2];
}

function nodeDataStart(node: number): number {
  return node + NODE_HEADER_BYTES;
}

function nodeEnd(a: ShardArena, node: number): number {
  return node + NODE_HEADER_BYTES + a.u32[(node + N_USED) >>> 2];
}

function nodeCapacity(a: ShardArena, node: number): number {
  return classSize(a.u32[(node + N_CLASS) >>> 2]) - NODE_HEADER_BYTES;
}

/** Whether a node may take one more element of `size` packed bytes (_quicklistNodeAllowInsert). */
function allowInsert(a: ShardArena, node: number, size: number, fill: number): boolean {
  const u32 = a.u32;
  const count = u32[(node + N_COUNT) >>> 2];
  const bytes = NODE_HEADER_BYTES + u32[(node + N_USED) >>> 2] + size;
  if (fill >= 0) return count < fill && bytes <= SIZE_SAFETY_LIMIT;
  return bytes <= nodeByteLimit(fill);
}

/** A new node with room for `room` data bytes, linked nowhere. */
function newNode(a: ShardArena, room: number): number {
  const c = checkedSizeClass(NODE_HEADER_BYTES + room);
  const node = a.allocClass(c);
  const u32 = a.u32;
  u32[(node + N_PREV) >>> 2] = 0;
  u32[(node + N_NEXT) >>> 2] = 0;
  u32[(node + N_COUNT) >>> 2] = 0;
  u32[(node + N_USED) >>> 2] = 0;
  u32[(node + N_CLASS) >>> 2] = c;
  return node;
}

/** Links `node` after `after` (0: as the new head). */
function linkAfter(a: ShardArena, h: number, after: number, node: number): void {
  const u32 = a.u32;
  const next = after === 0 ? u32[(h + QL_HEAD) >>> 2] : u32[(after + N_NEXT) >>> 2];
  u32[(node + N_PREV) >>> 2] = after;
  u32[(node + N_NEXT) >>> 2] = next;
  if (after === 0) u32[(h + QL_HEAD) >>> 2] = node;
  else u32[(after + N_NEXT) >>> 2] = node;
  if (next === 0) u32[(h + QL_TAIL) >>> 2] = node;
  else u32[(next + N_PREV) >>> 2] = node;
  u32[(h + QL_NODES) >>> 2]++;
}

function unlinkNode(a: ShardArena, h: number, node: number): void {
  const u32 = a.u32;
  const prev = u32[(node + N_PREV) >>> 2];
  const next = u32[(node + N_NEXT) >>> 2];
  if (prev === 0) u32[(h + QL_HEAD) >>> 2] = next;
  else u32[(prev + N_NEXT) >>> 2] = next;
  if (next === 0) u32[(h + QL_TAIL) >>> 2] = prev;
  else u32[(next + N_PREV) >>> 2] = prev;
  u32[(h + QL_NODES) >>> 2]--;
  a.freeClass(node, u32[(node + N_CLASS) >>> 2]);
}

/**
 * Makes `node` able to hold `extra` more data bytes, moving it to a bigger
 * block when needed; returns the node's (possibly new) offset.
 */
function reserve(a: ShardArena, h: number, node: number, extra: number): number {
  const used = a.u32[(node + N_USED) >>> 2];
  if (used + extra <= nodeCapacity(a, node)) return node;
  const moved = newNode(a, used + extra);
  const u32 = a.u32;
  a.u8.copyWithin(moved + N_COUNT, node + N_COUNT, node + N_CLASS);
  a.u8.copyWithin(moved + NODE_HEADER_BYTES, node + NODE_HEADER_BYTES, node + NODE_HEADER_BYTES + used);
  const prev = u32[(node + N_PREV) >>> 2];
  const next = u32[(node + N_NEXT) >>> 2];
  u32[(moved + N_PREV) >>> 2] = prev;
  u32[(moved + N_NEXT) >>> 2] = next;
  if (prev === 0) u32[(h + QL_HEAD) >>> 2] = moved;
  else u32[(prev + N_NEXT) >>> 2] = moved;
  if (next === 0) u32[(h + QL_TAIL) >>> 2] = moved;
  else u32[(next + N_PREV) >>> 2] = moved;
  a.freeClass(node, u32[(node + N_CLASS) >>> 2]);
  return moved;
}

/** Writes an element into `node` at byte offset `at` (inside or at the end of its data), shifting what follows. */
function insertBytes(a: ShardArena, node: number, at: number, src: Uint8Array, start: number, len: number): void {
  const size = packedSize(len);
  const end = nodeEnd(a, node);
  const u8 = a.u8;
  if (at < end) u8.copyWithin(at + size, at, end);
  writeElement(u8, at, src, start, len);
  const u32 = a.u32;
  u32[(node + N_USED) >>> 2] += size;
  u32[(node + N_COUNT) >>> 2]++;
}

/** A new node for one element, room sized for a full node when its neighbour filled up. */
function nodeForElement(a: ShardArena, size: number, fill: number, neighbourFull: boolean): number {
  const limit = nodeByteLimit(fill) - NODE_HEADER_BYTES;
  return newNode(a, neighbourFull && size < limit ? limit : size);
}

/** LPUSH/RPUSH of one element (quicklistPushHead/Tail). */
export function qlPush(a: ShardArena, h: number, src: Uint8Array, start: number, len: number, atHead: boolean, fill: number): void {
  const size = packedSize(len);
  let node = a.u32[(h + (atHead ? QL_HEAD : QL_TAIL)) >>> 2];
  if (node !== 0 && allowInsert(a, node, size, fill)) {
    node = reserve(a, h, node, size);
    insertBytes(a, node, atHead ? nodeDataStart(node) : nodeEnd(a, node), src, start, len);
  } else {
    const fresh = nodeForElement(a, size, fill, node !== 0);
    linkAfter(a, h, atHead ? 0 : a.u32[(h + QL_TAIL) >>> 2], fresh);
    insertBytes(a, fresh, nodeDataStart(fresh), src, start, len);
  }
  a.u32[(h + QL_COUNT) >>> 2]++;
}

/** Points the cursor at the element of index `index` (negative from the tail); false when out of range. */
export function qlSeek(a: ShardArena, h: number, index: number): boolean {
  const u32 = a.u32;
  const count = u32[(h + QL_COUNT) >>> 2];
  if (index < 0) index += count;
  if (index < 0 || index >= count) return false;
  const fromTail = index >= count / 2;
  if (!fromTail) {
    let node = u32[(h + QL_HEAD) >>> 2];
    while (index >= u32[(node + N_COUNT) >>> 2]) {
      index -= u32[(node + N_COUNT) >>> 2];
      node = u32[(node + N_NEXT) >>> 2];
    }
    let pos = nodeDataStart(node);
    for (; index > 0; index--) pos = readForward(a.u8, pos);
    qlCursor.node = node;
    qlCursor.pos = pos;
  } else {
    let back = count - 1 - index;
    let node = u32[(h + QL_TAIL) >>> 2];
    while (back >= u32[(node + N_COUNT) >>> 2]) {
      back -= u32[(node + N_COUNT) >>> 2];
      node = u32[(node + N_PREV) >>> 2];
    }
    let end = nodeEnd(a, node);
    let pos = readBackward(a.u8, end);
    for (; back > 0; back--) {
      end = pos;
      pos = readBackward(a.u8, end);
    }
    qlCursor.node = node;
    qlCursor.pos = pos;
  }
  return true;
}

/** Reads the element at the cursor into `elem` (packed.ts). */
export function qlRead(a: ShardArena): void {
  readForward(a.u8, qlCursor.pos);
}

/** Moves the cursor to the next element; false at the end. */
export function qlNext(a: ShardArena): boolean {
  const next = readForward(a.u8, qlCursor.pos);
  if (next < nodeEnd(a, qlCursor.node)) {
    qlCursor.pos = next;
    return true;
  }
  const node = a.u32[(qlCursor.node + N_NEXT) >>> 2];
  if (node === 0) return false;
  qlCursor.node = node;
  qlCursor.pos = nodeDataStart(node);
  return true;
}

/** Moves the cursor to the previous element; false at the start. */
export function qlPrev(a: ShardArena): boolean {
  if (qlCursor.pos > nodeDataStart(qlCursor.node)) {
    qlCursor.pos = readBackward(a.u8, qlCursor.pos);
    return true;
  }
  const node = a.u32[(qlCursor.node + N_PREV) >>> 2];
  if (node === 0) return false;
  qlCursor.node = node;
  qlCursor.pos = readBackward(a.u8, nodeEnd(a, node));
  return true;
}

/**
 * Deletes the element at the cursor; the cursor then points at the element
 * that followed it. Returns false when there was none (the cursor is then
 * no longer valid).
 */
export function qlDeleteAtCursor(a: ShardArena, h: number): boolean {
  const node = qlCursor.node;
  const pos = qlCursor.pos;
  const after = readForward(a.u8, pos);
  const end = nodeEnd(a, node);
  const u32 = a.u32;
  u32[(h + QL_COUNT) >>> 2]--;
  if (u32[(node + N_COUNT) >>> 2] === 1) {
    const next = u32[(node + N_NEXT) >>> 2];
    unlinkNode(a, h, node);
    qlCursor.node = next;
    qlCursor.pos = next === 0 ? 0 : nodeDataStart(next);
    return next !== 0;
  }
  a.u8.copyWithin(pos, after, end);
  u32[(node + N_USED) >>> 2] -= after - pos;
  u32[(node + N_COUNT) >>> 2]--;
  if (pos < end - (after - pos)) return true;
  const next = u32[(node + N_NEXT) >>> 2];
  qlCursor.node = next;
  qlCursor.pos = next === 0 ? 0 : nodeDataStart(next);
  return next !== 0;
}

/** Removes the first (or last) element; the caller read it first (qlSeek 0 / -1 and qlRead). */
export function qlPopEnd(a: ShardArena, h: number, atHead: boolean): void {
  qlSeek(a, h, atHead ? 0 : -1);
  qlDeleteAtCursor(a, h);
}

/**
 * Inserts an element before or after the one at the cursor (LINSERT),
 * splitting a full node as _quicklistSplitNode does.
 */
export function qlInsertAtCursor(a: ShardArena, h: number, src: Uint8Array, start: number, len: number, after: boolean, fill: number): void {
  const size = packedSize(len);
  let node = qlCursor.node;
  const at = after ? readForward(a.u8, qlCursor.pos) : qlCursor.pos;
  if (allowInsert(a, node, size, fill)) {
    const offset = at - node;
    node = reserve(a, h, node, size);
    insertBytes(a, node, node + offset, src, start, len);
  } else if (at === nodeEnd(a, node)) {
    const fresh = nodeForElement(a, size, fill, false);
    linkAfter(a, h, node, fresh);
    insertBytes(a, fresh, nodeDataStart(fresh), src, start, len);
  } else if (at === nodeDataStart(node)) {
    const fresh = nodeForElement(a, size, fill, false);
    linkAfter(a, h, a.u32[(node + N_PREV) >>> 2], fresh);
    insertBytes(a, fresh, nodeDataStart(fresh), src, start, len);
  } else {
    const tail = splitAt(a, h, node, at);
    if (allowInsert(a, node, size, fill)) {
      node = reserve(a, h, node, size);
      insertBytes(a, node, nodeEnd(a, node), src, start, len);
    } else {
      const fresh = nodeForElement(a, size, fill, false);
      linkAfter(a, h, a.u32[(tail + N_PREV) >>> 2], fresh);
      insertBytes(a, fresh, nodeDataStart(fresh), src, start, len);
    }
  }
  a.u32[(h + QL_COUNT) >>> 2]++;
}

/** Moves the elements of `node` from byte offset `at` on into a new node linked after it; returns that node. */
function splitAt(a: ShardArena, h: number, node: number, at: number): number {
  const end = nodeEnd(a, node);
  const bytes = end - at;
  let moved = 0;
  for (let p = at; p < end; p = readForward(a.u8, p)) moved++;
  const offset = at - node;
  const tail = newNode(a, bytes);
  const u32 = a.u32;
  a.u8.copyWithin(tail + NODE_HEADER_BYTES, node + offset, node + offset + bytes);
  u32[(tail + N_USED) >>> 2] = bytes;
  u32[(tail + N_COUNT) >>> 2] = moved;
  u32[(node + N_USED) >>> 2] -= bytes;
  u32[(node + N_COUNT) >>> 2] -= moved;
  linkAfter(a, h, node, tail);
  return tail;
}

/** Replaces the element at the cursor (LSET); the cursor stays on it. */
export function qlReplaceAtCursor(a: ShardArena, h: number, src: Uint8Array, start: number, len: number): void {
  const oldEnd = readForward(a.u8, qlCursor.pos);
  const oldSize = oldEnd - qlCursor.pos;
  const size = packedSize(len);
  let node = qlCursor.node;
  const offset = qlCursor.pos - node;
  if (size > oldSize) node = reserve(a, h, node, size - oldSize);
  const pos = node + offset;
  const end = nodeEnd(a, node);
  a.u8.copyWithin(pos + size, pos + oldSize, end);
  writeElement(a.u8, pos, src, start, len);
  a.u32[(node + N_USED) >>> 2] += size - oldSize;
  qlCursor.node = node;
  qlCursor.pos = pos;
}

/**
 * Frees up to `budget` nodes from the head (the list is no longer
 * reachable: lazy freeing); returns the nodes freed.
 */
export function qlRelease(a: ShardArena, h: number, budget: number): number {
  let freed = 0;
  while (freed < budget) {
    const node = a.u32[(h + QL_HEAD) >>> 2];
    if (node === 0) break;
    a.u32[(h + QL_COUNT) >>> 2] -= a.u32[(node + N_COUNT) >>> 2];
    unlinkNode(a, h, node);
    freed++;
  }
  return freed;
}

/** Bytes of the nodes' blocks (MEMORY USAGE; O(nodes)). */
export function qlAllocatedBytes(a: ShardArena, h: number): number {
  let bytes = 0;
  for (let node = a.u32[(h + QL_HEAD) >>> 2]; node !== 0; node = a.u32[(node + N_NEXT) >>> 2]) {
    bytes += classSize(a.u32[(node + N_CLASS) >>> 2]);
  }
  return bytes;
}
