/**
 * The write stream on its way out of the workers: one ring buffer in a
 * SharedArrayBuffer that every worker appends to and the coordinator drains.
 *
 * A worker appends a command's effect while it still holds the shard locks
 * the command took, so two writes to the same key reach the ring in the
 * order they were executed: the ring's order is a valid replication order.
 * Each entry is tagged with the shard it touched (or MULTI_SHARD), and the
 * ring counts entries; a snapshot of a shard records that count under the
 * shard's lock, which tells a replica which entries the snapshot already
 * contains (see ReplicaLink).
 *
 * Entry: u32 total length · u16 shard · u8 database · u8 reserved · RESP
 * command (Redis's replication stream form).
 */

/** Header words (Int32). */
const W_LOCK = 0;
/** 1 once a replica (or the backlog) wants the stream; writers skip everything while 0. */
const W_ACTIVE = 1;
/** Byte position of the next write, modulo 2^32. */
const W_TAIL = 2;
/** Byte position of the next read, modulo 2^32 (the coordinator's). */
const W_HEAD = 3;
/** Entries appended, modulo 2^32. */
const W_ENTRIES = 4;
/** Set by a writer, cleared by the coordinator: there is something to drain. */
const W_NOTIFY = 5;
/** Full synchronisations snapshotting the shards (a count: several replicas may sync at once); multi-shard writes wait while > 0. */
const W_SNAPSHOT = 6;
/** Multi-shard writes in progress. */
const W_MULTI_WRITERS = 7;
/** 1 while client writes are paused (CLUSTER FAILOVER, CLIENT PAUSE WRITE). */
const W_WRITES_PAUSED = 8;
const HEADER_BYTES = 64;

export const ENTRY_HEADER_BYTES = 8;
/** Shard tag of an entry that touched several shards (or all of them). */
export const MULTI_SHARD = 0xffff;

const DEFAULT_CAPACITY = 16 << 20;
/** A write waiting at the snapshot gate looks again at least this often (ms). */
const GATE_RECHECK_MS = 50;
/** Copies up to this many bytes are made byte by byte: a subarray for each would be an allocation per write. */
const SHORT_COPY = 128;

/** Copies src[from, from + n) to dst at `at` (a short run by hand, a long one through a subarray). */
export function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, from: number, n: number): void {
  if (n <= SHORT_COPY) {
    for (let i = 0; i < n; i++) dst[at + i] = src[from + i];
  } else {
    dst.set(src.subarray(from, from + n), at);
  }
}

export function allocateReplicationLog(capacity = DEFAULT_CAPACITY): SharedArrayBuffer {
  if ((capacity & (capacity - 1)) !== 0) throw new Error('replication log capacity must be a power of two');
  return new SharedArrayBuffer(HEADER_BYTES + capacity);
}

export class ReplicationLog {
  readonly header: Int32Array;
  readonly data: Uint8Array;
  private readonly mask: number;
  readonly capacity: number;
  /** Atomics.wait is refused on the main thread: there the lock only spins. */
  canWait = true;

  constructor(readonly sab: SharedArrayBuffer) {
    this.header = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.data = new Uint8Array(sab, HEADER_BYTES);
    this.capacity = this.data.length;
    this.mask = this.capacity - 1;
  }

  get active(): boolean {
    return Atomics.load(this.header, W_ACTIVE) === 1;
  }

  setActive(on: boolean): void {
    Atomics.store(this.header, W_ACTIVE, on ? 1 : 0);
  }

  /** Entries appended so far, modulo 2^32 (read under a shard lock by snapshots). */
  entriesAppended(): number {
    return Atomics.load(this.header, W_ENTRIES) >>> 0;
  }

  // ---- writers (workers) ----

  /**
   * Appends one entry; `resp` holds the command in RESP form. Waits for room
   * when the coordinator has fallen a whole ring behind.
   */
  append(shard: number, db: number, resp: Uint8Array, length: number): void {
    const total = ENTRY_HEADER_BYTES + length;
    if (total > this.capacity) throw new Error(`a replicated command of ${length} bytes exceeds the replication log (${this.capacity} bytes)`);
    const h = this.header;
    for (;;) {
      this.lock();
      const tail = h[W_TAIL] >>> 0;
      const used = (tail - (Atomics.load(h, W_HEAD) >>> 0)) >>> 0;
      if (this.capacity - used >= total) {
        this.writeAt(tail, total, shard, db, resp, length);
        Atomics.store(h, W_TAIL, (tail + total) | 0);
        Atomics.store(h, W_ENTRIES, (h[W_ENTRIES] + 1) | 0);
        this.unlock();
        break;
      }
      this.unlock();
      this.wake();
      // The coordinator drains on its next turn; wait for the head to move.
      const head = Atomics.load(h, W_HEAD);
      if (this.canWait) Atomics.wait(h, W_HEAD, head, 10);
    }
    this.wake();
  }

  private writeAt(tail: number, total: number, shard: number, db: number, resp: Uint8Array, length: number): void {
    const d = this.data;
    const mask = this.mask;
    let p = tail & mask;
    d[p] = total & 0xff;
    d[(p + 1) & mask] = (total >>> 8) & 0xff;
    d[(p + 2) & mask] = (total >>> 16) & 0xff;
    d[(p + 3) & mask] = total >>> 24;
    d[(p + 4) & mask] = shard & 0xff;
    d[(p + 5) & mask] = shard >>> 8;
    d[(p + 6) & mask] = db;
    d[(p + 7) & mask] = 0;
    p = (p + ENTRY_HEADER_BYTES) & mask;
    const first = Math.min(length, this.capacity - p);
    copyBytes(d, p, resp, 0, first);
    if (first < length) copyBytes(d, 0, resp, first, length - first);
  }

