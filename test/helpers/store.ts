/**
 * A small key/value facade over one Shard for the store tests: keys and
 * values given as strings (latin1, so every byte value is expressible) or
 * bytes, slots and hashes computed as the command layer does.
 */
import { Shard, type ShardGeometry } from '../../src/store/shard.js';
import { hashBytes, keyHashSlot } from '../../src/store/key-hash.js';
import { E_VALLEN, S_MASK0, S_MASK1, S_REHASH, S_TABLE0, S_TABLE1 } from '../../src/store/layout.js';

export type Bytes = string | Uint8Array;

export const toBytes = (b: Bytes): Buffer => (typeof b === 'string' ? Buffer.from(b, 'latin1') : Buffer.from(b));

export class TestStore {
  readonly shard: Shard;

  /** Over a new shard, a shared buffer (as another thread maps it), or an existing Shard view. */
  constructor(readonly geometry: ShardGeometry = { databases: 4, shardBits: 0 }, over?: SharedArrayBuffer | Shard) {
    this.shard = over instanceof Shard ? over : new Shard(over ?? Shard.allocate(geometry), 0, geometry);
  }

  /** The slot's index inside this shard (slot >> shardBits), as the keyspace computes it. */
  slotIndexOf(key: Bytes): number {
    const k = toBytes(key);
    return keyHashSlot(k, 0, k.length) >> this.geometry.shardBits;
  }

  lookup(db: number, key: Bytes): number {
    const k = toBytes(key);
    return this.shard.lookup(db, this.slotIndexOf(k), k, 0, k.length, hashBytes(k, 0, k.length));
  }

  find(db: number, key: Bytes, now: number): number {
    const k = toBytes(key);
    return this.shard.find(db, this.slotIndexOf(k), k, 0, k.length, hashBytes(k, 0, k.length), now);
  }

  /** SET: inserts or overwrites (keeping any TTL); returns the entry. */
  set(db: number, key: Bytes, value: Bytes, withTtl = false): number {
    const k = toBytes(key);
    const v = toBytes(value);
    const hash = hashBytes(k, 0, k.length);
    const slot = this.slotIndexOf(k);
    let e = this.shard.lookup(db, slot, k, 0, k.length, hash);
    if (e === 0) e = this.shard.insert(db, slot, k, 0, k.length, hash, 0, v.length, withTtl);
    else e = this.shard.resizeValue(db, e, v.length, 0, false);
    this.shard.u32[(e + E_VALLEN) >>> 2] = v.length;
    this.shard.u8.set(v, this.shard.valueStart(e));
    return e;
  }

  get(db: number, key: Bytes): string | null {
    const e = this.lookup(db, key);
    return e === 0 ? null : this.valueOf(e);
  }

  del(db: number, key: Bytes): boolean {
    const e = this.lookup(db, key);
    if (e === 0) return false;
    this.shard.remove(db, e);
    return true;
  }

  keyOf(e: number): string {
    const s = this.shard.keyStart(e);
    return Buffer.from(this.shard.u8.subarray(s, this.shard.valueStart(e))).toString('latin1');
  }

  valueOf(e: number): string {
    const s = this.shard.valueStart(e);
    return Buffer.from(this.shard.u8.subarray(s, s + this.shard.valueLength(e))).toString('latin1');
  }

  keysInSlot(db: number, slotIndex: number): string[] {
    const keys: string[] = [];
    this.shard.forEachInSlot(db, slotIndex, (e) => {
      keys.push(this.keyOf(e));
    });
    return keys;
  }

  /** The slot's hash table state, read from its header. */
  table(db: number, slotIndex: number): { table0: number; buckets0: number; table1: number; buckets1: number; rehashing: boolean } {
    const sh = this.shard.slotHeaderOf(db, slotIndex);
    const u32 = this.shard.u32;
    if (sh === 0) return { table0: 0, buckets0: 0, table1: 0, buckets1: 0, rehashing: false };
    const table0 = u32[(sh + S_TABLE0) >>> 2];
    const table1 = u32[(sh + S_TABLE1) >>> 2];
    return {
      table0,
      buckets0: table0 === 0 ? 0 : u32[(sh + S_MASK0) >>> 2] + 1,
      table1,
      buckets1: table1 === 0 ? 0 : u32[(sh + S_MASK1) >>> 2] + 1,
      rehashing: u32[(sh + S_REHASH) >>> 2] !== 0,
    };
  }

  /** Runs incremental rehashing until no table of the database is being rehashed. */
  finishRehash(db: number): void {
    while (this.shard.rehashSome(db, 1000));
  }
}

