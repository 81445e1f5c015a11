/**
 * Redis's intset (intset.c) kept inline in a byte region of a shard arena:
 * a sorted array of distinct int64 values stored at the narrowest width
 * that holds them all (2, 4 or 8 bytes), widened in place when a wider
 * value arrives and never narrowed (intsetUpgradeAndAdd; intsetRemove does
 * not downgrade). Lookups are binary searches (intsetSearch), with Redis's
 * shortcut that a value wider than the set's width is not a member and goes
 * at either end.
 *
 * Layout at byte offset `p` (not necessarily aligned, so every access is
 * byte-wise little-endian): u32 count, u32 width, then `count` signed
 * integers of `width` bytes, ascending. Total 8 + count * width bytes.
 * (Redis's own blob, as DUMP writes it, puts the width first.)
 *
 * An int64 travels as two numbers: `hi`, the signed upper 32 bits, and `lo`,
 * the unsigned lower 32 bits, so the whole range is exact without BigInt;
 * ordering is (hi signed, then lo unsigned). Results come back in the
 * module-level holder `intValue`, so nothing here allocates. The functions
 * take the arena's current `u8` view explicitly: it is replaced when the
 * arena grows, and none of them grows it.
 */
import { IS_COUNT, IS_FIRST, IS_WIDTH } from './collection-layout.js';

export const INTSET_HEADER_BYTES = IS_FIRST;
export const INTSET_WIDTH_16 = 2;
export const INTSET_WIDTH_32 = 4;
export const INTSET_WIDTH_64 = 8;

const TWO_32 = 4294967296;
const INT16_MIN = -32768;
const INT16_MAX = 32767;
const UINT32_SIGN = 0x80000000;
/** Integers below this magnitude are exact as doubles, and so are sums that land below it. */
const EXACT_LIMIT = 2 ** 53;
/** string2ll refuses longer texts (LONG_STR_SIZE 21, minus the terminator). */
const MAX_INT64_CHARS = 20;
/** Decimal digits that accumulate exactly in a double (10^15 < 2^53). */
const EXACT_DIGITS = 15;
const CH_0 = 48;
const CH_1 = 49;
const CH_9 = 57;
const CH_MINUS = 45;
/** Room for "-9223372036854775808". */
const MAX_DECIMAL_BYTES = 20;

/** The last value parsed or read: upper 32 bits signed, lower 32 bits unsigned. */
export const intValue = { hi: 0, lo: 0 };

/** Scratch digits for formatting (written back to front). */
const digitScratch = new Uint8Array(MAX_DECIMAL_BYTES);

// ---- int64 helpers ----

/** Compares two int64s given as (hi, lo): negative, zero or positive. */
export function int64Compare(ahi: number, alo: number, bhi: number, blo: number): number {
  if (ahi !== bhi) return ahi < bhi ? -1 : 1;
  return alo === blo ? 0 : alo < blo ? -1 : 1;
}

/** The double nearest the int64 (exact when |v| <= 2^53). */
export function int64ToNumber(hi: number, lo: number): number {
  return hi * TWO_32 + lo;
}

/** Sets `intValue` from an integral double within the int64 range. */
export function int64FromNumber(v: number): void {
  const hi = Math.floor(v / TWO_32);
  intValue.hi = hi | 0;
  intValue.lo = (v - hi * TWO_32) >>> 0;
}

