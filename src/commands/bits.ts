/**
 * The bitmap family (Redis's bitops.c): SETBIT, GETBIT, BITCOUNT, BITPOS,
 * BITOP and BITFIELD / BITFIELD_RO. Values are read and modified in place in
 * shard memory; bit 0 is the most significant bit of the first byte, as in
 * Redis.
 */
import {
  arg, block, defineCommand, keyArg, oneOf, rangeKeys, tokenArg, type CommandSpec, type KeyRef,
} from './command-spec.js';
import type { CommandContext } from './context.js';
import { ENC_RAW, E_ENCODING, ValueType } from '../store/layout.js';
import type { Shard } from '../store/shard.js';
import { NOT_INTEGER, SYNTAX } from './errors.js';
import { prepareString, storeString } from './string-values.js';
import { parseBigInt64, parseLongLong } from './numbers.js';

const group = 'bitmap';

const BIT_OFFSET_ERROR = 'bit offset is not an integer or out of range';
const BIT_VALUE_ERROR = 'bit is not an integer or out of range';
const BITFIELD_TYPE_ERROR = 'Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';

/**
 * getBitOffsetFromArgument: a bit offset, or for BITFIELD (fieldBits > 0)
 * `#N`, meaning N fields of that width. The multiplication wraps at 64 bits
 * as it does in C. Offsets whose byte lies at or past proto-max-bulk-len are
 * refused. Returns -1 after replying the error.
 */
function bitOffsetArg(c: CommandContext, i: number, fieldBits: number): number {
  let start = c.argStart[i];
  const end = start + c.argLen[i];
  const byField = fieldBits > 0 && c.argLen[i] > 0 && c.buf[start] === 35;
  if (byField) start++;
  let offset = parseLongLong(c.buf, start, end);
  if (offset !== null && byField && !Number.isSafeInteger(offset * fieldBits)) {
    const exact = parseBigInt64(c.buf, start, end - start);
    offset = exact === null ? null : Number(BigInt.asIntN(64, exact * BigInt(fieldBits)));
  } else if (offset !== null && byField) {
    offset *= fieldBits;
  }
  if (offset === null || offset < 0 || Math.floor(offset / 8) >= Number(c.server.configGet('proto-max-bulk-len'))) {
    c.out.error(BIT_OFFSET_ERROR);
    return -1;
  }
  return offset;
}

/** lookupStringForBitCommand's result: the entry, and whether the value was created or grown. */
const target = { e: 0, grew: false };

/**
 * lookupStringForBitCommand: opens the current key for an in-place bit write,
 * creating it or zero-padding it to at least `byteLength` bytes. Like Redis's
 * dbUnshareStringValue, the value becomes raw-encoded. The TTL is kept.
 * Returns false after replying WRONGTYPE.
 */
function openStringForBits(c: CommandContext, byteLength: number): boolean {
  let e = c.findWrite();
  if (e !== 0 && c.typeOf(e) !== ValueType.String) {
    c.wrongType();
    return false;
  }
  const s = c.shard;
  const old = e === 0 ? 0 : s.valueLength(e);
  target.grew = e === 0 || byteLength > old;
  if (target.grew) {
    e = prepareString(c, e, Math.max(old, byteLength), true, old);
    const v = s.valueStart(e);
    s.u8.fill(0, v + old, v + s.valueLength(e));
  }
  s.u8[e + E_ENCODING] = ENC_RAW;
  target.e = e;
  return true;
}

function setbit(c: CommandContext): void {
  const offset = bitOffsetArg(c, 2, 0);
  if (offset < 0) return;
  const on = c.argInt(3);
  if (on === null || (on !== 0 && on !== 1)) return c.out.error(BIT_VALUE_ERROR);
  const byte = Math.floor(offset / 8);
  c.openKey(1);
  if (!openStringForBits(c, byte + 1)) return;
  const s = c.shard;
  const p = s.valueStart(target.e) + byte;
  const mask = 0x80 >> offset % 8;
  const was = (s.u8[p] & mask) !== 0 ? 1 : 0;
  if (was !== on) {
    s.u8[p] = on ? s.u8[p] | mask : s.u8[p] & ~mask;
    if (!target.grew) c.dirty++;
  }
  c.out.integer(was);
}

