/**
 * Set values in a shard: Redis's t_set.c setType* layer (setTypeCreate,
 * setTypeAdd, setTypeRemove, setTypeIsMember, setTypeSize, setTypeConvert,
 * setTypeRandomElement and the set iterator) over the two 7.0 encodings:
 * an intset kept inline in the key's entry (intset.ts), and a hash table of
 * member blocks in the arena (arena-dict.ts; set entries have no value
 * bytes and aux 0).
 *
 * Encoding rules (data-types.md §1): a set is an intset while every member
 * is a canonical int64 (string2ll: no '+', no leading zero, not "-0") and
 * there are at most set-max-intset-entries of them; the first other member
 * converts it to a hashtable for good (removals never convert back).
 *
 * `SetBuilder` is the temporary set Redis builds for SUNION/SDIFF, the
 * *STORE commands and SPOP's "keep the rest" path: members outside the
 * arena, with the encoding Redis's dstset would end up with, so that the
 * stored value and the reply order match Redis's.
 *
 * Every function takes the entry found by the key's last lookup (resizes
 * rely on the shard's `link`) and returns the entry again when it may move.
 * A member is given as bytes (src, start, len); members read back are
 * published in `member` (allocation free; the bytes are valid until the next
 * call that reads a member or changes the set).
 */
import type { Shard } from './shard.js';
import { E_ENCODING, E_VALLEN } from './layout.js';
import { CollectionEncoding } from './collection-layout.js';
import {
  INTSET_HEADER_BYTES, intsetAdd, intsetBytes, intsetBytesAfterAdd, intsetCount, intsetFind, intsetFormat, intsetInit,
  intsetInsertAt, intsetRemoveAt, intsetWidthFor, intValue, int64FromBigInt, parseCanonicalInt64, INTSET_WIDTH_16,
} from './intset.js';
import {
  DE_HASH, DE_KEY, DE_KEYLEN, DICT_HEADER_BYTES, dictAdd, dictFind, dictForEach, dictInit, dictRandom, dictSize,
  dictUnlink, hashOf,
} from './arena-dict.js';

/** Room for the decimal text of any int64 ("-9223372036854775808"). */
const INT_TEXT_BYTES = 20;

/** The member read last (setMemberAt, setForEach): `len` bytes of `src` from `start`. */
export const member: { src: Uint8Array; start: number; len: number } = { src: new Uint8Array(0), start: 0, len: 0 };

/** Whether the last setAdd / setRemove changed the set. */
export const setChange = { changed: false };

/** Decimal text of intset members read by setMemberAt. */
const memberText = new Uint8Array(INT_TEXT_BYTES);
/** Decimal text of intset members visited by setForEach (kept apart so a visitor may call setMemberAt). */
const iterText = new Uint8Array(INT_TEXT_BYTES);

export function isIntset(s: Shard, e: number): boolean {
  return s.u8[e + E_ENCODING] === CollectionEncoding.Intset;
}

/** setTypeSize: SCARD. */
export function setSize(s: Shard, e: number): number {
  const v = s.collectionStart(e);
  return isIntset(s, e) ? intsetCount(s.u8, v) : dictSize(s, v);
}

/** Value bytes (after the padding) of a new, empty set of either encoding. */
export function emptySetBytes(asIntset: boolean): number {
  return asIntset ? INTSET_HEADER_BYTES : DICT_HEADER_BYTES;
}

/**
 * Writes an empty set into a new entry whose value region holds
 * `valueLength` bytes (padding included): setTypeCreate's intset or dict.
 */
export function initSetValue(s: Shard, e: number, valueLength: number, asIntset: boolean): void {
  s.u32[(e + E_VALLEN) >>> 2] = valueLength;
  s.u8[e + E_ENCODING] = asIntset ? CollectionEncoding.Intset : CollectionEncoding.Hashtable;
  const v = s.collectionStart(e);
  if (asIntset) intsetInit(s.u8, v);
  else dictInit(s, v);
}

/** setTypeCreate's choice for a set whose first member is these bytes. */
export function startsAsIntset(src: Uint8Array, start: number, len: number, maxIntset: number): boolean {
  return maxIntset > 0 && parseCanonicalInt64(src, start, len);
}

/** setTypeIsMember. */
export function setIsMember(s: Shard, e: number, src: Uint8Array, start: number, len: number): boolean {
  const v = s.collectionStart(e);
  if (isIntset(s, e)) return parseCanonicalInt64(src, start, len) && intsetFind(s.u8, v, intValue.hi, intValue.lo) >= 0;
  return dictFind(s, v, src, start, len, hashOf(src, start, len)) !== 0;
}

/**
 * setTypeConvert(OBJ_ENCODING_HT): rewrites an intset as a hash table of
 * the members' decimal texts. Returns the (possibly moved) entry.
 */
