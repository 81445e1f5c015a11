/**
 * The node's published messages on their way to the worker threads: one
 * ring in a SharedArrayBuffer that every thread appends to under a spin lock
 * and that each worker with subscribers reads from its own position. The
 * ring's order is the node's publish order, so every subscriber, on every
 * thread, sees messages in the one order Redis's single thread gives; and a
 * PUBLISH costs no message between threads (Redis's pubsubPublishMessage
 * writes into the subscribers' output buffers at once).
 *
 * A worker reads when it appends (so a publisher subscribed to its own
 * channel gets the message before PUBLISH's reply) and when woken: a reader
 * with nothing to read sleeps in Atomics.waitAsync on the sequence word,
 * which every append bumps, notifying only when a reader sleeps.
 *
 * Space: an append needs room behind the slowest interested reader. A full
 * ring makes the publisher wait (its connection suspended, its order kept);
 * a message too large for the ring travels apart, posted to the workers, and
 * its entry in the ring only says where in the order it goes.
 *
 * Header (Int32): lock · tail · sequence · sleeping readers · per worker:
 * head, interested. Entry: u32 length (4-aligned, with this header) · u32
 * channel length (top bit: a shard channel's message, SPUBLISH) · u32
 * message length (OVERSIZED: a blob id follows) · channel · message. A
 * length of WRAP sends readers back to offset 0.
 */
import { copyBytes } from '../replication/replication-log.js';

const W_LOCK = 0;
const W_TAIL = 1;
const W_SEQUENCE = 2;
const W_SLEEPING = 3;
const W_WORKERS = 4;
const ENTRY_HEADER = 12;
const WRAP = 0xffffffff;
/** Message length of an entry whose bytes travel apart (postMessage); a u32 blob id follows the channel. */
const OVERSIZED = 0xffffffff;
const DEFAULT_CAPACITY = 16 << 20;
const SHARD_BIT = 0x80000000;

export function allocatePubsubRing(workers: number, capacity = DEFAULT_CAPACITY): SharedArrayBuffer {
  if ((capacity & (capacity - 1)) !== 0) throw new Error('pub/sub ring capacity must be a power of two');
  return new SharedArrayBuffer(headerBytes(workers) + capacity);
}

function headerBytes(workers: number): number {
  return ((W_WORKERS + workers * 2) * 4 + 63) & ~63;
}

const align4 = (n: number) => (n + 3) & ~3;

/**
 * One entry, as a reader sees it: where its channel and message lie (in the
 * ring, or for a message carried apart in its own array). Reused from entry
 * to entry: valid until the reader moves on.
 */
export class RingEntry {
  bytes: Uint8Array = new Uint8Array(0);
  channelStart = 0;
  channelLength = 0;
  message: Uint8Array = new Uint8Array(0);
  messageStart = 0;
  messageLength = 0;
  /** A shard channel's message (SPUBLISH). */
  shard = false;
}

export class PubsubRing {
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  private readonly bytes: Uint8Array;
  private readonly base: number;
  private readonly capacity: number;
  private readonly mask: number;
  private readonly workers: number;
  /** Messages too large for the ring, by id, until every interested reader has passed them (reader side). */
  private readonly blobs = new Map<number, Uint8Array>();
  private nextBlob = 1;
  private readonly entry = new RingEntry();

  /**
   * @param self this thread's worker index, or -1 (the coordinator: it appends, never reads)
   */
  constructor(readonly sab: SharedArrayBuffer, workers: number, private readonly self: number) {
    this.workers = workers;
    this.i32 = new Int32Array(sab);
    this.u32 = new Uint32Array(sab);
    this.bytes = new Uint8Array(sab);
    this.base = headerBytes(workers);
    this.capacity = sab.byteLength - this.base;
    this.mask = this.capacity - 1;
  }

  private headWord(worker: number): number {
    return W_WORKERS + worker * 2;
  }

  private interestedWord(worker: number): number {
    return W_WORKERS + worker * 2 + 1;
  }

  private lock(): void {
    // Held for a copy of one message at most: a spin (the coordinator may not block in Atomics.wait).
    while (Atomics.compareExchange(this.i32, W_LOCK, 0, 1) !== 0) { /* spin */ }
  }

  private unlock(): void {
    Atomics.store(this.i32, W_LOCK, 0);
  }

  /** This thread starts or stops reading (its first subscription, its last one gone): it reads from the tail on. */
  setInterested(on: boolean): void {
    const w = this.self;
    this.lock();
    if (on) Atomics.store(this.i32, this.headWord(w), Atomics.load(this.i32, W_TAIL));
    Atomics.store(this.i32, this.interestedWord(w), on ? 1 : 0);
    this.unlock();
  }

  /** Whether a worker other than this one reads the ring. */
  othersInterested(): boolean {
    for (let w = 0; w < this.workers; w++) {
      if (w !== this.self && Atomics.load(this.i32, this.interestedWord(w)) !== 0) return true;
    }
    return false;
  }

