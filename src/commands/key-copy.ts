/**
 * Copies a key's value (type, encoding, value and TTL) to the context's
 * current key in another place: RENAME, COPY and later MOVE use it. Source
 * and destination shards are both locked by the caller. Collections travel
 * in their flat form between shards; RENAME within a shard hands a big
 * collection's blocks over in O(1), as Redis moves the object.
 */
import type { CommandContext } from './context.js';
import type { Shard } from '../store/shard.js';
import { E_ENCODING, E_TYPE, E_VALLEN, ValueType } from '../store/layout.js';
import { exportValue, importedValueBytes, importValue, moveBlocks } from '../store/value-transfer.js';
import { hasExternalBlocks } from '../store/collections.js';

/**
 * Inserts the current key (known absent in `db`) with a copy of entry `e`
 * of `src`. With `move`, the source is about to be removed (RENAME): its
 * blocks may be handed over instead of copied.
 */
export function copyEntry(c: CommandContext, src: Shard, e: number, db: number, move = false): number {
  const type = src.u8[e + E_TYPE];
  const encoding = src.u8[e + E_ENCODING];
  const expire = src.expireAt(e);
  const dst = c.shard;
  const keyLength = c.argLen[c.keyArg];
  const handOver = move && src === dst && type !== ValueType.String && hasExternalBlocks(type, encoding);
  // A view into the source arena stays valid: the insert below allocates but never moves or frees a block.
  const bytes = handOver ? null : exportValue(src, e);
  const room = handOver ? importedValueBytes(type, encoding, keyLength, 0) : importedValueBytes(type, encoding, keyLength, bytes!.length);
  const saved = c.db;
  c.db = db;
  let n = c.insertKey(type, room, expire !== -1);
  c.db = saved;
  if (handOver) {
    moveBlocks(dst, e, n);
    dst.u32[(n + E_VALLEN) >>> 2] = room;
  } else {
    importValue(dst, n, type, encoding, bytes!, c.server.limits.listMaxListpackSize);
  }
  if (expire !== -1) n = dst.setExpire(db, n, expire);
  return n;
}