function getbit(c: CommandContext): void {
  const offset = bitOffsetArg(c, 2, 0);
  if (offset < 0) return;
  c.openKey(1);
  const e = c.findRead();
  if (e === 0) return c.out.integer(0);
  if (c.typeOf(e) !== ValueType.String) return c.wrongType();
  const s = c.shard;
  const byte = Math.floor(offset / 8);
  const bit = byte < s.valueLength(e) ? s.u8[s.valueStart(e) + byte] & (0x80 >> offset % 8) : 0;
  c.out.integer(bit !== 0 ? 1 : 0);
}

/** Set bits per 16-bit value: two lookups per word beat a SWAR popcount in V8. */
const POPCOUNT16 = new Uint8Array(65536);
for (let i = 1; i < 65536; i++) POPCOUNT16[i] = (i & 1) + POPCOUNT16[i >> 1];

/**
 * Set bits in shard bytes [from, to), aligned 32-bit words in the middle.
 * Long loops read through views made for the range: the shard's own views
 * track the growable SharedArrayBuffer's length, and V8 reads those several
 * times slower than fixed-length ones.
 */
function popcountBytes(s: Shard, from: number, to: number): number {
  const u8 = s.u8;
  let count = 0;
  let i = from;
  while (i < to && (i & 3) !== 0) count += POPCOUNT16[u8[i++]];
  if ((i & 3) === 0 && to - i >= 4) {
    const words = new Uint32Array(s.sab, i, (to - i) >>> 2);
    for (let w = 0; w < words.length; w++) {
      const x = words[w];
      count += POPCOUNT16[x & 0xffff] + POPCOUNT16[x >>> 16];
    }
    i += words.length * 4;
  }
  while (i < to) count += POPCOUNT16[u8[i++]];
  return count;
}

/** Set bits between bit positions first and last (inclusive) of the value at `base`. */
function countBits(s: Shard, base: number, first: number, last: number): number {
  const firstByte = base + Math.floor(first / 8);
  const lastByte = base + Math.floor(last / 8);
  let count = popcountBytes(s, firstByte, lastByte + 1);
  // Redis's first_byte_neg_mask / last_byte_neg_mask: bits of the edge bytes outside the range.
  count -= POPCOUNT16[s.u8[firstByte] & ~(0xff >> first % 8) & 0xff];
  count -= POPCOUNT16[s.u8[lastByte] & (0x7f >> last % 8)];
  return count;
}

/**
 * Normalises a start/end pair as Redis's bitcount and bitpos do: negative
 * values count from the end of `total` units, then both are clamped.
 */
function clampRange(start: number, end: number, total: number): [number, number] {
  if (start < 0) start = total + start;
  if (end < 0) end = total + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  return [start, end];
}

/** Parses BIT|BYTE at argument i: 1 for BIT, 0 for BYTE, -1 after a syntax error. */
function unitArg(c: CommandContext, i: number): number {
  if (c.argIs(i, 'bit')) return 1;
  if (c.argIs(i, 'byte')) return 0;
  c.out.error(SYNTAX);
  return -1;
}

/**
 * BITCOUNT key [start end [BYTE|BIT]]. Redis 7.0 looks the key up before
 * parsing the range, so a missing key answers 0 whatever the arguments.
 */
function bitcount(c: CommandContext): void {
  c.openKey(1);
  const e = c.findRead();
  if (e === 0) return c.out.integer(0);
  if (c.typeOf(e) !== ValueType.String) return c.wrongType();
  const s = c.shard;
  const len = s.valueLength(e);
  let first = 0;
  let last = len * 8 - 1;
  if (c.argc === 4 || c.argc === 5) {
    const start = c.argInt(2);
    if (start === null) return c.out.error(NOT_INTEGER);
    const end = c.argInt(3);
    if (end === null) return c.out.error(NOT_INTEGER);
    // Checked before BYTE|BIT is parsed, as Redis does.
    if (start < 0 && end < 0 && start > end) return c.out.integer(0);
    const isBit = c.argc === 5 ? unitArg(c, 4) : 0;
    if (isBit < 0) return;
    const [from, to] = clampRange(start, end, isBit ? len * 8 : len);
    if (from > to) return c.out.integer(0);
    first = isBit ? from : from * 8;
    last = isBit ? to : to * 8 + 7;
  } else if (c.argc !== 2) {
    return c.out.error(SYNTAX);
  }
  c.out.integer(len === 0 ? 0 : countBits(s, s.valueStart(e), first, last));
}