  /** Bytes free behind the slowest interested reader (under the lock). */
  private free(tail: number): number {
    let used = 0;
    for (let w = 0; w < this.workers; w++) {
      if (Atomics.load(this.i32, this.interestedWord(w)) === 0) continue;
      const behind = (tail - this.u32[this.headWord(w)]) >>> 0;
      if (behind > used) used = behind;
    }
    return this.capacity - used;
  }

  /** Whether a message of this size is carried apart (too large for the ring). */
  oversized(channelLength: number, messageLength: number): boolean {
    return ENTRY_HEADER + channelLength + messageLength > this.capacity / 4;
  }

  /**
   * Appends a message; false when the ring has no room now (try again once
   * readers moved on). `blob` > 0: the message travels apart under that id.
   */
  append(channel: Uint8Array, message: Uint8Array, shard: boolean, blob = 0): boolean {
    const body = blob > 0 ? 4 : message.length;
    const length = align4(ENTRY_HEADER + channel.length + body);
    this.lock();
    try {
      let tail = this.u32[W_TAIL];
      const offset = tail & this.mask;
      const toEnd = this.capacity - offset;
      const wrap = toEnd < length ? toEnd : 0;
      if (this.free(tail) < length + wrap) return false;
      if (wrap > 0) {
        this.u32[(this.base + offset) >>> 2] = WRAP;
        tail = (tail + wrap) >>> 0;
      }
      const at = this.base + (tail & this.mask);
      this.u32[at >>> 2] = length;
      this.u32[(at + 4) >>> 2] = shard ? (channel.length | SHARD_BIT) >>> 0 : channel.length;
      this.u32[(at + 8) >>> 2] = blob > 0 ? OVERSIZED : message.length;
      copyBytes(this.bytes, at + ENTRY_HEADER, channel, 0, channel.length);
      if (blob > 0) this.u32[(at + ENTRY_HEADER + align4(channel.length)) >>> 2] = blob;
      else copyBytes(this.bytes, at + ENTRY_HEADER + channel.length, message, 0, message.length);
      Atomics.store(this.u32, W_TAIL, (tail + length) >>> 0);
    } finally {
      this.unlock();
    }
    Atomics.add(this.i32, W_SEQUENCE, 1);
    if (Atomics.load(this.i32, W_SLEEPING) > 0) Atomics.notify(this.i32, W_SEQUENCE);
    return true;
  }

  /** A new id for a message carried apart (unique per appending thread: the thread index is in the low bits). */
  blobId(): number {
    return ((this.nextBlob++ << 5) | (this.self + 1)) >>> 0;
  }

  /** A message carried apart arrived (posted); its entry may be read now. */
  addBlob(id: number, message: Uint8Array): void {
    this.blobs.set(id, message);
  }

  /**
   * Reads every entry from this thread's head to the tail, in order. Stops
   * (returning false) at a message carried apart that has not arrived yet.
   */
  read(each: (entry: RingEntry) => void): boolean {
    const entry = this.entry;
    const headWord = this.headWord(this.self);
    let head = this.u32[headWord];
    const tail = Atomics.load(this.u32, W_TAIL);
    try {
      while (head !== tail) {
        const at = this.base + (head & this.mask);
        const length = this.u32[at >>> 2];
        if (length === WRAP) {
          head = (head + (this.capacity - (head & this.mask))) >>> 0;
          continue;
        }
        const channelWord = this.u32[(at + 4) >>> 2];
        const channelLength = channelWord & ~SHARD_BIT;
        const messageLength = this.u32[(at + 8) >>> 2];
        entry.bytes = this.bytes;
        entry.channelStart = at + ENTRY_HEADER;
        entry.channelLength = channelLength;
        entry.shard = (channelWord & SHARD_BIT) !== 0;
        if (messageLength === OVERSIZED) {
          const id = this.u32[(at + ENTRY_HEADER + align4(channelLength)) >>> 2];
          const message = this.blobs.get(id);
          if (message === undefined) return false;
          this.blobs.delete(id);
          entry.message = message;
          entry.messageStart = 0;
          entry.messageLength = message.length;
        } else {
          entry.message = this.bytes;
          entry.messageStart = at + ENTRY_HEADER + channelLength;
          entry.messageLength = messageLength;
        }
        each(entry);
        head = (head + length) >>> 0;
      }
      return true;
    } finally {
      Atomics.store(this.u32, headWord, head);
    }
  }

  /** Whether there is something to read. */
  pending(): boolean {
    return this.u32[this.headWord(this.self)] !== Atomics.load(this.u32, W_TAIL);
  }

  /**
   * Resolves once something may be readable (an append since `sequence`),
   * sleeping in Atomics.waitAsync; undefined when something already is.
   */
  wait(): Promise<unknown> | undefined {
    Atomics.add(this.i32, W_SLEEPING, 1);
    const sequence = Atomics.load(this.i32, W_SEQUENCE);
    if (this.pending()) {
      Atomics.sub(this.i32, W_SLEEPING, 1);
      return undefined;
    }
    const r = Atomics.waitAsync(this.i32, W_SEQUENCE, sequence);
    if (!r.async) {
      Atomics.sub(this.i32, W_SLEEPING, 1);
      return undefined;
    }
    return r.value.then(() => Atomics.sub(this.i32, W_SLEEPING, 1));
  }
}
