/**
 * Hashes, sets and sorted sets under concurrent clients on every worker
 * thread: 16 connections spread over 4 threads hammer the same keys with
 * pipelines (so the same shard lock is fought over by every thread, and the
 * collections change encoding while they are contended), and every end
 * result is checked exactly: counter totals, contents, members popped or
 * moved exactly once, blocking pops served by pushes from other threads
 * exactly once. Counts are bounded so that the file runs in seconds.
 */
import t from 'tap';
import { RawClient, encodeCommand, startWeft } from './helpers/servers.js';
import { parseResp } from './helpers/differential.js';
import { prng } from './helpers/prng.js';

const THREADS = 4;
const CONNECTIONS = 16;
/** Commands per pipeline. */
const PIPELINE = 100;

const text = (b: Buffer) => b.toString('latin1');
const int = (b: Buffer) => {
  const m = /^:(-?\d+)\r\n$/.exec(text(b));
  if (!m) throw new Error(`not an integer reply: ${JSON.stringify(text(b))}`);
  return Number(m[1]);
};
/** The texts of a flat array reply (a null array gives []). */
const items = (b: Buffer) => {
  const r = parseResp(text(b));
  if (r.type === '-') throw new Error(r.text);
  return r.items.map((i) => i.text);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const seed = Number(process.env.WEFT_SEED ?? Math.floor(Math.random() * 2 ** 31));
t.comment(`seed ${seed} (WEFT_SEED=${seed} to replay)`);

const weft = await startWeft([], { threads: THREADS });
t.teardown(() => weft.stop());
const conns = await Promise.all(Array.from({ length: CONNECTIONS }, () => RawClient.connect(weft.port)));
t.teardown(() => conns.forEach((c) => c.close()));
const admin = await RawClient.connect(weft.port);
t.teardown(() => admin.close());

/** Sends each connection's commands in pipelines of PIPELINE, all connections at once; returns every reply. */
async function hammer(cmds: (i: number) => string[][], on: RawClient[] = conns): Promise<Buffer[][]> {
  return Promise.all(on.map(async (c, i) => {
    const mine = cmds(i);
    const replies: Buffer[] = [];
    for (let at = 0; at < mine.length; at += PIPELINE) replies.push(...(await c.pipeline(mine.slice(at, at + PIPELINE), 20000)));
    return replies;
  }));
}

/** Sorted copy, for comparing multisets of strings. */
const sorted = (xs: Iterable<string>) => [...xs].sort();

t.test('the connections are spread over every worker thread', async (t) => {
  const list = text(await admin.command('CLIENT', 'LIST'));
  const threads = new Set([...list.matchAll(/io-thread=(\d+)/g)].map((m) => m[1]));
  t.equal(threads.size, THREADS, `connections on threads ${[...threads].join(', ')}`);
});

t.test('HINCRBY on shared fields from every thread: exact totals, in a listpack hash and in a hashtable one', async (t) => {
  await admin.command('HSET', 'hbig', ...Array.from({ length: 600 }, (_, i) => [`filler${i}`, 'x']).flat());
  t.equal(text(await admin.command('OBJECT', 'ENCODING', 'hbig')), '$9\r\nhashtable\r\n', 'hbig is a hashtable');
  const expected = new Map<string, number>();
  const replies = await hammer((i) => Array.from({ length: 4000 }, (_, k) => {
    const key = k % 2 === 0 ? 'hsmall' : 'hbig';
    const field = `f${(i + k) % 5}`;
    const by = (k % 7) - 2;
    const id = `${key}/${field}`;
    expected.set(id, (expected.get(id) ?? 0) + by);
    return ['HINCRBY', key, field, String(by)];
  }));
  t.equal(replies.flat().filter((r) => r[0] !== 0x3a).length, 0, 'every HINCRBY answered an integer');
  for (const key of ['hsmall', 'hbig']) {
    for (let f = 0; f < 5; f++) {
      t.equal(text(await admin.command('HGET', key, `f${f}`)), `$${String(expected.get(`${key}/f${f}`)).length}\r\n${expected.get(`${key}/f${f}`)}\r\n`, `${key} f${f}`);
    }
  }
  t.equal(text(await admin.command('OBJECT', 'ENCODING', 'hsmall')), '$8\r\nlistpack\r\n', 'hsmall is still a listpack');
  t.equal(int(await admin.command('HLEN', 'hbig')), 605, 'hbig has its fillers and the five counters');
});

t.test('HSET of disjoint fields by every connection while the hash turns from listpack into a hashtable', async (t) => {
  const PER = 600;
  const replies = await hammer((i) => Array.from({ length: PER / 2 }, (_, k) =>
    ['HSET', 'hgrow', `c${i}:f${2 * k}`, `v${i}:${2 * k}`, `c${i}:f${2 * k + 1}`, k % 50 === 0 ? 'long'.repeat(20) : `v${i}:${2 * k + 1}`]));
  t.same(replies.flat().map(text).filter((r) => r !== ':2\r\n'), [], 'every HSET created its two fields');
  t.equal(int(await admin.command('HLEN', 'hgrow')), CONNECTIONS * PER, 'HLEN exact');
  const all = items(await admin.command('HGETALL', 'hgrow'));
  const got = new Map<string, string>();
  for (let i = 0; i < all.length; i += 2) got.set(all[i], all[i + 1]);
  let wrong = 0;
  for (let i = 0; i < CONNECTIONS; i++) {
    for (let f = 0; f < PER; f++) {
      const want = f % 2 === 1 && ((f - 1) / 2) % 50 === 0 ? 'long'.repeat(20) : `v${i}:${f}`;
      if (got.get(`c${i}:f${f}`) !== want) wrong++;
    }
  }
  t.equal(got.size, CONNECTIONS * PER, 'HGETALL has every field once');
  t.equal(wrong, 0, 'every field holds its value');
  t.equal(text(await admin.command('OBJECT', 'ENCODING', 'hgrow')), '$9\r\nhashtable\r\n', 'the hash was converted');
});

t.test('SADD of disjoint members racing SREM of the old ones: the exact final set', async (t) => {
  const OLD = CONNECTIONS * 400;
  for (let at = 0; at < OLD; at += 800) await admin.command('SADD', 'sset', ...Array.from({ length: 800 }, (_, j) => `old${at + j}`));
  // Integers: the set starts as an intset and is converted when it passes set-max-intset-entries.
  const replies = await hammer((i) => Array.from({ length: 1200 }, (_, k) => {
    if (k % 3 === 2) return ['SREM', 'sset', `old${i * 400 + (k - 2) / 3}`];
    if (k % 3 === 1) return ['SADD', 'sints', String(i * 1000 + k)];
    return ['SADD', 'sset', `new${i}:${k}`, `new${i}:${k + 3}`];
  }));
  const bad = replies.flatMap((rs, i) => rs.map((r, k) => ({ i, k, r: text(r) })).filter(({ k, r }) => r !== (k % 3 === 0 ? (k < 3 ? ':2\r\n' : ':1\r\n') : ':1\r\n')));
  t.same(bad.slice(0, 5), [], 'each SADD added its new members and each SREM removed its member once');
  const want = new Set<string>();
  for (let i = 0; i < CONNECTIONS; i++) for (let k = 0; k < 1200; k += 3) want.add(`new${i}:${k}`).add(`new${i}:${k + 3}`);
  t.same(sorted(items(await admin.command('SMEMBERS', 'sset'))), sorted(want), 'no old member left, every new one present');
  const ints = items(await admin.command('SMEMBERS', 'sints')).map(Number).sort((a, b) => a - b);
  const wantInts: number[] = [];
  for (let i = 0; i < CONNECTIONS; i++) for (let k = 1; k < 1200; k += 3) wantInts.push(i * 1000 + k);
  t.same(ints, wantInts.sort((a, b) => a - b), 'every integer present once');
  t.equal(text(await admin.command('OBJECT', 'ENCODING', 'sints')), '$9\r\nhashtable\r\n', 'the intset was converted');
});

t.test('SPOP, single and with a count, by many poppers of a set filled by many adders: every member popped once', async (t) => {
  const adders = conns.slice(0, CONNECTIONS / 2);
  const poppers = conns.slice(CONNECTIONS / 2);
  const PER = 1200;
  let adding = true;
  const added: string[] = [];
  const addersDone = hammer((i) => Array.from({ length: PER / 3 }, (_, k) => {
    const ms = [`a${i}:${3 * k}`, `a${i}:${3 * k + 1}`, String(i * 100000 + k)];
    added.push(...ms);
    return ['SADD', 'spop', ...ms];
  }), adders).then((r) => {
    adding = false;
    return r;
  });
  const popped = await Promise.all(poppers.map(async (c, p) => {
    const got: string[] = [];
    for (let empty = 0; adding || empty < 1;) {
      const batch = Array.from({ length: 20 }, (_, k) => ((p + k) % 2 === 0 ? ['SPOP', 'spop'] : ['SPOP', 'spop', String(1 + (k % 5))]));
      const replies = await c.pipeline(batch);
      let none = true;
      replies.forEach((r, k) => {
        const s = text(r);
        if (batch[k].length === 2) {
          if (s !== '$-1\r\n') {
            got.push(parseResp(s).text);
            none = false;
          }
        } else {
          const xs = items(r);
          if (xs.length > 0) none = false;
          got.push(...xs);
        }
      });
      if (!adding && none) empty++;
    }
    return got;
  }));
  const addReplies = await addersDone;
  t.same(addReplies.flat().map(text).filter((r) => r !== ':3\r\n'), [], 'every SADD added three new members');
  const remaining = items(await admin.command('SMEMBERS', 'spop'));
  const all = [...popped.flat(), ...remaining];
  t.comment(`${popped.flat().length} popped, ${remaining.length} left, by poppers ${popped.map((p) => p.length).join(' ')}`);
  t.equal(new Set(all).size, all.length, 'no member popped twice');
  t.same(sorted(all), sorted(added), 'popped and remaining are exactly the members added');
  t.ok(popped.filter((p) => p.length > 0).length >= 2, 'several poppers got members');
});

t.test('SMOVE between two sets racing in both directions: members are conserved and each is where its moves left it', async (t) => {
  const N = 1000;
  for (let at = 0; at < N; at += 500) await admin.command('SADD', '{mv}a', ...Array.from({ length: 500 }, (_, j) => `m${at + j}`));
  const plans = conns.map((_, i) => {
    const rnd = prng(seed + i);
    return Array.from({ length: 3000 }, () => {
      const m = `m${Math.floor(rnd() * 50) * 20}`; // 50 hot members, fought over by every connection
      return rnd() < 0.5 ? ['SMOVE', '{mv}a', '{mv}b', m] : ['SMOVE', '{mv}b', '{mv}a', m];
    });
  });
  const replies = await hammer((i) => plans[i]);
  const net = new Map<string, number>();
  let moved = 0;
  replies.forEach((rs, i) => rs.forEach((r, k) => {
    const [, from, , m] = plans[i][k];
    if (int(r) === 1) {
      moved++;
      net.set(m, (net.get(m) ?? 0) + (from === '{mv}a' ? 1 : -1));
    }
  }));
  t.comment(`${moved} successful moves`);
  t.ok(moved > 100, 'many moves succeeded');
  t.same([...net.entries()].filter(([, n]) => n !== 0 && n !== 1), [], 'no member moved twice the same way in a row');
  const a = items(await admin.command('SMEMBERS', '{mv}a'));
  const b = items(await admin.command('SMEMBERS', '{mv}b'));
  t.equal(a.length + b.length, N, 'no member lost or duplicated');
  t.equal(new Set([...a, ...b]).size, N, 'the two sets are disjoint');
  t.same(sorted(b), sorted([...net.entries()].filter(([, n]) => n === 1).map(([m]) => m)), 'b holds exactly the members whose last successful move took them there');
});

t.test('ZINCRBY on shared members from every thread: exact scores, in a listpack and in a skiplist', async (t) => {
  await admin.command('ZADD', 'zbig', ...Array.from({ length: 300 }, (_, i) => ['1000', `filler${i}`]).flat());
  t.equal(text(await admin.command('OBJECT', 'ENCODING', 'zbig')), '$8\r\nskiplist\r\n', 'zbig is a skiplist');
  const expected = new Map<string, number>();
  // Increments exact in binary: the totals do not depend on the order of the additions.
  const steps = ['0.5', '1', '-0.25', '2', '4.75'];
  await hammer((i) => Array.from({ length: 4000 }, (_, k) => {
    const key = k % 2 === 0 ? 'zsmall' : 'zbig';
    const member = `m${(i * 3 + k) % 8}`;
    const by = steps[(i + k) % steps.length];
    expected.set(`${key}/${member}`, (expected.get(`${key}/${member}`) ?? 0) + Number(by));
    return ['ZINCRBY', key, by, member];
  }));
  for (const key of ['zsmall', 'zbig']) {
    const got: Record<string, number> = {};
    const want: Record<string, number> = {};
    for (let m = 0; m < 8; m++) {
      got[`m${m}`] = Number(parseResp(text(await admin.command('ZSCORE', key, `m${m}`))).text);
      want[`m${m}`] = expected.get(`${key}/m${m}`)!;
    }
    t.same(got, want, `${key}: every score exact`);
  }
  t.equal(text(await admin.command('OBJECT', 'ENCODING', 'zsmall')), '$8\r\nlistpack\r\n', 'zsmall is still a listpack');
});

t.test('ZPOPMIN by poppers while ZADD by pushers: every member popped exactly once, with its score', async (t) => {
  const pushers = conns.slice(0, CONNECTIONS / 2);
  const poppers = conns.slice(CONNECTIONS / 2);
  const PER = 1200;
  const scoreOf = (m: string) => String(Number(m.slice(1).split(':')[1]) % 97);
  const added: string[] = [];
  let pushing = true;
  const pushed = hammer((i) => Array.from({ length: PER / 2 }, (_, k) => {
    const ms = [`p${i}:${2 * k}`, `p${i}:${2 * k + 1}`];
    added.push(...ms);
    return ['ZADD', 'zq', scoreOf(ms[0]), ms[0], scoreOf(ms[1]), ms[1]];
  }), pushers).then((r) => {
    pushing = false;
    return r;
  });
  const popped = await Promise.all(poppers.map(async (c, p) => {
    const got: [string, string][] = [];
    for (let empty = 0; pushing || empty < 1;) {
      const batch = Array.from({ length: 20 }, (_, k) => ((p + k) % 3 === 0 ? ['ZPOPMIN', 'zq'] : ['ZPOPMIN', 'zq', String(1 + (k % 4))]));
      let none = true;
      for (const r of await c.pipeline(batch)) {
        const xs = items(r);
        for (let i = 0; i < xs.length; i += 2) got.push([xs[i], xs[i + 1]]);
        if (xs.length > 0) none = false;
      }
      if (!pushing && none) empty++;
    }
    return got;
  }));
  t.same((await pushed).flat().map(text).filter((r) => r !== ':2\r\n'), [], 'every ZADD added two members');
  const remaining = items(await admin.command('ZRANGE', 'zq', '0', '-1'));
  const all = [...popped.flat().map(([m]) => m), ...remaining];
  t.comment(`${popped.flat().length} popped, ${remaining.length} left`);
  t.equal(new Set(all).size, all.length, 'no member popped twice');
  t.same(sorted(all), sorted(added), 'popped and remaining are exactly the members added');
  t.same(popped.flat().filter(([m, s]) => s !== scoreOf(m)), [], 'each popped with its own score');
  t.ok(popped.filter((p) => p.length > 0).length >= 2, 'several poppers got members');
});

t.test('BZPOPMIN waiters on every thread served by ZADD from the others: every member to exactly one waiter', async (t) => {
  const waiters = conns.slice(0, 8);
  const pushers = conns.slice(8);
  const N = 1600;
  let served = 0;
  let maxBlocked = 0;
  // A waiter stops on a sentinel, pushed (one per waiter, scored above every member) once the members are all in.
  const received = waiters.map(async (c, w) => {
    const got: [string, string][] = [];
    for (;;) {
      c.write(encodeCommand(['BZPOPMIN', 'zb', '5']));
      const reply = await c.reply(8000).catch((e: Error) => {
        throw new Error(`waiter ${w} (${got.length} members so far, ${served} of ${N} served in all): ${e.message}`);
      });
      const xs = items(reply);
      if (xs.length !== 3) throw new Error(`BZPOPMIN answered ${JSON.stringify(xs)}`);
      if (xs[1].startsWith('stop')) return got;
      got.push([xs[1], xs[2]]);
      served++;
    }
  });
  const watcher = (async () => {
    while (served < N) {
      maxBlocked = Math.max(maxBlocked, Number(/blocked_clients:(\d+)/.exec(text(await admin.command('INFO', 'clients')))![1]));
      await sleep(5);
    }
  })();
  await sleep(50);
  // Pushers add members in small batches, several per ZADD, with short pauses so that waiters block in between.
  await Promise.all(pushers.map(async (c, p) => {
    const mine = N / pushers.length;
    for (let k = 0; k < mine; k += 10) {
      await c.pipeline([0, 2, 4, 6, 8].map((j) => ['ZADD', 'zb', String(k + j), `w${p}:${k + j}`, String(k + j + 1), `w${p}:${k + j + 1}`]));
      await sleep(5);
    }
  }));
  while (served < N) await sleep(5);
  await admin.command('ZADD', 'zb', ...waiters.flatMap((_, i) => ['1e9', `stop${i}`]));
  const got = await Promise.all(received);
  await watcher;
  const all = got.flat();
  t.comment(`per waiter: ${got.map((g) => g.length).join(' ')}; at most ${maxBlocked} blocked at once`);
  t.equal(all.length, N, 'every member went to a waiter');
  t.equal(new Set(all.map(([m]) => m)).size, N, 'none twice');
  t.same(all.filter(([m, s]) => s !== m.split(':')[1]), [], 'each with its score');
  t.ok(got.filter((g) => g.length > 0).length >= 4, 'many waiters were served');
  t.ok(maxBlocked >= 1, 'waiters were blocked while the pushers ran');
  t.equal(int(await admin.command('EXISTS', 'zb')), 0, 'the sorted set was emptied');
});
