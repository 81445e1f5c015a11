/**
 * Key hashing (src/store/key-hash.ts): the cluster slot is CRC16-XMODEM of the
 * key or its hash tag, computed four bytes a step, and must equal the
 * byte-at-a-time CRC Redis computes; the table hash is MurmurHash3 x86_32,
 * the same from slotAndHash and hashBytes.
 */
import t from 'tap';
import { crc16, hashBytes, keyHash, keyHashSlot, slotAndHash } from '../src/store/key-hash.js';

/** Redis's crc16 (crc16.c), a byte at a time, bit by bit. */
function referenceCrc16(buf: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= buf[i] << 8;
    for (let j = 0; j < 8; j++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** A seeded generator, so that a failure can be replayed. */
function random(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
}

t.test('known values', async (t) => {
  t.equal(crc16(Buffer.from('123456789'), 0, 9), 0x31c3, 'CRC16-XMODEM check value');
  // Slots Redis gives (CLUSTER KEYSLOT).
  t.equal(keyHashSlot(Buffer.from('foo'), 0, 3), 12182);
  t.equal(keyHashSlot(Buffer.from('somekey'), 0, 7), 11058);
  t.equal(keyHashSlot(Buffer.from('{user1000}.following'), 0, 20), keyHashSlot(Buffer.from('user1000'), 0, 8), 'hash tag');
  t.equal(hashBytes(Buffer.from('hello'), 0, 5), 0x248bfa47, 'MurmurHash3 x86_32 of "hello", seed 0');
  t.equal(hashBytes(Buffer.alloc(0), 0, 0), 0, 'empty input');
});

t.test('four bytes a step equal a byte at a time, at every length and offset', async (t) => {
  const next = random(20261208);
  let wrong = 0;
  for (let round = 0; round < 20000; round++) {
    const length = next(48);
    const offset = next(4);
    const buf = new Uint8Array(offset + length + 2);
    // Braces are frequent, so that tags (empty, unclosed, closed) are common.
    for (let i = 0; i < buf.length; i++) buf[i] = next(8) === 0 ? (next(2) === 0 ? 123 : 125) : next(256);
    if (crc16(buf, offset, offset + length) !== referenceCrc16(buf, offset, offset + length)) wrong++;
    const slot = slotAndHash(buf, offset, length);
    if (slot !== keyHashSlot(buf, offset, length)) wrong++;
    if (keyHash.value !== hashBytes(buf, offset, length)) wrong++;
  }
  t.equal(wrong, 0);
});
