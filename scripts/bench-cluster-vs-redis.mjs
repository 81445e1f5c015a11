// Compares a 3-master weft cluster with a 3-master Redis cluster on this
// machine, in one run, alternating between them: redis-benchmark --cluster
// -t set,get -c 50 -r 1000000 -d 32 at -P 1 and -P 16, then the same
// workload memtier's way (memtier_benchmark --cluster-mode when it is
// installed, weft-bench otherwise: 50 connections over 2 threads, requests
// kept in flight; SET, GET and memtier's SET:GET 1:10), reporting ops/s, the
// servers' CPU time per operation (all nodes' utime + stime over the run, from
// /proc, divided by operations) and the client's p50 and p99 latency; then
// p50/p99 at equal load: the same offered ops/s (--rate-limiting) for both.
// Servers are pinned to core 0 and the client to core 1 when the machine has
// two cores.
//
// Usage: scripts/bench-cluster-vs-redis [--requests N] [--rounds R] [--threads T] [--masters M] [--equal-load OPS,OPS]
//        (WEFT_DIST=dir: benchmark another build)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  dist, fmt, freePort, median, memtierTool, nodeBin, opt, pin, redisCli, requireTools, runBenchmark, runMemtier, serverPin, sleep, startServer,
} from './bench-lib.mjs';

const requests = Number(opt('requests', '200000'));
const rounds = Number(opt('rounds', '2'));
const threads = Number(opt('threads', '1'));
const masters = Number(opt('masters', '3'));
/** Offered loads (ops/s over all 50 connections) for the latency-at-equal-load runs, each EQUAL_LOAD_SECONDS long. */
const EQUAL_LOAD_OPS = opt('equal-load', '20000,50000').split(',').map(Number);
const EQUAL_LOAD_SECONDS = 5;
requireTools();


/** The medians of a server's rounds. */
const summary = (s) => ({ rps: median(s, (x) => x.rps), cpu: median(s, (x) => x.cpuPerOpUs), p50: median(s, (x) => x.p50), p99: median(s, (x) => x.p99) });

async function waitOk(ports, what) {
  const deadline = Date.now() + 60000;
  while (!ports.every((p) => /cluster_state:ok/.test(redisCli(p, 'cluster', 'info')))) {
    if (Date.now() > deadline) throw new Error(`${what}: cluster_state:ok not reached in 60 s`);
    await sleep(200);
  }
}

/** A base port with room for `count` consecutive ports and their bus ports (port + 10000). */
async function basePort(count) {
  for (;;) {
    const p = await freePort();
    if (p + count + 10000 <= 65535) return p;
  }
}

