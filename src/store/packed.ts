/**
 * The packed element format shared by every compact collection encoding
 * (quicklist nodes, listpack hashes and sorted sets), as Redis's listpack
 * entries carry their length on both sides so a pack can be walked from
 * either end.
 *
 * Element: length header · bytes · length trailer. A length under 128 is
 * one byte on each side; a longer one is the byte 0x80 then a u32 (little
 * endian) in front, and the u32 then 0x80 behind. Reading backwards, a last
 * byte of 0x80 says "four length bytes before me", any other value is the
 * length itself.
 */

const LONG_LENGTH_TAG = 0x80;
const SHORT_LIMIT = 0x80;

/** Bytes an element of `len` bytes takes in a pack. */
export function packedSize(len: number): number {
  return len < SHORT_LIMIT ? len + 2 : len + 10;
}

/** Where the last element read starts and how long it is (set by the readers below, allocation free). */
export const elem = { start: 0, len: 0 };

/** Reads the element whose header is at `p`; sets `elem`; returns the offset just past it. */
export function readForward(u8: Uint8Array, p: number): number {
  const b = u8[p];
  if (b < SHORT_LIMIT) {
    elem.start = p + 1;
    elem.len = b;
    return p + 2 + b;
  }
  const len = (u8[p + 1] | (u8[p + 2] << 8) | (u8[p + 3] << 16) | (u8[p + 4] << 24)) >>> 0;
  elem.start = p + 5;
  elem.len = len;
  return p + 10 + len;
}

/** Reads the element that ends just before `end`; sets `elem`; returns its header's offset. */
export function readBackward(u8: Uint8Array, end: number): number {
  const b = u8[end - 1];
  if (b !== LONG_LENGTH_TAG) {
    elem.start = end - 1 - b;
    elem.len = b;
    return end - 2 - b;
  }
  const len = (u8[end - 5] | (u8[end - 4] << 8) | (u8[end - 3] << 16) | (u8[end - 2] << 24)) >>> 0;
  elem.start = end - 5 - len;
  elem.len = len;
  return end - 10 - len;
}

/** Writes an element of `len` bytes from `src` at `p`; returns the offset just past it. */
export function writeElement(u8: Uint8Array, p: number, src: Uint8Array, start: number, len: number): number {
  p = writeHeader(u8, p, len);
  if (len < 48) for (let i = 0; i < len; i++) u8[p + i] = src[start + i];
  else u8.set(src.subarray(start, start + len), p);
  return writeTrailer(u8, p + len, len);
}

/** Writes an element's length header; returns where its bytes go. */
function writeHeader(u8: Uint8Array, p: number, len: number): number {
  if (len < SHORT_LIMIT) {
    u8[p] = len;
    return p + 1;
  }
  u8[p] = LONG_LENGTH_TAG;
  u8[p + 1] = len & 0xff;
  u8[p + 2] = (len >>> 8) & 0xff;
  u8[p + 3] = (len >>> 16) & 0xff;
  u8[p + 4] = len >>> 24;
  return p + 5;
}

/** Writes an element's length trailer at `p` (just past its bytes); returns the offset past the element. */
function writeTrailer(u8: Uint8Array, p: number, len: number): number {
  if (len < SHORT_LIMIT) {
    u8[p] = len;
    return p + 1;
  }
  u8[p] = len & 0xff;
  u8[p + 1] = (len >>> 8) & 0xff;
  u8[p + 2] = (len >>> 16) & 0xff;
  u8[p + 3] = len >>> 24;
  u8[p + 4] = LONG_LENGTH_TAG;
  return p + 5;
}

/** Byte equality of `u8[a, a+len)` and `src[s, s+len)`. */
export function bytesEqual(u8: Uint8Array, a: number, src: Uint8Array, s: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (u8[a + i] !== src[s + i]) return false;
  return true;
}

/** memcmp order of two byte runs, the shorter first on a common prefix (Redis's sdscmp). */
export function compareBytes(a: Uint8Array, as: number, al: number, b: Uint8Array, bs: number, bl: number): number {
  const n = al < bl ? al : bl;
  for (let i = 0; i < n; i++) {
    const d = a[as + i] - b[bs + i];
    if (d !== 0) return d;
  }
  return al - bl;
}

