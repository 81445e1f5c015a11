/**
 * The ordered index of big sorted sets: Redis's zskiplist (t_zset.c) with
 * spans, its nodes arena blocks of a shard. The member dict (arena-dict.ts)
 * owns the member bytes; a node refers to the dict entry holding them.
 *
 * Invariants, as t_zset.c keeps them:
 * - Level 0 links every node in (score, member) order: score first (-0 and 0
 *   equal), then the member bytes by memcmp, a shorter prefix first.
 * - A node of level L is linked on levels 0..L-1; the header node has all
 *   ZSKIPLIST_MAXLEVEL levels, and on levels at or above the list's level
 *   its forward links are 0.
 * - The span of a link is the number of level-0 steps it jumps: summed
 *   along any level from the header it gives a node's 1-based rank; a link
 *   to 0 spans the nodes left after its node (below the list's level).
 * - backward is the previous node on level 0, 0 for the first node; the
 *   tail is the last node, 0 when the list is empty.
 *
 * Ported: zslCreate, zslRandomLevel, zslInsert, zslDeleteNode, zslDelete,
 * zslUpdateScore, zslGetRank, zslGetElementByRank (zslNodeByRank), the
 * range checks zslValueGteMin/zslValueLteMax/zslIsInRange and
 * zslFirstInRange/zslLastInRange, their lex forms over zlexrangespec and
 * sdscmplex (zslLexValueGteMin/zslLexValueLteMax/zslIsInLexRange,
 * zslFirstInLexRange/zslLastInLexRange), zslDeleteRangeByScore,
 * zslDeleteRangeByLex and zslDeleteRangeByRank. zslUpdateScore differs in
 * one way: when the order changes it unlinks the node and links the same
 * block again at its new place (a node's level does not depend on its
 * position), so it never allocates and cannot fail on a full arena.
 *
 * Skiplist header (SKIPLIST_HEADER_BYTES, inside the caller's block):
 * header node · tail · length · level. Node block (8-byte aligned):
 * score f64 · ref (dict entry) · backward · level · then per level
 * forward · span.
 *
 * The `update` and `rank` arrays of the descents are module-level, as
 * Redis keeps them on the stack: the callbacks of the range deletes and of
 * zslRelease must not call back into this module.
 */
import type { ShardArena } from './shard-arena.js';
import { DE_KEY, DE_KEYLEN } from './arena-dict.js';
import { compareBytes } from './packed.js';

export const ZSKIPLIST_MAXLEVEL = 32;
/** The chance that a node reaches one level more (ZSKIPLIST_P). */
export const ZSKIPLIST_P = 0.25;

// Skiplist header, at `h`.
const SL_HEADER = 0;
const SL_TAIL = 4;
const SL_LENGTH = 8;
const SL_LEVEL = 12;
export const SKIPLIST_HEADER_BYTES = 16;

// Node block.
const NODE_SCORE = 0;
const NODE_REF = 8;
const NODE_BACKWARD = 12;
const NODE_LEVEL = 16;
const NODE_LEVELS = 20;
const LEVEL_BYTES = 8;
/** Word offset of a level's span after its forward link. */
const SPAN_WORD = 1;

/** Bytes of a node block with `level` levels. */
export function nodeSize(level: number): number {
  return NODE_LEVELS + LEVEL_BYTES * level;
}

const HEADER_NODE_BYTES = nodeSize(ZSKIPLIST_MAXLEVEL);

/** A score interval (zrangespec): the exclusive flags leave out their bound. */
export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

/** Where a lex bound lies: "-" (below every member), at its bytes, or "+" (above every member). */
export const LEX_MINUS_INFINITY = -1;
export const LEX_BYTES = 0;
export const LEX_PLUS_INFINITY = 1;
export type LexInfinity = typeof LEX_MINUS_INFINITY | typeof LEX_BYTES | typeof LEX_PLUS_INFINITY;

/**
 * A lex interval (zlexrangespec): a bound is its bytes when its infinity is
 * LEX_BYTES, otherwise "-" or "+" (the bytes then do not matter; Redis's
 * parser marks those bounds exclusive).
 */
