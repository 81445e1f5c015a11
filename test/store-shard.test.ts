/**
 * One shard of the store, single-threaded: hash tables across incremental
 * growth and shrink, the size-class allocator and its free lists, per-slot
 * counts and enumeration, SCAN's guarantee, TTLs, value resizing, flushing,
 * random sampling, arena growth, and the cluster key slot.
 */
import t from 'tap';
import { Shard } from '../src/store/shard.js';
import { crc16, hashBytes, keyHash, keyHashSlot, keyHashSlotOfString, slotAndHash } from '../src/store/key-hash.js';
import { CLASS_COUNT, classSize, sizeClassOf, SMALL_LIMIT } from '../src/store/size-classes.js';
import {
  D_VOLATILE, D_VOLATILE_ARRAY, D_VOLATILE_CAPACITY, E_VOLATILE_INDEX, H_LOCK, H_REHASHING, H_TOP, headerLayout,
} from '../src/store/layout.js';
import { TestStore, toBytes } from './helpers/store.js';
import { prng } from './helpers/prng.js';

const ONE_SHARD = { databases: 4, shardBits: 0 };

/** The entries of a database's volatile array, checked against their back-pointers. */
function volatileEntries(store: TestStore, db: number): { entries: number[]; capacity: number; consistent: boolean } {
  const u32 = store.shard.u32;
  const b = u32[headerLayout(store.geometry.databases).dbDir + db];
  if (b === 0) return { entries: [], capacity: 0, consistent: true };
  const n = u32[(b + D_VOLATILE) >>> 2];
  const arr = u32[(b + D_VOLATILE_ARRAY) >>> 2];
  const entries: number[] = [];
  let consistent = true;
  for (let i = 0; i < n; i++) {
    const e = u32[arr / 4 + i];
    entries.push(e);
    if (u32[(e + E_VOLATILE_INDEX) >>> 2] !== i || store.shard.expireAt(e) < 0) consistent = false;
  }
  return { entries, capacity: u32[(b + D_VOLATILE_CAPACITY) >>> 2], consistent };
}

t.test('size classes', async (t) => {
  let previous = 0;
  for (let c = 0; c < CLASS_COUNT; c++) {
    const size = classSize(c);
    if (size <= previous || size % 8 !== 0) t.fail(`class ${c} has size ${size} after ${previous}`);
    previous = size;
  }
  t.equal(classSize(CLASS_COUNT - 1), 2 ** 32, 'the largest class covers a whole 4 GiB shard');
  const sizes: number[] = [];
  for (let n = 1; n <= 70000; n++) sizes.push(n);
  for (let k = 17; k < 32; k++) sizes.push(2 ** k - 1, 2 ** k, 2 ** k + 1, 3 * 2 ** (k - 1) + 7);
  let bad = 0;
  for (const n of sizes) {
    const c = sizeClassOf(n);
    const fits = classSize(c) >= n;
    const tight = c === 0 || classSize(c - 1) < n;
    const slack = n <= SMALL_LIMIT ? classSize(c) - n <= 7 : classSize(c) <= n * 1.25;
    if (!fits || !tight || !slack || c >= CLASS_COUNT) {
      bad++;
      if (bad < 5) t.fail(`size ${n}: class ${c} of ${classSize(c)} bytes`);
    }
  }
  t.equal(bad, 0, 'every size gets the smallest class that holds it, with the documented slack');
});

t.test('keyHashSlot matches Redis 7 CLUSTER KEYSLOT', async (t) => {
  // Values from redis-server 7.0.15 (cluster-enabled yes), CLUSTER KEYSLOT <key>.
  const known: [string, number][] = [
    ['foo', 12182], ['bar', 5061], ['hello', 866], ['a', 15495], ['', 0], ['123456789', 12739],
    ['{user1000}.following', 3443], ['{user1000}.followers', 3443],
    ['foo{}{bar}', 8363], ['foo{{bar}}zap', 4015], ['foo{bar}{zap}', 5061], ['{a}b{c}', 15495],
    ['{}', 15257], ['{', 4092], ['}', 12090], ['{foo', 13308], ['foo}', 15679], ['user:{}', 6865], ['{{}}', 4092],
    ['memtier-1234567', 15235], ['key:__rand_int__', 13782],
  ];
  for (const [key, slot] of known) t.equal(keyHashSlotOfString(key), slot, JSON.stringify(key));
  t.equal(keyHashSlot(Buffer.from([0, 0xff, 0x80, 13, 10, 0x7b, 0, 0x7d]), 0, 8), 0, 'binary key, tag {\\0}');
  t.equal(keyHashSlot(Buffer.alloc(1000, 0xab), 0, 1000), 11521, '1000-byte binary key');
  t.equal(crc16(Buffer.from('123456789'), 0, 9), 0x31c3, 'CRC16-XMODEM check value');
  const framed = Buffer.from('xx{user1000}.followersyy');
  t.equal(keyHashSlot(framed, 2, framed.length - 4), 3443, 'a key inside a larger buffer');

  const random = prng(7);
  let mismatches = 0;
  for (let i = 0; i < 5000; i++) {
    const key = Buffer.from(Array.from({ length: Math.floor(random() * 24) }, () => '{}ab\0\xff'.charCodeAt(Math.floor(random() * 6))));
    const slot = slotAndHash(key, 0, key.length);
    if (slot !== keyHashSlot(key, 0, key.length) || keyHash.value !== hashBytes(key, 0, key.length)) mismatches++;
  }
  t.equal(mismatches, 0, 'slotAndHash agrees with keyHashSlot and hashBytes');
});

