/**
 * Background upkeep of shards, run by the worker that owns them: active
 * expiry (Redis's activeExpireCycle: sample keys with a TTL, repeat while
 * more than a quarter of a sample had expired) and maxmemory eviction by
 * sampling (evict.c's approximated LRU/LFU/TTL/random policies).
 */
import type { Keyspace } from './keyspace.js';
import type { Shard } from './shard.js';

const KEYS_PER_LOOP = 20;

/**
 * Expires keys in the given shards for at most `budgetMs`; returns how many
 * were removed.
 */
export function activeExpireCycle(ks: Keyspace, shardIndices: number[], now: number, budgetMs: number, effort = 1): number {
  const deadline = performance.now() + budgetMs;
  const perLoop = KEYS_PER_LOOP + Math.floor((KEYS_PER_LOOP / 4) * (effort - 1));
  let removed = 0;
  for (const si of shardIndices) {
    const shard = ks.shards[si];
    for (let db = 0; db < ks.databases; db++) {
      if (shard.dbVolatile(db) === 0) continue;
      for (;;) {
        let expired = 0;
        let sampled = 0;
        shard.lock();
        try {
          const n = Math.min(perLoop, shard.dbVolatile(db));
          for (let k = 0; k < n; k++) {
            const e = shard.randomVolatile(db);
            if (e === 0) break;
            sampled++;
            if (shard.isExpired(e, now) && !shard.keepsExpired() && shard.locate(db, e)) {
              shard.expireEntry(db, e);
              expired++;
            }
          }
        } finally {
          shard.unlock();
        }
        removed += expired;
        if (sampled === 0 || expired * 4 <= sampled || performance.now() > deadline) break;
      }
      if (performance.now() > deadline) return removed;
    }
  }
  return removed;
}

export type EvictionPolicy =
  | 'noeviction' | 'allkeys-lru' | 'allkeys-lfu' | 'allkeys-random' | 'volatile-lru' | 'volatile-lfu' | 'volatile-random' | 'volatile-ttl';

/** Picks a shard at random, weighted by the keys (or volatile keys) it holds. */
function pickShard(ks: Keyspace, volatile: boolean): { shard: Shard; db: number } | null {
  let total = 0;
  const weights: number[] = [];
  for (const s of ks.shards) {
    let w = 0;
    for (let db = 0; db < ks.databases; db++) w += volatile ? s.dbVolatile(db) : s.dbKeys(db);
    weights.push(w);
    total += w;
  }
  if (total === 0) return null;
  let r = Math.random() * total;
  let idx = 0;
  while (idx < weights.length - 1 && r >= weights[idx]) r -= weights[idx++];
  const shard = ks.shards[idx];
  // A database of that shard, weighted the same way.
  let dbTotal = 0;
  for (let db = 0; db < ks.databases; db++) dbTotal += volatile ? shard.dbVolatile(db) : shard.dbKeys(db);
  if (dbTotal === 0) return null;
  let d = Math.random() * dbTotal;
  for (let db = 0; db < ks.databases; db++) {
    const w = volatile ? shard.dbVolatile(db) : shard.dbKeys(db);
    if (d < w) return { shard, db };
    d -= w;
  }
  return { shard, db: ks.databases - 1 };
}

/**
 * Evicts one key chosen by the policy from a sample of `samples` keys.
 * Returns false when there is nothing the policy may evict.
 */
export function evictOne(ks: Keyspace, policy: EvictionPolicy, samples: number, now: number): boolean {
  if (policy === 'noeviction') return false;
  const volatile = policy.startsWith('volatile-');
  const pick = pickShard(ks, volatile);
  if (pick === null) return false;
  const { shard, db } = pick;
  shard.lock();
  try {
    const random = policy.endsWith('-random');
    const n = random ? 1 : samples;
    let best = 0;
    let bestScore = -Infinity;
    for (let k = 0; k < n; k++) {
      const e = volatile ? shard.randomVolatile(db) : shard.randomEntry(db);
      if (e === 0) break;
      let score: number;
      if (random) score = 0;
      else if (policy.endsWith('-lru')) score = ks.idleSeconds(shard, e, now);
      else if (policy.endsWith('-lfu')) score = 255 - ks.frequency(shard, e, now);
      else score = -shard.expireAt(e); // volatile-ttl: the soonest to expire
      if (score > bestScore) {
        bestScore = score;
        best = e;
      }
    }
    if (best === 0 || !shard.locate(db, best)) return false;
    shard.evictEntry(db, best);
    return true;
  } finally {
    shard.unlock();
  }
}
