// Checks weft-bench against redis-benchmark: the same workload (SET, then
// GET; -c 50 split over 2 threads, -r 1000000 -d 32, at -P 1 and -P 16)
// against one redis-server, emptied before every run, each tool in turn, and prints both tools' ops/s
// and p50 latency with their ratio (weft-bench / redis-benchmark), and each
// tool's own CPU time per operation. The figures: agreement within
// 15%, and weft-bench at -t 2 --pipeline 16 reaching at least 0.8x
// redis-benchmark's ops/s. The server is pinned to core 0 and the tools to
// core 1 (taskset) when the machine has 2+ cores. Pipelined runs measure
// weft-bench twice: keeping --pipeline requests in flight (memtier's way),
// and with --pipeline-batch (redis-benchmark -P's way: a batch, then all of
// its replies), the same workload as redis-benchmark's; the server's CPU time
// per operation under each shows how hard each way makes it work.
//
// Usage: scripts/bench-tools-agree [--requests N] [--rounds R] [--tests set,get] [--pipelines 1,16] [--no-pin]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuTicks, fmt, freePort, median, nodeBin, opt, pin, redisCli, requireTools, root, startServer } from './bench-lib.mjs';

const requests = Number(opt('requests', '200000'));
const rounds = Number(opt('rounds', '3'));
const tests = opt('tests', 'set,get').split(',');
const pipelines = opt('pipelines', '1,16').split(',').map(Number);
const CLIENTS = 50;
const THREADS = 2;
const benchCli = path.join(root, 'native-free-bench', 'dist', 'cli.js');
requireTools();
if (!fs.existsSync(benchCli)) {
  console.error('native-free-bench/dist is missing: run npm ci (or npm run build) first.');
  process.exit(1);
}

const clientPin = pin ? ['taskset', '-c', '1'] : [];

/**
 * Runs a command (pinned to the client core) through sh, which reports the
 * CPU time of its reaped children (cutime + cstime in /proc/<sh>/stat): the
 * tool's own CPU time, all its threads included.
 */
function timed(argv, timeoutMs) {
  const quoted = [...clientPin, ...argv].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = spawnSync('sh', ['-c', `${quoted}; status=$?; echo "@@cpu $(cut -d' ' -f16,17 /proc/$$/stat)"; exit $status`],
    { encoding: 'utf8', maxBuffer: 1 << 26, timeout: timeoutMs });
  const m = /@@cpu (\d+) (\d+)/.exec(r.stdout);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, cpuSeconds: m ? (Number(m[1]) + Number(m[2])) / 100 : NaN };
}

function redisBenchmark(port, test, pipeline, n) {
  const r = timed(['redis-benchmark', '-p', String(port), '-t', test, '-c', String(CLIENTS), '--threads', String(THREADS),
    '-r', '1000000', '-d', '32', '-n', String(n), '-P', String(pipeline), '--csv'], 600000);
  const line = r.stdout.split('\n').find((l) => l.startsWith('"') && !l.startsWith('"test"'));
  if (r.status !== 0 || !line) throw new Error(`redis-benchmark failed: ${r.stderr}${r.stdout}`);
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",...
  const cells = JSON.parse(`[${line}]`);
  return { rps: Number(cells[1]), p50: Number(cells[4]), cpuUsPerOp: (r.cpuSeconds * 1e6) / n };
}

function weftBench(port, test, pipeline, n, batch) {
  const out = path.join(os.tmpdir(), `bench-tools-agree-${process.pid}.json`);
  const r = timed([nodeBin, benchCli, '-p', String(port), '-t', String(THREADS), '-c', String(CLIENTS / THREADS),
    // --distinct-client-seed: each client its own random keys, as redis-benchmark's clients draw theirs
    // (memtier's default gives every client the same sequence: far fewer distinct keys).
    '--pipeline', String(pipeline), ...(batch ? ['--pipeline-batch'] : []), '--distinct-client-seed', '-n', String(n / CLIENTS), '--ratio', test === 'set' ? '1:0' : '0:1',
    '--key-minimum', '0', '--key-maximum', '999999', '-d', '32', '--hide-histogram', '--json-out-file', out], 600000);
  if (r.status !== 0) throw new Error(`weft-bench failed: ${r.stderr}${r.stdout}`);
  const stats = JSON.parse(fs.readFileSync(out, 'utf8'))['ALL STATS'];
  fs.rmSync(out, { force: true });
  const row = stats[test === 'set' ? 'Sets' : 'Gets'];
  if (stats.Totals.Errors > 0) throw new Error(`weft-bench counted ${stats.Totals.Errors} errors`);
  return { rps: row['Ops/sec'], p50: row['Percentile Latencies']['p50.00'], cpuUsPerOp: (r.cpuSeconds * 1e6) / n };
}