t.test('the lock word', async (t) => {
  const store = new TestStore();
  const i32 = new Int32Array(store.shard.sab);
  store.shard.lock();
  t.equal(Atomics.load(i32, H_LOCK), 1, 'locked, no waiters');
  store.shard.unlock();
  t.equal(Atomics.load(i32, H_LOCK), 0, 'free again');
});

t.test('100k keys in one slot: growth, lookups, shrink, removal', async (t) => {
  const store = new TestStore();
  const shard = store.shard;
  const slot = store.slotIndexOf('{tag}');
  const N = 100000;
  // The database block is allocated by the first insert: measure from there.
  store.set(0, 'other-slot-key', 'x');
  const baseLive = shard.liveBytes;
  let sawRehash = false;
  let maxBuckets = 0;
  for (let i = 0; i < N; i++) {
    store.set(0, `{tag}:${i}`, `value:${i}`);
    const tb = store.table(0, slot);
    sawRehash ||= tb.rehashing && tb.buckets0 >= 1024;
    maxBuckets = Math.max(maxBuckets, tb.buckets0, tb.buckets1);
  }
  t.ok(sawRehash, 'a large table was rehashed incrementally while keys were added');
  t.ok(maxBuckets >= N && maxBuckets <= 4 * N, `the table grew with the keys (${maxBuckets} buckets)`);
  t.equal(shard.slotKeys(0, slot), N);
  t.equal(shard.dbKeys(0), N + 1);
  t.equal(shard.keyCount, N + 1);

  let wrong = 0;
  for (let i = 0; i < N; i++) if (store.get(0, `{tag}:${i}`) !== `value:${i}`) wrong++;
  t.equal(wrong, 0, 'every key reads back its value');
  t.equal(store.lookup(0, '{tag}:absent'), 0);
  t.equal(store.lookup(1, '{tag}:1'), 0, 'other databases are separate');

  const enumerated = store.keysInSlot(0, slot);
  t.equal(enumerated.length, N, 'enumeration visits every key once');
  t.equal(new Set(enumerated).size, N);

  for (let i = 0; i < N; i += 2) store.del(0, `{tag}:${i}`);
  t.equal(shard.slotKeys(0, slot), N / 2);
  wrong = 0;
  for (let i = 0; i < N; i++) if (store.get(0, `{tag}:${i}`) !== (i % 2 ? `value:${i}` : null)) wrong++;
  t.equal(wrong, 0, 'after deleting half, exactly the odd keys remain');

  for (let i = 1; i < N - 200; i += 2) store.del(0, `{tag}:${i}`);
  store.finishRehash(0);
  store.del(0, `{tag}:${N - 199}`);
  store.finishRehash(0);
  t.equal(shard.slotKeys(0, slot), 99);
  t.ok(store.table(0, slot).buckets0 <= 1024, `the table shrank with the keys (${store.table(0, slot).buckets0} buckets)`);
  wrong = 0;
  for (let i = N - 197; i < N; i += 2) if (store.get(0, `{tag}:${i}`) !== `value:${i}`) wrong++;
  t.equal(wrong, 0);

  for (let i = N - 197; i < N; i += 2) store.del(0, `{tag}:${i}`);
  t.equal(shard.slotKeys(0, slot), 0);
  t.same(store.table(0, slot), { table0: 0, buckets0: 0, table1: 0, buckets1: 0, rehashing: false }, 'an empty slot keeps no table');
  t.equal(shard.liveBytes, baseLive, 'every byte came back');
  t.equal(shard.u32[H_REHASHING], 0);
});

