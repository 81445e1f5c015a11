/**
 * Real clients against weft: ioredis and node-redis running a realistic
 * workload (pipelines, Buffers, expiries, SCAN iterators), redis-cli in its
 * usual modes, redis-benchmark, and the spread of connections over the
 * worker threads. Where the outcome is deterministic, the same workload runs
 * against redis-server and the results must be equal.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { createClient, RESP_TYPES } from 'redis';
import { encodeCommand, requireRedisTools, RawClient, startWeft } from './helpers/servers.js';
import { startPair, type Pair } from './helpers/differential.js';

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** Runs a tool to completion (asynchronously, so this process keeps serving its sockets). */
function runTool(cmd: string, args: string[], input?: Buffer | string, timeoutMs = 60000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    p.stdin.on('error', () => {});
    p.stdin.end(input ?? '');
  });
}

const BIN = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** A day in the life of an ioredis application; returns what it observed. */
async function ioredisWorkload(port: number): Promise<Record<string, unknown>> {
  const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  const auto = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableAutoPipelining: true });
  try {
    await Promise.all([c.connect(), auto.connect()]);
    const out: Record<string, unknown> = {};
    await c.flushall();
    out.set = await c.set('user:1', 'alice');
    out.get = await c.get('user:1');
    out.setnx = await c.set('user:1', 'bob', 'NX');
    out.setGet = await c.set('user:1', 'carol', 'GET');
    out.mset = await c.mset({ 'cfg:a': '1', 'cfg:b': '2' });
    out.mget = await c.mget('cfg:a', 'cfg:b', 'cfg:none');

    const p = c.pipeline();
    for (let i = 0; i < 1000; i++) p.set(`p:${i}`, String(i));
    for (let i = 0; i < 1000; i++) p.incrby(`p:${i}`, i);
    p.get('p:999');
    p.incr('user:1');
    p.expire('p:0', 100);
    p.ttl('p:0');
    p.del('p:1', 'p:2', 'nothing');
    p.exists('p:1', 'p:3');
    p.append('p:3', 'x');
    p.getrange('p:3', 0, -1);
    p.incrbyfloat('float', '0.1');
    p.incrbyfloat('float', '0.2');
    const results = await p.exec();
    out.pipeline = results!.map(([err, v]) => (err ? `error: ${err.message}` : v));

    await c.set(BIN, BIN);
    out.binRoundTrip = (await c.getBuffer(BIN))!.equals(BIN);
    out.binAppend = await c.append(BIN, Buffer.from([0, 0xff]));
    out.binRange = (await c.getrangeBuffer(BIN, 250, 300)).toString('hex');
    out.binMget = (await c.mgetBuffer(BIN, 'nothing')).map((b) => (b ? b.length : null));

    await c.set('tmp', 'x', 'PX', 300);
    out.tmpBefore = await c.get('tmp');
    await sleep(400);
    out.tmpAfter = await c.get('tmp');
    out.setex = await c.setex('e', 100, 'v');
    out.ttl = await c.ttl('e');
    out.persist = await c.persist('e');
    out.ttlAfterPersist = await c.ttl('e');
    out.getex = await c.getex('e', 'EX', 50);
    out.ttlAfterGetex = await c.ttl('e');
    out.pexpire = await c.pexpire('e', 10);
    await sleep(60);
    out.expired = await c.exists('e');

    const fill = c.pipeline();
    for (let i = 0; i < 2000; i++) fill.set(`scan:${i}`, 'v');
    await fill.exec();
    const seen = new Set<string>();
    const stream = c.scanStream({ match: 'scan:*', count: 100 });
    for await (const batch of stream) for (const k of batch as string[]) seen.add(k);
    out.scanStreamKeys = seen.size;
    out.scanStreamAllMatch = [...seen].every((k) => k.startsWith('scan:'));

    const many = await Promise.all(Array.from({ length: 500 }, (_, i) => auto.get(`p:${i}`)));
    out.autoPipelined = many.filter((v) => v !== null).length;
    out.dbsize = await c.dbsize();
    out.errorText = await c.incr('user:1').catch((e: Error) => e.message);
    out.unknown = await c.call('NOSUCHCOMMAND', 'x').catch((e: Error) => e.message);
    return out;
  } finally {
    c.disconnect();
    auto.disconnect();
  }
}

