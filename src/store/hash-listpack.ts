/**
 * The listpack encoding of a hash, kept inside the key's entry (Redis's
 * listpack.c as t_hash.c uses it: lpFind, lpReplace, lpAppend, lpDeleteRange,
 * lpRandomPair(s), lpRandomPairsUnique).
 *
 * Layout at `v = shard.collectionStart(e)`: a u32 pair count (LP_COUNT),
 * then fields and values alternating as packed elements (packed.ts) from
 * LP_FIRST, in insertion order. The payload is E_VALLEN minus the key's
 * collection padding. Growing or shrinking goes through resizeValue, which
 * relies on the shard's `link` from the last lookup of this key and may
 * move the entry: every change returns the entry's (possibly new) offset.
 */
import type { SlotTables } from './slot-tables.js';
import { E_VALLEN } from './layout.js';
import { LP_COUNT, LP_FIRST } from './collection-layout.js';
import { bytesEqual, elem, packedSize, readForward, writeElement } from './packed.js';

/** Payload bytes of an empty listpack hash (the count). */
export const LP_EMPTY_BYTES = LP_FIRST;

/** The pair count. */
export function lpHashCount(s: SlotTables, e: number): number {
  return s.u32[(s.collectionStart(e) + LP_COUNT) >>> 2];
}

/** Offset just past the last element. */
export function lpPayloadEnd(s: SlotTables, e: number): number {
  return s.valueStart(e) + s.u32[(e + E_VALLEN) >>> 2];
}

/**
 * lpFind over the fields only (skipping values): the offset of the field's
 * element header, or -1. `elem` is left on the last element read.
 */
export function lpHashFind(s: SlotTables, e: number, src: Uint8Array, start: number, len: number): number {
  const u8 = s.u8;
  const v = s.collectionStart(e);
  const n = s.u32[(v + LP_COUNT) >>> 2];
  let p = v + LP_FIRST;
  for (let i = 0; i < n; i++) {
    const next = readForward(u8, p);
    if (elem.len === len && bytesEqual(u8, elem.start, src, start, len)) return p;
    // Skip the value.
    p = readForward(u8, next);
  }
  return -1;
}

/** Where the value of the field whose header is at `fieldPos` starts (its header); sets `elem` to the value. */
export function lpValueAt(u8: Uint8Array, fieldPos: number): number {
  const vp = readForward(u8, fieldPos);
  readForward(u8, vp);
  return vp;
}

/**
 * Makes room for `delta` more bytes (negative: fewer) at `at` (an offset
 * relative to the payload start, 0 = the count), moving what follows;
 * returns the entry. `db` and the shard's link must be those of the key.
 */
function spliceBytes(s: SlotTables, db: number, e: number, at: number, delta: number): number {
  const pad = s.collectionPadOf(e);
  const oldLen = s.u32[(e + E_VALLEN) >>> 2];
  const payload = oldLen - pad;
  if (delta > 0) {
    e = s.resizeValue(db, e, oldLen + delta, oldLen, false);
    const v = s.collectionStart(e);
    s.u8.copyWithin(v + at + delta, v + at, v + payload);
  } else if (delta < 0) {
    const v = s.collectionStart(e);
    s.u8.copyWithin(v + at, v + at - delta, v + payload);
    e = s.resizeValue(db, e, oldLen + delta, oldLen + delta, false);
  }
  return e;
}

/**
 * lpReplace of the value of the field at `fieldPos` with `src[start, start+len)`
 * (which must not lie in this shard's arena); returns the entry.
 */
export function lpHashReplaceValue(
  s: SlotTables, db: number, e: number, fieldPos: number, src: Uint8Array, start: number, len: number,
): number {
  const vp = lpValueAt(s.u8, fieldPos);
  const oldSize = packedSize(elem.len);
  const rel = vp - s.collectionStart(e);
  const newSize = packedSize(len);
  // Open (or close) the size difference at the end of the shorter form, then write over it.
  e = spliceBytes(s, db, e, rel + Math.min(oldSize, newSize), newSize - oldSize);
  writeElement(s.u8, s.collectionStart(e) + rel, src, start, len);
  return e;
}

/** lpAppend of a field and its value (neither in this shard's arena); returns the entry. */
export function lpHashAppend(
  s: SlotTables, db: number, e: number,
  f: Uint8Array, fs: number, fl: number, val: Uint8Array, vs: number, vl: number,
): number {
  const payload = s.collectionBytes(e);
  e = spliceBytes(s, db, e, payload, packedSize(fl) + packedSize(vl));
  const v = s.collectionStart(e);
  const u8 = s.u8;
  const p = writeElement(u8, v + payload, f, fs, fl);
  writeElement(u8, p, val, vs, vl);
  s.u32[(v + LP_COUNT) >>> 2]++;
  return e;
}

/** Removes the field at `fieldPos` and its value (lpDeleteRange); returns the entry. */
export function lpHashDeleteAt(s: SlotTables, db: number, e: number, fieldPos: number): number {
  const u8 = s.u8;
  const after = readForward(u8, readForward(u8, fieldPos));
  const v = s.collectionStart(e);
  const rel = fieldPos - v;
  e = spliceBytes(s, db, e, rel, -(after - fieldPos));
  s.u32[(s.collectionStart(e) + LP_COUNT) >>> 2]--;
  return e;
}

/**
 * Writes a new listpack hash holding one pair into a freshly inserted entry
 * whose value has room for pad + payload bytes (see lpNewHashBytes).
 */
export function lpHashInit(
  s: SlotTables, e: number, f: Uint8Array, fs: number, fl: number, val: Uint8Array, vs: number, vl: number,
): void {
  const v = s.collectionStart(e);
  s.u32[(v + LP_COUNT) >>> 2] = 1;
  const p = writeElement(s.u8, v + LP_FIRST, f, fs, fl);
  writeElement(s.u8, p, val, vs, vl);
}

/** Payload bytes of a listpack hash with one pair of these lengths. */
export function lpNewHashBytes(fl: number, vl: number): number {
  return LP_EMPTY_BYTES + packedSize(fl) + packedSize(vl);
}

/**
 * Offsets of every field's header, in order, into `into` (grown when too
 * small); returns the array used. For random picks by index.
 */
export function lpHashIndex(s: SlotTables, e: number, into: Int32Array): Int32Array {
  const u8 = s.u8;
  const v = s.collectionStart(e);
  const n = s.u32[(v + LP_COUNT) >>> 2];
  const out = into.length >= n ? into : new Int32Array(Math.max(n, into.length * 2));
  let p = v + LP_FIRST;
  for (let i = 0; i < n; i++) {
    out[i] = p;
    p = readForward(u8, readForward(u8, p));
  }
  return out;
}