t.test('100k keys spread over slots: per-slot counts and enumeration', async (t) => {
  const store = new TestStore();
  const shard = store.shard;
  const N = 100000;
  const bySlot = new Map<number, string[]>();
  for (let i = 0; i < N; i++) {
    const key = `key:${i}`;
    store.set(1, key, String(i));
    const s = store.slotIndexOf(key);
    let list = bySlot.get(s);
    if (!list) bySlot.set(s, (list = []));
    list.push(key);
  }
  t.equal(shard.dbKeys(1), N);
  t.equal(shard.dbKeys(0), 0);
  let countMismatch = 0;
  let total = 0;
  for (let s = 0; s < 16384; s++) {
    const n = shard.slotKeys(1, s);
    total += n;
    if (n !== (bySlot.get(s)?.length ?? 0)) countMismatch++;
  }
  t.equal(countMismatch, 0, 'every slot counts its own keys');
  t.equal(total, N);
  let enumMismatch = 0;
  for (const [s, keys] of bySlot) {
    if (store.keysInSlot(1, s).sort().join() !== [...keys].sort().join()) enumMismatch++;
  }
  t.equal(enumMismatch, 0, 'every slot enumerates exactly its keys');

  const someSlot = [...bySlot.keys()][0];
  const stopAfter: string[] = [];
  shard.forEachInSlot(1, someSlot, (e) => {
    stopAfter.push(store.keyOf(e));
    return false;
  });
  t.equal(stopAfter.length, 1, 'returning false stops the enumeration');

  const live = shard.liveBytes;
  const flushed = bySlot.get(someSlot)!;
  t.equal(shard.flushSlot(1, someSlot), flushed.length, 'flushSlot reports how many keys it removed');
  t.equal(shard.slotKeys(1, someSlot), 0);
  t.equal(shard.dbKeys(1), N - flushed.length);
  t.ok(shard.liveBytes < live);
  t.equal(store.get(1, flushed[0]), null);

  for (let i = 0; i < N; i++) store.del(1, `key:${i}`);
  let tables = 0;
  for (let s = 0; s < 16384; s++) if (store.table(1, s).table0 !== 0) tables++;
  t.equal(tables, 0, 'no slot keeps a table once empty');
  t.equal(shard.dbKeys(1), 0);
});

t.test('flushSlot of a big slot leaves no table behind, even mid-rehash', async (t) => {
  const store = new TestStore();
  const shard = store.shard;
  store.set(0, 'elsewhere', 'x');
  const baseLive = shard.liveBytes;
  const slot = store.slotIndexOf('{big}');
  for (let i = 0; i < 20000; i++) store.set(0, `{big}:${i}`, 'v');
  t.equal(shard.flushSlot(0, slot), 20000);
  t.same(store.table(0, slot), { table0: 0, buckets0: 0, table1: 0, buckets1: 0, rehashing: false });
  t.equal(shard.u32[H_REHASHING], 0, 'no rehash left pending for an empty slot');
  t.equal(shard.liveBytes, baseLive, 'the tables were freed with the keys');
  t.equal(store.get(0, 'elsewhere'), 'x');
});

t.test('freed memory is reused: the arena stays flat', async (t) => {
  const store = new TestStore();
  const shard = store.shard;
  store.set(0, 'anchor', 'x');
  const baseLive = shard.liveBytes;
  let arenaAfterFirst = 0;
  for (let round = 0; round < 15; round++) {
    for (let i = 0; i < 20000; i++) store.set(0, `k:${i}`, 'v'.repeat((i * 37) % 300));
    for (let i = 0; i < 20000; i += 3) store.set(0, `k:${i}`, 'w'.repeat((i * 11) % 2000));
    for (let i = 0; i < 20000; i++) store.del(0, `k:${i}`);
    if (shard.liveBytes !== baseLive) t.fail(`round ${round}: ${shard.liveBytes - baseLive} bytes still live`);
    if (round === 0) arenaAfterFirst = shard.arenaBytes;
    else if (shard.arenaBytes !== arenaAfterFirst) t.fail(`round ${round}: the arena grew to ${shard.arenaBytes} from ${arenaAfterFirst}`);
  }
  t.equal(shard.liveBytes, baseLive, 'live bytes back to the baseline after every round');
  t.equal(shard.arenaBytes, arenaAfterFirst, 'no new arena after the first round');

  // A random steady-state workload: the arena stops growing once warm.
  const random = prng(3);
  const churn = (ops: number) => {
    for (let i = 0; i < ops; i++) {
      const key = `r:${Math.floor(random() * 5000)}`;
      if (random() < 0.5) store.set(0, key, 'z'.repeat(Math.floor(random() * 200)));
      else store.del(0, key);
    }
  };
  churn(100000);
  const warm = shard.arenaBytes;
  churn(100000);
  t.ok(shard.arenaBytes - warm <= warm * 0.05, `steady state: arena ${warm} -> ${shard.arenaBytes}`);
});

interface ScanRun {
  visits: Map<string, number>;
  sizes: Set<number>;
  sawRehashBetween: boolean;
}

function scanWhile(store: TestStore, db: number, slot: number, between: (step: number) => void): ScanRun {
  const visits = new Map<string, number>();
  const sizes = new Set<number>();
  let sawRehashBetween = false;
  let cursor = 0;
  let steps = 0;
  do {
    cursor = store.shard.scanSlot(db, slot, cursor, (e) => {
      const k = store.keyOf(e);
      visits.set(k, (visits.get(k) ?? 0) + 1);
    });
    between(++steps);
    const tb = store.table(db, slot);
    sizes.add(tb.buckets0);
    if (tb.buckets1 !== 0) sizes.add(tb.buckets1);
    sawRehashBetween ||= tb.rehashing;
    if (steps > 2_000_000) throw new Error('scan did not terminate');
  } while (cursor !== 0);
  return { visits, sizes, sawRehashBetween };
}

