/**
 * Collections live off the V8 heap too: a node holding 10 million
 * collection elements has the same V8 heap as an empty one. In a child
 * process run with --expose-gc (so that a forced GC makes heapUsed
 * meaningful), against the store compiled on its own, 10,000,000 elements
 * are loaded through the store's collection functions as the command
 * families call them (RPUSH, HSET, SADD, ZADD): a few big lists, hashes,
 * sets and sorted sets in their large encodings (quicklist, hashtable,
 * skiplist) and many small ones in their compact encodings (listpack,
 * intset). heapUsed after GC is compared with the empty store's, at every
 * stage of the load; a control shows the gauge sees data kept on the heap.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { compileStore } from './helpers/compiled-store.js';

const MB = 1024 * 1024;

/*
 * The loader. Key, element and value bytes are written into reused buffers
 * and every command-shaped batch (up to 1000 elements under one lock and
 * one lookup, as a long RPUSH or HSET is) is a plain loop, so the loader
 * itself keeps nothing on the heap. The type and encoding numbers are the
 * values of store/layout.ts's ValueType and collection-layout.ts's
 * CollectionEncoding (const enums, so not exported at run time).
 */
const CHILD_SOURCE = `
import { allocateKeyspace, Keyspace } from './store/keyspace.js';
import { keyHash, slotAndHash } from './store/key-hash.js';
import { SlotTables } from './store/slot-tables.js';
import { E_VALLEN, E_ENCODING, E_TYPE } from './store/layout.js';
import { QL_HEADER_BYTES, LP_COUNT, LP_FIRST, ZS_HEADER_BYTES } from './store/collection-layout.js';
import { LP_EMPTY_BYTES } from './store/hash-listpack.js';
import { qlInit, qlPush, qlCount } from './store/quicklist.js';
import { hashSet, hashLength } from './store/hash-type.js';
import { setAdd, setSize, initSetValue, emptySetBytes, setChange } from './store/set-value.js';
import { zsetAdd, zsetInit, zsetLength, zv } from './store/zset-value.js';

const T_LIST = 1, T_SET = 2, T_ZSET = 3, T_HASH = 4;
const QUICKLIST = 16, LISTPACK = 17, INTSET = 18, HASHTABLE = 19, SKIPLIST = 20;
// The configuration defaults: list-max-listpack-size, hash-max-listpack-*, set-max-intset-entries, zset-max-listpack-*.
const LIST_FILL = -2, HASH_MAX_ENTRIES = 512, HASH_MAX_VALUE = 64, SET_MAX_INTSET = 512, ZSET_MAX_ENTRIES = 128, ZSET_MAX_VALUE = 64;
const BATCH = 1000;

const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const ks = new Keyspace(allocateKeyspace(1, 2));
const key = Buffer.alloc(64);
const el = Buffer.alloc(64);
const val = Buffer.alloc(64);

/** Writes prefix then the decimal digits of n into buf; returns the length. */
function text(buf, prefix, n) {
  let len = buf.write(prefix, 0, 'latin1');
  let d = 1;
  while (d * 10 <= n) d *= 10;
  for (; d >= 1; d = Math.floor(d / 10)) buf[len++] = 48 + (Math.floor(n / d) % 10);
  return len;
}

// The key being loaded: its shard, slot, hash and length, found under its shard's lock.
let shard, si, hash, kl;
function open(prefix, n) {
  kl = text(key, prefix, n);
  const slot = slotAndHash(key, 0, kl);
  hash = keyHash.value;
  shard = ks.shardOf(slot);
  si = ks.slotIndex(slot);
  shard.lock();
  return shard.lookup(0, si, key, 0, kl, hash);
}

/** RPUSH key e<from>..e<to-1>, as opCreateList and opPushArgs do. */
function rpush(prefix, n, from, to) {
  let e = open(prefix, n);
  if (e === 0) {
    const pad = SlotTables.collectionPad(kl);
    e = shard.insert(0, si, key, 0, kl, hash, T_LIST, pad + QL_HEADER_BYTES, false);
    shard.u32[(e + E_VALLEN) >>> 2] = pad + QL_HEADER_BYTES;
    shard.u8[e + E_ENCODING] = QUICKLIST;
    qlInit(shard, shard.collectionStart(e));
  }
  const h = shard.collectionStart(e);
  for (let i = from; i < to; i++) qlPush(shard, h, el, 0, text(el, 'element-', i), false, LIST_FILL);
  shard.unlock();
}

/** HSET key f<i> v<i> for i in [from, to), as opCreateHash and opSet do. */
function hset(prefix, n, from, to) {
  let e = open(prefix, n);
  if (e === 0) {
    const pad = SlotTables.collectionPad(kl);
    e = shard.insert(0, si, key, 0, kl, hash, T_HASH, pad + LP_EMPTY_BYTES + 64, false);
    shard.u32[(e + E_VALLEN) >>> 2] = pad + LP_EMPTY_BYTES;
    shard.u8[e + E_ENCODING] = LISTPACK;
    shard.u32[(shard.collectionStart(e) + LP_COUNT) >>> 2] = 0;
  }
  for (let i = from; i < to; i++) {
    const fl = text(el, 'field:', i);
    const vl = text(val, 'value-', i * 7);
    e = hashSet(shard, 0, e, el, 0, fl, val, 0, vl, HASH_MAX_ENTRIES, HASH_MAX_VALUE);
  }
  shard.unlock();
}

/** SADD key of members [from, to): decimal integers (an intset while small) or strings, as opCreateSet and opAdd do. */
function sadd(prefix, n, from, to, ints) {
  let e = open(prefix, n);
  if (e === 0) {
    const length = SlotTables.collectionPad(kl) + emptySetBytes(ints);
    e = shard.insert(0, si, key, 0, kl, hash, T_SET, length, false);
    initSetValue(shard, e, length, ints);
  }
  for (let i = from; i < to; i++) {
    e = setAdd(shard, 0, e, el, 0, ints ? text(el, '', i) : text(el, 'member:', i), SET_MAX_INTSET);
    if (!setChange.changed) throw new Error('a member was already there');
  }
  shard.unlock();
}

/** ZADD key i/2 m<i> for i in [from, to), as createZsetKey and zsetAdd do. */
function zadd(prefix, n, from, to) {
  let e = open(prefix, n);
  if (e === 0) {
    const pad = SlotTables.collectionPad(kl);
    e = shard.insert(0, si, key, 0, kl, hash, T_ZSET, pad + LP_FIRST, false);
    zsetInit(shard, e, pad, false);
  }
  for (let i = from; i < to; i++) {
    zsetAdd(shard, 0, e, ZSET_MAX_ENTRIES, ZSET_MAX_VALUE, (i * 7919) % 100003 / 2, el, 0, text(el, 'zmember-', i), 0);
    e = zv.e;
  }
  shard.unlock();
}

/** Big keys filled in command-sized batches; small ones in one command each. */
function big(op, prefix, keys, per, arg) {
  for (let n = 0; n < keys; n++) for (let at = 0; at < per; at += BATCH) op(prefix, n, at, Math.min(per, at + BATCH), arg);
}
function small(op, prefix, keys, per, arg) {
  for (let n = 0; n < keys; n++) op(prefix, n, n * per, n * per + per, arg);
}

// 10,000,000 elements (a hash's field-value pair counts as one).
const plan = [
  ['big lists', () => big(rpush, 'biglist:', 2, 1_500_000), 3_000_000],
  ['small lists', () => small(rpush, 'list:', 200_000, 10), 2_000_000],
  ['big hashes', () => big(hset, 'bighash:', 2, 500_000), 1_000_000],
  ['small hashes', () => small(hset, 'hash:', 100_000, 5), 500_000],
  ['big sets', () => big(sadd, 'bigset:', 2, 500_000, false), 1_000_000],
  ['big integer set', () => big(sadd, 'bigints:', 1, 200_000, true), 200_000],
  ['small intsets', () => small(sadd, 'ints:', 100_000, 8, true), 800_000],
  ['big sorted sets', () => big(zadd, 'bigzset:', 2, 500_000), 1_000_000],
  ['small sorted sets', () => small(zadd, 'zset:', 100_000, 5), 500_000],
];

const before = heap();
const started = performance.now();
const stages = [];
let planned = 0;
for (const [name, load, elements] of plan) {
  const t0 = performance.now();
  load();
  planned += elements;
  stages.push({ name, ms: Math.round(performance.now() - t0), heapGrowth: heap() - before });
}
const loadMs = performance.now() - started;
const after = heap();

// Read back: every key's length and encoding.
const lengths = { [T_LIST]: (s, e) => qlCount(s, s.collectionStart(e)), [T_HASH]: hashLength, [T_SET]: setSize, [T_ZSET]: zsetLength };
let elements = 0;
const encodings = {};
const keysOf = [['biglist:', 2], ['list:', 200_000], ['bighash:', 2], ['hash:', 100_000], ['bigset:', 2], ['bigints:', 1], ['ints:', 100_000],
  ['bigzset:', 2], ['zset:', 100_000]];
let missing = 0;
for (const [prefix, keys] of keysOf) {
  const seen = new Set();
  for (let n = 0; n < keys; n++) {
    const e = open(prefix, n);
    if (e === 0) missing++;
    else {
      elements += lengths[shard.u8[e + E_TYPE]](shard, e);
      seen.add(shard.u8[e + E_ENCODING]);
    }
    shard.unlock();
  }
  encodings[prefix] = [...seen].map((x) => ({ 16: 'quicklist', 17: 'listpack', 18: 'intset', 19: 'hashtable', 20: 'skiplist' })[x]);
}
const afterReads = heap();

const controlBefore = heap();
const onHeap = new Map();
for (let n = 0; n < 200000; n++) onHeap.set('element-' + n, 'value-' + n);
const controlGrowth = heap() - controlBefore;

console.log(JSON.stringify({
  planned, elements, missing, keyCount: ks.keyCount(0), encodings, stages, loadMs,
  heapGrowth: after - before, heapAfterReads: afterReads - before, heapBefore: before,
  liveBytes: ks.liveBytes(), arenaBytes: ks.arenaBytes(), reservedBytes: ks.reservedBytes(),
  controlGrowth, controlSize: onHeap.size,
}));
`;

