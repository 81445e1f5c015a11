/**
 * What the keyspace needs to know about collection values whatever their
 * type: freeing their blocks when a key goes (now, or in the background for
 * UNLINK as Redis's lazyfree.c), the effort that takes, and their flat form.
 *
 * The flat form is how a collection leaves its shard (replication
 * snapshots, COPY and RENAME between shards): a u32 element count, then
 * packed elements (packed.ts) — list elements; hash fields and values
 * alternating; set members; sorted-set members each followed by an 8-byte
 * score. It is byte for byte the inline layout of the compact encodings, so
 * a listpack hash or sorted set and an intset are their own flat form.
 */
import type { ShardArena } from './shard-arena.js';
import { classSize, sizeClassOf } from './size-classes.js';
import { ValueType } from './layout.js';
import {
  CollectionEncoding, LP_COUNT, LP_FIRST, QL_HEADER_BYTES, ZS_DICT, ZS_HEADER_BYTES, ZS_LIST,
} from './collection-layout.js';
import { qlAllocatedBytes, qlCount, qlCursor, qlInit, qlNext, qlNodeCount, qlPush, qlRelease, qlSeek } from './quicklist.js';
import {
  DE_AUX, DE_KEY, DE_KEYLEN, DICT_HEADER_BYTES, dictAdd, dictForEach, dictInit, dictRelease, dictSize, dictTableBytes, hashOf,
} from './arena-dict.js';
import {
  nodeLevel, nodeRef, nodeScore, nodeSize, zslCreate, zslFirst, zslHeaderNode, zslInsert, zslLength, zslNext, zslRelease,
} from './skiplist.js';
import { elem, packedSize, readForward, readScore, scoreSizeAt, writeElement, writeScore } from './packed.js';

/** Redis's LAZYFREE_THRESHOLD: values whose freeing effort is above it are freed in the background by UNLINK. */
export const LAZYFREE_THRESHOLD = 64;
/** Elements (or nodes) freed per step of background freeing, between which the shard lock is released. */
export const LAZYFREE_STEP = 1024;

/** Bytes of the fixed header a big encoding keeps in the entry. */
export function headerBytes(type: number, encoding: number): number {
  if (type === ValueType.List) return QL_HEADER_BYTES;
  if (encoding === CollectionEncoding.Skiplist) return ZS_HEADER_BYTES;
  if (encoding === CollectionEncoding.Hashtable) return DICT_HEADER_BYTES;
  return 0;
}

/** Whether the value keeps blocks outside its entry. */
export function hasExternalBlocks(type: number, encoding: number): boolean {
  return type !== ValueType.String && headerBytes(type, encoding) !== 0;
}

/** lazyfreeGetFreeEffort: list nodes, or elements of a hashtable or skiplist; 1 for anything in one block. */
export function freeEffort(a: ShardArena, type: number, encoding: number, v: number): number {
  if (type === ValueType.List) return qlNodeCount(a, v);
  if (encoding === CollectionEncoding.Hashtable || encoding === CollectionEncoding.Skiplist) return dictSize(a, v);
  return 1;
}

/** Frees a dict entry of a hash (field and value) or set (member). */
function freeDictEntry(a: ShardArena, type: number, e: number): void {
  const u32 = a.u32;
  const valueBytes = type === ValueType.Hash ? u32[(e + DE_AUX) >>> 2] : 0;
  a.free(e, DE_KEY + u32[(e + DE_KEYLEN) >>> 2] + valueBytes);
}

/**
 * Frees up to `budget` units of a value's outside blocks (everything when
 * budget is Infinity); returns whether anything is left. The header at `v`
 * must no longer be reachable by lookups when this runs in several steps.
 */
export function releaseBlocks(a: ShardArena, type: number, encoding: number, v: number, budget: number): boolean {
  if (type === ValueType.List) {
    qlRelease(a, v, budget);
    return qlCount(a, v) !== 0;
  }
  if (encoding === CollectionEncoding.Hashtable) {
    dictRelease(a, v, budget, (e) => freeDictEntry(a, type, e));
    return dictSize(a, v) !== 0;
  }
  if (encoding === CollectionEncoding.Skiplist) {
    const h = v + ZS_LIST;
    // The dict's entries are the members the skiplist nodes refer to: freed with their nodes.
    zslRelease(a, h, budget, (node) => {
      const ref = nodeRef(a, node);
      a.free(ref, DE_KEY + a.u32[(ref + DE_KEYLEN) >>> 2]);
    });
    if (zslLength(a, h) !== 0) return true;
    dictRelease(a, v + ZS_DICT, Infinity, () => undefined);
    return false;
  }
  return false;
}

/**
 * Bytes of a value's outside blocks, as MEMORY USAGE estimates them
 * (objectComputeSize): every list node; for hashtables and skiplists the
 * tables plus the average block of up to `samples` elements (0: all) times
 * the element count.
 */