  /** Tells the coordinator there is something to drain (once per drain). */
  private wake(): void {
    if (Atomics.compareExchange(this.header, W_NOTIFY, 0, 1) === 0) Atomics.notify(this.header, W_NOTIFY);
  }

  private lock(): void {
    const h = this.header;
    for (let spin = 0; Atomics.compareExchange(h, W_LOCK, 0, 1) !== 0; spin++) {
      if (spin > 100 && this.canWait) Atomics.wait(h, W_LOCK, 1, 1);
    }
  }

  private unlock(): void {
    Atomics.store(this.header, W_LOCK, 0);
    Atomics.notify(this.header, W_LOCK, 1);
  }

  // ---- the snapshot gate ----

  /**
   * A write about to lock several shards: it may go on (null) unless a
   * snapshot is being taken, so that such a write lands wholly before or
   * wholly after it. Then the promise resolves when the gate may have
   * opened, and the write tries again; its thread serves other clients
   * meanwhile.
   */
  tryEnterMultiShardWrite(): Promise<void> | null {
    const h = this.header;
    let syncs = Atomics.load(h, W_SNAPSHOT);
    if (syncs === 0) {
      Atomics.add(h, W_MULTI_WRITERS, 1);
      syncs = Atomics.load(h, W_SNAPSHOT);
      if (syncs === 0) return null;
      this.leaveMultiShardWrite();
    }
    const r = Atomics.waitAsync(h, W_SNAPSHOT, syncs, GATE_RECHECK_MS);
    return r.async ? r.value.then(() => undefined) : Promise.resolve();
  }

  leaveMultiShardWrite(): void {
    if (Atomics.sub(this.header, W_MULTI_WRITERS, 1) === 1) Atomics.notify(this.header, W_MULTI_WRITERS);
  }

  /** The snapshot side (a background thread that may wait): closes the gate and waits for writes in flight. */
  beginSnapshot(): void {
    const h = this.header;
    Atomics.add(h, W_SNAPSHOT, 1);
    for (let n = Atomics.load(h, W_MULTI_WRITERS); n !== 0; n = Atomics.load(h, W_MULTI_WRITERS)) Atomics.wait(h, W_MULTI_WRITERS, n, 50);
  }

  endSnapshot(): void {
    if (Atomics.sub(this.header, W_SNAPSHOT, 1) === 1) Atomics.notify(this.header, W_SNAPSHOT);
  }

  // ---- write pause ----

  get writesPaused(): boolean {
    return Atomics.load(this.header, W_WRITES_PAUSED) === 1;
  }

  setWritesPaused(on: boolean): void {
    Atomics.store(this.header, W_WRITES_PAUSED, on ? 1 : 0);
    if (!on) Atomics.notify(this.header, W_WRITES_PAUSED);
  }

  /** While writes are paused: resolves when they resume; otherwise null. */
  whenWritesResume(): Promise<void> | null {
    if (Atomics.load(this.header, W_WRITES_PAUSED) === 0) return null;
    const r = Atomics.waitAsync(this.header, W_WRITES_PAUSED, 1);
    return r.async ? r.value.then(() => undefined) : Promise.resolve();
  }

  // ---- the reader (coordinator) ----

  /**
   * Resolves when a writer has appended since the last drain. The flag stays
   * set until clearNotify, so that writers appending meanwhile notify nobody.
   */
  async waitForEntries(): Promise<void> {
    const h = this.header;
    if (Atomics.load(h, W_NOTIFY) === 0) {
      const r = Atomics.waitAsync(h, W_NOTIFY, 0);
      if (r.async) await r.value;
    }
  }

  /** Called right before a drain: an append after it wakes the coordinator again. */
  clearNotify(): void {
    Atomics.store(this.header, W_NOTIFY, 0);
  }

  /** How many entries the last drain() took. */
  drainedEntries = 0;

  /**
   * Copies out every whole entry appended since the last drain, after
   * `headroom` bytes left for the caller's frame header, into a buffer of
   * its own (a message to a worker copies exactly that), and frees their
   * room; null when there is none. drainedEntries tells how many entries it
   * took: they are counted from their headers, not read from the writers'
   * counter, which would need the writers' lock (a spin on this thread).
   */
  drain(headroom = 0): Buffer | null {
    const h = this.header;
    const head = Atomics.load(h, W_HEAD) >>> 0;
    const tail = Atomics.load(h, W_TAIL) >>> 0;
    const n = (tail - head) >>> 0;
    if (n === 0) return null;
    const out = Buffer.allocUnsafeSlow(headroom + n);
    const p = head & this.mask;
    const first = Math.min(n, this.capacity - p);
    out.set(this.data.subarray(p, p + first), headroom);
    if (first < n) out.set(this.data.subarray(0, n - first), headroom + first);
    Atomics.store(h, W_HEAD, tail | 0);
    Atomics.notify(h, W_HEAD);
    let entries = 0;
    for (let at = headroom; at < out.length; entries++) at += out.readUInt32LE(at);
    this.drainedEntries = entries;
    return out;
  }
}

/** Reads the entries of a drained buffer: calls `each` with the entry's shard, database and RESP bytes. */
export function forEachEntry(buf: Uint8Array, each: (shard: number, db: number, start: number, end: number) => void): void {
  let p = 0;
  while (p + ENTRY_HEADER_BYTES <= buf.length) {
    const total = (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0;
    const shard = buf[p + 4] | (buf[p + 5] << 8);
    each(shard, buf[p + 6], p + ENTRY_HEADER_BYTES, p + total);
    p += total;
  }
}
