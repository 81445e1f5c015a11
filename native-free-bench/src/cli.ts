/**
 * weft-bench: a memtier_benchmark-style load generator. The main thread
 * starts one piscina task per --threads, prints a progress line per second
 * on stderr, then merges the threads' HdrHistograms and counters into a
 * memtier-like "ALL STATS" table.
 */
import fs from 'node:fs';
import { Piscina } from 'piscina';
import * as hdr from 'hdr-histogram-js';
import { parseConfig, USAGE, type BenchConfig } from './config.js';
import type { OpStats, WorkerResult, WorkerTask } from './worker.js';

interface Row {
  type: string;
  count: number;
  opsSec: number;
  hitsSec: number | null;
  missesSec: number | null;
  moved: number;
  ask: number;
  errors: number;
  avg: number;
  p50: number;
  p99: number;
  p999: number;
  kbSec: number;
  hist: hdr.Histogram;
}

function newHist(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

function row(type: string, parts: OpStats[], secs: number, hitsApply: boolean): Row {
  const hist = newHist();
  const sum = (f: (s: OpStats) => number) => parts.reduce((a, s) => a + f(s), 0);
  for (const p of parts) hist.add(hdr.decodeFromCompressedBase64(p.histogram));
  const count = sum((s) => s.ops);
  const ms = (us: number) => us / 1000;
  return {
    type,
    count,
    opsSec: count / secs,
    hitsSec: hitsApply ? sum((s) => s.hits) / secs : null,
    missesSec: hitsApply ? sum((s) => s.misses) / secs : null,
    moved: sum((s) => s.moved),
    ask: sum((s) => s.ask),
    errors: sum((s) => s.errors),
    avg: count ? ms(hist.mean) : 0,
    p50: count ? ms(hist.getValueAtPercentile(50)) : 0,
    p99: count ? ms(hist.getValueAtPercentile(99)) : 0,
    p999: count ? ms(hist.getValueAtPercentile(99.9)) : 0,
    kbSec: sum((s) => s.bytes) / 1024 / secs,
    hist,
  };
}

function fmt(n: number | null, digits: number): string {
  return n === null ? '---' : n.toFixed(digits);
}

function table(rows: Row[], cluster: boolean, secs: number): string {
  const head = ['Type', 'Ops/sec', 'Hits/sec', 'Misses/sec', ...(cluster ? ['MOVED/sec', 'ASK/sec'] : []),
    'Avg. Latency', 'p50 Latency', 'p99 Latency', 'p99.9 Latency', 'KB/sec'];
  const lines = rows.map((r) => [r.type, fmt(r.opsSec, 2), fmt(r.hitsSec, 2), fmt(r.missesSec, 2),
    ...(cluster ? [fmt(r.moved / secs, 2), fmt(r.ask / secs, 2)] : []),
    fmt(r.avg, 5), fmt(r.p50, 5), fmt(r.p99, 5), fmt(r.p999, 5), fmt(r.kbSec, 2)]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)) + 2);
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('');
  return [line(head), '-'.repeat(widths.reduce((a, b) => a + b, 0)), ...lines.map(line)].join('\n');
}

function histogramText(rows: Row[]): string {
  // memtier prints per command type the latency (msec) reached by each percent of requests.
  const out: string[] = ['Request Latency Distribution', 'Type     <= msec         Percent', '-'.repeat(40)];
  for (const r of rows.slice(0, 2)) {
    if (r.count === 0) continue;
    for (const p of [50, 90, 95, 99, 99.9, 100]) out.push(`${r.type.toUpperCase().padEnd(9)}${(r.hist.getValueAtPercentile(p) / 1000).toFixed(3).padStart(10)}${p.toFixed(3).padStart(16)}`);
    out.push('---');
  }
  return out.join('\n');
}

function json(cfg: BenchConfig, rows: Row[], secs: number): unknown {
  const stats: Record<string, unknown> = {};
  for (const r of rows) {
    stats[r.type] = {
      Count: r.count, 'Ops/sec': r.opsSec, 'Hits/sec': r.hitsSec ?? 0, 'Misses/sec': r.missesSec ?? 0,
      'MOVED/sec': r.moved / secs, 'ASK/sec': r.ask / secs, Moved: r.moved, Ask: r.ask, Errors: r.errors,
      Latency: r.avg, 'Percentile Latencies': { 'p50.00': r.p50, 'p99.00': r.p99, 'p99.90': r.p999 }, 'KB/sec': r.kbSec,
    };
  }
  return { configuration: cfg, 'ALL STATS': { ...stats, Runtime: { 'Total duration': secs * 1000 } } };
}

async function main(): Promise<number> {
  let cfg: BenchConfig | 'help';
  try {
    cfg = parseConfig(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`weft-bench: ${(e as Error).message}\n${USAGE}`);
    return 1;
  }
  if (cfg === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const progress = new SharedArrayBuffer(4);
  const counter = new Int32Array(progress);
  const pool = new Piscina({ filename: new URL('./worker.js', import.meta.url).href, minThreads: cfg.threads, maxThreads: cfg.threads });
  const total = cfg.requests * cfg.clients * cfg.threads;
  process.stderr.write(`${cfg.threads} Threads\n${cfg.clients} Connections per thread\n` +
    (cfg.requests ? `${cfg.requests} Requests per client\n` : `${cfg.testTime} Seconds\n`));
  const started = performance.now();
  let last = 0;
  const ticker = setInterval(() => {
    const done = Atomics.load(counter, 0);
    const secs = Math.round((performance.now() - started) / 1000);
    const pct = total ? `${Math.floor((done * 100) / total)}%` : `${Math.min(100, Math.floor((secs * 100) / cfg.testTime))}%`;
    process.stderr.write(`[RUN #1 ${pct}, ${secs} secs] ${cfg.threads} threads: ${done} ops, ${done - last} (avg: ${Math.round(done / Math.max(1, secs))}) ops/sec\n`);
    last = done;
  }, 1000);
  let results: WorkerResult[];
  try {
    results = await Promise.all(Array.from({ length: cfg.threads }, (_, thread) => pool.run({ cfg, thread, progress } satisfies WorkerTask) as Promise<WorkerResult>));
  } catch (e) {
    process.stderr.write(`weft-bench: ${(e as Error).message}\n`);
    return 1;
  } finally {
    clearInterval(ticker);
    await pool.destroy();
  }
  const secs = Math.max(...results.map((r) => r.elapsedMs)) / 1000;
  const rows = [
    row('Sets', results.map((r) => r.sets), secs, false),
    row('Gets', results.map((r) => r.gets), secs, true),
    row('Totals', results.flatMap((r) => [r.sets, r.gets]), secs, true),
  ];
  process.stdout.write(`\nALL STATS\n${table(rows, cfg.cluster, secs)}\n`);
  if (!cfg.hideHistogram) process.stdout.write(`\n${histogramText(rows)}\n`);
  if (cfg.jsonOut) fs.writeFileSync(cfg.jsonOut, JSON.stringify(json(cfg, rows, secs), null, 2) + '\n');
  return 0;
}

process.exitCode = await main();
