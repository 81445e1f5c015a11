/**
 * The inline intset (src/store/intset.ts) against a model kept as a sorted
 * array of bigints: seeded random adds, removes and lookups across the
 * 2 -> 4 -> 8 byte upgrades, the int64 extremes, decimal output, and the
 * canonical-integer parser (Redis's string2ll as setTypeAdd uses it).
 */
import t from 'tap';
import {
  INTSET_WIDTH_16,
  INTSET_WIDTH_32,
  INTSET_WIDTH_64,
  int64FromBigInt,
  int64ToBigInt,
  intValue,
  intsetAdd,
  intsetBytes,
  intsetBytesAfterAdd,
  intsetCount,
  intsetFind,
  intsetFormat,
  intsetGet,
  intsetGetNumber,
  intsetInit,
  intsetInsertAt,
  intsetRemoveAt,
  intsetSearch,
  intsetUpgrade,
  intsetWidth,
  intsetWidthFor,
  parseCanonicalInt64,
} from '../src/store/intset.js';
import { prngInt } from './helpers/prng.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const ascii = (s: string) => Buffer.from(s, 'latin1');

function split(v: bigint): [number, number] {
  int64FromBigInt(v);
  return [intValue.hi, intValue.lo];
}

function widthOf(v: bigint): number {
  if (v >= -32768n && v <= 32767n) return 2;
  if (v >= -(2n ** 31n) && v < 2n ** 31n) return 4;
  return 8;
}

function contents(u8: Uint8Array, p: number): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < intsetCount(u8, p); i++) {
    intsetGet(u8, p, i);
    out.push(int64ToBigInt(intValue.hi, intValue.lo));
  }
  return out;
}

const BOUNDARIES = [
  0n, 1n, -1n, 32767n, 32768n, -32768n, -32769n, 2n ** 31n - 1n, 2n ** 31n, -(2n ** 31n), -(2n ** 31n) - 1n,
  2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n), 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) - 1n,
  INT64_MAX, INT64_MIN, INT64_MAX - 1n, INT64_MIN + 1n,
];

function randomValue(rand: (n: number) => number): bigint {
  switch (rand(5)) {
    case 0:
      return BigInt(rand(65536) - 32768);
    case 1:
      return BigInt(rand(2 ** 32) - 2 ** 31);
    case 2:
      return BigInt.asIntN(64, (BigInt(rand(2 ** 32)) << 32n) | BigInt(rand(2 ** 32)));
    case 3:
      return BOUNDARIES[rand(BOUNDARIES.length)];
    default:
      return BigInt(rand(200) - 100);
  }
}

t.test('widths and the int64 helpers', async (t) => {
  for (const v of BOUNDARIES) {
    const [hi, lo] = split(v);
    t.equal(int64ToBigInt(hi, lo), v, `round trip ${v}`);
    t.equal(intsetWidthFor(hi, lo), widthOf(v), `width of ${v}`);
  }
});

t.test('upgrades 2 -> 4 -> 8 keep order and values, at an unaligned offset', async (t) => {
  const u8 = new Uint8Array(256);
  const p = 3;
  intsetInit(u8, p);
  const values = [5n, -7n, 70000n, -3000000000n, INT64_MAX, INT64_MIN, 0n];
  const model: bigint[] = [];
  const widths: number[] = [];
  for (const v of values) {
    const [hi, lo] = split(v);
    t.equal(intsetBytesAfterAdd(u8, p, hi, lo), 8 + (model.length + 1) * Math.max(intsetWidth(u8, p), widthOf(v)));
    t.equal(intsetAdd(u8, p, hi, lo), true);
    model.push(v);
    model.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    widths.push(intsetWidth(u8, p));
    t.same(contents(u8, p), model);
    t.equal(intsetBytes(u8, p), 8 + model.length * intsetWidth(u8, p));
  }
  t.same(widths, [2, 2, 4, 8, 8, 8, 8]);
  t.equal(u8[0] + u8[1] + u8[2], 0, 'nothing written before the set');
  const [hi, lo] = split(INT64_MIN);
  t.equal(intsetAdd(u8, p, hi, lo), false, 'a duplicate is refused');
  // The width never shrinks (intsetRemove does not downgrade).
  while (intsetCount(u8, p) > 0) intsetRemoveAt(u8, p, 0);
  t.equal(intsetWidth(u8, p), INTSET_WIDTH_64);
  t.equal(intsetBytes(u8, p), 8);
});