/** The same kind of application on node-redis v5 (RESP2 and RESP3 clients). */
async function nodeRedisWorkload(port: number): Promise<Record<string, unknown>> {
  const socket = { host: '127.0.0.1', port, reconnectStrategy: false as const };
  const c = createClient({ socket });
  const c3 = createClient({ socket, RESP: 3 });
  const errors: string[] = [];
  c.on('error', (e: Error) => errors.push(e.message));
  c3.on('error', (e: Error) => errors.push(e.message));
  await Promise.all([c.connect(), c3.connect()]);
  try {
    const out: Record<string, unknown> = {};
    await c.flushAll();
    out.set = await c.set('k', 'v');
    out.setOpts = await c.set('k2', 'v2', { expiration: { type: 'EX', value: 100 } });
    out.ttl = await c.ttl('k2');
    out.get = await c.get('k');
    out.getMissing = await c.get('missing');
    // Commands issued in the same tick travel as one pipeline.
    out.batch = await Promise.all([
      ...Array.from({ length: 300 }, (_, i) => c.set(`b:${i}`, String(i))),
      ...Array.from({ length: 300 }, (_, i) => c.incrBy(`b:${i}`, 1)),
      c.mGet(['b:0', 'b:299', 'missing']),
      c.incrByFloat('f', 1.5),
      c.getDel('b:0'),
      c.exists(['b:0', 'b:1']),
    ]);
    const bin = c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    await bin.set(BIN, BIN);
    out.binRoundTrip = ((await bin.get(BIN)) as Buffer).equals(BIN);
    out.binRange = ((await bin.getRange(BIN, 0, 3)) as Buffer).toString('hex');

    for (let i = 0; i < 1500; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => c.set(`it:${i + j}`, 'v')));
    }
    const seen = new Set<string>();
    for await (const keys of c.scanIterator({ MATCH: 'it:*', COUNT: 50 })) for (const k of keys) seen.add(k);
    out.scanIteratorKeys = seen.size;

    out.pExpire = await c.pExpire('k', 30);
    await sleep(80);
    out.expired = await c.get('k');
    out.raw = await c.sendCommand(['OBJECT', 'ENCODING', 'b:1']);
    out.wrong = await c.incr('f').catch((e: Error) => e.message);

    out.resp3Set = await c3.set('r3', '1');
    out.resp3Get = await c3.get('r3');
    out.resp3Null = await c3.get('missing');
    out.resp3Config = await c3.configGet('maxmemory');
    out.resp3Incr = await c3.incr('r3');
    out.dbsize = await c.dbSize();
    out.connectionErrors = errors;
    return out;
  } finally {
    c.destroy();
    c3.destroy();
  }
}

/** Mass-insertion input for redis-cli --pipe: RESP commands, as the Redis docs describe. */
function massInsert(n: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) parts.push(encodeCommand(['SET', `mass:${i}`, `value-${i}`]));
  return Buffer.concat(parts);
}

