/**
 * Replication of lists, hashes, sets and sorted sets between weft servers
 * (REPLICAOF): a dataset of every type, big collections in their large
 * encodings included, is synchronised while a seeded random load of
 * collection writes keeps coming from several connections, and goes on
 * after the sync. The load includes commands whose effect is random or
 * depends on the master's state (SPOP, LMPOP, ZMPOP, *STORE, HINCRBYFLOAT,
 * ZADD INCR, blocking pops served by a push on another connection), so the
 * replica can only end equal if the master propagates what each command
 * did, in effect form. Every key of every type is then compared, contents
 * and expire times, after WAIT 1.
 */
import t, { type Test } from 'tap';
import { RawClient, encodeCommand, startWeft, type ServerHandle } from './helpers/servers.js';
import { waitFor, sleep } from './helpers/cluster.js';
import { datasetOf, sameDataset, replicationInfo, type Dataset } from './helpers/replication.js';
import { prng } from './helpers/prng.js';

const text = (b: Buffer) => b.toString('latin1');
type Cmd = string[];

/** Groups of keys sharing a hash tag, so multi-key commands stay within one slot. */
const GROUPS = 6;
const WRITERS = 4;
/** Commands per pipeline sent by a writer. */
const BATCH = 25;

async function weft(t: Test): Promise<{ server: ServerHandle; c: RawClient }> {
  const server = await startWeft([], { threads: 2 });
  t.teardown(() => server.stop());
  const c = await RawClient.connect(server.port);
  t.teardown(() => c.close());
  return { server, c };
}

