// Compares weft's collections with redis-server's, in one run, the servers
// pinned to core 0 and the clients to core 1 (as bench-vs-redis).
//
// 1. Server CPU per operation, 1 worker thread, redis-benchmark -c 50 -r 1000000 -d 32:
//    lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600 at -P 1 and -P 16.
// 2. Large collections: ZADD, ZSCORE, ZRANK and ZRANGEBYSCORE ... LIMIT 0 10 against a sorted
//    set of --large members, SADD/SISMEMBER against a set, HSET/HGET against a hash, each
//    also against a 1,000-member collection (the complexity holds when the ratio stays near 1).
// 3. Memory (used_memory and RSS per element): a --large element list of 32-byte values,
//    --large member set, hash and sorted set; --small small hashes of 10 fields, small sets of
//    10 integers and small sorted sets of 10 members; each loaded into a fresh server, then
//    once more beside itself (RSS per element once the process has warmed up).
//
// Usage: scripts/bench-collections [--requests N] [--tests lpush,...] [--large N] [--small N] [--skip-throughput] [--skip-large] [--skip-memory]
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import {
  flag, fmt, opt, pin, redisCli, requireTools, rssBytes, runBenchmark, startRedisServer, startWeftServer, cpuTicks,
} from './bench-lib.mjs';

const requests = Number(opt('requests', '100000'));
const large = Number(opt('large', '1000000'));
const small = Number(opt('small', '100000'));
const TESTS = opt('tests', 'lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600').split(',');
requireTools();

const startRedis = startRedisServer;
const startWeft = () => startWeftServer(1);

function stop(server) {
  server.proc.kill('SIGKILL');
}

/** Sends commands over one connection, pipelined in batches; resolves once every reply came back. */
async function pipelineLoad(port, count, make) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  let lines = 0;
  socket.on('data', (d) => {
    for (let i = 0; i < d.length; i++) if (d[i] === 10) lines++;
  });
  const batch = 5000;
  for (let base = 0; base < count; base += batch) {
    const parts = [];
    const end = Math.min(count, base + batch);
    for (let i = base; i < end; i++) {
      const args = make(i);
      parts.push(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    }
    socket.write(parts.join(''));
    while (lines < end) await new Promise((r) => setTimeout(r, 1));
  }
  socket.destroy();
}

function customBenchmark(server, n, command) {
  const clientPin = pin ? ['taskset', '-c', '1'] : [];
  const before = cpuTicks(server.pid);
  const r = spawnSync(clientPin[0] ?? 'redis-benchmark', [...clientPin.slice(1), ...(pin ? ['redis-benchmark'] : []),
    '-p', String(server.port), '-c', '50', '-n', String(n), '-r', String(large), '-P', '16', '--csv', ...command],
  { encoding: 'utf8', timeout: 600000 });
  const ticks = cpuTicks(server.pid) - before;
  if (r.status !== 0) throw new Error(`redis-benchmark failed: ${r.stderr}`);
  return (ticks / 100) * 1e6 / n;
}

/** used_memory, and used_memory_heap where the server has it (weft: its worker threads' V8 heaps, included in used_memory). */
function memoryOf(port) {
  const info = redisCli(port, 'info', 'memory');
  return { used: Number(/^used_memory:(\d+)/m.exec(info)[1]), heap: Number(/^used_memory_heap:(\d+)/m.exec(info)?.[1] ?? 0) };
}
const rand32 = (i) => `${i}`.padStart(32, 'v');

async function throughput() {
  const [redis, weft] = [await startRedis(), await startWeft()];
  console.log('| test | -P | redis CPU us/op | weft CPU us/op | CPU ratio | redis ops/s | weft ops/s |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const pipeline of [1, 16]) {
    for (const test of TESTS) {
      const r = runBenchmark({ name: 'redis', port: redis.port, pids: [redis.pid], test, pipeline, requests });
      const w = runBenchmark({ name: 'weft', port: weft.port, pids: [weft.pid], test, pipeline, requests });
      console.log(`| ${test} | ${pipeline} | ${fmt(r.cpuPerOpUs)} | ${fmt(w.cpuPerOpUs)} | ${fmt(w.cpuPerOpUs / r.cpuPerOpUs)}x | ${Math.round(r.rps)} | ${Math.round(w.rps)} |`);
    }
  }
  stop(redis);
  stop(weft);
}

