// Where a pipelined command's CPU goes, in weft beside redis-server and a
// bare Node.js server that only answers +OK (scripts/bare-ok-server.mjs).
// Each server runs alone, pinned to core 0, with redis-benchmark on core 1
// (-c 50 -r 1000000 -d 32): a warm-up run of SETs that fills about 1,000,000
// keys, then a measured run under
// `perf record -g` (weft with --perf-basic-prof, so its JIT code has names),
// then a shorter run under `strace -c` for the system calls per operation.
// Prints the server's CPU per operation (from /proc, over the perf run: perf
// at 999 Hz costs a few percent) and perf's samples grouped by what the code
// does, as shares and as us/op.
//
// Usage: scripts/profile-hot-path [--test set|get] [--pipeline 16] [--requests N] [--servers weft,redis,bare]
//        (WEFT_DIST=dir: profile another build)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clientPin, cpuTicks, dist, fmt, freePort, nodeBin, opt, pin, requireTools, root, sleep, startServer } from './bench-lib.mjs';

const test = opt('test', 'set');
const pipeline = Number(opt('pipeline', '16'));
const requests = Number(opt('requests', pipeline > 1 ? '3000000' : '400000'));
const which = opt('servers', 'weft,redis,bare').split(',');
requireTools();
const hasPerf = spawnSync('perf', ['--version']).status === 0;
const hasStrace = spawnSync('strace', ['-V']).status === 0;

const SERVERS = {
  weft: (port) => [nodeBin, '--perf-basic-prof', path.join(dist, 'server', 'main.js'), '--port', String(port), '--bind', '127.0.0.1',
    '--threads', '1', '--save', ''],
  redis: (port) => ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  bare: (port) => [nodeBin, path.join(root, 'scripts', 'bare-ok-server.mjs'), '--port', String(port)],
};