export function setConvertToHashtable(s: Shard, db: number, e: number): number {
  let v = s.collectionStart(e);
  const pad = v - s.valueStart(e);
  const count = intsetCount(s.u8, v);
  // Conversions happen once per key: a copy of the integers is fine.
  const ints = s.u8.slice(v, v + intsetBytes(s.u8, v));
  e = s.resizeValue(db, e, pad + DICT_HEADER_BYTES, 0, false);
  s.u8[e + E_ENCODING] = CollectionEncoding.Hashtable;
  v = s.collectionStart(e);
  dictInit(s, v);
  for (let i = 0; i < count; i++) {
    const len = intsetFormat(ints, 0, i, memberText, 0);
    dictAdd(s, v, memberText, 0, len, hashOf(memberText, 0, len), 0, 0);
  }
  return e;
}

/**
 * setTypeAdd: adds the member unless present (setChange.changed says which),
 * converting an intset when the member is not a canonical integer or the
 * count would pass `maxIntset`. Returns the (possibly moved) entry.
 */
export function setAdd(s: Shard, db: number, e: number, src: Uint8Array, start: number, len: number, maxIntset: number): number {
  if (isIntset(s, e)) {
    if (parseCanonicalInt64(src, start, len)) {
      const hi = intValue.hi;
      const lo = intValue.lo;
      let v = s.collectionStart(e);
      if (intsetFind(s.u8, v, hi, lo) >= 0) {
        setChange.changed = false;
        return e;
      }
      if (intsetCount(s.u8, v) < maxIntset) {
        const pad = v - s.valueStart(e);
        const old = intsetBytes(s.u8, v);
        e = s.resizeValue(db, e, pad + intsetBytesAfterAdd(s.u8, v, hi, lo), pad + old, false);
        v = s.collectionStart(e);
        intsetAdd(s.u8, v, hi, lo);
        setChange.changed = true;
        return e;
      }
    }
    e = setConvertToHashtable(s, db, e);
  }
  const v = s.collectionStart(e);
  const hash = hashOf(src, start, len);
  if (dictFind(s, v, src, start, len, hash) !== 0) {
    setChange.changed = false;
    return e;
  }
  dictAdd(s, v, src, start, len, hash, 0, 0);
  setChange.changed = true;
  return e;
}

/** Shrinks the entry to an intset's current size. */
function fitIntset(s: Shard, db: number, e: number): number {
  const v = s.collectionStart(e);
  const pad = v - s.valueStart(e);
  const bytes = pad + intsetBytes(s.u8, v);
  return s.resizeValue(db, e, bytes, bytes, false);
}

/** setTypeRemove: setChange.changed says whether the member was there. Returns the (possibly moved) entry. */
export function setRemove(s: Shard, db: number, e: number, src: Uint8Array, start: number, len: number): number {
  const v = s.collectionStart(e);
  setChange.changed = false;
  if (isIntset(s, e)) {
    if (!parseCanonicalInt64(src, start, len)) return e;
    const i = intsetFind(s.u8, v, intValue.hi, intValue.lo);
    if (i < 0) return e;
    intsetRemoveAt(s.u8, v, i);
    setChange.changed = true;
    return fitIntset(s, db, e);
  }
  const de = dictFind(s, v, src, start, len, hashOf(src, start, len));
  if (de === 0) return e;
  dictUnlink(s, v, de);
  s.free(de, DE_KEY + s.u32[(de + DE_KEYLEN) >>> 2]);
  setChange.changed = true;
  return e;
}

/**
 * A reference to one member, for setMemberAt / setRemoveRef: the index in
 * an intset, the entry block in a hash table. Valid while the set is unchanged.
 */
export function setRandomRef(s: Shard, e: number, random: () => number = Math.random): number {
  const v = s.collectionStart(e);
  // intsetRandom picks an index uniformly; a hash table uses dictGetFairRandomKey.
  if (isIntset(s, e)) return Math.floor(random() * intsetCount(s.u8, v));
  return dictRandom(s, v, random);
}

/** Publishes the member behind a reference in `member`. */
export function setMemberAt(s: Shard, e: number, ref: number): void {
  if (isIntset(s, e)) {
    member.src = memberText;
    member.start = 0;
    member.len = intsetFormat(s.u8, s.collectionStart(e), ref, memberText, 0);
  } else {
    member.src = s.u8;
    member.start = ref + DE_KEY;
    member.len = s.u32[(ref + DE_KEYLEN) >>> 2];
  }
}

/** Removes the member behind a reference (SPOP). Returns the (possibly moved) entry. */
export function setRemoveRef(s: Shard, db: number, e: number, ref: number): number {
  const v = s.collectionStart(e);
  if (isIntset(s, e)) {
    intsetRemoveAt(s.u8, v, ref);
    return fitIntset(s, db, e);
  }
  const kl = s.u32[(ref + DE_KEYLEN) >>> 2];
  // dictFind sets the link to the entry that dictUnlink needs.
  dictFind(s, v, s.u8, ref + DE_KEY, kl, s.u32[(ref + DE_HASH) >>> 2]);
  dictUnlink(s, v, ref);
  s.free(ref, DE_KEY + kl);
  return e;
}

