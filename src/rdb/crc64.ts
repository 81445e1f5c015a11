/**
 * Redis's CRC-64 (crc64.c: the Jones polynomial 0xad93d23594c935a9,
 * reflected input and output, initial value 0), the checksum at the end of
 * DUMP payloads and RDB files. crc64("123456789") is 0xe9c6d914c4b8d9ca.
 *
 * Table-driven over BigInt: simple and exact; the payloads it checks so far
 * (function libraries) are small.
 */
const REFLECTED_POLY = 0x95ac9329ac4bc9b5n;
const MASK = 0xffffffffffffffffn;

const TABLE: bigint[] = [];
for (let i = 0; i < 256; i++) {
  let crc = BigInt(i);
  for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ REFLECTED_POLY : crc >> 1n;
  TABLE.push(crc);
}

export function crc64(bytes: Uint8Array, crc = 0n): bigint {
  for (let i = 0; i < bytes.length; i++) crc = TABLE[Number((crc ^ BigInt(bytes[i])) & 0xffn)] ^ (crc >> 8n);
  return crc & MASK;
}
