/**
 * The keyspace as one thread sees it: every shard mapped, the logical to
 * physical database map (SWAPDB swaps two entries of it), and the key
 * access clock used by the eviction policies.
 */
import { keyHash, slotAndHash } from './key-hash.js';
import { Shard, type ShardGeometry } from './shard.js';
import { E_LRU } from './layout.js';

export interface KeyspaceBuffers {
  shards: SharedArrayBuffer[];
  /** Int32 per logical database: its physical database. */
  dbMap: SharedArrayBuffer;
  databases: number;
  shardBits: number;
}

export function allocateKeyspace(databases: number, shardBits: number): KeyspaceBuffers {
  const geometry: ShardGeometry = { databases, shardBits };
  const shards: SharedArrayBuffer[] = [];
  for (let i = 0; i < 1 << shardBits; i++) shards.push(Shard.allocate(geometry));
  const dbMap = new SharedArrayBuffer(databases * 4);
  const m = new Int32Array(dbMap);
  for (let i = 0; i < databases; i++) m[i] = i;
  return { shards, dbMap, databases, shardBits };
}

// Redis's LRU clock: seconds, 24 bits (LRU_CLOCK_RESOLUTION 1000, LRU_CLOCK_MAX).
const LRU_CLOCK_MAX = (1 << 24) - 1;
const LFU_INIT_VAL = 5;

export const enum AccessPolicy {
  Lru = 0,
  Lfu = 1,
}

export class Keyspace {
  readonly shards: Shard[];
  readonly dbMap: Int32Array;
  readonly shardMask: number;
  readonly shardBits: number;
  readonly databases: number;
  policy = AccessPolicy.Lru;
  lfuLogFactor = 10;
  lfuDecayTime = 1;

  constructor(readonly buffers: KeyspaceBuffers) {
    const geometry = { databases: buffers.databases, shardBits: buffers.shardBits };
    this.shards = buffers.shards.map((sab, i) => new Shard(sab, i, geometry));
    this.dbMap = new Int32Array(buffers.dbMap);
    this.shardBits = buffers.shardBits;
    this.shardMask = (1 << buffers.shardBits) - 1;
    this.databases = buffers.databases;
  }

  shardOf(slot: number): Shard {
    return this.shards[slot & this.shardMask];
  }

  slotIndex(slot: number): number {
    return slot >> this.shardBits;
  }

  /**
   * Whether key[start, start + length) is in physical database `db`, expired
   * or not (dictFind, no lazy expiry); the caller holds the key's shard lock.
   */
  contains(db: number, key: Uint8Array, start: number, length: number): boolean {
    const slot = slotAndHash(key, start, length);
    return this.shards[slot & this.shardMask].lookup(db, slot >> this.shardBits, key, start, length, keyHash.value) !== 0;
  }

  /** The logical database a physical one serves (the inverse of dbMap). */
  logicalDb(physical: number): number {
    let db = 0;
    while (db < this.databases - 1 && this.dbMap[db] !== physical) db++;
    return db;
  }

  /** The physical database of a logical one (read under a shard lock: SWAPDB holds them all). */
  physical(db: number): number {
    return this.dbMap[db];
  }

  lockAll(): void {
    for (const s of this.shards) s.lock();
  }

  unlockAll(): void {
    for (let i = this.shards.length - 1; i >= 0; i--) this.shards[i].unlock();
  }

  /** SWAPDB: O(1), the caller holding every shard lock so that no command sees a half swap. */
  swapDatabasesLocked(a: number, b: number): void {
    const t = this.dbMap[a];
    this.dbMap[a] = this.dbMap[b];
    this.dbMap[b] = t;
  }

  keyCount(db: number): number {
    const p = this.dbMap[db];
    let n = 0;
    for (const s of this.shards) n += s.dbKeys(p);
    return n;
  }

  volatileCount(db: number): number {
    const p = this.dbMap[db];
    let n = 0;
    for (const s of this.shards) n += s.dbVolatile(p);
    return n;
  }

  liveBytes(): number {
    let n = 0;
    for (const s of this.shards) n += s.liveBytes;
    return n;
  }

  arenaBytes(): number {
    let n = 0;
    for (const s of this.shards) n += s.arenaBytes;
    return n;
  }

  reservedBytes(): number {
    let n = 0;
    for (const s of this.shards) n += s.sab.byteLength;
    return n;
  }

  expiredKeys(): number {
    let n = 0;
    for (const s of this.shards) n += s.expiredKeys;
    return n;
  }

  evictedKeys(): number {
    let n = 0;
    for (const s of this.shards) n += s.evictedKeys;
    return n;
  }

  // ---- access clock (Redis's evict.c) ----

  static lruClock(now: number): number {
    return Math.floor(now / 1000) & LRU_CLOCK_MAX;
  }

  /** Initial access field of a new key. */
  initialAccess(now: number): number {
    if (this.policy === AccessPolicy.Lfu) return ((Math.floor(now / 60000) & 0xffff) << 8) | LFU_INIT_VAL;
    return Keyspace.lruClock(now);
  }

  /** Records an access (updateLFU / LRU_CLOCK in Redis's lookupKey). */
  touch(shard: Shard, e: number, now: number): void {
    const i = (e + E_LRU) >>> 2;
    if (this.policy === AccessPolicy.Lfu) {
      let counter = this.lfuDecrAndReturn(shard.u32[i], now);
      counter = this.lfuLogIncr(counter);
      shard.u32[i] = ((Math.floor(now / 60000) & 0xffff) << 8) | counter;
    } else {
      shard.u32[i] = Keyspace.lruClock(now);
    }
  }

  /** Seconds since last access (OBJECT IDLETIME, estimateObjectIdleTime). */
  idleSeconds(shard: Shard, e: number, now: number): number {
    const lru = shard.u32[(e + E_LRU) >>> 2];
    const clock = Keyspace.lruClock(now);
    return clock >= lru ? clock - lru : clock + (LRU_CLOCK_MAX - lru);
  }

  /** The LFU counter after decay (OBJECT FREQ). */
  frequency(shard: Shard, e: number, now: number): number {
    return this.lfuDecrAndReturn(shard.u32[(e + E_LRU) >>> 2], now);
  }

  private lfuDecrAndReturn(field: number, now: number): number {
    const ldt = field >>> 8;
    let counter = field & 0xff;
    const nowMin = Math.floor(now / 60000) & 0xffff;
    const elapsed = nowMin >= ldt ? nowMin - ldt : 65535 - ldt + nowMin;
    const periods = this.lfuDecayTime ? Math.floor(elapsed / this.lfuDecayTime) : 0;
    if (periods) counter = periods > counter ? 0 : counter - periods;
    return counter;
  }

  private lfuLogIncr(counter: number): number {
    if (counter === 255) return 255;
    const base = Math.max(0, counter - LFU_INIT_VAL);
    const p = 1 / (base * this.lfuLogFactor + 1);
    return Math.random() < p ? counter + 1 : counter;
  }
}
