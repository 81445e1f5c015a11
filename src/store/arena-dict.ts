/**
 * A chained hash table of byte strings in a shard's arena: the big
 * encoding of hashes and sets, and the member index of skiplist sorted
 * sets (Redis's dict.c).
 *
 * Invariants, as dict.c keeps them:
 * - Growth is incremental: a second table receives the buckets of the
 *   first one step at a time (one bucket per lookup or change, more from
 *   the owner's background rehashing), so no call moves a million entries.
 * - The reverse-binary cursor of `dictScan` returns every element present
 *   for a whole scan at least once, while tables grow or shrink between calls.
 *
 * Header (24 bytes, inside the owning entry's value): used · table0 · mask0 ·
 * table1 · mask1 · rehash position + 1 (0: not rehashing).
 * Entry (one arena block): next · hash · key length · aux · key bytes ·
 * value bytes. `aux` is the value's length (hashes), the skiplist node
 * (sorted sets) or 0 (sets).
 */
import { checkedSizeClass, type ShardArena } from './shard-arena.js';
import { hashBytes } from './key-hash.js';
import { E_HASH, E_NEXT, S_MASK0, S_MASK1, S_REHASH, S_TABLE0, S_TABLE1, S_USED, SLOT_HEADER_BYTES } from './layout.js';

/*
 * The header is the keyspace's per-slot table header (layout.ts S_*), and an
 * entry starts as a keyspace entry does (next, then hash): the slot tables
 * rehash and scan with the functions below.
 */
const D_USED = S_USED;
const D_TABLE0 = S_TABLE0;
const D_MASK0 = S_MASK0;
const D_TABLE1 = S_TABLE1;
const D_MASK1 = S_MASK1;
const D_REHASH = S_REHASH;
export const DICT_HEADER_BYTES = SLOT_HEADER_BYTES;

const DE_NEXT = E_NEXT;
export const DE_HASH = E_HASH;
export const DE_KEYLEN = 8;
export const DE_AUX = 12;
export const DE_KEY = 16;

const INITIAL_BUCKETS = 4;
/** Tables up to this many buckets are moved in one step. */
const SMALL_TABLE = 64;
/** Empty buckets visited per moved bucket before a step gives up (dictRehash's empty_visits). */
const EMPTY_VISITS_PER_STEP = 10;

/** The u32 cell that points at the entry found by the last dictFind (for unlinking and relinking). */
export const dictLink = { cell: 0 };

export function dictInit(a: ShardArena, h: number): void {
  a.u8.fill(0, h, h + DICT_HEADER_BYTES);
}

export function dictSize(a: ShardArena, h: number): number {
  return a.u32[(h + D_USED) >>> 2];
}

export function hashOf(src: Uint8Array, start: number, len: number): number {
  return hashBytes(src, start, len);
}

function newTable(a: ShardArena, buckets: number): number {
  const t = a.alloc(buckets * 4);
  a.u8.fill(0, t, t + buckets * 4);
  return t;
}

/** Moves up to n buckets from table 0 to table 1; returns whether rehashing goes on. */
export function dictRehashStep(a: ShardArena, h: number, n: number): boolean {
  const u32 = a.u32;
  let idx = u32[(h + D_REHASH) >>> 2];
  if (idx === 0) return false;
  idx--;
  const t0 = u32[(h + D_TABLE0) >>> 2];
  const mask0 = u32[(h + D_MASK0) >>> 2];
  const t1 = u32[(h + D_TABLE1) >>> 2];
  const mask1 = u32[(h + D_MASK1) >>> 2];
  let emptyVisits = n * EMPTY_VISITS_PER_STEP;
  while (n > 0 && idx <= mask0) {
    const cell = (t0 >>> 2) + idx;
    let e = u32[cell];
    if (e === 0) {
      idx++;
      if (--emptyVisits === 0) break;
      continue;
    }
    while (e !== 0) {
      const next = u32[e >>> 2];
      const b = (t1 >>> 2) + (u32[(e + DE_HASH) >>> 2] & mask1);
      u32[e >>> 2] = u32[b];
      u32[b] = e;
      e = next;
    }
    u32[cell] = 0;
    idx++;
    n--;
  }
  if (idx > mask0) {
    a.free(t0, (mask0 + 1) * 4);
    u32[(h + D_TABLE0) >>> 2] = t1;
    u32[(h + D_MASK0) >>> 2] = mask1;
    u32[(h + D_TABLE1) >>> 2] = 0;
    u32[(h + D_MASK1) >>> 2] = 0;
    u32[(h + D_REHASH) >>> 2] = 0;
    return false;
  }
  u32[(h + D_REHASH) >>> 2] = idx + 1;
  return true;
}

