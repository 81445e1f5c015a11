/**
 * Byte layout of a shard's SharedArrayBuffer. Every thread maps the same
 * layout over the same memory; offsets are u32 byte offsets (0 = none).
 */
import { CLASS_COUNT } from './size-classes.js';

// Shard header (u32 words).
export const H_LOCK = 0;
export const H_TOP = 1; // arena bump pointer (bytes)
export const H_LIVE = 2; // bytes in live blocks
export const H_KEYS = 3; // keys in all databases
export const H_EXPIRED = 4; // keys removed because their TTL passed
export const H_EVICTED = 5; // keys removed by maxmemory
export const H_EPOCH = 6; // bumped by FLUSHALL so cursors and caches can tell
export const H_REHASHING = 7; // slot tables currently being rehashed
/** The buffer's byteLength, published by the thread that grew it (reading a growable buffer's byteLength costs ~16 ns). */
export const H_BYTES = 8;
/** Head of the list of detached collections waiting to be freed in the background (UNLINK). */
export const H_LAZY = 9;
/** The FIFO list of records of clients blocked on this shard's keys (waiter-list.ts). */
export const H_WAITERS_HEAD = 10;
export const H_WAITERS_TAIL = 11;
/** The list of records of keys clients WATCH in this shard (watch-list.ts). */
export const H_WATCH_HEAD = 12;
export const H_WATCH_TAIL = 13;
export const H_WORDS_FIXED = 14;

export function headerLayout(databases: number): { dbDir: number; freeHeads: number; size: number } {
  const dbDir = H_WORDS_FIXED;
  const freeHeads = dbDir + databases;
  const words = freeHeads + CLASS_COUNT;
  return { dbDir, freeHeads, size: Math.ceil((words * 4) / 8) * 8 };
}

// Database block (one per physical database per shard), byte offsets.
export const D_KEYS = 0;
export const D_VOLATILE = 4; // keys with a TTL
export const D_VOLATILE_ARRAY = 8; // offset of the u32 array of volatile entries
export const D_VOLATILE_CAPACITY = 12;
export const D_SLOTS = 16;
// Per-slot hash table header inside the database block, byte offsets.
export const S_USED = 0;
export const S_TABLE0 = 4;
export const S_MASK0 = 8;
export const S_TABLE1 = 12;
export const S_MASK1 = 16;
export const S_REHASH = 20; // next bucket of table0 to move, -1 when not rehashing
export const SLOT_HEADER_BYTES = 24;

// Entry, byte offsets.
export const E_NEXT = 0;
export const E_HASH = 4;
export const E_KEYLEN = 8;
export const E_VALLEN = 12;
export const E_LRU = 16;
export const E_TYPE = 20;
export const E_FLAGS = 21;
export const E_ENCODING = 22;
export const E_CLASS = 23;
export const E_FIXED = 24;
// Present when F_TTL_SECTION is set.
export const E_EXPIRE = 24; // f64 unix ms
export const E_VOLATILE_INDEX = 32;
export const E_TTL_SECTION = 16;

export const F_TTL_SECTION = 1; // the entry has room for an expire time
export const F_VOLATILE = 2; // the expire time is set

export const enum ValueType {
  String = 0,
  List = 1,
  Set = 2,
  ZSet = 3,
  Hash = 4,
}

/** Redis's OBJECT ENCODING of a string that was modified in place (APPEND, SETRANGE...). */
export const ENC_RAW = 1;
