/**
 * One TCP connection of a benchmark client (memtier's shard_connection): a
 * write buffer requests are encoded into, and the requests awaiting replies.
 *
 * Hot-path choices:
 * - Requests are written into a slab (a Buffer of 64 KiB or more) and handed
 *   to the socket as one subarray per flush. A slab is never written twice:
 *   when it is full a new one is taken, because the socket may still hold
 *   the old one's bytes, and because an ASK follow-up re-sends a request's
 *   bytes from its slab.
 * - The requests in flight are a ring of typed arrays, not objects.
 * - Replies are only scanned for their end (resp.ts); the owner looks at the
 *   bytes it needs.
 *
 * Writes made while the socket connects are queued by net.Socket, so a
 * connection is usable as soon as it is opened; if it then fails, what was
 * written counts as in flight and lost.
 */
import net from 'node:net';
import { scanReply } from './resp.js';

/** Ring entry kinds below 0 are control requests; 0 and up are results rows. */
export const SETUP = -1;
export const SLOTS = -2;
export const ASKING = -3;

/** Ring entry flags. */
export const COUNTS_HITS = 1;
/** The request was already redirected by an ASK once: a second ASK ends it. */
export const ASK_FOLLOWED = 2;

export type ConnState = 'idle' | 'connecting' | 'ready' | 'down' | 'closed';

export type FailReason = 'error' | 'closed' | 'timeout' | 'protocol' | 'setup';

export interface ConnOwner {
  /** The TCP connection is established. */
  onConnected(conn: Conn): void;
  /**
   * A reply to the ring entry at `slot` (already removed from the ring: read
   * its fields before sending anything on this connection).
   */
  onReply(conn: Conn, slot: number, buf: Buffer, start: number, end: number, now: number): void;
  /** After the replies of one read were handled. */
  onReadDone(conn: Conn, now: number): void;
  /** The connection failed; its ring still holds the requests that were in flight. */
  onFailure(conn: Conn, reason: FailReason, message: string, now: number): void;
}

const MIN_SLAB = 64 * 1024;
/** The read buffer every connection of this thread reads into (net's onread); each read is handled before the next. */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 1000;

export class Conn {
  readonly addr: string;
  state: ConnState = 'idle';
  private socket: net.Socket | null = null;

  // Requests in flight: ring of capacity `mask + 1`, entries head..tail-1.
  private mask: number;
  head = 0;
  tail = 0;
  /** First entry whose start time is not yet stamped (stamped when flushed). */
  private stampFrom = 0;
  pRow: Int16Array;
  pFlags: Uint8Array;
  pStart: Float64Array;
  pBytes: Int32Array;
  pOff: Int32Array;
  pSlab: (Buffer | null)[];

  // Write slab: bytes [flushed, written) are encoded but not yet given to the socket.
  slab: Buffer;
  written = 0;
  private flushed = 0;

  private leftover: Buffer | null = null;

  /** When a failed connection may be reopened. */
  retryAt = 0;
  private backoff = FIRST_BACKOFF_MS;
  /** performance.now() of the last reply, to pick a live node for CLUSTER SLOTS. */
  lastReplyAt = 0;
  /** Cluster mode: no slot maps here any more; closed once its requests are answered. */
  retired = false;
  /** Has bytes written since the last flush (the owner's list of connections to flush). */
  dirty = false;
  /** --pipeline-batch: requests the batch being written may still take (a new batch starts once all replies are in). */
  batchLeft = 0;

  constructor(readonly host: string, readonly port: number, private readonly owner: ConnOwner, capacityHint: number) {
    this.addr = `${host}:${port}`;
    let cap = 16;
    while (cap < capacityHint * 2) cap *= 2;
    this.mask = cap - 1;
    this.pRow = new Int16Array(cap);
    this.pFlags = new Uint8Array(cap);
    this.pStart = new Float64Array(cap);
    this.pBytes = new Int32Array(cap);
    this.pOff = new Int32Array(cap);
    this.pSlab = new Array<Buffer | null>(cap).fill(null);
    this.slab = Buffer.allocUnsafeSlow(MIN_SLAB);
  }

  get inflight(): number {
    return this.tail - this.head;
  }

  /** Connects (again); `setup` (AUTH, HELLO, SELECT) goes first, its replies counted as SETUP entries. */
  open(setup: Buffer | null, setupReplies: number): void {
    this.head = this.tail = this.stampFrom = 0;
    this.leftover = null;
    // A new slab for the new socket: the old one's bytes may still be referenced (never write a slab twice).
    if (this.written > 0) this.slab = Buffer.allocUnsafeSlow(MIN_SLAB);
    this.written = this.flushed = 0;
    const socket = net.connect({
      host: this.host,
      port: this.port,
      noDelay: true,
      // Replies are read into the thread's one read buffer and handled at once: no Buffer and no
      // stream 'data' event per read.
      onread: {
        buffer: READ_BUFFER,
        callback: (length: number, buffer: Uint8Array) => {
          if (this.socket === socket) this.data(buffer as Buffer, length);
          return true;
        },
      },
    });
    this.socket = socket;
    this.state = 'connecting';
    socket.on('connect', () => {
      if (this.socket !== socket) return;
      this.state = 'ready';
      this.owner.onConnected(this);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (this.socket === socket) this.fail('error', e.code ? `${e.code} ${this.addr}` : `${e.message} (${this.addr})`);
    });
    socket.on('close', () => {
      if (this.socket === socket) this.fail('closed', `connection to ${this.addr} closed`);
    });
    if (setup) {
      this.reserve(setup.length);
      setup.copy(this.slab, this.written);
      const start = this.written;
      this.written += setup.length;
      for (let i = 0; i < setupReplies; i++) this.push(SETUP, 0, i === 0 ? setup.length : 0, start, -1);
      this.flush(performance.now());
    }
  }

