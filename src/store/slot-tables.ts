/**
 * A shard's keyspace structures in its arena: per database, one
 * incrementally rehashed hash table per cluster slot (as Redis 7 keeps one
 * dict per slot), entries with an optional TTL section, and the index of
 * keys with a TTL that active expiry and volatile eviction sample.
 *
 * The store knows bytes, entries and slots only: no commands, replies,
 * topology, threads or sockets.
 */
import { classSize } from './size-classes.js';
import {
  D_KEYS, D_SLOTS, D_VOLATILE, D_VOLATILE_ARRAY, D_VOLATILE_CAPACITY, E_CLASS, E_ENCODING, E_EXPIRE, E_FIXED, E_FLAGS,
  E_HASH, E_KEYLEN, E_LRU, E_NEXT, E_TTL_SECTION, E_TYPE, E_VALLEN, E_VOLATILE_INDEX, F_TTL_SECTION, F_VOLATILE,
  H_BYTES, H_EVICTED, H_EXPIRED, H_KEYS, H_REHASHING, S_MASK0, S_MASK1, S_REHASH, S_TABLE0, S_TABLE1, S_USED,
  SLOT_HEADER_BYTES, ValueType,
} from './layout.js';
import { hasExternalBlocks, releaseBlocks } from './collections.js';
import { dictRehashStep } from './arena-dict.js';
import { keyHashSlot } from './key-hash.js';
import { checkedSizeClass, ShardArena, StoreFullError, type ShardGeometry } from './shard-arena.js';

/** Tables up to this many buckets are rehashed in one go. */
const SMALL_TABLE = 64;

export class SlotTables extends ShardArena {
  readonly slotsPerShard: number;
  /** Replicas report expired keys as missing but leave their deletion to the master. */
  keepExpired = false;
  /** Set by the worker: true while a node-wide hold (CLIENT PAUSE) keeps expired keys in place too. */
  expiryHeld: (() => boolean) | null = null;

  /** Whether an expired key must stay (reported missing, not deleted): on a replica, or while expiry is held. */
  keepsExpired(): boolean {
    return this.keepExpired || (this.expiryHeld !== null && this.expiryHeld());
  }
  /**
   * Told about every key the store itself removes (expired or evicted), under
   * the shard lock and before the entry goes, so that the deletion can be
   * propagated as Redis propagates a DEL for expired and evicted keys.
   */
  onRemoval: ((db: number, e: number, evicted: boolean) => void) | null = null;

  /** Set by lookup/insert: byte offset of the u32 cell pointing at the entry. */
  link = 0;
  /** Set by lookup/insert: byte offset of the entry's slot table header. */
  slotHeader = 0;

  constructor(sab: SharedArrayBuffer, index: number, geometry: ShardGeometry) {
    super(sab, index, geometry);
    this.slotsPerShard = 16384 >> geometry.shardBits;
  }

  /*
   * The per-database counters are read without the lock (DBSIZE, INFO,
   * eviction's shard pick). A database block allocated after another thread
   * grew the buffer lies past this thread's views until they are re-made.
   */
  protected currentU32(): Uint32Array {
    if (Atomics.load(this.header, H_BYTES) !== this.viewBytes) this.refreshViews();
    return this.u32;
  }

  dbKeys(db: number): number {
    const u32 = this.currentU32();
    const b = u32[this.dbDir + db];
    return b === 0 ? 0 : u32[(b + D_KEYS) >>> 2];
  }

  dbVolatile(db: number): number {
    const u32 = this.currentU32();
    const b = u32[this.dbDir + db];
    return b === 0 ? 0 : u32[(b + D_VOLATILE) >>> 2];
  }

  slotKeys(db: number, slotIndex: number): number {
    const u32 = this.currentU32();
    const b = u32[this.dbDir + db];
    return b === 0 ? 0 : u32[(b + D_SLOTS + slotIndex * SLOT_HEADER_BYTES + S_USED) >>> 2];
  }

  // ---- databases and slot tables ----

