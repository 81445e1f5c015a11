/**
 * Writing string values into the store, shared by the string, bit and key
 * families.
 */
import type { CommandContext } from './context.js';
import { E_ENCODING, E_TYPE, E_VALLEN, ValueType } from '../store/layout.js';
import type { Shard } from '../store/shard.js';

/**
 * An E_ENCODING value for strings that Redis creates as plain string objects
 * without trying the int encoding (INCRBYFLOAT's result): OBJECT ENCODING
 * says embstr up to 44 bytes and raw beyond, whatever the bytes are. The
 * default 0 means "as tryObjectEncoding would pick", ENC_RAW a string
 * modified in place.
 */
export const ENC_NOT_INT = 2;

/**
 * An E_ENCODING value for an int-encoded string that is a private object,
 * not one of Redis's shared integers 0..9999: COPY duplicates the value
 * (dupStringObject), so OBJECT REFCOUNT of the copy is 1.
 */
export const ENC_INT_PRIVATE = 3;

/** Copies bytes into shard memory (a loop for short runs: no view allocation). */
export function copyIntoShard(shard: Shard, dst: number, src: Uint8Array, start: number, len: number): void {
  if (len < 48) {
    const u8 = shard.u8;
    for (let i = 0; i < len; i++) u8[dst + i] = src[start + i];
  } else {
    shard.u8.set(src.subarray(start, start + len), dst);
  }
}

/**
 * Sets the current key (entry `e`, or 0 when absent) to a string of `len`
 * bytes from `src`; keeps the TTL only when asked (SET KEEPTTL, INCR...).
 * Returns the entry.
 */
export function storeString(c: CommandContext, e: number, src: Uint8Array, start: number, len: number, keepTtl: boolean, withTtl = false): number {
  const shard = c.shard;
  e = prepareString(c, e, len, keepTtl, 0, withTtl);
  copyIntoShard(shard, shard.valueStart(e), src, start, len);
  return e;
}

/**
 * Makes the current key a string with room for `len` bytes, keeping the
 * first `keep` bytes of its old value; returns the entry (value bytes are
 * the caller's to write).
 */
/** `withTtl`: the caller sets an expire time next, so the entry gets room for it now rather than moving. */
export function prepareString(c: CommandContext, e: number, len: number, keepTtl: boolean, keep: number, withTtl = false): number {
  const shard = c.shard;
  if (e === 0) {
    e = c.insertKey(ValueType.String, len, withTtl);
  } else {
    // A TTL set next replaces the old one in place: no need to leave the volatile index and rejoin it.
    if (!keepTtl && !withTtl) shard.persist(c.db, e);
    e = shard.resizeValue(c.db, e, len, keep, withTtl);
    shard.u8[e + E_TYPE] = ValueType.String;
    shard.u8[e + E_ENCODING] = 0;
  }
  shard.u32[(e + E_VALLEN) >>> 2] = len;
  c.dirty++;
  return e;
}

/** Number of decimal characters of an integral number. */
export function decimalLength(n: number): number {
  let len = n < 0 ? 2 : 1;
  let v = Math.abs(n);
  while (v >= 10) {
    v = Math.floor(v / 10);
    len++;
  }
  return len;
}

/** Writes an integral number's decimal digits at dst (length from decimalLength). */
export function writeDecimal(u8: Uint8Array, dst: number, n: number, len: number): void {
  let v = Math.abs(n);
  for (let i = len - 1; i >= (n < 0 ? 1 : 0); i--) {
    u8[dst + i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  if (n < 0) u8[dst] = 45;
}

/** Stores an integer as the current key's string value. */
export function storeInteger(c: CommandContext, e: number, n: number | bigint, keepTtl: boolean): number {
  if (typeof n === 'bigint') {
    const text = Buffer.from(n.toString(), 'latin1');
    return storeString(c, e, text, 0, text.length, keepTtl);
  }
  const len = decimalLength(n);
  e = prepareString(c, e, len, keepTtl, 0);
  writeDecimal(c.shard.u8, c.shard.valueStart(e), n, len);
  return e;
}