  /** Makes room for n more bytes in the slab (flushing what is pending if a new slab is needed). */
  reserve(n: number): void {
    if (this.slab.length - this.written >= n) return;
    this.flush(performance.now());
    this.slab = Buffer.allocUnsafeSlow(Math.max(MIN_SLAB, n));
    this.written = this.flushed = 0;
  }

  /** Records the request encoded at slab[from, written) as in flight; `start` < 0 means "when flushed". */
  push(row: number, flags: number, bytes: number, from: number, start: number): void {
    if (this.tail - this.head > this.mask) this.grow();
    const i = this.tail & this.mask;
    this.pRow[i] = row;
    this.pFlags[i] = flags;
    this.pStart[i] = start;
    this.pBytes[i] = bytes;
    this.pOff[i] = from;
    this.pSlab[i] = this.slab;
    this.tail++;
  }

  /** Copies bytes (an earlier request, for an ASK follow-up) into the slab and records it. */
  pushCopy(row: number, flags: number, src: Buffer, from: number, len: number, start: number): void {
    this.reserve(len);
    src.copy(this.slab, this.written, from, from + len);
    const at = this.written;
    this.written += len;
    this.push(row, flags, len, at, start);
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const remap = <T extends Int16Array | Uint8Array | Float64Array | Int32Array>(old: T, make: (n: number) => T): T => {
      const out = make(cap);
      for (let k = this.head; k < this.tail; k++) out[k & (cap - 1)] = old[k & this.mask];
      return out;
    };
    this.pRow = remap(this.pRow, (n) => new Int16Array(n));
    this.pFlags = remap(this.pFlags, (n) => new Uint8Array(n));
    this.pStart = remap(this.pStart, (n) => new Float64Array(n));
    this.pBytes = remap(this.pBytes, (n) => new Int32Array(n));
    this.pOff = remap(this.pOff, (n) => new Int32Array(n));
    const slabs = new Array<Buffer | null>(cap).fill(null);
    for (let k = this.head; k < this.tail; k++) slabs[k & (cap - 1)] = this.pSlab[k & this.mask];
    this.pSlab = slabs;
    this.mask = cap - 1;
  }

  /** Hands the pending bytes to the socket; their requests' clocks start now (memtier stamps requests when written). */
  flush(now: number): void {
    if (this.written === this.flushed) return;
    for (let k = this.stampFrom; k < this.tail; k++) {
      const i = k & this.mask;
      if (this.pStart[i] < 0) this.pStart[i] = now;
    }
    this.stampFrom = this.tail;
    this.socket!.write(this.slab.subarray(this.flushed, this.written));
    this.flushed = this.written;
  }

  /** The ring slot of the oldest request in flight (valid while inflight > 0). */
  get oldestSlot(): number {
    return this.head & this.mask;
  }

  /** Ring slot of entry k (head <= k < tail). */
  slotOf(k: number): number {
    return k & this.mask;
  }

  /** Handles the replies in chunk[0, length) (the shared read buffer: nothing may keep a view of it). */
  private data(chunk: Buffer, length: number): void {
    let buf = chunk;
    let len = length;
    if (this.leftover) {
      buf = Buffer.concat([this.leftover, chunk.subarray(0, length)]);
      len = buf.length;
      this.leftover = null;
    }
    const now = performance.now();
    this.lastReplyAt = now;
    let pos = 0;
    while (pos < len) {
      let end: number;
      try {
        end = scanReply(buf, pos, len);
      } catch (e) {
        this.fail('protocol', `${(e as Error).message} from ${this.addr}`);
        return;
      }
      if (end < 0) break;
      if (this.head === this.tail) {
        this.fail('protocol', `reply without a request from ${this.addr}`);
        return;
      }
      const slot = this.head & this.mask;
      this.head++;
      this.owner.onReply(this, slot, buf, pos, end, now);
      if (this.socket === null) return; // failed or closed while handling the reply
      pos = end;
    }
    // A reply cut by the end of the read waits for the next one, copied out of the shared buffer.
    if (pos < len) this.leftover = Buffer.from(buf.subarray(pos, len));
    this.backoff = FIRST_BACKOFF_MS;
    this.owner.onReadDone(this, now);
  }

  /** Marks the connection failed: it will be reopened after a backoff (100 ms, doubling to 1 s). */
  fail(reason: FailReason, message: string): void {
    if (this.socket === null) return;
    this.dropSocket();
    const now = performance.now();
    this.state = 'down';
    this.retryAt = now + this.backoff;
    this.backoff = Math.min(MAX_BACKOFF_MS, this.backoff * 2);
    this.owner.onFailure(this, reason, message, now);
  }

  /** Forgets the requests in flight (after the owner has counted them). */
  clearInflight(): void {
    for (let k = this.head; k < this.tail; k++) this.pSlab[k & this.mask] = null;
    this.head = this.tail = this.stampFrom = 0;
  }

  private dropSocket(): void {
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.removeAllListeners('data');
      s.removeAllListeners('close');
      s.removeAllListeners('connect');
      // Keep an error listener: a destroyed socket may still emit one.
      s.removeAllListeners('error');
      s.on('error', () => {});
      s.destroy();
    }
  }

  /** Closes for good, without counting anything. */
  close(): void {
    this.dropSocket();
    this.state = 'closed';
  }
}
