/**
 * The keyspace lives off the V8 heap: loading 2,000,000 keys into the store
 * must not grow the heap, and must cost a reasonable number of arena bytes
 * per key. Measured in a child process run with --expose-gc (so that a forced
 * GC makes heapUsed meaningful), against the store compiled on its own.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { compileStore } from './helpers/compiled-store.js';

const KEYS = 2_000_000;
const MB = 1024 * 1024;

/*
 * Loads memtier-shaped keys ("memtier-<n>", 32-byte values) the way SET does:
 * slot and hash, shard lock, lookup, insert, value copy. Key bytes are written
 * into one reused buffer, so the loop itself leaves nothing on the heap. Then,
 * as a control that the gauge can see on-heap data, a JS Map of 200,000
 * string keys is built and measured the same way.
 */
const CHILD_SOURCE = `
import { allocateKeyspace, Keyspace } from './store/keyspace.js';
import { keyHash, slotAndHash } from './store/key-hash.js';

const E_VALLEN = 12;
const keys = Number(process.argv[2]);
const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const ks = new Keyspace(allocateKeyspace(1, 2));
const key = Buffer.alloc(32);
const value = Buffer.alloc(32, 0x78);
key.write('memtier-', 0, 'latin1');
function keyBytes(n) {
  let len = 8;
  let d = 1;
  while (d * 10 <= n) d *= 10;
  for (; d >= 1; d = Math.floor(d / 10)) key[len++] = 48 + (Math.floor(n / d) % 10);
  return len;
}
function load(from, to) {
  for (let n = from; n < to; n++) {
    const kl = keyBytes(n);
    const slot = slotAndHash(key, 0, kl);
    const hash = keyHash.value;
    const shard = ks.shardOf(slot);
    const si = ks.slotIndex(slot);
    shard.lock();
    let e = shard.lookup(0, si, key, 0, kl, hash);
    if (e === 0) e = shard.insert(0, si, key, 0, kl, hash, 0, value.length, false);
    shard.u32[(e + E_VALLEN) >>> 2] = value.length;
    shard.u8.set(value, shard.valueStart(e));
    shard.unlock();
  }
}
function present(n) {
  const kl = keyBytes(n);
  const slot = slotAndHash(key, 0, kl);
  const shard = ks.shardOf(slot);
  const e = shard.lookup(0, ks.slotIndex(slot), key, 0, kl, keyHash.value);
  return e !== 0 && shard.valueLength(e) === 32 && shard.u8[shard.valueStart(e) + 31] === 0x78;
}

const before = heap();
const started = performance.now();
const milestones = [];
const step = keys / 4;
for (let from = 0; from < keys; from += step) {
  load(from, from + step);
  milestones.push(heap() - before);
}
const loadMs = performance.now() - started;
const after = heap();
let missing = 0;
for (let n = 0; n < keys; n += 997) if (!present(n)) missing++;

const controlBefore = heap();
const onHeap = new Map();
for (let n = 0; n < 200000; n++) onHeap.set('memtier-' + n, 'x'.repeat(32) + n);
const controlGrowth = heap() - controlBefore;

console.log(JSON.stringify({
  heapGrowth: after - before,
  milestones,
  keyCount: ks.keyCount(0),
  missing,
  liveBytes: ks.liveBytes(),
  arenaBytes: ks.arenaBytes(),
  reservedBytes: ks.reservedBytes(),
  loadMs,
  controlGrowth,
  controlSize: onHeap.size,
}));
`;

t.test(`${KEYS} keys do not grow the V8 heap`, async (t) => {
  const store = compileStore();
  t.teardown(() => store.remove());
  const script = path.join(store.dir, 'load.mjs');
  fs.writeFileSync(script, CHILD_SOURCE);
  const child = spawnSync(process.execPath, ['--expose-gc', script, String(KEYS)], { encoding: 'utf8', timeout: 120_000 });
  t.equal(child.status, 0, `the loader ran: ${child.stderr}`);
  const r = JSON.parse(child.stdout.trim().split('\n').pop()!);
  t.comment(`load ${Math.round(r.loadMs)} ms; heap growth ${(r.heapGrowth / MB).toFixed(2)} MB ` +
    `(at each quarter: ${r.milestones.map((b: number) => (b / MB).toFixed(2)).join(', ')} MB); ` +
    `live ${(r.liveBytes / r.keyCount).toFixed(1)} B/key, arena ${(r.arenaBytes / r.keyCount).toFixed(1)} B/key; ` +
    `control Map of 200k keys: ${(r.controlGrowth / MB).toFixed(1)} MB`);

  t.equal(r.keyCount, KEYS, 'every key was stored');
  t.equal(r.missing, 0, 'sampled keys read back with their values');
  t.ok(r.controlGrowth > 10 * MB, 'the gauge sees data kept on the heap (control)');
  t.ok(r.heapGrowth < 20 * MB, 'the V8 heap did not grow with the keys');
  t.ok(Math.max(...r.milestones) < 20 * MB, 'nor at any point while loading');
  // Memtier's shape costs Redis 7 about 90-100 bytes a key; the design asks for at least as good.
  t.ok(r.liveBytes / KEYS <= 96, 'live bytes per key are reasonable');
  t.ok(r.arenaBytes / KEYS <= 100, 'the arena holds little beyond the live blocks');
  t.ok(r.reservedBytes <= r.arenaBytes * 1.3 + 8 * MB, 'the shared buffers grew with the arena, not far past it');
});
