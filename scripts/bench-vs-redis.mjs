// Compares weft with redis-server on this machine, in one run, alternating
// between the servers so that machine noise hits all of them alike.
//
// For each redis-benchmark test (-c 50 -r 1000000 -d 32) at -P 1 and -P 16 (5x the requests)
// it prints ops/s and the server's CPU time per operation (utime + stime of
// the whole server process over the run, from /proc, divided by operations)
// and redis-benchmark's p50 and p99 latency,
// then loads 1,000,000 memtier-shaped keys (memtier-<n> -> 32 random bytes)
// into each server and prints used memory and RSS per key. Servers are pinned
// to core 0 and the client to core 1 (taskset) when the machine has 2+ cores.
//
// Usage: scripts/bench-vs-redis [--requests N] [--rounds R] [--tests set,get,incr,mset]
//        [--keys N] [--skip-memory] [--threads T] [--baseline DIR[,DIR...]]  (WEFT_DIST=dir: benchmark another build;
//        --baseline: also run other builds' dist/ with one thread each, in the same rounds)
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import {
  dist, flag, fmt, freePort, median, nodeBin, opt, pin, redisCli, requireTools, rssBytes, runBenchmark, startServer,
} from './bench-lib.mjs';

const requests = Number(opt('requests', '200000'));
const rounds = Number(opt('rounds', '2'));
const tests = opt('tests', 'set,get,incr,mset').split(',');
const memoryKeys = Number(opt('keys', '1000000'));
const skipMemory = flag('skip-memory');
const baseline = opt('baseline', '');
const allThreads = Number(opt('threads', String(os.availableParallelism())));
requireTools();

async function start(name, argv) {
  const port = await freePort();
  return startServer(name, argv(port), port);
}

function benchmark(server, test, pipeline) {
  return runBenchmark({ name: server.name, port: server.port, pids: [server.pid], test, pipeline, requests });
}

function infoField(port, field) {
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(redisCli(port, 'info', 'memory'));
  return m ? Number(m[1]) : NaN;
}