  protected dbBlock(db: number): number {
    let b = this.u32[this.dbDir + db];
    if (b === 0) {
      const size = D_SLOTS + this.slotsPerShard * SLOT_HEADER_BYTES;
      b = this.alloc(size);
      this.u8.fill(0, b, b + size);
      this.u32[this.dbDir + db] = b;
    }
    return b;
  }

  /** Byte offset of a slot's table header, or 0 when the database is empty. */
  slotHeaderOf(db: number, slotIndex: number): number {
    const b = this.u32[this.dbDir + db];
    return b === 0 ? 0 : b + D_SLOTS + slotIndex * SLOT_HEADER_BYTES;
  }

  private newTable(buckets: number): number {
    const t = this.alloc(buckets * 4);
    this.u8.fill(0, t, t + buckets * 4);
    return t;
  }

  private startRehash(sh: number, buckets: number): void {
    const table = this.newTable(buckets);
    const u32 = this.u32;
    u32[(sh + S_TABLE1) >>> 2] = table;
    u32[(sh + S_MASK1) >>> 2] = buckets - 1;
    u32[(sh + S_REHASH) >>> 2] = 1;
    u32[H_REHASHING]++;
    if (u32[(sh + S_MASK0) >>> 2] < SMALL_TABLE) this.rehashStep(sh, SMALL_TABLE);
  }

  /**
   * Resizing is an optimisation: with a full arena the table keeps its size
   * (longer chains, or a sparse table) and the operation that wanted the
   * resize still succeeds. startRehash changes nothing when its allocation fails.
   */
  private tryStartRehash(sh: number, buckets: number): void {
    try {
      this.startRehash(sh, buckets);
    } catch (err) {
      if (!(err instanceof StoreFullError)) throw err;
    }
  }

  /**
   * Moves up to n buckets of table 0 to table 1 (visiting at most 10n empty
   * ones), as Redis's dictRehash; called only while the slot table rehashes.
   * A slot table header has the collection dict's layout, so arena-dict's
   * step does the work; the shard counts the tables still rehashing.
   */
  rehashStep(sh: number, n: number): boolean {
    if (dictRehashStep(this, sh, n)) return true;
    this.u32[H_REHASHING]--;
    return false;
  }

  keyStart(e: number): number {
    return e + (this.u8[e + E_FLAGS] & F_TTL_SECTION ? E_FIXED + E_TTL_SECTION : E_FIXED);
  }

  valueStart(e: number): number {
    return this.keyStart(e) + this.u32[(e + E_KEYLEN) >>> 2];
  }

  /**
   * Where a collection's header or compact bytes start: the value start
   * rounded up to 4 bytes, for their u32 fields. Blocks are 8-byte aligned
   * and the entry's fixed parts are multiples of 8, so the padding depends on
   * the key's length only and survives the entry moving.
   */
  collectionStart(e: number): number {
    return (this.valueStart(e) + 3) & ~3;
  }

  /** Padding bytes before entry e's collection value. */
  collectionPadOf(e: number): number {
    return this.collectionStart(e) - this.valueStart(e);
  }

  /** Bytes of entry e's collection value after its padding (a compact encoding's payload). */
  collectionBytes(e: number): number {
    return this.valueLength(e) - this.collectionPadOf(e);
  }

  /** Padding bytes before a collection's value for a key of `keyLength` bytes. */
  static collectionPad(keyLength: number): number {
    return (4 - (keyLength & 3)) & 3;
  }

  /** Frees the outside blocks of a collection entry (its own block is the caller's). */
  releaseValue(e: number): void {
    const type = this.u8[e + E_TYPE];
    if (type === ValueType.String) return;
    const encoding = this.u8[e + E_ENCODING];
    if (hasExternalBlocks(type, encoding)) releaseBlocks(this, type, encoding, this.collectionStart(e), Infinity);
  }

  valueLength(e: number): number {
    return this.u32[(e + E_VALLEN) >>> 2];
  }

  /** Bytes the entry's block can hold for its value. */
  valueCapacity(e: number): number {
    return classSize(this.u8[e + E_CLASS]) - (this.valueStart(e) - e);
  }

