/**
 * RDB's length and string encodings (rdb.c's rdbSaveLen / rdbLoadLen and
 * rdbGenericLoadStringObject), shared by DUMP payloads and, later, RDB files:
 * a length is 6 bits (00), 14 bits (01), a 32-bit (0x80) or 64-bit (0x81)
 * big-endian number; a string is a length and its bytes, or (11 prefix) an
 * integer of 8, 16 or 32 bits written as text, or LZF-compressed bytes.
 * Strings are written plain; LZF is read.
 */
import { lzfDecompress } from './lzf.js';
import { RdbFormatError } from './rdb-errors.js';

const ENC_INT8 = 0;
const ENC_INT16 = 1;
const ENC_INT32 = 2;
const ENC_LZF = 3;

export function encodeLength(n: number): Buffer {
  if (n < 1 << 6) return Buffer.from([n]);
  if (n < 1 << 14) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  if (n <= 0xffffffff) {
    const b = Buffer.alloc(5);
    b[0] = 0x80;
    b.writeUInt32BE(n, 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = 0x81;
  b.writeBigUInt64BE(BigInt(n), 1);
  return b;
}

export function encodeString(bytes: Uint8Array): Buffer {
  return Buffer.concat([encodeLength(bytes.length), bytes]);
}

/** Reads RDB values from a buffer, failing with RdbFormatError on anything short or unknown. */
export class RdbReader {
  constructor(readonly buf: Buffer, public at = 0, readonly end = buf.length) {}

  get done(): boolean {
    return this.at >= this.end;
  }

  byte(): number {
    if (this.at >= this.end) throw new RdbFormatError('unexpected end');
    return this.buf[this.at++];
  }

  private take(n: number): Buffer {
    if (n < 0 || this.at + n > this.end) throw new RdbFormatError('unexpected end');
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** A length, or -(encoding + 1) for the special string encodings. */
  private lengthOrEncoding(): number {
    const first = this.byte();
    switch (first >> 6) {
      case 0:
        return first & 0x3f;
      case 1:
        return ((first & 0x3f) << 8) | this.byte();
      case 2:
        if (first === 0x80) return this.take(4).readUInt32BE(0);
        if (first === 0x81) return Number(this.take(8).readBigUInt64BE(0));
        throw new RdbFormatError('unknown length encoding');
      default:
        return -((first & 0x3f) + 1);
    }
  }

  length(): number {
    const n = this.lengthOrEncoding();
    if (n < 0) throw new RdbFormatError('unexpected string encoding');
    return n;
  }

  string(): Buffer {
    const n = this.lengthOrEncoding();
    if (n >= 0) return Buffer.from(this.take(n));
    switch (-n - 1) {
      case ENC_INT8:
        return Buffer.from(String(this.take(1).readInt8(0)));
      case ENC_INT16:
        return Buffer.from(String(this.take(2).readInt16LE(0)));
      case ENC_INT32:
        return Buffer.from(String(this.take(4).readInt32LE(0)));
      case ENC_LZF: {
        const compressed = this.length();
        const original = this.length();
        return lzfDecompress(this.take(compressed), original);
      }
      default:
        throw new RdbFormatError('unknown string encoding');
    }
  }
}