/**
 * First bit equal to `bit` between bit positions first and last (inclusive)
 * of the value at shard offset `base`, or -1. Whole bytes holding no such bit
 * are skipped a 32-bit word at a time.
 */
function findBit(s: Shard, base: number, first: number, last: number, bit: number): number {
  const u8 = s.u8;
  const bitAt = (pos: number) => (u8[base + Math.floor(pos / 8)] >> (7 - (pos % 8))) & 1;
  let pos = first;
  for (; pos <= last && pos % 8 !== 0; pos++) if (bitAt(pos) === bit) return pos;
  if (pos > last) return -1;
  const skipByte = bit ? 0x00 : 0xff;
  const skipWord = bit ? 0 : 0xffffffff;
  const wholeEnd = base + Math.floor((last + 1) / 8);
  let p = base + pos / 8;
  while (p < wholeEnd && (p & 3) !== 0 && u8[p] === skipByte) p++;
  if ((p & 3) === 0 && wholeEnd - p >= 4) {
    const words = new Uint32Array(s.sab, p, (wholeEnd - p) >>> 2);
    let w = 0;
    while (w < words.length && words[w] === skipWord) w++;
    p += w * 4;
  }
  while (p < wholeEnd && u8[p] === skipByte) p++;
  for (pos = (p - base) * 8; pos <= last; pos++) if (bitAt(pos) === bit) return pos;
  return -1;
}

/**
 * BITPOS key bit [start [end [BYTE|BIT]]]. A missing key is an endless run
 * of zeros. Looking for 0 without an explicit end treats the string as
 * zero-padded on the right; with an explicit end, a range of ones answers -1.
 */
function bitpos(c: CommandContext): void {
  const bit = c.argInt(2);
  if (bit === null) return c.out.error(NOT_INTEGER);
  if (bit !== 0 && bit !== 1) return c.out.error('The bit argument must be 1 or 0.');
  c.openKey(1);
  const e = c.findRead();
  if (e === 0) return c.out.integer(bit ? -1 : 0);
  if (c.typeOf(e) !== ValueType.String) return c.wrongType();
  const s = c.shard;
  const len = s.valueLength(e);
  let first = 0;
  let last = len * 8 - 1;
  let endGiven = false;
  if (c.argc >= 4 && c.argc <= 6) {
    const start = c.argInt(3);
    if (start === null) return c.out.error(NOT_INTEGER);
    const isBit = c.argc === 6 ? unitArg(c, 5) : 0;
    if (isBit < 0) return;
    let end = isBit ? len * 8 + 7 : len - 1;
    if (c.argc >= 5) {
      const given = c.argInt(4);
      if (given === null) return c.out.error(NOT_INTEGER);
      end = given;
      endGiven = true;
    }
    const [from, to] = clampRange(start, end, isBit ? len * 8 : len);
    if (from > to) return c.out.integer(-1);
    first = isBit ? from : from * 8;
    last = isBit ? to : to * 8 + 7;
  } else if (c.argc !== 3) {
    return c.out.error(SYNTAX);
  }
  if (len === 0) return c.out.integer(-1);
  const pos = findBit(s, s.valueStart(e), first, last, bit);
  if (pos >= 0 || bit === 1 || endGiven) c.out.integer(pos);
  else c.out.integer(last + 1);
}

const enum BitOp { And, Or, Xor, Not }

/** Where one BITOP source lies: its shard, first byte and length (0 for a missing key). */
interface Source { shard: Shard; start: number; len: number }

/**
 * Writes op(sources) into dst (`dst.length` bytes); missing bytes of shorter
 * sources count as zeros, as in Redis. Works 32 bits at a time through
 * DataViews, which need no alignment (values start at any byte).
 */