if (requireRedisTools(t)) {
  const pair: Pair = await startPair(t);

  t.test('ioredis workload gives the same results on weft and Redis', async (t) => {
    const [a, b] = await Promise.all([ioredisWorkload(pair.weft.port), ioredisWorkload(pair.redis.port)]);
    t.same(a, b);
    t.equal(a.scanStreamKeys, 2000, 'scanStream saw every key');
    t.equal(a.binRoundTrip, true, 'binary values survive');
  });

  t.test('node-redis workload gives the same results on weft and Redis', async (t) => {
    const [a, b] = await Promise.all([nodeRedisWorkload(pair.weft.port), nodeRedisWorkload(pair.redis.port)]);
    t.same(a, b);
    t.equal(a.scanIteratorKeys, 1500, 'scanIterator saw every key');
    t.same(a.connectionErrors, [], 'no connection errors');
  });

  t.test('redis-cli prints the same on weft and Redis', async (t) => {
    const cli = (port: number, args: string[], input?: string | Buffer) =>
      runTool('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], input);
    const cases: { args: string[]; input?: string | Buffer; sortLines?: boolean }[] = [
      { args: ['FLUSHALL'] },
      { args: ['SET', 'a', 'hello'] },
      { args: ['GET', 'a'] },
      { args: ['GET', 'missing'] },
      { args: ['--no-raw', 'GET', 'missing'] },
      { args: ['INCR', 'n'] },
      { args: ['INCR', 'a'] },
      { args: ['--no-raw', 'INCR', 'a'] },
      { args: ['MSET', 'k1', 'v1', 'k2', 'v2'] },
      { args: ['MGET', 'a', 'missing', 'k1'] },
      { args: ['--no-raw', 'MGET', 'a', 'missing', 'k1'] },
      { args: ['--no-raw', 'CONFIG', 'GET', 'maxmemory'] },
      { args: ['-3', 'CONFIG', 'GET', 'maxmemory'] },
      { args: ['-3', '--no-raw', 'CONFIG', 'GET', 'maxmemory'] },
      { args: ['-3', '--no-raw', 'MGET', 'a', 'missing'] },
      { args: ['-3', 'GET', 'missing'] },
      { args: ['-3', '--no-raw', 'INCRBYFLOAT', 'fl', '0.1'] },
      { args: ['--no-raw', 'OBJECT', 'HELP'] },
      { args: ['-x', 'SET', 'xk'], input: 'from stdin\n' },
      { args: ['GET', 'xk'] },
      { args: ['-x', 'SET', 'xb'], input: BIN },
      { args: ['STRLEN', 'xb'] },
      { args: ['-n', '3', 'SET', 'indb3', 'y'] },
      { args: ['-n', '3', 'DBSIZE'] },
      { args: ['-r', '3', 'INCR', 'rep'] },
      { args: ['--no-raw', 'TTL', 'a'] },
      { args: ['DBSIZE'] },
      { args: ['KEYS', 'k*'], sortLines: true },
      { args: ['--scan', '--pattern', 'k*'], sortLines: true },
      // Commands read line by line from stdin (inline form), in RESP2 and RESP3.
      { args: [], input: 'SET line 1\nINCR line\nGET line\nFOO bar\nMGET line nothing\n' },
      { args: ['-3'], input: 'GET nothing\nGET\nCONFIG GET maxmemory\nPING\n' },
      { args: ['--no-raw'], input: 'GET nothing\nSET q "quoted value"\nGET q\n' },
    ];
    for (const k of cases) {
      const [a, b] = await Promise.all([cli(pair.weft.port, k.args, k.input), cli(pair.redis.port, k.args, k.input)]);
      const norm = (s: string) => (k.sortLines ? s.split('\n').sort().join('\n') : s);
      t.same({ code: a.code, out: norm(a.out), err: a.err }, { code: b.code, out: norm(b.out), err: b.err }, `redis-cli ${k.args.join(' ')}`);
    }
  });

  t.test('redis-cli --pipe mass insertion of 10k keys', async (t) => {
    const data = massInsert(10000);
    const run = (port: number) => runTool('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--pipe'], data);
    await Promise.all([
      runTool('redis-cli', ['-p', String(pair.weft.port), 'FLUSHALL']),
      runTool('redis-cli', ['-p', String(pair.redis.port), 'FLUSHALL']),
    ]);
    const [a, b] = await Promise.all([run(pair.weft.port), run(pair.redis.port)]);
    t.equal(a.code, 0, 'redis-cli --pipe exits 0');
    t.match(a.out, /errors: 0, replies: 10000/);
    t.same({ out: a.out, err: a.err }, { out: b.out, err: b.err }, 'same report as against Redis');
    const c = await RawClient.connect(pair.weft.port);
    t.teardown(() => c.close());
    t.equal((await c.command('DBSIZE')).toString(), ':10000\r\n');
    t.equal((await c.command('GET', 'mass:9999')).toString(), '$10\r\nvalue-9999\r\n');
    // Errors in the stream are counted and printed the same way.
    const withErrors = Buffer.concat([encodeCommand(['SET', 's', 'x']), encodeCommand(['INCR', 's']), encodeCommand(['FOO']), massInsert(10)]);
    const [ea, eb] = await Promise.all([
      runTool('redis-cli', ['-p', String(pair.weft.port), '--pipe'], withErrors),
      runTool('redis-cli', ['-p', String(pair.redis.port), '--pipe'], withErrors),
    ]);
    t.same({ code: ea.code, out: ea.out, err: ea.err }, { code: eb.code, out: eb.out, err: eb.err }, '--pipe with error replies');
  });

  t.test('redis-benchmark runs without errors', async (t) => {
    for (const extra of [[], ['-P', '16']]) {
      const r = await runTool('redis-benchmark', ['-h', '127.0.0.1', '-p', String(pair.weft.port), '-t', 'set,get,incr,mset', '-n', '20000', '-q', ...extra]);
      const label = `redis-benchmark ${extra.join(' ')}`.trim();
      t.equal(r.code, 0, `${label} exits 0`);
      for (const test of ['SET', 'GET', 'INCR', 'MSET (10 keys)']) {
        t.match(r.out, new RegExp(`^${test.replace(/[()]/g, '\\$&')}: [\\d.]+ requests per second`, 'm'), `${label}: ${test} completed`);
      }
      t.notMatch(r.out + r.err, /error|ERR|WARN/i, `${label}: no errors or warnings`);
    }
  });
}

t.test('50 connections are spread evenly over 2 worker threads', async (t) => {
  const weft = await startWeft([], { threads: 2 });
  t.teardown(() => weft.stop());
  const clients: RawClient[] = [];
  t.teardown(() => clients.forEach((c) => c.close()));
  let pongs = 0;
  for (let i = 0; i < 50; i++) {
    const c = await RawClient.connect(weft.port);
    clients.push(c);
    // A round trip makes sure the coordinator has handed this socket over before the next one arrives.
    if ((await c.command('PING')).toString() === '+PONG\r\n') pongs++;
  }
  t.equal(pongs, 50, 'every connection is served');
  const info = (await clients[0].command('INFO', 'server')).toString();
  t.match(info, /worker_threads:2\r\n/, 'INFO reports the worker threads');
  const list = (await clients[0].command('CLIENT', 'LIST')).toString();
  t.equal(list.split('\n').filter((l) => l.startsWith('id=')).length, 50, 'CLIENT LIST shows the 50 connections');
  t.match((await clients[0].command('INFO', 'clients')).toString(), /connected_clients:50\r\n/);
  // CLIENT LIST names each connection's worker (io-thread, as newer Redis and Valkey do).
  const perThread = [0, 0];
  for (const m of list.matchAll(/io-thread=(\d+)/g)) perThread[Number(m[1])]++;
  t.same(perThread, [25, 25], 'the 50 connections split 25/25');
});
