/**
 * The master side of replication, on the coordinator: drains the workers'
 * ReplicationLog into the replication stream, keeps the backlog
 * (repl-backlog-size), answers PSYNC with a partial or a full
 * synchronisation, tracks each replica's acknowledged offset and serves WAIT.
 *
 * A full synchronisation sends every shard's snapshot while the master keeps
 * serving: each shard is read under its own lock only, by a background
 * thread, with the log's entry count at that moment; the replica skips the
 * stream entries its snapshot already holds (see ReplicaLink).
 */
import crypto from 'node:crypto';
import { ReplicationLog, forEachEntry, ENTRY_HEADER_BYTES } from './replication-log.js';
import { functionsFrame, snapshotEndFrame, snapshotFrame, streamFrame, writeStreamHead, frame, FrameKind, FRAME_HEADER_BYTES, STREAM_HEAD_BYTES } from './link-frames.js';

export interface SnapshotResult {
  chunks: Uint8Array[];
  /** The log's entry count (mod 2^32) when the shard was read. */
  entries: number;
  records: number;
}

export interface MasterEnvironment {
  readonly log: ReplicationLog;
  readonly shardCount: number;
  /** Writes bytes to a replica's connection (on the worker that serves it). */
  send(worker: number, clientId: number, data: Buffer): void;
  /** Closes a replica's connection. */
  close(worker: number, clientId: number): void;
  /** Reads one shard on a background thread; `begin` first closes the multi-shard write gate (the log's endSnapshot opens it). */
  snapshot(shard: number, begin: boolean): Promise<SnapshotResult>;
  backlogSize(): number;
  /** The node's function libraries (sent first in a full synchronisation, as an RDB holds them). */
  functionCodes(): Uint8Array[];
  log_(level: 'notice' | 'warning' | 'verbose', message: string): void;
}

interface BacklogFrame {
  firstSeq: number;
  firstOffset: number;
  endOffset: number;
  /** The Stream frame as the replicas got it: a partial resync from its start sends it again as it is. */
  wire: Buffer;
  /** Its log entries (a view into wire). */
  entries: Buffer;
}

type ReplicaState = 'wait_bgsave' | 'send_bulk' | 'online';

export interface ReplicaRecord {
  readonly worker: number;
  readonly clientId: number;
  readonly ip: string;
  port: number;
  state: ReplicaState;
  ackOffset: number;
  ackTime: number;
  /** Stream frames held back while the snapshot is sent. */
  pending: Buffer[] | null;
}

interface Waiter {
  target: number;
  needed: number;
  resolve: (acked: number) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The longest a write waits in the log before it is sent to the replicas
 * (ms). Each drain costs about five thread wake-ups between the master and a
 * replica (coordinator, worker, replica link, applying worker and back), so
 * under load they are limited to 200 a second. Measured on a 3+3 cluster
 * (redis-benchmark --cluster SET, 2 cores): 1 ms 38k ops/s, 5 ms 47k, 20 ms
 * 53k, no replicas 66k. WAIT and PSYNC drain at once.
 */
const DRAIN_INTERVAL_MS = 5;

export function newReplicationId(): string {
  return crypto.randomBytes(20).toString('hex');
}

export class ReplicationMaster {
  replid = newReplicationId();
  replid2 = '0'.repeat(40);
  /** master_repl_offset: bytes of RESP commands in the stream so far. */
  offset = 0;
  secondOffset = -1;
  /** Entries taken from the log so far (their cumulative numbers). */
  private consumedEntries = 0;
  private backlog: BacklogFrame[] = [];
  private backlogBytes = 0;
  backlogActive = false;
  readonly replicas = new Map<number, ReplicaRecord>();
  private waiters: Waiter[] = [];
  private draining = false;
  private stopped = false;

  constructor(private readonly env: MasterEnvironment) {}

  /**
   * Starts draining the log whenever a worker appends to it, at most once per
   * DRAIN_INTERVAL_MS: a drain is a frame to every replica (a message to a
   * worker, a write, and an apply on the replica), so under load each one
   * should carry many writes.
   */
  start(): void {
    if (this.draining) return;
    this.draining = true;
    void (async () => {
      while (!this.stopped) {
        await this.env.log.waitForEntries();
        await new Promise((resolve) => setTimeout(resolve, DRAIN_INTERVAL_MS));
        if (this.stopped) break;
        this.env.log.clearNotify();
        this.drainNow();
      }
    })();
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.waiters) this.finishWait(w);
  }