  blockSize(e: number): number {
    return classSize(this.u8[e + E_CLASS]);
  }

  private keyEquals(e: number, key: Uint8Array, ks: number, kl: number): boolean {
    const u8 = this.u8;
    const p = this.keyStart(e);
    for (let i = 0; i < kl; i++) if (u8[p + i] !== key[ks + i]) return false;
    return true;
  }

  /**
   * A prefetch hint, read without the lock (server/batch-prefetch.ts): the
   * address of the bucket a key of this slot and hash would sit in (its first
   * table), or 0. Concurrent writers may make it stale or garbage: it only
   * ever decides which memory to touch early, never what a command reads.
   */
  bucketHint(db: number, slotIndex: number, hash: number): number {
    const u32 = this.u32;
    const b = u32[this.dbDir + db] | 0;
    if (b === 0) return 0;
    const sh = b + D_SLOTS + slotIndex * SLOT_HEADER_BYTES;
    const table = u32[(sh + S_TABLE0) >>> 2] | 0;
    if (table === 0) return 0;
    return table + (hash & u32[(sh + S_MASK0) >>> 2]) * 4;
  }

  /**
   * Finds a key; returns its entry or 0 and sets `link` and `slotHeader`.
   * Expired keys are returned too: see `find`.
   */
  lookup(db: number, slotIndex: number, key: Uint8Array, ks: number, kl: number, hash: number): number {
    const u32 = this.u32;
    const b = u32[this.dbDir + db];
    if (b === 0) return 0;
    const sh = b + D_SLOTS + slotIndex * SLOT_HEADER_BYTES;
    if (u32[(sh + S_USED) >>> 2] === 0) return 0;
    const rehashing = u32[(sh + S_REHASH) >>> 2] !== 0 && this.rehashStep(sh, 1);
    for (let t = 0; t < 2; t++) {
      const table = u32[(sh + (t === 0 ? S_TABLE0 : S_TABLE1)) >>> 2];
      const mask = u32[(sh + (t === 0 ? S_MASK0 : S_MASK1)) >>> 2];
      let link = table + (hash & mask) * 4;
      let e = u32[link >>> 2];
      while (e !== 0) {
        if (u32[(e + E_HASH) >>> 2] === hash && u32[(e + E_KEYLEN) >>> 2] === kl && this.keyEquals(e, key, ks, kl)) {
          this.link = link;
          this.slotHeader = sh;
          return e;
        }
        link = e + E_NEXT;
        e = u32[link >>> 2];
      }
      if (!rehashing) break;
    }
    return 0;
  }

  isExpired(e: number, now: number): boolean {
    return (this.u8[e + E_FLAGS] & F_VOLATILE) !== 0 && this.f64[(e + E_EXPIRE) >>> 3] <= now;
  }

  /** Removes an expired entry (located by lookup/locate): lazy and active expiry. */
  expireEntry(db: number, e: number): void {
    this.onRemoval?.(db, e, false);
    this.remove(db, e);
    this.u32[H_EXPIRED]++;
  }

  /** Removes an entry chosen by maxmemory's policy (located by locate). */
  evictEntry(db: number, e: number): void {
    this.onRemoval?.(db, e, true);
    this.remove(db, e);
    this.u32[H_EVICTED]++;
  }

  /** lookup, but a key whose TTL has passed is deleted (lazy expiry) and reported missing. */
  find(db: number, slotIndex: number, key: Uint8Array, ks: number, kl: number, hash: number, now: number): number {
    const e = this.lookup(db, slotIndex, key, ks, kl, hash);
    if (e !== 0 && this.isExpired(e, now)) {
      if (!this.keepsExpired()) this.expireEntry(db, e);
      return 0;
    }
    return e;
  }

