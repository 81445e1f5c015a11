// What a master's death costs, weft against Redis 7, measured the same way:
// a 3-master, 3-replica cluster (cluster-node-timeout --node-timeout, 2000 ms
// by default) under weft-bench --cluster-mode load (SET:GET 1:1, with
// --timeline) and a probe that writes, one at a time through ioredis, to keys
// in the slots of master 0. Three seconds in, master 0 is killed with
// SIGKILL. Reported for each cluster (median of --rounds, alternating):
// the time from the kill to the probe's first acknowledged write to the lost
// slots, the probe's acknowledged writes the cluster no longer holds (writes
// made without WAIT), the errors weft-bench counted, and its ops/s in the
// second before the kill and in the worst second after it. Servers are
// pinned to core 0, weft-bench and the probe to core 1.
//
// Usage: scripts/bench-failover [--node-timeout MS] [--rounds R] [--seconds S]  (WEFT_DIST=dir: another build)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Cluster } from 'ioredis';
import { dist, fmt, freePort, median, nodeBin, opt, pin, redisCli, requireTools, root, startServer, sleep } from './bench-lib.mjs';

const nodeTimeout = Number(opt('node-timeout', '2000'));
const rounds = Number(opt('rounds', '1'));
const seconds = Number(opt('seconds', '15'));
const KILL_AT_MS = 3000;
const benchCli = path.join(root, 'native-free-bench', 'dist', 'cli.js');
requireTools();

async function waitUntil(what, timeoutMs, check) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

/** Six nodes (3 masters, then their replicas), formed with CLUSTER MEET / ADDSLOTSRANGE / REPLICATE. */
async function startCluster(kind, dir) {
  const nodes = [];
  for (let i = 0; i < 6; i++) {
    const port = await freePort();
    const cport = await freePort();
    const nodeDir = path.join(dir, `${kind}-${port}`);
    fs.mkdirSync(nodeDir, { recursive: true });
    const common = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-port', String(cport),
      '--cluster-node-timeout', String(nodeTimeout), '--cluster-announce-ip', '127.0.0.1', '--dir', nodeDir, '--save', '', '--appendonly', 'no'];
    const argv = kind === 'redis' ? ['redis-server', ...common] : [nodeBin, path.join(dist, 'server', 'main.js'), ...common, '--threads', '1'];
    nodes.push({ ...(await startServer(`${kind}-${port}`, argv, port)), cport });
  }
  const ids = nodes.map((n) => redisCli(n.port, 'cluster', 'myid'));
  for (let i = 1; i < 6; i++) redisCli(nodes[0].port, 'cluster', 'meet', '127.0.0.1', String(nodes[i].port), String(nodes[i].cport));
  await waitUntil(`${kind}: every node knows 6`, 30000, () => nodes.every((n) => /cluster_known_nodes:6/.test(redisCli(n.port, 'cluster', 'info'))));
  for (let i = 0; i < 3; i++) redisCli(nodes[i].port, 'cluster', 'addslotsrange', String(Math.floor((i * 16384) / 3)), String(Math.floor(((i + 1) * 16384) / 3) - 1));
  await waitUntil(`${kind}: cluster_state:ok`, 30000, () => nodes.every((n) => /cluster_state:ok/.test(redisCli(n.port, 'cluster', 'info'))));
  for (let i = 0; i < 3; i++) redisCli(nodes[3 + i].port, 'cluster', 'replicate', ids[i]);
  await waitUntil(`${kind}: replicas linked`, 30000, () => nodes.slice(3).every((n) => /master_link_status:up/.test(redisCli(n.port, 'info', 'replication'))));
  await waitUntil(`${kind}: replicas known everywhere`, 30000,
    () => nodes.every((n) => redisCli(n.port, 'cluster', 'nodes').split('\n').filter((l) => / (myself,)?slave /.test(l)).length === 3));
  return { kind, nodes, stop: () => nodes.forEach((n) => n.proc.kill('SIGKILL')) };
}

/** A hash tag whose slot master 0 serves (slots 0..5460). */
function tagForFirstMaster(port) {
  for (let i = 0; ; i++) if (Number(redisCli(port, 'cluster', 'keyslot', `{p${i}}`)) <= 5460) return `{p${i}}`;
}

