/**
 * What a run's threads measured, merged (HdrHistograms decoded and added,
 * counters summed), and the ways it is shown: memtier's "ALL STATS" table and
 * latency distribution, memtier-shaped JSON, and the per-second timeline.
 */
import * as hdr from 'hdr-histogram-js';
import type { Target } from './config.js';
import { newHistogram, type ErrorCounters, type RowResult, type SecondResult, type WorkerResult } from './stats.js';

/** A results row of the whole run: the threads' counters summed, their histograms merged. */
export interface RowSummary extends Omit<RowResult, 'ops' | 'histogram'> {
  /** memtier's row name: Sets, Gets, Totals, or one per --command ("Incrs"). */
  name: string;
  /** The command name in the latency distribution (SET, GET, INCR); "" for Totals. */
  label: string;
  /** Whether the row counts hits and misses (GET, and Totals when any row does). */
  countsHits: boolean;
  /** Requests answered (RowResult's ops). */
  count: number;
  hist: hdr.Histogram;
}

/** One second of the run, all threads: their counts, and the latencies' p50 and p99 instead of the histogram. */
export interface SecondSummary extends Omit<SecondResult, 'histogram'> {
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface RunResult {
  target: Target;
  /** Wall-clock seconds from the common start to the last reply (a sum over runs for an aggregate). */
  seconds: number;
  /** Rows in workload order, Totals last. */
  rows: RowSummary[];
  errors: ErrorCounters;
  timeline: SecondSummary[];
  /** Start and end of the run, Unix-epoch milliseconds (performance.timeOrigin-based). */
  startMs: number;
  endMs: number;
}

export interface RowShape {
  names: string[];
  labels: string[];
  countsHits: boolean[];
}

function emptyRow(name: string, label: string, countsHits: boolean): RowSummary {
  return { name, label, countsHits, count: 0, hits: 0, misses: 0, moved: 0, ask: 0, errors: 0, bytes: 0, hist: newHistogram() };
}

function addRow(into: RowSummary, from: Omit<RowSummary, 'name' | 'label' | 'countsHits'>): void {
  into.count += from.count;
  into.hits += from.hits;
  into.misses += from.misses;
  into.moved += from.moved;
  into.ask += from.ask;
  into.errors += from.errors;
  into.bytes += from.bytes;
  into.hist.add(from.hist);
}

function addErrors(into: ErrorCounters, from: ErrorCounters): void {
  into.errorReplies += from.errorReplies;
  into.connectionErrors += from.connectionErrors;
  into.timeouts += from.timeouts;
  into.lostRequests += from.lostRequests;
}

const noErrors = (): ErrorCounters => ({ errorReplies: 0, connectionErrors: 0, timeouts: 0, lostRequests: 0 });

/** One run: the threads' results merged. `startAbs` is the common start, performance.timeOrigin + performance.now(). */
export function mergeThreads(shape: RowShape, target: Target, results: WorkerResult[], startAbs: number): RunResult {
  const rows = shape.names.map((name, i) => emptyRow(name, shape.labels[i], shape.countsHits[i]));
  const totals = emptyRow('Totals', '', shape.countsHits.some(Boolean));
  const errors = noErrors();
  const seconds: { s: SecondSummary; hist: hdr.Histogram | null }[] = [];
  let endAbs = startAbs;
  for (const r of results) {
    endAbs = Math.max(endAbs, r.endAbs);
    addErrors(errors, r.errors);
    r.rows.forEach((row, i) => {
      const hist = hdr.decodeFromCompressedBase64(row.histogram);
      addRow(rows[i], { ...row, count: row.ops, hist });
      addRow(totals, { ...row, count: row.ops, hist });
      hist.destroy();
    });
    for (const sec of r.timeline) {
      while (seconds.length <= sec.second) {
        seconds.push({ s: { second: seconds.length, ops: 0, ok: 0, errors: 0, moved: 0, ask: 0, timeouts: 0, connectionErrors: 0, p50Ms: null, p99Ms: null }, hist: null });
      }
      const into = seconds[sec.second];
      into.s.ops += sec.ops;
      into.s.ok += sec.ok;
      into.s.errors += sec.errors;
      into.s.moved += sec.moved;
      into.s.ask += sec.ask;
      into.s.timeouts += sec.timeouts;
      into.s.connectionErrors += sec.connectionErrors;
      if (sec.histogram) {
        const h = hdr.decodeFromCompressedBase64(sec.histogram);
        into.hist ??= newHistogram(2);
        into.hist.add(h);
        h.destroy();
      }
    }
  }
  const timeline = seconds.map(({ s, hist }) => {
    if (hist) {
      s.p50Ms = hist.getValueAtPercentile(50) / 1000;
      s.p99Ms = hist.getValueAtPercentile(99) / 1000;
      hist.destroy();
    }
    return s;
  });
  return {
    target,
    seconds: Math.max(1e-3, (endAbs - startAbs) / 1000),
    rows: [...rows, totals],
    errors,
    timeline,
    startMs: startAbs,
    endMs: endAbs,
  };
}

/** Several runs as one: counts, bytes and durations summed, histograms merged (memtier's AGGREGATED AVERAGE). */
export function aggregateRuns(runs: RunResult[]): RunResult {
  const first = runs[0];
  const rows = first.rows.map((r) => emptyRow(r.name, r.label, r.countsHits));
  const errors = noErrors();
  let seconds = 0;
  for (const run of runs) {
    seconds += run.seconds;
    addErrors(errors, run.errors);
    run.rows.forEach((r, i) => addRow(rows[i], r));
  }
  return { target: first.target, seconds, rows, errors, timeline: [], startMs: first.startMs, endMs: runs.at(-1)!.endMs };
}

export function totals(run: RunResult): RowSummary {
  return run.rows.at(-1)!;
}

export const opsPerSec = (run: RunResult): number => totals(run).count / run.seconds;

/** A latency percentile in milliseconds (0 when the row has no replies). */
export function percentileMs(row: RowSummary, p: number): number {
  return row.count ? row.hist.getValueAtPercentile(p) / 1000 : 0;
}

/** memtier's percentile labels: 50 → "p50", 99.9 → "p99.9" in the table; "p50.00" in JSON. */
const tableLabel = (p: number) => `p${Number(p.toFixed(3))}`;
const jsonLabel = (p: number) => `p${p.toFixed(2)}`;

function fmt(n: number | null, digits: number): string {
  return n === null ? '---' : n.toFixed(digits);
}

/** The "ALL STATS" table, memtier's columns (MOVED/sec and ASK/sec in cluster mode). */
export function statsTable(run: RunResult, cluster: boolean, percentiles: number[]): string {
  const secs = run.seconds;
  const head = ['Type', 'Ops/sec', 'Hits/sec', 'Misses/sec', ...(cluster ? ['MOVED/sec', 'ASK/sec'] : []), 'Errors',
    'Avg. Latency', ...percentiles.map((p) => `${tableLabel(p)} Latency`), 'KB/sec'];
  const lines = run.rows.map((r) => {
    const noReplies = r.count === 0;
    return [r.name, fmt(r.count / secs, 2),
      r.countsHits ? fmt(r.hits / secs, 2) : '---', r.countsHits ? fmt(r.misses / secs, 2) : '---',
      ...(cluster ? [fmt(r.moved / secs, 2), fmt(r.ask / secs, 2)] : []),
      String(r.errors),
      noReplies ? '---' : fmt(r.hist.mean / 1000, 5),
      ...percentiles.map((p) => (noReplies ? '---' : fmt(percentileMs(r, p), 5))),
      fmt(r.bytes / 1024 / secs, 2)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)) + 2);
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('');
  const rule = (ch: string) => ch.repeat(widths.reduce((a, b) => a + b, 0));
  return [rule('='), line(head), rule('-'), ...lines.map(line)].join('\n');
}

/** Every error and failure of the run, in one line: never hidden. */
export function errorLine(run: RunResult): string {
  const e = run.errors;
  return `Errors: ${e.errorReplies} error replies, ${e.connectionErrors} connection errors, ` +
    `${e.timeouts} timeouts, ${e.lostRequests} requests lost with their connection`;
}

const DISTRIBUTION = [0, 50, 75, 90, 95, 99, 99.9, 99.99, 100];

/** memtier's "Request Latency Distribution": per command, the latency (msec) that each percent of requests stays within. */
export function histogramText(run: RunResult): string {
  const out: string[] = ['Request Latency Distribution', 'Type     <= msec         Percent', '-'.repeat(40)];
  for (const r of run.rows) {
    if (r.count === 0 || r.label === '') continue;
    for (const p of DISTRIBUTION) {
      const ms = (p === 0 ? r.hist.minNonZeroValue : r.hist.getValueAtPercentile(p)) / 1000;
      out.push(`${r.label.padEnd(9)}${ms.toFixed(3).padStart(10)}${p.toFixed(3).padStart(16)}`);
    }
    out.push('---');
  }
  return out.join('\n');
}

/** One run's figures in memtier's JSON shape ("ALL STATS"), plus weft-bench's Errors section. */
export function statsJson(run: RunResult, percentiles: number[]): Record<string, unknown> {
  const secs = run.seconds;
  const out: Record<string, unknown> = {};
  for (const r of run.rows) {
    const pct: Record<string, number> = {};
    for (const p of percentiles) pct[jsonLabel(p)] = percentileMs(r, p);
    out[r.name] = {
      Count: r.count,
      'Ops/sec': r.count / secs,
      'Hits/sec': r.hits / secs,
      'Misses/sec': r.misses / secs,
      'MOVED/sec': r.moved / secs,
      'ASK/sec': r.ask / secs,
      Moved: r.moved,
      Ask: r.ask,
      Errors: r.errors,
      Latency: r.count ? r.hist.mean / 1000 : 0,
      'Average Latency': r.count ? r.hist.mean / 1000 : 0,
      'Min Latency': r.count ? r.hist.minNonZeroValue / 1000 : 0,
      'Max Latency': r.count ? r.hist.maxValue / 1000 : 0,
      'Percentile Latencies': pct,
      'KB/sec': r.bytes / 1024 / secs,
    };
  }
  out.Errors = {
    'Error replies': run.errors.errorReplies,
    'Connection errors': run.errors.connectionErrors,
    Timeouts: run.errors.timeouts,
    'Lost requests': run.errors.lostRequests,
  };
  out.Runtime = { 'Start time': Math.round(run.startMs), 'Finish time': Math.round(run.endMs), 'Total duration': run.seconds * 1000, 'Time unit': 'MILLISECONDS' };
  return out;
}

export interface TimelineRow extends SecondSummary {
  run: number;
  target: string;
}

const TIMELINE_COLUMNS = ['run', 'target', 'second', 'ops', 'ok', 'errors', 'moved', 'ask', 'timeouts', 'connectionErrors', 'p50Ms', 'p99Ms'] as const;

/** The --timeline file: CSV when its name ends in .csv, else a JSON array. */
export function timelineText(file: string, rows: TimelineRow[]): string {
  if (!file.toLowerCase().endsWith('.csv')) return JSON.stringify(rows, null, 1) + '\n';
  const cell = (v: unknown) => (v === null ? '' : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : String(v));
  return [TIMELINE_COLUMNS.join(','), ...rows.map((r) => TIMELINE_COLUMNS.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
