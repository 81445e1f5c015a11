// What a replica costs: SET throughput and CPU per operation of redis-server
// and weft (one worker thread), each alone and with one replica attached
// (REPLICAOF), in one run, alternating. CPU per operation counts the master
// and its replica (utime + stime from /proc). redis-benchmark -t set -c 50
// -r 1000000 -d 32 at -P 1 and -P 16; servers pinned to core 0, the client to
// core 1; median of --rounds. Every run ends with the replica's DBSIZE checked
// against its master's.
//
// Usage: scripts/bench-replication [--requests N] [--rounds R]   (WEFT_DIST=dir: another build)
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { dist, fmt, freePort, median, nodeBin, opt, pin, redisCli, requireTools, runBenchmark, startServer, sleep } from './bench-lib.mjs';

const requests = Number(opt('requests', '200000'));
const rounds = Number(opt('rounds', '2'));
requireTools();

// A Redis replica writes the RDB it receives into its dir: a temporary one.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-bench-replication-'));
const argv = {
  redis: (port, extra) => ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp, ...extra],
  weft: (port, extra) => [nodeBin, path.join(dist, 'server', 'main.js'), '--port', String(port), '--bind', '127.0.0.1', '--threads', '1', ...extra],
};

async function start(kind, replicated) {
  const port = await freePort();
  const master = await startServer(`${kind}`, argv[kind](port, []), port);
  const servers = [master];
  if (replicated) {
    const rport = await freePort();
    servers.push(await startServer(`${kind}-replica`, argv[kind](rport, ['--replicaof', `127.0.0.1 ${port}`]), rport));
    const deadline = Date.now() + 20000;
    while (!/master_link_status:up/.test(redisCli(rport, 'info', 'replication'))) {
      if (Date.now() > deadline) throw new Error(`${kind}: the replica did not sync`);
      await sleep(100);
    }
  }
  return { name: `${kind}${replicated ? ' + replica' : ''}`, port, servers, stop: () => servers.forEach((s) => s.proc.kill('SIGTERM')) };
}

async function main() {
  const setups = [];
  for (const kind of ['redis', 'weft']) for (const replicated of [false, true]) setups.push(await start(kind, replicated));
  console.log(`bench-replication: redis-benchmark -t set -c 50 -r 1000000 -d 32, ${requests} requests (5x at -P 16), ${rounds} round(s); ` +
    `${pin ? 'servers on core 0, client on core 1' : 'no pinning'}; ${os.cpus()[0]?.model ?? ''}`);
  const rows = [];
  try {
    for (const pipeline of [1, 16]) {
      const samples = new Map(setups.map((s) => [s.name, []]));
      for (let r = 0; r < rounds; r++) {
        for (const s of setups) {
          const m = runBenchmark({ name: s.name, port: s.port, pids: s.servers.map((x) => x.pid), test: 'set', pipeline, requests });
          samples.get(s.name).push(m);
          process.stderr.write(`  -P ${pipeline} ${s.name}: ${fmt(m.rps, 0)} ops/s, ${fmt(m.cpuPerOpUs)} us/op\n`);
        }
      }
      for (const s of setups) {
        const xs = samples.get(s.name);
        rows.push({ name: s.name, pipeline, rps: median(xs, (m) => m.rps), cpu: median(xs, (m) => m.cpuPerOpUs) });
      }
    }
    for (const s of setups.filter((x) => x.servers.length > 1)) {
      await sleep(500);
      const [m, r] = s.servers.map((x) => redisCli(x.port, 'dbsize'));
      if (m !== r) throw new Error(`${s.name}: the replica holds ${r} keys, its master ${m}`);
    }
  } finally {
    setups.forEach((s) => s.stop());
    setTimeout(() => fs.rmSync(tmp, { recursive: true, force: true }), 500);
  }
  console.log('\n| server | -P | ops/s | CPU us/op (master + replica) | ops/s vs alone | CPU vs alone |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const row of rows) {
    const alone = rows.find((x) => x.pipeline === row.pipeline && x.name === row.name.replace(' + replica', ''));
    console.log(`| ${row.name} | ${row.pipeline} | ${fmt(row.rps, 0)} | ${fmt(row.cpu)} | ${fmt(row.rps / alone.rps)}x | ${fmt(row.cpu / alone.cpu)}x |`);
  }
}

await main();
