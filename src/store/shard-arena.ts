/**
 * The memory of one keyspace shard: a growable SharedArrayBuffer that every
 * thread maps, with its header (lock word, counters), fixed-length views
 * re-made when it grows, the futex lock, and a size-class allocator with
 * free lists. What lives in the arena is the subclass's business (shard.ts).
 */
import { classSize, sizeClassOf } from './size-classes.js';
import { H_BYTES, H_EPOCH, H_EVICTED, H_EXPIRED, H_KEYS, H_LIVE, H_LOCK, H_TOP, H_WORDS_FIXED, headerLayout } from './layout.js';

export class StoreFullError extends Error {
  constructor() {
    super('shard arena is full');
  }
}

const MAX_SHARD_BYTES = 2 ** 32 - 4096;
const GROW_MIN = 1 << 20;
const SPIN_LIMIT = 64;

export interface ShardGeometry {
  databases: number;
  /** log2 of the number of shards: slot -> shard is slot & (shards - 1). */
  shardBits: number;
}

/** The size class of a block, refusing blocks no shard can hold (the class arithmetic is 32-bit). */
export function checkedSizeClass(size: number): number {
  if (size > MAX_SHARD_BYTES) throw new StoreFullError();
  return sizeClassOf(size);
}

/** This thread's check for waits that last (scripting's busy script: BUSY), or null. */
let longWaitCheck: (() => void) | null = null;
/** Above 0 while the thread runs work that may give up a wait (a command, the cron). */
let interruptibleWaits = 0;

/** Installs the thread's long-wait check. */
export function setLongLockWaitCheck(check: (() => void) | null): void {
  longWaitCheck = check;
}

/** Lock waits may be given up (by the long-wait check) until the matching endInterruptibleWaits(). */
export function beginInterruptibleWaits(): void {
  interruptibleWaits++;
}

export function endInterruptibleWaits(): void {
  interruptibleWaits--;
}

export class ShardArena {
  /*
   * Fixed-length views, re-made when the buffer has grown: V8 accesses
   * length-tracking views of a growable SharedArrayBuffer about 4x slower.
   * So never keep a view in a local across an allocation (it may grow).
   * Offsets reach 4 GiB: a byte offset becomes an index with `>>> 2`, never
   * `>> 2`, which turns negative past 2 GiB.
   */
  u8!: Uint8Array;
  u32!: Uint32Array;
  f64!: Float64Array;
  /** For word-wide copies out of the arena (ReplyWriter.bulkBytes). */
  dv!: DataView;
  protected viewBytes = 0;
  /** The lock word's own view (the header never moves). */
  private readonly lockWord: Int32Array;
  /** The fixed header words, readable whatever the views' length. */
  protected readonly header: Uint32Array;

  readonly headerBytes: number;
  protected readonly dbDir: number;
  protected readonly freeHeads: number;
  /** Atomics.wait is not allowed on the main thread: it only spins. */
  canWait = true;

  static allocate(geometry: ShardGeometry, initialBytes = 1 << 20): SharedArrayBuffer {
    const { size } = headerLayout(geometry.databases);
    const sab = new SharedArrayBuffer(Math.max(initialBytes, size), { maxByteLength: MAX_SHARD_BYTES });
    const header = new Uint32Array(sab, 0, H_WORDS_FIXED);
    header[H_TOP] = size;
    header[H_BYTES] = sab.byteLength;
    return sab;
  }

  constructor(readonly sab: SharedArrayBuffer, readonly index: number, readonly geometry: ShardGeometry) {
    this.lockWord = new Int32Array(sab, 0, 2);
    this.header = new Uint32Array(sab, 0, H_WORDS_FIXED);
    this.refreshViews();
    const l = headerLayout(geometry.databases);
    this.dbDir = l.dbDir;
    this.freeHeads = l.freeHeads;
    this.headerBytes = l.size;
  }

  protected refreshViews(): void {
    const n = this.sab.byteLength;
    this.viewBytes = n;
    this.u8 = new Uint8Array(this.sab, 0, n);
    this.u32 = new Uint32Array(this.sab, 0, n >>> 2);
    this.f64 = new Float64Array(this.sab, 0, n >>> 3);
    this.dv = new DataView(this.sab, 0, n);
  }

