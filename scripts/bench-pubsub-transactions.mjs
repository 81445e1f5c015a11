// Compares weft's transactions and pub/sub with redis-server's, in one run, the servers
// pinned to core 0 and the clients to core 1 (as bench-vs-redis), weft on one worker thread.
//
// 1. MULTI / 3 x INCR / EXEC: weft-bench --command MULTI, --command "INCR __key__" x3,
//    --command EXEC, 50 clients, without pipelining and with --pipeline 5 (one transaction
//    in flight per connection). Server CPU per transaction.
// 2. PUBLISH of a 32-byte message to 1 and to 50 subscribers of one channel: redis-benchmark
//    -c 50 -P 16 sends PUBLISH while a subscriber process (on the client core) reads every
//    message. Server CPU per delivered message and per PUBLISH.
//
// Usage: scripts/bench-pubsub-transactions [--transactions N] [--publishes N] [--rounds R]
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import {
  cpuTicks, fmt, median, nodeBin, opt, pin, requireTools, root, sleep, startRedisServer, startWeftServer,
} from './bench-lib.mjs';

const transactions = Number(opt('transactions', '100000'));
const publishes = Number(opt('publishes', '200000'));
const rounds = Number(opt('rounds', '3'));
const TICK = 100;
const clientPin = pin ? ['taskset', '-c', '1'] : [];
requireTools();

const startRedis = startRedisServer;
const startWeft = () => startWeftServer(1);

function pinned(cmd, args, options) {
  return spawnSync(clientPin[0] ?? cmd, [...clientPin.slice(1), ...(pin ? [cmd] : []), ...args], options);
}

/** Server CPU (us) per transaction of MULTI, 3 x INCR, EXEC. */
function transactionRun(server, pipeline) {
  const clients = 50;
  const perClient = Math.ceil((transactions * 5) / clients);
  const before = cpuTicks(server.pid);
  const r = pinned(nodeBin, [path.join(root, 'native-free-bench', 'dist', 'cli.js'), '-p', String(server.port), '-t', '1', '-c', String(clients),
    '-n', String(perClient), '--pipeline', String(pipeline), '--hide-histogram',
    '--command', 'MULTI', '--command', 'INCR __key__', '--command-ratio', '3', '--command', 'EXEC'],
  { encoding: 'utf8', timeout: 600000, maxBuffer: 1 << 26 });
  const ticks = cpuTicks(server.pid) - before;
  if (r.status !== 0) throw new Error(`weft-bench failed against ${server.name}: ${r.stderr}${r.stdout}`);
  return ((ticks / TICK) * 1e6) / ((perClient * clients) / 5);
}

/** Starts `count` subscribers of channel "ch" in a process on the client core; resolves once all are subscribed. */
async function subscribers(port, count) {
  const script = `
    const net = require('node:net');
    let received = 0, ready = 0;
    for (let i = 0; i < ${count}; i++) {
      const s = net.connect(${port}, '127.0.0.1', () => s.write('*2\\r\\n$9\\r\\nSUBSCRIBE\\r\\n$2\\r\\nch\\r\\n'));
      let first = true;
      s.on('data', (d) => {
        for (let j = 0; j < d.length; j++) if (d[j] === 42) received++;
        if (first) { first = false; if (++ready === ${count}) process.stdout.write('ready\\n'); }
      });
    }
    process.on('message', () => process.send(received - ${count}));
  `;
  const proc = spawn(clientPin[0] ?? nodeBin, [...clientPin.slice(1), ...(pin ? [nodeBin] : []), '-e', script],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => d.toString().includes('ready') && resolve());
    proc.once('exit', () => reject(new Error('subscriber process exited')));
  });
  return {
    proc,
    /** Messages received by all subscribers together (each message is one RESP array). */
    received: () => new Promise((resolve) => {
      proc.once('message', resolve);
      proc.send('count');
    }),
  };
}

async function publishRun(server, count) {
  const subs = await subscribers(server.port, count);
  const before = cpuTicks(server.pid);
  const r = pinned('redis-benchmark', ['-p', String(server.port), '-c', '50', '-n', String(publishes), '-P', '16', '--csv',
    'PUBLISH', 'ch', 'm'.repeat(32)], { encoding: 'utf8', timeout: 600000 });
  if (r.status !== 0) throw new Error(`redis-benchmark failed against ${server.name}: ${r.stderr}`);
  // Every message delivered (the server may still be writing to the subscribers).
  const want = publishes * count;
  const deadline = Date.now() + 60000;
  let got = 0;
  while ((got = await subs.received()) < want && Date.now() < deadline) await sleep(50);
  const ticks = cpuTicks(server.pid) - before;
  subs.proc.kill();
  if (got < want) throw new Error(`${server.name}: ${got} of ${want} messages delivered`);
  const us = (ticks / TICK) * 1e6;
  return { perMessage: us / want, perPublish: us / publishes };
}

const [redis, weft] = [await startRedis(), await startWeft()];
try {
  const results = [];
  for (let round = 0; round < rounds; round++) {
    const row = {};
    for (const pipeline of [1, 5]) {
      row[`tx${pipeline}`] = { redis: transactionRun(redis, pipeline), weft: transactionRun(weft, pipeline) };
    }
    for (const count of [1, 50]) {
      row[`pub${count}`] = { redis: await publishRun(redis, count), weft: await publishRun(weft, count) };
    }
    results.push(row);
    process.stderr.write(`round ${round + 1}/${rounds} done\n`);
  }
  console.log(`Medians of ${rounds} rounds; server CPU (utime + stime) over the run; weft on 1 worker thread.\n`);
  console.log('| workload | redis CPU us | weft CPU us | CPU ratio |');
  console.log('| --- | --- | --- | --- |');
  for (const pipeline of [1, 5]) {
    const r = median(results, (x) => x[`tx${pipeline}`].redis);
    const w = median(results, (x) => x[`tx${pipeline}`].weft);
    console.log(`| MULTI / 3 x INCR / EXEC, per transaction, pipeline ${pipeline} | ${fmt(r)} | ${fmt(w)} | ${fmt(w / r)}x |`);
  }
  for (const count of [1, 50]) {
    const r = median(results, (x) => x[`pub${count}`].redis.perMessage);
    const w = median(results, (x) => x[`pub${count}`].weft.perMessage);
    const rp = median(results, (x) => x[`pub${count}`].redis.perPublish);
    const wp = median(results, (x) => x[`pub${count}`].weft.perPublish);
    console.log(`| PUBLISH to ${count} subscriber${count > 1 ? 's' : ''}, per delivered message | ${fmt(r, 3)} | ${fmt(w, 3)} | ${fmt(w / r)}x |`);
    console.log(`| PUBLISH to ${count} subscriber${count > 1 ? 's' : ''}, per PUBLISH | ${fmt(rp, 3)} | ${fmt(wp, 3)} | ${fmt(wp / rp)}x |`);
  }
} finally {
  redis.proc.kill('SIGKILL');
  weft.proc.kill('SIGKILL');
}
