/**
 * LZF decompression (the format of liblzf, which Redis uses for compressed
 * RDB strings): a control byte below 32 copies that many + 1 literal bytes;
 * otherwise its top 3 bits are a match length - 2 (7: one more length byte
 * follows) and the rest, with the next byte, the distance - 1 back into the
 * output.
 */
import { RdbFormatError } from './rdb-errors.js';

export function lzfDecompress(input: Uint8Array, outputLength: number): Buffer {
  const out = Buffer.alloc(outputLength);
  let ip = 0;
  let op = 0;
  while (ip < input.length) {
    const ctrl = input[ip++];
    if (ctrl < 32) {
      const n = ctrl + 1;
      if (op + n > outputLength || ip + n > input.length) throw new RdbFormatError('invalid LZF data');
      out.set(input.subarray(ip, ip + n), op);
      ip += n;
      op += n;
      continue;
    }
    let len = ctrl >> 5;
    if (len === 7) {
      if (ip >= input.length) throw new RdbFormatError('invalid LZF data');
      len += input[ip++];
    }
    if (ip >= input.length) throw new RdbFormatError('invalid LZF data');
    const ref = op - ((ctrl & 0x1f) << 8) - input[ip++] - 1;
    len += 2;
    if (ref < 0 || op + len > outputLength) throw new RdbFormatError('invalid LZF data');
    for (let k = 0; k < len; k++) out[op++] = out[ref + k];
  }
  if (op !== outputLength) throw new RdbFormatError('invalid LZF data');
  return out;
}
