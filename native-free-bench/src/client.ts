/**
 * One benchmark client (memtier's client / cluster_client): its connection
 * (or, in cluster mode, one per master), its key source and its own request
 * count, driven by events: each read of replies refills the pipeline.
 *
 * Cluster mode follows memtier where memtier is defined, and goes on where a
 * failover needs more:
 * - CLUSTER SLOTS from -s/-p at start; a key goes to the master of its slot.
 * - MOVED: counted (MOVED/sec), not retried, CLUSTER SLOTS sent again on the
 *   connection that got it (memtier).
 * - ASK: counted (ASK/sec) and followed: ASKING + the same request to the
 *   node named, once (memtier counts ASK and drops the request).
 * - CLUSTERDOWN and other error replies: counted as errors; CLUSTERDOWN and
 *   connection failures also refresh the slot map, from any reachable node
 *   ever seen (the seed and every master and replica CLUSTER SLOTS named).
 *
 * Failures never stop a run: requests in flight on a connection that fails
 * (refused, reset, closed, or a --request-timeout) count as errors, with -n
 * they count as done, and the connection is reopened after a backoff when a
 * request needs it.
 */
import { keySlot } from './crc16.js';
import { writeKeyBytes, writeRequest, type ArgumentSource, type CommandTemplate, type Workload, type WorkloadStep } from './command-templates.js';
import type { BenchConfig, Target } from './config.js';
import { ASK_FOLLOWED, ASKING, COUNTS_HITS, Conn, SETUP, SLOTS, type ConnOwner, type FailReason } from './connection.js';
import { KeySource, parallelSlice, type KeyRange } from './key-patterns.js';
import { Prng } from './prng.js';
import { encodeCommand, errorText, isHit, parseReply, type Reply } from './resp.js';
import { Outcome, type ThreadStats } from './stats.js';

const CLUSTER_SLOTS = encodeCommand(['CLUSTER', 'SLOTS']);
const ASKING_CMD = encodeCommand(['ASKING']);
/** Slot-map refreshes are at most this often (a MOVED storm asks once per interval). */
const MIN_REFRESH_INTERVAL_MS = 100;
/** How long a client waits before the next request after one found no node for its slot. */
const NO_ROUTE_PAUSE_MS = 100;

/** What the clients of one thread share. */
export interface ClientEnv {
  cfg: BenchConfig;
  target: Target;
  workload: Workload;
  stats: ThreadStats;
  /** AUTH / HELLO / SELECT for every new connection, and how many replies they give. */
  setup: Buffer | null;
  setupReplies: number;
  totalClients: number;
  /** Adds answered requests to the progress counter. */
  progress(n: number): void;
  /** The client has finished (its -n requests are all done, or the test time is over). */
  done(client: BenchClient): void;
}

export class BenchClient implements ConnOwner, ArgumentSource {
  private readonly cfg: BenchConfig;
  private readonly conns = new Map<string, Conn>();
  private single: Conn | null = null;
  private readonly slotConn: (Conn | undefined)[] = new Array<Conn | undefined>(16384).fill(undefined);
  private masters: Conn[] = [];
  private nextMaster = 0;
  /** Every node address seen: where the slot map can be fetched from. */
  private readonly known = new Set<string>();
  private nextKnown = 0;

  private readonly prng: Prng;
  private readonly keys: KeySource;
  private readonly steps: WorkloadStep[];
  private readonly scratch: Buffer;
  private stepIdx = 0;
  private stepLeft: number;

  // The next request, drawn but not yet written (its connection was busy or down).
  private held = false;
  private heldStep!: WorkloadStep;
  private heldTemplate!: CommandTemplate;
  private heldKey = 0;
  private heldExpiry = 0;
  private heldSlot = -1;

