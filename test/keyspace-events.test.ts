/**
 * Keyspace notifications (src/commands/keyspace-events.ts) against
 * redis-server 7.0.15, byte for byte: CONFIG SET/GET of
 * notify-keyspace-events (canonical strings, errors), then, per command
 * family, the stream a subscriber to every __keyspace@*__ and
 * __keyevent@*__ channel receives while a script of writes runs — strings,
 * generic key commands, lists, hashes, sets, sorted sets, SORT STORE and
 * the *STORE commands with empty results, pops that empty a key, MOVE-like
 * commands (LMOVE, SMOVE, RENAME), expiry (`expired`), key misses (m) and
 * new keys (n), class filtering (only K, only E, one class), databases, and
 * events fired by commands inside MULTI/EXEC. Eviction is checked on weft
 * alone (its memory accounting differs from Redis's).
 */
import t, { type Test } from 'tap';
import { RawClient, encodeCommand, requireRedisTools } from './helpers/servers.js';
import { connectPair, diffScript, startPair, type Pair } from './helpers/differential.js';
import { waitFor } from './helpers/cluster.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Subscribes to every keyspace and keyevent channel of every database; returns what it received, after the subscription replies. */
async function subscriber(t: Test, port: number): Promise<{ c: RawClient; text: () => string }> {
  const c = await RawClient.connect(port);
  t.teardown(() => c.close());
  let got = '';
  let started = false;
  c.socket.on('data', (d: Buffer) => {
    if (started) got += d.toString('latin1');
  });
  await c.command('PSUBSCRIBE', '__key*__:*');
  started = true;
  return { c, text: () => got };
}

/** Runs the steps on both servers (one connection each) and returns the event streams their subscribers saw. */
async function events(t: Test, pair: Pair, flags: string, steps: (string | Buffer)[][], settleMs = 150): Promise<[string, string]> {
  const [w, r] = await connectPair(t, pair);
  await diffScript(w, r, [['FLUSHALL'], ['CONFIG', 'SET', 'notify-keyspace-events', flags]]);
  const [sw, sr] = await Promise.all([subscriber(t, pair.weft.port), subscriber(t, pair.redis.port)]);
  const diffs = await diffScript(w, r, steps);
  t.same(diffs, [], 'the replies agree');
  await sleep(settleMs);
  await diffScript(w, r, [['CONFIG', 'SET', 'notify-keyspace-events', '']]);
  return [sw.text(), sr.text()];
}

