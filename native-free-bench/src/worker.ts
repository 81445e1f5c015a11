/**
 * A piscina worker: runs one thread's clients (memtier's -c per -t) to the
 * end and returns its counters and its latency histograms, encoded, for the
 * main thread to merge. Progress goes through a SharedArrayBuffer so that
 * the main thread can print a line per second while the task runs.
 */
import net from 'node:net';
import * as hdr from 'hdr-histogram-js';
import { Decoder, encodeCommand, RespError, type Reply } from './resp.js';
import { keySlot } from './crc16.js';
import type { BenchConfig } from './config.js';

export interface WorkerTask {
  cfg: BenchConfig;
  thread: number;
  /** Int32 counters: [0] ops done, summed over threads with Atomics.add. */
  progress: SharedArrayBuffer;
}

export interface OpStats {
  ops: number;
  hits: number;
  misses: number;
  moved: number;
  ask: number;
  errors: number;
  bytes: number;
  /** The latency histogram in microseconds, as HdrHistogram's compressed base64. */
  histogram: string;
}

export interface WorkerResult {
  sets: OpStats;
  gets: OpStats;
  /** Milliseconds from the first request to the last reply of this thread. */
  elapsedMs: number;
}

const SET = 0;
const GET = 1;
const SLOTS = 2;
const HELLO = 3;

class Stats {
  ops = 0;
  hits = 0;
  misses = 0;
  moved = 0;
  ask = 0;
  errors = 0;
  bytes = 0;
  hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });

  result(): OpStats {
    const { hist, ...counts } = this;
    return { ...counts, histogram: hdr.encodeIntoCompressedBase64(hist) };
  }
}

interface Pending {
  kind: number;
  start: number;
  bytes: number;
}

/** One socket of a client, with its own pipeline of requests awaiting replies (memtier's shard_connection). */
class Conn {
  readonly socket: net.Socket;
  private readonly decoder = new Decoder();
  readonly pending: Pending[] = [];
  private head = 0;
  private out: Buffer[] = [];
  waiter: (() => void) | null = null;
  error: Error | null = null;

  constructor(host: string, port: number, private readonly onReply: (c: Conn, p: Pending, r: Reply, bytes: number) => void) {
    // Writes before 'connect' are buffered by net.Socket, so a connection can be used at once.
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (d: Buffer) => this.data(d));
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () => this.fail(new Error(`connection to ${host}:${port} closed`)));
  }

  get inflight(): number {
    return this.pending.length - this.head;
  }

  send(kind: number, cmd: Buffer): void {
    this.out.push(cmd);
    this.pending.push({ kind, start: 0, bytes: cmd.length });
  }

  flush(): void {
    if (this.out.length === 0) return;
    // The clock starts when the batch is handed to the socket, as memtier stamps requests when written.
    const now = performance.now();
    for (let i = this.pending.length - this.out.length; i < this.pending.length; i++) this.pending[i].start = now;
    this.socket.write(this.out.length === 1 ? this.out[0] : Buffer.concat(this.out));
    this.out = [];
  }

  private data(d: Buffer): void {
    this.decoder.feed(d);
    for (;;) {
      const r = this.decoder.next();
      if (!r) break;
      const p = this.pending[this.head++];
      if (!p) return this.fail(new Error('reply without a request'));
      this.onReply(this, p, r.value, r.bytes);
    }
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    this.wake();
  }

  private fail(e: Error): void {
    if (!this.error && this.inflight > 0) this.error = e;
    this.wake();
  }

  wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.destroy();
  }
}

/** Key-index iterators with memtier's R (uniform random) and S (sequential, wrapping) patterns. */
function keyIterator(pattern: 'R' | 'S', min: number, max: number): () => number {
  if (pattern === 'R') return () => min + Math.floor(Math.random() * (max - min + 1));
  let next = min;
  return () => {
    const k = next;
    next = next >= max ? min : next + 1;
    return k;
  };
}

/** One benchmark client: a connection (or, in cluster mode, one per master) and its own request count. */
class Client {
  private readonly conns = new Map<string, Conn>();
  /** Per slot, the connection of the master that owns it (cluster mode). */
  private readonly slotConn: (Conn | undefined)[] = new Array(16384);
  private refreshing = false;
  private single: Conn | undefined;
  private readonly value: Buffer;
  private readonly nextSetKey: () => number;
  private readonly nextGetKey: () => number;

  constructor(private readonly cfg: BenchConfig, private readonly sets: Stats, private readonly gets: Stats, private readonly progress: Int32Array) {
    // memtier's default value is 'x' repeated --data-size times.
    this.value = Buffer.alloc(cfg.dataSize, 'x');
    this.nextSetKey = keyIterator(cfg.setPattern, cfg.keyMin, cfg.keyMax);
    this.nextGetKey = keyIterator(cfg.getPattern, cfg.keyMin, cfg.keyMax);
  }