async function largeCollections() {
  const [redis, weft] = [await startRedis(), await startWeft()];
  for (const s of [redis, weft]) {
    for (const [key, size] of [['bigz', large], ['smallz', 1000]]) await pipelineLoad(s.port, size, (i) => ['ZADD', key, String(i), `m:${i}`]);
    for (const [key, size] of [['bigs', large], ['smalls', 1000]]) await pipelineLoad(s.port, size, (i) => ['SADD', key, `m:${i}`]);
    for (const [key, size] of [['bigh', large], ['smallh', 1000]]) await pipelineLoad(s.port, size, (i) => ['HSET', key, `f:${i}`, 'v']);
  }
  const ops = [
    ['ZADD', (k) => ['ZADD', k, '__rand_int__', 'm:__rand_int__']],
    ['ZSCORE', (k) => ['ZSCORE', k, 'm:__rand_int__']],
    ['ZRANK', (k) => ['ZRANK', k, 'm:__rand_int__']],
    ['ZRANGEBYSCORE LIMIT 0 10', (k) => ['ZRANGEBYSCORE', k, '__rand_int__', '+inf', 'LIMIT', '0', '10']],
    ['SADD', (k) => ['SADD', k, 'm:__rand_int__']],
    ['SISMEMBER', (k) => ['SISMEMBER', k, 'm:__rand_int__']],
    ['HSET', (k) => ['HSET', k, 'f:__rand_int__', 'v']],
    ['HGET', (k) => ['HGET', k, 'f:__rand_int__']],
  ];
  console.log(`\n| op | redis ${large} us/op | weft ${large} us/op | ratio | weft 1000 us/op | weft ${large} / 1000 |`);
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const [name, make] of ops) {
    const kind = name[0] === 'Z' ? 'z' : name[0] === 'S' ? 's' : 'h';
    const n = requests * 5;
    const r = customBenchmark(redis, n, make(`big${kind}`));
    const w = customBenchmark(weft, n, make(`big${kind}`));
    const ws = customBenchmark(weft, n, make(`small${kind}`));
    console.log(`| ${name} | ${fmt(r)} | ${fmt(w)} | ${fmt(w / r)}x | ${fmt(ws)} | ${fmt(w / ws)}x |`);
  }
  stop(redis);
  stop(weft);
}

// Each dataset is loaded twice, under other key names the second time: the first load's RSS
// includes the process's one-off growth (compiled code, the JavaScript heap), the second's is
// what each further element costs. Both servers run MEMORY PURGE before each reading (redis:
// jemalloc returns dirty pages; weft: a full collection on every thread), so garbage not yet
// collected is not counted as data.
const MEMORY_CASES = [
  { name: `list of ${large} 32-byte values`, elements: large, load: (i, p) => ['RPUSH', `${p}l`, rand32(i)], count: large },
  { name: `set of ${large} members`, elements: large, load: (i, p) => ['SADD', `${p}s`, `m:${i}`], count: large },
  { name: `hash of ${large} fields`, elements: large, load: (i, p) => ['HSET', `${p}h`, `f:${i}`, rand32(i)], count: large },
  { name: `sorted set of ${large} members`, elements: large, load: (i, p) => ['ZADD', `${p}z`, String(i), `m:${i}`], count: large },
  { name: `${small} hashes of 10 fields`, elements: small * 10, count: small,
    load: (i, p) => ['HSET', `${p}h:${i}`, ...Array.from({ length: 10 }, (_, j) => [`field${j}`, `value${j}`]).flat()] },
  { name: `${small} sets of 10 integers`, elements: small * 10, count: small,
    load: (i, p) => ['SADD', `${p}s:${i}`, ...Array.from({ length: 10 }, (_, j) => String(j * 7))] },
  { name: `${small} sorted sets of 10 members`, elements: small * 10, count: small,
    load: (i, p) => ['ZADD', `${p}z:${i}`, ...Array.from({ length: 10 }, (_, j) => [String(j), `member${j}`]).flat()] },
];

/** used_memory and RSS per element of each of two loads of the same shape into one server. */
async function loadTwice(startOne, m) {
  const s = await startOne();
  const loads = [];
  for (const prefix of ['', 'again:']) {
    redisCli(s.port, 'memory', 'purge');
    const used0 = memoryOf(s.port);
    const rss0 = rssBytes(s.pid);
    await pipelineLoad(s.port, m.count, (i) => m.load(i, prefix));
    redisCli(s.port, 'memory', 'purge');
    const after = memoryOf(s.port);
    loads.push({ used: (after.used - used0.used) / m.elements, heap: (after.heap - used0.heap) / m.elements, rss: (rssBytes(s.pid) - rss0) / m.elements });
  }
  stop(s);
  return loads;
}

async function memory() {
  console.log('\n| dataset | redis used B/elem | weft used B/elem | used ratio | of which weft heap B/elem | redis RSS B/elem | weft RSS B/elem | RSS ratio | 2nd load: used ratio | redis RSS B/elem | weft RSS B/elem | RSS ratio |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const m of MEMORY_CASES) {
    const [r, r2] = await loadTwice(startRedis, m);
    const [w, w2] = await loadTwice(startWeft, m);
    console.log(`| ${m.name} | ${fmt(r.used, 1)} | ${fmt(w.used, 1)} | ${fmt(w.used / r.used)}x | ${fmt(w.heap, 1)} | ${fmt(r.rss, 1)} | ${fmt(w.rss, 1)} | ${fmt(w.rss / r.rss)}x `
      + `| ${fmt(w2.used / r2.used)}x | ${fmt(r2.rss, 1)} | ${fmt(w2.rss, 1)} | ${fmt(w2.rss / r2.rss)}x |`);
  }
}

console.log(`bench-collections: ${requests} requests per run (5x at -P 16), 1 worker thread, servers on core 0, client on core 1: ${pin}`);
if (!flag('skip-throughput')) await throughput();
if (!flag('skip-large')) await largeCollections();
if (!flag('skip-memory')) await memory();