function computeBitop(op: BitOp, sources: Source[], dst: Uint8Array): void {
  const len = dst.length;
  const head = sources[0];
  dst.set(new Uint8Array(head.shard.sab, head.start, head.len));
  dst.fill(0, head.len);
  const out = new DataView(dst.buffer, dst.byteOffset, len);
  if (op === BitOp.Not) {
    const words = len - (len % 4);
    for (let k = 0; k < words; k += 4) out.setUint32(k, ~out.getUint32(k, true), true);
    for (let k = words; k < len; k++) dst[k] = ~dst[k];
    return;
  }
  for (let j = 1; j < sources.length; j++) {
    const { shard, start, len: n } = sources[j];
    const src = new DataView(shard.sab, start, n);
    const words = n - (n % 4);
    if (op === BitOp.And) {
      for (let k = 0; k < words; k += 4) out.setUint32(k, out.getUint32(k, true) & src.getUint32(k, true), true);
      for (let k = words; k < n; k++) dst[k] &= src.getUint8(k);
      dst.fill(0, n);
    } else if (op === BitOp.Or) {
      for (let k = 0; k < words; k += 4) out.setUint32(k, out.getUint32(k, true) | src.getUint32(k, true), true);
      for (let k = words; k < n; k++) dst[k] |= src.getUint8(k);
    } else {
      for (let k = 0; k < words; k += 4) out.setUint32(k, out.getUint32(k, true) ^ src.getUint32(k, true), true);
      for (let k = words; k < n; k++) dst[k] ^= src.getUint8(k);
    }
  }
}

/** BITOP AND|OR|XOR|NOT destkey key [key ...]: replies the result's length. */
function bitop(c: CommandContext): void {
  let op: BitOp;
  if (c.argIs(1, 'and')) op = BitOp.And;
  else if (c.argIs(1, 'or')) op = BitOp.Or;
  else if (c.argIs(1, 'xor')) op = BitOp.Xor;
  else if (c.argIs(1, 'not')) op = BitOp.Not;
  else return c.out.error(SYNTAX);
  if (op === BitOp.Not && c.argc !== 4) return c.out.error('BITOP NOT must be called with a single source key.');
  c.lockKeyRange(2, c.argc - 1, 1);
  const sources: Source[] = [];
  let maxLen = 0;
  let destIsSource = false;
  for (let i = 3; i < c.argc; i++) {
    c.selectKey(i);
    const e = c.findRead();
    if (e !== 0 && c.typeOf(e) !== ValueType.String) return c.wrongType();
    const s = c.shard;
    const len = e === 0 ? 0 : s.valueLength(e);
    sources.push({ shard: s, start: e === 0 ? 0 : s.valueStart(e), len });
    if (len > maxLen) maxLen = len;
    if (c.argsEqual(2, i)) destIsSource = true;
  }
  c.selectKey(2);
  let e = c.findWrite();
  if (maxLen === 0) {
    // An empty result deletes the destination, as Redis does.
    if (e !== 0) {
      c.shard.remove(c.db, e);
      c.dirty++;
    }
    return c.out.integer(0);
  }
  if (destIsSource) {
    // The destination's old value is an input: compute aside, then store.
    const result = Buffer.allocUnsafe(maxLen);
    computeBitop(op, sources, result);
    e = storeString(c, e, result, 0, maxLen, false);
  } else {
    e = prepareString(c, e, maxLen, false, 0);
    computeBitop(op, sources, new Uint8Array(c.shard.sab, c.shard.valueStart(e), maxLen));
  }
  c.shard.u8[e + E_ENCODING] = ENC_RAW;
  c.out.integer(maxLen);
}

const enum FieldOpcode { Get, Set, IncrBy }
const enum Overflow { Wrap, Sat, Fail }

interface FieldOp {
  opcode: FieldOpcode;
  signed: boolean;
  bits: number;
  offset: number;
  /** SET's value or INCRBY's increment. */
  value: bigint;
  overflow: Overflow;
}

/** getBitfieldTypeFromArgument: i1..i64 or u1..u63; the width, or 0 after replying. */
function fieldTypeArg(c: CommandContext, i: number): number {
  const start = c.argStart[i];
  const len = c.argLen[i];
  const kind = len > 0 ? c.buf[start] : 0;
  // Redis parses the width with strlen(), so it stops at a NUL byte.
  let end = start + 1;
  while (end < start + len && c.buf[end] !== 0) end++;
  const bits = kind === 105 || kind === 117 ? parseLongLong(c.buf, start + 1, end) : null;
  if (bits === null || bits < 1 || bits > (kind === 105 ? 64 : 63)) {
    c.out.error(BITFIELD_TYPE_ERROR);
    return 0;
  }
  return bits;
}

