/**
 * A doubly linked list of records in a shard's arena, anchored in two
 * header words (head, tail): the clients blocked on keys (waiter-list.ts)
 * and the keys clients WATCH (watch-list.ts). Every record starts with
 * next · prev · owner slot · owner generation, so that the records of one
 * owner (a blocked client, a watching client) can be found and removed
 * together. The caller holds the shard lock.
 */
import type { Shard } from './shard.js';

export const R_NEXT = 0;
const R_PREV = 4;
export const R_SLOT = 8;
export const R_GENERATION = 12;

/** Where a list is anchored, and how big a record of it is (to free it). */
export interface RecordList {
  headWord: number;
  tailWord: number;
  sizeOf(shard: Shard, r: number): number;
}

/** Appends record r (allocated, fields set) at the tail. */
export function appendRecord(shard: Shard, list: RecordList, r: number): void {
  const u32 = shard.u32;
  const tail = u32[list.tailWord];
  u32[(r + R_NEXT) >>> 2] = 0;
  u32[(r + R_PREV) >>> 2] = tail;
  if (tail === 0) u32[list.headWord] = r;
  else u32[(tail + R_NEXT) >>> 2] = r;
  u32[list.tailWord] = r;
}

/** Unlinks and frees a record. */
export function removeRecord(shard: Shard, list: RecordList, r: number): void {
  const u32 = shard.u32;
  const next = u32[(r + R_NEXT) >>> 2];
  const prev = u32[(r + R_PREV) >>> 2];
  if (prev === 0) u32[list.headWord] = next;
  else u32[(prev + R_NEXT) >>> 2] = next;
  if (next === 0) u32[list.tailWord] = prev;
  else u32[(next + R_PREV) >>> 2] = prev;
  shard.free(r, list.sizeOf(shard, r));
}

/** Removes every record of one owner (its slot and generation); returns how many. */
export function removeRecordsOf(shard: Shard, list: RecordList, slot: number, generation: number): number {
  const u32 = shard.u32;
  let n = 0;
  for (let r = u32[list.headWord]; r !== 0;) {
    const next = u32[(r + R_NEXT) >>> 2];
    if (u32[(r + R_SLOT) >>> 2] === slot && u32[(r + R_GENERATION) >>> 2] === generation) {
      removeRecord(shard, list, r);
      n++;
    }
    r = next;
  }
  return n;
}
