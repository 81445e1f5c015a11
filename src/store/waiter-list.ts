/**
 * Clients blocked on keys, as a shard sees them: one record per (waiter,
 * key) in the shard's arena, in one FIFO list per shard, so that a write on
 * any thread that creates a key finds — under the same shard lock — who
 * waits for it, and "the key is empty, so I wait" is atomic with every push
 * (Redis's blocking_keys dict, shared between threads here).
 *
 * A record says what the waiter wants, so the writer can serve it inside
 * its own critical section. Whether a waiter is still waiting is not in
 * the record: it is a claim word in a SharedArrayBuffer shared by every
 * thread (one per waiter, with a generation), because a waiter on several
 * keys has records in several shards and exactly one outcome.
 *
 * Record: next · prev · claim slot · generation · thread (u8) · kind (u8) ·
 * RESP version (u8) · flags (u8) · physical db · count · key length ·
 * destination length · key bytes · destination key bytes.
 */
import type { Shard } from './shard.js';
import { H_WAITERS_HEAD, H_WAITERS_TAIL } from './layout.js';
import { appendRecord, R_GENERATION, R_NEXT, R_SLOT, removeRecord, removeRecordsOf, type RecordList } from './record-list.js';

const W_NEXT = R_NEXT;
const W_SLOT = R_SLOT;
const W_GENERATION = R_GENERATION;
const W_THREAD = 16;
const W_KIND = 17;
const W_RESP = 18;
const W_FLAGS = 19;
const W_DB = 20;
const W_COUNT = 24;
const W_KEYLEN = 28;
const W_DESTLEN = 32;
const W_KEY = 36;

/** What a waiter asked for, as its record keeps it. */
export interface WaiterRequest {
  slot: number;
  generation: number;
  thread: number;
  kind: number;
  resp: number;
  flags: number;
  db: number;
  count: number;
}

function recordSize(keyLength: number, destLength: number): number {
  return W_KEY + keyLength + destLength;
}

const WAITERS: RecordList = {
  headWord: H_WAITERS_HEAD,
  tailWord: H_WAITERS_TAIL,
  sizeOf: (shard, r) => recordSize(shard.u32[(r + W_KEYLEN) >>> 2], shard.u32[(r + W_DESTLEN) >>> 2]),
};

/** Appends a record for one key of a waiter (the caller holds the shard lock). */
export function addWaiter(shard: Shard, w: WaiterRequest, key: Uint8Array, ks: number, kl: number,
  dest: Uint8Array | null, ds: number, dl: number): void {
  const r = shard.alloc(recordSize(kl, dl));
  const u32 = shard.u32;
  const u8 = shard.u8;
  u32[(r + W_SLOT) >>> 2] = w.slot;
  u32[(r + W_GENERATION) >>> 2] = w.generation;
  u8[r + W_THREAD] = w.thread;
  u8[r + W_KIND] = w.kind;
  u8[r + W_RESP] = w.resp;
  u8[r + W_FLAGS] = w.flags;
  u32[(r + W_DB) >>> 2] = w.db;
  u32[(r + W_COUNT) >>> 2] = w.count;
  u32[(r + W_KEYLEN) >>> 2] = kl;
  u32[(r + W_DESTLEN) >>> 2] = dl;
  u8.set(key.subarray(ks, ks + kl), r + W_KEY);
  if (dest !== null && dl > 0) u8.set(dest.subarray(ds, ds + dl), r + W_KEY + kl);
  appendRecord(shard, WAITERS, r);
}

/** Unlinks and frees a record. */
export function removeWaiter(shard: Shard, r: number): void {
  removeRecord(shard, WAITERS, r);
}

/** Whether anyone waits on a key of this shard (read under the lock: one word). */
export function hasWaiters(shard: Shard): boolean {
  return shard.u32[H_WAITERS_HEAD] !== 0;
}

/** The first record after `from` (0: from the head) waiting on (db, key), or 0. FIFO order. */
export function nextWaiterFor(shard: Shard, from: number, db: number, key: Uint8Array, ks: number, kl: number): number {
  const u32 = shard.u32;
  const u8 = shard.u8;
  let r = from === 0 ? u32[H_WAITERS_HEAD] : u32[(from + W_NEXT) >>> 2];
  for (; r !== 0; r = u32[(r + W_NEXT) >>> 2]) {
    if (u32[(r + W_DB) >>> 2] !== db || u32[(r + W_KEYLEN) >>> 2] !== kl) continue;
    let same = true;
    for (let i = 0; i < kl && same; i++) same = u8[r + W_KEY + i] === key[ks + i];
    if (same) return r;
  }
  return 0;
}

/** Removes every record of one waiter (its slot and generation); returns how many. */
export function removeWaiterRecords(shard: Shard, slot: number, generation: number): number {
  return removeRecordsOf(shard, WAITERS, slot, generation);
}

/** Reads a record's request. */
export function readWaiter(shard: Shard, r: number, out: WaiterRequest): void {
  const u32 = shard.u32;
  const u8 = shard.u8;
  out.slot = u32[(r + W_SLOT) >>> 2];
  out.generation = u32[(r + W_GENERATION) >>> 2];
  out.thread = u8[r + W_THREAD];
  out.kind = u8[r + W_KIND];
  out.resp = u8[r + W_RESP];
  out.flags = u8[r + W_FLAGS];
  out.db = u32[(r + W_DB) >>> 2];
  out.count = u32[(r + W_COUNT) >>> 2];
}

/** The destination key of a record (BLMOVE, BRPOPLPUSH), copied out. */
export function waiterDestination(shard: Shard, r: number): Buffer {
  const u32 = shard.u32;
  const kl = u32[(r + W_KEYLEN) >>> 2];
  const dl = u32[(r + W_DESTLEN) >>> 2];
  return Buffer.from(shard.u8.subarray(r + W_KEY + kl, r + W_KEY + kl + dl));
}