function startRehash(a: ShardArena, h: number, buckets: number): void {
  const table = newTable(a, buckets);
  const u32 = a.u32;
  u32[(h + D_TABLE1) >>> 2] = table;
  u32[(h + D_MASK1) >>> 2] = buckets - 1;
  u32[(h + D_REHASH) >>> 2] = 1;
  if (u32[(h + D_MASK0) >>> 2] < SMALL_TABLE) dictRehashStep(a, h, SMALL_TABLE);
}

function keyEquals(u8: Uint8Array, e: number, key: Uint8Array, ks: number, kl: number): boolean {
  const p = e + DE_KEY;
  for (let i = 0; i < kl; i++) if (u8[p + i] !== key[ks + i]) return false;
  return true;
}

/** Finds a key; returns its entry or 0 and sets dictLink. */
export function dictFind(a: ShardArena, h: number, key: Uint8Array, ks: number, kl: number, hash: number): number {
  const u32 = a.u32;
  if (u32[(h + D_USED) >>> 2] === 0) return 0;
  const rehashing = u32[(h + D_REHASH) >>> 2] !== 0 && dictRehashStep(a, h, 1);
  const u8 = a.u8;
  for (let t = 0; t < 2; t++) {
    const table = u32[(h + (t === 0 ? D_TABLE0 : D_TABLE1)) >>> 2];
    const mask = u32[(h + (t === 0 ? D_MASK0 : D_MASK1)) >>> 2];
    let link = table + (hash & mask) * 4;
    let e = u32[link >>> 2];
    while (e !== 0) {
      if (u32[(e + DE_HASH) >>> 2] === hash && u32[(e + DE_KEYLEN) >>> 2] === kl && keyEquals(u8, e, key, ks, kl)) {
        dictLink.cell = link;
        return e;
      }
      link = e + DE_NEXT;
      e = u32[link >>> 2];
    }
    if (!rehashing) break;
  }
  return 0;
}

/**
 * Adds a key known to be absent, with room for `valueBytes` after it; the
 * aux field is set to `aux`. Returns the entry (value bytes are the caller's).
 */
export function dictAdd(a: ShardArena, h: number, key: Uint8Array, ks: number, kl: number, hash: number, valueBytes: number, aux: number): number {
  const c = checkedSizeClass(DE_KEY + kl + valueBytes);
  const e = a.allocClass(c);
  let u32 = a.u32;
  if (u32[(h + D_TABLE0) >>> 2] === 0) {
    let table: number;
    try {
      table = newTable(a, INITIAL_BUCKETS);
    } catch (err) {
      a.freeClass(e, c);
      throw err;
    }
    u32 = a.u32;
    u32[(h + D_TABLE0) >>> 2] = table;
    u32[(h + D_MASK0) >>> 2] = INITIAL_BUCKETS - 1;
  } else if (u32[(h + D_REHASH) >>> 2] === 0 && u32[(h + D_USED) >>> 2] > u32[(h + D_MASK0) >>> 2]) {
    try {
      startRehash(a, h, (u32[(h + D_MASK0) >>> 2] + 1) * 2);
    } catch {
      // Growth is an optimisation: a full arena leaves longer chains.
    }
    u32 = a.u32;
  }
  const rehashing = u32[(h + D_REHASH) >>> 2] !== 0 && dictRehashStep(a, h, 1);
  u32[(e + DE_HASH) >>> 2] = hash;
  u32[(e + DE_KEYLEN) >>> 2] = kl;
  u32[(e + DE_AUX) >>> 2] = aux;
  const u8 = a.u8;
  const p = e + DE_KEY;
  if (kl < 48) for (let i = 0; i < kl; i++) u8[p + i] = key[ks + i];
  else u8.set(key.subarray(ks, ks + kl), p);
  const table = u32[(h + (rehashing ? D_TABLE1 : D_TABLE0)) >>> 2];
  const mask = u32[(h + (rehashing ? D_MASK1 : D_MASK0)) >>> 2];
  const bucket = table + (hash & mask) * 4;
  u32[e >>> 2] = u32[bucket >>> 2];
  u32[bucket >>> 2] = e;
  u32[(h + D_USED) >>> 2]++;
  dictLink.cell = bucket;
  return e;
}

/**
 * Unlinks the entry found by the last dictFind (its block is the caller's
 * to free: a skiplist node may still refer to it); shrinks the table when it
 * is mostly empty.
 */
export function dictUnlink(a: ShardArena, h: number, e: number): void {
  const u32 = a.u32;
  u32[dictLink.cell >>> 2] = u32[e >>> 2];
  const used = u32[(h + D_USED) >>> 2] - 1;
  u32[(h + D_USED) >>> 2] = used;
  const mask0 = u32[(h + D_MASK0) >>> 2];
  if (used === 0) {
    freeTables(a, h);
  } else if (u32[(h + D_REHASH) >>> 2] === 0 && mask0 >= 7 && used * 8 < mask0 + 1) {
    let buckets = INITIAL_BUCKETS;
    while (buckets < used) buckets *= 2;
    try {
      startRehash(a, h, buckets);
    } catch {
      // Shrinking is optional.
    }
  }
}

