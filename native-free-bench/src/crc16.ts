/**
 * CRC16-CCITT (XMODEM), the Redis Cluster key hash.
 *
 * memtier routes by crc16(whole key) & 16383 and does not honour {hash tags}
 * (shared/reference/load-tools.md). Its generated keys (prefix + number)
 * carry no braces, so for them both rules give the same slot; weft-bench
 * honours hash tags as Redis does, so that a --command template or a
 * --key-prefix with a {tag} is still routed to the node that owns the key.
 */
const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 8;
  for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  TABLE[i] = c;
}

/** CRC16 of data[from, to). */
export function crc16(data: Uint8Array, from = 0, to = data.length): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ data[i]) & 0xff];
  return crc;
}

/** The cluster slot of the key in data[from, to), with Redis's hash-tag rule. */
export function keySlot(data: Uint8Array, from = 0, to = data.length): number {
  for (let i = from; i < to; i++) {
    if (data[i] !== 0x7b) continue; // '{'
    for (let j = i + 1; j < to; j++) {
      if (data[j] !== 0x7d) continue; // '}'
      // An empty tag "{}" hashes the whole key, as in Redis.
      if (j > i + 1) return crc16(data, i + 1, j) & 16383;
      break;
    }
    break;
  }
  return crc16(data, from, to) & 16383;
}