if (requireRedisTools(t)) {
  const pair = await startPair(t, [], { threads: 2 });

  t.test('CONFIG SET and GET notify-keyspace-events', async (t) => {
    const [w, r] = await connectPair(t, pair);
    const steps: (string | Buffer)[][] = [];
    for (const v of ['KEA', 'Elg', 'x', 'Kq', '', 'AKEmn', 'gKE$lshzxetd', 'KEm', 'n', 'E$', 'A']) {
      steps.push(['CONFIG', 'SET', 'notify-keyspace-events', v], ['CONFIG', 'GET', 'notify-keyspace-events']);
    }
    steps.push(['CONFIG', 'SET', 'notify-keyspace-events', '']);
    t.same(await diffScript(w, r, steps), []);
  });

  const families: [string, string, (string | Buffer)[][]][] = [
    ['strings', 'KEA', [
      ['SET', 's', '1'], ['SET', 's', '2', 'EX', '100'], ['SET', 's', '3', 'KEEPTTL'], ['SET', 's', '4', 'NX'], ['SETNX', 's2', 'v'],
      ['SETEX', 's3', '100', 'v'], ['PSETEX', 's4', '100000', 'v'], ['GETSET', 's', '5'], ['MSET', 'a', '1', 'b', '2'],
      ['MSETNX', 'c', '1', 'd', '2'], ['INCR', 'n'], ['DECRBY', 'n', '3'], ['INCRBYFLOAT', 'n', '1.5'], ['APPEND', 's', 'x'],
      ['SETRANGE', 's', '2', 'yy'], ['SETBIT', 'bits', '7', '1'], ['BITFIELD', 'bf', 'SET', 'u8', '0', '200'],
      ['BITOP', 'OR', 'dest', 'bits', 'bf'], ['BITOP', 'AND', 'dest', 'nosuch1', 'nosuch2'], ['GETEX', 's3', 'PERSIST'],
      ['GETEX', 's4', 'EX', '50'], ['GETEX', 's2', 'PXAT', '1'], ['GETDEL', 'a'], ['GETDEL', 'nosuch'], ['SET', 'b', 'x', 'GET'],
    ]],
    ['generic', 'KEA', [
      ['SET', 'k', 'v'], ['EXPIRE', 'k', '100'], ['PEXPIRE', 'k', '100000', 'NX'], ['PERSIST', 'k'], ['PERSIST', 'k'],
      ['RENAME', 'k', 'k2'], ['RENAMENX', 'k2', 'k3'], ['SET', 'k4', 'v'], ['RENAMENX', 'k3', 'k4'], ['COPY', 'k3', 'k5'],
      ['COPY', 'k3', 'k5', 'REPLACE'], ['COPY', 'k3', 'k6', 'DB', '1'], ['DEL', 'k3', 'nosuch', 'k4'], ['UNLINK', 'k5'],
      ['EXPIREAT', 'k2', '1'], ['SET', 'k7', 'v'], ['PEXPIREAT', 'k7', '1'], ['SELECT', '1'], ['SET', 'other-db', 'v'],
      ['DEL', 'k6'], ['SELECT', '0'],
    ]],
    ['lists', 'KEA', [
      ['LPUSH', 'l', 'a', 'b'], ['RPUSH', 'l', 'c'], ['LPUSHX', 'l', 'd'], ['RPUSHX', 'nosuch', 'd'], ['LINSERT', 'l', 'BEFORE', 'c', 'x'],
      ['LSET', 'l', '0', 'y'], ['LREM', 'l', '1', 'x'], ['LPOP', 'l'], ['RPOP', 'l', '2'], ['LTRIM', 'l', '0', '0'],
      ['RPUSH', 'src', '1', '2'], ['LMOVE', 'src', 'dst', 'LEFT', 'RIGHT'], ['RPOPLPUSH', 'src', 'dst'], ['LMOVE', 'dst', 'dst', 'LEFT', 'RIGHT'],
      ['LMPOP', '2', 'nosuch', 'dst', 'RIGHT', 'COUNT', '5'], ['RPUSH', 'b', 'v'], ['BLPOP', 'nosuch', 'b', '1'],
      ['RPUSH', 'b2', 'v1', 'v2'], ['BRPOP', 'b2', '1'], ['BLMOVE', 'b2', 'b3', 'RIGHT', 'LEFT', '1'], ['BLMPOP', '1', '1', 'b3', 'LEFT'],
      ['RPUSH', 'tr', 'a', 'b'], ['LTRIM', 'tr', '5', '10'], ['LPOP', 'nosuch'],
    ]],
    ['hashes and sets', 'KEA', [
      ['HSET', 'h', 'f', '1', 'g', '2'], ['HSETNX', 'h', 'f', 'x'], ['HSETNX', 'h', 'n', 'x'], ['HMSET', 'h', 'a', '1'],
      ['HINCRBY', 'h', 'f', '2'], ['HINCRBYFLOAT', 'h', 'f', '0.5'], ['HDEL', 'h', 'f', 'nosuch'], ['HDEL', 'h', 'g', 'n', 'a'],
      // SPOP only where one member is left: the replies and what follows stay deterministic.
      ['SADD', 's', 'a', 'b', 'c', 'd'], ['SADD', 's', 'a'], ['SREM', 's', 'a'], ['SMOVE', 's', 't', 'b'], ['SMOVE', 's', 't', 'c'],
      ['SPOP', 's'], ['SADD', 'u', 'x', 'y'], ['SINTERSTORE', 'st', 't', 'u'], ['SUNIONSTORE', 'st', 't', 'u'],
      ['SDIFFSTORE', 'st', 'u', 'u'], ['SDIFFSTORE', 'nothing', 'u', 'u'], ['SREM', 'u', 'x'], ['SPOP', 'u', '5'],
    ]],
    ['sorted sets and SORT', 'KEA', [
      ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'], ['ZADD', 'z', 'XX', '5', 'a'], ['ZADD', 'z', 'NX', '5', 'a'], ['ZADD', 'z', 'INCR', '1', 'a'],
      ['ZINCRBY', 'z', '2', 'b'], ['ZREM', 'z', 'nosuch'], ['ZREM', 'z', 'c'], ['ZPOPMIN', 'z'], ['ZADD', 'z', '1', 'x', '2', 'y', '3', 'w'],
      ['ZREMRANGEBYRANK', 'z', '0', '0'], ['ZREMRANGEBYSCORE', 'z', '2', '2'], ['ZREMRANGEBYLEX', 'z', '-', '+'],
      ['ZADD', 'p', '1', 'a', '2', 'b'], ['ZPOPMAX', 'p', '5'], ['ZADD', 'q', '1', 'a', '2', 'b'], ['ZMPOP', '1', 'q', 'MIN'],
      ['BZPOPMAX', 'q', '1'], ['ZADD', 'r', '1', 'a'], ['BZMPOP', '1', '1', 'r', 'MAX'], ['ZADD', 'q', '1', 'a'], ['ZADD', 'q2', '2', 'a'],
      ['ZUNIONSTORE', 'zs', '2', 'q', 'q2'], ['ZINTERSTORE', 'zs', '2', 'q', 'q2'], ['ZDIFFSTORE', 'zs', '2', 'q', 'q2'],
      ['ZRANGESTORE', 'zr', 'q', '0', '-1'], ['ZRANGESTORE', 'zr', 'q', '5', '10'],
      ['RPUSH', 'tosort', '3', '1', '2'], ['SORT', 'tosort', 'STORE', 'sorted'], ['SORT', 'nosuch', 'STORE', 'sorted'], ['SORT', 'tosort'],
    ]],
    ['misses and new keys (m, n), keyspace channel only', 'Kmn', [
      ['GET', 'nosuch'], ['SET', 'fresh', 'v'], ['SET', 'fresh', 'w'], ['HGET', 'nosuch', 'f'], ['LPUSH', 'fresh-list', 'a'], ['EXISTS', 'nosuch'],
    ]],
    ['one class, keyevent channel only', 'El', [
      ['SET', 's', 'v'], ['LPUSH', 'l', 'a'], ['DEL', 's'], ['RPOP', 'l'],
    ]],
    ['inside MULTI/EXEC', 'KEA', [
      ['MULTI'], ['SET', 'a', '1'], ['INCR', 'a'], ['LPUSH', 'l', 'x'], ['DEL', 'a'], ['EXEC'],
    ]],
  ];
  for (const [name, flags, steps] of families) {
    t.test(`${name}: the same events as redis-server`, async (t) => {
      const [weft, redis] = await events(t, pair, flags, steps);
      t.equal(weft, redis);
      t.ok(redis.length > 0, 'redis-server sent events');
    });
  }

  t.test('clients blocked on keys and served by a push: their pops fire as on redis-server', async (t) => {
    const run = async (port: number) => {
      const setup = await RawClient.connect(port);
      t.teardown(() => setup.close());
      await setup.command('FLUSHALL');
      await setup.command('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
      const s = await subscriber(t, port);
      const blockers = await Promise.all([0, 1, 2].map(() => RawClient.connect(port)));
      t.teardown(() => blockers.forEach((b) => b.close()));
      const served: Promise<Buffer>[] = [];
      served.push(blockers[0].command('BLPOP', 'l', '0'));
      served.push(blockers[1].command('BLMOVE', 'src', 'dst', 'RIGHT', 'LEFT', '0'));
      served.push(blockers[2].command('BZPOPMIN', 'z', '0'));
      await sleep(100);
      await setup.command('RPUSH', 'l', 'a', 'b');
      await setup.command('RPUSH', 'src', 'x');
      await setup.command('ZADD', 'z', '1', 'm');
      await Promise.all(served);
      await sleep(150);
      await setup.command('CONFIG', 'SET', 'notify-keyspace-events', '');
      return s.text();
    };
    const [weft, redis] = [await run(pair.weft.port), await run(pair.redis.port)];
    t.equal(weft, redis);
    t.match(weft, /__keyevent@0__:rpop\r\n\$3\r\nsrc/);
  });

  t.test('expired: at the actual removal, lazily or by the active cycle', async (t) => {
    const [w, r] = await connectPair(t, pair);
    await diffScript(w, r, [['DEBUG', 'SET-ACTIVE-EXPIRE', '0']]);
    const [weftLazy, redisLazy] = await events(t, pair, 'KEA', [
      ['SET', 'lazy', 'v', 'PX', '20'], ['DEBUG', 'SLEEP', '0.05'], ['GET', 'lazy'], ['TTL', 'nosuch'],
    ]);
    t.equal(weftLazy, redisLazy);
    t.match(weftLazy, /__keyevent@0__:expired\r\n\$4\r\nlazy/);
    await diffScript(w, r, [['DEBUG', 'SET-ACTIVE-EXPIRE', '1']]);
    const [weftActive, redisActive] = await events(t, pair, 'KEA', [['SET', 'active', 'v', 'PX', '20']], 400);
    t.equal(weftActive, redisActive);
    t.match(weftActive, /__keyevent@0__:expired\r\n\$6\r\nactive/);
  });
}

t.test('evicted: a key maxmemory removes', async (t) => {
  const { startWeft } = await import('./helpers/servers.js');
  const server = await startWeft(['--maxmemory-policy', 'allkeys-random', '--notify-keyspace-events', 'Ee'], { threads: 1 });
  t.teardown(() => server.stop());
  const c = await RawClient.connect(server.port);
  t.teardown(() => c.close());
  const s = await subscriber(t, server.port);
  for (let i = 0; i < 200; i++) await c.command('SET', `k${i}`, 'x'.repeat(1000));
  await c.command('CONFIG', 'SET', 'maxmemory', '1');
  await c.command('SET', 'trigger', 'v');
  await waitFor('evicted events', 5000, async () => (/__keyevent@0__:evicted/.test(s.text()) ? true : s.text().slice(0, 200)));
  t.ok(!s.c.closed);
  c.write(encodeCommand(['CONFIG', 'SET', 'maxmemory', '0']));
});