function freeTables(a: ShardArena, h: number): void {
  const u32 = a.u32;
  const t0 = u32[(h + D_TABLE0) >>> 2];
  if (t0 !== 0) a.free(t0, (u32[(h + D_MASK0) >>> 2] + 1) * 4);
  const t1 = u32[(h + D_TABLE1) >>> 2];
  if (t1 !== 0) a.free(t1, (u32[(h + D_MASK1) >>> 2] + 1) * 4);
  a.u8.fill(0, h + 4, h + DICT_HEADER_BYTES);
}

/** Points the cell of the last dictFind at a replacement block of the same entry (after a value grew). */
export function dictRelink(a: ShardArena, oldEntry: number, newEntry: number): void {
  const u32 = a.u32;
  u32[newEntry >>> 2] = u32[oldEntry >>> 2];
  u32[dictLink.cell >>> 2] = newEntry;
}

/** Bytes of the bucket tables (MEMORY USAGE). */
export function dictTableBytes(a: ShardArena, h: number): number {
  const u32 = a.u32;
  const t0 = u32[(h + D_TABLE0) >>> 2] === 0 ? 0 : (u32[(h + D_MASK0) >>> 2] + 1) * 4;
  const t1 = u32[(h + D_TABLE1) >>> 2] === 0 ? 0 : (u32[(h + D_MASK1) >>> 2] + 1) * 4;
  return t0 + t1;
}

/** Calls visit for every entry until it returns false (the visitor must not change the dict). */
export function dictForEach(a: ShardArena, h: number, visit: (e: number) => void | boolean): void {
  const u32 = a.u32;
  if (u32[(h + D_USED) >>> 2] === 0) return;
  for (let t = 0; t < 2; t++) {
    const table = u32[(h + (t === 0 ? D_TABLE0 : D_TABLE1)) >>> 2];
    if (table === 0) continue;
    const mask = u32[(h + (t === 0 ? D_MASK0 : D_MASK1)) >>> 2];
    for (let i = 0; i <= mask; i++) {
      for (let e = u32[(table >>> 2) + i]; e !== 0; e = u32[e >>> 2]) if (visit(e) === false) return;
    }
  }
}

/**
 * Frees up to `budget` entries (each with `freeEntry`) and, once none is
 * left, the tables; returns the entries freed. Lazy freeing calls it again
 * until the dict is empty; the dict must no longer be reachable by lookups.
 */
export function dictRelease(a: ShardArena, h: number, budget: number, freeEntry: (e: number) => void): number {
  let freed = 0;
  for (let t = 0; t < 2 && freed < budget; t++) {
    const u32 = a.u32;
    const table = u32[(h + (t === 0 ? D_TABLE0 : D_TABLE1)) >>> 2];
    if (table === 0) continue;
    const mask = u32[(h + (t === 0 ? D_MASK0 : D_MASK1)) >>> 2];
    for (let i = 0; i <= mask && freed < budget; i++) {
      const cell = (table >>> 2) + i;
      let e = a.u32[cell];
      while (e !== 0 && freed < budget) {
        const next = a.u32[e >>> 2];
        freeEntry(e);
        freed++;
        e = next;
      }
      a.u32[cell] = e;
    }
  }
  const u32 = a.u32;
  u32[(h + D_USED) >>> 2] -= Math.min(freed, u32[(h + D_USED) >>> 2]);
  if (u32[(h + D_USED) >>> 2] === 0) freeTables(a, h);
  return freed;
}

/**
 * One step of dictScan: visits the entries of the bucket(s) at `cursor`
 * and returns the next cursor (0 when the scan is complete).
 */
export function dictScan(a: ShardArena, h: number, cursor: number, visit: (e: number) => void): number {
  const u32 = a.u32;
  if (u32[(h + D_USED) >>> 2] === 0) return 0;
  let v = cursor >>> 0;
  const emit = (table: number, mask: number) => {
    for (let e = u32[(table >>> 2) + (v & mask)]; e !== 0; e = u32[e >>> 2]) visit(e);
  };
  if (u32[(h + D_REHASH) >>> 2] === 0) {
    const m0 = u32[(h + D_MASK0) >>> 2];
    emit(u32[(h + D_TABLE0) >>> 2], m0);
    return nextCursor(v, m0);
  }
  let t0 = u32[(h + D_TABLE0) >>> 2];
  let m0 = u32[(h + D_MASK0) >>> 2];
  let t1 = u32[(h + D_TABLE1) >>> 2];
  let m1 = u32[(h + D_MASK1) >>> 2];
  if (m0 > m1) {
    [t0, t1] = [t1, t0];
    [m0, m1] = [m1, m0];
  }
  emit(t0, m0);
  do {
    emit(t1, m1);
    v = nextCursor(v, m1);
  } while ((v & (m0 ^ m1)) !== 0);
  return v;
}