/** The random load: one command on the keys of group g (or on the big collections). */
function randomCommand(rnd: () => number, g: string): Cmd {
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: T[]): T => xs[int(xs.length)];
  const L = () => `${g}l${int(3)}`;
  const H = () => `${g}h${int(3)}`;
  const S = () => (rnd() < 0.7 ? `${g}s${int(3)}` : `${g}i${int(2)}`);
  const I = () => `${g}i${int(2)}`;
  const Z = () => `${g}z${int(3)}`;
  const any = () => pick([L, H, S, Z])();
  const m = () => `m${int(30)}`;
  const n = () => String(int(80) - 10);
  const v = () => pick(['v', `val${int(1000)}`, 'with\r\nnewline', 'x'.repeat(int(100)), String(int(100000))]);
  const f = () => `f${int(25)}`;
  const count = () => String(1 + int(4));
  const end = () => pick(['LEFT', 'RIGHT']);
  const score = () => pick([String(int(50)), String(int(200) / 8 - 5), '-3', '1e3']);
  const big: (() => Cmd)[] = [
    () => ['RPUSH', '{big}list', v(), v()],
    () => ['LPOP', '{big}list', count()],
    () => ['RPOP', '{big}list'],
    () => ['LSET', '{big}list', String(int(3000) - 1500), v()],
    () => ['LINSERT', '{big}list', pick(['BEFORE', 'AFTER']), `item${int(2000)}`, v()],
    () => ['LREM', '{big}list', String(int(3) - 1), `item${int(2000)}`],
    () => ['HSET', '{big}hash', `field${int(1500)}`, v()],
    () => ['HDEL', '{big}hash', `field${int(1500)}`, `field${int(1500)}`],
    () => ['HINCRBY', '{big}hash', `counter${int(5)}`, String(int(100))],
    () => ['HRANDFIELD', '{big}hash', String(int(9) - 4), 'WITHVALUES'],
    () => ['SADD', '{big}set', `member${int(1500)}`],
    () => ['SPOP', '{big}set'],
    () => ['SPOP', '{big}set', count()],
    () => ['SRANDMEMBER', '{big}set', String(int(9) - 4)],
    () => ['SADD', '{big}intset', String(int(1000))],
    () => ['SPOP', '{big}intset'],
    () => ['SREM', '{big}intset', String(int(1000))],
    () => ['ZADD', '{big}zset', score(), `zm${int(700)}`],
    () => ['ZINCRBY', '{big}zset', score(), `zm${int(700)}`],
    () => ['ZPOPMIN', '{big}zset'],
    () => ['ZPOPMAX', '{big}zset', count()],
    () => ['ZREMRANGEBYRANK', '{big}zset', String(int(400)), String(int(400))],
  ];
  if (rnd() < 0.12) return pick(big)();
  const ops: (() => Cmd)[] = [
    // Lists.
    () => ['LPUSH', L(), m(), m()],
    () => ['RPUSH', L(), m(), m(), m()],
    () => ['LPOP', L(), count()],
    () => ['RPOP', L()],
    () => ['LSET', L(), String(int(5) - 2), v()],
    () => ['LTRIM', L(), String(int(3)), String(int(20) - 5)],
    () => ['LREM', L(), String(int(5) - 2), m()],
    () => ['LINSERT', L(), pick(['BEFORE', 'AFTER']), m(), v()],
    () => ['LMOVE', L(), L(), end(), end()],
    () => ['LMPOP', '2', L(), L(), end(), 'COUNT', count()],
    // Hashes.
    () => ['HSET', H(), f(), v(), f(), v()],
    () => ['HDEL', H(), f(), f()],
    () => ['HINCRBY', H(), `c${int(3)}`, String(int(21) - 10)],
    () => ['HINCRBYFLOAT', H(), `fl${int(3)}`, pick(['0.1', '1.5', '-2.25', '3e2', '1.0000001', '-0.3'])],
    () => ['HSETNX', H(), f(), v()],
    () => ['HRANDFIELD', H(), String(int(7) - 3), 'WITHVALUES'],
    // Sets (string members, and integer ones that start as an intset).
    () => ['SADD', S(), m(), m(), m()],
    () => ['SADD', I(), n(), n()],
    () => ['SREM', S(), m(), m()],
    () => ['SREM', I(), n()],
    () => ['SPOP', S()],
    () => ['SPOP', S(), count()],
    () => ['SMOVE', S(), S(), pick([m, n])()],
    () => ['SINTERSTORE', S(), S(), S()],
    () => ['SUNIONSTORE', S(), S(), S()],
    () => ['SDIFFSTORE', S(), S(), S()],
    () => ['SRANDMEMBER', S(), String(int(9) - 4)],
    // Sorted sets.
    () => ['ZADD', Z(), ...pick([[], ['NX'], ['XX'], ['GT'], ['LT'], ['XX', 'GT'], ['CH'], ['XX', 'LT', 'CH']]), score(), m(), score(), m()],
    () => ['ZADD', Z(), ...pick([[], ['NX'], ['XX'], ['GT'], ['LT']]), 'INCR', score(), m()],
    () => ['ZINCRBY', Z(), score(), m()],
    () => ['ZREM', Z(), m(), m()],
    () => ['ZPOPMIN', Z(), count()],
    () => ['ZPOPMAX', Z()],
    () => ['ZMPOP', '2', Z(), Z(), pick(['MIN', 'MAX']), 'COUNT', count()],
    () => ['ZREMRANGEBYSCORE', Z(), pick(['-inf', '(5', '10']), pick(['20', '(30', '+inf'])],
    () => ['ZREMRANGEBYRANK', Z(), String(int(3)), String(int(6) - 2)],
    () => ['ZREMRANGEBYLEX', Z(), pick(['-', '[m1', '(m2']), pick(['[m15', '(m3', '+'])],
    () => ['ZUNIONSTORE', Z(), '2', Z(), pick([Z, S])(), 'WEIGHTS', '1', String(int(3)), 'AGGREGATE', pick(['SUM', 'MIN', 'MAX'])],
    () => ['ZINTERSTORE', Z(), '2', Z(), Z()],
    () => ['ZDIFFSTORE', Z(), '2', Z(), Z()],
    () => ['ZRANGESTORE', Z(), Z(), '0', String(int(10))],
    () => ['ZRANGESTORE', Z(), Z(), pick(['(5', '0']), '+inf', 'BYSCORE', 'LIMIT', '0', String(1 + int(5))],
    () => ['ZRANDMEMBER', Z(), String(int(7) - 3), 'WITHSCORES'],
    // Keys holding collections.
    () => ['EXPIRE', any(), String(1000 + int(1000))],
    () => ['PEXPIRE', any(), String(2_000_000 + int(1000))],
    () => ['PERSIST', any()],
    () => ['DEL', any()],
    () => ['UNLINK', any(), any()],
    () => {
      const k = pick([L, H, S, Z]);
      return ['RENAME', k(), k()];
    },
    () => {
      const k = pick([L, H, S, Z]);
      return ['COPY', k(), k(), ...pick([[], ['REPLACE']])];
    },
  ];
  return pick(ops)();
}