t.test('explicit upgrade then insert, as a caller that re-allocates would', async (t) => {
  const u8 = new Uint8Array(64);
  intsetInit(u8, 0);
  for (const v of [1n, 2n, 3n]) intsetAdd(u8, 0, ...split(v));
  const [hi, lo] = split(-(2n ** 40n));
  const need = intsetBytesAfterAdd(u8, 0, hi, lo);
  t.equal(need, 8 + 4 * 8);
  // Move the set to a new place, as an arena reallocation does, then widen and insert.
  const moved = new Uint8Array(64);
  moved.set(u8.subarray(0, intsetBytes(u8, 0)), 11);
  intsetUpgrade(moved, 11, intsetWidthFor(hi, lo));
  t.equal(intsetWidth(moved, 11), INTSET_WIDTH_64);
  const pos = intsetSearch(moved, 11, hi, lo);
  t.equal(pos, -1, 'a wider negative value goes first');
  intsetInsertAt(moved, 11, -pos - 1, hi, lo);
  t.same(contents(moved, 11), [-(2n ** 40n), 1n, 2n, 3n]);
  t.equal(intsetSearch(moved, 11, ...split(2n ** 40n)), -5, 'a wider positive value goes last');
  t.throws(() => {
    const small = new Uint8Array(32);
    intsetInit(small, 0, INTSET_WIDTH_32);
    intsetInsertAt(small, 0, 0, ...split(2n ** 40n));
  }, RangeError);
});

t.test('random operations against a bigint model', async (t) => {
  const rand = prngInt(0x1257);
  const u8 = new Uint8Array(8 + 600 * 8 + 16);
  const p = 5;
  const out = new Uint8Array(32);
  let mismatches = 0;
  for (let round = 0; round < 40; round++) {
    intsetInit(u8, p, INTSET_WIDTH_16);
    const model: bigint[] = [];
    let maxWidth = 2;
    const limit = rand(500) + 1;
    // Some rounds stay narrow to exercise 16-bit and 32-bit sets for longer.
    const narrow = rand(3);
    for (let op = 0; op < limit * 2; op++) {
      let v = randomValue(rand);
      if (narrow === 0) v = BigInt.asIntN(16, v);
      else if (narrow === 1) v = BigInt.asIntN(32, v);
      const [hi, lo] = split(v);
      const idx = model.indexOf(v);
      if (intsetFind(u8, p, hi, lo) !== idx) mismatches++;
      const s = intsetSearch(u8, p, hi, lo);
      const insertPos = model.filter((m) => m < v).length;
      if (s !== (idx >= 0 ? idx : -insertPos - 1)) mismatches++;
      if (rand(3) > 0 && model.length < limit) {
        if (idx < 0) {
          const expected = 8 + (model.length + 1) * Math.max(maxWidth, widthOf(v));
          if (intsetBytesAfterAdd(u8, p, hi, lo) !== expected) mismatches++;
        }
        if (intsetAdd(u8, p, hi, lo) !== idx < 0) mismatches++;
        if (idx < 0) model.splice(insertPos, 0, v);
        maxWidth = Math.max(maxWidth, widthOf(v));
      } else if (model.length > 0) {
        const i = rand(model.length);
        intsetRemoveAt(u8, p, i);
        model.splice(i, 1);
      }
      if (intsetWidth(u8, p) !== maxWidth) mismatches++;
    }
    t.same(contents(u8, p), model, `round ${round}`);
    t.equal(intsetBytes(u8, p), 8 + model.length * maxWidth);
    for (let i = 0; i < model.length; i++) {
      const n = intsetFormat(u8, p, i, out, 3);
      if (Buffer.from(out.subarray(3, 3 + n)).toString('latin1') !== model[i].toString()) mismatches++;
      const num = intsetGetNumber(u8, p, i);
      const exact = BigInt(Number(model[i])) === model[i];
      if (exact ? num !== Number(model[i]) : num !== null) mismatches++;
    }
  }
  t.equal(mismatches, 0);
});

