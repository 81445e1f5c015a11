/**
 * One shard of the keyspace as the rest of weft uses it: the slot tables
 * (slot-tables.ts) over the arena (shard-arena.ts), plus what walks them —
 * random sampling for eviction and RANDOMKEY, SCAN's cursor steps, slot
 * enumeration, background rehashing, and flushing. All access happens under
 * the shard's lock.
 */
import { CLASS_COUNT } from './size-classes.js';
import {
  D_KEYS, D_SLOTS, D_VOLATILE, D_VOLATILE_ARRAY, D_VOLATILE_CAPACITY, E_CLASS, E_ENCODING, E_TYPE, H_EPOCH, H_KEYS, H_LAZY, H_WAITERS_HEAD, H_WATCH_HEAD,
  H_LIVE, H_REHASHING, H_TOP, ValueType,
  S_MASK0, S_MASK1, S_REHASH, S_TABLE0, S_TABLE1, S_USED, SLOT_HEADER_BYTES,
} from './layout.js';
import { SlotTables } from './slot-tables.js';
import { dictScan } from './arena-dict.js';
import { freeEffort, hasExternalBlocks, headerBytes, LAZYFREE_THRESHOLD, releaseBlocks } from './collections.js';
import { StoreFullError, type ShardGeometry } from './shard-arena.js';

export { StoreFullError, type ShardGeometry };

/** A lazy-free record: next record · type · encoding · the value's header (8-byte aligned). */
const LAZY_TYPE = 4;
const LAZY_ENCODING = 5;
const LAZY_RECORD_HEADER = 8;

export class Shard extends SlotTables {
  /** A uniformly random entry with a TTL, or 0. */
  randomVolatile(db: number): number {
    const b = this.u32[this.dbDir + db];
    if (b === 0) return 0;
    const n = this.u32[(b + D_VOLATILE) >>> 2];
    if (n === 0) return 0;
    const arr = this.u32[(b + D_VOLATILE_ARRAY) >>> 2];
    return this.u32[(arr >>> 2) + Math.floor(Math.random() * n)];
  }

  /** A random entry (random non-empty slot, random non-empty bucket, random chain element), or 0. */
  randomEntry(db: number): number {
    const u32 = this.u32;
    const b = u32[this.dbDir + db];
    if (b === 0 || u32[(b + D_KEYS) >>> 2] === 0) return 0;
    const slots = this.slotsPerShard;
    let si = Math.floor(Math.random() * slots);
    let sh = b + D_SLOTS + si * SLOT_HEADER_BYTES;
    for (let tries = 0; u32[(sh + S_USED) >>> 2] === 0; tries++) {
      si = tries < 32 ? Math.floor(Math.random() * slots) : (si + 1) % slots;
      sh = b + D_SLOTS + si * SLOT_HEADER_BYTES;
    }
    // Random buckets first (as dictGetRandomKey), then a sweep: a bounded search even if counts lie.
    const rehashing = u32[(sh + S_REHASH) >>> 2] !== 0;
    const sweep = 2 * (u32[(sh + S_MASK0) >>> 2] + 1 + (rehashing ? u32[(sh + S_MASK1) >>> 2] + 1 : 0));
    for (let probe = 0; probe < 64 + sweep; probe++) {
      const useT1 = rehashing && (probe < 64 ? Math.random() < 0.5 : probe - 64 >= sweep / 2);
      const table = u32[(sh + (useT1 ? S_TABLE1 : S_TABLE0)) >>> 2];
      const mask = u32[(sh + (useT1 ? S_MASK1 : S_MASK0)) >>> 2];
      const bucket = probe < 64 ? Math.floor(Math.random() * (mask + 1)) : (probe - 64) % (mask + 1);
      const head = u32[(table >>> 2) + bucket];
      if (head === 0) continue;
      let len = 0;
      for (let e = head; e !== 0; e = u32[e >>> 2]) len++;
      let e = head;
      for (let k = Math.floor(Math.random() * len); k > 0; k--) e = u32[e >>> 2];
      return e;
    }
    return 0;
  }

  // ---- iteration ----

  /**
   * One step of Redis's dictScan over a slot's table(s): calls `visit` for
   * every entry of the bucket(s) at `cursor` and returns the next cursor
   * (0 when done). Keys present for the whole scan are returned at least once,
   * even while the table grows or shrinks between calls.
   */
  scanSlot(db: number, slotIndex: number, cursor: number, visit: (e: number) => void): number {
    const sh = this.slotHeaderOf(db, slotIndex);
    // A slot table header has the collection dict's layout: the same cursor walk serves both.
    return sh === 0 ? 0 : dictScan(this, sh, cursor, visit);
  }

  /** Calls visit for every entry of a slot (no lookups may run meanwhile). */
  forEachInSlot(db: number, slotIndex: number, visit: (e: number) => boolean | void): void {
    const u32 = this.u32;
    const sh = this.slotHeaderOf(db, slotIndex);
    if (sh === 0 || u32[(sh + S_USED) >>> 2] === 0) return;
    for (let t = 0; t < 2; t++) {
      const table = u32[(sh + (t === 0 ? S_TABLE0 : S_TABLE1)) >>> 2];
      if (table === 0) continue;
      const mask = u32[(sh + (t === 0 ? S_MASK0 : S_MASK1)) >>> 2];
      for (let i = 0; i <= mask; i++) {
        for (let e = u32[(table >>> 2) + i]; e !== 0;) {
          const next = u32[e >>> 2];
          if (visit(e) === false) return;
          e = next;
        }
      }
    }
  }

