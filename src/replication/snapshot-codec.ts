/**
 * The snapshot a full synchronisation sends: every key of a shard as a
 * record (logical database, type, encoding, expire time, key, value
 * bytes), and the loading of those records into a replica's store. Values
 * travel as value-transfer.ts exports them: strings and compact collections
 * as stored, big collections in their flat form (never arena offsets).
 *
 * Record: u8 db · u8 type · u8 encoding · u8 has-expire · [f64 unix ms] ·
 * u32 key length · u32 value length · key · value (little endian).
 */
import type { Keyspace } from '../store/keyspace.js';
import type { Shard } from '../store/shard.js';
import { E_ENCODING, E_KEYLEN, E_LRU, E_TYPE } from '../store/layout.js';
import { exportValue, importedValueBytes, importValue } from '../store/value-transfer.js';

/** list-max-listpack-size's default: lists rebuilt from a snapshot get nodes of up to 8 KB. */
const DEFAULT_LIST_FILL = -2;
import { keyHash, slotAndHash } from '../store/key-hash.js';

const CHUNK_BYTES = 4 << 20;

/** Appends records to chunks of about CHUNK_BYTES. */
class ChunkWriter {
  readonly chunks: Buffer[] = [];
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private len = 0;
  records = 0;

  room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    this.finish();
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, n));
  }

  finish(): void {
    if (this.len > 0) this.chunks.push(this.buf.subarray(0, this.len));
    this.len = 0;
  }

  record(db: number, shard: Shard, e: number): void {
    const kl = shard.u32[(e + E_KEYLEN) >>> 2];
    const value = exportValue(shard, e);
    const vl = value.length;
    const expire = shard.expireAt(e);
    this.room(20 + kl + vl);
    const b = this.buf;
    let p = this.len;
    b[p++] = db;
    b[p++] = shard.u8[e + E_TYPE];
    b[p++] = shard.u8[e + E_ENCODING];
    b[p++] = expire === -1 ? 0 : 1;
    if (expire !== -1) p = b.writeDoubleLE(expire, p);
    p = b.writeUInt32LE(kl, p);
    p = b.writeUInt32LE(vl, p);
    const ks = shard.keyStart(e);
    b.set(shard.u8.subarray(ks, ks + kl), p);
    p += kl;
    b.set(value, p);
    this.len = p + vl;
    this.records++;
  }
}

/** Every key of a shard, in every logical database; the caller holds the shard's lock. */
export function encodeShard(ks: Keyspace, shardIndex: number): { chunks: Buffer[]; records: number } {
  const shard = ks.shards[shardIndex];
  const out = new ChunkWriter();
  for (let db = 0; db < ks.databases; db++) {
    const physical = ks.dbMap[db];
    if (shard.dbKeys(physical) === 0) continue;
    for (let si = 0; si < shard.slotsPerShard; si++) {
      shard.forEachInSlot(physical, si, (e) => out.record(db, shard, e));
    }
  }
  out.finish();
  return { chunks: out.chunks, records: out.records };
}

/** Loads records into the store (a replica's, emptied before); returns how many. */
export function loadRecords(ks: Keyspace, buf: Uint8Array, now: number, listFill = DEFAULT_LIST_FILL): number {
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = 0;
  let n = 0;
  let locked: Shard | null = null;
  try {
    while (p < view.length) {
      const db = view[p];
      const type = view[p + 1];
      const encoding = view[p + 2];
      const hasExpire = view[p + 3] === 1;
      p += 4;
      const expire = hasExpire ? view.readDoubleLE(p) : -1;
      if (hasExpire) p += 8;
      const kl = view.readUInt32LE(p);
      const vl = view.readUInt32LE(p + 4);
      p += 8;
      const slot = slotAndHash(view, p, kl);
      const hash = keyHash.value;
      const shard = ks.shardOf(slot);
      if (shard !== locked) {
        locked?.unlock();
        locked = null;
        shard.lock();
        locked = shard;
      }
      const physical = ks.dbMap[db];
      const slotIndex = ks.slotIndex(slot);
      const old = shard.lookup(physical, slotIndex, view, p, kl, hash);
      if (old !== 0) shard.remove(physical, old);
      let e = shard.insert(physical, slotIndex, view, p, kl, hash, type, importedValueBytes(type, encoding, kl, vl), hasExpire);
      shard.u32[(e + E_LRU) >>> 2] = ks.initialAccess(now);
      importValue(shard, e, type, encoding, view.subarray(p + kl, p + kl + vl), listFill);
      if (hasExpire) e = shard.setExpire(physical, e, expire);
      p += kl + vl;
      n++;
    }
  } finally {
    locked?.unlock();
  }
  return n;
}
