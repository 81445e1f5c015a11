/**
 * Key hashing: the cluster slot (CRC16-XMODEM of the key or of its first
 * non-empty {hash tag}, as Redis's keyHashSlot in cluster.c) and a 32-bit hash
 * for the per-slot hash tables.
 */

const CRC16_TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let j = 0; j < 8; j++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  CRC16_TABLE[i] = crc;
}

export const SLOT_COUNT = 16384;

export function crc16(buf: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ buf[i]) & 0xff];
  return crc;
}

/** The hash slot of `buf[start, start+len)`, honouring hash tags. */
export function keyHashSlot(buf: Uint8Array, start: number, len: number): number {
  const end = start + len;
  let s = start;
  for (; s < end; s++) if (buf[s] === 123 /* { */) break;
  if (s === end) return crc16(buf, start, end) & 0x3fff;
  let e = s + 1;
  for (; e < end; e++) if (buf[e] === 125 /* } */) break;
  // No closing brace, or an empty tag: the whole key is hashed.
  if (e === end || e === s + 1) return crc16(buf, start, end) & 0x3fff;
  return crc16(buf, s + 1, e) & 0x3fff;
}

export function keyHashSlotOfString(key: string): number {
  const b = Buffer.from(key);
  return keyHashSlot(b, 0, b.length);
}

/**
 * The slot and the table hash of a key in one pass over its bytes (the
 * common case: no hash tag). Returns the slot; the hash is in `keyHash.value`.
 */
export const keyHash = { value: 0 };

export function slotAndHash(buf: Uint8Array, start: number, len: number): number {
  const end = start + len;
  let crc = 0;
  let h = 0x811c9dc5;
  let brace = -1;
  for (let i = start; i < end; i++) {
    const b = buf[i];
    crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ b) & 0xff];
    h = Math.imul(h ^ b, 0x01000193);
    if (b === 123 && brace < 0) brace = i;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  keyHash.value = h >>> 0;
  return brace < 0 ? crc & 0x3fff : keyHashSlot(buf, start, len);
}

/** FNV-1a over the bytes with a murmur3 finaliser for better low bits. */
export function hashBytes(buf: Uint8Array, start: number, len: number): number {
  let h = 0x811c9dc5;
  const end = start + len;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