t.test('SCAN returns every key present for the whole scan', async (t) => {
  const slot = new TestStore().slotIndexOf('{scan}');
  const stable = Array.from({ length: 300 }, (_, i) => `{scan}:stable:${i}`);
  const missing = (run: ScanRun) => stable.filter((k) => !run.visits.has(k)).length;

  t.test('while the table grows', async (t) => {
    const store = new TestStore();
    for (const k of stable) store.set(0, k, 'v');
    let added = 0;
    const run = scanWhile(store, 0, slot, () => {
      for (let i = 0; i < 97 && added < 60000; i++) store.set(0, `{scan}:new:${added++}`, 'v');
      store.lookup(0, stable[0]);
    });
    t.ok(run.sizes.size >= 4 && run.sawRehashBetween, `the table was resized during the scan (${[...run.sizes].join(', ')})`);
    t.equal(missing(run), 0);
  });

  t.test('while the table shrinks', async (t) => {
    const store = new TestStore();
    for (const k of stable) store.set(0, k, 'v');
    const extra = 40000;
    for (let i = 0; i < extra; i++) store.set(0, `{scan}:old:${i}`, 'v');
    store.finishRehash(0);
    let deleted = 0;
    const run = scanWhile(store, 0, slot, () => {
      for (let i = 0; i < 23 && deleted < extra; i++) store.del(0, `{scan}:old:${deleted++}`);
      // Lookups move the incremental rehash along, as traffic does.
      for (let i = 0; i < 20; i++) store.lookup(0, stable[(deleted + i) % stable.length]);
    });
    t.ok(run.sizes.size >= 3 && run.sawRehashBetween, `the table was resized during the scan (${[...run.sizes].join(', ')})`);
    t.equal(missing(run), 0);
  });

  t.test('while keys come and go at random', async (t) => {
    for (let seed = 1; seed <= 4; seed++) {
      const store = new TestStore();
      for (const k of stable) store.set(0, k, 'v');
      const random = prng(seed);
      let grow = true;
      const run = scanWhile(store, 0, slot, (step) => {
        if (step % 50 === 0) grow = !grow;
        const ops = Math.floor(random() * 60);
        for (let i = 0; i < ops; i++) {
          const k = `{scan}:churn:${Math.floor(random() * 6000)}`;
          if (grow ? random() < 0.9 : random() < 0.1) store.set(0, k, 'v');
          else store.del(0, k);
        }
      });
      t.ok(run.sizes.size >= 2, `seed ${seed}: resized during the scan (${[...run.sizes].join(', ')})`);
      t.equal(missing(run), 0, `seed ${seed}`);
      const strays = [...run.visits.keys()].filter((k) => !k.startsWith('{scan}:'));
      t.same(strays, [], 'only keys of the slot are visited');
    }
  });

  t.test('a table that does not change: every key exactly once', async (t) => {
    const store = new TestStore();
    const keys = Array.from({ length: 5000 }, (_, i) => `{scan}:${i}`);
    for (const k of keys) store.set(0, k, 'v');
    store.finishRehash(0);
    t.notOk(store.table(0, slot).rehashing);
    const still = scanWhile(store, 0, slot, () => {});
    t.equal(still.visits.size, keys.length);
    t.ok([...still.visits.values()].every((n) => n === 1), 'no duplicates');

    // Stop in the middle of a growth: both tables hold keys.
    let i = keys.length;
    while (!store.table(0, slot).rehashing) store.set(0, `{scan}:${i++}`, 'v');
    t.ok(store.table(0, slot).buckets0 >= 64, 'large enough to rehash incrementally');
    const mid = scanWhile(store, 0, slot, () => {});
    t.equal(mid.visits.size, i, 'a table stopped mid-rehash is covered');
    t.ok([...mid.visits.values()].every((n) => n === 1), 'no duplicates mid-rehash');
  });

  t.test('an empty slot scans to cursor 0 at once', async (t) => {
    const store = new TestStore();
    t.equal(store.shard.scanSlot(0, slot, 0, () => t.fail('nothing to visit')), 0);
  });
});

