/**
 * weft-bench: a memtier_benchmark-style load generator. The main thread
 * parses memtier's flags, runs the workload (--run-count times, or in
 * alternation against two targets with --compare) on piscina worker
 * threads, and prints memtier's tables; --json-out-file and --timeline
 * write the same figures for programs.
 */
import fs from 'node:fs';
import { Piscina } from 'piscina';
import { workloadFor } from './command-templates.js';
import { parseConfig, USAGE, type BenchConfig, type Target } from './config.js';
import {
  aggregateRuns, errorLine, histogramText, median, opsPerSec, percentileMs, statsJson, statsTable, timelineText, totals,
  type RowShape, type RunResult, type TimelineRow,
} from './report.js';
import { runOnce } from './runner.js';

const addr = (t: Target) => `${t.host}:${t.port}`;

function rowShape(cfg: BenchConfig): RowShape {
  const w = workloadFor(cfg);
  // The default workload's Gets row counts hits and misses (memtier); --command rows do not.
  const countsHits = w.rows.map((_, i) => w.steps.some((s) => s.row === i && s.countsHits) || (cfg.commands.length === 0 && i === 1));
  return { names: w.rows, labels: w.labels, countsHits };
}

function runHeader(cfg: BenchConfig): string {
  const bound = cfg.requests ? `${cfg.requests}`.padEnd(10) + 'Requests per client' : `${cfg.testTime}`.padEnd(10) + 'Seconds';
  return `${`${cfg.threads}`.padEnd(10)}Threads\n${`${cfg.clients}`.padEnd(10)}Connections per thread\n${bound}\n`;
}

function runReport(title: string, run: RunResult, cfg: BenchConfig): string {
  let out = `\n${title}\n${statsTable(run, cfg.cluster, cfg.printPercentiles)}\n${errorLine(run)}\n`;
  if (!cfg.hideHistogram) out += `\n${histogramText(run)}\n`;
  return out;
}

function timelineOf(run: RunResult, index: number): TimelineRow[] {
  return run.timeline.map((s) => ({ run: index, target: addr(run.target), ...s }));
}

interface RoundRatio {
  round: number;
  aOpsSec: number;
  bOpsSec: number;
  opsRatio: number;
  aP50Ms: number;
  bP50Ms: number;
  aP99Ms: number;
  bP99Ms: number;
  p99Ratio: number;
}

function roundRatio(round: number, a: RunResult, b: RunResult): RoundRatio {
  const [ta, tb] = [totals(a), totals(b)];
  const aP99Ms = percentileMs(ta, 99);
  const bP99Ms = percentileMs(tb, 99);
  return {
    round, aOpsSec: opsPerSec(a), bOpsSec: opsPerSec(b), opsRatio: opsPerSec(a) / opsPerSec(b),
    aP50Ms: percentileMs(ta, 50), bP50Ms: percentileMs(tb, 50), aP99Ms, bP99Ms, p99Ratio: aP99Ms / bP99Ms,
  };
}

function compareTable(a: Target, b: Target, rounds: RoundRatio[]): string {
  const head = ['Round', 'A ops/sec', 'B ops/sec', 'A/B ops', 'A p50 ms', 'B p50 ms', 'A p99 ms', 'B p99 ms', 'A/B p99'];
  const cells = (r: Omit<RoundRatio, 'round'>, name: string) => [name, r.aOpsSec.toFixed(2), r.bOpsSec.toFixed(2), `${r.opsRatio.toFixed(3)}x`,
    r.aP50Ms.toFixed(3), r.bP50Ms.toFixed(3), r.aP99Ms.toFixed(3), r.bP99Ms.toFixed(3), `${r.p99Ratio.toFixed(3)}x`];
  const med = medianRatio(rounds);
  const lines = [...rounds.map((r) => cells(r, String(r.round))), cells(med, 'median')];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)) + 2);
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('');
  return [`COMPARE  A = ${addr(a)}  B = ${addr(b)}  (${rounds.length} rounds, A then B in each)`,
    line(head), '-'.repeat(widths.reduce((x, y) => x + y, 0)), ...lines.map(line)].join('\n');
}

function medianRatio(rounds: RoundRatio[]): Omit<RoundRatio, 'round'> {
  const m = (f: (r: RoundRatio) => number) => median(rounds.map(f));
  return {
    aOpsSec: m((r) => r.aOpsSec), bOpsSec: m((r) => r.bOpsSec), opsRatio: m((r) => r.opsRatio),
    aP50Ms: m((r) => r.aP50Ms), bP50Ms: m((r) => r.bP50Ms), aP99Ms: m((r) => r.aP99Ms), bP99Ms: m((r) => r.bP99Ms), p99Ratio: m((r) => r.p99Ratio),
  };
}