/** Every type before the sync: big collections in their large encodings, many small ones, strings, expire times, two databases. */
function initialDataset(rnd: () => number): Cmd[] {
  const int = (n: number) => Math.floor(rnd() * n);
  const cmds: Cmd[] = [];
  for (let i = 0; i < 2000; i += 100) cmds.push(['RPUSH', '{big}list', ...Array.from({ length: 100 }, (_, j) => `item${i + j}`)]);
  for (let i = 0; i < 1000; i += 100) cmds.push(['HSET', '{big}hash', ...Array.from({ length: 100 }, (_, j) => [`field${i + j}`, `value${i + j}`]).flat()]);
  for (let i = 0; i < 1000; i += 100) cmds.push(['SADD', '{big}set', ...Array.from({ length: 100 }, (_, j) => `member${i + j}`)]);
  cmds.push(['SADD', '{big}intset', ...Array.from({ length: 300 }, (_, j) => String(j * 3 - 100))]);
  for (let i = 0; i < 500; i += 100) cmds.push(['ZADD', '{big}zset', ...Array.from({ length: 100 }, (_, j) => [String((i + j) % 97), `zm${i + j}`]).flat()]);
  cmds.push(['EXPIRE', '{big}hash', '5000']);
  for (let gi = 0; gi < GROUPS; gi++) {
    const g = `{g${gi}}`;
    for (let k = 0; k < 3; k++) {
      cmds.push(['RPUSH', `${g}l${k}`, ...Array.from({ length: 1 + int(8) }, () => `m${int(30)}`)]);
      cmds.push(['HSET', `${g}h${k}`, ...Array.from({ length: 1 + int(8) }, () => [`f${int(25)}`, `v${int(100)}`]).flat()]);
      cmds.push(['SADD', `${g}s${k}`, ...Array.from({ length: 1 + int(8) }, () => `m${int(30)}`)]);
      cmds.push(['ZADD', `${g}z${k}`, ...Array.from({ length: 1 + int(8) }, () => [String(int(50)), `m${int(30)}`]).flat()]);
    }
    cmds.push(['SADD', `${g}i0`, ...Array.from({ length: 1 + int(8) }, () => String(int(80)))]);
    cmds.push(['EXPIRE', `${g}z0`, '3000'], ['PEXPIRE', `${g}l1`, '4000000']);
    cmds.push(['SET', `${g}str`, `string-${gi}`]);
  }
  for (let i = 0; i < 100; i++) cmds.push(['SET', `str:${i}`, `value-${i}`, ...(i % 3 === 0 ? ['EX', String(5000 + i)] : [])]);
  // Many small collections, some with expire times, in databases 0 and 1.
  for (let i = 0; i < 3000; i++) {
    const key = `small:${i}`;
    const c = [
      ['RPUSH', key, 'a', String(i)], ['HSET', key, 'f', String(i), 'g', 'x'], ['SADD', key, String(i), 'm'], ['ZADD', key, String(i), 'a', '1.5', 'b'],
    ][i % 4];
    if (i % 5 === 0) cmds.push(['SELECT', '1'], c, ['EXPIRE', key, String(2000 + i)], ['SELECT', '0']);
    else cmds.push(c);
  }
  return cmds;
}

