/**
 * A seedable PRNG (xoshiro128**, seeded through splitmix32), so that a run
 * is reproducible: as in memtier, every client starts from the same constant
 * seed unless --randomize (seed from the clock) or --distinct-client-seed
 * (seed + client index) is given.
 */

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    const st = { s: seed | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
  }

  /** A uniform unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  nextDouble(): number {
    return ((this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6)) / 9007199254740992;
  }

  /** A uniform integer in [min, max], both included (memtier's random_range). */
  range(min: number, max: number): number {
    return min + Math.floor(this.nextDouble() * (max - min + 1));
  }

  /**
   * A normal variate with mean 0 and the given standard deviation, by the
   * Marsaglia polar method, keeping the second value of each pair as memtier's
   * gaussian_noise does.
   */
  gaussian(stddev: number): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return stddev * this.spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = this.nextDouble() * 2 - 1;
      v = this.nextDouble() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    s = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * s;
    this.hasSpare = true;
    return stddev * u * s;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