  /**
   * Inserts a new key (the caller checked it is absent) with room for
   * `valueCapacity` value bytes; sets `link`. The value is the caller's to write.
   */
  insert(db: number, slotIndex: number, key: Uint8Array, ks: number, kl: number, hash: number, type: number,
    valueCapacity: number, withTtl: boolean): number {
    const b = this.dbBlock(db);
    const sh = b + D_SLOTS + slotIndex * SLOT_HEADER_BYTES;
    const keyOff = withTtl ? E_FIXED + E_TTL_SECTION : E_FIXED;
    const c = checkedSizeClass(keyOff + kl + valueCapacity);
    // Allocate the entry first: a full arena must leave the table untouched.
    const e = this.allocClass(c);
    if (this.u32[(sh + S_TABLE0) >>> 2] === 0) {
      let table: number;
      try {
        table = this.newTable(4);
      } catch (err) {
        this.freeClass(e, c);
        throw err;
      }
      this.u32[(sh + S_TABLE0) >>> 2] = table;
      this.u32[(sh + S_MASK0) >>> 2] = 3;
    } else if (this.u32[(sh + S_REHASH) >>> 2] === 0 && this.u32[(sh + S_USED) >>> 2] > this.u32[(sh + S_MASK0) >>> 2]) {
      this.tryStartRehash(sh, (this.u32[(sh + S_MASK0) >>> 2] + 1) * 2);
    }
    // No allocation below: the views stay valid.
    const u32 = this.u32;
    const used = u32[(sh + S_USED) >>> 2];
    const rehashing = u32[(sh + S_REHASH) >>> 2] !== 0 && this.rehashStep(sh, 1);
    u32[(e + E_HASH) >>> 2] = hash;
    u32[(e + E_KEYLEN) >>> 2] = kl;
    u32[(e + E_VALLEN) >>> 2] = 0;
    u32[(e + E_LRU) >>> 2] = 0;
    const u8 = this.u8;
    u8[e + E_TYPE] = type;
    u8[e + E_FLAGS] = withTtl ? F_TTL_SECTION : 0;
    u8[e + E_ENCODING] = 0;
    u8[e + E_CLASS] = c;
    const kp = e + keyOff;
    if (kl < 32) for (let i = 0; i < kl; i++) u8[kp + i] = key[ks + i];
    else u8.set(key.subarray(ks, ks + kl), kp);
    const table = u32[(sh + (rehashing ? S_TABLE1 : S_TABLE0)) >>> 2];
    const mask = u32[(sh + (rehashing ? S_MASK1 : S_MASK0)) >>> 2];
    const bucket = table + (hash & mask) * 4;
    u32[e >>> 2] = u32[bucket >>> 2];
    u32[bucket >>> 2] = e;
    u32[(sh + S_USED) >>> 2] = used + 1;
    u32[(b + D_KEYS) >>> 2]++;
    u32[H_KEYS]++;
    this.link = bucket;
    this.slotHeader = sh;
    return e;
  }

  /** Removes the entry found by the last lookup/insert (uses `link` and `slotHeader`). */
  remove(db: number, e: number): void {
    // removeVolatile may allocate (shrinking its array): take the views after it.
    if (this.u8[e + E_FLAGS] & F_VOLATILE) this.removeVolatile(db, e);
    this.releaseValue(e);
    const u32 = this.u32;
    const sh = this.slotHeader;
    u32[this.link >>> 2] = u32[e >>> 2];
    this.freeClass(e, this.u8[e + E_CLASS]);
    const used = u32[(sh + S_USED) >>> 2] - 1;
    u32[(sh + S_USED) >>> 2] = used;
    u32[(this.u32[this.dbDir + db] + D_KEYS) >>> 2]--;
    u32[H_KEYS]--;
    const mask0 = u32[(sh + S_MASK0) >>> 2];
    if (used === 0) {
      // An empty slot keeps no table at all (16384 slots x databases add up),
      // also when it empties mid-rehash: remove() does not step the rehash,
      // so FLUSHSLOTS of a big slot would otherwise leave both tables behind.
      this.free(u32[(sh + S_TABLE0) >>> 2], (mask0 + 1) * 4);
      if (u32[(sh + S_REHASH) >>> 2] !== 0) {
        this.free(u32[(sh + S_TABLE1) >>> 2], (u32[(sh + S_MASK1) >>> 2] + 1) * 4);
        u32[(sh + S_TABLE1) >>> 2] = 0;
        u32[(sh + S_MASK1) >>> 2] = 0;
        u32[(sh + S_REHASH) >>> 2] = 0;
        u32[H_REHASHING]--;
      }
      u32[(sh + S_TABLE0) >>> 2] = 0;
      u32[(sh + S_MASK0) >>> 2] = 0;
    } else if (u32[(sh + S_REHASH) >>> 2] === 0 && mask0 >= 7 && used * 8 < mask0 + 1) {
      let buckets = 4;
      while (buckets < used) buckets *= 2;
      this.tryStartRehash(sh, buckets);
    }
  }