const scoreBytes = new Float64Array(1);
const scoreView = new Uint8Array(scoreBytes.buffer);

/** Reads a little-endian f64 at any (unaligned) offset. */
function readDouble(u8: Uint8Array, p: number): number {
  for (let i = 0; i < 8; i++) scoreView[i] = u8[p + i];
  return scoreBytes[0];
}

/** Writes a little-endian f64 at any (unaligned) offset. */
function writeDouble(u8: Uint8Array, p: number, value: number): void {
  scoreBytes[0] = value;
  for (let i = 0; i < 8; i++) u8[p + i] = scoreView[i];
}

/*
 * Packed scores (sorted-set listpacks and the flat form), sized by value as
 * Redis's listpack stores integral scores as integers:
 * - one byte b < SCORE_INT16 for an integer in [-SMALL_SCORE_BIAS, SCORE_INT16 - SMALL_SCORE_BIAS);
 * - tag · int16 · tag, tag · int32 · tag for wider integers;
 * - tag · f64 · tag for anything else (-0 included, which an integer form
 *   would lose: a skiplist keeps it).
 * The first and the last byte both say the size, so a pack is walked from
 * either end.
 */
const SMALL_SCORE_BIAS = 16;
const SCORE_INT16 = 0xf1;
const SCORE_INT32 = 0xf2;
const SCORE_F64 = 0xf3;
const SMALL_SCORE_MAX = SCORE_INT16 - 1 - SMALL_SCORE_BIAS;

/** The packed score's form for a value: a small integer, int16, int32 or f64 tag. */
function scoreForm(score: number): number {
  if (!Number.isInteger(score) || (score === 0 && 1 / score < 0)) return SCORE_F64;
  if (score >= -SMALL_SCORE_BIAS && score <= SMALL_SCORE_MAX) return 0;
  if (score >= -0x8000 && score <= 0x7fff) return SCORE_INT16;
  if (score >= -0x80000000 && score <= 0x7fffffff) return SCORE_INT32;
  return SCORE_F64;
}

/** Bytes of a packed score whose first (or last) byte is `b`. */
function scoreSizeOfTag(b: number): number {
  if (b < SCORE_INT16) return 1;
  return b === SCORE_INT16 ? 4 : b === SCORE_INT32 ? 6 : 10;
}

/** Bytes the score takes packed. */
export function packedScoreSize(score: number): number {
  const form = scoreForm(score);
  return form === 0 ? 1 : scoreSizeOfTag(form);
}

/** Bytes of the packed score starting at `p`. */
export function scoreSizeAt(u8: Uint8Array, p: number): number {
  return scoreSizeOfTag(u8[p]);
}

/** Bytes of the packed score ending just before `end`. */
export function scoreSizeBefore(u8: Uint8Array, end: number): number {
  return scoreSizeOfTag(u8[end - 1]);
}

/** Reads the packed score at `p`. */
export function readScore(u8: Uint8Array, p: number): number {
  const b = u8[p];
  if (b < SCORE_INT16) return b - SMALL_SCORE_BIAS;
  if (b === SCORE_INT16) return ((u8[p + 1] | (u8[p + 2] << 8)) << 16) >> 16;
  if (b === SCORE_INT32) return u8[p + 1] | (u8[p + 2] << 8) | (u8[p + 3] << 16) | (u8[p + 4] << 24);
  return readDouble(u8, p + 1);
}

/** Writes the score packed at `p`; returns the offset just past it. */
export function writeScore(u8: Uint8Array, p: number, score: number): number {
  const form = scoreForm(score);
  if (form === 0) {
    u8[p] = score + SMALL_SCORE_BIAS;
    return p + 1;
  }
  u8[p] = form;
  if (form === SCORE_INT16) {
    u8[p + 1] = score & 0xff;
    u8[p + 2] = (score >> 8) & 0xff;
    u8[p + 3] = form;
    return p + 4;
  }
  if (form === SCORE_INT32) {
    u8[p + 1] = score & 0xff;
    u8[p + 2] = (score >> 8) & 0xff;
    u8[p + 3] = (score >> 16) & 0xff;
    u8[p + 4] = (score >>> 24) & 0xff;
    u8[p + 5] = form;
    return p + 6;
  }
  writeDouble(u8, p + 1, score);
  u8[p + 9] = form;
  return p + 10;
}