  // ---- lock (futex mutex: 0 free, 1 locked, 2 locked with waiters) ----
  // A wait that goes on past a timeout calls the thread's long-wait check
  // while waits are interruptible (see beginInterruptibleWaits); the check may
  // throw to give up. The lock is not held then: only its word may read 2,
  // which costs its holder one needless wake-up.

  lock(): void {
    this.acquire();
    // Another thread may have grown the arena while we waited.
    if (this.header[H_BYTES] !== this.viewBytes) this.refreshViews();
  }

  private acquire(): void {
    const i32 = this.lockWord;
    let c = Atomics.compareExchange(i32, H_LOCK, 0, 1);
    if (c === 0) return;
    for (let spin = 0; spin < SPIN_LIMIT; spin++) {
      if (Atomics.load(i32, H_LOCK) === 0) {
        c = Atomics.compareExchange(i32, H_LOCK, 0, 1);
        if (c === 0) return;
      }
    }
    if (c !== 2) c = Atomics.exchange(i32, H_LOCK, 2);
    while (c !== 0) {
      if (this.canWait && Atomics.wait(i32, H_LOCK, 2, 50) === 'timed-out' && interruptibleWaits > 0) longWaitCheck?.();
      c = Atomics.exchange(i32, H_LOCK, 2);
    }
  }

  /** Takes the lock only if it is free (no waiting): for a second lock taken out of ascending order. */
  tryLock(): boolean {
    if (Atomics.compareExchange(this.lockWord, H_LOCK, 0, 1) !== 0) return false;
    if (this.header[H_BYTES] !== this.viewBytes) this.refreshViews();
    return true;
  }

  unlock(): void {
    if (Atomics.sub(this.lockWord, H_LOCK, 1) !== 1) {
      Atomics.store(this.lockWord, H_LOCK, 0);
      Atomics.notify(this.lockWord, H_LOCK, 1);
    }
  }

  // ---- counters ----

  get keyCount(): number {
    return this.u32[H_KEYS];
  }
  get liveBytes(): number {
    return this.u32[H_LIVE];
  }
  get arenaBytes(): number {
    return this.u32[H_TOP];
  }
  get expiredKeys(): number {
    return this.u32[H_EXPIRED];
  }
  get evictedKeys(): number {
    return this.u32[H_EVICTED];
  }
  get epoch(): number {
    return this.u32[H_EPOCH];
  }
  // ---- allocator ----

  alloc(size: number): number {
    return this.allocClass(checkedSizeClass(size));
  }

  allocClass(c: number): number {
    const head = this.u32[this.freeHeads + c];
    const bytes = classSize(c);
    let off: number;
    if (head !== 0) {
      this.u32[this.freeHeads + c] = this.u32[head >>> 2];
      off = head;
    } else {
      off = this.u32[H_TOP];
      const end = off + bytes;
      // The views' length, not the buffer's byteLength getter (~16 ns) on every bump.
      if (end > this.viewBytes) this.grow(end);
      this.u32[H_TOP] = end;
    }
    this.u32[H_LIVE] += bytes;
    return off;
  }

  free(off: number, size: number): void {
    this.freeClass(off, sizeClassOf(size));
  }

  freeClass(off: number, c: number): void {
    this.u32[off >>> 2] = this.u32[this.freeHeads + c];
    this.u32[this.freeHeads + c] = off;
    this.u32[H_LIVE] -= classSize(c);
  }

  private grow(need: number): void {
    if (need > MAX_SHARD_BYTES) throw new StoreFullError();
    const cur = this.sab.byteLength;
    let next = Math.max(need, cur + Math.max(GROW_MIN, Math.floor(cur / 4)));
    next = Math.min(MAX_SHARD_BYTES, Math.ceil(next / 65536) * 65536);
    this.sab.grow(next);
    this.refreshViews();
    Atomics.store(this.header, H_BYTES, this.viewBytes);
  }
}