export interface LexRange {
  min: Uint8Array;
  minInfinity: LexInfinity;
  minex: boolean;
  max: Uint8Array;
  maxInfinity: LexInfinity;
  maxex: boolean;
}

/** The descents' last node before the target on each level, and its rank (zslInsert's update[] and rank[]). */
const update = new Uint32Array(ZSKIPLIST_MAXLEVEL);
const rank = new Uint32Array(ZSKIPLIST_MAXLEVEL);

/** The u32 index of a node's forward link on level i (its span is the next word). */
function forwardAt(x: number, i: number): number {
  return (x + NODE_LEVELS + i * LEVEL_BYTES) >>> 2;
}

// ---- accessors ----

export function zslLength(a: ShardArena, h: number): number {
  return a.u32[(h + SL_LENGTH) >>> 2];
}

/** The first node, 0 when empty. */
export function zslFirst(a: ShardArena, h: number): number {
  const header = a.u32[(h + SL_HEADER) >>> 2];
  return header === 0 ? 0 : a.u32[forwardAt(header, 0)];
}

/** The last node, 0 when empty. */
export function zslLast(a: ShardArena, h: number): number {
  return a.u32[(h + SL_TAIL) >>> 2];
}

/** The list's current level (1 or more). */
export function zslLevel(a: ShardArena, h: number): number {
  return a.u32[(h + SL_LEVEL) >>> 2];
}

/** The header node (its forward links lead to the first nodes of each level). */
export function zslHeaderNode(a: ShardArena, h: number): number {
  return a.u32[(h + SL_HEADER) >>> 2];
}

export function zslNext(a: ShardArena, node: number): number {
  return a.u32[forwardAt(node, 0)];
}

export function zslPrev(a: ShardArena, node: number): number {
  return a.u32[(node + NODE_BACKWARD) >>> 2];
}

export function nodeScore(a: ShardArena, node: number): number {
  return a.f64[node >>> 3];
}

/** The dict entry holding the node's member. */
export function nodeRef(a: ShardArena, node: number): number {
  return a.u32[(node + NODE_REF) >>> 2];
}

export function nodeLevel(a: ShardArena, node: number): number {
  return a.u32[(node + NODE_LEVEL) >>> 2];
}

/** The node's forward link on level i. */
export function nodeForward(a: ShardArena, node: number, i: number): number {
  return a.u32[forwardAt(node, i)];
}

/** The span of the node's forward link on level i. */
export function nodeSpan(a: ShardArena, node: number, i: number): number {
  return a.u32[forwardAt(node, i) + SPAN_WORD];
}

// ---- order ----

/** sdscmp of the members of two dict entries. */
function compareMembers(u8: Uint8Array, u32: Uint32Array, refA: number, refB: number): number {
  if (refA === refB) return 0;
  return compareBytes(u8, refA + DE_KEY, u32[(refA + DE_KEYLEN) >>> 2], u8, refB + DE_KEY, u32[(refB + DE_KEYLEN) >>> 2]);
}

/** The order of node x against (score, ref): negative when x comes first. */
function compareNode(u8: Uint8Array, u32: Uint32Array, f64: Float64Array, x: number, score: number, ref: number): number {
  const s = f64[x >>> 3];
  if (s < score) return -1;
  if (s > score) return 1;
  return compareMembers(u8, u32, u32[(x + NODE_REF) >>> 2], ref);
}

// ---- create, insert, delete ----

/** Allocates the header node and sets up an empty list at h (zslCreate). */
export function zslCreate(a: ShardArena, h: number): void {
  const header = a.alloc(HEADER_NODE_BYTES);
  a.u8.fill(0, header, header + HEADER_NODE_BYTES);
  const u32 = a.u32;
  u32[(header + NODE_LEVEL) >>> 2] = ZSKIPLIST_MAXLEVEL;
  u32[(h + SL_HEADER) >>> 2] = header;
  u32[(h + SL_TAIL) >>> 2] = 0;
  u32[(h + SL_LENGTH) >>> 2] = 0;
  u32[(h + SL_LEVEL) >>> 2] = 1;
}

