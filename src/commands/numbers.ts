/**
 * Number parsing and formatting with Redis's rules: string2ll for integers,
 * strtold-like floats with no surrounding space, x87 long double arithmetic
 * for INCRBYFLOAT and the decimal forms Redis prints.
 */
import { parseLongLong } from '../protocol/resp-parser.js';

export { parseLongLong };

/** Integer value of stored bytes (string2ll), or null. */
export function bytesToInteger(buf: Uint8Array, start: number, len: number): number | null {
  return parseLongLong(buf, start, start + len);
}

/** getIntFromObjectOrReply's reply for an integer that does not fit a C int. */
export const NOT_INT32 = 'value is out of range, value must between -2147483648 and 2147483647';

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/** Parses int64 text exactly as a bigint (for values beyond 2^53), or null. */
export function parseBigInt64(buf: Uint8Array, start: number, len: number): bigint | null {
  if (parseLongLong(buf, start, start + len) === null) return null;
  const v = BigInt(Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('latin1'));
  return v > INT64_MAX || v < INT64_MIN ? null : v;
}

/**
 * Whether an integer argument in seconds is beyond LLONG_MAX / 1000 or below
 * LLONG_MIN / 1000 (C integer division), so that converting it to ms would
 * overflow. Decided on the exact text: doubles cannot tell 9223372036854775
 * from 9223372036854776.
 */
export function secondsOverflow(buf: Uint8Array, start: number, len: number): boolean {
  const v = parseBigInt64(buf, start, len);
  return v === null || v > 9223372036854775n || v < -9223372036854775n;
}

/**
 * Redis keeps INCRBYFLOAT (and HINCRBYFLOAT) values as C `long double`, which
 * on x86-64 is the x87 80-bit extended format: a 64-bit significand and a
 * 15-bit exponent. The replies show it (1234567.1 + 0.1 prints
 * 1234567.20000000000004547, 1e400 is a valid finite value), so weft
 * computes in that format exactly, with BigInt: value = (-1)^neg * m * 2^e,
 * m < 2^64, rounded to nearest, ties to even, as strtold, the x87 adder and
 * glibc's printf do.
 */
export interface LongDouble {
  neg: boolean;
  /** Significand: 2^63 <= m < 2^64 for normal values, smaller for subnormals, 0 for zero. */
  m: bigint;
  /** Exponent of the significand's last bit. */
  e: number;
  /** Infinity (m and e are then meaningless). */
  inf: boolean;
}

/** Exponent of the last significand bit of the smallest normal (2^-16382) and of every subnormal. */
const LD_E_MIN = -16382 - 63;
/** Exponent of the last significand bit of the largest finite value (just under 2^16384). */
const LD_E_MAX = 16383 - 63;
const TWO_63 = 1n << 63n;
const TWO_64 = 1n << 64n;
/** Redis's MAX_LONG_DOUBLE_CHARS: string2ld refuses texts of this length or more. */
const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Rounds the positive value num / den * 2^shift to a long double (ties to even). */
function roundToLongDouble(neg: boolean, num: bigint, den: bigint, shift: number): LongDouble {
  if (num === 0n) return { neg, m: 0n, e: 0, inf: false };
  // Pick e so that num / den * 2^(shift - e) lies in [2^63, 2^64).
  let e = bitLength(num) - bitLength(den) + shift - 64;
  const quotient = (exp: number): [bigint, bigint, bigint] => {
    const k = shift - exp;
    const n = k >= 0 ? num << BigInt(k) : num;
    const d = k >= 0 ? den : den << BigInt(-k);
    const q = n / d;
    return [q, n - q * d, d];
  };
  let [q, r, d] = quotient(e);
  while (q >= TWO_64) [q, r, d] = quotient(++e);
  while (q < TWO_63 && e > LD_E_MIN) [q, r, d] = quotient(--e);
  if (e < LD_E_MIN) [q, r, d] = quotient((e = LD_E_MIN));
  const twice = r * 2n;
  if (twice > d || (twice === d && (q & 1n) === 1n)) q++;
  if (q === TWO_64) {
    q = TWO_63;
    e++;
  }
  if (e > LD_E_MAX) return { neg, m: 0n, e: 0, inf: true };
  return { neg, m: q, e, inf: false };
}

const DECIMAL_RE = /^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const HEX_RE = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;

/**
 * Redis's string2ld: strtold over the whole text (decimal, hexadecimal,
 * inf/infinity), refusing leading space, trailing bytes, NaN, and results
 * that overflowed or underflowed to zero. Null when it is not a valid float.
 */