t.test('TTLs: set, persist, relocation, volatile bookkeeping', async (t) => {
  const store = new TestStore();
  const shard = store.shard;
  store.set(0, 'anchor', 'x');
  const baseLive = shard.liveBytes;

  const plain = store.set(0, 'plain', 'some value');
  const moved = shard.setExpire(0, plain, 1_700_000_000_123);
  t.not(moved, plain, 'an entry without a TTL section moves to gain one');
  t.equal(store.lookup(0, 'plain'), moved, 'the table points at the moved entry');
  t.equal(store.valueOf(moved), 'some value', 'the value moved with it');
  t.equal(shard.expireAt(moved), 1_700_000_000_123);
  t.equal(shard.dbVolatile(0), 1);
  t.equal(shard.randomVolatile(0), moved);
  t.ok(shard.persist(0, moved));
  t.equal(shard.expireAt(moved), -1);
  t.equal(shard.dbVolatile(0), 0);
  t.notOk(shard.persist(0, moved), 'persist of a key without TTL reports false');
  t.equal(shard.setExpire(0, moved, 5), moved, 'the TTL section stays: a new TTL does not move it');
  t.equal(shard.expireAt(moved), 5);

  const ready = store.set(0, 'ready', 'v', true);
  t.equal(shard.setExpire(0, ready, 42), ready, 'an entry inserted with a TTL section keeps its place');
  t.equal(shard.setExpire(0, ready, 43), ready);
  t.equal(shard.dbVolatile(0), 2, 'setting a TTL twice counts the key once');

  // Many volatile keys, some relocated by TTLs and value growth, removed in random order.
  const N = 3000;
  for (let i = 0; i < N; i++) {
    const e = store.set(0, `vol:${i}`, `v${i}`, i % 2 === 0);
    shard.setExpire(0, e, 1e12 + i);
  }
  for (let i = 0; i < N; i += 3) {
    const e = store.lookup(0, `vol:${i}`);
    const n = shard.resizeValue(0, e, 500, 0, false);
    shard.u8.fill(0x41, shard.valueStart(n), shard.valueStart(n) + 500);
  }
  let v = volatileEntries(store, 0);
  t.ok(v.consistent, 'every volatile array slot points back at itself');
  t.equal(v.entries.length, N + 2);
  const expected = new Set<number>([moved, ready]);
  for (let i = 0; i < N; i++) expected.add(store.lookup(0, `vol:${i}`));
  t.same(new Set(v.entries), expected, 'the volatile array holds the current offsets of exactly the volatile keys');
  let wrongTtl = 0;
  for (let i = 0; i < N; i++) if (shard.expireAt(store.lookup(0, `vol:${i}`)) !== 1e12 + i) wrongTtl++;
  t.equal(wrongTtl, 0, 'TTLs survive relocation');
  const peakCapacity = v.capacity;

  const random = prng(11);
  const order = Array.from({ length: N }, (_, i) => i);
  for (let j = order.length - 1; j > 0; j--) {
    const k = Math.floor(random() * (j + 1));
    [order[j], order[k]] = [order[k], order[j]];
  }
  for (let j = 0; j < order.length; j++) {
    store.del(0, `vol:${order[j]}`);
    if (j % 500 === 0 && !volatileEntries(store, 0).consistent) t.fail(`inconsistent after ${j} removals`);
  }
  v = volatileEntries(store, 0);
  t.ok(v.consistent);
  t.equal(v.entries.length, 2);
  t.ok(v.capacity < peakCapacity, `the volatile array shrank (${peakCapacity} -> ${v.capacity})`);
  t.equal(shard.dbVolatile(0), 2);
  store.del(0, 'plain');
  store.del(0, 'ready');
  t.equal(shard.dbVolatile(0), 0);
  t.equal(shard.randomVolatile(0), 0);
  t.equal(shard.liveBytes, baseLive, 'entries and the volatile array all freed');
});

t.test('lazy expiry in find', async (t) => {
  const store = new TestStore();
  const shard = store.shard;
  const e = store.set(0, 'k', 'v');
  shard.setExpire(0, e, 1000);
  t.not(store.find(0, 'k', 999), 0, 'alive before its time');
  shard.keepExpired = true;
  t.equal(store.find(0, 'k', 1000), 0, 'a replica reports it missing once due');
  t.not(store.lookup(0, 'k'), 0, 'but keeps it');
  t.equal(shard.expiredKeys, 0);
  shard.keepExpired = false;
  t.equal(store.find(0, 'k', 1000), 0, 'missing once due');
  t.equal(store.lookup(0, 'k'), 0, 'and removed');
  t.equal(shard.expiredKeys, 1);
  t.equal(shard.dbVolatile(0), 0);
  t.equal(shard.dbKeys(0), 0);
});