/**
 * The `bits`-wide field at bit `offset` of the value at `base` (length
 * `len`, zeros past it), as an unsigned pattern. Up to 6 bytes are gathered
 * in a double (exact below 2^53); wider spans use a bigint.
 */
function readField(u8: Uint8Array, base: number, len: number, offset: number, bits: number): bigint {
  const first = Math.floor(offset / 8);
  const last = Math.floor((offset + bits - 1) / 8);
  const shift = (last + 1) * 8 - offset - bits;
  if (last - first < 6) {
    let acc = 0;
    for (let i = first; i <= last; i++) acc = acc * 256 + (i < len ? u8[base + i] : 0);
    return BigInt(Math.floor(acc / 2 ** shift) % 2 ** bits);
  }
  let acc = 0n;
  for (let i = first; i <= last; i++) acc = (acc << 8n) | BigInt(i < len ? u8[base + i] : 0);
  return BigInt.asUintN(bits, acc >> BigInt(shift));
}

/** Writes the low `bits` bits of `value` at bit `offset` (the bytes exist). */
function writeField(u8: Uint8Array, base: number, offset: number, bits: number, value: bigint): void {
  const first = Math.floor(offset / 8);
  const last = Math.floor((offset + bits - 1) / 8);
  const shift = BigInt((last + 1) * 8 - offset - bits);
  let acc = 0n;
  for (let i = first; i <= last; i++) acc = (acc << 8n) | BigInt(u8[base + i]);
  const mask = ((1n << BigInt(bits)) - 1n) << shift;
  acc = (acc & ~mask) | ((BigInt.asUintN(bits, value) << shift) & mask);
  for (let i = last; i >= first; i--) {
    u8[base + i] = Number(acc & 0xffn);
    acc >>= 8n;
  }
}

/**
 * checkSignedBitfieldOverflow / checkUnsignedBitfieldOverflow: the value to
 * store for `sum` (the exact result), or null when it overflows under FAIL.
 * WRAP keeps the low bits (sign-extended for signed fields), SAT clamps.
 */
function fitField(sum: bigint, op: FieldOp): bigint | null {
  const { bits, signed } = op;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const min = signed ? -max - 1n : 0n;
  if (sum >= min && sum <= max) return sum;
  if (op.overflow === Overflow.Fail) return null;
  if (op.overflow === Overflow.Sat) return sum > max ? max : min;
  return signed ? BigInt.asIntN(bits, sum) : BigInt.asUintN(bits, sum);
}

function replyBigInt(c: CommandContext, v: bigint): void {
  if (v >= -9007199254740991n && v <= 9007199254740991n) c.out.integer(Number(v));
  else c.out.bigInteger(v);
}

/** Parses the BITFIELD subcommands from argument 2; null after replying an error. */
function parseFieldOps(c: CommandContext): FieldOp[] | null {
  const ops: FieldOp[] = [];
  let overflow = Overflow.Wrap;
  for (let j = 2; j < c.argc; j++) {
    const remaining = c.argc - j - 1;
    let opcode: FieldOpcode;
    if (c.argIs(j, 'get') && remaining >= 2) opcode = FieldOpcode.Get;
    else if (c.argIs(j, 'set') && remaining >= 3) opcode = FieldOpcode.Set;
    else if (c.argIs(j, 'incrby') && remaining >= 3) opcode = FieldOpcode.IncrBy;
    else if (c.argIs(j, 'overflow') && remaining >= 1) {
      j++;
      if (c.argIs(j, 'wrap')) overflow = Overflow.Wrap;
      else if (c.argIs(j, 'sat')) overflow = Overflow.Sat;
      else if (c.argIs(j, 'fail')) overflow = Overflow.Fail;
      else {
        c.out.error('Invalid OVERFLOW type specified');
        return null;
      }
      continue;
    } else {
      c.out.error(SYNTAX);
      return null;
    }
    const bits = fieldTypeArg(c, j + 1);
    if (bits === 0) return null;
    const offset = bitOffsetArg(c, j + 2, bits);
    if (offset < 0) return null;
    let value = 0n;
    if (opcode !== FieldOpcode.Get) {
      // Exact beyond 2^53 only when needed: BigInt from text is the slow path.
      const approx = c.argInt(j + 3);
      const parsed = approx !== null && Number.isSafeInteger(approx)
        ? BigInt(approx) : parseBigInt64(c.buf, c.argStart[j + 3], c.argLen[j + 3]);
      if (parsed === null) {
        c.out.error(NOT_INTEGER);
        return null;
      }
      value = parsed;
    }
    ops.push({ opcode, signed: c.buf[c.argStart[j + 1]] === 105, bits, offset, value, overflow });
    j += opcode === FieldOpcode.Get ? 2 : 3;
  }
  return ops;
}