/** The int64 as a bigint (slow path, allocates). */
export function int64ToBigInt(hi: number, lo: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Sets `intValue` from a bigint within the int64 range (slow path). */
export function int64FromBigInt(v: bigint): void {
  intValue.hi = Number(BigInt.asIntN(32, v >> 32n));
  intValue.lo = Number(BigInt.asUintN(32, v));
}

/** Redis's _intsetValueEncoding: the narrowest width that holds the value. */
export function intsetWidthFor(hi: number, lo: number): number {
  if (hi === 0) {
    if (lo <= INT16_MAX) return INTSET_WIDTH_16;
    return lo < UINT32_SIGN ? INTSET_WIDTH_32 : INTSET_WIDTH_64;
  }
  if (hi === -1) {
    if (lo >= TWO_32 + INT16_MIN) return INTSET_WIDTH_16;
    return lo >= UINT32_SIGN ? INTSET_WIDTH_32 : INTSET_WIDTH_64;
  }
  return INTSET_WIDTH_64;
}

// ---- parsing ----

/**
 * Redis's string2ll as setTypeAdd uses it to decide intset membership: an
 * optional '-', then digits with no leading zero ("0" alone is fine), at
 * most 20 characters, within the int64 range. No '+', no spaces, no "-0".
 * The value goes to `intValue`; returns whether the text qualifies.
 */
export function parseCanonicalInt64(src: Uint8Array, start: number, len: number): boolean {
  if (len <= 0 || len > MAX_INT64_CHARS) return false;
  if (len === 1 && src[start] === CH_0) {
    intValue.hi = 0;
    intValue.lo = 0;
    return true;
  }
  const end = start + len;
  let i = start;
  const negative = src[i] === CH_MINUS;
  if (negative) i++;
  if (i === end || src[i] < CH_1 || src[i] > CH_9) return false;
  const digits = end - i;
  if (digits <= EXACT_DIGITS) return parseSmall(src, i, end, negative);
  // Magnitude as mhi * 2^32 + mlo, times ten plus a digit at a time: every
  // intermediate stays below 2^53, so the doubles are exact.
  let mhi = 0;
  let mlo = 0;
  for (; i < end; i++) {
    const d = src[i] - CH_0;
    if (d < 0 || d > 9) return false;
    const t = mlo * 10 + d;
    const carry = Math.floor(t / TWO_32);
    mlo = t - carry * TWO_32;
    mhi = mhi * 10 + carry;
    if (mhi > UINT32_SIGN) return false;
  }
  if (!negative) {
    if (mhi >= UINT32_SIGN) return false;
    intValue.hi = mhi;
    intValue.lo = mlo;
    return true;
  }
  if (mhi === UINT32_SIGN && mlo !== 0) return false;
  negateMagnitude(mhi, mlo);
  return true;
}

function parseSmall(src: Uint8Array, i: number, end: number, negative: boolean): boolean {
  let v = 0;
  for (; i < end; i++) {
    const d = src[i] - CH_0;
    if (d < 0 || d > 9) return false;
    v = v * 10 + d;
  }
  int64FromNumber(negative ? -v : v);
  return true;
}

/** Sets `intValue` to -(mhi * 2^32 + mlo), for a magnitude up to 2^63. */
function negateMagnitude(mhi: number, mlo: number): void {
  intValue.lo = mlo === 0 ? 0 : (TWO_32 - mlo) >>> 0;
  intValue.hi = (-mhi - (mlo === 0 ? 0 : 1)) | 0;
}

// ---- element access ----

/** Elements in the set. */
export function intsetCount(u8: Uint8Array, p: number): number {
  return readU32(u8, p + IS_COUNT);
}

/** Bytes per element: 2, 4 or 8. */
export function intsetWidth(u8: Uint8Array, p: number): number {
  return readU32(u8, p + IS_WIDTH);
}

/** Bytes the set takes now. */
export function intsetBytes(u8: Uint8Array, p: number): number {
  return INTSET_HEADER_BYTES + intsetCount(u8, p) * intsetWidth(u8, p);
}

/** Bytes a set of `count` elements of `width` bytes takes. */
export function intsetBytesFor(count: number, width: number): number {
  return INTSET_HEADER_BYTES + count * width;
}

/** Writes an empty set (intsetNew: 16-bit width unless told otherwise). */
export function intsetInit(u8: Uint8Array, p: number, width = INTSET_WIDTH_16): void {
  writeU32(u8, p + IS_COUNT, 0);
  writeU32(u8, p + IS_WIDTH, width);
}

function readU32(u8: Uint8Array, at: number): number {
  return (u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16) | (u8[at + 3] << 24)) >>> 0;
}

function writeU32(u8: Uint8Array, at: number, v: number): void {
  u8[at] = v;
  u8[at + 1] = v >>> 8;
  u8[at + 2] = v >>> 16;
  u8[at + 3] = v >>> 24;
}

/** Reads the element at byte `at` of `width` bytes into `intValue`. */
function readAt(u8: Uint8Array, at: number, width: number): void {
  if (width === INTSET_WIDTH_64) {
    intValue.lo = readU32(u8, at);
    intValue.hi = u8[at + 4] | (u8[at + 5] << 8) | (u8[at + 6] << 16) | (u8[at + 7] << 24);
    return;
  }
  const v =
    width === INTSET_WIDTH_16
      ? ((u8[at] | (u8[at + 1] << 8)) << 16) >> 16
      : u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16) | (u8[at + 3] << 24);
  intValue.hi = v >> 31;
  intValue.lo = v >>> 0;
}