async function oneRound(kind, dir) {
  const cluster = await startCluster(kind, dir);
  const [victim] = cluster.nodes;
  const timeline = path.join(dir, `${kind}-timeline.json`);
  const json = path.join(dir, `${kind}-stats.json`);
  const benchArgs = [benchCli, '-p', String(cluster.nodes[1].port), '--cluster-mode', '-t', '1', '-c', '10', '--ratio', '1:1',
    '--test-time', String(seconds), '--request-timeout', '1000', '--hide-histogram', '--timeline', timeline, '--json-out-file', json];
  const bench = spawn(pin ? 'taskset' : nodeBin, pin ? ['-c', '1', nodeBin, ...benchArgs] : benchArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  let benchErr = '';
  bench.stderr.on('data', (d) => (benchErr += d));
  const benchDone = new Promise((resolve) => bench.on('close', resolve));

  const io = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[1].port }], {
    slotsRefreshInterval: 200, clusterRetryStrategy: () => 100, retryDelayOnFailover: 100, retryDelayOnClusterDown: 100,
    redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 500, commandTimeout: 1000 },
  });
  io.on('error', () => {});
  const tag = tagForFirstMaster(victim.port);
  const acked = new Map();
  let killedAt = Infinity;
  let firstWrite = null;
  let probing = true;
  const start = Date.now();
  const probe = (async () => {
    for (let i = 1; probing; i++) {
      const key = `${tag}:${i % 500}`;
      const sent = Date.now();
      try {
        await io.set(key, String(i));
        acked.set(key, i);
        if (sent >= killedAt && firstWrite === null) firstWrite = Date.now() - killedAt;
      } catch {
        await sleep(10);
      }
    }
  })();
  await sleep(KILL_AT_MS);
  // The clock starts once the process is gone: a SIGKILLed process may still answer until it is next scheduled.
  const gone = new Promise((resolve) => victim.proc.once('exit', resolve));
  victim.proc.kill('SIGKILL');
  await gone;
  killedAt = Date.now();
  const killSecond = Math.floor((killedAt - start) / 1000);
  await benchDone;
  probing = false;
  await probe;
  let lost = 0;
  for (const [key, value] of acked) {
    const now = await io.get(key).catch(() => null);
    if (now === null || Number(now) < value) lost++;
  }
  io.disconnect();
  cluster.stop();
  if (!fs.existsSync(json)) throw new Error(`${kind}: weft-bench failed:\n${benchErr}`);
  const stats = JSON.parse(fs.readFileSync(json, 'utf8'))['ALL STATS'];
  const perSecond = JSON.parse(fs.readFileSync(timeline, 'utf8'));
  const before = perSecond.find((s) => s.second === killSecond - 1)?.ok ?? NaN;
  const after = Math.min(...perSecond.filter((s) => s.second >= killSecond && s.second < seconds).map((s) => s.ok));
  return { firstWrite, lost, acked: acked.size, errors: stats.Totals.Errors, before, after };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-bench-failover-'));
  console.log(`bench-failover: 3 masters + 3 replicas each, cluster-node-timeout ${nodeTimeout} ms, weft-bench --cluster-mode -t 1 -c 10 ` +
    `--ratio 1:1 for ${seconds} s, master 0 killed (SIGKILL) at ${KILL_AT_MS / 1000} s; ${rounds} round(s); ` +
    `${pin ? 'servers on core 0, clients on core 1' : 'no pinning'}; ${os.cpus()[0]?.model ?? ''}`);
  const results = { weft: [], redis: [] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const kind of ['weft', 'redis']) {
        const m = await oneRound(kind, path.join(tmp, `${kind}-${r}`));
        results[kind].push(m);
        process.stderr.write(`  ${kind} round ${r + 1}: first write ${m.firstWrite} ms after the kill, ${m.lost} of ${m.acked} keys lost, ` +
          `${m.errors} weft-bench errors, ${m.before} -> ${m.after} ops/s\n`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log('\n| cluster | kill -> first write to the lost slots | acknowledged writes lost (no WAIT) | weft-bench errors | ops/s the second before | worst second after |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const kind of ['weft', 'redis']) {
    const xs = results[kind];
    const m = (f) => median(xs, f);
    console.log(`| ${kind} | ${fmt(m((x) => x.firstWrite ?? Infinity), 0)} ms | ${m((x) => x.lost)} of ${m((x) => x.acked)} keys | ` +
      `${m((x) => x.errors)} | ${fmt(m((x) => x.before), 0)} | ${fmt(m((x) => x.after), 0)} |`);
  }
}

await main();