t.test('resizeValue in place and moving', async (t) => {
  const store = new TestStore();
  const shard = store.shard;
  const e = store.set(0, 'key', 'abcd');
  const block = shard.blockSize(e);
  t.equal(block, classSize(sizeClassOf(24 + 3 + 4)));
  const same = shard.resizeValue(0, e, block - 24 - 3, 4, false);
  t.equal(same, e, 'growing within the block stays in place');
  t.equal(shard.valueLength(e), block - 27);
  t.equal(store.valueOf(e).slice(0, 4), 'abcd');

  const live = shard.liveBytes;
  const big = shard.resizeValue(0, store.lookup(0, 'key'), 1000, 4, false);
  t.not(big, e, 'growing past the block moves the entry');
  t.equal(store.lookup(0, 'key'), big);
  t.equal(store.keyOf(big), 'key');
  t.equal(store.valueOf(big).slice(0, 4), 'abcd', 'the kept bytes moved along');
  t.ok(shard.valueCapacity(big) >= 1000);
  t.equal(shard.liveBytes, live - block + shard.blockSize(big));
  t.equal(store.set(0, 'xyz', 'abcd'), e, 'the old block is reused by the next allocation of its class');

  shard.u8.fill(0x42, shard.valueStart(big), shard.valueStart(big) + 1000);
  // resizeValue relinks through the last lookup: find the key again after inserting 'xyz'.
  const small = shard.resizeValue(0, store.lookup(0, 'key'), 10, 10, false);
  t.not(small, big, 'shrinking far below the block moves to a smaller one');
  t.ok(shard.blockSize(small) < 100);
  t.equal(store.valueOf(small), 'B'.repeat(10));

  // Relocating an entry in the middle of a bucket chain keeps the chain.
  const chained: string[] = [];
  const slot = store.slotIndexOf('{chain}');
  for (let i = 0; chained.length < 4; i++) {
    const k = toBytes(`{chain}:${i}`);
    if ((hashBytes(k, 0, k.length) & 3) === 0) chained.push(`{chain}:${i}`);
  }
  for (const k of chained) store.set(2, k, `short-${k}`);
  t.equal(store.table(2, slot).buckets0, 4, 'all four keys share one bucket of a 4-bucket table');
  for (const k of [chained[1], chained[2]]) {
    const n = shard.resizeValue(2, store.lookup(2, k), 300, 0, false);
    shard.u8.fill(0x43, shard.valueStart(n), shard.valueStart(n) + 300);
  }
  t.same(chained.map((k) => store.get(2, k)),
    [`short-${chained[0]}`, 'C'.repeat(300), 'C'.repeat(300), `short-${chained[3]}`]);
  t.equal(store.keysInSlot(2, slot).length, 4, 'the chain still links all four');

  const vol = store.set(3, 'vol', 'hello');
  const withTtl = shard.setExpire(3, vol, 77);
  const grown = shard.resizeValue(3, withTtl, 400, 5, false);
  t.not(grown, withTtl);
  t.equal(shard.expireAt(grown), 77, 'a relocated volatile key keeps its TTL');
  t.equal(shard.randomVolatile(3), grown, 'and its volatile slot follows it');
  t.equal(store.valueOf(grown).slice(0, 5), 'hello');
});

t.test('flushDb and flushAll', async (t) => {
  const store = new TestStore();
  const shard = store.shard;
  for (let i = 0; i < 1000; i++) {
    const e = store.set(1, `keep:${i}`, `v${i}`);
    if (i % 4 === 0) shard.setExpire(1, e, 1e13);
  }
  store.finishRehash(1);
  const liveWithDb1 = shard.liveBytes;
  const slot = store.slotIndexOf('{flush}');
  let i = 0;
  for (; i < 20000 || !store.table(0, slot).rehashing; i++) {
    const e = store.set(0, `{flush}:${i}`, 'x'.repeat(i % 50));
    if (i % 3 === 0) shard.setExpire(0, e, 1e13);
  }
  for (let j = 0; j < 3000; j++) store.set(0, `spread:${j}`, 'y');
  const arenaFull = shard.arenaBytes;
  const epoch = shard.epoch;
  t.ok(shard.u32[H_REHASHING] > 0, 'a table is mid-rehash when flushed');

  shard.flushDb(0);
  t.equal(shard.dbKeys(0), 0);
  t.equal(shard.dbVolatile(0), 0);
  t.equal(shard.keyCount, 1000);
  t.equal(shard.liveBytes, liveWithDb1, 'every block of database 0 is back on the free lists');
  t.equal(shard.u32[H_REHASHING], 0);
  t.equal(shard.epoch, epoch + 1);
  t.equal(store.get(0, '{flush}:1'), null);
  let wrong = 0;
  for (let k = 0; k < 1000; k++) if (store.get(1, `keep:${k}`) !== `v${k}`) wrong++;
  t.equal(wrong, 0, 'database 1 untouched');
  t.equal(volatileEntries(store, 1).entries.length, 250);

  for (let j = 0; j < i; j++) {
    const e = store.set(0, `{flush}:${j}`, 'x'.repeat(j % 50));
    if (j % 3 === 0) shard.setExpire(0, e, 1e13);
  }
  for (let j = 0; j < 3000; j++) store.set(0, `spread:${j}`, 'y');
  t.equal(shard.arenaBytes, arenaFull, 'refilling reuses the flushed memory');

  shard.flushAll();
  t.equal(shard.keyCount, 0);
  t.equal(shard.liveBytes, 0);
  t.equal(shard.arenaBytes, shard.headerBytes);
  t.equal(shard.epoch, epoch + 2);
  for (let db = 0; db < 4; db++) t.equal(shard.dbKeys(db), 0);
  t.equal(store.get(1, 'keep:1'), null);
  store.set(1, 'again', 'works');
  t.equal(store.get(1, 'again'), 'works');
  t.equal(shard.keyCount, 1);
});