/** Writes (hi, lo) at byte `at` as `width` bytes (truncating to that width). */
function writeAt(u8: Uint8Array, at: number, width: number, hi: number, lo: number): void {
  u8[at] = lo;
  u8[at + 1] = lo >>> 8;
  if (width === INTSET_WIDTH_16) return;
  u8[at + 2] = lo >>> 16;
  u8[at + 3] = lo >>> 24;
  if (width === INTSET_WIDTH_32) return;
  writeU32(u8, at + 4, hi);
}

/** The element at `index` (intsetGet) into `intValue`. */
export function intsetGet(u8: Uint8Array, p: number, index: number): void {
  const width = intsetWidth(u8, p);
  readAt(u8, p + INTSET_HEADER_BYTES + index * width, width);
}

/** The element at `index` as a number, or null when a double cannot hold it exactly. */
export function intsetGetNumber(u8: Uint8Array, p: number, index: number): number | null {
  intsetGet(u8, p, index);
  const { hi, lo } = intValue;
  const v = hi * TWO_32 + lo;
  // Strictly inside 2^53 the sum is exact (a true value of 2^53 + 1 rounds to 2^53).
  if (v < EXACT_LIMIT && v > -EXACT_LIMIT) return v;
  // Further out the sum may have rounded: it is exact when it splits back.
  const back = Math.floor(v / TWO_32);
  return back === hi && v - back * TWO_32 === lo ? v : null;
}

// ---- search ----

/**
 * intsetSearch: the element's index when present, else -(insert position) - 1.
 * A value wider than the set's width is outside its range: it would go first
 * if negative, last otherwise.
 */
export function intsetSearch(u8: Uint8Array, p: number, hi: number, lo: number): number {
  const count = intsetCount(u8, p);
  const width = intsetWidth(u8, p);
  if (count === 0) return -1;
  if (intsetWidthFor(hi, lo) > width) return hi < 0 ? -1 : -count - 1;
  const base = p + INTSET_HEADER_BYTES;
  // The ends first, as Redis does: appends of ascending values are common.
  readAt(u8, base + (count - 1) * width, width);
  const vsLast = int64Compare(hi, lo, intValue.hi, intValue.lo);
  if (vsLast >= 0) return vsLast === 0 ? count - 1 : -count - 1;
  readAt(u8, base, width);
  const vsFirst = int64Compare(hi, lo, intValue.hi, intValue.lo);
  if (vsFirst <= 0) return vsFirst === 0 ? 0 : -1;
  let min = 0;
  let max = count - 1;
  while (min <= max) {
    const mid = (min + max) >>> 1;
    readAt(u8, base + mid * width, width);
    const c = int64Compare(hi, lo, intValue.hi, intValue.lo);
    if (c === 0) return mid;
    if (c > 0) min = mid + 1;
    else max = mid - 1;
  }
  return -min - 1;
}

/** intsetFind: the element's index, or -1. */
export function intsetFind(u8: Uint8Array, p: number, hi: number, lo: number): number {
  const i = intsetSearch(u8, p, hi, lo);
  return i >= 0 ? i : -1;
}

// ---- changes (the caller sizes the region first) ----

/**
 * Bytes the set needs to take the value as one more element, widening if
 * the value needs it. The caller checks membership first (an element already
 * present changes nothing), grows the region to this size, then adds.
 */
export function intsetBytesAfterAdd(u8: Uint8Array, p: number, hi: number, lo: number): number {
  const width = Math.max(intsetWidth(u8, p), intsetWidthFor(hi, lo));
  return INTSET_HEADER_BYTES + (intsetCount(u8, p) + 1) * width;
}

/**
 * Inserts at `pos` (from intsetSearch), shifting the tail (intsetMoveTail).
 * The value must fit the current width, and the region must have room for
 * one more element at that width.
 */