async function main() {
  const port = await freePort();
  const redis = await startServer('redis', ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], port);
  const stop = () => redis.proc.kill('SIGTERM');
  process.on('SIGINT', () => {
    stop();
    process.exit(1);
  });
  console.log(`bench-tools-agree: redis-server ${port}; -c ${CLIENTS} over ${THREADS} threads, -r 1000000 -d 32; ` +
    `${requests} requests per run (5x at -P > 1), ${rounds} round(s), tools in turn; ` +
    `${pin ? 'server on core 0, tools on core 1' : 'no pinning'}; ${os.cpus()[0]?.model ?? ''}`);
  // The tools: redis-benchmark; weft-bench keeping --pipeline requests in flight (memtier's way);
  // and weft-bench --pipeline-batch, which pipelines as redis-benchmark -P does (the same workload).
  const tools = [
    { name: 'redis-benchmark', run: (test, pipeline, n) => redisBenchmark(port, test, pipeline, n) },
    { name: 'weft-bench', run: (test, pipeline, n) => weftBench(port, test, pipeline, n, false) },
    { name: 'weft-bench --pipeline-batch', run: (test, pipeline, n) => weftBench(port, test, pipeline, n, true), pipelinedOnly: true },
  ];
  const rows = [];
  try {
    for (const pipeline of pipelines) {
      const n = pipeline > 1 ? requests * 5 : requests;
      for (const test of tests) {
        const active = tools.filter((tool) => pipeline > 1 || !tool.pipelinedOnly);
        const samples = active.map(() => []);
        for (let i = 0; i < rounds; i++) {
          active.forEach((tool, k) => {
            // Every run starts from an empty server: the same dataset growth for SET, all misses for GET
            // (the tools name their keys differently, so what one wrote the other would not hit).
            redisCli(port, 'flushall');
            const before = cpuTicks(redis.pid);
            const m = tool.run(test, pipeline, n);
            samples[k].push({ ...m, serverUsPerOp: ((cpuTicks(redis.pid) - before) * 1e4) / n });
          });
          process.stderr.write(`  ${test.toUpperCase()} -P ${pipeline} round ${i + 1}: ` +
            active.map((tool, k) => `${tool.name} ${fmt(samples[k][i].rps, 0)} ops/s`).join(', ') + '\n');
        }
        for (const [k, tool] of active.entries()) {
          const xs = samples[k];
          rows.push({ test: test.toUpperCase(), pipeline, tool: tool.name, rps: median(xs, (x) => x.rps), p50: median(xs, (x) => x.p50),
            cpu: median(xs, (x) => x.cpuUsPerOp), server: median(xs, (x) => x.serverUsPerOp) });
        }
      }
    }
  } finally {
    stop();
  }
  console.log('\n| test | -P | tool | ops/s | ratio to redis-benchmark | p50 ms | tool CPU us/op | redis-server CPU us/op | within 15% |');
  console.log('|' + ' --- |'.repeat(9));
  for (const r of rows) {
    const base = rows.find((x) => x.test === r.test && x.pipeline === r.pipeline && x.tool === 'redis-benchmark');
    const ratio = r.rps / base.rps;
    const verdict = r === base ? '' : Math.abs(ratio - 1) <= 0.15 ? 'yes' : 'no';
    console.log(`| ${r.test} | ${r.pipeline} | ${r.tool} | ${fmt(r.rps, 0)} | ${fmt(ratio)}x | ${fmt(r.p50, 3)} | ${fmt(r.cpu)} | ${fmt(r.server)} | ${verdict} |`);
  }
}

await main();