  generated = 0;
  processed = 0;
  private answeredSinceProgress = 0;
  private phase: 'setup' | 'run' | 'done' = 'setup';
  private deadline = Infinity;
  /** When sending began: --rate-limiting spaces the requests from it. */
  private startedAt = 0;
  private stopped = false;
  private pausedUntil = 0;
  private pumping = false;
  private readonly dirty: Conn[] = [];
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = 0;

  private refreshing = false;
  private refreshDeadline = 0;
  private refreshAgain = false;
  private lastRefreshDone = -Infinity;
  private refreshTimer: NodeJS.Timeout | null = null;
  /** A connection opened only to fetch CLUSTER SLOTS when no data connection is up. */
  private refreshConn: Conn | null = null;

  private setupWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;

  constructor(private readonly env: ClientEnv, globalIndex: number) {
    const cfg = (this.cfg = env.cfg);
    const w = env.workload;
    // memtier: every client starts from the same seed; --distinct-client-seed adds the client's index.
    this.prng = new Prng(cfg.seed + (cfg.distinctClientSeed ? globalIndex : 0));
    const range: KeyRange = w.slicePattern === 'P'
      ? parallelSlice(cfg.keyMin, cfg.keyMax, globalIndex, env.totalClients)
      : { min: cfg.keyMin, max: cfg.keyMax };
    this.keys = new KeySource(this.prng, range, cfg.keyStddev, cfg.keyMedian, w.iterators);
    this.steps = w.steps;
    this.stepLeft = this.steps[0].count;
    this.scratch = Buffer.alloc(Buffer.byteLength(cfg.keyPrefix) + 1024);
  }

  // ---- setup -------------------------------------------------------------

  /** Connects (cluster mode: and fetches the slot map); rejects if that fails, as memtier aborts the test. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.setupWaiter = { resolve, reject };
      const { host, port } = this.env.target;
      this.known.add(`${host}:${port}`);
      const seed = this.connFor(host, port);
      if (this.cfg.cluster) this.send(seed, SLOTS, CLUSTER_SLOTS, performance.now());
      else this.single = seed;
    });
  }

  private setupDone(): void {
    const w = this.setupWaiter;
    this.setupWaiter = null;
    w?.resolve();
  }

  private setupFailed(message: string): void {
    const w = this.setupWaiter;
    this.setupWaiter = null;
    this.close();
    w?.reject(new Error(message));
  }

  /** Starts sending; a --test-time run stops generating at `deadline` (performance.now() time). */
  start(deadline: number): void {
    this.phase = 'run';
    this.deadline = deadline;
    this.startedAt = performance.now();
    this.pump();
  }

  // ---- connections -------------------------------------------------------

  private connFor(host: string, port: number): Conn {
    const addr = `${host}:${port}`;
    let c = this.conns.get(addr);
    if (!c) {
      c = new Conn(host, port, this, this.cfg.pipeline + 4);
      this.conns.set(addr, c);
      c.open(this.env.setup, this.env.setupReplies);
    }
    c.retired = false;
    return c;
  }

  /** Sends one control command now. */
  private send(conn: Conn, kind: number, bytes: Buffer, now: number): void {
    conn.reserve(bytes.length);
    const from = conn.written;
    bytes.copy(conn.slab, from);
    conn.written += bytes.length;
    conn.push(kind, 0, bytes.length, from, -1);
    conn.flush(now);
  }

  private markDirty(conn: Conn): void {
    if (conn.dirty) return;
    conn.dirty = true;
    this.dirty.push(conn);
  }

  private flushDirty(now: number): void {
    for (let i = 0; i < this.dirty.length; i++) {
      const c = this.dirty[i];
      c.dirty = false;
      if (c.state === 'connecting' || c.state === 'ready') c.flush(now);
    }
    this.dirty.length = 0;
  }

  onConnected(conn: Conn): void {
    if (this.setupWaiter && conn === this.single && conn.inflight === 0) this.setupDone();
  }

  // ---- generating requests -------------------------------------------------

