/**
 * Keys clients WATCH, as a shard sees them: one record per (client, key) in
 * the shard's arena, in one list per shard, so that a write on any worker
 * thread finds — under the same shard lock it writes under — who watches the
 * key it changed, and marks their transactions dirty (Redis's watched_keys
 * dict and touchWatchedKey, shared between threads here).
 *
 * Whether a client's transaction is dirty is not in the record: it is one
 * word per watching client in a SharedArrayBuffer every thread shares
 * (generation << 1 | dirty), because a client watches keys of several shards
 * and has one outcome. A record whose generation is not the word's current
 * one belongs to a watch already ended and marks nothing.
 *
 * Redis's expired-key rule (multi.c, watchedKey.expired): a key already
 * logically expired when WATCHed is flagged; its deletion (lazy or active
 * expiry, a flush) is then no change and clears the flag, while anything
 * that leaves the key existing still dirties the transaction.
 *
 * Record: next · prev · state slot · generation · flags (u8) · physical db ·
 * key hash · key length · key bytes.
 */
import type { Shard } from './shard.js';
import { H_WATCH_HEAD, H_WATCH_TAIL } from './layout.js';
import { appendRecord, R_GENERATION, R_NEXT, R_SLOT, removeRecordsOf, type RecordList } from './record-list.js';

const R_FLAGS = 16;
const R_DB = 20;
const R_HASH = 24;
const R_KEYLEN = 28;
const R_KEY = 32;

const WATCHES: RecordList = {
  headWord: H_WATCH_HEAD,
  tailWord: H_WATCH_TAIL,
  sizeOf: (shard, r) => R_KEY + shard.u32[(r + R_KEYLEN) >>> 2],
};

/** Record flag: the key was logically expired when it was watched. */
const EXPIRED_AT_WATCH = 1;

/** A client's dirty word: its generation, shifted, and bit 0 set once a watched key changed. */
export function watchWord(generation: number): number {
  return generation << 1;
}

function markDirty(states: Int32Array, slot: number, generation: number): void {
  Atomics.compareExchange(states, slot, watchWord(generation), watchWord(generation) | 1);
}

/** Appends a record for one watched key (the caller holds the shard lock). */
export function addWatch(shard: Shard, slot: number, generation: number, db: number,
  key: Uint8Array, ks: number, kl: number, hash: number, expired: boolean): void {
  const r = shard.alloc(R_KEY + kl);
  const u32 = shard.u32;
  u32[(r + R_SLOT) >>> 2] = slot;
  u32[(r + R_GENERATION) >>> 2] = generation;
  u32[(r + R_FLAGS) >>> 2] = expired ? EXPIRED_AT_WATCH : 0;
  u32[(r + R_DB) >>> 2] = db;
  u32[(r + R_HASH) >>> 2] = hash;
  u32[(r + R_KEYLEN) >>> 2] = kl;
  shard.u8.set(key.subarray(ks, ks + kl), r + R_KEY);
  appendRecord(shard, WATCHES, r);
}

/** Removes every record of one watching client (slot and generation); returns how many. */
export function removeWatches(shard: Shard, slot: number, generation: number): number {
  return removeRecordsOf(shard, WATCHES, slot, generation);
}

/** Whether any key of this shard is watched (one word, read under the lock). */
export function hasWatches(shard: Shard): boolean {
  return shard.u32[H_WATCH_HEAD] !== 0;
}

function sameKey(shard: Shard, r: number, db: number, key: Uint8Array, ks: number, kl: number, hash: number): boolean {
  const u32 = shard.u32;
  if (u32[(r + R_HASH) >>> 2] !== hash || u32[(r + R_DB) >>> 2] !== db || u32[(r + R_KEYLEN) >>> 2] !== kl) return false;
  const u8 = shard.u8;
  for (let i = 0; i < kl; i++) if (u8[r + R_KEY + i] !== key[ks + i]) return false;
  return true;
}

/**
 * touchWatchedKey: the key (db, bytes) was changed; every client watching it
 * gets its transaction marked dirty. `existsAfter` says whether the key is in
 * the database once the change is done (a deletion: false), which decides the
 * expired-at-watch case.
 */
export function touchWatchedKey(shard: Shard, states: Int32Array, db: number, key: Uint8Array, ks: number, kl: number,
  hash: number, existsAfter: () => boolean): void {
  const u32 = shard.u32;
  let exists = -1;
  for (let r = u32[H_WATCH_HEAD]; r !== 0; r = u32[(r + R_NEXT) >>> 2]) {
    if (!sameKey(shard, r, db, key, ks, kl, hash)) continue;
    if ((u32[(r + R_FLAGS) >>> 2] & EXPIRED_AT_WATCH) !== 0) {
      if (exists < 0) exists = existsAfter() ? 1 : 0;
      if (exists === 0) {
        // The expired key is deleted: logically no change; from now on it is an ordinary missing key.
        u32[(r + R_FLAGS) >>> 2] = 0;
        continue;
      }
    }
    markDirty(states, u32[(r + R_SLOT) >>> 2], u32[(r + R_GENERATION) >>> 2]);
  }
}

/** What a flush needs to know of a watched key, in the databases concerned. */
export interface FlushProbe {
  /** 0: missing; 1: present; 2: present but logically expired. */
  state(db: number, key: Uint8Array, ks: number, kl: number, hash: number): number;
}

/**
 * touchAllWatchedKeysInDb for FLUSHALL / FLUSHDB (`other` -1) and SWAPDB
 * (`other` the database swapped with `db`): called before the change, for
 * every record of `db`. A watched key that exists in the emptied database, or
 * in the one replacing it, dirties its client, with Redis's exceptions for keys
 * expired at watch time.
 */
export function touchWatchedInFlush(shard: Shard, states: Int32Array, db: number, other: number, probe: FlushProbe): void {
  const u32 = shard.u32;
  const u8 = shard.u8;
  for (let r = u32[H_WATCH_HEAD]; r !== 0; r = u32[(r + R_NEXT) >>> 2]) {
    if (u32[(r + R_DB) >>> 2] !== db) continue;
    const kl = u32[(r + R_KEYLEN) >>> 2];
    const hash = u32[(r + R_HASH) >>> 2];
    const inEmptied = probe.state(db, u8, r + R_KEY, kl, hash) !== 0;
    const replacing = other < 0 ? 0 : probe.state(other, u8, r + R_KEY, kl, hash);
    if (!inEmptied && replacing === 0) continue;
    const flags = u32[(r + R_FLAGS) >>> 2];
    if ((flags & EXPIRED_AT_WATCH) !== 0) {
      if (replacing === 0) {
        u32[(r + R_FLAGS) >>> 2] = 0;
        continue;
      }
      if (replacing === 2) continue;
    } else if (!inEmptied && replacing === 2) {
      // A missing key replaced by an expired one: flagged as if watched expired.
      u32[(r + R_FLAGS) >>> 2] = EXPIRED_AT_WATCH;
      continue;
    }
    markDirty(states, u32[(r + R_SLOT) >>> 2], u32[(r + R_GENERATION) >>> 2]);
  }
}

/** SWAPDB: records follow their logical database, so those of the two physical databases trade places. */
export function swapWatchDatabases(shard: Shard, a: number, b: number): void {
  const u32 = shard.u32;
  for (let r = u32[H_WATCH_HEAD]; r !== 0; r = u32[(r + R_NEXT) >>> 2]) {
    const db = u32[(r + R_DB) >>> 2];
    if (db === a) u32[(r + R_DB) >>> 2] = b;
    else if (db === b) u32[(r + R_DB) >>> 2] = a;
  }
}