function nextCursor(v: number, mask: number): number {
  v = (v | ~mask) >>> 0;
  v = reverseBits(v);
  v = (v + 1) >>> 0;
  return reverseBits(v);
}

function reverseBits(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  v = (v >>> 16) | (v << 16);
  return v >>> 0;
}

/** Entries gathered per fair pick (dictGetFairRandomKey's GETFAIR_NUM_ENTRIES). */
const FAIR_SAMPLE = 15;
/** Buckets visited per wanted entry at most (dictGetSomeKeys's maxsteps = count * 10). */
const FAIR_STEPS_PER_ENTRY = 10;
/** Empty buckets in a row after which the walk jumps elsewhere (dictGetSomeKeys: emptylen >= 5 && emptylen > count). */
const FAIR_EMPTY_RUN = 5;
const fairSample = new Uint32Array(FAIR_SAMPLE);

/**
 * dictGetFairRandomKey over dictGetSomeKeys: from a random bucket, walk the
 * buckets of both tables in order (wrapping around), gathering up to
 * min(15, size) entries and jumping to a fresh random bucket after a run
 * of empty ones; then pick one of them uniformly. Picking among the entries
 * near a random bucket, rather than in one random bucket's chain, keeps
 * members of long chains from being rare. 0 when the dict is empty.
 *
 * The pick is drawn first and the walk stops at that entry: each gathered
 * entry costs a cache miss, and this visits half as many on average with
 * the same distribution. (Entry i is the pick with probability 1/want when
 * the walk gathers all `want`; when it gathers only count < want, a pick
 * beyond them is redrawn among them, so each has 1/want + (want - count) /
 * (want * count) = 1/count, as Redis's uniform pick over what it gathered.)
 */
export function dictRandom(a: ShardArena, h: number, random: () => number = Math.random): number {
  const u32 = a.u32;
  const size = u32[(h + D_USED) >>> 2];
  if (size === 0) return 0;
  const want = size < FAIR_SAMPLE ? size : FAIR_SAMPLE;
  const rehashing = u32[(h + D_REHASH) >>> 2] !== 0;
  const t0 = u32[(h + D_TABLE0) >>> 2] >>> 2;
  const m0 = u32[(h + D_MASK0) >>> 2];
  const t1 = u32[(h + D_TABLE1) >>> 2] >>> 2;
  const m1 = rehashing ? u32[(h + D_MASK1) >>> 2] : 0;
  const maxMask = m1 > m0 ? m1 : m0;
  const rehashIndex = rehashing ? u32[(h + D_REHASH) >>> 2] - 1 : 0;
  const pick = Math.floor(random() * want);
  let i = Math.floor(random() * (maxMask + 1));
  let count = 0;
  let emptyRun = 0;
  for (let steps = want * FAIR_STEPS_PER_ENTRY; count < want && steps > 0; steps--) {
    // While rehashing, bucket i of both tables. Table 0's buckets below the rehash index are moved
    // (empty); past the end of a smaller table 1 nothing lies below it at all: jump there (dictGetSomeKeys).
    if (rehashing && i < rehashIndex && i > m1) i = rehashIndex;
    let e = i <= m0 && !(rehashing && i < rehashIndex) ? u32[t0 + i] : 0;
    let e1 = rehashing && i <= m1 ? u32[t1 + i] : 0;
    if (e === 0 && e1 === 0) {
      if (++emptyRun >= FAIR_EMPTY_RUN && emptyRun > want) {
        i = Math.floor(random() * (maxMask + 1));
        emptyRun = 0;
        continue;
      }
    } else {
      emptyRun = 0;
      for (; e !== 0; e = u32[e >>> 2]) {
        if (count === pick) return e;
        fairSample[count++] = e;
      }
      for (; e1 !== 0; e1 = u32[e1 >>> 2]) {
        if (count === pick) return e1;
        fairSample[count++] = e1;
      }
    }
    i = (i + 1) & maxMask;
  }
  // dictGetRandomKey's fallback: the walk found nothing (a huge, sparse table); the first entry from a random bucket on.
  for (; count === 0; i = (i + 1) & maxMask) {
    const e = u32[t0 + (i & m0)] || (rehashing ? u32[t1 + (i & m1)] : 0);
    if (e !== 0) fairSample[count++] = e;
  }
  return fairSample[Math.floor(random() * count)];
}
