/**
 * WATCH across worker threads (Redis's multi.c watch half): a watching
 * client holds one dirty word in a SharedArrayBuffer every thread shares and
 * one record per key in the shards of its keys (store/watch-list.ts). Every
 * change to a key — a command's write, an expiry or eviction, a flush, a
 * SWAPDB — marks the words of the key's watchers dirty, on whatever thread it
 * ran, under the key's shard lock. EXEC takes the locks of the watched keys'
 * shards before it reads its word, so no change can slip in between the
 * check and the transaction.
 *
 * Redis behaviours kept: a key watched twice is one watch; a key alive at
 * WATCH and logically expired at EXEC fails the EXEC even if nothing touched
 * it (isWatchedKeyExpired); a key already expired at WATCH whose deletion is
 * the only change does not; UNWATCH, DISCARD, EXEC and RESET end every watch.
 */
import type { CommandContext } from './context.js';
import type { ClientState } from './client-state.js';
import type { Keyspace } from '../store/keyspace.js';
import type { Shard } from '../store/shard.js';
import { keyHash, keyHashSlot, slotAndHash } from '../store/key-hash.js';
import { E_HASH, E_KEYLEN } from '../store/layout.js';
import {
  addWatch, hasWatches, removeWatches, swapWatchDatabases, touchWatchedInFlush, touchWatchedKey, watchWord, type FlushProbe,
} from '../store/watch-list.js';

/** Dirty words per worker thread: the most clients one thread can have watching at once. */
export const WATCH_SLOTS_PER_THREAD = 1 << 14;
/** Generations wrap below 2^30, so that generation << 1 | dirty stays a positive Int32. */
const GENERATION_LIMIT = 1 << 30;

interface WatchedKey {
  /** Logical database, as WATCH remembers it. */
  db: number;
  key: Buffer;
  shard: number;
  expiredAtWatch: boolean;
}

/** A client's watch: its dirty word and its keys. */
export interface ClientWatch {
  slot: number;
  generation: number;
  keys: WatchedKey[];
  /** Bit i: a watched key lives in shard i. */
  shardMask: number;
}

/**
 * One worker thread's share of the dirty words, and the node-wide count of
 * watch records that lets a write skip all of this while nobody watches.
 */
export class WatchSlots {
  private readonly free: number[] = [];
  private next = 0;
  private readonly generations = new Uint32Array(WATCH_SLOTS_PER_THREAD);

  /**
   * @param states every thread's dirty words
   * @param watchCount Int32 array whose word `countWord` counts watch records on the node
   */
  constructor(readonly states: Int32Array, private readonly thread: number, private readonly watchCount: Int32Array,
    private readonly countWord: number) {}

  /** Whether any key is watched on the node (a plain read: a stale 0 only skips keys nobody watched before this write's lock). */
  get any(): boolean {
    return this.watchCount[this.countWord] !== 0;
  }

  counted(delta: number): void {
    Atomics.add(this.watchCount, this.countWord, delta);
  }

  acquire(): ClientWatch | null {
    let local = this.free.pop();
    if (local === undefined) {
      if (this.next >= WATCH_SLOTS_PER_THREAD) return null;
      local = this.next++;
    }
    const generation = (this.generations[local] = (this.generations[local] + 1) % GENERATION_LIMIT);
    const slot = this.thread * WATCH_SLOTS_PER_THREAD + local;
    Atomics.store(this.states, slot, watchWord(generation));
    return { slot, generation, keys: [], shardMask: 0 };
  }

  release(w: ClientWatch): void {
    this.free.push(w.slot - this.thread * WATCH_SLOTS_PER_THREAD);
  }

  dirty(w: ClientWatch): boolean {
    return (Atomics.load(this.states, w.slot) & 1) !== 0;
  }
}

const TOO_MANY_WATCHERS = 'too many clients watching keys on this thread';

/** WATCH key [key ...], the keys' shards locked by the caller. */
export function watchKeys(c: CommandContext, slots: WatchSlots): boolean {
  const client = c.client;
  let w = client.watch ?? null;
  if (w === null) {
    w = slots.acquire();
    if (w === null) {
      c.out.error(TOO_MANY_WATCHERS);
      return false;
    }
    client.watch = w;
  }
  const db = c.ks.dbMap[client.db];
  for (let i = 1; i < c.argc; i++) {
    if (isWatched(w, client.db, c, i)) continue;
    c.keyArg = i;
    c.keyAt(i);
    const shard = c.shard;
    const e = shard.lookup(db, c.slotIndex, c.buf, c.argStart[i], c.argLen[i], c.hash);
    const expired = e !== 0 && shard.isExpired(e, c.now);
    addWatch(shard, w.slot, w.generation, db, c.buf, c.argStart[i], c.argLen[i], c.hash, expired);
    slots.counted(1);
    w.keys.push({ db: client.db, key: c.argCopy(i), shard: shard.index, expiredAtWatch: expired });
    w.shardMask |= 1 << shard.index;
  }
  return true;
}