/** A level in 1..ZSKIPLIST_MAXLEVEL, each level more ZSKIPLIST_P as likely (zslRandomLevel). */
export function zslRandomLevel(random: () => number = Math.random): number {
  let level = 1;
  while (level < ZSKIPLIST_MAXLEVEL && random() < ZSKIPLIST_P) level++;
  return level;
}

/**
 * Fills update[] with the last node before (score, ref) on each level and
 * rank[] with its rank, as zslInsert's descent does.
 */
function descend(a: ShardArena, h: number, score: number, ref: number): void {
  const u8 = a.u8;
  const u32 = a.u32;
  const f64 = a.f64;
  let x = u32[(h + SL_HEADER) >>> 2];
  const level = u32[(h + SL_LEVEL) >>> 2];
  for (let i = level - 1; i >= 0; i--) {
    let r = i === level - 1 ? 0 : rank[i + 1];
    let link = forwardAt(x, i);
    let f = u32[link];
    while (f !== 0 && compareNode(u8, u32, f64, f, score, ref) < 0) {
      r += u32[link + SPAN_WORD];
      x = f;
      link = forwardAt(x, i);
      f = u32[link];
    }
    update[i] = x;
    rank[i] = r;
  }
}

/** Links node x (score, ref and level set) after update[] and rank[] of a descent to its place. */
function linkNode(u32: Uint32Array, h: number, x: number): void {
  const header = u32[(h + SL_HEADER) >>> 2];
  const length = u32[(h + SL_LENGTH) >>> 2];
  const nodeLevelCount = u32[(x + NODE_LEVEL) >>> 2];
  let listLevel = u32[(h + SL_LEVEL) >>> 2];
  if (nodeLevelCount > listLevel) {
    for (let i = listLevel; i < nodeLevelCount; i++) {
      rank[i] = 0;
      update[i] = header;
      u32[forwardAt(header, i) + SPAN_WORD] = length;
    }
    listLevel = nodeLevelCount;
    u32[(h + SL_LEVEL) >>> 2] = listLevel;
  }
  for (let i = 0; i < nodeLevelCount; i++) {
    const before = forwardAt(update[i], i);
    const link = forwardAt(x, i);
    const stepsBefore = rank[0] - rank[i];
    u32[link] = u32[before];
    u32[before] = x;
    u32[link + SPAN_WORD] = u32[before + SPAN_WORD] - stepsBefore;
    u32[before + SPAN_WORD] = stepsBefore + 1;
  }
  for (let i = nodeLevelCount; i < listLevel; i++) u32[forwardAt(update[i], i) + SPAN_WORD]++;
  u32[(x + NODE_BACKWARD) >>> 2] = update[0] === header ? 0 : update[0];
  const next = u32[forwardAt(x, 0)];
  if (next !== 0) u32[(next + NODE_BACKWARD) >>> 2] = x;
  else u32[(h + SL_TAIL) >>> 2] = x;
  u32[(h + SL_LENGTH) >>> 2] = length + 1;
}

/**
 * Inserts the member of dict entry `ref` with `score`; the caller
 * guarantees it is absent. Returns the new node (zslInsert). The node is
 * allocated before anything changes, so a full arena leaves the list whole.
 */
export function zslInsert(a: ShardArena, h: number, score: number, ref: number, random: () => number = Math.random): number {
  const level = zslRandomLevel(random);
  const x = a.alloc(nodeSize(level));
  const u32 = a.u32;
  a.f64[(x + NODE_SCORE) >>> 3] = score;
  u32[(x + NODE_REF) >>> 2] = ref;
  u32[(x + NODE_LEVEL) >>> 2] = level;
  descend(a, h, score, ref);
  linkNode(u32, h, x);
  return x;
}