t.test('randomEntry and randomVolatile', async (t) => {
  const store = new TestStore();
  const shard = store.shard;
  t.equal(shard.randomEntry(0), 0, 'empty database');
  t.equal(shard.randomVolatile(0), 0);
  store.set(1, 'elsewhere', 'x');
  t.equal(shard.randomEntry(0), 0, 'keys in another database do not count');

  const keys = Array.from({ length: 50 }, (_, i) => `rk:${i}`);
  const volatile = new Set<string>();
  for (const [i, k] of keys.entries()) {
    const e = store.set(0, k, 'v');
    if (i % 5 < 3) {
      shard.setExpire(0, e, 1e13);
      volatile.add(k);
    }
  }
  // One slot mid-rehash among them.
  let n = 0;
  while (!store.table(0, store.slotIndexOf('{r}')).rehashing) store.set(0, `{r}:${n++}`, 'v');
  const seen = new Set<string>();
  const seenVolatile = new Set<string>();
  let invalid = 0;
  for (let s = 0; s < 200000; s++) {
    const e = shard.randomEntry(0);
    if (e === 0 || !shard.locate(0, e)) invalid++;
    else seen.add(store.keyOf(e));
  }
  for (let s = 0; s < 5000; s++) {
    const e = shard.randomVolatile(0);
    if (!shard.locate(0, e) || shard.expireAt(e) < 0) invalid++;
    seenVolatile.add(store.keyOf(e));
  }
  t.equal(invalid, 0, 'only live entries are returned');
  t.equal(keys.filter((k) => !seen.has(k)).length, 0, 'every key of the database is reachable');
  t.same(seenVolatile, volatile, 'randomVolatile draws from exactly the keys with a TTL');
});

t.test('the arena grows, and every view of it follows', async (t) => {
  const sab = Shard.allocate(ONE_SHARD, 64 * 1024);
  const otherThreadView = new Shard(sab, 0, ONE_SHARD);
  const store = new TestStore(ONE_SHARD, sab);
  const lengths = new Set<number>([sab.byteLength]);
  for (let i = 0; i < 30000; i++) {
    store.set(0, `g:${i}`, 'p'.repeat(100));
    lengths.add(sab.byteLength);
    if (store.shard.arenaBytes > sab.byteLength) t.fail('the bump pointer ran past the buffer');
  }
  t.ok(lengths.size >= 3, `the buffer grew ${lengths.size - 1} times, to ${sab.byteLength} bytes`);
  t.ok([...lengths].every((n) => n % 65536 === 0), 'grown in 64 KiB units');
  for (let i = 0; i < 10; i++) store.set(3, `late:${i}`, 'v');

  // Unlocked counters (DBSIZE, INFO) read from another thread's stale views must still be right.
  t.equal(otherThreadView.dbKeys(3), 10, 'a database block allocated after growth is readable without the lock');
  t.equal(otherThreadView.slotKeys(3, store.slotIndexOf('late:1')), 1);
  t.equal(otherThreadView.keyCount, 30010);

  otherThreadView.lock();
  try {
    const other = new TestStore(ONE_SHARD, otherThreadView);
    let wrong = 0;
    for (let i = 0; i < 30000; i += 7) if (other.get(0, `g:${i}`) !== 'p'.repeat(100)) wrong++;
    t.equal(wrong, 0, 'after taking the lock, another view reads every key');
  } finally {
    otherThreadView.unlock();
  }
});

t.test('entries past 2 GiB in the arena', async (t) => {
  const store = new TestStore();
  const shard = store.shard;
  // Start the bump pointer at 2 GiB: every block lands at an offset >= 2^31,
  // where a signed `>> 2` index would go negative. Memory is only committed
  // for the pages touched.
  shard.u32[H_TOP] = 2 ** 31;
  const N = 5000;
  for (let i = 0; i < N; i++) {
    const e = store.set(0, `{hi}:${i}`, `value:${i}`, i % 3 === 0);
    if (i % 2 === 0) shard.setExpire(0, e, 1e12 + i);
  }
  t.ok(store.lookup(0, '{hi}:0') >= 2 ** 31);
  let wrong = 0;
  for (let i = 0; i < N; i++) if (store.get(0, `{hi}:${i}`) !== `value:${i}`) wrong++;
  t.equal(wrong, 0, 'every key reads back');
  for (let i = 0; i < N; i += 5) {
    const n = shard.resizeValue(0, store.lookup(0, `{hi}:${i}`), 300, 0, false);
    shard.u8.fill(0x44, shard.valueStart(n), shard.valueStart(n) + 300);
  }
  const v = volatileEntries(store, 0);
  t.ok(v.consistent);
  t.equal(v.entries.length, N / 2);
  t.equal(shard.expireAt(store.lookup(0, '{hi}:10')), 1e12 + 10);
  const slot = store.slotIndexOf('{hi}');
  const visits = new Set<string>();
  let cursor = 0;
  do cursor = shard.scanSlot(0, slot, cursor, (e) => visits.add(store.keyOf(e))); while (cursor !== 0);
  t.equal(visits.size, N, 'scan covers them');
  for (let i = 0; i < N; i++) store.del(0, `{hi}:${i}`);
  t.equal(shard.dbKeys(0), 0);
  t.equal(shard.dbVolatile(0), 0);
  t.equal(volatileEntries(store, 0).entries.length, 0);
});