/** Loads memtier-shaped keys over one pipelined connection. */
async function loadKeys(port, count) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  let replies = 0;
  let pendingNl = 0;
  socket.on('data', (d) => {
    for (let i = 0; i < d.length; i++) if (d[i] === 10) pendingNl++;
    replies = pendingNl;
  });
  const batch = 10000;
  for (let base = 0; base < count; base += batch) {
    const parts = [];
    for (let i = base; i < Math.min(count, base + batch); i++) {
      const key = `memtier-${i + 1}`;
      const value = crypto.randomBytes(32);
      parts.push(Buffer.from(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$32\r\n`), value, Buffer.from('\r\n'));
    }
    socket.write(Buffer.concat(parts));
    while (replies < Math.min(count, base + batch)) await new Promise((r) => setTimeout(r, 2));
  }
  socket.destroy();
}

async function main() {
  const weftArgs = (threads, from = dist) => (port) => [nodeBin, path.join(from, 'server', 'main.js'),
    '--port', String(port), '--bind', '127.0.0.1', '--threads', String(threads), '--save', ''];
  const startAll = async () => {
    const list = [];
    try {
      list.push(await start('redis', (port) => ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']));
      list.push(await start('weft-1t', weftArgs(1)));
      if (allThreads > 1) list.push(await start(`weft-${allThreads}t`, weftArgs(allThreads)));
      // --baseline DIR[,DIR...]: other builds' dist/ (one thread each) in the same rounds, to measure a change.
      const bases = baseline ? baseline.split(',') : [];
      for (let i = 0; i < bases.length; i++) {
        list.push(await start(bases.length === 1 ? 'base-1t' : `base${i + 1}-1t`, weftArgs(1, path.resolve(bases[i]))));
      }
    } catch (err) {
      // A server that did not start (a wrong --baseline, say): the ones already running are stopped.
      for (const s of list) s.proc.kill('SIGTERM');
      throw err;
    }
    return list;
  };
  let servers = await startAll();
  const stop = () => servers.forEach((s) => s.proc.kill('SIGTERM'));
  process.on('SIGINT', () => {
    stop();
    process.exit(1);
  });
  console.log(`bench-vs-redis: ${requests} requests per run (${requests * 5} at -P 16), ${rounds} round(s), -c 50 -r 1000000 -d 32, ` +
    `${pin ? 'servers on core 0, client on core 1' : 'no pinning'}; ${os.cpus()[0]?.model ?? ''}`);
  const results = [];
  try {
    for (const pipeline of [1, 16]) {
      for (const test of tests) {
        const samples = Object.fromEntries(servers.map((s) => [s.name, []]));
        for (let r = 0; r < rounds; r++) {
          for (const s of servers) {
            const m = benchmark(s, test, pipeline);
            samples[s.name].push(m);
            process.stderr.write(`  ${test.toUpperCase()} -P ${pipeline} ${s.name}: ${fmt(m.rps, 0)} ops/s, ${fmt(m.cpuPerOpUs)} us/op\n`);
          }
        }
        // The median of the rounds for each server.
        const row = { test: test.toUpperCase(), pipeline };
        for (const s of servers) {
          const ms = samples[s.name];
          row[s.name] = { rps: median(ms, (m) => m.rps), cpu: median(ms, (m) => m.cpuPerOpUs), p50: median(ms, (m) => m.p50), p99: median(ms, (m) => m.p99) };
        }
        results.push(row);
      }
    }
    const weftNames = servers.slice(1).map((s) => s.name);
    console.log('\n| test | -P | redis ops/s | redis CPU us/op | ' + weftNames.map((n) => `${n} ops/s | ${n} CPU us/op | ${n} CPU ratio | ${n} ops ratio`).join(' | ') + ' |');
    console.log('|' + ' --- |'.repeat(4 + weftNames.length * 4));
    for (const row of results) {
      const r = row.redis;
      const cells = weftNames.map((n) => `${fmt(row[n].rps, 0)} | ${fmt(row[n].cpu)} | ${fmt(row[n].cpu / r.cpu)}x | ${fmt(row[n].rps / r.rps)}x`);
      console.log(`| ${row.test} | ${row.pipeline} | ${fmt(r.rps, 0)} | ${fmt(r.cpu)} | ${cells.join(' | ')} |`);
    }
    console.log('\nLatency (redis-benchmark, ms; medians of the rounds):');
    console.log('| test | -P | redis p50 | redis p99 | ' + weftNames.map((n) => `${n} p50 | ${n} p99`).join(' | ') + ' |');
    console.log('|' + ' --- |'.repeat(4 + weftNames.length * 2));
    for (const row of results) {
      const cells = weftNames.map((n) => `${fmt(row[n].p50, 3)} | ${fmt(row[n].p99, 3)}`);
      console.log(`| ${row.test} | ${row.pipeline} | ${fmt(row.redis.p50, 3)} | ${fmt(row.redis.p99, 3)} | ${cells.join(' | ')} |`);
    }
    if (!skipMemory) {
      // Fresh servers: pages the benchmark touched would hide the dataset's real RSS.
      stop();
      await new Promise((r) => setTimeout(r, 500));
      servers = await startAll();
      console.log(`\nMemory for ${memoryKeys} memtier-shaped keys (memtier-<n> -> 32 random bytes):`);
      console.log('| server | used_memory/key | RSS/key | used ratio | RSS ratio |\n| --- | --- | --- | --- | --- |');
      const mem = [];
      for (const s of servers) {
        const used0 = infoField(s.port, 'used_memory');
        const rss0 = rssBytes(s.pid);
        await loadKeys(s.port, memoryKeys);
        await new Promise((r) => setTimeout(r, 500));
        const dbsize = Number(redisCli(s.port, 'dbsize'));
        if (dbsize !== memoryKeys) throw new Error(`${s.name} holds ${dbsize} keys after loading ${memoryKeys}`);
        const used = (infoField(s.port, 'used_memory') - used0) / memoryKeys;
        const rss = (rssBytes(s.pid) - rss0) / memoryKeys;
        mem.push({ name: s.name, used, rss });
        redisCli(s.port, 'flushall');
      }
      const base = mem[0];
      for (const m of mem) console.log(`| ${m.name} | ${fmt(m.used, 1)} B | ${fmt(m.rss, 1)} B | ${fmt(m.used / base.used)}x | ${fmt(m.rss / base.rss)}x |`);
    }
  } finally {
    stop();
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