  /** A new history (becoming a master after being a replica): replid2 keeps the old one, as shiftReplicationId does. */
  shiftReplicationId(previousId: string, previousOffset: number): void {
    this.replid2 = previousId;
    this.secondOffset = previousOffset + 1;
    this.replid = newReplicationId();
    this.offset = previousOffset;
    this.backlog = [];
    this.backlogBytes = 0;
  }

  /** Moves everything appended so far into the stream, the backlog and the replicas. */
  drainNow(): void {
    const log = this.env.log;
    const headroom = FRAME_HEADER_BYTES + STREAM_HEAD_BYTES;
    const wire = log.drain(headroom);
    if (wire === null) return;
    const entries = log.drainedEntries;
    // The stream's offset counts the RESP commands, not the log's entry headers.
    const bytes = wire.length - headroom - entries * ENTRY_HEADER_BYTES;
    const f: BacklogFrame = { firstSeq: this.consumedEntries, firstOffset: this.offset, endOffset: this.offset + bytes, wire, entries: wire.subarray(headroom) };
    // The drained buffer is the frame sent to every replica: no copy.
    writeStreamHead(wire, 0, f.firstSeq, f.firstOffset, f.endOffset, f.entries.length);
    this.consumedEntries += entries;
    this.offset += bytes;
    this.backlog.push(f);
    this.backlogBytes += bytes;
    const limit = Math.max(16 * 1024, this.env.backlogSize());
    while (this.backlog.length > 1 && this.backlogBytes - (this.backlog[0].endOffset - this.backlog[0].firstOffset) >= limit) {
      const gone = this.backlog.shift()!;
      this.backlogBytes -= gone.endOffset - gone.firstOffset;
    }
    for (const r of this.replicas.values()) {
      if (r.pending !== null) r.pending.push(wire);
      else this.env.send(r.worker, r.clientId, wire);
    }
    if (this.waiters.length > 0) this.checkWaiters();
  }

  /** The log's entry count read by a snapshot, as a cumulative entry number. */
  private cumulative(entries: number): number {
    return this.consumedEntries + ((entries - (this.consumedEntries >>> 0)) | 0);
  }

  get backlogFirstByte(): number {
    return this.backlog.length > 0 ? this.backlog[0].firstOffset + 1 : this.offset + 1;
  }

  get backlogHistlen(): number {
    return this.backlogBytes;
  }

  /**
   * PSYNC <replid> <offset> from a replica's connection: the reply line, after
   * which the stream (or a snapshot and the stream) follows on that connection.
   */
  psync(worker: number, clientId: number, ip: string, port: number, replid: string, requested: number): string {
    this.enableBacklog();
    this.drainNow();
    const record: ReplicaRecord = { worker, clientId, ip, port, state: 'wait_bgsave', ackOffset: 0, ackTime: Date.now(), pending: [] };
    this.replicas.set(clientId, record);
    const from = requested - 1;
    const known = replid === this.replid || (replid === this.replid2 && from < this.secondOffset);
    if (known && from >= this.backlogFirstByte - 1 && from <= this.offset) {
      this.env.log_('notice', `Partial resynchronization request from ${ip}:${port} accepted. Sending ${this.offset - from} bytes of backlog starting from offset ${requested}.`);
      record.ackOffset = from;
      const backlog = this.backlogFrom(from);
      record.pending = null;
      record.state = 'online';
      queueMicrotask(() => {
        for (const b of backlog) this.env.send(worker, clientId, b);
      });
      return `+CONTINUE ${this.replid}`;
    }
    if (replid !== '?') {
      this.env.log_('notice', `Partial resynchronization not accepted: ${known ? `requested offset ${requested} outside the backlog` : `Replication ID mismatch (Replica asked for '${replid}', my replication IDs are '${this.replid}' and '${this.replid2}')`}`);
    }
    this.env.log_('notice', `Full resync requested by replica ${ip}:${port}`);
    const start = this.offset;
    void this.fullSync(record);
    return `+FULLRESYNC ${this.replid} ${start}`;
  }

  /** Creates the backlog and starts taking the write stream (the first replica, or a promotion). */
  enableBacklog(): void {
    if (this.backlogActive) return;
    this.backlogActive = true;
    this.env.log.setActive(true);
    this.start();
    this.env.log_('notice', 'Replication backlog created, my new replication IDs are \'' + this.replid + '\' and \'' + this.replid2 + '\'');
  }

