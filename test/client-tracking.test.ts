/**
 * Client-side caching (src/commands/client-tracking.ts,
 * src/server/key-tracking.ts) against redis-server 7.0.15, byte for byte:
 * what every connection receives after each step — replies, RESP3
 * invalidation pushes, `__redis__:invalidate` messages to a RESP2 redirect
 * client, broken redirects — in the default mode, OPTIN / OPTOUT with CLIENT
 * CACHING (inside MULTI too), NOLOOP, BCAST with prefixes, flushes, other
 * databases, expiry, and every error of CLIENT TRACKING / CACHING. weft runs
 * two worker threads, so the tracking client, the writer and the redirect
 * client are served by different threads. Then on weft alone:
 * tracking-table-max-keys, INFO's counts, a replica applying its master's
 * writes, and node-redis's client-side cache.
 */
import t, { type Test } from 'tap';
import { createClient, BasicClientSideCache } from 'redis';
import { RawClient, encodeCommand, replyLength, requireRedisTools, startWeft } from './helpers/servers.js';
import { replicationInfo } from './helpers/replication.js';
import { startPair } from './helpers/differential.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until `check` holds (up to 10 s). */
async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** How long a step waits for what other threads send after its reply (invalidations from another thread). */
const SETTLE_MS = 50;

/** A step: which connection (1-based) sends what; `{n}` stands for connection n's client id. A number: pause (ms). */
type Step = [number, string[]] | ['close', number] | ['sleep', number];

interface Conn {
  c: RawClient;
  got: Buffer;
  id: number;
}

async function open(port: number, n: number): Promise<Conn[]> {
  const conns: Conn[] = [];
  for (let i = 0; i < n; i++) {
    const c = await RawClient.connect(port);
    const id = Number(/:(\d+)/.exec((await c.command('CLIENT', 'ID')).toString())![1]);
    const conn: Conn = { c, got: Buffer.alloc(0), id };
    c.socket.on('data', (d: Buffer) => (conn.got = Buffer.concat([conn.got, d])));
    conns.push(conn);
  }
  return conns;
}

/** Runs the steps on one server; returns, per step, what each connection received (ids masked). */
async function transcript(port: number, connections: number, steps: Step[]): Promise<string[]> {
  const conns = await open(port, connections);
  const name = (id: string) => {
    const i = conns.findIndex((k) => String(k.id) === id);
    return i < 0 ? id : `<id${i + 1}>`;
  };
  // Client ids where they appear: HELLO's id, TRACKINGINFO's redirect, tracking-redir-broken, GETREDIR, CLIENT INFO.
  const mask = (s: string, getredir: boolean) =>
    (getredir ? s.replace(/^:(\d+)\r\n/, (_, id) => `:${name(id)}\r\n`) : s)
      .replace(/(\$2\r\nid\r\n|redirect\r\n|tracking-redir-broken\r\n):(\d+)/g, (_, before, id) => `${before}:${name(id)}`)
      .replace(/\b(id|redir)=(\d+)/g, (_, field, id) => `${field}=${name(id)}`)
      .replace(/^([=$])\d+\r\n(txt:)?id=/, '$1<length>\r\n$2id=').replace(/ addr=\S+ laddr=\S+ fd=\d+ name=(\S*) age=\d+ idle=\d+ /, ' name=$1 ').replace(/ qbuf=.* cmd=/, ' cmd=').replace(/ resp=(\d).*/, ' resp=$1');
  const out: string[] = [];
  try {
    for (const step of steps) {
      if (step[0] === 'sleep') {
        await sleep(step[1]);
        continue;
      }
      if (step[0] === 'close') {
        conns[step[1] - 1].c.close();
        await sleep(SETTLE_MS);
        continue;
      }
      const [who, cmd] = step;
      const k = conns[who - 1];
      const args = cmd.map((a) => a.replace(/\{(\d)\}/g, (_, n) => String(conns[Number(n) - 1].id)));
      const before = k.got.length;
      k.c.write(encodeCommand(args));
      const deadline = Date.now() + 5000;
      // The step's reply (or, were pushes sent first, whatever came instead) then what follows it.
      while (replyLength(k.got.subarray(before)) < 0 && Date.now() < deadline) await sleep(2);
      await sleep(SETTLE_MS);
      const getredir = cmd.length === 2 && cmd[1].toLowerCase() === 'getredir';
      const got = conns.map((x, i) => (x.got.length > 0 ? `[${i + 1}] ${mask(x.got.toString('latin1'), getredir && x === k)}` : '')).filter(Boolean);
      for (const x of conns) x.got = Buffer.alloc(0);
      out.push(`${who}> ${cmd.join(' ')} => ${got.join(' ')}`);
    }
  } finally {
    for (const k of conns) k.c.close();
  }
  return out;
}