/**
 * The set iterator: calls visit(src, start, len, ref) for each member in
 * the encoding's natural order (an intset ascending, a hash table in bucket
 * order) until it returns true. The visitor must not change this set.
 */
export function setForEach(s: Shard, e: number, visit: (src: Uint8Array, start: number, len: number, ref: number) => boolean | void): void {
  const v = s.collectionStart(e);
  if (isIntset(s, e)) {
    const n = intsetCount(s.u8, v);
    for (let i = 0; i < n; i++) {
      const len = intsetFormat(s.u8, v, i, iterText, 0);
      if (visit(iterText, 0, len, i) === true) return;
    }
    return;
  }
  let stopped = false;
  dictForEach(s, v, (de) => {
    if (!stopped && visit(s.u8, de + DE_KEY, s.u32[(de + DE_KEYLEN) >>> 2], de) === true) stopped = true;
  });
}

// ---- sets built outside the arena ----

const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

/** A member's bytes as a latin1 string (one char per byte: a faithful key for JS maps). */
export function memberKey(src: Uint8Array, start: number, len: number): string {
  return latin1Slice.call(src, start, start + len);
}

/**
 * A set under construction: Redis's temporary dstset (createIntsetObject
 * plus setTypeAdd / setTypeRemove). `intset` follows the encoding Redis's
 * object would have: it turns false for good at the first non-integer
 * member or when the count passes the limit.
 */
export class SetBuilder {
  readonly members = new Set<string>();
  intset: boolean;
  private sorted: bigint[] | null = null;

  constructor(private readonly maxIntset: number) {
    this.intset = maxIntset > 0;
  }

  get size(): number {
    return this.members.size;
  }

  add(src: Uint8Array, start: number, len: number): boolean {
    const key = memberKey(src, start, len);
    if (this.members.has(key)) return false;
    if (this.intset && !parseCanonicalInt64(src, start, len)) this.intset = false;
    this.members.add(key);
    if (this.members.size > this.maxIntset) this.intset = false;
    this.sorted = null;
    return true;
  }

  remove(src: Uint8Array, start: number, len: number): boolean {
    this.sorted = null;
    return this.members.delete(memberKey(src, start, len));
  }

  /** The members of an intset-encoded result, ascending (its natural order). */
  sortedInts(): bigint[] {
    if (this.sorted === null) {
      this.sorted = [...this.members].map((m) => BigInt(m)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    }
    return this.sorted;
  }

  /** The members in the order Redis's object would list them (hash order is insertion order here). */
  ordered(): Iterable<string> {
    return this.intset ? this.sortedInts().map((n) => n.toString()) : this.members;
  }

  /** Value bytes (after the padding) the set takes once written. */
  valueBytes(): number {
    if (!this.intset) return DICT_HEADER_BYTES;
    const ints = this.sortedInts();
    return INTSET_HEADER_BYTES + ints.length * intWidth(ints);
  }
}

/** The intset width that holds every value (the values are sorted: the ends decide). */
function intWidth(ints: bigint[]): number {
  if (ints.length === 0) return INTSET_WIDTH_16;
  int64FromBigInt(ints[0]);
  const low = intsetWidthFor(intValue.hi, intValue.lo);
  int64FromBigInt(ints[ints.length - 1]);
  return Math.max(low, intsetWidthFor(intValue.hi, intValue.lo));
}

/** Scratch bytes for writing built members into the arena. */
let scratch = Buffer.allocUnsafe(256);

/** A latin1 member key back as bytes in the scratch buffer; returns the length. */
export function keyBytes(key: string): Buffer {
  if (key.length > scratch.length) scratch = Buffer.allocUnsafe(Math.max(key.length, scratch.length * 2));
  scratch.write(key, 0, 'latin1');
  return scratch;
}

/**
 * Writes a built set as the value of a new (or emptied) entry whose value
 * region holds `valueLength` = padding + b.valueBytes() bytes.
 */
export function writeBuiltSet(s: Shard, e: number, valueLength: number, b: SetBuilder): void {
  initSetValue(s, e, valueLength, b.intset);
  const v = s.collectionStart(e);
  if (b.intset) {
    const ints = b.sortedInts();
    intsetInit(s.u8, v, intWidth(ints));
    for (let i = 0; i < ints.length; i++) {
      int64FromBigInt(ints[i]);
      intsetInsertAt(s.u8, v, i, intValue.hi, intValue.lo);
    }
    return;
  }
  for (const key of b.members) {
    const bytes = keyBytes(key);
    dictAdd(s, v, bytes, 0, key.length, hashOf(bytes, 0, key.length), 0, 0);
  }
}