/** Runs, prints and writes everything; the exit status. */
async function main(): Promise<number> {
  let cfg: BenchConfig | 'help';
  try {
    cfg = parseConfig(process.argv.slice(2));
    if (cfg !== 'help') workloadFor(cfg); // a --command that cannot be parsed fails here, with its message
  } catch (e) {
    process.stderr.write(`weft-bench: ${(e as Error).message}\nRun weft-bench --help for the flags.\n`);
    return 1;
  }
  if (cfg === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const shape = rowShape(cfg);
  const a: Target = { host: cfg.host, port: cfg.port };
  const b = cfg.compare;
  const pool = new Piscina({ filename: new URL('./worker.js', import.meta.url).href, minThreads: cfg.threads, maxThreads: cfg.threads });
  const runsA: RunResult[] = [];
  const runsB: RunResult[] = [];
  process.stdout.write(runHeader(cfg));
  try {
    for (let i = 1; i <= cfg.runCount; i++) {
      runsA.push(await runOnce(pool, cfg, shape, a, b ? `RUN #${i} A` : `RUN #${i}`));
      if (b) runsB.push(await runOnce(pool, cfg, shape, b, `RUN #${i} B`));
      if (cfg.runCount > 1) {
        const line = (r: RunResult, who: string) => `[RUN #${i}${who}] ${addr(r.target)}: ${opsPerSec(r).toFixed(2)} ops/sec, ` +
          `p99 ${percentileMs(totals(r), 99).toFixed(3)} ms, ${totals(r).errors} errors\n`;
        process.stderr.write(line(runsA[i - 1], b ? ' A' : '') + (b ? line(runsB[i - 1], ' B') : ''));
      }
    }
  } catch (e) {
    process.stderr.write(`weft-bench: ${(e as Error).message}\n` +
      'Check that a server listens at -s/-p (and --compare), that -a is right, and with --cluster-mode that it is a cluster node.\n');
    return 1;
  } finally {
    await pool.destroy();
  }

  const json: Record<string, unknown> = { configuration: cfg };
  const timeline: TimelineRow[] = [];
  if (b) {
    const rounds = runsA.map((r, i) => roundRatio(i + 1, r, runsB[i]));
    const aggA = aggregateRuns(runsA);
    const aggB = aggregateRuns(runsB);
    process.stdout.write(runReport(`A ${addr(a)}: AGGREGATED AVERAGE RESULTS (${runsA.length} runs)`, aggA, cfg));
    process.stdout.write(runReport(`B ${addr(b)}: AGGREGATED AVERAGE RESULTS (${runsB.length} runs)`, aggB, cfg));
    process.stdout.write(`\n${compareTable(a, b, rounds)}\n`);
    json.compare = { A: addr(a), B: addr(b), rounds, median: medianRatio(rounds) };
    json.A = { 'ALL STATS': statsJson(aggA, cfg.printPercentiles), runs: runsA.map((r) => statsJson(r, cfg.printPercentiles)) };
    json.B = { 'ALL STATS': statsJson(aggB, cfg.printPercentiles), runs: runsB.map((r) => statsJson(r, cfg.printPercentiles)) };
    runsA.forEach((r, i) => timeline.push(...timelineOf(r, i + 1), ...timelineOf(runsB[i], i + 1)));
  } else if (runsA.length === 1) {
    process.stdout.write(runReport('ALL STATS', runsA[0], cfg));
    json['ALL STATS'] = statsJson(runsA[0], cfg.printPercentiles);
    timeline.push(...timelineOf(runsA[0], 1));
  } else {
    const byOps = [...runsA].sort((x, y) => opsPerSec(y) - opsPerSec(x));
    const agg = aggregateRuns(runsA);
    const aggTitle = `AGGREGATED AVERAGE RESULTS (${runsA.length} runs)`;
    process.stdout.write(runReport('BEST RUN RESULTS', byOps[0], cfg));
    process.stdout.write(runReport('WORST RUN RESULTS', byOps.at(-1)!, cfg));
    process.stdout.write(runReport(aggTitle, agg, cfg));
    process.stdout.write(`Median of ${runsA.length} runs: ${median(runsA.map(opsPerSec)).toFixed(2)} ops/sec\n`);
    json['BEST RUN RESULTS'] = statsJson(byOps[0], cfg.printPercentiles);
    json['WORST RUN RESULTS'] = statsJson(byOps.at(-1)!, cfg.printPercentiles);
    json[aggTitle] = statsJson(agg, cfg.printPercentiles);
    // Readers that know only the single-run shape find the aggregate under "ALL STATS".
    json['ALL STATS'] = json[aggTitle];
    json.runs = runsA.map((r) => statsJson(r, cfg.printPercentiles));
    runsA.forEach((r, i) => timeline.push(...timelineOf(r, i + 1)));
  }
  if (cfg.jsonOut) fs.writeFileSync(cfg.jsonOut, JSON.stringify(json, null, 2) + '\n');
  if (cfg.timeline) fs.writeFileSync(cfg.timeline, timelineText(cfg.timeline, timeline));
  return 0;
}

process.exitCode = await main();