  /** Stream frames covering (from, offset], starting at an entry boundary. */
  private backlogFrom(from: number): Buffer[] {
    const out: Buffer[] = [];
    for (const f of this.backlog) {
      if (f.endOffset <= from) continue;
      if (f.firstOffset >= from) {
        out.push(f.wire);
        continue;
      }
      // The frame holds the resume point: skip its entries up to there.
      let seq = f.firstSeq;
      let offset = f.firstOffset;
      let cut = -1;
      forEachEntry(f.entries, (_s, _d, start, end) => {
        if (cut >= 0) return;
        if (offset >= from) {
          cut = start - ENTRY_HEADER_BYTES;
          return;
        }
        seq++;
        offset += end - start;
      });
      if (cut >= 0) out.push(streamFrame(seq, offset, f.endOffset, f.entries.subarray(cut)));
    }
    return out;
  }

  private async fullSync(record: ReplicaRecord): Promise<void> {
    const { env } = this;
    const started = Date.now();
    record.state = 'send_bulk';
    let keys = 0;
    // Whether this sync holds the multi-shard write gate closed: it is opened
    // again after the last shard, or however the sync ends (a replica that
    // vanishes mid-sync must not leave multi-shard writes waiting forever).
    let gateClosed = false;
    // The libraries as they are now: a FUNCTION command from here on is in the stream that follows the snapshot.
    env.send(record.worker, record.clientId, functionsFrame(env.functionCodes()));
    try {
      for (let s = 0; s < env.shardCount; s++) {
        const result = await env.snapshot(s, s === 0);
        gateClosed = true;
        if (s === env.shardCount - 1) {
          env.log.endSnapshot();
          gateClosed = false;
        }
        if (this.replicas.get(record.clientId) !== record) return;
        const seq = this.cumulative(result.entries);
        keys += result.records;
        if (result.chunks.length === 0) env.send(record.worker, record.clientId, snapshotFrame(s, seq, new Uint8Array(0)));
        for (const chunk of result.chunks) env.send(record.worker, record.clientId, snapshotFrame(s, seq, chunk));
      }
    } catch (e) {
      env.log_('warning', `Full synchronization with replica ${record.ip}:${record.port} failed: ${(e as Error).message}`);
      env.close(record.worker, record.clientId);
      this.replicaClosed(record.clientId);
      return;
    } finally {
      if (gateClosed) env.log.endSnapshot();
    }
    env.send(record.worker, record.clientId, snapshotEndFrame(env.shardCount));
    const pending = record.pending ?? [];
    record.pending = null;
    for (const p of pending) env.send(record.worker, record.clientId, p);
    record.state = 'online';
    env.log_('notice', `Synchronization with replica ${record.ip}:${record.port} succeeded (${keys} keys in ${Date.now() - started} ms)`);
  }

  /** REPLCONF ACK <offset> from a replica. */
  ack(clientId: number, offset: number): void {
    const r = this.replicas.get(clientId);
    if (!r) return;
    if (offset > r.ackOffset) r.ackOffset = offset;
    r.ackTime = Date.now();
    if (this.waiters.length > 0) this.checkWaiters();
  }

  replicaClosed(clientId: number): void {
    const r = this.replicas.get(clientId);
    if (!r) return;
    this.replicas.delete(clientId);
    this.env.log_('notice', `Connection with replica ${r.ip}:${r.port} lost.`);
  }

  /** Closes every replica connection (this node stops being a master). */
  dropReplicas(): void {
    for (const r of this.replicas.values()) this.env.close(r.worker, r.clientId);
    this.replicas.clear();
  }

  /** Sends a heartbeat to every replica (every second). */
  heartbeat(): void {
    const ping = frame(FrameKind.Ping, null, null);
    for (const r of this.replicas.values()) if (r.pending === null) this.env.send(r.worker, r.clientId, ping);
  }

  private acked(target: number): number {
    let n = 0;
    for (const r of this.replicas.values()) if (r.state === 'online' && r.ackOffset >= target) n++;
    return n;
  }

  /** WAIT numreplicas timeout: the number of replicas that acknowledged every write so far. */
  wait(needed: number, timeoutMs: number): Promise<number> {
    this.drainNow();
    const target = this.offset;
    const now = this.acked(target);
    if (now >= needed) return Promise.resolve(now);
    return new Promise((resolve) => {
      const w: Waiter = { target, needed, resolve, timer: undefined };
      if (timeoutMs > 0) w.timer = setTimeout(() => this.finishWait(w), timeoutMs);
      this.waiters.push(w);
      // replicationRequestAckFromSlaves: ask every replica for its offset now.
      const getack = frame(FrameKind.GetAck, null, null);
      for (const r of this.replicas.values()) if (r.pending === null) this.env.send(r.worker, r.clientId, getack);
    });
  }

  private checkWaiters(): void {
    for (const w of [...this.waiters]) if (this.acked(w.target) >= w.needed) this.finishWait(w);
  }

  private finishWait(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    if (w.timer) clearTimeout(w.timer);
    w.resolve(this.acked(w.target));
  }
}
