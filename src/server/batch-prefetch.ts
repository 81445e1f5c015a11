/**
 * Overlapping the store's cache misses across the commands of one read.
 *
 * With pipelining a read holds many commands on random keys, and each
 * command's lookup stalls on three dependent loads from memory: the slot
 * header, the bucket, the entry. Executed one after another, the stalls add
 * up (about 35% of a pipelined GET's CPU, as dictFind's are in Redis).
 * Before a read's commands run, this pass parses them ahead, hashes each
 * one's first key, and loads the slot headers of every key, then every
 * bucket, then every entry: the loads of one level are independent, so the
 * CPU has them in flight together, and the commands then find their memory
 * in cache.
 *
 * Invariant: nothing here changes what a command does. The loads take no
 * lock and their values are only hints (a concurrent writer may make them
 * stale); execution takes the shard lock and looks the key up again. Only
 * commands whose first key is their first argument are hinted, and only
 * when the read holds more than one command.
 */
import { ParseStatus, RespParser, type ParserLimits } from '../protocol/resp-parser.js';
import type { CommandTable } from '../commands/command-table.js';
import type { Keyspace } from '../store/keyspace.js';
import { keyHash, slotAndHash } from '../store/key-hash.js';
import { E_HASH } from '../store/layout.js';

/** Commands hinted per read: enough for a deep pipeline, few enough that the first ones' lines are still cached. */
const MAX_HINTED = 64;

export class BatchPrefetch {
  private readonly parser = new RespParser();
  private readonly shards = new Int32Array(MAX_HINTED);
  private readonly slotIndexes = new Int32Array(MAX_HINTED);
  private readonly hashes = new Int32Array(MAX_HINTED);
  private readonly addresses = new Int32Array(MAX_HINTED);
  /** What the loads read, kept so that the compiler cannot drop them. */
  sink = 0;

  constructor(private readonly ks: Keyspace, private readonly table: CommandTable) {}

  /** Touches the memory of the keys of the commands in buf[pos, end), for physical database `db`. */
  run(buf: Uint8Array, pos: number, end: number, db: number, limits: ParserLimits): void {
    const p = this.parser;
    p.reset();
    const first = p.parse(buf, pos, end, limits);
    // One command (no pipelining): nothing to overlap.
    if (first.status !== ParseStatus.Command || first.pos >= end) return;
    const ks = this.ks;
    let n = 0;
    let at = pos;
    for (let r = first; n < MAX_HINTED; r = p.parse(buf, at, end, limits)) {
      if (r.status !== ParseStatus.Command) break;
      at = r.pos;
      if (p.argc < 2) continue;
      const spec = this.table.top.find(buf, p.argStart[0], p.argLen[0]);
      if (spec === undefined || spec.firstKey !== 1) continue;
      const slot = slotAndHash(buf, p.argStart[1], p.argLen[1]);
      this.shards[n] = slot & ks.shardMask;
      this.slotIndexes[n] = slot >> ks.shardBits;
      this.hashes[n] = keyHash.value;
      n++;
    }
    if (n < 2) return;
    const shards = ks.shards;
    const addresses = this.addresses;
    // Level 1: the slot headers, giving the buckets.
    for (let i = 0; i < n; i++) addresses[i] = shards[this.shards[i]].bucketHint(db, this.slotIndexes[i], this.hashes[i]);
    // Level 2: the buckets, giving the first entries.
    for (let i = 0; i < n; i++) {
      const link = addresses[i];
      addresses[i] = link === 0 ? 0 : shards[this.shards[i]].u32[link >>> 2] | 0;
    }
    // Level 3: the entries' headers (hash, key length, then the key).
    let sink = 0;
    for (let i = 0; i < n; i++) {
      const e = addresses[i];
      if (e !== 0) sink ^= shards[this.shards[i]].u32[(e + E_HASH) >>> 2] | 0;
    }
    this.sink ^= sink;
  }
}