export function intsetInsertAt(u8: Uint8Array, p: number, pos: number, hi: number, lo: number): void {
  const count = intsetCount(u8, p);
  const width = intsetWidth(u8, p);
  if (intsetWidthFor(hi, lo) > width) throw new RangeError('intset: value wider than the set');
  const at = p + INTSET_HEADER_BYTES + pos * width;
  if (pos < count) u8.copyWithin(at + width, at, p + INTSET_HEADER_BYTES + count * width);
  writeAt(u8, at, width, hi, lo);
  writeU32(u8, p + IS_COUNT, count + 1);
}

/**
 * intsetUpgradeAndAdd's widening: rewrites every element at `newWidth`, back
 * to front so none is overwritten before it is read. The region must hold
 * 8 + count * newWidth bytes.
 */
export function intsetUpgrade(u8: Uint8Array, p: number, newWidth: number): void {
  const width = intsetWidth(u8, p);
  if (newWidth <= width) return;
  const base = p + INTSET_HEADER_BYTES;
  for (let i = intsetCount(u8, p) - 1; i >= 0; i--) {
    readAt(u8, base + i * width, width);
    writeAt(u8, base + i * newWidth, newWidth, intValue.hi, intValue.lo);
  }
  writeU32(u8, p + IS_WIDTH, newWidth);
}

/**
 * intsetAdd: widens when needed and inserts in order. The region must hold
 * intsetBytesAfterAdd bytes. Returns false (and changes nothing) when the
 * value is already there.
 */
export function intsetAdd(u8: Uint8Array, p: number, hi: number, lo: number): boolean {
  const needed = intsetWidthFor(hi, lo);
  if (needed > intsetWidth(u8, p)) {
    // A wider value is new and goes at one end (intsetUpgradeAndAdd).
    const count = intsetCount(u8, p);
    intsetUpgrade(u8, p, needed);
    intsetInsertAt(u8, p, hi < 0 ? 0 : count, hi, lo);
    return true;
  }
  const i = intsetSearch(u8, p, hi, lo);
  if (i >= 0) return false;
  intsetInsertAt(u8, p, -i - 1, hi, lo);
  return true;
}

/** intsetRemove's move: deletes the element at `index`; returns the new byte size (the width stays). */
export function intsetRemoveAt(u8: Uint8Array, p: number, index: number): number {
  const count = intsetCount(u8, p);
  const width = intsetWidth(u8, p);
  const at = p + INTSET_HEADER_BYTES + index * width;
  const end = p + INTSET_HEADER_BYTES + count * width;
  if (at + width < end) u8.copyWithin(at, at + width, end);
  writeU32(u8, p + IS_COUNT, count - 1);
  return INTSET_HEADER_BYTES + (count - 1) * width;
}

// ---- formatting ----

/** Writes the int64's decimal text (ll2string) at out[outPos]; returns its length. */
export function writeInt64Decimal(hi: number, lo: number, out: Uint8Array, outPos: number): number {
  let n = MAX_DECIMAL_BYTES;
  const negative = hi < 0;
  const v = hi * TWO_32 + lo;
  if (v < EXACT_LIMIT && v > -EXACT_LIMIT) {
    let m = negative ? -v : v;
    do {
      const q = Math.floor(m / 10);
      digitScratch[--n] = CH_0 + (m - q * 10);
      m = q;
    } while (m !== 0);
  } else {
    // Long division of the magnitude (mhi * 2^32 + mlo) by ten.
    let mhi = hi;
    let mlo = lo;
    if (negative) {
      mhi = -hi - (lo === 0 ? 0 : 1);
      mlo = lo === 0 ? 0 : TWO_32 - lo;
    }
    while (mhi !== 0 || mlo !== 0) {
      const qhi = Math.floor(mhi / 10);
      const t = (mhi - qhi * 10) * TWO_32 + mlo;
      const qlo = Math.floor(t / 10);
      digitScratch[--n] = CH_0 + (t - qlo * 10);
      mhi = qhi;
      mlo = qlo;
    }
  }
  if (negative) digitScratch[--n] = CH_MINUS;
  const len = MAX_DECIMAL_BYTES - n;
  for (let k = 0; k < len; k++) out[outPos + k] = digitScratch[n + k];
  return len;
}

/** Writes the element at `index` as decimal text at out[outPos] (at most 20 bytes); returns its length. */
export function intsetFormat(u8: Uint8Array, p: number, index: number, out: Uint8Array, outPos: number): number {
  intsetGet(u8, p, index);
  return writeInt64Decimal(intValue.hi, intValue.lo, out, outPos);
}