  /** Sets `link` and `slotHeader` for an entry known to be in the table (by pointer). */
  locate(db: number, e: number): boolean {
    const u32 = this.u32;
    const ks = this.keyStart(e);
    const kl = u32[(e + E_KEYLEN) >>> 2];
    const slotIndex = keyHashSlot(this.u8, ks, kl) >> this.geometry.shardBits;
    const sh = this.slotHeaderOf(db, slotIndex);
    if (sh === 0) return false;
    const hash = u32[(e + E_HASH) >>> 2];
    for (let t = 0; t < 2; t++) {
      const table = u32[(sh + (t === 0 ? S_TABLE0 : S_TABLE1)) >>> 2];
      if (table === 0) continue;
      const mask = u32[(sh + (t === 0 ? S_MASK0 : S_MASK1)) >>> 2];
      let link = table + (hash & mask) * 4;
      let cur = u32[link >>> 2];
      while (cur !== 0) {
        if (cur === e) {
          this.link = link;
          this.slotHeader = sh;
          return true;
        }
        link = cur + E_NEXT;
        cur = u32[link >>> 2];
      }
    }
    return false;
  }

  // ---- values and TTLs ----

  /**
   * Makes the entry (found by the last lookup) able to hold `length` value
   * bytes, moving it to another block when needed; keeps `keep` bytes of the
   * old value. Returns the entry's (possibly new) offset.
   */
  resizeValue(db: number, e: number, length: number, keep: number, withTtl: boolean): number {
    let u8 = this.u8;
    let u32 = this.u32;
    const flags = u8[e + E_FLAGS];
    const hasSection = (flags & F_TTL_SECTION) !== 0;
    const wantSection = withTtl || (flags & F_VOLATILE) !== 0;
    const kl = u32[(e + E_KEYLEN) >>> 2];
    const block = classSize(u8[e + E_CLASS]);
    const keyOff = hasSection ? E_FIXED + E_TTL_SECTION : E_FIXED;
    const need = keyOff + kl + length;
    if (hasSection === wantSection || (hasSection && !wantSection && need <= block)) {
      // In place when it fits and does not waste more than half the block.
      if (need <= block && (block <= 64 || need * 2 > block)) {
        u32[(e + E_VALLEN) >>> 2] = length;
        return e;
      }
    }
    const newKeyOff = wantSection ? E_FIXED + E_TTL_SECTION : E_FIXED;
    const c = checkedSizeClass(newKeyOff + kl + length);
    const n = this.allocClass(c);
    u8 = this.u8;
    u32 = this.u32;
    u8.copyWithin(n + 4, e + 4, e + E_FIXED);
    u8[n + E_CLASS] = c;
    u8[n + E_FLAGS] = (flags & F_VOLATILE) | (wantSection ? F_TTL_SECTION : 0);
    if (wantSection) {
      if (hasSection) u8.copyWithin(n + E_FIXED, e + E_FIXED, e + E_FIXED + E_TTL_SECTION);
      else u8.fill(0, n + E_FIXED, n + E_FIXED + E_TTL_SECTION);
    }
    u8.copyWithin(n + newKeyOff, e + keyOff, e + keyOff + kl + Math.min(keep, length));
    u32[(n + E_VALLEN) >>> 2] = length;
    u32[n >>> 2] = u32[e >>> 2];
    u32[this.link >>> 2] = n;
    if (flags & F_VOLATILE) {
      const arr = u32[(u32[this.dbDir + db] + D_VOLATILE_ARRAY) >>> 2];
      u32[(arr >>> 2) + u32[(n + E_VOLATILE_INDEX) >>> 2]] = n;
    }
    this.freeClass(e, u8[e + E_CLASS]);
    return n;
  }