  /** Moves a few buckets of every rehashing table; returns whether work remains. */
  rehashSome(db: number, budget: number): boolean {
    const b = this.u32[this.dbDir + db];
    if (b === 0 || this.u32[H_REHASHING] === 0) return false;
    let more = false;
    for (let si = 0; si < this.slotsPerShard && budget > 0; si++) {
      const sh = b + D_SLOTS + si * SLOT_HEADER_BYTES;
      if (this.u32[(sh + S_REHASH) >>> 2] !== 0) {
        more = this.rehashStep(sh, 100) || more;
        budget -= 100;
      }
    }
    return more;
  }

  // ---- background freeing (Redis's lazyfree.c) ----

  /**
   * Removes the entry found by the last lookup, like remove(), but a
   * collection whose freeing effort is above LAZYFREE_THRESHOLD is only
   * detached: its header moves to a record on the shard's lazy list and
   * freeLazySome frees its blocks a step at a time, so no command holds the
   * shard lock for O(N). Returns whether the value went to the list.
   */
  removeLazily(db: number, e: number): boolean {
    const type = this.u8[e + E_TYPE];
    const encoding = this.u8[e + E_ENCODING];
    if (type === ValueType.String || !hasExternalBlocks(type, encoding)) {
      this.remove(db, e);
      return false;
    }
    const v = this.collectionStart(e);
    if (freeEffort(this, type, encoding, v) <= LAZYFREE_THRESHOLD) {
      this.remove(db, e);
      return false;
    }
    const bytes = headerBytes(type, encoding);
    const record = this.alloc(LAZY_RECORD_HEADER + bytes);
    // Allocation does not move the entry; the views may have changed.
    const u8 = this.u8;
    u8.copyWithin(record + LAZY_RECORD_HEADER, this.collectionStart(e), this.collectionStart(e) + bytes);
    u8[record + LAZY_TYPE] = type;
    u8[record + LAZY_ENCODING] = encoding;
    this.u32[record >>> 2] = this.u32[H_LAZY];
    this.u32[H_LAZY] = record;
    // The entry now holds nothing remove() would free twice.
    u8[e + E_TYPE] = ValueType.String;
    this.remove(db, e);
    return true;
  }

  /** Whether detached values wait to be freed. */
  get lazyPending(): boolean {
    return this.u32[H_LAZY] !== 0;
  }

  /** Frees up to `budget` units of detached values; returns whether any are left. The caller holds the lock. */
  freeLazySome(budget: number): boolean {
    const record = this.u32[H_LAZY];
    if (record === 0) return false;
    const type = this.u8[record + LAZY_TYPE];
    const encoding = this.u8[record + LAZY_ENCODING];
    if (!releaseBlocks(this, type, encoding, record + LAZY_RECORD_HEADER, budget)) {
      this.u32[H_LAZY] = this.u32[record >>> 2];
      this.free(record, LAZY_RECORD_HEADER + headerBytes(type, encoding));
    }
    return this.u32[H_LAZY] !== 0;
  }

  // ---- flushing ----

  /** Empties every database of the shard in O(1): the arena starts over. */
  flushAll(): void {
    // Records of blocked clients and of watched keys live in the arena: they must survive, so the
    // databases are emptied one by one instead of the arena starting over.
    if (this.u32[H_WAITERS_HEAD] !== 0 || this.u32[H_WATCH_HEAD] !== 0) {
      for (let db = 0; db < this.geometry.databases; db++) this.flushDb(db);
      return;
    }
    const u32 = this.u32;
    u32.fill(0, this.dbDir, this.freeHeads + CLASS_COUNT);
    u32[H_TOP] = this.headerBytes;
    u32[H_LIVE] = 0;
    u32[H_KEYS] = 0;
    u32[H_REHASHING] = 0;
    u32[H_LAZY] = 0;
    u32[H_EPOCH]++;
  }

  /** Empties one database, returning its blocks to the free lists. */
  flushDb(db: number): void {
    const u32 = this.u32;
    const b = u32[this.dbDir + db];
    if (b === 0) return;
    for (let si = 0; si < this.slotsPerShard; si++) {
      const sh = b + D_SLOTS + si * SLOT_HEADER_BYTES;
      this.forEachInSlot(db, si, (e) => {
        this.releaseValue(e);
        this.freeClass(e, this.u8[e + E_CLASS]);
      });
      const t0 = u32[(sh + S_TABLE0) >>> 2];
      if (t0 !== 0) this.free(t0, (u32[(sh + S_MASK0) >>> 2] + 1) * 4);
      const t1 = u32[(sh + S_TABLE1) >>> 2];
      if (t1 !== 0) {
        this.free(t1, (u32[(sh + S_MASK1) >>> 2] + 1) * 4);
        u32[H_REHASHING]--;
      }
    }
    const arr = u32[(b + D_VOLATILE_ARRAY) >>> 2];
    if (arr !== 0) this.free(arr, u32[(b + D_VOLATILE_CAPACITY) >>> 2] * 4);
    u32[H_KEYS] -= u32[(b + D_KEYS) >>> 2];
    this.free(b, D_SLOTS + this.slotsPerShard * SLOT_HEADER_BYTES);
    u32[this.dbDir + db] = 0;
    u32[H_EPOCH]++;
  }

  /** Removes every key of one slot (CLUSTER FLUSHSLOTS / DELSLOTS paths); returns how many. */
  flushSlot(db: number, slotIndex: number): number {
    if (this.slotHeaderOf(db, slotIndex) === 0) return 0;
    let n = 0;
    const victims: number[] = [];
    this.forEachInSlot(db, slotIndex, (e) => {
      victims.push(e);
    });
    for (const e of victims) {
      if (this.locate(db, e)) {
        this.remove(db, e);
        n++;
      }
    }
    return n;
  }
}