t.test('decimal output and exact numbers at the extremes', async (t) => {
  const u8 = new Uint8Array(128);
  intsetInit(u8, 1);
  const values = [INT64_MIN, -(2n ** 53n) - 1n, -(2n ** 53n), 2n ** 53n, 2n ** 53n + 1n, 2n ** 60n, INT64_MAX];
  for (const v of values) intsetAdd(u8, 1, ...split(v));
  const out = new Uint8Array(24);
  const texts: string[] = [];
  const numbers: (number | null)[] = [];
  for (let i = 0; i < values.length; i++) {
    texts.push(Buffer.from(out.subarray(0, intsetFormat(u8, 1, i, out, 0))).toString('latin1'));
    numbers.push(intsetGetNumber(u8, 1, i));
  }
  t.same(texts, values.map(String));
  t.same(numbers, [-(2 ** 63), null, -(2 ** 53), 2 ** 53, null, 2 ** 60, null]);
});

t.test('parseCanonicalInt64 accepts what string2ll accepts, exactly', async (t) => {
  const good: [string, bigint][] = [
    ['0', 0n],
    ['1', 1n],
    ['-1', -1n],
    ['32767', 32767n],
    ['-32768', -32768n],
    ['9007199254740993', 9007199254740993n],
    ['-9007199254740993', -9007199254740993n],
    ['999999999999999', 999999999999999n],
    ['1000000000000000', 1000000000000000n],
    ['9223372036854775807', INT64_MAX],
    ['-9223372036854775808', INT64_MIN],
    ['-9223372036854775807', INT64_MIN + 1n],
  ];
  for (const [text, v] of good) {
    t.equal(parseCanonicalInt64(ascii(text), 0, text.length), true, text);
    t.equal(int64ToBigInt(intValue.hi, intValue.lo), v, text);
  }
  const bad = [
    '01', '-0', '+1', '1.0', '', '9223372036854775808', '-9223372036854775809', '123456789012345678901',
    '-12345678901234567890', '18446744073709551616', '99999999999999999999', ' 1', '1 ', '-', '--1', '1a', '0x10', '00',
  ];
  for (const text of bad) t.equal(parseCanonicalInt64(ascii(text), 0, text.length), false, JSON.stringify(text));
  // Offsets inside a larger buffer.
  const buf = ascii('xx-42yy');
  t.equal(parseCanonicalInt64(buf, 2, 3), true);
  t.equal(int64ToBigInt(intValue.hi, intValue.lo), -42n);
});

t.test('parseCanonicalInt64 against a model on random texts', async (t) => {
  const rand = prngInt(0xbeef);
  const alphabet = '0123456789-+ .';
  let mismatches = 0;
  for (let i = 0; i < 20000; i++) {
    let s = '';
    const len = rand(22);
    for (let k = 0; k < len; k++) s += rand(10) < 9 ? String(rand(10)) : alphabet[rand(alphabet.length)];
    if (rand(2) === 0 && s.length > 0) s = (rand(2) ? '-' : '') + String(rand(9) + 1) + s.replace(/[^0-9]/g, '');
    const canonical = /^(0|-?[1-9][0-9]*)$/.test(s) && s.length <= 20 && BigInt(s) >= INT64_MIN && BigInt(s) <= INT64_MAX;
    const got = parseCanonicalInt64(ascii(s), 0, s.length);
    if (got !== canonical || (got && int64ToBigInt(intValue.hi, intValue.lo) !== BigInt(s))) mismatches++;
  }
  t.equal(mismatches, 0);
  t.equal(INTSET_WIDTH_16, 2);
});
