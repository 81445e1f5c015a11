/** A deterministic generator (mulberry32): floats in [0, 1), so a failing random test can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** The same generator giving integers in [0, n). */
export function prngInt(seed: number): (n: number) => number {
  const next = prng(seed);
  return (n: number) => Math.floor(next() * n);
}