/** Categories of perf's symbols, first match wins: kernel samples, then weft's JS by source file, then the runtimes. */
const CATEGORIES = [
  ['kernel: socket calls, loopback TCP, wake-ups', (kind) => kind === 'k'],
  ['weft: batch parse, key hash, memory touches', (_, s) => /batch-prefetch|key-hash/.test(s)],
  ['weft: store (lookup, insert, values, locks)', (_, s) => /store\/|string-values/.test(s)],
  ['weft: RESP parse', (_, s) => /resp-parser/.test(s)],
  ['weft: reply building', (_, s) => /reply-writer/.test(s)],
  ['weft: dispatch and command handlers', (_, s) => /commands\/|replication\/|worker-runtime|cluster-routing/.test(s)],
  ['weft: connection loop, output queue', (_, s) => /server\//.test(s)],
  ['Node.js JS (net, streams, timers)', (_, s) => /JS:.*node:/.test(s)],
  ['V8 builtins (property loads, Atomics, typed arrays)', (_, s) => /^Builtins_/.test(s)],
  ['V8 runtime and GC', (_, s) => /v8::|Heap|Scavenge|Marking|Sweeper|Turbofan|Maglev/.test(s)],
  ['Node.js and libuv native', (_, s) => /node::|uv_|uv__/.test(s)],
  ['libc (malloc, memcpy, clock)', (_, s) => /malloc|free|mem(cpy|move|chr|set)|libc|__vdso|_int_|pthread/.test(s)],
  ['redis-server code', (_, s, name) => name === 'redis'],
  ['other', () => true],
];

function redisBenchmark(port, n, which = test) {
  return spawnSync(clientPin[0] ?? 'redis-benchmark', [...clientPin.slice(1), ...(pin ? ['redis-benchmark'] : []), '-p', String(port),
    '-c', '50', '-r', '1000000', '-d', '32', '-P', String(pipeline), '-t', which, '-n', String(n), '-q'], { encoding: 'utf8', timeout: 600000 });
}

/** Runs `tool` attached to pid for one benchmark run; returns the server's CPU per operation over it. */
async function attached(tool, pid, port, n) {
  const child = tool === null ? null : spawn(tool[0], tool.slice(1), { stdio: 'ignore' });
  await sleep(300);
  const before = cpuTicks(pid);
  redisBenchmark(port, n);
  const us = ((cpuTicks(pid) - before) * 1e4) / n;
  if (child !== null) {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
  }
  return us;
}

function perfCategories(name, file) {
  const r = spawnSync('perf', ['report', '-i', file, '--no-children', '--sort', 'sym', '--stdio', '-g', 'none'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const shares = new Map(CATEGORIES.map(([c]) => [c, 0]));
  for (const line of r.stdout.split('\n')) {
    const m = /^\s+([\d.]+)%\s+\[(.)\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const [category] = CATEGORIES.find(([, matches]) => matches(m[2], m[3].trim(), name));
    shares.set(category, shares.get(category) + Number(m[1]));
  }
  return shares;
}

/** System calls per 1,000 operations, counted by strace over a run of n operations. */
async function syscalls(pid, port, n) {
  const file = path.join(os.tmpdir(), `weft-profile-strace-${process.pid}.txt`);
  await attached(['strace', '-c', '-f', '-p', String(pid), '-o', file], pid, port, n);
  const counts = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$/.exec(line);
    if (m && m[2] !== 'total') counts[m[2]] = (Number(m[1]) * 1000) / n;
  }
  fs.rmSync(file, { force: true });
  return counts;
}

async function profile(name) {
  const port = await freePort();
  const server = await startServer(name, SERVERS[name](port), port);
  try {
    // The warm-up also fills the keyspace (about 1,000,000 keys), so that GETs hit as in bench-vs-redis.
    redisBenchmark(port, 3000000, 'set');
    const file = path.join(os.tmpdir(), `weft-profile-${name}-${process.pid}.data`);
    const us = await attached(hasPerf ? ['perf', 'record', '-F', '999', '-g', '-p', String(server.pid), '-o', file, '-q'] : null, server.pid, port, requests);
    const shares = hasPerf ? perfCategories(name, file) : null;
    fs.rmSync(file, { force: true });
    const calls = hasStrace ? await syscalls(server.pid, port, Math.min(requests, 500000)) : null;
    return { name, us, shares, calls };
  } finally {
    server.proc.kill('SIGKILL');
  }
}

const results = [];
for (const name of which) {
  process.stderr.write(`profiling ${name}...\n`);
  results.push(await profile(name));
}
console.log(`profile-hot-path: ${test.toUpperCase()} -P ${pipeline}, ${requests} operations, -c 50 -r 1000000 -d 32; ` +
  `${pin ? 'server on core 0, client on core 1' : 'no pinning'}; perf ${hasPerf ? 'at 999 Hz' : 'not available'}`);
console.log(`\n| | ${results.map((r) => `${r.name} share | ${r.name} us/op`).join(' | ')} |`);
console.log('|' + ' --- |'.repeat(1 + results.length * 2));
console.log(`| CPU per operation (whole process) | ${results.map((r) => `100% | ${fmt(r.us)}`).join(' | ')} |`);
if (hasPerf) {
  for (const [category] of CATEGORIES) {
    if (results.every((r) => r.shares.get(category) < 0.05)) continue;
    console.log(`| ${category} | ${results.map((r) => `${fmt(r.shares.get(category), 1)}% | ${fmt((r.shares.get(category) * r.us) / 100)}`).join(' | ')} |`);
  }
}
if (hasStrace) {
  const names = ['read', 'write', 'writev', 'epoll_wait', 'epoll_pwait', 'futex'].filter((s) => results.some((r) => (r.calls[s] ?? 0) >= 0.5));
  console.log(`\nSystem calls per 1,000 operations (strace -c -f):\n| server | ${names.join(' | ')} |\n|${' --- |'.repeat(names.length + 1)}`);
  for (const r of results) console.log(`| ${r.name} | ${names.map((s) => fmt(r.calls[s] ?? 0, 1)).join(' | ')} |`);
}
