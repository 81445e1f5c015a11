/**
 * A hash value whatever its encoding (Redis's t_hash.c hashType* functions:
 * hashTypeGetValue, hashTypeExists, hashTypeSet, hashTypeDelete,
 * hashTypeLength, hashTypeConvertListpack, the hash iterator).
 *
 * Listpack hashes live in the entry (hash-listpack.ts); hashtable hashes
 * keep an arena-dict header there, whose entries hold the field, then the
 * value, with `aux` = the value's length (collections.ts frees and
 * flattens them by that convention).
 *
 * Conversion is one way, listpack → hashtable, when a field or value is
 * longer than hash-max-listpack-value or the pair count passes
 * hash-max-listpack-entries (the caller passes both limits).
 *
 * Every function that may change the entry returns its (possibly moved)
 * offset; they rely on the shard's `link` from the last lookup of the key.
 * Sources given to them must not lie in the shard's arena.
 */
import type { SlotTables } from './slot-tables.js';
import { E_ENCODING, ValueType } from './layout.js';
import { checkedSizeClass } from './shard-arena.js';
import { sizeClassOf } from './size-classes.js';
import {
  DE_AUX, DE_KEY, DE_KEYLEN, DICT_HEADER_BYTES, dictAdd, dictFind, dictForEach, dictRelink, dictSize, dictUnlink, hashOf,
} from './arena-dict.js';
import { unflatten } from './collections.js';
import { elem, readForward } from './packed.js';
import {
  lpHashAppend, lpHashCount, lpHashDeleteAt, lpHashFind, lpHashReplaceValue, lpValueAt,
} from './hash-listpack.js';
import { CollectionEncoding, LP_COUNT, LP_FIRST } from './collection-layout.js';

/** Where the value found by hashGet lies in the shard's u8 view (valid until the next allocation). */
export const hashValue = { start: 0, len: 0 };

/** Set by hashSet / hashDelete. */
export const hashChange = {
  /** hashSet: the field existed (its value was replaced). */
  updated: false,
  /** hashDelete: the field was there and is gone. */
  deleted: false,
};

export function isListpack(s: SlotTables, e: number): boolean {
  return s.u8[e + E_ENCODING] === CollectionEncoding.Listpack;
}

/** hashTypeLength. */
export function hashLength(s: SlotTables, e: number): number {
  return isListpack(s, e) ? lpHashCount(s, e) : dictSize(s, s.collectionStart(e));
}

/** hashTypeGetValue: whether the field exists; its value is then at `hashValue`. */
export function hashGet(s: SlotTables, e: number, f: Uint8Array, fs: number, fl: number): boolean {
  if (isListpack(s, e)) {
    const p = lpHashFind(s, e, f, fs, fl);
    if (p < 0) return false;
    lpValueAt(s.u8, p);
    hashValue.start = elem.start;
    hashValue.len = elem.len;
    return true;
  }
  const de = dictFind(s, s.collectionStart(e), f, fs, fl, hashOf(f, fs, fl));
  if (de === 0) return false;
  hashValue.start = de + DE_KEY + fl;
  hashValue.len = s.u32[(de + DE_AUX) >>> 2];
  return true;
}

/**
 * hashTypeConvertListpack: rebuilds a listpack hash as a hashtable in the
 * same entry (resized to the dict header); returns the entry.
 */
export function hashConvert(s: SlotTables, db: number, e: number): number {
  const pad = s.collectionPadOf(e);
  const v0 = s.collectionStart(e);
  // The listpack payload is the flat form (collections.ts): copy it out, then rebuild.
  const flat = Buffer.from(s.u8.subarray(v0, v0 + s.collectionBytes(e)));
  e = s.resizeValue(db, e, pad + DICT_HEADER_BYTES, 0, false);
  s.u8[e + E_ENCODING] = CollectionEncoding.Hashtable;
  unflatten(s, ValueType.Hash, CollectionEncoding.Hashtable, s.collectionStart(e), flat, 0);
  return e;
}

