/**
 * A piscina worker: runs one thread's clients (memtier's -c per -t) against
 * one target and returns its counters, latency histograms and timeline,
 * encoded, for the main thread to merge.
 *
 * Start-up follows memtier, which connects every client before the clock
 * starts: the clients connect (cluster mode: and fetch the slot map), the
 * thread says it is ready through a SharedArrayBuffer, and waits for the
 * main thread to publish the common start time once every thread is ready.
 * A client that cannot connect then fails the run, as memtier aborts.
 */
import { BenchClient, type ClientEnv } from './client.js';
import { workloadFor } from './command-templates.js';
import type { BenchConfig, Target } from './config.js';
import { encodeCommand } from './resp.js';
import { ThreadStats, type WorkerResult } from './stats.js';

export type { WorkerResult } from './stats.js';

export interface WorkerTask {
  cfg: BenchConfig;
  target: Target;
  thread: number;
  /** Int32 cells: see the CONTROL_* indices. */
  control: SharedArrayBuffer;
  /** Float64 cell 0: the run's start, performance.timeOrigin-based milliseconds. */
  startTime: SharedArrayBuffer;
}

/** Answered requests, summed over threads (the progress line). */
export const CONTROL_PROGRESS = 0;
/** Threads whose clients are connected. */
export const CONTROL_READY = 1;
/** Set to 1 (and notified) when the start time is published. */
export const CONTROL_START = 2;

/** How long clients may take to connect before the run fails. */
const CONNECT_TIMEOUT_MS = 10_000;
/** After --test-time, how long requests in flight may still be answered before they count as timed out. */
const DRAIN_GRACE_MS = 2000;

/** AUTH, HELLO and SELECT for a new connection, as memtier sends them when asked, and how many replies they give. */
function setupCommands(cfg: BenchConfig): { bytes: Buffer | null; replies: number } {
  const cmds: Buffer[] = [];
  if (cfg.auth) cmds.push(encodeCommand(cfg.auth.user === null ? ['AUTH', cfg.auth.password] : ['AUTH', cfg.auth.user, cfg.auth.password]));
  if (cfg.protocol !== 'redis') cmds.push(encodeCommand(['HELLO', cfg.protocol === 'resp3' ? '3' : '2']));
  if (cfg.selectDb !== null) cmds.push(encodeCommand(['SELECT', String(cfg.selectDb)]));
  return { bytes: cmds.length ? Buffer.concat(cmds) : null, replies: cmds.length };
}

export default async function runThread(task: WorkerTask): Promise<WorkerResult> {
  const { cfg } = task;
  const control = new Int32Array(task.control);
  const workload = workloadFor(cfg);
  const stats = new ThreadStats(workload.rows.length);
  const setup = setupCommands(cfg);
  let remaining = cfg.clients;
  let allDone!: () => void;
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const env: ClientEnv = {
    cfg,
    target: task.target,
    workload,
    stats,
    setup: setup.bytes,
    setupReplies: setup.replies,
    totalClients: cfg.clients * cfg.threads,
    progress: (n) => Atomics.add(control, CONTROL_PROGRESS, n),
    done: () => {
      if (--remaining === 0) allDone();
    },
  };
  // memtier numbers clients thread by thread (its next_client_idx): this decides P slices and distinct seeds.
  const clients = Array.from({ length: cfg.clients }, (_, i) => new BenchClient(env, task.thread * cfg.clients + i));

  let connectTimer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(clients.map((c) => c.connect())),
      new Promise((_, reject) => {
        connectTimer = setTimeout(() => reject(new Error(`clients not connected after ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
      }),
    ]);
  } catch (e) {
    for (const c of clients) c.close();
    throw new Error(`${task.target.host}:${task.target.port}: ${(e as Error).message}`);
  } finally {
    clearTimeout(connectTimer);
  }

  Atomics.add(control, CONTROL_READY, 1);
  Atomics.notify(control, CONTROL_READY);
  const wait = Atomics.waitAsync(control, CONTROL_START, 0);
  if (wait.async) await wait.value;
  const startLocal = new Float64Array(task.startTime)[0] - performance.timeOrigin;
  const deadline = cfg.testTime > 0 ? startLocal + cfg.testTime * 1000 : Infinity;
  stats.begin(startLocal, cfg.testTime > 0 ? cfg.testTime - 1 : Infinity);

  const timers: NodeJS.Timeout[] = [];
  if (cfg.testTime > 0) {
    timers.push(setTimeout(() => clients.forEach((c) => c.stop()), deadline - performance.now()));
    timers.push(setTimeout(() => {
      const now = performance.now();
      clients.forEach((c) => c.forceFinish(now));
    }, deadline + Math.max(DRAIN_GRACE_MS, cfg.requestTimeoutMs) - performance.now()));
  }
  // --request-timeout and the CLUSTER SLOTS watchdog.
  const timeoutMs = cfg.requestTimeoutMs;
  timers.push(setInterval(() => {
    const now = performance.now();
    for (const c of clients) {
      c.checkRefresh(now);
      if (timeoutMs === 0) continue;
      for (const conn of c.connections()) {
        if (conn.inflight === 0 || (conn.state !== 'connecting' && conn.state !== 'ready')) continue;
        const sent = conn.pStart[conn.oldestSlot];
        if (sent >= 0 && now - sent >= timeoutMs) conn.fail('timeout', `request to ${conn.addr} unanswered after ${timeoutMs} ms`);
      }
    }
  }, timeoutMs > 0 ? Math.max(5, Math.min(50, timeoutMs / 4)) : 100));

  for (const c of clients) c.start(deadline);
  await finished;
  for (const t of timers) clearTimeout(t);
  return stats.result(performance.now());
}
