// Shared parts of weft's benchmark scripts: options, core pinning, starting
// servers on free loopback ports, reading a process's CPU time and RSS from
// /proc, and running redis-benchmark with a bound on its run time.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// WEFT_DIST points at another build of weft (e.g. to compare two versions).
export const dist = path.resolve(process.env.WEFT_DIST ?? path.join(root, 'dist'));
export const nodeBin = path.join(root, 'node_modules', 'node', 'bin', 'node');

const args = process.argv.slice(2);
export const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
export const flag = (name) => args.includes(`--${name}`);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Servers on core 0, the client on core 1, when the machine has two cores (--no-pin: let the OS place them).
export const pin = !flag('no-pin') && os.availableParallelism() >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
export const serverPin = pin ? ['taskset', '-c', '0'] : [];
export const clientPin = pin ? ['taskset', '-c', '1'] : [];
const TICK = 100; // USER_HZ: /proc reports CPU time in 1/100 s

export function requireTools() {
  for (const tool of ['redis-server', 'redis-benchmark', 'redis-cli']) {
    if (spawnSync(tool, ['--version']).status !== 0) {
      console.error(`${tool} not found: install Debian's redis-server and redis-tools (apt-get install redis-server redis-tools).`);
      process.exit(1);
    }
  }
  if (!fs.existsSync(path.join(dist, 'server', 'main.js'))) {
    console.error('dist/ is missing: run npm ci (or npm run build) first.');
    process.exit(1);
  }
}

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** Starts a server (pinned) and waits for Redis's ready line. */
export async function startServer(name, argv, port) {
  const [cmd, ...rest] = [...serverPin, ...argv];
  const proc = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const deadline = Date.now() + 20000;
  while (!/Ready to accept connections/.test(out)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`${name} did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { name, port, proc, pid: proc.pid };
}

/** redis-server on a free port, without persistence (pinned, as startServer). */
export async function startRedisServer() {
  const port = await freePort();
  return startServer('redis', ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], port);
}

/** weft (the build in `dist`) on a free port with `threads` worker threads (pinned, as startServer). */
export async function startWeftServer(threads = 1) {
  const port = await freePort();
  return startServer('weft', [nodeBin, path.join(dist, 'server', 'main.js'), '--port', String(port), '--bind', '127.0.0.1',
    '--threads', String(threads), '--save', ''], port);
}

export function cpuTicks(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

export function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * One redis-benchmark run (pinned to the client core) against `port`; the
 * CPU time of every process in `pids` over the run, per operation, and
 * redis-benchmark's p50 and p99 latency (ms).
 */
export function runBenchmark({ name, port, pids, test, pipeline, requests: baseRequests, extra = [] }) {
  // Pipelined runs are ~10x faster: give them more operations, so that the
  // servers' CPU time spans enough 10 ms clock ticks to be measured well.
  const requests = pipeline > 1 ? baseRequests * 5 : baseRequests;
  const before = pids.reduce((n, pid) => n + cpuTicks(pid), 0);
  const r = spawnSync(clientPin[0] ?? 'redis-benchmark', [...clientPin.slice(1), ...(pin ? ['redis-benchmark'] : []),
    '-p', String(port), ...extra, '-t', test, '-c', '50', '-r', '1000000', '-d', '32', '-n', String(requests), '-P', String(pipeline), '--csv'],
  // redis-benchmark spins forever against a server that died: bound it.
  { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 600000 });
  const ticks = pids.reduce((n, pid) => n + cpuTicks(pid), 0) - before;
  const line = r.stdout.split('\n').find((l) => l.startsWith('"') && !l.startsWith('"test"'));
  if (r.status !== 0 || !line) throw new Error(`redis-benchmark failed against ${name}: ${r.stderr}${r.stdout}`);
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const cells = JSON.parse(`[${line}]`).map(Number);
  return { rps: cells[1], cpuPerOpUs: ((ticks / TICK) * 1e6) / requests, p50: cells[4], p99: cells[6] };
}

export function redisCli(port, ...cmd) {
  return spawnSync('redis-cli', ['-p', String(port), ...cmd], { encoding: 'utf8' }).stdout.trim();
}

export const fmt = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

/** The median of f over xs. */
export const median = (xs, f) => xs.map(f).sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/**
 * memtier_benchmark when it is on the PATH, weft-bench (memtier's flags and
 * JSON report, native-free-bench/) otherwise.
 */
export function memtierTool() {
  if (spawnSync('memtier_benchmark', ['--version']).status === 0) return { name: 'memtier_benchmark', argv: ['memtier_benchmark'] };
  return { name: 'weft-bench', argv: [nodeBin, path.join(root, 'native-free-bench', 'dist', 'cli.js')] };
}

/**
 * One memtier-shaped run (pinned to the client core): `test` 'set' (--ratio
 * 1:0), 'get' (0:1) or 'mixed' (1:10, memtier's default), `clients`
 * connections over 2 threads, 32-byte values over 1,000,000 keys, `pipeline`
 * requests in flight per connection, at most `rate` requests per second per
 * client when given (--rate-limiting); ops/s, the CPU time of every process in
 * `pids` per operation, p50 and p99 (ms).
 */
export function runMemtier({ tool, port, pids, test, pipeline, requests, clients = 50, rate = 0, extra = [] }) {
  const threads = 2;
  const out = path.join(os.tmpdir(), `weft-memtier-${process.pid}.json`);
  const ratio = { set: '1:0', get: '0:1', mixed: '1:10' }[test];
  const before = pids.reduce((n, pid) => n + cpuTicks(pid), 0);
  const r = spawnSync(clientPin[0] ?? tool.argv[0], [...clientPin.slice(1), ...(pin ? tool.argv : tool.argv.slice(1)),
    '-s', '127.0.0.1', '-p', String(port), ...extra, '-t', String(threads), '-c', String(clients / threads), '--pipeline', String(pipeline),
    '--ratio', ratio, '--key-minimum', '0', '--key-maximum', '999999', '-d', '32', '--distinct-client-seed',
    ...(rate > 0 ? ['--rate-limiting', String(rate)] : []),
    '-n', String(Math.ceil(requests / clients)), '--hide-histogram', '--print-percentiles', '50,99', '--json-out-file', out],
  { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 600000 });
  const ticks = pids.reduce((n, pid) => n + cpuTicks(pid), 0) - before;
  if (r.status !== 0) throw new Error(`${tool.name} failed: ${r.stderr}${r.stdout}`);
  const stats = JSON.parse(fs.readFileSync(out, 'utf8'))['ALL STATS'];
  fs.rmSync(out, { force: true });
  if (stats.Totals.Errors > 0) throw new Error(`${tool.name} counted ${stats.Totals.Errors} errors`);
  const row = stats[{ set: 'Sets', get: 'Gets', mixed: 'Totals' }[test]];
  const done = Math.ceil(requests / clients) * clients;
  return { rps: row['Ops/sec'], cpuPerOpUs: ((ticks / TICK) * 1e6) / done, p50: row['Percentile Latencies']['p50.00'], p99: row['Percentile Latencies']['p99.00'] };
}