export function externalBytes(a: ShardArena, type: number, encoding: number, v: number, samples: number): number {
  if (type === ValueType.List) return qlAllocatedBytes(a, v);
  if (!hasExternalBlocks(type, encoding)) return 0;
  const count = dictSize(a, v);
  let seen = 0;
  let bytes = 0;
  dictForEach(a, v, (e) => {
    const u32 = a.u32;
    const valueBytes = type === ValueType.Hash ? u32[(e + DE_AUX) >>> 2] : 0;
    bytes += classSize(sizeClassOf(DE_KEY + u32[(e + DE_KEYLEN) >>> 2] + valueBytes));
    if (type === ValueType.ZSet) bytes += skiplistNodeBytes(a, u32[(e + DE_AUX) >>> 2]);
    return ++seen !== samples;
  });
  const total = dictTableBytes(a, v) + (seen === 0 ? 0 : Math.round((bytes / seen) * count));
  return encoding === CollectionEncoding.Skiplist ? total + skiplistNodeBytes(a, zslHeaderNode(a, v + ZS_LIST)) : total;
}

function skiplistNodeBytes(a: ShardArena, node: number): number {
  return node === 0 ? 0 : classSize(sizeClassOf(nodeSize(nodeLevel(a, node))));
}

// ---- flat form ----

/** The largest packed score (a tagged f64). */
const MAX_PACKED_SCORE = 10;

/** Appends bytes to a growing Buffer list, allocation-light. */
class FlatWriter {
  private buf: Buffer;
  len = 4;

  constructor(sizeHint: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, sizeHint));
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  element(src: Uint8Array, start: number, len: number): void {
    this.room(packedSize(len));
    this.len = writeElement(this.buf, this.len, src, start, len);
  }

  score(value: number): void {
    this.room(MAX_PACKED_SCORE);
    this.len = writeScore(this.buf, this.len, value);
  }

  finish(count: number): Buffer {
    this.buf.writeUInt32LE(count, 0);
    return this.buf.subarray(0, this.len);
  }
}

/**
 * The flat form of a value kept in outside blocks (list, hashtable,
 * skiplist); compact values are their own flat form and are not passed here.
 */
export function flatten(a: ShardArena, type: number, encoding: number, v: number): Buffer {
  if (type === ValueType.List) {
    const count = qlCount(a, v);
    const out = new FlatWriter(count * 16);
    if (qlSeek(a, v, 0)) {
      do {
        readForward(a.u8, qlCursor.pos);
        out.element(a.u8, elem.start, elem.len);
      } while (qlNext(a));
    }
    return out.finish(count);
  }
  if (encoding === CollectionEncoding.Skiplist) {
    const h = v + ZS_LIST;
    const count = zslLength(a, h);
    const out = new FlatWriter(count * 24);
    for (let node = zslFirst(a, h); node !== 0; node = zslNext(a, node)) {
      const ref = nodeRef(a, node);
      out.element(a.u8, ref + DE_KEY, a.u32[(ref + DE_KEYLEN) >>> 2]);
      out.score(nodeScore(a, node));
    }
    return out.finish(count);
  }
  const count = dictSize(a, v);
  const out = new FlatWriter(count * 24);
  dictForEach(a, v, (e) => {
    const kl = a.u32[(e + DE_KEYLEN) >>> 2];
    out.element(a.u8, e + DE_KEY, kl);
    if (type === ValueType.Hash) out.element(a.u8, e + DE_KEY + kl, a.u32[(e + DE_AUX) >>> 2]);
  });
  return out.finish(count);
}

/**
 * Builds a big-encoding value from its flat form into the header at `v`
 * (which has headerBytes(type, encoding) bytes and does not move while
 * this runs). `fill` is list-max-listpack-size for lists.
 */
export function unflatten(a: ShardArena, type: number, encoding: number, v: number, flat: Uint8Array, fill: number): void {
  const count = flat[LP_COUNT] | (flat[LP_COUNT + 1] << 8) | (flat[LP_COUNT + 2] << 16) | (flat[LP_COUNT + 3] << 24);
  let p = LP_FIRST;
  if (type === ValueType.List) {
    qlInit(a, v);
    for (let i = 0; i < count; i++) {
      p = readForward(flat, p);
      qlPush(a, v, flat, elem.start, elem.len, false, fill);
    }
    return;
  }
  dictInit(a, v);
  if (encoding === CollectionEncoding.Skiplist) zslCreate(a, v + ZS_LIST);
  for (let i = 0; i < count; i++) {
    p = readForward(flat, p);
    const ks = elem.start;
    const kl = elem.len;
    const hash = hashOf(flat, ks, kl);
    if (type === ValueType.Hash) {
      p = readForward(flat, p);
      const e = dictAdd(a, v, flat, ks, kl, hash, elem.len, elem.len);
      a.u8.set(flat.subarray(elem.start, elem.start + elem.len), e + DE_KEY + kl);
    } else if (type === ValueType.Set) {
      dictAdd(a, v, flat, ks, kl, hash, 0, 0);
    } else {
      const score = readScore(flat, p);
      p += scoreSizeAt(flat, p);
      const e = dictAdd(a, v, flat, ks, kl, hash, 0, 0);
      const node = zslInsert(a, v + ZS_LIST, score, e);
      a.u32[(e + DE_AUX) >>> 2] = node;
    }
  }
}
