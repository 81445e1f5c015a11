/**
 * CRC16-CCITT (XMODEM), the Redis Cluster key hash. memtier routes by
 * crc16(whole key) & 16383 and does not honour {hash tags}
 * (shared/reference/load-tools.md), so neither does this.
 */
const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 8;
  for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  TABLE[i] = c;
}

export function crc16(data: Buffer): number {
  let crc = 0;
  for (let i = 0; i < data.length; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ data[i]) & 0xff];
  return crc;
}

export function keySlot(key: Buffer): number {
  return crc16(key) & 16383;
}