  private conn(host: string, port: number): Conn {
    const addr = `${host}:${port}`;
    let c = this.conns.get(addr);
    if (!c) {
      c = new Conn(host, port, (conn, p, r, bytes) => this.reply(conn, p, r, bytes));
      this.conns.set(addr, c);
      if (this.cfg.protocol === 'resp3') c.send(HELLO, encodeCommand(['HELLO', '3']));
    }
    return c;
  }

  private reply(conn: Conn, p: Pending, r: Reply, bytes: number): void {
    if (p.kind === SLOTS) {
      this.refreshing = false;
      this.applySlots(r);
      return;
    }
    if (p.kind === HELLO) {
      if (r instanceof RespError) conn.error = new Error(`HELLO 3: ${r.message}`);
      return;
    }
    const s = p.kind === SET ? this.sets : this.gets;
    s.ops++;
    s.bytes += p.bytes + bytes;
    s.hist.recordValue(Math.max(1, Math.round((performance.now() - p.start) * 1000)));
    Atomics.add(this.progress, 0, 1);
    if (r instanceof RespError) {
      // memtier counts MOVED and ASK as done requests and does not retry them;
      // after a MOVED it sends CLUSTER SLOTS on the same connection and remaps.
      if (r.message.startsWith('MOVED ')) {
        s.moved++;
        if (!this.refreshing) {
          this.refreshing = true;
          conn.send(SLOTS, encodeCommand(['CLUSTER', 'SLOTS']));
        }
      } else if (r.message.startsWith('ASK ')) {
        s.ask++;
      } else {
        s.errors++;
      }
      return;
    }
    if (p.kind === GET) {
      if (Buffer.isBuffer(r) && r.length > 0) s.hits++;
      else s.misses++;
    }
  }

  private applySlots(r: Reply): void {
    if (!Array.isArray(r) || r.length === 0) throw new Error(`CLUSTER SLOTS: unusable reply ${String(r)}`);
    for (const range of r) {
      if (!Array.isArray(range) || !Array.isArray(range[2])) continue;
      const [start, end, master] = range as [number, number, Reply[]];
      const host = String(master[0]);
      const c = this.conn(host === '' ? this.cfg.host : host, Number(master[1]));
      for (let s = start; s <= end; s++) this.slotConn[s] = c;
    }
  }

  private async waitFor(c: Conn, done: () => boolean): Promise<void> {
    while (!done()) {
      if (c.error) throw c.error;
      this.flushAll();
      await new Promise<void>((resolve) => (c.waiter = resolve));
    }
    if (c.error) throw c.error;
  }

  private flushAll(): void {
    for (const c of this.conns.values()) c.flush();
  }

  async run(deadline: number): Promise<void> {
    if (this.cfg.cluster) {
      const seed = this.conn(this.cfg.host, this.cfg.port);
      seed.send(SLOTS, encodeCommand(['CLUSTER', 'SLOTS']));
      await this.waitFor(seed, () => seed.inflight === 0);
    } else {
      this.single = this.conn(this.cfg.host, this.cfg.port);
    }
    const { cfg } = this;
    const cycle = cfg.setRatio + cfg.getRatio;
    for (let i = 0; cfg.requests > 0 ? i < cfg.requests : performance.now() < deadline; i++) {
      // memtier issues setRatio SETs then getRatio GETs, over and over.
      const isSet = i % cycle < cfg.setRatio;
      const key = Buffer.from(cfg.keyPrefix + (isSet ? this.nextSetKey() : this.nextGetKey()));
      const c = this.single ?? this.slotConn[keySlot(key)];
      if (!c) throw new Error(`no node serves slot ${keySlot(key)}`);
      if (c.inflight >= cfg.pipeline) await this.waitFor(c, () => c.inflight < cfg.pipeline);
      c.send(isSet ? SET : GET, encodeCommand(isSet ? ['SET', key, this.value] : ['GET', key]));
      // Without a pipeline there is nothing to batch: send at once.
      if (cfg.pipeline === 1) c.flush();
    }
    for (const c of this.conns.values()) await this.waitFor(c, () => c.inflight === 0);
  }

  close(): void {
    for (const c of this.conns.values()) c.close();
  }
}

export default async function runThread(task: WorkerTask): Promise<WorkerResult> {
  const { cfg } = task;
  const progress = new Int32Array(task.progress);
  const sets = new Stats();
  const gets = new Stats();
  const clients = Array.from({ length: cfg.clients }, () => new Client(cfg, sets, gets, progress));
  const started = performance.now();
  const deadline = started + cfg.testTime * 1000;
  try {
    await Promise.all(clients.map((c) => c.run(deadline)));
  } finally {
    for (const c of clients) c.close();
  }
  return { sets: sets.result(), gets: gets.result(), elapsedMs: performance.now() - started };
}