/** Unlinks node x, update[] holding the last node before it on each level (zslDeleteNode). */
function unlinkNode(u32: Uint32Array, h: number, x: number): void {
  let listLevel = u32[(h + SL_LEVEL) >>> 2];
  for (let i = 0; i < listLevel; i++) {
    const before = forwardAt(update[i], i);
    if (u32[before] === x) {
      const link = forwardAt(x, i);
      u32[before + SPAN_WORD] += u32[link + SPAN_WORD] - 1;
      u32[before] = u32[link];
    } else {
      u32[before + SPAN_WORD]--;
    }
  }
  const next = u32[forwardAt(x, 0)];
  const backward = u32[(x + NODE_BACKWARD) >>> 2];
  if (next !== 0) u32[(next + NODE_BACKWARD) >>> 2] = backward;
  else u32[(h + SL_TAIL) >>> 2] = backward;
  const header = u32[(h + SL_HEADER) >>> 2];
  while (listLevel > 1 && u32[forwardAt(header, listLevel - 1)] === 0) listLevel--;
  u32[(h + SL_LEVEL) >>> 2] = listLevel;
  u32[(h + SL_LENGTH) >>> 2]--;
}

function freeNode(a: ShardArena, x: number): void {
  a.free(x, nodeSize(a.u32[(x + NODE_LEVEL) >>> 2]));
}

/**
 * Removes and frees the node with `score` whose member has the bytes of
 * ref's member; returns whether there was one (zslDelete).
 */
export function zslDelete(a: ShardArena, h: number, score: number, ref: number): boolean {
  descend(a, h, score, ref);
  const u32 = a.u32;
  const x = u32[forwardAt(update[0], 0)];
  if (x === 0 || a.f64[x >>> 3] !== score || compareMembers(a.u8, u32, u32[(x + NODE_REF) >>> 2], ref) !== 0) return false;
  unlinkNode(u32, h, x);
  freeNode(a, x);
  return true;
}

/**
 * Gives `node` a new score (zslUpdateScore): in place when its neighbours
 * keep it in order, otherwise it is unlinked and linked again at its new
 * place. Returns the node holding the member (always `node` here: the
 * block is reused, so the dict entry's back-reference stays right).
 */
export function zslUpdateScore(a: ShardArena, h: number, node: number, newScore: number): number {
  const u32 = a.u32;
  const f64 = a.f64;
  const backward = u32[(node + NODE_BACKWARD) >>> 2];
  const next = u32[forwardAt(node, 0)];
  if ((backward === 0 || f64[backward >>> 3] < newScore) && (next === 0 || f64[next >>> 3] > newScore)) {
    f64[node >>> 3] = newScore;
    return node;
  }
  const ref = u32[(node + NODE_REF) >>> 2];
  descend(a, h, f64[node >>> 3], ref);
  if (u32[forwardAt(update[0], 0)] !== node) throw new Error('zslUpdateScore: the node is not in this skiplist');
  unlinkNode(u32, h, node);
  f64[node >>> 3] = newScore;
  descend(a, h, newScore, ref);
  linkNode(u32, h, node);
  return node;
}

// ---- ranks ----

/** The 1-based rank of the member of `ref` with `score`, 0 when absent (zslGetRank). */
export function zslGetRank(a: ShardArena, h: number, score: number, ref: number): number {
  const u8 = a.u8;
  const u32 = a.u32;
  const f64 = a.f64;
  const header = u32[(h + SL_HEADER) >>> 2];
  let x = header;
  let traversed = 0;
  for (let i = u32[(h + SL_LEVEL) >>> 2] - 1; i >= 0; i--) {
    let link = forwardAt(x, i);
    let f = u32[link];
    while (f !== 0 && compareNode(u8, u32, f64, f, score, ref) <= 0) {
      traversed += u32[link + SPAN_WORD];
      x = f;
      link = forwardAt(x, i);
      f = u32[link];
    }
    // x may be the header node, which holds no member.
    if (x !== header && compareNode(u8, u32, f64, x, score, ref) === 0) return traversed;
  }
  return 0;
}

