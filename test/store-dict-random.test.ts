/**
 * dictRandom (src/store/arena-dict.ts) picks as Redis's
 * dictGetFairRandomKey does: gather up to 15 entries walking the buckets
 * from a random one, then pick uniformly among them. weft draws the pick
 * first and stops the walk there; this compares its distribution, entry by
 * entry, with a plain port of the gather-then-pick walk over the same
 * tables (sparse, dense, long chains, mid-rehash), and checks that every
 * entry can come out.
 */
import t from 'tap';
import { Shard } from '../src/store/shard.js';
import { dictAdd, dictFind, dictInit, dictRandom, dictSize, dictUnlink, hashOf } from '../src/store/arena-dict.js';
import { S_MASK0, S_MASK1, S_REHASH, S_TABLE0, S_TABLE1, S_USED } from '../src/store/layout.js';
import { prng } from './helpers/prng.js';

const GEOMETRY = { databases: 1, shardBits: 0 };

/** Redis's walk as written: gather min(15, size) entries, then pick one uniformly. */
function referencePick(a: Shard, h: number, random: () => number): number {
  const u32 = a.u32;
  const words = dictHeader(a, h);
  const want = Math.min(15, words.used);
  const maxMask = Math.max(words.m0, words.rehashing ? words.m1 : 0);
  const sample: number[] = [];
  let i = Math.floor(random() * (maxMask + 1));
  let emptyRun = 0;
  for (let steps = want * 10; sample.length < want && steps > 0; steps--) {
    if (words.rehashing && i < words.rehashIndex && i > words.m1) i = words.rehashIndex;
    let e = i <= words.m0 && !(words.rehashing && i < words.rehashIndex) ? u32[(words.t0 >>> 2) + i] : 0;
    let e1 = words.rehashing && i <= words.m1 ? u32[(words.t1 >>> 2) + i] : 0;
    if (e === 0 && e1 === 0) {
      if (++emptyRun >= 5 && emptyRun > want) {
        i = Math.floor(random() * (maxMask + 1));
        emptyRun = 0;
        continue;
      }
    } else {
      emptyRun = 0;
      for (; e !== 0 && sample.length < want; e = u32[e >>> 2]) sample.push(e);
      for (; e1 !== 0 && sample.length < want; e1 = u32[e1 >>> 2]) sample.push(e1);
    }
    i = (i + 1) & maxMask;
  }
  return sample.length === 0 ? 0 : sample[Math.floor(random() * sample.length)];
}

/** The dict header (a slot table's header layout, layout.ts S_*); the rehash word is the next bucket to move + 1. */
function dictHeader(a: Shard, h: number) {
  const at = (k: number) => a.u32[(h + k) >>> 2];
  const rehash = at(S_REHASH);
  return { used: at(S_USED), t0: at(S_TABLE0), m0: at(S_MASK0), t1: at(S_TABLE1), m1: at(S_MASK1), rehashing: rehash !== 0, rehashIndex: rehash - 1 };
}

/** A dict of `members` keys; with `keepEvery` > 0 all but every keepEvery-th are deleted again (a shrink mid-rehash). */
function build(members: number, keepEvery: number): { a: Shard; h: number } {
  const a = new Shard(Shard.allocate(GEOMETRY), 0, GEOMETRY);
  const h = a.alloc(64);
  dictInit(a, h);
  const keys: Buffer[] = [];
  for (let i = 0; i < members; i++) {
    const k = Buffer.from(`member:${i}`);
    keys.push(k);
    dictAdd(a, h, k, 0, k.length, hashOf(k, 0, k.length), 0, 0);
  }
  if (keepEvery > 0) {
    for (let i = 0; i < members; i++) {
      if (i % keepEvery === 0) continue;
      const k = keys[i];
      const e = dictFind(a, h, k, 0, k.length, hashOf(k, 0, k.length));
      dictUnlink(a, h, e);
    }
  }
  return { a, h };
}

t.test('the early-stopping pick has the gather-then-pick distribution', async (t) => {
  const seed = Number(process.env.WEFT_SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed}`);
  for (const [members, keepEvery, name] of [[12, 0, 'fewer than 15'], [40, 0, 'small'], [3000, 0, 'dense'], [30000, 10, 'shrinking']] as const) {
    const { a, h } = build(members, keepEvery);
    t.equal(dictSize(a, h), dictHeader(a, h).used, `${name}: header layout as the test reads it`);
    const draws = 200_000;
    const ours = new Map<number, number>();
    const reference = new Map<number, number>();
    const r1 = prng(seed);
    const r2 = prng(seed + 1);
    for (let i = 0; i < draws; i++) {
      const e = dictRandom(a, h, r1);
      ours.set(e, (ours.get(e) ?? 0) + 1);
      const f = referencePick(a, h, r2);
      reference.set(f, (reference.get(f) ?? 0) + 1);
    }
    // Per entry: the two frequencies agree within 6 standard deviations of their difference (over 3,000 entries a false alarm is about 1 in 100,000).
    let worst = 0;
    for (const e of new Set([...ours.keys(), ...reference.keys()])) {
      const x = ours.get(e) ?? 0;
      const y = reference.get(e) ?? 0;
      const sd = Math.sqrt(x + y) || 1;
      worst = Math.max(worst, Math.abs(x - y) / sd);
    }
    t.ok(worst < 6, `${name}: entry frequencies agree (worst ${worst.toFixed(2)} sd)`);
    if (keepEvery === 0) t.equal(ours.size, members, `${name}: every entry comes out`);
    if (keepEvery > 0) t.ok(dictHeader(a, h).rehashing, `${name}: picked while a shrink is half done`);
    t.notOk(ours.has(0), `${name}: never an empty pick`);
  }
});