/** The number of keys of each type in a dataset. */
function typeCounts(d: Dataset): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { type } of d.values()) out[type] = (out[type] ?? 0) + 1;
  return out;
}

async function blockedClients(c: RawClient): Promise<number> {
  return Number(/blocked_clients:(\d+)/.exec(text(await c.command('INFO', 'clients')))![1]);
}

t.test('collections of every type: full sync under a random collection load, then the stream, every key compared', async (t) => {
  const seed = Number(process.env.WEFT_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.comment(`seed ${seed} (WEFT_SEED=${seed} to replay)`);
  const master = await weft(t);
  const replica = await weft(t);
  const m = master.c;

  await m.pipeline(initialDataset(prng(seed)), 30000);
  const encodings = await m.pipeline([
    ['OBJECT', 'ENCODING', '{big}list'], ['OBJECT', 'ENCODING', '{big}hash'], ['OBJECT', 'ENCODING', '{big}set'],
    ['OBJECT', 'ENCODING', '{big}intset'], ['OBJECT', 'ENCODING', '{big}zset'],
  ]);
  t.same(encodings.map(text), ['$9\r\nquicklist\r\n', '$9\r\nhashtable\r\n', '$9\r\nhashtable\r\n', '$6\r\nintset\r\n', '$8\r\nskiplist\r\n'],
    'the big collections use the large encodings (and the intset its compact one)');

  // Writers: each its own seeded generator, connection and (for one) database; the command replies are tallied by name.
  let writing = true;
  let phase: 'before' | 'sync' | 'after' = 'before';
  const sent = { before: 0, sync: 0, after: 0 };
  const succeeded = new Map<string, number>();
  const writers = Array.from({ length: WRITERS }, async (_, w) => {
    const rnd = prng(seed + 1 + w);
    const c = await RawClient.connect(master.server.port);
    try {
      if (w === WRITERS - 1) await c.command('SELECT', '1');
      while (writing) {
        const batch = Array.from({ length: BATCH }, () => randomCommand(rnd, `{g${Math.floor(rnd() * GROUPS)}}`));
        const replies = await c.pipeline(batch).catch((e: Error) => {
          throw new Error(`writer ${w}: ${e.message}; its pipeline: ${JSON.stringify(batch)}`);
        });
        sent[phase] += batch.length;
        replies.forEach((r, i) => {
          if (r[0] !== 0x2d) succeeded.set(batch[i][0], (succeeded.get(batch[i][0]) ?? 0) + 1);
        });
      }
    } finally {
      c.close();
    }
  });

  // Blocking pops served by a push from another connection: BLPOP, BLMOVE and BZPOPMIN in turn.
  const blocking = { rounds: 0, servedWhileBlocked: 0, replies: [] as string[] };
  const blocker = (async () => {
    const waiter = await RawClient.connect(master.server.port);
    const pusher = await RawClient.connect(master.server.port);
    try {
      for (let round = 0; writing; round++) {
        const kind = round % 3;
        const cmd = [['BLPOP', '{bk}q', '{bk}q2', '5'], ['BLMOVE', '{bk}q', '{bk}dst', 'RIGHT', 'LEFT', '5'], ['BZPOPMIN', '{bk}z', '5']][kind];
        waiter.write(encodeCommand(cmd));
        // The keys are empty between rounds, so the waiter blocks; INFO counts it once the cron publishes it.
        let blocked = false;
        for (let i = 0; i < 200 && !(blocked = (await blockedClients(pusher)) > 0); i++) await sleep(5);
        if (blocked) blocking.servedWhileBlocked++;
        await pusher.command(...(kind === 2 ? ['ZADD', '{bk}z', String(round), `e${round}`] : ['RPUSH', '{bk}q', `e${round}`]));
        blocking.replies.push(text(await waiter.reply(6000)));
        blocking.rounds++;
        for (let i = 0; i < 200 && (await blockedClients(pusher)) > 0; i++) await sleep(5);
      }
    } finally {
      waiter.close();
      pusher.close();
    }
  })();

  await sleep(300);
  phase = 'sync';
  t.equal(text(await replica.c.command('REPLICAOF', '127.0.0.1', String(master.server.port))), '+OK\r\n', 'REPLICAOF while the load runs');
  await waitFor('master_link_status:up on the replica', 20000, async () => {
    const info = await replicationInfo(replica.c);
    return info.master_link_status === 'up' ? true : JSON.stringify(info);
  });
  phase = 'after';
  await sleep(1500);
  writing = false;
  await Promise.all([...writers, blocker]);

  t.comment(`${sent.before} commands before REPLICAOF, ${sent.sync} until the link was up, ${sent.after} after; ${blocking.rounds} blocking pops`);
  t.ok(sent.before > 0 && sent.sync > 0 && sent.after > 0, 'the load ran before, during and after the sync');
  const expected = ['LPUSH', 'RPUSH', 'LPOP', 'RPOP', 'LSET', 'LTRIM', 'LREM', 'LINSERT', 'LMOVE', 'LMPOP', 'HSET', 'HDEL', 'HINCRBY',
    'HINCRBYFLOAT', 'HSETNX', 'HRANDFIELD', 'SADD', 'SREM', 'SPOP', 'SMOVE', 'SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE', 'SRANDMEMBER',
    'ZADD', 'ZINCRBY', 'ZREM', 'ZPOPMIN', 'ZPOPMAX', 'ZMPOP', 'ZREMRANGEBYSCORE', 'ZREMRANGEBYRANK', 'ZREMRANGEBYLEX', 'ZUNIONSTORE',
    'ZINTERSTORE', 'ZDIFFSTORE', 'ZRANGESTORE', 'ZRANDMEMBER', 'EXPIRE', 'PEXPIRE', 'PERSIST', 'DEL', 'UNLINK', 'RENAME', 'COPY'];
  t.same(expected.filter((name) => !succeeded.has(name)), [], 'every command of the load ran without an error at least once');
  t.ok(blocking.rounds >= 3, `${blocking.rounds} blocking pops ran`);
  t.ok(blocking.servedWhileBlocked >= Math.min(3, blocking.rounds), `${blocking.servedWhileBlocked} were blocked when the push came`);
  t.same(blocking.replies.filter((r) => r.startsWith('*-1') || r.startsWith('-')), [], 'every blocking pop was served by its push');

  t.equal(text(await m.command('WAIT', '1', '5000')), ':1\r\n', 'WAIT 1 acknowledged by the replica');
  const [ours, theirs] = [await datasetOf(m), await datasetOf(replica.c)];
  const counts = typeCounts(ours);
  t.comment(`master keys by type: ${JSON.stringify(counts)}`);
  t.ok(['list', 'hash', 'set', 'zset', 'string'].every((type) => (counts[type] ?? 0) >= 20), 'the master holds many keys of every type');
  t.ok([...ours.values()].filter((v) => v.type !== 'string' && v.expireAt > 0).length >= 20, 'collections with expire times among them');
  t.equal(sameDataset(ours, theirs), null, 'the replica holds exactly the master\'s keys, types, contents and expire times');
  t.match(master.server.output(), /Full resync requested by replica/, 'the replica synchronised in full');

  // Control: the comparison sees a collection's contents. The replica, promoted, changes one member, one
  // field, one list element and one score; each must be named as a difference.
  t.equal(text(await replica.c.command('REPLICAOF', 'NO', 'ONE')), '+OK\r\n', 'the replica promoted');
  await replica.c.pipeline([['SELECT', '1'], ['LSET', 'small:0', '0', 'changed'], ['SELECT', '0'], ['HSET', 'small:1', 'f', 'changed'],
    ['ZINCRBY', 'small:3', '1', 'a'], ['SADD', '{big}intset', '100000']]);
  const changed = sameDataset(ours, await datasetOf(replica.c)) ?? '';
  t.ok(['1:small:0', '0:small:1', '0:small:3', '0:{big}intset'].every((k) => changed.includes(`${k}:`)), `the changes are seen: ${changed.slice(0, 200)}`);
});