if (requireRedisTools(t)) {
  const pair = await startPair(t, [], { threads: 2 });
  const differ = async (t: Test, connections: number, steps: Step[]) => {
    await Promise.all([pair.weft, pair.redis].map(async (s) => {
      const c = await RawClient.connect(s.port);
      await c.command('FLUSHALL');
      await c.command('CONFIG', 'SET', 'tracking-table-max-keys', '1000000');
      c.close();
    }));
    const [w, r] = await Promise.all([transcript(pair.weft.port, connections, steps), transcript(pair.redis.port, connections, steps)]);
    t.same(w, r);
  };

  t.test('default mode: reads remembered, writes from any connection invalidate once, after the reply', (t) =>
    differ(t, 2, [
      [1, ['HELLO', '3']], [1, ['CLIENT', 'TRACKING', 'on']], [1, ['GET', 'k']], [1, ['MGET', 'a', 'b']], [2, ['SET', 'k', 'v']],
      [2, ['SET', 'k', 'w']], [1, ['GET', 'k']], [1, ['SET', 'k', 'x']], [1, ['SET', 'k', 'y']], [2, ['MSET', 'a', '1', 'b', '2', 'c', '3']],
      [1, ['HGET', 'h', 'f']], [1, ['SMEMBERS', 's']], [1, ['ZRANGE', 'z', '0', '-1']], [1, ['LRANGE', 'l', '0', '-1']],
      [1, ['EXISTS', 'e1', 'e2']], [1, ['STRLEN', 'k']], [1, ['TYPE', 'k']],
      [2, ['HSET', 'h', 'f', 'v']], [2, ['SADD', 's', 'm']], [2, ['ZADD', 'z', '1', 'm']], [2, ['RPUSH', 'l', 'x']], [2, ['SET', 'e2', '1']],
      [1, ['GET', 'k']], [2, ['RENAME', 'k', 'k2']], [1, ['GET', 'k2']], [2, ['DEL', 'k2', 'nosuch']], [1, ['GET', 'k']],
      [2, ['SELECT', '1']], [2, ['SET', 'k', 'in db 1']], [1, ['GET', 'k']], [2, ['SWAPDB', '0', '1']], [2, ['SET', 'k', 'again']],
      [1, ['GET', 'nosuch']], [2, ['GET', 'nosuch']], [2, ['APPEND', 'nosuch', 'x']], [1, ['INCR', 'counter']], [2, ['INCR', 'counter']],
      [1, ['GET', 'counter']], [2, ['INCR', 'counter']], [1, ['CLIENT', 'TRACKING', 'off']], [2, ['INCR', 'counter']],
      [1, ['CLIENT', 'TRACKING', 'on']], [1, ['GET', 'counter']], [2, ['INCR', 'counter']],
    ]));

  t.test('transactions: invalidations in order, after EXEC; pipelined reads and writes', (t) =>
    differ(t, 2, [
      [1, ['HELLO', '3']], [1, ['CLIENT', 'TRACKING', 'on']], [1, ['GET', 'k']], [1, ['MULTI']], [1, ['SET', 'k', '1']], [1, ['GET', 'k']],
      [1, ['SET', 'k', '2']], [1, ['EXEC']], [2, ['MULTI']], [2, ['SET', 'k', '3']], [2, ['SET', 'j', '1']], [2, ['EXEC']],
      [1, ['MGET', 'k', 'j']], [1, ['MULTI']], [1, ['DEL', 'k', 'j']], [1, ['EXEC']],
    ]));

  t.test('OPTIN, OPTOUT and CLIENT CACHING', (t) =>
    differ(t, 2, [
      [1, ['HELLO', '3']], [1, ['CLIENT', 'TRACKING', 'on', 'OPTIN']], [1, ['GET', 'a']], [2, ['SET', 'a', '1']],
      [1, ['CLIENT', 'CACHING', 'yes']], [1, ['CLIENT', 'TRACKINGINFO']], [1, ['GET', 'a']], [1, ['GET', 'b']], [2, ['MSET', 'a', '2', 'b', '2']],
      [1, ['CLIENT', 'CACHING', 'yes']], [1, ['CLIENT', 'GETREDIR']], [1, ['GET', 'b']], [2, ['SET', 'b', '3']],
      [1, ['CLIENT', 'CACHING', 'yes']], [1, ['MULTI']], [1, ['GET', 'a']], [1, ['GET', 'b']], [1, ['EXEC']], [1, ['GET', 'c']],
      [2, ['MSET', 'a', '4', 'b', '4', 'c', '4']],
      [1, ['CLIENT', 'CACHING', 'yes']], [1, ['NOSUCHCOMMAND']], [1, ['GET', 'a']], [2, ['SET', 'a', '5']],
      [1, ['CLIENT', 'CACHING', 'no']], [1, ['CLIENT', 'TRACKING', 'on', 'OPTOUT']], [1, ['CLIENT', 'TRACKING', 'off']],
      [1, ['CLIENT', 'TRACKING', 'on', 'OPTOUT']], [1, ['GET', 'a']], [1, ['CLIENT', 'CACHING', 'no']], [1, ['CLIENT', 'TRACKINGINFO']],
      [1, ['GET', 'b']], [2, ['MSET', 'a', '6', 'b', '6']], [1, ['CLIENT', 'CACHING', 'yes']], [1, ['CLIENT', 'CACHING', 'maybe']],
    ]));

  t.test('NOLOOP: a client is not told of its own changes', (t) =>
    differ(t, 2, [
      [1, ['HELLO', '3']], [1, ['CLIENT', 'TRACKING', 'on', 'NOLOOP']], [1, ['GET', 'a']], [1, ['SET', 'a', '1']], [1, ['GET', 'a']],
      [2, ['SET', 'a', '2']], [1, ['CLIENT', 'TRACKINGINFO']],
    ]));

  t.test('BCAST: one message per prefix with the keys changed, NOLOOP filtering, prefixes held', (t) =>
    differ(t, 3, [
      [1, ['HELLO', '3']], [1, ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'user:', 'PREFIX', 'job:']],
      [3, ['HELLO', '3']], [3, ['CLIENT', 'TRACKING', 'on', 'BCAST', 'NOLOOP']],
      [2, ['MSET', 'user:2', 'x', 'job:1', 'y', 'user:1', 'z', 'other', 'w']], [2, ['SET', 'user:3', 'x']], [1, ['GET', 'user:3']],
      [1, ['SET', 'job:9', '1']], [3, ['SET', 'mine', '1']], [3, ['MSET', 'mine', '2', 'theirs', '2']],
      [1, ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'task:']], [1, ['CLIENT', 'TRACKINGINFO']], [3, ['CLIENT', 'TRACKINGINFO']],
      [2, ['SET', 'task:1', 'x']], [1, ['CLIENT', 'TRACKING', 'on']], [1, ['CLIENT', 'INFO']], [3, ['CLIENT', 'INFO']],
      [2, ['FLUSHDB']], [1, ['CLIENT', 'TRACKING', 'off']], [2, ['SET', 'user:1', 'x']], [1, ['CLIENT', 'TRACKINGINFO']],
    ]));

  t.test('redirect: RESP2 subscriber, RESP3 client, an unsubscribed RESP2 client, a client gone', (t) =>
    differ(t, 3, [
      [2, ['SUBSCRIBE', '__redis__:invalidate']], [1, ['CLIENT', 'TRACKING', 'on', 'REDIRECT', '{2}']], [1, ['GET', 'k']],
      [3, ['SET', 'k', '1']], [1, ['CLIENT', 'GETREDIR']], [1, ['CLIENT', 'TRACKINGINFO']], [1, ['CLIENT', 'INFO']], [1, ['GET', 'k']],
      [1, ['FLUSHALL']], [1, ['CLIENT', 'TRACKING', 'on', 'REDIRECT', '{3}']], [1, ['GET', 'k']], [1, ['SET', 'k', '2']],
      [3, ['HELLO', '3']], [1, ['GET', 'k']], [1, ['SET', 'k', '3']], [1, ['HELLO', '3']], [1, ['FLUSHALL']], [1, ['GET', 'k']],
      ['close', 3], [2, ['SET', 'k', '4']], [1, ['PING']], [1, ['CLIENT', 'TRACKINGINFO']], [1, ['CLIENT', 'INFO']], [1, ['GET', 'k']],
      [1, ['FLUSHDB']],
    ]));

  t.test('BCAST to a redirect client, and flushes', (t) =>
    differ(t, 2, [
      [2, ['SUBSCRIBE', 'anything']], [1, ['CLIENT', 'TRACKING', 'on', 'BCAST', 'REDIRECT', '{2}', 'PREFIX', 'a']],
      [1, ['MSET', 'ab', '1', 'aa', '2', 'b', '3']], [1, ['FLUSHALL']], [1, ['HELLO', '3']], [1, ['FLUSHDB']],
    ]));

  t.test('expiry, UNLINK and EXPIRE 0 invalidate like writes', (t) =>
    differ(t, 2, [
      // Expired actively or when the next step reads it: either way the invalidation arrives by then.
      [1, ['HELLO', '3']], [1, ['CLIENT', 'TRACKING', 'on']], [2, ['SET', 'k', 'v', 'PX', '300']],
      [1, ['GET', 'k']], ['sleep', 600], [2, ['GET', 'k']], [1, ['GET', 'j']], [2, ['SET', 'j', 'v', 'PX', '300']], [1, ['GET', 'j']],
      ['sleep', 600], [2, ['EXISTS', 'j']], [2, ['SET', 'gone', 'v']], [1, ['GET', 'gone']], [2, ['UNLINK', 'gone']],
      [2, ['SET', 'later', 'v']], [1, ['GET', 'later']], [2, ['EXPIRE', 'later', '0']],
    ]));

  t.test('CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO errors', (t) =>
    differ(t, 2, [
      [1, ['CLIENT', 'TRACKING']], [1, ['CLIENT', 'TRACKING', 'maybe']], [1, ['CLIENT', 'TRACKING', 'on', 'foo']],
      [1, ['CLIENT', 'TRACKING', 'on', 'PREFIX', 'a']], [1, ['CLIENT', 'TRACKING', 'on', 'BCAST', 'OPTIN']],
      [1, ['CLIENT', 'TRACKING', 'on', 'OPTIN', 'OPTOUT']], [1, ['CLIENT', 'TRACKING', 'on', 'REDIRECT', '99999']],
      [1, ['CLIENT', 'TRACKING', 'on', 'REDIRECT', 'abc']], [1, ['CLIENT', 'TRACKING', 'on', 'REDIRECT', '0']],
      [1, ['CLIENT', 'TRACKING', 'on', 'REDIRECT', '-3']], [1, ['CLIENT', 'TRACKING', 'on', 'REDIRECT', '99999', 'REDIRECT', '{2}']],
      [1, ['CLIENT', 'TRACKING', 'on', 'REDIRECT', '{2}', 'REDIRECT', '99999']], [1, ['CLIENT', 'TRACKING', 'on', 'REDIRECT', '{2}', 'bogus']],
      [1, ['CLIENT', 'TRACKING', 'maybe', 'REDIRECT', '{2}']], [1, ['CLIENT', 'TRACKING', 'on', 'REDIRECT']],
      [1, ['CLIENT', 'TRACKING', 'off', 'REDIRECT', '99999']], [1, ['CLIENT', 'TRACKING', 'off', 'PREFIX', 'a']],
      [1, ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'a', 'PREFIX', 'ab']], [1, ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'b', 'PREFIX', 'b']],
      [1, ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'a', 'PREFIX', 'b']], [1, ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'abc']],
      [1, ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'c', 'PREFIX', 'b']], [1, ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'a']],
      [1, ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', '']], [1, ['CLIENT', 'TRACKINGINFO']], [1, ['CLIENT', 'TRACKING', 'on']],
      [1, ['CLIENT', 'CACHING', 'yes']], [1, ['CLIENT', 'TRACKING', 'off']], [1, ['CLIENT', 'TRACKING', 'on', 'OPTIN']],
      [1, ['CLIENT', 'TRACKING', 'on', 'OPTOUT']], [1, ['CLIENT', 'CACHING', 'no']], [1, ['CLIENT', 'CACHING', 'maybe']],
      [1, ['CLIENT', 'TRACKING', 'off']], [1, ['CLIENT', 'CACHING', 'yes']], [1, ['CLIENT', 'CACHING']], [1, ['CLIENT', 'GETREDIR']],
      [1, ['CLIENT', 'GETREDIR', 'x']], [1, ['CLIENT', 'TRACKINGINFO', 'x']], [1, ['CLIENT', 'TRACKINGINFO']],
      [1, ['CLIENT', 'TRACKING', 'on', 'OPTOUT', 'NOLOOP', 'REDIRECT', '{1}']], [1, ['CLIENT', 'TRACKINGINFO']], [1, ['RESET']],
      [1, ['CLIENT', 'TRACKINGINFO']], [1, ['CLIENT', 'GETREDIR']],
    ]));

  t.test('weft: tracking-table-max-keys evicts keys with their invalidations; INFO counts', async (t) => {
    const c = await RawClient.connect(pair.weft.port);
    const admin = await RawClient.connect(pair.weft.port);
    t.teardown(() => {
      c.close();
      admin.close();
    });
    let pushes = '';
    await c.command('HELLO', '3');
    await c.command('FLUSHALL');
    await c.command('CLIENT', 'TRACKING', 'on');
    const info = async () => {
      const text = (await admin.command('INFO', 'everything')).toString();
      const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(text)![1]);
      return { clients: field('tracking_clients'), keys: field('tracking_total_keys'), items: field('tracking_total_items'),
        prefixes: field('tracking_total_prefixes') };
    };
    await c.command('MGET', 'a', 'b', 'c');
    t.same(await info(), { clients: 1, keys: 3, items: 3, prefixes: 0 });
    await admin.command('CONFIG', 'SET', 'tracking-table-max-keys', '2');
    t.teardown(() => admin.command('CONFIG', 'SET', 'tracking-table-max-keys', '1000000').then(() => undefined));
    // The tracking connection's thread learns of the new limit from the coordinator.
    await until(async () => (await c.command('CONFIG', 'GET', 'tracking-table-max-keys')).toString().includes('$1\r\n2\r\n'),
      'the limit on the tracking connection\'s thread');
    c.socket.on('data', (d: Buffer) => (pushes += d.toString('latin1')));
    c.write(encodeCommand(['MGET', 'd', 'e']));
    await until(async () => (await info()).keys <= 2, 'the table back under its limit');
    t.equal((pushes.match(/invalidate/g) ?? []).length, 3, 'one invalidation per key evicted from the table');
    // A lowered limit is enforced by the cron, without another read.
    await admin.command('CONFIG', 'SET', 'tracking-table-max-keys', '1');
    await until(async () => (await info()).keys <= 1, 'the table under a lowered limit');
    t.equal((pushes.match(/invalidate/g) ?? []).length, 4, 'the key evicted by the cron invalidated');
    await admin.command('CONFIG', 'SET', 'tracking-table-max-keys', '1000000');
    c.write(encodeCommand(['CLIENT', 'TRACKING', 'off']));
    await until(() => pushes.endsWith('+OK\r\n'), 'tracking off');
    t.same(await info(), { clients: 0, keys: 0, items: 0, prefixes: 0 }, 'the last tracking client gone, nothing is kept');
  });

  t.test('weft: a replica invalidates what its clients read when the master changes it', async (t) => {
    const replica = await startWeft([], { threads: 2 });
    t.teardown(() => replica.stop());
    const [reader, control, writer] = await Promise.all([RawClient.connect(replica.port), RawClient.connect(replica.port),
      RawClient.connect(pair.weft.port)]);
    t.teardown(() => [reader, control, writer].forEach((c) => c.close()));
    await writer.command('FLUSHALL');
    await writer.command('SET', 'k', 'v1');
    await control.command('REPLICAOF', '127.0.0.1', String(pair.weft.port));
    await until(async () => (await replicationInfo(control)).master_link_status === 'up', 'the replica linked');
    await until(async () => (await control.command('GET', 'k')).toString() === '$2\r\nv1\r\n', 'k replicated');
    let got = '';
    reader.socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    reader.write(encodeCommand(['HELLO', '3']));
    reader.write(encodeCommand(['CLIENT', 'TRACKING', 'on']));
    reader.write(encodeCommand(['GET', 'k']));
    await until(() => got.endsWith('$2\r\nv1\r\n'), 'the tracked read');
    got = '';
    await writer.command('SET', 'k', 'v2');
    await until(() => got.includes('invalidate'), 'the invalidation from the master\'s write');
    t.equal(got, '>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n');
    got = '';
    await writer.command('FLUSHALL');
    await until(() => got.length > 0, 'the flush invalidation');
    t.equal(got, '>2\r\n$10\r\ninvalidate\r\n_\r\n');
    await control.command('REPLICAOF', 'NO', 'ONE');
  });

  t.test("node-redis's client-side cache stays exact across worker threads", async (t) => {
    const cache = new BasicClientSideCache({ ttl: 0, maxEntries: 0 });
    const reader = createClient({ socket: { port: pair.weft.port, host: '127.0.0.1' }, RESP: 3, clientSideCache: cache });
    const writer = createClient({ socket: { port: pair.weft.port, host: '127.0.0.1' } });
    await Promise.all([reader.connect(), writer.connect()]);
    t.teardown(async () => {
      await Promise.all([reader.quit(), writer.quit()]);
    });
    const thread = async (c: typeof writer) => /io-thread=(\d+)/.exec(String(await c.sendCommand(['CLIENT', 'INFO'])))![1];
    t.not(await thread(reader), await thread(writer), 'the reader and the writer are served by different threads');
    await writer.flushAll();
    for (let i = 0; i < 20; i++) await writer.set(`key:${i}`, `v0-${i}`);
    for (let round = 1; round <= 5; round++) {
      for (let i = 0; i < 20; i++) t.equal(await reader.get(`key:${i}`), `v${round - 1}-${i}`);
      // Served from the cache: no round trip changes them.
      for (let i = 0; i < 20; i++) t.equal(await reader.get(`key:${i}`), `v${round - 1}-${i}`);
      for (let i = 0; i < 20; i++) await writer.set(`key:${i}`, `v${round}-${i}`);
      await until(async () => (await reader.get('key:19')) === `v${round}-19`, 'the invalidations arrived');
    }
    t.ok(cache.stats().hitCount >= 5 * 20, `reads served from the cache (${cache.stats().hitCount} hits)`);
    await writer.flushAll();
    await until(async () => (await reader.get('key:0')) === null, 'FLUSHALL empties the cache');
  });
}