  /** Draws the next request: memtier's ratio cycle, the step's key pattern, the expiry. */
  private prepare(): void {
    if (this.stepLeft === 0) {
      this.stepIdx = this.stepIdx + 1 === this.steps.length ? 0 : this.stepIdx + 1;
      this.stepLeft = this.steps[this.stepIdx].count;
    }
    this.stepLeft--;
    const step = (this.heldStep = this.steps[this.stepIdx]);
    let t = step.template;
    this.heldKey = t.keyParts > 0 ? this.keys.index(step.pattern, step.iterator) : 0;
    this.heldExpiry = 0;
    if (step.withExpiry) {
      // memtier's get_expiry: a value in the range, and SETEX instead of SET when it is not 0.
      const { min, max } = this.cfg.expiryRange;
      this.heldExpiry = this.prng.range(min, max);
      if (this.heldExpiry > 0) t = step.withExpiry;
    }
    this.heldTemplate = t;
    this.heldSlot = -1;
    if (this.cfg.cluster && t.routingKey) {
      const end = writeKeyBytes(t.routingKey, this.scratch, 0, this.heldKey);
      this.heldSlot = keySlot(this.scratch, 0, end);
    }
    this.held = true;
  }

  nextKeyIndex(): number {
    return this.keys.index(this.heldStep.pattern, this.heldStep.iterator);
  }

  nextDataSize(): number {
    const r = this.cfg.dataSizeRange;
    // memtier's get_value: random_range(max(min, 1), max) per value.
    return r ? this.prng.range(r.min, r.max) : this.cfg.dataSize;
  }

  /** The connection for the held request, or null when no node serves its slot. */
  private route(): Conn | null {
    if (this.single) return this.single;
    if (this.heldSlot >= 0) return this.slotConn[this.heldSlot] ?? null;
    // A command without __key__ goes to any master, in turn.
    if (this.masters.length === 0) return null;
    const c = this.masters[this.nextMaster % this.masters.length];
    this.nextMaster++;
    return c;
  }

  private writeHeld(conn: Conn): void {
    const t = this.heldTemplate;
    conn.reserve(t.maxBytes);
    const from = conn.written;
    const end = writeRequest(t, conn.slab, from, this.heldKey, this.heldExpiry, this);
    conn.written = end;
    conn.push(this.heldStep.row, this.heldStep.countsHits ? COUNTS_HITS : 0, end - from, from, -1);
    this.markDirty(conn);
    this.held = false;
    this.generated++;
  }

  /** Fills the pipelines: writes requests until the next one's connection is full, down or missing, then flushes. */
  pump(): void {
    if (this.phase !== 'run' || this.pumping) return;
    this.pumping = true;
    const now = performance.now();
    const { requests, pipeline } = this.cfg;
    try {
      for (;;) {
        if (requests > 0) {
          if (this.generated >= requests) break;
        } else if (now >= this.deadline) {
          this.stopped = true;
          break;
        }
        if (now < this.pausedUntil) {
          this.wake(this.pausedUntil);
          break;
        }
        // --rate-limiting: request n goes out no earlier than n / rate seconds after the start.
        const rate = this.cfg.rateLimit;
        if (rate > 0) {
          const due = this.startedAt + (this.generated * 1000) / rate;
          if (now < due) {
            this.wake(due);
            break;
          }
        }
        if (!this.held) this.prepare();
        const conn = this.route();
        if (conn === null) {
          this.noRoute(now);
          continue;
        }
        if (conn.state === 'down') {
          if (now < conn.retryAt) {
            this.wake(conn.retryAt);
            break;
          }
          conn.open(this.env.setup, this.env.setupReplies);
        }
        if (this.cfg.pipelineBatch) {
          // redis-benchmark's -P: a batch of --pipeline requests, then nothing until all of it is answered.
          if (conn.inflight === 0) conn.batchLeft = pipeline;
          if (conn.batchLeft === 0) break;
          conn.batchLeft--;
        } else if (conn.inflight >= pipeline) {
          break;
        }
        this.writeHeld(conn);
      }
    } finally {
      this.pumping = false;
    }
    this.flushDirty(now);
    this.checkDone();
  }

