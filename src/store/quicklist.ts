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
 * Unlike a listpack, a node's elements need not start at the beginning of
 * its block: free room may sit on both sides of them (a gap buffer). Head
 * pushes fill the room in front and head pops widen it, so neither moves
 * the node's other elements, which matters doubly here: copyWithin over a
 * SharedArrayBuffer moves bytes about 20x slower than memmove.
 *
 * Header (16 bytes, in the key's entry): head · tail · element count · node count.
 * Node block: prev · next · element count · bytes used · size class · data
 * start (free bytes before the first element) · room and elements.
 */
import { classSize } from './size-classes.js';
import { checkedSizeClass, type ShardArena } from './shard-arena.js';
import { elem, packedSize, readBackward, readForward, writeElement } from './packed.js';
import { QL_COUNT, QL_HEAD, QL_HEADER_BYTES, QL_NODES, QL_TAIL } from './collection-layout.js';

const N_PREV = 0;
const N_NEXT = 4;
const N_COUNT = 8;
const N_USED = 12;
const N_CLASS = 16;
const N_START = 20;
const NODE_HEADER_BYTES = 24;

/** Redis's SIZE_SAFETY_LIMIT: a node of several elements stays under 8 KB whatever the fill. */
const SIZE_SAFETY_LIMIT = 8192;
/** optimization_level[]: the node sizes list-max-listpack-size -1..-5 stand for. */
const FILL_BYTES = [4096, 8192, 16384, 32768, 65536];
/** A node that outgrows its block moves to one with a quarter more room, up to this size (then exactly what it needs). */
const GROWTH_SLACK_LIMIT = 65536;

/** The most bytes a node block may reach under a fill setting (elements, not bytes, limit positive fills). */
function nodeByteLimit(fill: number): number {
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

function nodeDataStart(a: ShardArena, node: number): number {
  return node + NODE_HEADER_BYTES + a.u32[(node + N_START) >>> 2];
}

function nodeEnd(a: ShardArena, node: number): number {
  return nodeDataStart(a, node) + a.u32[(node + N_USED) >>> 2];
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
  u32[(node + N_START) >>> 2] = 0;
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

/** Puts `moved` in the list where `node` is, and frees `node`. */
function replaceNode(a: ShardArena, h: number, node: number, moved: number): void {
  const u32 = a.u32;
  const prev = u32[(node + N_PREV) >>> 2];
  const next = u32[(node + N_NEXT) >>> 2];
  u32[(moved + N_PREV) >>> 2] = prev;
  u32[(moved + N_NEXT) >>> 2] = next;
  if (prev === 0) u32[(h + QL_HEAD) >>> 2] = moved;
  else u32[(prev + N_NEXT) >>> 2] = moved;
  if (next === 0) u32[(h + QL_TAIL) >>> 2] = moved;
  else u32[(next + N_PREV) >>> 2] = moved;
  a.freeClass(node, u32[(node + N_CLASS) >>> 2]);
}

/**
 * Moves a node's `used` data bytes from `from` to `to` (same block or
 * another), leaving `size` free bytes after the first `rel` of them. Each
 * part is copied once, in the order that keeps overlapping moves safe.
 */
function relayout(u8: Uint8Array, from: number, to: number, rel: number, used: number, size: number): void {
  const frontMoves = to !== from && rel > 0;
  const backMoves = to + size !== from && rel < used;
  if (to <= from) {
    if (frontMoves) u8.copyWithin(to, from, from + rel);
    if (backMoves) u8.copyWithin(to + rel + size, from + rel, from + used);
  } else {
    if (backMoves) u8.copyWithin(to + rel + size, from + rel, from + used);
    if (frontMoves) u8.copyWithin(to, from, from + rel);
  }
}

/** Where openGap made its room (absolute offset). */
let gapAt = 0;

/**
 * Makes `size` free bytes at `rel` bytes into `node`'s data (moving the
 * smaller side, or the whole node to a bigger block) and sets `gapAt`;
 * returns the node's (possibly new) offset. `headward` (a head push) lays
 * any move out with the free room in front. The caller writes the bytes
 * and counts them in N_USED.
 */
function openGap(a: ShardArena, h: number, node: number, rel: number, size: number, headward: boolean): number {
  const u32 = a.u32;
  const start = u32[(node + N_START) >>> 2];
  const used = u32[(node + N_USED) >>> 2];
  const cap = nodeCapacity(a, node);
  if (used + size > cap) return growNode(a, h, node, rel, size, headward);
  const tailRoom = cap - start - used;
  let to: number;
  if (headward && rel === 0) to = start >= size ? start - size : cap - used - size;
  else if (rel === used) to = tailRoom >= size ? start : 0;
  else if (start >= size && (rel <= used - rel || tailRoom < size)) to = start - size;
  else to = tailRoom >= size ? start : 0;
  const base = node + NODE_HEADER_BYTES;
  relayout(a.u8, base + start, base + to, rel, used, size);
  u32[(node + N_START) >>> 2] = to;
  gapAt = base + to + rel;
  return node;
}

/** openGap for a node whose block is too small: copies it into a bigger one. */
function growNode(a: ShardArena, h: number, node: number, rel: number, size: number, headward: boolean): number {
  const start = a.u32[(node + N_START) >>> 2];
  const used = a.u32[(node + N_USED) >>> 2];
  const want = used + size;
  const moved = newNode(a, want < GROWTH_SLACK_LIMIT ? want + (want >>> 2) : want);
  const u32 = a.u32;
  const to = headward && rel === 0 ? nodeCapacity(a, moved) - want : 0;
  u32[(moved + N_COUNT) >>> 2] = u32[(node + N_COUNT) >>> 2];
  u32[(moved + N_USED) >>> 2] = used;
  u32[(moved + N_START) >>> 2] = to;
  relayout(a.u8, node + NODE_HEADER_BYTES + start, moved + NODE_HEADER_BYTES + to, rel, used, size);
  replaceNode(a, h, node, moved);
  gapAt = moved + NODE_HEADER_BYTES + to + rel;
  return moved;
}

/**
 * Removes the `size` data bytes at `rel` bytes into `node`, moving the
 * smaller side; returns how far the bytes before them moved (0 or size).
 */
function closeGap(a: ShardArena, node: number, rel: number, size: number): number {
  const u32 = a.u32;
  const start = u32[(node + N_START) >>> 2];
  const used = u32[(node + N_USED) >>> 2];
  const base = node + NODE_HEADER_BYTES + start;
  const back = used - rel - size;
  u32[(node + N_USED) >>> 2] = used - size;
  if (rel < back) {
    if (rel > 0) a.u8.copyWithin(base + size, base, base + rel);
    u32[(node + N_START) >>> 2] = start + size;
    return size;
  }
  if (back > 0) a.u8.copyWithin(base + rel, base + rel + size, base + used);
  return 0;
}

/** Writes an element `rel` bytes into `node`'s data; returns the node's (possibly new) offset. */
function insertElement(a: ShardArena, h: number, node: number, rel: number, src: Uint8Array, start: number, len: number,
  headward: boolean): number {
  const size = packedSize(len);
  node = openGap(a, h, node, rel, size, headward);
  writeElement(a.u8, gapAt, src, start, len);
  const u32 = a.u32;
  u32[(node + N_USED) >>> 2] += size;
  u32[(node + N_COUNT) >>> 2]++;
  return node;
}

/**
 * A new node for one element, room sized for a full node when its neighbour
 * filled up: the byte cap for negative fills, `fill` elements of this size
 * (within the cap) for positive ones, so that a fill of 4 does not reserve
 * 8 KB per four-element node.
 */
function nodeForElement(a: ShardArena, size: number, fill: number, neighbourFull: boolean): number {
  let limit = nodeByteLimit(fill) - NODE_HEADER_BYTES;
  if (fill >= 0) limit = Math.min(limit, size * fill);
  return newNode(a, neighbourFull && size < limit ? limit : size);
}

/** LPUSH/RPUSH of one element (quicklistPushHead/Tail). */
export function qlPush(a: ShardArena, h: number, src: Uint8Array, start: number, len: number, atHead: boolean, fill: number): void {
  const size = packedSize(len);
  const node = a.u32[(h + (atHead ? QL_HEAD : QL_TAIL)) >>> 2];
  if (node !== 0 && allowInsert(a, node, size, fill)) {
    insertElement(a, h, node, atHead ? 0 : a.u32[(node + N_USED) >>> 2], src, start, len, atHead);
  } else {
    const fresh = nodeForElement(a, size, fill, node !== 0);
    linkAfter(a, h, atHead ? 0 : a.u32[(h + QL_TAIL) >>> 2], fresh);
    insertElement(a, h, fresh, 0, src, start, len, atHead);
  }
  a.u32[(h + QL_COUNT) >>> 2]++;
}

/** Points the cursor at the element of index `index` (negative from the tail); false when out of range. */
export function qlSeek(a: ShardArena, h: number, index: number): boolean {
  const u32 = a.u32;
  const count = u32[(h + QL_COUNT) >>> 2];
  if (index < 0) index += count;
  if (index < 0 || index >= count) return false;
  if (index < count / 2) {
    let node = u32[(h + QL_HEAD) >>> 2];
    while (index >= u32[(node + N_COUNT) >>> 2]) {
      index -= u32[(node + N_COUNT) >>> 2];
      node = u32[(node + N_NEXT) >>> 2];
    }
    let pos = nodeDataStart(a, node);
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
    let pos = readBackward(a.u8, nodeEnd(a, node));
    for (; back > 0; back--) pos = readBackward(a.u8, pos);
    qlCursor.node = node;
    qlCursor.pos = pos;
  }
  return true;
}

/** Points the cursor at the first element of `node` (0: none; returns false). */
function cursorToFirst(a: ShardArena, node: number): boolean {
  qlCursor.node = node;
  qlCursor.pos = node === 0 ? 0 : nodeDataStart(a, node);
  return node !== 0;
}

/** Points the cursor at the last element of `node` (0: none; returns false). */
function cursorToLast(a: ShardArena, node: number): boolean {
  qlCursor.node = node;
  qlCursor.pos = node === 0 ? 0 : readBackward(a.u8, nodeEnd(a, node));
  return node !== 0;
}

/**
 * Calls visit(u8, start, length) for `n` elements from index `first`
 * (which exists), towards the tail or, `reverse`, towards the head: one
 * read per element, node by node (LRANGE's reply, Redis's
 * addListRangeReply). The visitor must not change the list.
 */
export function qlVisitRange(a: ShardArena, h: number, first: number, n: number, reverse: boolean,
  visit: (u8: Uint8Array, start: number, length: number) => void): void {
  qlSeek(a, h, first);
  const u8 = a.u8;
  const u32 = a.u32;
  let node = qlCursor.node;
  let pos = qlCursor.pos;
  if (!reverse) {
    let end = nodeEnd(a, node);
    for (;;) {
      const next = readForward(u8, pos);
      visit(u8, elem.start, elem.len);
      if (--n === 0) return;
      if (next < end) {
        pos = next;
      } else {
        node = u32[(node + N_NEXT) >>> 2];
        pos = nodeDataStart(a, node);
        end = nodeEnd(a, node);
      }
    }
  }
  let start = nodeDataStart(a, node);
  for (;;) {
    readForward(u8, pos);
    visit(u8, elem.start, elem.len);
    if (--n === 0) return;
    if (pos > start) {
      pos = readBackward(u8, pos);
    } else {
      node = u32[(node + N_PREV) >>> 2];
      start = nodeDataStart(a, node);
      pos = readBackward(u8, nodeEnd(a, node));
    }
  }
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
  return cursorToFirst(a, node);
}

/** Moves the cursor to the previous element; false at the start. */
export function qlPrev(a: ShardArena): boolean {
  if (qlCursor.pos > nodeDataStart(a, qlCursor.node)) {
    qlCursor.pos = readBackward(a.u8, qlCursor.pos);
    return true;
  }
  const node = a.u32[(qlCursor.node + N_PREV) >>> 2];
  if (node === 0) return false;
  return cursorToLast(a, node);
}

/**
 * Deletes the element at the cursor; the cursor then points at the element
 * that followed it (or, `backward`, the one before it). Returns false when
 * there is none (the cursor is then no longer valid).
 */
export function qlDeleteAtCursor(a: ShardArena, h: number, backward = false): boolean {
  const node = qlCursor.node;
  const pos = qlCursor.pos;
  const size = readForward(a.u8, pos) - pos;
  const rel = pos - nodeDataStart(a, node);
  const u32 = a.u32;
  u32[(h + QL_COUNT) >>> 2]--;
  if (u32[(node + N_COUNT) >>> 2] === 1) {
    const prev = u32[(node + N_PREV) >>> 2];
    const next = u32[(node + N_NEXT) >>> 2];
    unlinkNode(a, h, node);
    return backward ? cursorToLast(a, prev) : cursorToFirst(a, next);
  }
  const shift = closeGap(a, node, rel, size);
  u32[(node + N_COUNT) >>> 2]--;
  if (backward) {
    if (rel === 0) return cursorToLast(a, u32[(node + N_PREV) >>> 2]);
    // The element before ended where the deleted one began (moved by the shift).
    qlCursor.pos = readBackward(a.u8, pos + shift);
    return true;
  }
  if (pos + shift < nodeEnd(a, node)) {
    qlCursor.pos = pos + shift;
    return true;
  }
  return cursorToFirst(a, u32[(node + N_NEXT) >>> 2]);
}

/**
 * Deletes `count` elements from index `start` on (negative: from the tail),
 * as quicklistDelRange: whole nodes are unlinked and each partly covered
 * node is compacted with one move, so LTRIM and LPOP/RPOP with a count cost
 * O(nodes + elements walked), not a move per element. Returns the number
 * deleted (the range is clamped to the list).
 */
export function qlDeleteRange(a: ShardArena, h: number, start: number, count: number): number {
  let u32 = a.u32;
  const total = u32[(h + QL_COUNT) >>> 2];
  if (start < 0) start += total;
  if (start < 0) start = 0;
  if (count > total - start) count = total - start;
  if (count <= 0) return 0;
  let node = u32[(h + QL_HEAD) >>> 2];
  let skip = start;
  while (skip >= u32[(node + N_COUNT) >>> 2]) {
    skip -= u32[(node + N_COUNT) >>> 2];
    node = u32[(node + N_NEXT) >>> 2];
  }
  let left = count;
  while (left > 0) {
    u32 = a.u32;
    const next = u32[(node + N_NEXT) >>> 2];
    const n = u32[(node + N_COUNT) >>> 2];
    if (skip === 0 && left >= n) {
      unlinkNode(a, h, node);
      left -= n;
    } else {
      const del = Math.min(n - skip, left);
      const u8 = a.u8;
      const first = nodeDataStart(a, node);
      let from = first;
      for (let i = 0; i < skip; i++) from = readForward(u8, from);
      let to = from;
      for (let i = 0; i < del; i++) to = readForward(u8, to);
      closeGap(a, node, from - first, to - from);
      u32[(node + N_COUNT) >>> 2] = n - del;
      left -= del;
    }
    node = next;
    skip = 0;
  }
  a.u32[(h + QL_COUNT) >>> 2] -= count;
  return count;
}

/**
 * Inserts an element before or after the one at the cursor (LINSERT), as
 * _quicklistInsert: into the cursor's node when it has room, else at the
 * near end of the neighbouring node, else in a new node, splitting the
 * cursor's node when the element goes in its middle.
 */
export function qlInsertAtCursor(a: ShardArena, h: number, src: Uint8Array, start: number, len: number, after: boolean, fill: number): void {
  const size = packedSize(len);
  const node = qlCursor.node;
  const first = nodeDataStart(a, node);
  const rel = (after ? readForward(a.u8, qlCursor.pos) : qlCursor.pos) - first;
  const used = a.u32[(node + N_USED) >>> 2];
  const prev = a.u32[(node + N_PREV) >>> 2];
  const next = a.u32[(node + N_NEXT) >>> 2];
  if (allowInsert(a, node, size, fill)) {
    insertElement(a, h, node, rel, src, start, len, false);
  } else if (rel === used && next !== 0 && allowInsert(a, next, size, fill)) {
    insertElement(a, h, next, 0, src, start, len, true);
  } else if (rel === 0 && prev !== 0 && allowInsert(a, prev, size, fill)) {
    insertElement(a, h, prev, a.u32[(prev + N_USED) >>> 2], src, start, len, false);
  } else if (rel === used || rel === 0) {
    const fresh = nodeForElement(a, size, fill, false);
    linkAfter(a, h, rel === 0 ? prev : node, fresh);
    insertElement(a, h, fresh, 0, src, start, len, false);
  } else {
    splitAt(a, h, node, first + rel);
    if (allowInsert(a, node, size, fill)) {
      insertElement(a, h, node, rel, src, start, len, false);
    } else {
      const fresh = nodeForElement(a, size, fill, false);
      linkAfter(a, h, node, fresh);
      insertElement(a, h, fresh, 0, src, start, len, false);
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
  const tail = newNode(a, bytes);
  const u32 = a.u32;
  a.u8.copyWithin(tail + NODE_HEADER_BYTES, at, end);
  u32[(tail + N_USED) >>> 2] = bytes;
  u32[(tail + N_COUNT) >>> 2] = moved;
  u32[(node + N_USED) >>> 2] -= bytes;
  u32[(node + N_COUNT) >>> 2] -= moved;
  linkAfter(a, h, node, tail);
  return tail;
}

/** Replaces the element at the cursor (LSET); the cursor stays on it. */
export function qlReplaceAtCursor(a: ShardArena, h: number, src: Uint8Array, start: number, len: number): void {
  let node = qlCursor.node;
  const pos = qlCursor.pos;
  const oldSize = readForward(a.u8, pos) - pos;
  const size = packedSize(len);
  const rel = pos - nodeDataStart(a, node);
  let at = pos;
  if (size > oldSize) {
    node = openGap(a, h, node, rel + oldSize, size - oldSize, false);
    a.u32[(node + N_USED) >>> 2] += size - oldSize;
    at = gapAt - oldSize;
  } else if (size < oldSize) {
    at = pos + closeGap(a, node, rel + size, oldSize - size);
  }
  writeElement(a.u8, at, src, start, len);
  qlCursor.node = node;
  qlCursor.pos = at;
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

/**
 * Checks the list's structure (links, counts, node contents, block sizes);
 * returns what is wrong, or null. O(elements): for tests.
 */
export function qlVerify(a: ShardArena, h: number): string | null {
  const u32 = a.u32;
  let nodes = 0;
  let elements = 0;
  let prev = 0;
  for (let node = u32[(h + QL_HEAD) >>> 2]; node !== 0; node = u32[(node + N_NEXT) >>> 2]) {
    if (u32[(node + N_PREV) >>> 2] !== prev) return `node ${nodes}: prev link broken`;
    const count = u32[(node + N_COUNT) >>> 2];
    if (count === 0) return `node ${nodes}: empty`;
    if (u32[(node + N_START) >>> 2] + u32[(node + N_USED) >>> 2] > nodeCapacity(a, node)) return `node ${nodes}: data past its block`;
    let p = nodeDataStart(a, node);
    for (let i = 0; i < count; i++) p = readForward(a.u8, p);
    if (p !== nodeEnd(a, node)) return `node ${nodes}: ${count} elements do not end at its used bytes`;
    elements += count;
    nodes++;
    prev = node;
  }
  if (u32[(h + QL_TAIL) >>> 2] !== prev) return 'tail link broken';
  if (u32[(h + QL_NODES) >>> 2] !== nodes) return `node count ${u32[(h + QL_NODES) >>> 2]}, walked ${nodes}`;
  if (u32[(h + QL_COUNT) >>> 2] !== elements) return `element count ${u32[(h + QL_COUNT) >>> 2]}, walked ${elements}`;
  return null;
}
