/**
 * The store under real worker threads: several threads map the same shards
 * (SharedArrayBuffers that start small and grow while in use) and hammer the
 * same keys under the shard locks. Every result is checked exactly.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { compileStore, type CompiledStore } from './helpers/compiled-store.js';

const WORKERS = 4;
const DATABASES = 2;
const SHARD_BITS = 1;
/** Small on purpose: the shards grow while other threads hold views of them. */
const INITIAL_SHARD_BYTES = 64 * 1024;
const T0 = 1_800_000_000_000;

/*
 * The worker: a few commands written against the store the way the command
 * layer uses it (find / insert / resizeValue / remove / setExpire under the
 * shard lock), then the task it was given. It waits on a shared start flag so
 * that all threads begin together.
 */
const WORKER_SOURCE = `
import { parentPort, workerData } from 'node:worker_threads';
import { Keyspace } from './store/keyspace.js';
import { hashBytes, keyHashSlot } from './store/key-hash.js';
import { activeExpireCycle } from './store/maintenance.js';

const E_VALLEN = 12;
const { buffers, task, id, params, start, done } = workerData;
const ks = new Keyspace(buffers);
const db = 1;

function ref(name) {
  const k = Buffer.from(name, 'latin1');
  const slot = keyHashSlot(k, 0, k.length);
  return { k, shard: ks.shardOf(slot), slotIndex: ks.slotIndex(slot), hash: hashBytes(k, 0, k.length) };
}
function find(r, now) {
  return r.shard.find(db, r.slotIndex, r.k, 0, r.k.length, r.hash, now);
}
function valueOf(s, e) {
  const p = s.valueStart(e);
  return Buffer.from(s.u8.subarray(p, p + s.valueLength(e))).toString('latin1');
}
/** SET: returns whether the key was created. */
function set(r, value, now) {
  const s = r.shard;
  const v = Buffer.from(value, 'latin1');
  let e = find(r, now);
  const created = e === 0;
  if (created) e = s.insert(db, r.slotIndex, r.k, 0, r.k.length, r.hash, 0, v.length, false);
  else {
    s.persist(db, e);
    e = s.resizeValue(db, e, v.length, 0, false);
  }
  s.u32[(e + E_VALLEN) >>> 2] = v.length;
  s.u8.set(v, s.valueStart(e));
  return created ? -e : e;
}
function locked(r, fn) {
  r.shard.lock();
  try {
    return fn();
  } finally {
    r.shard.unlock();
  }
}
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const tasks = {
  incr() {
    const counters = params.counters.map(ref);
    for (let i = 0; i < params.rounds; i++) {
      for (const r of counters) {
        locked(r, () => {
          const e = find(r, T0);
          const n = e === 0 ? 0 : Number(valueOf(r.shard, e));
          set(r, String(n + 1), T0);
        });
      }
    }
    return {};
  },
  append() {
    const targets = params.keys.map(ref);
    const piece = Buffer.from(String.fromCharCode(97 + id).repeat(params.pieceLength), 'latin1');
    for (let i = 0; i < params.rounds; i++) {
      for (const r of targets) {
        locked(r, () => {
          const s = r.shard;
          let e = find(r, T0);
          let old = 0;
          if (e === 0) e = s.insert(db, r.slotIndex, r.k, 0, r.k.length, r.hash, 0, piece.length, false);
          else {
            old = s.valueLength(e);
            e = s.resizeValue(db, e, old + piece.length, old, false);
          }
          s.u32[(e + E_VALLEN) >>> 2] = old + piece.length;
          s.u8.set(piece, s.valueStart(e) + old);
        });
      }
    }
    return {};
  },
  setdel() {
    const next = random(1000 + id);
    let created = 0;
    let deleted = 0;
    for (let i = 0; i < params.ops; i++) {
      const name = 'pool:' + Math.floor(next() * params.pool);
      const r = ref(name);
      const op = next();
      locked(r, () => {
        if (op < 0.55) {
          const value = name + '|' + id + '|' + 'x'.repeat(Math.floor(next() * 300));
          if (set(r, value, T0) < 0) created++;
        } else {
          const e = find(r, T0);
          if (e !== 0) {
            r.shard.remove(db, e);
            deleted++;
          }
        }
      });
    }
    return { created, deleted };
  },
  expire() {
    if (id === params.reaper) {
      // Active expiry and lazy expiry race the inserting threads.
      const next = random(7);
      let sweeps = 0;
      while (Atomics.load(done, 0) < params.inserters) {
        activeExpireCycle(ks, [0, 1], T0, 1, 1);
        sweeps++;
        for (let i = 0; i < 50; i++) {
          const r = ref('exp:' + Math.floor(next() * params.inserters) + ':' + Math.floor(next() * params.perInserter));
          locked(r, () => find(r, T0));
        }
      }
      return { sweeps };
    }
    for (let i = 0; i < params.perInserter; i++) {
      const name = 'exp:' + id + ':' + i;
      const r = ref(name);
      locked(r, () => {
        const e = Math.abs(set(r, name, T0));
        r.shard.setExpire(db, e, i % 2 === 0 ? T0 - 1 : T0 + 3600000);
      });
    }
    Atomics.add(done, 0, 1);
    return {};
  },
};

const T0 = ${T0};
Atomics.add(start, 1, 1);
Atomics.wait(start, 0, 0);
const result = tasks[task]();
parentPort.postMessage(result);
`;

