/**
 * Copies a key's value (type, encoding, bytes and TTL) to the context's
 * current key in another place: RENAME, COPY and later MOVE use it. Source
 * and destination shards are both locked by the caller.
 */
import type { CommandContext } from './context.js';
import type { Shard } from '../store/shard.js';
import { E_ENCODING, E_TYPE, E_VALLEN } from '../store/layout.js';

/** Inserts the current key (known absent in `db`) with a copy of entry `e` of `src`. */
export function copyEntry(c: CommandContext, src: Shard, e: number, db: number): number {
  const len = src.valueLength(e);
  const expire = src.expireAt(e);
  const dst = c.shard;
  const saved = c.db;
  c.db = db;
  let n = c.insertKey(src.u8[e + E_TYPE], len, expire !== -1);
  c.db = saved;
  dst.u8[n + E_ENCODING] = src.u8[e + E_ENCODING];
  dst.u32[(n + E_VALLEN) >>> 2] = len;
  // Shards differ or not, the source entry is not moved by the insert (allocation never relocates entries).
  dst.u8.set(src.u8.subarray(src.valueStart(e), src.valueStart(e) + len), dst.valueStart(n));
  if (expire !== -1) n = dst.setExpire(db, n, expire);
  return n;
}