/** The node at 1-based `rank1`, 0 when out of range (zslGetElementByRank). */
export function zslNodeByRank(a: ShardArena, h: number, rank1: number): number {
  const u32 = a.u32;
  if (rank1 < 1 || rank1 > u32[(h + SL_LENGTH) >>> 2]) return 0;
  let x = u32[(h + SL_HEADER) >>> 2];
  let traversed = 0;
  for (let i = u32[(h + SL_LEVEL) >>> 2] - 1; i >= 0; i--) {
    let link = forwardAt(x, i);
    while (u32[link] !== 0 && traversed + u32[link + SPAN_WORD] <= rank1) {
      traversed += u32[link + SPAN_WORD];
      x = u32[link];
      link = forwardAt(x, i);
    }
    if (traversed === rank1) return x;
  }
  return 0;
}

// ---- score ranges ----

function valueGteMin(value: number, range: ScoreRange): boolean {
  return range.minex ? value > range.min : value >= range.min;
}

function valueLteMax(value: number, range: ScoreRange): boolean {
  return range.maxex ? value < range.max : value <= range.max;
}

/** Whether some node may be in the range: it is not empty and overlaps the list's scores (zslIsInRange). */
export function zslIsInRange(a: ShardArena, h: number, range: ScoreRange): boolean {
  if (range.min > range.max || (range.min === range.max && (range.minex || range.maxex))) return false;
  const tail = zslLast(a, h);
  if (tail === 0 || !valueGteMin(a.f64[tail >>> 3], range)) return false;
  const first = zslFirst(a, h);
  return first !== 0 && valueLteMax(a.f64[first >>> 3], range);
}

/**
 * A node test against the range being searched, which the caller sets in
 * searchedScores / searchedLex first: one descent serves the first-in-range,
 * last-in-range and range-deletion searches of both kinds.
 */
type NodeTest = (a: ShardArena, node: number) => boolean;
let searchedScores: ScoreRange;
let searchedLex: LexRange;
const scoreBelowMin: NodeTest = (a, x) => !valueGteMin(a.f64[x >>> 3], searchedScores);
const scoreAtOrAboveMin: NodeTest = (a, x) => valueGteMin(a.f64[x >>> 3], searchedScores);
const scoreWithinMax: NodeTest = (a, x) => valueLteMax(a.f64[x >>> 3], searchedScores);
const lexBelowMin: NodeTest = (a, x) => !lexValueGteMin(a.u8, a.u32, x, searchedLex);
const lexAtOrAboveMin: NodeTest = (a, x) => lexValueGteMin(a.u8, a.u32, x, searchedLex);
const lexWithinMax: NodeTest = (a, x) => lexValueLteMax(a.u8, a.u32, x, searchedLex);

/**
 * The descent of zsl{First,Last}In{,Lex}Range and zslDeleteRangeBy{Score,Lex}:
 * from the header, on each level from the top, forward while the next node
 * passes `advance`; with `recordUpdate`, the last node of each level goes to
 * update[] (for a deletion). Returns the last node passed (the header when none).
 */
function descendWhile(a: ShardArena, h: number, advance: NodeTest, recordUpdate: boolean): number {
  const u32 = a.u32;
  let x = u32[(h + SL_HEADER) >>> 2];
  for (let i = u32[(h + SL_LEVEL) >>> 2] - 1; i >= 0; i--) {
    let f = u32[forwardAt(x, i)];
    while (f !== 0 && advance(a, f)) {
      x = f;
      f = u32[forwardAt(x, i)];
    }
    if (recordUpdate) update[i] = x;
  }
  return x;
}

/** zslFirstInRange / zslFirstInLexRange once the range is known to overlap: the node after the descent below min, if within max. */
function firstIn(a: ShardArena, h: number, belowMin: NodeTest, withinMax: NodeTest): number {
  // The overlap check saw a node at or above min: there is a next one.
  const x = a.u32[forwardAt(descendWhile(a, h, belowMin, false), 0)];
  return withinMax(a, x) ? x : 0;
}