async function startRedisCluster(dir) {
  const base = await basePort(masters);
  const nodes = [];
  for (let i = 0; i < masters; i++) {
    const port = base + i;
    const nodeDir = path.join(dir, `redis-${port}`);
    fs.mkdirSync(nodeDir, { recursive: true });
    nodes.push(await startServer(`redis-${port}`, ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-announce-ip', '127.0.0.1', '--dir', nodeDir, '--save', '', '--appendonly', 'no'], port));
  }
  for (let i = 0; i < masters; i++) {
    redisCli(nodes[i].port, 'cluster', 'addslotsrange', String(Math.floor((i * 16384) / masters)), String(Math.floor(((i + 1) * 16384) / masters) - 1));
    if (i > 0) redisCli(nodes[0].port, 'cluster', 'meet', '127.0.0.1', String(nodes[i].port));
  }
  await waitOk(nodes.map((n) => n.port), 'redis cluster');
  return { name: 'redis', port: nodes[0].port, pids: nodes.map((n) => n.pid), stop: () => nodes.forEach((n) => n.proc.kill('SIGTERM')) };
}

async function startWeftCluster(dir) {
  const base = await basePort(masters);
  const r = spawnSync(serverPin[0] ?? nodeBin, [...serverPin.slice(1), ...(pin ? [nodeBin] : []), path.join(dist, 'cli', 'weft-cluster.js'), 'start',
    '--masters', String(masters), '--replicas', '0', '--port', String(base), '--threads', String(threads), '--dir', dir], { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`weft-cluster start failed: ${r.stderr}${r.stdout}`);
  const recorded = JSON.parse(fs.readFileSync(path.join(dir, 'weft-cluster.json'), 'utf8'));
  return {
    name: `weft (${threads} thread${threads > 1 ? 's' : ''}/node)`, port: base, pids: recorded.map((n) => n.pid),
    stop: () => spawnSync(nodeBin, [path.join(dist, 'cli', 'weft-cluster.js'), 'stop', '--dir', dir]),
  };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-bench-cluster-'));
  const clusters = [];
  const stopAll = () => clusters.forEach((c) => c.stop());
  process.on('SIGINT', () => {
    stopAll();
    process.exit(1);
  });
  try {
    clusters.push(await startRedisCluster(path.join(tmp, 'redis')));
    clusters.push(await startWeftCluster(path.join(tmp, 'weft')));
    console.log(`bench-cluster-vs-redis: ${masters} masters each, ${requests} requests per run (${requests * 5} at -P 16), ${rounds} round(s), ` +
      `redis-benchmark --cluster -c 50 -r 1000000 -d 32; ${pin ? 'servers on core 0, client on core 1' : 'no pinning'}`);
    /** Each test at -P 1 and 16, rounds alternating between the clusters: the medians per cluster. */
    const measure = (label, run, tests = ['set', 'get']) => {
      const rows = [];
      for (const pipeline of [1, 16]) {
        for (const test of tests) {
          const samples = clusters.map(() => []);
          for (let r = 0; r < rounds; r++) {
            clusters.forEach((c, i) => {
              const m = run(c, test, pipeline);
              samples[i].push(m);
              process.stderr.write(`  ${label} ${test.toUpperCase()} -P ${pipeline} ${c.name}: ${fmt(m.rps, 0)} ops/s, ${fmt(m.cpuPerOpUs)} us/op\n`);
            });
          }
          rows.push({ test: test.toUpperCase(), pipeline, m: samples.map((s) => summary(s)) });
        }
      }
      return rows;
    };
    const rows = measure('redis-benchmark', (c, test, pipeline) =>
      runBenchmark({ name: c.name, port: c.port, pids: c.pids, test, pipeline, requests, extra: ['--cluster'] }));
    // memtier's way: --cluster-mode, requests kept in flight per connection (memtier_benchmark, or weft-bench).
    const tool = memtierTool();
    const memtierRows = measure(tool.name, (c, test, pipeline) =>
      runMemtier({ tool, port: c.port, pids: c.pids, test, pipeline, requests: pipeline > 1 ? requests * 5 : requests, extra: ['--cluster-mode'] }),
    ['set', 'get', 'mixed']);
    // Latency at equal load: both clusters offered the same ops/s (--rate-limiting per client), SET:GET 1:10.
    const equalLoadRows = [];
    for (const total of EQUAL_LOAD_OPS) {
      const samples = clusters.map(() => []);
      for (let r = 0; r < rounds; r++) {
        clusters.forEach((c, i) => {
          const m = runMemtier({ tool, port: c.port, pids: c.pids, test: 'mixed', pipeline: 1, requests: total * EQUAL_LOAD_SECONDS,
            rate: total / 50, extra: ['--cluster-mode'] });
          samples[i].push(m);
          process.stderr.write(`  ${tool.name} ${total} ops/s offered, ${c.name}: p50 ${fmt(m.p50, 3)} p99 ${fmt(m.p99, 3)} ms, ${fmt(m.cpuPerOpUs)} us/op\n`);
        });
      }
      equalLoadRows.push({ test: `${total} ops/s, SET:GET 1:10`, pipeline: 1, m: samples.map((s) => summary(s)) });
    }
    const [redis, weft] = clusters;
    const table = (title, pipelineName, rowsOf) => {
      console.log(`\n${title}`);
      console.log(`| test | ${pipelineName} | ${redis.name} ops/s | ${redis.name} CPU us/op | ${weft.name} ops/s | ${weft.name} CPU us/op | CPU ratio | ops ratio | ` +
        `${redis.name} p50 / p99 ms | ${weft.name} p50 / p99 ms |`);
      console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
      for (const row of rowsOf) {
        const [r, w] = row.m;
        console.log(`| ${row.test} | ${row.pipeline} | ${fmt(r.rps, 0)} | ${fmt(r.cpu)} | ${fmt(w.rps, 0)} | ${fmt(w.cpu)} | ${fmt(w.cpu / r.cpu)}x | ${fmt(w.rps / r.rps)}x | ` +
          `${fmt(r.p50, 3)} / ${fmt(r.p99, 3)} | ${fmt(w.p50, 3)} / ${fmt(w.p99, 3)} |`);
      }
    };
    table('redis-benchmark --cluster -c 50 -r 1000000 -d 32:', '-P', rows);
    table(`${tool.name} --cluster-mode -t 2 -c 25 --key-maximum 999999 -d 32 --distinct-client-seed (--ratio 1:0 for SET, 0:1 for GET, 1:10 for MIXED):`,
      '--pipeline', memtierRows);
    table(`Latency at equal load: ${tool.name} as above, --ratio 1:10, --rate-limiting (the same offered ops/s for both), ${EQUAL_LOAD_SECONDS} s:`,
      '--pipeline', equalLoadRows);
  } finally {
    stopAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