t.test('10,000,000 collection elements do not grow the V8 heap', async (t) => {
  const store = compileStore();
  t.teardown(() => store.remove());
  const script = path.join(store.dir, 'load-collections.mjs');
  fs.writeFileSync(script, CHILD_SOURCE);
  const child = spawnSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8', timeout: 120_000 });
  t.equal(child.status, 0, `the loader ran: ${child.stderr}${child.error ?? ''}`);
  const r = JSON.parse(child.stdout.trim().split('\n').pop()!);
  t.comment(`load ${Math.round(r.loadMs)} ms; heap ${(r.heapBefore / MB).toFixed(1)} MB empty, growth ${(r.heapGrowth / MB).toFixed(2)} MB; ` +
    `arena ${(r.arenaBytes / MB).toFixed(0)} MB (${(r.arenaBytes / r.elements).toFixed(1)} B/element), reserved ${(r.reservedBytes / MB).toFixed(0)} MB; ` +
    `control Map of 200k entries: ${(r.controlGrowth / MB).toFixed(1)} MB`);
  for (const s of r.stages) t.comment(`  ${s.name}: ${s.ms} ms, heap growth so far ${(s.heapGrowth / MB).toFixed(2)} MB`);

  t.equal(r.planned, 10_000_000, 'the plan loads ten million elements');
  t.equal(r.elements, 10_000_000, 'every element was stored and is counted back');
  t.equal(r.missing, 0, 'every key is there');
  t.equal(r.keyCount, 500_009, 'and no other');
  t.same(r.encodings, {
    'biglist:': ['quicklist'], 'list:': ['quicklist'], 'bighash:': ['hashtable'], 'hash:': ['listpack'], 'bigset:': ['hashtable'],
    'bigints:': ['hashtable'], 'ints:': ['intset'], 'bigzset:': ['skiplist'], 'zset:': ['listpack'],
  }, 'big collections in their large encodings, small ones in their compact ones');
  t.ok(r.controlGrowth > 10 * MB, 'the gauge sees data kept on the heap (control)');
  t.ok(r.heapGrowth < 8 * MB, 'the V8 heap did not grow with the elements');
  t.ok(Math.max(...r.stages.map((s: { heapGrowth: number }) => s.heapGrowth)) < 8 * MB, 'nor after any stage of the load');
  t.ok(r.heapAfterReads < 8 * MB, 'nor after reading every key back');
  t.ok(r.arenaBytes > r.elements * 8, 'the arena holds the elements');
});