t.test('a shard of a multi-shard keyspace holds slot indexes, not slots', async (t) => {
  const geometry = { databases: 1, shardBits: 4 };
  const store = new TestStore(geometry);
  t.equal(store.shard.slotsPerShard, 1024);
  const keys: string[] = [];
  for (let i = 0; keys.length < 2000; i++) if ((keyHashSlotOfString(`m:${i}`) & 15) === 0) keys.push(`m:${i}`);
  for (const k of keys) store.set(0, k, k);
  let wrong = 0;
  for (const k of keys) if (store.get(0, k) !== k) wrong++;
  t.equal(wrong, 0);
  const victim = keys[0];
  const slotIndex = keyHashSlotOfString(victim) >> 4;
  const inSlot = keys.filter((k) => keyHashSlotOfString(k) >> 4 === slotIndex).length;
  t.equal(store.shard.slotKeys(0, slotIndex), inSlot);
  t.equal(store.shard.flushSlot(0, slotIndex), inSlot, 'locate() finds entries by their slot index');
  t.equal(store.get(0, victim), null);
});

t.test('a full arena fails an operation cleanly', async (t) => {
  // The largest shard: 4 GiB less a page (pages past the ones touched are never committed).
  const MAX_SHARD_BYTES = 2 ** 32 - 4096;
  /** No room left: the bump pointer at the end, and the free lists forgotten (their blocks leak, nothing else). */
  const fillArena = (store: TestStore, room = 0) => {
    store.shard.u32[H_TOP] = MAX_SHARD_BYTES - room;
    const { freeHeads } = headerLayout(store.geometry.databases);
    store.shard.u32.fill(0, freeHeads, freeHeads + CLASS_COUNT);
  };
  const isFull = { name: 'Error', message: 'shard arena is full' };

  t.test('insert into a new slot', async (t) => {
    const store = new TestStore();
    const shard = store.shard;
    store.set(0, 'first', 'x');
    // Room for the entry (40 bytes) but not for the new slot's table after it.
    fillArena(store, 40);
    const live = shard.liveBytes;
    t.throws(() => store.set(0, 'elsewhere', 'abc'), isFull);
    t.equal(shard.liveBytes, live, 'the entry allocated before the table was given back');
    t.equal(shard.keyCount, 1);
    t.equal(store.get(0, 'elsewhere'), null);
    t.equal(store.get(0, 'first'), 'x');
  });

  t.test('an insert that would grow its table still succeeds', async (t) => {
    const store = new TestStore();
    const shard = store.shard;
    for (let i = 0; i < 128; i++) store.set(0, `{g}:${i}`, 'v');
    store.finishRehash(0);
    const slot = store.slotIndexOf('{g}');
    // Room for the next entry (32 bytes), not for the 256-bucket table its insert would grow to.
    fillArena(store, 32);
    store.set(0, '{g}:128', 'v');
    t.equal(store.get(0, '{g}:128'), 'v', 'the key went into the current table');
    t.equal(store.table(0, slot).buckets0, 128);
    t.notOk(store.table(0, slot).rehashing);
    t.equal(shard.slotKeys(0, slot), 129);
  });

  t.test('setExpire without room for the volatile array', async (t) => {
    const store = new TestStore();
    const shard = store.shard;
    const e = store.set(0, 'k', 'v', true);
    fillArena(store);
    t.throws(() => shard.setExpire(0, e, 123), isFull);
    t.equal(shard.expireAt(e), -1, 'the key did not become volatile');
    t.equal(shard.dbVolatile(0), 0);
    t.ok(store.del(0, 'k'), 'and can be deleted normally');
    t.equal(shard.keyCount, 0);
  });

  t.test('deletes that would shrink tables and arrays', async (t) => {
    const store = new TestStore();
    const shard = store.shard;
    for (let i = 0; i < 200; i++) shard.setExpire(0, store.set(0, `{d}:${i}`, 'v', true), 1e13);
    store.finishRehash(0);
    t.equal(volatileEntries(store, 0).capacity, 256);
    fillArena(store);
    let failures = 0;
    for (let i = 0; i < 199; i++) {
      try {
        store.del(0, `{d}:${i}`);
      } catch {
        failures++;
      }
    }
    t.equal(failures, 0, 'a shrink that cannot be allocated is skipped, the delete still succeeds');
    t.equal(shard.keyCount, 1);
    t.equal(shard.dbVolatile(0), 1);
    t.ok(volatileEntries(store, 0).consistent);
    t.equal(store.get(0, '{d}:199'), 'v');
  });
});
