/**
 * Packed sorted-set scores (src/store/packed.ts): every value comes back
 * exactly (-0, the infinities, the integer form boundaries, doubles that are
 * not integers), in the size the value calls for, and a run of packed
 * scores is walked the same from either end.
 */
import t from 'tap';
import { packedScoreSize, readScore, scoreSizeAt, scoreSizeBefore, writeScore } from '../src/store/packed.js';
import { prng } from './helpers/prng.js';

const EDGES = [
  0, -0, 1, -1, -16, -17, 223, 224, 239, 240, 255, 256, -32768, -32769, 32767, 32768, 2147483647, 2147483648, -2147483648,
  -2147483649, 2 ** 53, -(2 ** 53), 1.5, -0.1, 1e-310, 5e-324, 1.7976931348623157e308, Infinity, -Infinity,
];

t.test('every value round-trips in the size its form calls for', async (t) => {
  const seed = Number(process.env.WEFT_SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed}`);
  const rand = prng(seed);
  const values = [...EDGES];
  for (let i = 0; i < 2000; i++) {
    const kind = i % 3;
    values.push(kind === 0 ? Math.round((rand() - 0.5) * 2 ** (rand() * 40)) : kind === 1 ? (rand() - 0.5) * 1e6 : Math.floor(rand() * 300) - 30);
  }
  const buf = new Uint8Array(values.length * 10 + 1);
  let p = 0;
  const starts: number[] = [];
  for (const v of values) {
    starts.push(p);
    const next = writeScore(buf, p, v);
    t.equal(next - p, packedScoreSize(v), `size of ${v}`);
    p = next;
  }
  const end = p;
  const bad = values.filter((v, i) => !Object.is(readScore(buf, starts[i]), v));
  t.same(bad, [], 'every value reads back exactly');
  t.equal(packedScoreSize(7), 1, 'a small integer takes one byte');
  t.equal(packedScoreSize(-0), 10, '-0 keeps its sign as a double');
  t.equal(packedScoreSize(1000), 4);
  t.equal(packedScoreSize(100000), 6);
  t.equal(packedScoreSize(0.5), 10);
  // Walked forwards and backwards, the same starts.
  const forward: number[] = [];
  for (let q = 0; q < end; q += scoreSizeAt(buf, q)) forward.push(q);
  t.same(forward, starts, 'forward walk');
  const backward: number[] = [];
  for (let q = end; q > 0;) {
    q -= scoreSizeBefore(buf, q);
    backward.push(q);
  }
  t.same(backward.reverse(), starts, 'backward walk');
});