/**
 * BITFIELD / BITFIELD_RO. All subcommands are parsed before the key is
 * touched; a write grows the string once to the furthest bit written, even
 * when every write then fails under OVERFLOW FAIL (as Redis does).
 */
function bitfieldGeneric(readonlyCommand: boolean) {
  return (c: CommandContext): void => {
    const ops = parseFieldOps(c);
    if (ops === null) return;
    let highestByte = -1;
    for (const op of ops) {
      if (op.opcode !== FieldOpcode.Get) highestByte = Math.max(highestByte, Math.floor((op.offset + op.bits - 1) / 8));
    }
    let e: number;
    if (highestByte < 0) {
      c.openKey(1);
      e = c.findRead();
      if (e !== 0 && c.typeOf(e) !== ValueType.String) return c.wrongType();
    } else {
      if (readonlyCommand) return c.out.error('BITFIELD_RO only supports the GET subcommand');
      c.openKey(1);
      if (!openStringForBits(c, highestByte + 1)) return;
      e = target.e;
    }
    const s = c.shard;
    const u8 = s.u8;
    const base = e === 0 ? 0 : s.valueStart(e);
    const len = e === 0 ? 0 : s.valueLength(e);
    let changes = 0;
    c.out.arrayHeader(ops.length);
    for (const op of ops) {
      const raw = readField(u8, base, len, op.offset, op.bits);
      const old = op.signed ? BigInt.asIntN(op.bits, raw) : raw;
      if (op.opcode === FieldOpcode.Get) {
        replyBigInt(c, old);
        continue;
      }
      // SET takes the value as Redis's int64 / uint64 cast of the argument.
      const wanted = op.opcode === FieldOpcode.IncrBy ? old + op.value : op.signed ? op.value : BigInt.asUintN(64, op.value);
      const stored = fitField(wanted, op);
      if (stored === null) {
        c.out.nullBulk();
        continue;
      }
      replyBigInt(c, op.opcode === FieldOpcode.IncrBy ? stored : old);
      writeField(u8, base, op.offset, op.bits, stored);
      if (stored !== old) changes++;
    }
    // Creating or growing the string was counted by prepareString.
    c.dirty += changes;
  };
}

/**
 * bitfieldGetKeys: the key is only read when every subcommand is a GET (or
 * OVERFLOW); a write or anything unparsable makes it read-write.
 */
function bitfieldKeyFlags(c: CommandContext): KeyRef[] {
  for (let i = 2; i < c.argc; i++) {
    const remaining = c.argc - i - 1;
    if (c.argIs(i, 'get') && remaining >= 2) i += 2;
    else if (c.argIs(i, 'overflow') && remaining >= 1) i += 1;
    else return [{ pos: 1, flags: ['RW', 'ACCESS', 'UPDATE'] }];
  }
  return [{ pos: 1, flags: ['RO', 'ACCESS'] }];
}

const key1: [number, number, number] = [1, 1, 1];
const indexUnit = oneOf('index_unit', [tokenArg('byte', 'BYTE'), tokenArg('bit', 'BIT')], { optional: true, since: '7.0.0' });
const unitHistory: [string, string][] = [['7.0.0', 'Added the `BYTE|BIT` option.']];
const getField = block('encoding_offset', [arg('encoding', 'string'), arg('offset', 'integer')], { token: 'GET' });

