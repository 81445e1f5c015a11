/**
 * Values leaving and entering a shard (COPY, RENAME, MOVE, replication
 * snapshots): a string's bytes, a compact collection's payload (its own
 * flat form) or a big collection's flat form (collections.ts). Offsets
 * inside a shard never travel.
 */
import { SlotTables } from './slot-tables.js';
import { E_ENCODING, E_TYPE, E_VALLEN, ValueType } from './layout.js';
import { flatten, hasExternalBlocks, headerBytes, unflatten } from './collections.js';

/** Bytes that carry entry e's value elsewhere; a view into the arena is valid until the next allocation. */
export function exportValue(shard: SlotTables, e: number): Uint8Array {
  const type = shard.u8[e + E_TYPE];
  if (type === ValueType.String) {
    const v = shard.valueStart(e);
    return shard.u8.subarray(v, v + shard.valueLength(e));
  }
  const encoding = shard.u8[e + E_ENCODING];
  const v = shard.collectionStart(e);
  if (hasExternalBlocks(type, encoding)) return flatten(shard, type, encoding, v);
  return shard.u8.subarray(v, v + shard.collectionBytes(e));
}

/** Value bytes (padding included) an entry with key length `keyLength` needs for an exported value. */
export function importedValueBytes(type: number, encoding: number, keyLength: number, exportedLength: number): number {
  if (type === ValueType.String) return exportedLength;
  return SlotTables.collectionPad(keyLength) + (hasExternalBlocks(type, encoding) ? headerBytes(type, encoding) : exportedLength);
}

/**
 * Fills a fresh entry (inserted with importedValueBytes of room) with an
 * exported value; `fill` is list-max-listpack-size for rebuilt lists.
 * Allocates for big collections: the views may change, the entry does not move.
 */
export function importValue(shard: SlotTables, e: number, type: number, encoding: number, bytes: Uint8Array, fill: number): void {
  const keyLength = shard.valueStart(e) - shard.keyStart(e);
  shard.u8[e + E_ENCODING] = encoding;
  shard.u32[(e + E_VALLEN) >>> 2] = importedValueBytes(type, encoding, keyLength, bytes.length);
  if (type === ValueType.String) {
    shard.u8.set(bytes, shard.valueStart(e));
    return;
  }
  const v = shard.collectionStart(e);
  if (hasExternalBlocks(type, encoding)) unflatten(shard, type, encoding, v, bytes, fill);
  else shard.u8.set(bytes, v);
}

/**
 * Hands a big collection's blocks from entry `from` to entry `to` of the
 * same shard (RENAME: O(1), as Redis moves the object): copies the header
 * and leaves `from` holding nothing its removal would free.
 */
export function moveBlocks(shard: SlotTables, from: number, to: number): void {
  const type = shard.u8[from + E_TYPE];
  const encoding = shard.u8[from + E_ENCODING];
  const bytes = headerBytes(type, encoding);
  const src = shard.collectionStart(from);
  shard.u8.copyWithin(shard.collectionStart(to), src, src + bytes);
  shard.u8[to + E_ENCODING] = encoding;
  shard.u8[from + E_TYPE] = ValueType.String;
}