export function parseLongDouble(buf: Uint8Array, start: number, len: number): LongDouble | null {
  if (len === 0 || len >= MAX_LONG_DOUBLE_CHARS) return null;
  // strtold must consume every byte: a NUL inside the value fails too.
  let text = Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('latin1');
  let neg = false;
  if (text[0] === '+' || text[0] === '-') {
    neg = text[0] === '-';
    text = text.slice(1);
  }
  const lower = text.toLowerCase();
  if (lower === 'inf' || lower === 'infinity') return { neg, m: 0n, e: 0, inf: true };
  let digits: bigint;
  let tenExp = 0;
  let twoExp = 0;
  let magnitude: number;
  const hex = HEX_RE.exec(text);
  if (hex) {
    const int = hex[1];
    const frac = hex[2] ?? '';
    if (int === '' && frac === '') return null;
    digits = BigInt('0x' + (int + frac));
    const p = Number(hex[3] ?? '0');
    twoExp = p - 4 * frac.length;
    magnitude = (bitLength(digits) + twoExp) * 0.30103;
  } else {
    const dec = DECIMAL_RE.exec(text);
    if (!dec) return null;
    const int = dec[1];
    const frac = dec[2] ?? '';
    if (int === '' && frac === '') return null;
    const all = (int + frac).replace(/^0+/, '');
    digits = all === '' ? 0n : BigInt(all);
    tenExp = Number(dec[3] ?? '0') - frac.length;
    magnitude = all.length + tenExp;
  }
  if (digits === 0n) return { neg, m: 0n, e: 0, inf: false };
  // Far out of range: strtold reports ERANGE (HUGE_VAL or zero), which string2ld refuses.
  if (magnitude > 4940 || magnitude < -4960) return null;
  let num = digits;
  let den = 1n;
  if (tenExp >= 0) num *= 10n ** BigInt(tenExp);
  else den = 10n ** BigInt(-tenExp);
  const v = roundToLongDouble(neg, num, den, twoExp);
  if (v.inf || v.m === 0n) return null;
  return v;
}

/** a + b in long double arithmetic (x87 round to nearest). */
/** The nearest double of a long double. */
export function longDoubleToNumber(v: LongDouble): number {
  if (v.inf) return v.neg ? -Infinity : Infinity;
  const n = Number(v.m) * 2 ** v.e;
  return v.neg ? -n : n;
}

export function addLongDoubles(a: LongDouble, b: LongDouble): LongDouble {
  if (a.inf || b.inf) return { neg: a.inf ? a.neg : b.neg, m: 0n, e: 0, inf: true };
  if (a.m === 0n && b.m === 0n) return { neg: a.neg && b.neg, m: 0n, e: 0, inf: false };
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  const e = Math.min(a.e, b.e);
  const sum = (a.neg ? -a.m : a.m) * (1n << BigInt(a.e - e)) + (b.neg ? -b.m : b.m) * (1n << BigInt(b.e - e));
  if (sum === 0n) return { neg: false, m: 0n, e: 0, inf: false };
  return roundToLongDouble(sum < 0n, sum < 0n ? -sum : sum, 1n, e);
}

/**
 * A long double as Redis's ld2string(LD_STR_HUMAN) writes it: "%.17Lf"
 * (glibc rounds the exact binary value, ties to even), trailing zeros and
 * point trimmed, "-0" turned into "0". The value must be finite.
 */
export function formatLongDoubleHuman(v: LongDouble): string {
  let scaled: bigint;
  const m = v.m * 10n ** 17n;
  if (v.e >= 0) {
    scaled = m << BigInt(v.e);
  } else {
    const k = BigInt(-v.e);
    scaled = m >> k;
    const r = m - (scaled << k);
    const half = 1n << (k - 1n);
    if (r > half || (r === half && (scaled & 1n) === 1n)) scaled++;
  }
  const all = scaled.toString().padStart(18, '0');
  const intPart = all.slice(0, all.length - 17);
  const fracPart = all.slice(all.length - 17).replace(/0+$/, '');
  const text = fracPart ? `${intPart}.${fracPart}` : intPart;
  return v.neg && text !== '0' ? `-${text}` : text;
}


const ULONG_MAX = (1n << 64n) - 1n;

/**
 * parseScanCursorOrReply's strtoul in base 10 over the whole text: a sign
 * is allowed and a negative value wraps modulo 2^64, an empty text is 0;
 * leading space, trailing bytes and values beyond 2^64 - 1 are refused
 * (null).
 */
export function parseScanCursor(buf: Uint8Array, start: number, len: number): bigint | null {
  let p = start;
  const end = start + len;
  let negative = false;
  if (len > 0 && (buf[p] === 43 || buf[p] === 45)) {
    negative = buf[p] === 45;
    if (++p === end) return null;
  }
  let v = 0n;
  for (let k = p; k < end; k++) {
    if (buf[k] < 48 || buf[k] > 57) return null;
    v = v * 10n + BigInt(buf[k] - 48);
  }
  if (v > ULONG_MAX) return null;
  return negative && v !== 0n ? ULONG_MAX + 1n - v : v;
}
