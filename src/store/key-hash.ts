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

/** One byte of CRC16-XMODEM: the state after `b` enters `crc`. */
function crcStep(crc: number, b: number): number {
  return ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ b) & 0xff];
}

/*
 * Four bytes a step ("slicing"): the CRC is linear and has no final xor, so
 * the CRC of four bytes from state s is the xor of each byte's own CRC
 * followed by the zero bytes after it, where s enters the first two bytes.
 * CRC_AFTER[k][x]: the CRC of byte x then k zero bytes, from state 0. The
 * four loads are independent, where a byte at a time chains them.
 */
const CRC_AFTER = [CRC16_TABLE, new Uint16Array(256), new Uint16Array(256), new Uint16Array(256)];
for (let k = 1; k < 4; k++) for (let x = 0; x < 256; x++) CRC_AFTER[k][x] = crcStep(CRC_AFTER[k - 1][x], 0);
const [CRC_AFTER0, CRC_AFTER1, CRC_AFTER2, CRC_AFTER3] = CRC_AFTER;

export const SLOT_COUNT = 16384;

export function crc16(buf: Uint8Array, start: number, end: number): number {
  let crc = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    crc = CRC_AFTER3[(crc >> 8) ^ buf[i]] ^ CRC_AFTER2[(crc & 0xff) ^ buf[i + 1]] ^ CRC_AFTER1[buf[i + 2]] ^ CRC_AFTER0[buf[i + 3]];
  }
  for (; i < end; i++) crc = crcStep(crc, buf[i]);
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

/*
 * The table hash is MurmurHash3 (x86, 32-bit, seed 0): four bytes a step,
 * where a byte-at-a-time hash chains a multiply per byte.
 */
const MURMUR_C1 = 0xcc9e2d51;
const MURMUR_C2 = 0x1b873593;

/** One four-byte block (little-endian) mixed into h. */
function murmurBlock(h: number, k: number): number {
  k = Math.imul(k, MURMUR_C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, MURMUR_C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The last `left` (0-3) bytes, from buf[i], mixed into h. */
function murmurTail(h: number, buf: Uint8Array, i: number, left: number): number {
  if (left === 0) return h;
  let k = buf[i];
  if (left > 1) k |= buf[i + 1] << 8;
  if (left > 2) k |= buf[i + 2] << 16;
  k = Math.imul(k, MURMUR_C1);
  k = (k << 15) | (k >>> 17);
  return h ^ Math.imul(k, MURMUR_C2);
}

/** The length and murmur3's finaliser, which spreads every input bit over the low bits that pick a bucket. */
function murmurFinish(h: number, len: number): number {
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function slotAndHash(buf: Uint8Array, start: number, len: number): number {
  const end = start + len;
  let crc = 0;
  let h = 0;
  let brace = false;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const b0 = buf[i];
    const b1 = buf[i + 1];
    const b2 = buf[i + 2];
    const b3 = buf[i + 3];
    crc = CRC_AFTER3[(crc >> 8) ^ b0] ^ CRC_AFTER2[(crc & 0xff) ^ b1] ^ CRC_AFTER1[b2] ^ CRC_AFTER0[b3];
    h = murmurBlock(h, b0 | (b1 << 8) | (b2 << 16) | (b3 << 24));
    brace ||= b0 === 123 || b1 === 123 || b2 === 123 || b3 === 123;
  }
  h = murmurTail(h, buf, i, end - i);
  for (; i < end; i++) {
    const b = buf[i];
    crc = crcStep(crc, b);
    brace ||= b === 123;
  }
  keyHash.value = murmurFinish(h, len);
  return brace ? keyHashSlot(buf, start, len) : crc & 0x3fff;
}

/** The table hash alone (slotAndHash's `keyHash.value`): keys, and members of hash tables in the arena. */
export function hashBytes(buf: Uint8Array, start: number, len: number): number {
  const end = start + len;
  let h = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) h = murmurBlock(h, buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
  return murmurFinish(murmurTail(h, buf, i, end - i), len);
}
