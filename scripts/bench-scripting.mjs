// Compares weft's scripting with redis-server's, in one run, the servers pinned to core 0 and
// redis-benchmark to core 1 (as bench-vs-redis), weft on one worker thread. Server CPU per call:
//
// 1. EVALSHA of `return redis.call('INCR', KEYS[1])` over 1,000,000 random keys, -P 1 and -P 16.
// 2. A new script per call: EVAL of `return '<random>'` (redis-benchmark puts a fresh random
//    number in the body, so nearly every call compiles and caches a script never seen).
// 3. A 20-command script: EVALSHA of a loop of 20 INCRs on one key.
// 4. Memory per cached script: INFO memory's used_memory_lua + used_memory_scripts_eval, and the
//    server's RSS, before and after SCRIPT LOAD of 20,000 distinct small scripts, divided by 20,000.
//
// Usage: scripts/bench-scripting [--requests N] [--rounds R]
import { spawnSync } from 'node:child_process';
import {
  clientPin, cpuTicks, fmt, median, opt, pin, redisCli, requireTools, rssBytes, sleep, startRedisServer, startWeftServer,
} from './bench-lib.mjs';

const requests = Number(opt('requests', '200000'));
const rounds = Number(opt('rounds', '3'));
const TICK = 100;
const CACHED_SCRIPTS = 20000;
requireTools();

const INCR = "return redis.call('INCR', KEYS[1])";
const TWENTY = "for i = 1, 20 do redis.call('INCR', KEYS[1]) end return 20";

/** redis-benchmark running `command` (an argv), server CPU us per call. */
function run(server, command, pipeline, n) {
  const before = cpuTicks(server.pid);
  const r = spawnSync(clientPin[0] ?? 'redis-benchmark', [...clientPin.slice(1), ...(pin ? ['redis-benchmark'] : []),
    '-p', String(server.port), '-c', '50', '-r', '1000000', '-n', String(n), '-P', String(pipeline), '--csv', ...command],
  { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 600000 });
  const ticks = cpuTicks(server.pid) - before;
  if (r.status !== 0 || /ERR|NOSCRIPT/.test(r.stdout + r.stderr)) throw new Error(`redis-benchmark failed against ${server.name}: ${r.stderr}${r.stdout}`);
  return ((ticks / TICK) * 1e6) / n;
}

/** INFO memory's Lua state and script cache bytes, and the process's RSS. */
function scriptMemory(server) {
  const info = redisCli(server.port, 'INFO', 'memory');
  const field = (name) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  return { info: field('used_memory_lua') + field('used_memory_scripts_eval'), rss: rssBytes(server.pid) };
}

async function memoryPerScript(server) {
  redisCli(server.port, 'SCRIPT', 'FLUSH');
  await sleep(300);
  const before = scriptMemory(server);
  const lines = [];
  for (let i = 0; i < CACHED_SCRIPTS; i++) lines.push(`SCRIPT LOAD "return redis.call('GET', KEYS[1]) .. ${i}"`);
  spawnSync('redis-cli', ['-p', String(server.port)], { input: lines.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 26 });
  await sleep(300);
  const after = scriptMemory(server);
  return { info: (after.info - before.info) / CACHED_SCRIPTS, rss: (after.rss - before.rss) / CACHED_SCRIPTS };
}

const cases = [
  { name: 'EVALSHA INCR, -P 1', pipeline: 1, n: requests, command: (sha) => ['EVALSHA', sha.incr, '1', 'key:__rand_int__'] },
  { name: 'EVALSHA INCR, -P 16', pipeline: 16, n: requests * 5, command: (sha) => ['EVALSHA', sha.incr, '1', 'key:__rand_int__'] },
  { name: 'EVAL of a new script, -P 1', pipeline: 1, n: Math.round(requests / 4), command: () => ['EVAL', "return '__rand_int__'", '0'] },
  { name: 'EVALSHA 20 x INCR, -P 1', pipeline: 1, n: Math.round(requests / 2), command: (sha) => ['EVALSHA', sha.twenty, '1', 'key:__rand_int__'] },
];

const results = cases.map(() => ({ redis: [], weft: [] }));
const memory = { redis: [], weft: [] };
for (let round = 1; round <= rounds; round++) {
  for (const start of [startRedisServer, () => startWeftServer(1)]) {
    const server = await start();
    try {
      const sha = { incr: redisCli(server.port, 'SCRIPT', 'LOAD', INCR), twenty: redisCli(server.port, 'SCRIPT', 'LOAD', TWENTY) };
      cases.forEach((c, i) => {
        const us = run(server, c.command(sha), c.pipeline, c.n);
        results[i][server.name].push(us);
        process.stderr.write(`round ${round} ${server.name} ${c.name}: ${fmt(us)} us/call\n`);
      });
      memory[server.name].push(await memoryPerScript(server));
    } finally {
      server.proc.kill('SIGKILL');
    }
  }
}

console.log(`\nServer CPU per call, medians of ${rounds} rounds (weft: 1 worker thread; servers pinned to core 0, clients to core 1)\n`);
console.log('| test | redis us/call | weft us/call | weft/redis |');
console.log('| --- | --- | --- | --- |');
cases.forEach((c, i) => {
  const r = median(results[i].redis, (x) => x);
  const w = median(results[i].weft, (x) => x);
  console.log(`| ${c.name} | ${fmt(r)} | ${fmt(w)} | ${fmt(w / r)}x |`);
});
for (const [label, key] of [['INFO memory (Lua state + script cache)', 'info'], ['RSS', 'rss']]) {
  const mr = median(memory.redis, (x) => x[key]);
  const mw = median(memory.weft, (x) => x[key]);
  console.log(`| ${label} per cached script (${CACHED_SCRIPTS} loaded) | ${fmt(mr, 0)} B | ${fmt(mw, 0)} B | ${fmt(mw / mr)}x |`);
}