type Compiled = {
  store: CompiledStore;
  shardModule: any;
  keyspaceModule: any;
  keyHashModule: any;
  workerPath: string;
};

async function load(): Promise<Compiled> {
  const store = compileStore();
  const workerPath = path.join(store.dir, 'worker.mjs');
  fs.writeFileSync(workerPath, WORKER_SOURCE);
  return {
    store,
    workerPath,
    shardModule: await import(store.url('shard.js')),
    keyspaceModule: await import(store.url('keyspace.js')),
    keyHashModule: await import(store.url('key-hash.js')),
  };
}

function newBuffers(c: Compiled) {
  const geometry = { databases: DATABASES, shardBits: SHARD_BITS };
  const shards: SharedArrayBuffer[] = [];
  for (let i = 0; i < 1 << SHARD_BITS; i++) shards.push(c.shardModule.Shard.allocate(geometry, INITIAL_SHARD_BYTES));
  const dbMap = new SharedArrayBuffer(DATABASES * 4);
  new Int32Array(dbMap).set([0, 1]);
  return { shards, dbMap, databases: DATABASES, shardBits: SHARD_BITS };
}

/** Runs `count` workers on one task, started together; resolves with their results. */
async function runWorkers(c: Compiled, buffers: object, task: string, params: object, count = WORKERS): Promise<any[]> {
  const start = new Int32Array(new SharedArrayBuffer(8));
  const done = new Int32Array(new SharedArrayBuffer(4));
  const workers = Array.from({ length: count }, (_, id) => new Worker(c.workerPath, {
    workerData: { buffers, task, id, params, start, done },
    // Plain Node for the workers: tap's TypeScript loader is not needed.
    execArgv: [],
  }));
  const results = workers.map((w) => new Promise<any>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`worker exited with ${code}`))));
  }));
  while (Atomics.load(start, 1) < count) await new Promise((r) => setTimeout(r, 5));
  Atomics.store(start, 0, 1);
  Atomics.notify(start, 0);
  try {
    return await Promise.all(results);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Reads a key's value from the main thread (after the workers are done). */
function reader(c: Compiled, buffers: object) {
  const ks = new c.keyspaceModule.Keyspace(buffers);
  const { keyHashSlot, hashBytes } = c.keyHashModule;
  return {
    ks,
    get(name: string, now = T0): string | null {
      const k = Buffer.from(name, 'latin1');
      const slot = keyHashSlot(k, 0, k.length);
      const s = ks.shardOf(slot);
      s.lock();
      try {
        const e = s.find(1, ks.slotIndex(slot), k, 0, k.length, hashBytes(k, 0, k.length), now);
        if (e === 0) return null;
        const p = s.valueStart(e);
        return Buffer.from(s.u8.subarray(p, p + s.valueLength(e))).toString('latin1');
      } finally {
        s.unlock();
      }
    },
    /** Table-wide consistency of database 1: counts, enumeration, volatile entries. */
    check(): { keys: number; enumerated: number; slotSum: number; volatile: number; volatileEnumerated: number; names: string[] } {
      let keys = 0;
      let enumerated = 0;
      let slotSum = 0;
      let volatile = 0;
      let volatileEnumerated = 0;
      const names: string[] = [];
      for (const s of ks.shards) {
        s.lock();
        try {
          keys += s.dbKeys(1);
          volatile += s.dbVolatile(1);
          for (let si = 0; si < s.slotsPerShard; si++) {
            slotSum += s.slotKeys(1, si);
            s.forEachInSlot(1, si, (e: number) => {
              enumerated++;
              if (s.expireAt(e) >= 0) volatileEnumerated++;
              const p = s.keyStart(e);
              names.push(Buffer.from(s.u8.subarray(p, s.valueStart(e))).toString('latin1'));
            });
          }
        } finally {
          s.unlock();
        }
      }
      return { keys, enumerated, slotSum, volatile, volatileEnumerated, names };
    },
  };
}

t.test('concurrent store access from worker threads', async (t) => {
  const c = await load();
  t.teardown(() => c.store.remove());

  t.test('increments: exact totals', async (t) => {
    const buffers = newBuffers(c);
    const counters = Array.from({ length: 8 }, (_, i) => `counter:${i}`);
    const rounds = 5000;
    await runWorkers(c, buffers, 'incr', { counters, rounds });
    const r = reader(c, buffers);
    t.same(counters.map((k) => r.get(k)), counters.map(() => String(WORKERS * rounds)),
      `${WORKERS} threads x ${rounds} increments on each counter, none lost`);
    const shardsUsed = new Set(counters.map((k) => c.keyHashModule.keyHashSlot(Buffer.from(k), 0, k.length) & 1));
    t.equal(shardsUsed.size, 2, 'the counters live in both shards');
  });

  t.test('appends: exact lengths and contents while values move and shards grow', async (t) => {
    const buffers = newBuffers(c);
    const keys = ['log:a', 'log:b', 'log:{a}', 'log:{b}'];
    const rounds = 1500;
    const pieceLength = 7;
    await runWorkers(c, buffers, 'append', { keys, rounds, pieceLength });
    const r = reader(c, buffers);
    for (const k of keys) {
      const v = r.get(k) ?? '';
      t.equal(v.length, WORKERS * rounds * pieceLength, `${k}: every append landed`);
      for (let w = 0; w < WORKERS; w++) {
        const ch = String.fromCharCode(97 + w);
        if (v.split(ch).length - 1 !== rounds * pieceLength) t.fail(`${k}: thread ${w}'s bytes`);
      }
      let torn = 0;
      for (let p = 0; p < v.length; p += pieceLength) if (v.slice(p, p + pieceLength) !== v[p].repeat(pieceLength)) torn++;
      t.equal(torn, 0, `${k}: appends never interleave inside a piece`);
    }
    t.ok(buffers.shards.every((s) => s.byteLength > INITIAL_SHARD_BYTES), 'both shards grew during the run');
  });

  t.test('set/delete races: the table stays exact', async (t) => {
    const buffers = newBuffers(c);
    const pool = 3000;
    const results = await runWorkers(c, buffers, 'setdel', { ops: 40000, pool });
    const created = results.reduce((n, x) => n + x.created, 0);
    const deleted = results.reduce((n, x) => n + x.deleted, 0);
    const r = reader(c, buffers);
    const state = r.check();
    t.ok(created > 1000 && deleted > 1000, `${created} creations and ${deleted} deletions raced`);
    t.equal(state.keys, created - deleted, 'live keys = creations - deletions');
    t.equal(state.enumerated, state.keys, 'enumeration finds exactly the counted keys');
    t.equal(state.slotSum, state.keys, 'per-slot counts add up');
    t.equal(new Set(state.names).size, state.names.length, 'no key is stored twice');
    let corrupt = 0;
    for (const name of state.names) {
      const v = r.get(name);
      if (v === null || !/^pool:\d+\|[0-3]\|x*$/.test(v) || !v.startsWith(name + '|')) corrupt++;
    }
    t.equal(corrupt, 0, 'every value is whole and belongs to its key');
  });

  t.test('expiry: lazy and active expiry racing inserts', async (t) => {
    const buffers = newBuffers(c);
    const inserters = WORKERS - 1;
    const perInserter = 4000;
    const results = await runWorkers(c, buffers, 'expire', { inserters, perInserter, reaper: WORKERS - 1 });
    t.ok(results[WORKERS - 1].sweeps > 0, 'the active expiry ran during the inserts');
    const r = reader(c, buffers);
    const expiredDuringRun = r.ks.expiredKeys();
    t.ok(expiredDuringRun > 0, `${expiredDuringRun} keys expired while the inserts went on`);
    let wrong = 0;
    for (let w = 0; w < inserters; w++) {
      for (let i = 0; i < perInserter; i++) {
        const name = `exp:${w}:${i}`;
        if (r.get(name) !== (i % 2 === 0 ? null : name)) wrong++;
      }
    }
    t.equal(wrong, 0, 'keys past their TTL are gone, the others intact');
    const total = inserters * perInserter;
    t.equal(r.ks.expiredKeys(), total / 2, 'each expired key was removed and counted exactly once');
    const state = r.check();
    t.equal(state.keys, total / 2);
    t.equal(state.enumerated, total / 2);
    t.equal(state.volatile, total / 2, 'the volatile count matches');
    t.equal(state.volatileEnumerated, total / 2);
  });
});