/** zslLastInRange / zslLastInLexRange once the range is known to overlap: the last node within max, if at or above min. */
function lastIn(a: ShardArena, h: number, withinMax: NodeTest, atOrAboveMin: NodeTest): number {
  // The overlap check saw a node at or below max: the descent stops past the header node.
  const x = descendWhile(a, h, withinMax, false);
  return atOrAboveMin(a, x) ? x : 0;
}

/** The first node in the score range, 0 when none (zslFirstInRange). */
export function zslFirstInRange(a: ShardArena, h: number, range: ScoreRange): number {
  if (!zslIsInRange(a, h, range)) return 0;
  searchedScores = range;
  return firstIn(a, h, scoreBelowMin, scoreWithinMax);
}

/** The last node in the score range, 0 when none (zslLastInRange). */
export function zslLastInRange(a: ShardArena, h: number, range: ScoreRange): number {
  if (!zslIsInRange(a, h, range)) return 0;
  searchedScores = range;
  return lastIn(a, h, scoreWithinMax, scoreAtOrAboveMin);
}

// ---- lex ranges ----
// As in Redis, these assume every member has the same score (ZRANGEBYLEX's
// contract): the descents follow the (score, member) order.

/** sdscmplex of a node's member against a bound. */
function compareMemberToBound(u8: Uint8Array, u32: Uint32Array, x: number, bound: Uint8Array, infinity: LexInfinity): number {
  if (infinity !== LEX_BYTES) return -infinity;
  const ref = u32[(x + NODE_REF) >>> 2];
  return compareBytes(u8, ref + DE_KEY, u32[(ref + DE_KEYLEN) >>> 2], bound, 0, bound.length);
}

function lexValueGteMin(u8: Uint8Array, u32: Uint32Array, x: number, range: LexRange): boolean {
  const c = compareMemberToBound(u8, u32, x, range.min, range.minInfinity);
  return range.minex ? c > 0 : c >= 0;
}

function lexValueLteMax(u8: Uint8Array, u32: Uint32Array, x: number, range: LexRange): boolean {
  const c = compareMemberToBound(u8, u32, x, range.max, range.maxInfinity);
  return range.maxex ? c < 0 : c <= 0;
}

/** sdscmplex of the range's min against its max. */
function compareLexBounds(range: LexRange): number {
  const lo = range.minInfinity;
  const hi = range.maxInfinity;
  if (lo === hi && lo !== LEX_BYTES) return 0;
  if (lo === LEX_MINUS_INFINITY || hi === LEX_PLUS_INFINITY) return -1;
  if (lo === LEX_PLUS_INFINITY || hi === LEX_MINUS_INFINITY) return 1;
  return compareBytes(range.min, 0, range.min.length, range.max, 0, range.max.length);
}

/** Whether some node may be in the lex range (zslIsInLexRange). */
export function zslIsInLexRange(a: ShardArena, h: number, range: LexRange): boolean {
  const c = compareLexBounds(range);
  if (c > 0 || (c === 0 && (range.minex || range.maxex))) return false;
  const tail = zslLast(a, h);
  if (tail === 0 || !lexValueGteMin(a.u8, a.u32, tail, range)) return false;
  const first = zslFirst(a, h);
  return first !== 0 && lexValueLteMax(a.u8, a.u32, first, range);
}

/** The first node in the lex range, 0 when none (zslFirstInLexRange). */
export function zslFirstInLexRange(a: ShardArena, h: number, range: LexRange): number {
  if (!zslIsInLexRange(a, h, range)) return 0;
  searchedLex = range;
  return firstIn(a, h, lexBelowMin, lexWithinMax);
}

/** The last node in the lex range, 0 when none (zslLastInLexRange). */
export function zslLastInLexRange(a: ShardArena, h: number, range: LexRange): number {
  if (!zslIsInLexRange(a, h, range)) return 0;
  searchedLex = range;
  return lastIn(a, h, lexWithinMax, lexAtOrAboveMin);
}

// ---- range deletion ----