  expireAt(e: number): number {
    return this.u8[e + E_FLAGS] & F_VOLATILE ? this.f64[(e + E_EXPIRE) >>> 3] : -1;
  }

  /** Sets the entry's expire time (unix ms); returns its (possibly moved) offset. */
  setExpire(db: number, e: number, when: number): number {
    if ((this.u8[e + E_FLAGS] & F_TTL_SECTION) === 0) {
      e = this.resizeValue(db, e, this.valueLength(e), this.valueLength(e), true);
    }
    this.f64[(e + E_EXPIRE) >>> 3] = when;
    if ((this.u8[e + E_FLAGS] & F_VOLATILE) === 0) {
      // Into the volatile array before the flag: if the array cannot grow,
      // the key stays as it was instead of flagged but missing from the array.
      this.addVolatile(db, e);
      this.u8[e + E_FLAGS] |= F_VOLATILE;
    }
    return e;
  }

  /** Removes the TTL; returns whether there was one. */
  persist(db: number, e: number): boolean {
    if ((this.u8[e + E_FLAGS] & F_VOLATILE) === 0) return false;
    this.removeVolatile(db, e);
    this.u8[e + E_FLAGS] &= ~F_VOLATILE;
    return true;
  }

  private addVolatile(db: number, e: number): void {
    const b = this.dbBlock(db);
    let u32 = this.u32;
    const n = u32[(b + D_VOLATILE) >>> 2];
    let cap = u32[(b + D_VOLATILE_CAPACITY) >>> 2];
    let arr = u32[(b + D_VOLATILE_ARRAY) >>> 2];
    if (n === cap) {
      const nextCap = cap === 0 ? 16 : cap * 2;
      const next = this.alloc(nextCap * 4);
      u32 = this.u32;
      if (arr !== 0) {
        this.u8.copyWithin(next, arr, arr + n * 4);
        this.free(arr, cap * 4);
      }
      arr = next;
      cap = nextCap;
      u32[(b + D_VOLATILE_ARRAY) >>> 2] = arr;
      u32[(b + D_VOLATILE_CAPACITY) >>> 2] = cap;
    }
    u32[(arr >>> 2) + n] = e;
    u32[(e + E_VOLATILE_INDEX) >>> 2] = n;
    u32[(b + D_VOLATILE) >>> 2] = n + 1;
  }

  private removeVolatile(db: number, e: number): void {
    const u32 = this.u32;
    const b = u32[this.dbDir + db];
    const arr = u32[(b + D_VOLATILE_ARRAY) >>> 2] >>> 2;
    const n = u32[(b + D_VOLATILE) >>> 2] - 1;
    const idx = u32[(e + E_VOLATILE_INDEX) >>> 2];
    const last = u32[arr + n];
    u32[arr + idx] = last;
    u32[(last + E_VOLATILE_INDEX) >>> 2] = idx;
    u32[(b + D_VOLATILE) >>> 2] = n;
    let cap = u32[(b + D_VOLATILE_CAPACITY) >>> 2];
    if (n === 0) {
      this.free(arr * 4, cap * 4);
      u32[(b + D_VOLATILE_ARRAY) >>> 2] = 0;
      u32[(b + D_VOLATILE_CAPACITY) >>> 2] = 0;
    } else if (cap > 64 && n * 4 < cap) {
      cap = cap / 2;
      let next: number;
      try {
        next = this.alloc(cap * 4);
      } catch (err) {
        // Shrinking is optional: with a full arena the array stays as large.
        if (err instanceof StoreFullError) return;
        throw err;
      }
      this.u8.copyWithin(next, arr * 4, (arr * 4) + n * 4);
      this.free(arr * 4, cap * 8);
      this.u32[(b + D_VOLATILE_ARRAY) >>> 2] = next;
      this.u32[(b + D_VOLATILE_CAPACITY) >>> 2] = cap;
    }
  }

}
