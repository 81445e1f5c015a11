/**
 * Key indices with memtier's --key-pattern letters, per client (memtier's
 * object_generator::get_key_index):
 *
 * - R: uniform over [min, max].
 * - G: gaussian around --key-median (default: the middle of the range) with
 *   --key-stddev (default: range / 6), redrawn until it falls in the range.
 * - S: sequential, wrapping from max to min. Each iterator (SET side, GET
 *   side, or each --command) walks on its own.
 * - P: as S, over this client's own slice of the key range: the range is cut
 *   into threads × clients slices and client k walks slice k; the last client
 *   also takes the remainder. As in memtier the slice replaces the client's
 *   whole key range (so R and G sides draw from it too), and it is decided by
 *   the SET side (or the first --command).
 */
import type { Prng } from './prng.js';

export type KeyPattern = 'R' | 'S' | 'G' | 'P';

export interface KeyRange {
  min: number;
  max: number;
}

/**
 * The slice of the key range client `index` of `total` walks with the P
 * pattern (memtier's client::setup_client). Like memtier, with fewer keys than
 * clients the later slices start past --key-maximum.
 */
export function parallelSlice(min: number, max: number, index: number, total: number): KeyRange {
  const size = Math.floor((max - min) / total) + 1;
  const lo = min + size * index;
  return { min: lo, max: index === total - 1 ? max : lo + size - 1 };
}

export class KeySource {
  /** Next index of each sequential iterator. */
  private readonly next: Float64Array;

  constructor(
    private readonly prng: Prng,
    readonly range: KeyRange,
    /** --key-stddev and --key-median; 0 means memtier's default. */
    private readonly stddev: number,
    private readonly median: number,
    iterators: number,
  ) {
    this.next = new Float64Array(iterators).fill(range.min);
  }

  index(pattern: KeyPattern, iterator: number): number {
    const { min, max } = this.range;
    switch (pattern) {
      case 'R':
        return this.prng.range(min, max);
      case 'G':
        return this.gaussian(min, max);
      default: {
        // S and P: memtier's m_next_key[iter], clamped to the range then wrapped.
        let k = this.next[iterator];
        if (k < min) k = min;
        this.next[iterator] = k + 1 > max ? min : k + 1;
        return k;
      }
    }
  }

  /** memtier's gaussian_distribution_range. */
  private gaussian(min: number, max: number): number {
    if (min >= max) return min;
    const len = max - min;
    // memtier asserts that the median lies inside the range; a --key-median
    // outside this client's range (possible with a P slice) falls back to the default.
    const median = this.median > min && this.median < max ? this.median : len / 2 + min + 0.5;
    const stddev = this.stddev || len / 6;
    let v: number;
    do v = this.prng.gaussian(stddev) + median;
    while (v < min || v > max + 1);
    return Math.min(max, Math.floor(v));
  }
}