  /** No node serves the held request's slot: it fails, the map is fetched again, and the client pauses briefly. */
  private noRoute(now: number): void {
    this.held = false;
    this.generated++;
    this.processed++;
    this.env.stats.unanswered(this.heldStep.row, false, now);
    this.pausedUntil = now + NO_ROUTE_PAUSE_MS;
    this.refresh(null, now);
  }

  private wake(at: number): void {
    if (this.wakeTimer && this.wakeAt <= at) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.pump();
    }, Math.max(0, at - performance.now()));
  }

  // ---- replies -------------------------------------------------------------

  onReply(conn: Conn, slot: number, buf: Buffer, start: number, end: number, now: number): void {
    const row = conn.pRow[slot];
    if (row < 0) {
      this.controlReply(conn, row, slot, buf, start, end, now);
      return;
    }
    // Read the entry before anything is sent on this connection (the slot may be reused).
    const flags = conn.pFlags[slot];
    const sent = conn.pStart[slot];
    const reqBytes = conn.pBytes[slot];
    const reqSlab = conn.pSlab[slot];
    const reqOff = conn.pOff[slot];
    conn.pSlab[slot] = null;
    const stats = this.env.stats;
    const bytes = reqBytes + (end - start);
    const type = buf[start];
    if (type === 0x2d || type === 0x21) {
      const msg = errorText(buf, start, end);
      if (!this.cfg.cluster) {
        stats.reply(row, Outcome.ErrorReply, sent, now, bytes);
      } else if (msg.startsWith('MOVED ')) {
        stats.reply(row, Outcome.Moved, sent, now, bytes);
        this.refresh(conn, now);
      } else if (msg.startsWith('ASK ')) {
        if ((flags & ASK_FOLLOWED) === 0 && reqSlab && this.followAsk(msg, row, flags, sent, reqSlab, reqOff, reqBytes, now)) {
          stats.askFollowed(row, now);
          return; // the request goes on; it is done when the target answers
        }
        stats.reply(row, Outcome.Ask, sent, now, bytes);
      } else {
        stats.reply(row, Outcome.ErrorReply, sent, now, bytes);
        if (msg.startsWith('CLUSTERDOWN')) this.refresh(null, now);
      }
    } else {
      stats.reply(row, (flags & COUNTS_HITS) === 0 ? Outcome.Ok : isHit(buf, start) ? Outcome.Hit : Outcome.Miss, sent, now, bytes);
    }
    this.processed++;
    this.answeredSinceProgress++;
  }

  /** Sends ASKING and the request again to the node an ASK names; false if that node cannot be reached now. */
  private followAsk(msg: string, row: number, flags: number, sent: number, slab: Buffer, off: number, len: number, now: number): boolean {
    const m = /^ASK \d+ (.+):(\d+)$/.exec(msg);
    if (!m) return false;
    const target = this.connFor(m[1], Number(m[2]));
    if (target.state === 'down') {
      if (now < target.retryAt) return false;
      target.open(this.env.setup, this.env.setupReplies);
    }
    target.pushCopy(ASKING, 0, ASKING_CMD, 0, ASKING_CMD.length, -1);
    target.pushCopy(row, flags | ASK_FOLLOWED, slab, off, len, sent);
    this.markDirty(target);
    return true;
  }

  private controlReply(conn: Conn, kind: number, slot: number, buf: Buffer, start: number, end: number, now: number): void {
    conn.pSlab[slot] = null;
    const type = buf[start];
    const isError = type === 0x2d || type === 0x21;
    if (kind === SETUP) {
      if (isError) {
        const msg = `setup command failed on ${conn.addr}: ${errorText(buf, start, end)}`;
        if (this.setupWaiter) this.setupFailed(msg);
        else conn.fail('setup', msg);
        return;
      }
      if (this.setupWaiter && conn === this.single && conn.inflight === 0 && conn.state === 'ready') this.setupDone();
    } else if (kind === SLOTS) {
      const reply = parseReply(buf, start);
      const ok = this.applySlots(reply, conn);
      if (conn === this.refreshConn) {
        this.refreshConn = null;
        conn.close();
      }
      if (this.setupWaiter) {
        if (ok) this.setupDone();
        else this.setupFailed(`CLUSTER SLOTS from ${conn.addr}: unusable reply ${describe(reply)}`);
        return;
      }
      this.refreshDone(ok, now);
    }
    // ASKING: its +OK is only read past; an error shows up in the request's own reply.
  }

  onReadDone(conn: Conn, now: number): void {
    if (this.answeredSinceProgress > 0) {
      this.env.progress(this.answeredSinceProgress);
      this.answeredSinceProgress = 0;
    }
    if (conn.retired && conn.inflight === 0) this.dropConn(conn);
    if (this.phase === 'run') this.pump();
    else if (this.phase === 'setup') this.flushDirty(now);
  }

  // ---- failures ----------------------------------------------------------

  onFailure(conn: Conn, reason: FailReason, message: string, now: number): void {
    if (this.setupWaiter) {
      this.setupFailed(`cannot connect: ${message}`);
      return;
    }
    if (this.phase === 'done') return;
    const stats = this.env.stats;
    stats.connectionError(now);
    const timeoutMs = this.cfg.requestTimeoutMs;
    let refreshLost = false;
    for (let k = conn.head; k < conn.tail; k++) {
      const slot = conn.slotOf(k);
      const row = conn.pRow[slot];
      if (row >= 0) {
        stats.unanswered(row, reason === 'timeout' && now - conn.pStart[slot] >= timeoutMs, now);
        this.processed++;
      } else if (row === SLOTS) {
        refreshLost = true;
      }
    }
    conn.clearInflight();
    if (conn === this.refreshConn) {
      this.refreshConn = null;
      conn.close();
    } else if (conn.retired) {
      this.dropConn(conn);
    }
    if (this.cfg.cluster) {
      if (refreshLost) this.refreshDone(false, now);
      this.refresh(null, now);
    }
    this.pump();
  }

  /** Every connection with requests in flight (for the --request-timeout check). */
  *connections(): Iterable<Conn> {
    yield* this.conns.values();
    if (this.refreshConn) yield this.refreshConn;
  }

  // ---- the slot map ------------------------------------------------------

  /**
   * Fetches CLUSTER SLOTS again: on `preferred` (the connection a MOVED came
   * from, as memtier does), else on the data connection that answered last,
   * else on a new connection to the next known node.
   */
  private refresh(preferred: Conn | null, now: number): void {
    if (this.phase !== 'run') return;
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    const wait = this.lastRefreshDone + MIN_REFRESH_INTERVAL_MS - now;
    if (wait > 0) {
      this.refreshTimer ??= setTimeout(() => {
        this.refreshTimer = null;
        this.refresh(null, performance.now());
      }, wait);
      return;
    }
    this.refreshing = true;
    this.refreshDeadline = now + Math.max(1000, this.cfg.requestTimeoutMs);
    let via = preferred && preferred.state === 'ready' ? preferred : null;
    if (!via) {
      for (const c of this.conns.values()) if (c.state === 'ready' && (!via || c.lastReplyAt > via.lastReplyAt)) via = c;
    }
    if (!via) {
      const addrs = [...this.known];
      const addr = addrs[this.nextKnown++ % addrs.length];
      const colon = addr.lastIndexOf(':');
      via = this.refreshConn = new Conn(addr.slice(0, colon), Number(addr.slice(colon + 1)), this, 4);
      via.open(this.env.setup, this.env.setupReplies);
    }
    this.send(via, SLOTS, CLUSTER_SLOTS, now);
  }

  /**
   * A CLUSTER SLOTS unanswered for 1 s (or --request-timeout, if longer) is
   * given up and asked elsewhere, so that a frozen node cannot stall the
   * slot map even without --request-timeout.
   */
  checkRefresh(now: number): void {
    if (!this.refreshing || now < this.refreshDeadline) return;
    if (this.refreshConn) this.refreshConn.fail('timeout', `CLUSTER SLOTS unanswered by ${this.refreshConn.addr}`);
    else this.refreshDone(false, now);
  }

  private refreshDone(ok: boolean, now: number): void {
    this.refreshing = false;
    this.lastRefreshDone = now;
    if (this.refreshAgain || !ok) {
      this.refreshAgain = false;
      this.refresh(null, now);
    }
  }

  /** Maps slots to connections from a CLUSTER SLOTS reply; false if the reply maps nothing. */
  private applySlots(reply: Reply, from: Conn): boolean {
    if (!Array.isArray(reply) || reply.length === 0) return false;
    const used = new Set<Conn>();
    this.slotConn.fill(undefined);
    for (const range of reply) {
      if (!Array.isArray(range) || range.length < 3 || !Array.isArray(range[2])) continue;
      const [start, end] = range as number[];
      for (const node of range.slice(2)) {
        if (Array.isArray(node) && node.length >= 2) this.known.add(`${nodeHost(node[0], from)}:${Number(node[1])}`);
      }
      const master = range[2] as Reply[];
      const conn = this.connFor(nodeHost(master[0], from), Number(master[1]));
      used.add(conn);
      for (let s = Number(start); s <= Number(end); s++) this.slotConn[s] = conn;
    }
    if (used.size === 0) return false;
    this.masters = [...used];
    // memtier closes a connection left without slots; one with requests in flight closes once they are answered.
    for (const c of [...this.conns.values()]) {
      if (used.has(c)) continue;
      if (c.inflight === 0) this.dropConn(c);
      else c.retired = true;
    }
    return true;
  }

  private dropConn(conn: Conn): void {
    conn.close();
    this.conns.delete(conn.addr);
  }

  // ---- the end -------------------------------------------------------------

  private checkDone(): void {
    if (this.phase !== 'run') return;
    const finished = this.cfg.requests > 0 ? this.processed >= this.cfg.requests : this.stopped && this.processed === this.generated;
    if (finished) this.finish();
  }

  /** The test time is over: no more requests; done when the ones in flight are answered. */
  stop(): void {
    this.stopped = true;
    this.checkDone();
  }

  /** Ends now: what is still in flight counts as timed out (unanswered when the run ended). */
  forceFinish(now: number): void {
    if (this.phase !== 'run') return;
    for (const conn of this.conns.values()) {
      for (let k = conn.head; k < conn.tail; k++) {
        const slot = conn.slotOf(k);
        if (conn.pRow[slot] >= 0) {
          this.env.stats.unanswered(conn.pRow[slot], true, now);
          this.processed++;
        }
      }
      conn.clearInflight();
    }
    this.finish();
  }

  private finish(): void {
    if (this.answeredSinceProgress > 0) {
      this.env.progress(this.answeredSinceProgress);
      this.answeredSinceProgress = 0;
    }
    this.phase = 'done';
    this.close();
    this.env.done(this);
  }

  close(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.wakeTimer = this.refreshTimer = null;
    for (const c of this.conns.values()) c.close();
    this.refreshConn?.close();
    this.refreshConn = null;
  }
}

/** A CLUSTER SLOTS host; an empty one (a node that never met a peer) means the node that answered. */
function nodeHost(h: Reply, from: Conn): string {
  const host = Buffer.isBuffer(h) ? h.toString() : String(h);
  return host === '' || host === '?' ? from.host : host;
}

function describe(r: Reply): string {
  if (r instanceof Object && 'message' in r) return `-${r.message}`;
  return JSON.stringify(r, (_k, v) => (v && v.type === 'Buffer' ? Buffer.from(v.data).toString() : v));
}