/** Unlinks x (update[] set before it), lets the caller drop its dict entry, frees it. */
function removeNode(a: ShardArena, h: number, x: number, onRemove: (node: number) => void): void {
  unlinkNode(a.u32, h, x);
  onRemove(x);
  // The callback may have allocated (a dict shrinking): views are re-read.
  freeNode(a, x);
}

/** Removes the nodes from the first one past `belowMin` while `withinMax` holds (the deletions' shared walk). */
function removeRange(a: ShardArena, h: number, belowMin: NodeTest, withinMax: NodeTest, onRemove: (node: number) => void): number {
  let x = a.u32[forwardAt(descendWhile(a, h, belowMin, true), 0)];
  let removed = 0;
  while (x !== 0 && withinMax(a, x)) {
    const next = a.u32[forwardAt(x, 0)];
    removeNode(a, h, x, onRemove);
    removed++;
    x = next;
  }
  return removed;
}

/**
 * Removes the nodes in the score range, calling onRemove(node) for each
 * before freeing it; returns how many (zslDeleteRangeByScore).
 */
export function zslDeleteRangeByScore(a: ShardArena, h: number, range: ScoreRange, onRemove: (node: number) => void): number {
  searchedScores = range;
  return removeRange(a, h, scoreBelowMin, scoreWithinMax, onRemove);
}

/** Removes the nodes in the lex range, as zslDeleteRangeByScore (zslDeleteRangeByLex). */
export function zslDeleteRangeByLex(a: ShardArena, h: number, range: LexRange, onRemove: (node: number) => void): number {
  searchedLex = range;
  return removeRange(a, h, lexBelowMin, lexWithinMax, onRemove);
}

/** Removes the nodes of 1-based ranks start1..end1 inclusive, as zslDeleteRangeByScore (zslDeleteRangeByRank). */
export function zslDeleteRangeByRank(a: ShardArena, h: number, start1: number, end1: number, onRemove: (node: number) => void): number {
  const u32 = a.u32;
  let x = u32[(h + SL_HEADER) >>> 2];
  let traversed = 0;
  for (let i = u32[(h + SL_LEVEL) >>> 2] - 1; i >= 0; i--) {
    let link = forwardAt(x, i);
    while (u32[link] !== 0 && traversed + u32[link + SPAN_WORD] < start1) {
      traversed += u32[link + SPAN_WORD];
      x = u32[link];
      link = forwardAt(x, i);
    }
    update[i] = x;
  }
  let removed = 0;
  traversed++;
  x = u32[forwardAt(x, 0)];
  while (x !== 0 && traversed <= end1) {
    const next = a.u32[forwardAt(x, 0)];
    removeNode(a, h, x, onRemove);
    removed++;
    traversed++;
    x = next;
  }
  return removed;
}

// ---- release ----

/**
 * Frees up to `budget` nodes from the front, calling onNode(node) before
 * freeing each (the caller frees its dict entry); once none is left, frees
 * the header node too and sets the header's node to 0. Returns the nodes
 * freed. For lazy freeing: the list must no longer be reachable, and only
 * level 0 stays linked between calls.
 */
export function zslRelease(a: ShardArena, h: number, budget: number, onNode: (node: number) => void): number {
  const header = a.u32[(h + SL_HEADER) >>> 2];
  if (header === 0) return 0;
  let freed = 0;
  let x = a.u32[forwardAt(header, 0)];
  while (x !== 0 && freed < budget) {
    const next = a.u32[forwardAt(x, 0)];
    onNode(x);
    freeNode(a, x);
    freed++;
    x = next;
  }
  const u32 = a.u32;
  u32[forwardAt(header, 0)] = x;
  u32[(h + SL_LENGTH) >>> 2] -= Math.min(freed, u32[(h + SL_LENGTH) >>> 2]);
  if (x === 0) {
    a.free(header, HEADER_NODE_BYTES);
    u32[(h + SL_HEADER) >>> 2] = 0;
    u32[(h + SL_TAIL) >>> 2] = 0;
    u32[(h + SL_LENGTH) >>> 2] = 0;
    u32[(h + SL_LEVEL) >>> 2] = 1;
  }
  return freed;
}
