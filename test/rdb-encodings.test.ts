/**
 * The RDB encodings of src/rdb/: Redis's CRC-64 (its check value, and a
 * bit-by-bit reference over random inputs), DUMP payload framing (a payload
 * redis-server 7.0.15 wrote is verified and written again byte for byte;
 * one flipped bit or a newer version is refused), RDB lengths at every
 * encoding boundary, integer-encoded strings, and LZF decompression
 * (literal runs, short and long back references, overlapping copies, and
 * corrupt input refused).
 */
import t from 'tap';
import { crc64 } from '../src/rdb/crc64.js';
import { createDumpPayload, verifyDumpPayload } from '../src/rdb/dump-payload.js';
import { encodeLength, encodeString, RdbReader } from '../src/rdb/rdb-strings.js';
import { lzfDecompress } from '../src/rdb/lzf.js';
import { RdbFormatError } from '../src/rdb/rdb-errors.js';

/** Whether fn fails with RdbFormatError (a class: t.throws would compare it as a pattern). */
function failsToRead(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    return err instanceof RdbFormatError;
  }
}

/** crc64.c's definition, one bit at a time: reflected Jones polynomial. */
function referenceCrc64(bytes: Uint8Array): bigint {
  let crc = 0n;
  for (const b of bytes) {
    crc ^= BigInt(b);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ 0x95ac9329ac4bc9b5n : crc >> 1n;
  }
  return crc;
}

t.test('CRC-64', async (t) => {
  t.equal(crc64(Buffer.from('123456789')), 0xe9c6d914c4b8d9can, "Redis's check value");
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let n = 0; n < 50; n++) {
    const bytes = Buffer.from(Array.from({ length: rnd() % 300 }, () => rnd() & 0xff));
    t.equal(crc64(bytes), referenceCrc64(bytes));
  }
});

t.test('DUMP payloads', async (t) => {
  // FUNCTION DUMP of one library, from redis-server 7.0.15.
  const fromRedis = Buffer.from('f5404423216c7561206e616d653d64310a72656469732e72656769737465725f66756e6374696f6e28276431272c2066756e6374696f6e28292072657475726e203120656e64290a0046d21c74e641b206', 'hex');
  const body = verifyDumpPayload(fromRedis);
  t.ok(body !== null);
  t.same(createDumpPayload(body!), fromRedis, 'written again byte for byte');
  const flipped = Buffer.from(fromRedis);
  flipped[5] ^= 0x10;
  t.equal(verifyDumpPayload(flipped), null, 'a flipped bit');
  const newer = createDumpPayload(Buffer.from('x'));
  newer.writeUInt16LE(11, 1);
  t.equal(verifyDumpPayload(newer), null, 'a newer RDB version');
  t.equal(verifyDumpPayload(Buffer.alloc(9)), null, 'too short');
});

t.test('RDB lengths and strings', async (t) => {
  for (const n of [0, 1, 63, 64, 16383, 16384, 2 ** 32 - 1, 2 ** 32, 2 ** 40]) {
    const encoded = encodeLength(n);
    t.equal(new RdbReader(encoded).length(), n, `length ${n} (${encoded.length} bytes)`);
  }
  t.same(encodeLength(68), Buffer.from([0x40, 0x44]));
  const s = Buffer.from('hello, world');
  t.same(new RdbReader(encodeString(s)).string(), s);
  t.equal(new RdbReader(Buffer.from([0xc0, 0xfe])).string().toString(), '-2', 'int8');
  t.equal(new RdbReader(Buffer.from([0xc1, 0x39, 0x30])).string().toString(), '12345', 'int16');
  t.equal(new RdbReader(Buffer.from([0xc2, 0x15, 0xcd, 0x5b, 0x07])).string().toString(), '123456789', 'int32');
  t.ok(failsToRead(() => new RdbReader(Buffer.from([0x05, 0x61])).string()), 'short');
  // LZF: "abcabcabc" as a literal run of 3 and a back reference of 6 overlapping its own output.
  const lzf = Buffer.from([0xc3, 0x06, 0x09, 0x02, 0x61, 0x62, 0x63, 0x80, 0x02]);
  t.equal(new RdbReader(lzf).string().toString(), 'abcabcabc');
});

t.test('LZF decompression', async (t) => {
  t.equal(lzfDecompress(Buffer.from([0x02, 0x61, 0x62, 0x63, 0x20, 0x02]), 6).toString(), 'abcabc', 'a short match');
  // A long match: length byte 7 + 10 = 17, + 2 = 19 bytes copied from one byte back.
  t.equal(lzfDecompress(Buffer.from([0x00, 0x7a, 0xe0, 0x0a, 0x00]), 20).toString(), 'z'.repeat(20), 'a long overlapping match');
  t.ok(failsToRead(() => lzfDecompress(Buffer.from([0x20, 0x05]), 4)), 'a reference before the start');
  t.ok(failsToRead(() => lzfDecompress(Buffer.from([0x05, 0x61]), 6)), 'a literal run past the input');
  t.ok(failsToRead(() => lzfDecompress(Buffer.from([0x00, 0x61]), 2)), 'shorter than announced');
});
