/**
 * One run against one target: a piscina task per --threads, started
 * together once every thread's clients are connected (memtier connects all
 * clients before its clock starts), a progress line per second on stderr,
 * and the threads' results merged.
 */
import type { Piscina } from 'piscina';
import type { BenchConfig, Target } from './config.js';
import { mergeThreads, type RowShape, type RunResult } from './report.js';
import { CONTROL_PROGRESS, CONTROL_READY, CONTROL_START, type WorkerResult, type WorkerTask } from './worker.js';

/** The start time is published this far ahead, so that every thread sees it before it passes. */
const START_MARGIN_MS = 5;

async function allReady(control: Int32Array, threads: number): Promise<void> {
  for (;;) {
    const ready = Atomics.load(control, CONTROL_READY);
    if (ready >= threads) return;
    const w = Atomics.waitAsync(control, CONTROL_READY, ready);
    if (w.async) await w.value;
  }
}

function progressLine(cfg: BenchConfig, title: string, done: number, last: number, secs: number): string {
  const total = cfg.requests * cfg.clients * cfg.threads;
  const pct = total ? Math.floor((done * 100) / total) : Math.min(100, Math.floor((secs * 100) / cfg.testTime));
  return `[${title} ${pct}%, ${secs} secs] ${cfg.threads} threads: ${done} ops, ${done - last} (avg: ${Math.round(done / Math.max(1, secs))}) ops/sec\n`;
}

/** Runs the workload once against `target`; `title` names the run in the progress line ("RUN #2", "RUN #1 B"). */
export async function runOnce(pool: Piscina, cfg: BenchConfig, shape: RowShape, target: Target, title: string): Promise<RunResult> {
  const controlBuffer = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
  const startTime = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);
  const control = new Int32Array(controlBuffer);
  const tasks = Array.from({ length: cfg.threads }, (_, thread) =>
    pool.run({ cfg, target, thread, control: controlBuffer, startTime } satisfies WorkerTask) as Promise<WorkerResult>);
  const all = Promise.all(tasks);
  // A thread that cannot connect rejects before the others are ready: that ends the wait,
  // and the waiter is released so that nothing is left pending.
  try {
    await Promise.race([allReady(control, cfg.threads), all]);
  } catch (e) {
    Atomics.store(control, CONTROL_READY, cfg.threads);
    Atomics.notify(control, CONTROL_READY);
    throw e;
  }
  const startAbs = performance.timeOrigin + performance.now() + START_MARGIN_MS;
  new Float64Array(startTime)[0] = startAbs;
  Atomics.store(control, CONTROL_START, 1);
  Atomics.notify(control, CONTROL_START);

  let last = 0;
  const ticker = setInterval(() => {
    const done = Atomics.load(control, CONTROL_PROGRESS);
    const secs = Math.round((performance.timeOrigin + performance.now() - startAbs) / 1000);
    process.stderr.write(progressLine(cfg, title, done, last, secs));
    last = done;
  }, 1000);
  try {
    return mergeThreads(shape, target, await all, startAbs);
  } finally {
    clearInterval(ticker);
  }
}