function isWatched(w: ClientWatch, db: number, c: CommandContext, i: number): boolean {
  const len = c.argLen[i];
  const start = c.argStart[i];
  for (const k of w.keys) {
    if (k.db !== db || k.key.length !== len) continue;
    let same = true;
    for (let j = 0; j < len && same; j++) same = k.key[j] === c.buf[start + j];
    if (same) return true;
  }
  return false;
}

/**
 * unwatchAllKeys: removes the client's records. `held` is the mask of shards
 * the caller already holds; the others are locked here, in order.
 */
export function unwatchAllKeys(ks: Keyspace, client: ClientState, slots: WatchSlots, held: number): void {
  const w = client.watch ?? null;
  if (w === null) return;
  client.watch = null;
  let removed = 0;
  for (let mask = w.shardMask, i = 0; mask !== 0; i++, mask >>>= 1) {
    if ((mask & 1) === 0) continue;
    const shard = ks.shards[i];
    const own = (held & (1 << i)) === 0;
    if (own) shard.lock();
    try {
      removed += removeWatches(shard, w.slot, w.generation);
    } finally {
      if (own) shard.unlock();
    }
  }
  slots.counted(-removed);
  slots.release(w);
}

/**
 * Whether EXEC must fail: a watched key changed, or one alive at WATCH is now
 * logically expired. The caller holds the watched keys' shard locks.
 */
export function watchedKeysDirty(c: CommandContext, slots: WatchSlots): boolean {
  const w = c.client.watch ?? null;
  if (w === null) return false;
  if (slots.dirty(w)) return true;
  for (const k of w.keys) {
    if (k.expiredAtWatch) continue;
    const slot = slotAndHash(k.key, 0, k.key.length);
    const shard = c.ks.shards[slot & c.ks.shardMask];
    const e = shard.lookup(c.ks.dbMap[k.db], slot >> c.ks.shardBits, k.key, 0, k.key.length, keyHash.value);
    if (e !== 0 && shard.isExpired(e, c.now)) return true;
  }
  return false;
}

// ---- the writers' side: signalModifiedKey ----

/**
 * After a write command that changed the dataset (c.dirty > 0), with its
 * locks still held: the watchers of the keys it changed (modifiedKeyArgs)
 * are touched.
 */
export function signalModifiedKeys(c: CommandContext, keys: ArrayLike<number>, slots: WatchSlots): void {
  for (let k = 0; k < keys.length; k++) touchArgument(c, keys[k], slots);
}

function touchArgument(c: CommandContext, i: number, slots: WatchSlots): void {
  touchKey(c.ks, slots, c.ks.dbMap[c.client.db], c.buf, c.argStart[i], c.argLen[i]);
}

/** The watchers of key[start, start + length) in physical database `db` are touched (the caller holds its shard lock). */
export function touchKey(ks: Keyspace, slots: WatchSlots, db: number, key: Uint8Array, start = 0, length = key.length): void {
  const slot = slotAndHash(key, start, length);
  const shard = ks.shards[slot & ks.shardMask];
  if (!hasWatches(shard)) return;
  touchWatchedKey(shard, slots.states, db, key, start, length, keyHash.value, () => ks.contains(db, key, start, length));
}

/** The store removes an entry (expiry, eviction): its watchers are touched, the key about to be gone. */
export function signalRemovedEntry(shard: Shard, slots: WatchSlots, db: number, e: number): void {
  if (!hasWatches(shard)) return;
  const start = shard.keyStart(e);
  const len = shard.u32[(e + E_KEYLEN) >>> 2];
  touchWatchedKey(shard, slots.states, db, shard.u8, start, len, shard.u32[(e + E_HASH) >>> 2], () => false);
}

function flushProbe(ks: Keyspace, shard: Shard, now: number): FlushProbe {
  return {
    state(db, key, ks0, kl, hash) {
      const slot = keyHashSlot(key, ks0, kl);
      const e = shard.lookup(db, slot >> ks.shardBits, key, ks0, kl, hash);
      if (e === 0) return 0;
      return shard.isExpired(e, now) ? 2 : 1;
    },
  };
}

/**
 * signalFlushedDb / touchAllWatchedKeysInDb before FLUSHALL (`db` -1),
 * FLUSHDB and SWAPDB (`other` the second database), with every shard locked;
 * databases are physical. For SWAPDB the records then follow their logical
 * database.
 */
export function signalFlushed(ks: Keyspace, slots: WatchSlots, db: number, other: number, now: number): void {
  if (!slots.any) return;
  for (const shard of ks.shards) {
    if (!hasWatches(shard)) continue;
    const probe = flushProbe(ks, shard, now);
    if (db < 0) {
      for (let d = 0; d < ks.databases; d++) touchWatchedInFlush(shard, slots.states, d, -1, probe);
    } else if (other < 0) {
      touchWatchedInFlush(shard, slots.states, db, -1, probe);
    } else {
      touchWatchedInFlush(shard, slots.states, db, other, probe);
      touchWatchedInFlush(shard, slots.states, other, db, probe);
      swapWatchDatabases(shard, db, other);
    }
  }
}