export const bitCommands: CommandSpec[] = [
  defineCommand({ name: 'setbit', arity: 4, flags: ['write', 'denyoom'], keys: key1, keyFlags: ['RW', 'ACCESS', 'UPDATE'],
    categories: ['bitmap'], group, since: '2.2.0', complexity: 'O(1)',
    summary: 'Sets or clears the bit at offset in the string value stored at key',
    arguments: [keyArg('key', 0), arg('offset', 'integer'), arg('value', 'integer')], handler: setbit }),
  defineCommand({ name: 'getbit', arity: 3, flags: ['readonly', 'fast'], keys: key1, keyFlags: ['RO', 'ACCESS'],
    categories: ['bitmap'], group, since: '2.2.0', complexity: 'O(1)',
    summary: 'Returns the bit value at offset in the string value stored at key',
    arguments: [keyArg('key', 0), arg('offset', 'integer')], handler: getbit }),
  defineCommand({ name: 'bitcount', arity: -2, flags: ['readonly'], keys: key1, keyFlags: ['RO', 'ACCESS'],
    categories: ['bitmap'], group, since: '2.6.0', complexity: 'O(N)', summary: 'Count set bits in a string',
    history: unitHistory,
    arguments: [keyArg('key', 0), block('index', [arg('start', 'integer'), arg('end', 'integer'), indexUnit], { optional: true })],
    handler: bitcount }),
  defineCommand({ name: 'bitpos', arity: -3, flags: ['readonly'], keys: key1, keyFlags: ['RO', 'ACCESS'],
    categories: ['bitmap'], group, since: '2.8.7', complexity: 'O(N)', summary: 'Find first bit set or clear in a string',
    history: unitHistory,
    arguments: [keyArg('key', 0), arg('bit', 'integer'), block('index', [arg('start', 'integer'),
      block('end_index', [arg('end', 'integer'), indexUnit], { optional: true })], { optional: true })],
    handler: bitpos }),
  defineCommand({ name: 'bitop', arity: -4, flags: ['write', 'denyoom'], keys: [2, -1, 1],
    keySpecs: [rangeKeys(['OW', 'UPDATE'], 2), rangeKeys(['RO', 'ACCESS'], 3, -1)],
    categories: ['bitmap'], group, since: '2.6.0', complexity: 'O(N)', summary: 'Perform bitwise operations between strings',
    arguments: [arg('operation', 'string'), keyArg('destkey', 0), keyArg('key', 1, { multiple: true })], handler: bitop }),
  defineCommand({ name: 'bitfield', arity: -2, flags: ['write', 'denyoom'], keys: key1,
    keyFlags: ['RW', 'ACCESS', 'UPDATE', 'VARIABLE_FLAGS'], keyNotes: 'This command allows both access and modification of the key',
    categories: ['bitmap'], group, since: '3.2.0', complexity: 'O(1) for each subcommand specified',
    summary: 'Perform arbitrary bitfield integer operations on strings',
    arguments: [keyArg('key', 0), oneOf('operation', [getField, block('write', [
      oneOf('wrap_sat_fail', [tokenArg('wrap', 'WRAP'), tokenArg('sat', 'SAT'), tokenArg('fail', 'FAIL')],
        { token: 'OVERFLOW', optional: true }),
      oneOf('write_operation', [
        block('encoding_offset_value', [arg('encoding', 'string'), arg('offset', 'integer'), arg('value', 'integer')], { token: 'SET' }),
        block('encoding_offset_increment', [arg('encoding', 'string'), arg('offset', 'integer'), arg('increment', 'integer')],
          { token: 'INCRBY' })])])], { optional: true, multiple: true })],
    getKeysAndFlags: bitfieldKeyFlags, handler: bitfieldGeneric(false) }),
  defineCommand({ name: 'bitfield_ro', arity: -2, flags: ['readonly', 'fast'], keys: key1, keyFlags: ['RO', 'ACCESS'],
    categories: ['bitmap'], group, since: '6.0.0', complexity: 'O(1) for each subcommand specified',
    summary: 'Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD',
    arguments: [keyArg('key', 0), block('encoding_offset', [arg('encoding', 'string'), arg('offset', 'integer')],
      { token: 'GET', optional: true, multiple: true, multipleToken: true })],
    handler: bitfieldGeneric(true) }),
];