/** Puts `val` as the value of an existing dict entry `de` (found by the last dictFind), relinking when its size class changes. */
function dictReplaceValue(s: SlotTables, de: number, fl: number, val: Uint8Array, vs: number, vl: number): void {
  const oldVl = s.u32[(de + DE_AUX) >>> 2];
  let target = de;
  if (sizeClassOf(DE_KEY + fl + oldVl) !== sizeClassOf(DE_KEY + fl + vl)) {
    target = s.allocClass(checkedSizeClass(DE_KEY + fl + vl));
    // next · hash · key length · aux · key: the link is rewritten by dictRelink.
    s.u8.copyWithin(target + 4, de + 4, de + DE_KEY + fl);
    dictRelink(s, de, target);
    s.free(de, DE_KEY + fl + oldVl);
  }
  s.u32[(target + DE_AUX) >>> 2] = vl;
  s.u8.set(val.subarray(vs, vs + vl), target + DE_KEY + fl);
}

/**
 * hashTypeSet: sets a field's value, converting the listpack first when a
 * length passes `maxValue` and after an insert when the count passes
 * `maxEntries`; hashChange.updated tells whether the field existed.
 * Returns the entry.
 */
export function hashSet(
  s: SlotTables, db: number, e: number,
  f: Uint8Array, fs: number, fl: number, val: Uint8Array, vs: number, vl: number,
  maxEntries: number, maxValue: number,
): number {
  if (isListpack(s, e) && (fl > maxValue || vl > maxValue)) e = hashConvert(s, db, e);
  if (isListpack(s, e)) {
    const p = lpHashFind(s, e, f, fs, fl);
    hashChange.updated = p >= 0;
    if (p >= 0) return lpHashReplaceValue(s, db, e, p, val, vs, vl);
    e = lpHashAppend(s, db, e, f, fs, fl, val, vs, vl);
    if (lpHashCount(s, e) > maxEntries) e = hashConvert(s, db, e);
    return e;
  }
  const h = s.collectionStart(e);
  const hash = hashOf(f, fs, fl);
  const de = dictFind(s, h, f, fs, fl, hash);
  hashChange.updated = de !== 0;
  if (de !== 0) {
    dictReplaceValue(s, de, fl, val, vs, vl);
  } else {
    const n = dictAdd(s, h, f, fs, fl, hash, vl, vl);
    s.u8.set(val.subarray(vs, vs + vl), n + DE_KEY + fl);
  }
  return e;
}

/** hashTypeDelete: hashChange.deleted tells whether the field was there. Returns the entry. */
export function hashDelete(s: SlotTables, db: number, e: number, f: Uint8Array, fs: number, fl: number): number {
  if (isListpack(s, e)) {
    const p = lpHashFind(s, e, f, fs, fl);
    hashChange.deleted = p >= 0;
    return p >= 0 ? lpHashDeleteAt(s, db, e, p) : e;
  }
  const h = s.collectionStart(e);
  const de = dictFind(s, h, f, fs, fl, hashOf(f, fs, fl));
  hashChange.deleted = de !== 0;
  if (de !== 0) {
    const size = DE_KEY + fl + s.u32[(de + DE_AUX) >>> 2];
    dictUnlink(s, h, de);
    s.free(de, size);
  }
  return e;
}

/**
 * Calls visit(fieldStart, fieldLength, valueStart, valueLength) for every
 * pair, in the encoding's order (offsets into s.u8; the visitor must not
 * allocate in the shard).
 */
export function hashForEach(
  s: SlotTables, e: number, visit: (fs: number, fl: number, vs: number, vl: number) => void,
): void {
  const v = s.collectionStart(e);
  if (isListpack(s, e)) {
    const u8 = s.u8;
    const n = s.u32[(v + LP_COUNT) >>> 2];
    let p = v + LP_FIRST;
    for (let i = 0; i < n; i++) {
      p = readForward(u8, p);
      const fs = elem.start;
      const fl = elem.len;
      p = readForward(u8, p);
      visit(fs, fl, elem.start, elem.len);
    }
    return;
  }
  const u32 = s.u32;
  dictForEach(s, v, (de) => {
    const kl = u32[(de + DE_KEYLEN) >>> 2];
    visit(de + DE_KEY, kl, de + DE_KEY + kl, u32[(de + DE_AUX) >>> 2]);
  });
}
