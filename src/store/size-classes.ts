/**
 * Allocation size classes: 8-byte steps up to 1 KiB (small keys and values
 * waste at most 7 bytes), then four classes per power of two (at most 25%
 * slack for large values).
 */

export const SMALL_LIMIT = 1024;
const SMALL_CLASSES = SMALL_LIMIT / 8;
export const CLASS_COUNT = SMALL_CLASSES + 22 * 4;

export function sizeClassOf(n: number): number {
  if (n <= SMALL_LIMIT) return n <= 8 ? 0 : ((n + 7) >>> 3) - 1;
  const k = 31 - Math.clz32(n - 1); // 2^k < n <= 2^(k+1)
  const step = 2 ** (k - 2);
  const j = Math.ceil((n - 2 ** k) / step); // 1..4
  return SMALL_CLASSES + (k - 10) * 4 + (j - 1);
}

function computeClassSize(c: number): number {
  if (c < SMALL_CLASSES) return (c + 1) * 8;
  const k = 10 + ((c - SMALL_CLASSES) >> 2);
  const j = ((c - SMALL_CLASSES) & 3) + 1;
  return 2 ** k + j * 2 ** (k - 2);
}

/** Every class's size, computed once: classSize runs on hot paths (a quicklist push asks its node's room). */
const CLASS_SIZES = Float64Array.from({ length: CLASS_COUNT }, (_, c) => computeClassSize(c));

export function classSize(c: number): number {
  return CLASS_SIZES[c];
}
