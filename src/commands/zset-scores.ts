/**
 * Sorted-set scores as Redis 7.0.15 reads and writes them.
 *
 * - parseScoreStrict: util.c string2d, behind getDoubleFromObject (ZADD,
 *   ZINCRBY, WEIGHTS...): glibc strtod over the whole text (decimal,
 *   hexadecimal "0x1p3", "inf"/"infinity" in any case), refusing an empty
 *   text, a leading space, trailing bytes, NaN, and ERANGE results that
 *   overflowed to +-HUGE_VAL or underflowed to zero ("1e-400"; a subnormal
 *   such as "1e-310" is kept).
 * - parseRangeScore: t_zset.c zslParseRange (ZRANGEBYSCORE, ZCOUNT,
 *   ZREMRANGEBYSCORE, BYSCORE): an optional '(' for an open end, then plain
 *   strtod, which skips leading space, reads "" as 0, lets overflow become
 *   +-inf and underflow 0; only the byte after the number must be the end
 *   (or a NUL: Redis checks eptr[0] == '\0'); NaN is refused.
 * - parseLexRangeItem: t_zset.c zslParseLexRangeItem: "-" and "+" alone (a
 *   NUL may follow: Redis checks c[1] == '\0'), "[x" inclusive, "(x"
 *   exclusive, anything else (the empty text too) an error.
 * - formatScore: addReplyDouble's "%.17g" (7.0; 7.2 prints the shortest
 *   round trip instead), with "inf" and "-inf" for the infinities.
 *
 * INCRBYFLOAT/HINCRBYFLOAT's long double arithmetic and "%.17Lf" output are
 * in numbers.ts.
 */

const CH_TAB = 9;
const CH_CR = 13;
const CH_SPACE = 32;
const CH_LPAREN = 40;
const CH_RPAREN = 41;
const CH_PLUS = 43;
const CH_MINUS = 45;
const CH_DOT = 46;
const CH_0 = 48;
const CH_9 = 57;
const CH_LBRACKET = 91;
const CH_UNDERSCORE = 95;
/** ASCII letters fold to lower case with this bit. */
const LOWER_BIT = 0x20;
const CH_a = 97;
const CH_e = 101;
const CH_f = 102;
const CH_p = 112;
const CH_x = 120;
const CH_z = 122;

/** Decimal digits whose integer is exact in a double (10^15 < 2^53). */
const FAST_DIGITS = 15;
/** Powers of ten exact in a double: 10^0 .. 10^22 (Clinger's fast path). */
const POW10 = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
  1e21, 1e22,
];
const MAX_EXACT_POW10 = 22;
/** Exponent digits beyond this magnitude only say "huge" (kept exact as a number). */
const EXPONENT_CAP = 1e9;
/** Bits in a double's significand, and the exponent of the smallest subnormal's bit. */
const SIGNIFICAND_BITS = 53;
const MIN_BIT_EXPONENT = -1074;
const MIN_NORMAL_EXPONENT = -1022;
const MAX_NORMAL_EXPONENT = 1023;

/** What scanStrtod found: the value, and whether glibc would set ERANGE with a HUGE_VAL or zero result. */
const strtodResult = { value: 0, outOfRange: false };

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

function hexValue(c: number): number {
  if (isDigit(c)) return c - CH_0;
  const l = c | LOWER_BIT;
  return l >= CH_a && l <= CH_f ? l - CH_a + 10 : -1;
}

/** isspace() in the C locale. */
function isSpace(c: number): boolean {
  return c === CH_SPACE || (c >= CH_TAB && c <= CH_CR);
}

/** Whether buf[at..] starts with the lower-case ASCII `word`, in any case, before `end`. */
function matchesWord(buf: Uint8Array, at: number, end: number, word: string): boolean {
  if (end - at < word.length) return false;
  for (let k = 0; k < word.length; k++) if ((buf[at + k] | LOWER_BIT) !== word.charCodeAt(k)) return false;
  return true;
}

/**
 * glibc strtod on buf[pos..end) (the end acting as the terminating NUL),
 * without its leading-space skip: returns how many bytes it consumed (0 when
 * nothing converts) and leaves the value in `strtodResult`.
 */
function scanStrtod(buf: Uint8Array, pos: number, end: number): number {
  let i = pos;
  let negative = false;
  if (i < end && (buf[i] === CH_PLUS || buf[i] === CH_MINUS)) negative = buf[i++] === CH_MINUS;
  strtodResult.outOfRange = false;
  let n: number;
  if (matchesWord(buf, i, end, 'inf')) {
    n = matchesWord(buf, i, end, 'infinity') ? 8 : 3;
    strtodResult.value = Infinity;
  } else if (matchesWord(buf, i, end, 'nan')) {
    n = scanNanTail(buf, i + 3, end) - i;
    strtodResult.value = NaN;
  } else {
    const hex = i + 1 < end && buf[i] === CH_0 && (buf[i + 1] | LOWER_BIT) === CH_x;
    n = hex ? scanHex(buf, i, end) : 0;
    // "0x" without a hex digit converts as just the "0".
    if (n === 0) n = scanDecimal(buf, i, end);
  }
  if (n === 0) return 0;
  if (negative) strtodResult.value = -strtodResult.value;
  return i + n - pos;
}

/** strtod's optional "(n-char-sequence)" after "nan": returns the offset past it. */
function scanNanTail(buf: Uint8Array, i: number, end: number): number {
  if (i >= end || buf[i] !== CH_LPAREN) return i;
  for (let k = i + 1; k < end; k++) {
    const c = buf[k];
    if (c === CH_RPAREN) return k + 1;
    const l = c | LOWER_BIT;
    if (!isDigit(c) && !(l >= CH_a && l <= CH_z) && c !== CH_UNDERSCORE) return i;
  }
  return i;
}

/** An optional exponent "e[+-]digits" at i: returns its length (0 when absent or malformed). */
function scanExponent(buf: Uint8Array, i: number, end: number, marker: number): number {
  if (i >= end || (buf[i] | LOWER_BIT) !== marker) return 0;
  let k = i + 1;
  if (k < end && (buf[k] === CH_PLUS || buf[k] === CH_MINUS)) k++;
  if (k >= end || !isDigit(buf[k])) return 0;
  while (k < end && isDigit(buf[k])) k++;
  return k - i;
}

/** The exponent's value, capped so that absurd exponents stay finite numbers. */
function exponentValue(buf: Uint8Array, i: number, len: number): number {
  let k = i + 1;
  const negative = buf[k] === CH_MINUS;
  if (buf[k] === CH_PLUS || negative) k++;
  let v = 0;
  for (; k < i + len; k++) if (v < EXPONENT_CAP) v = v * 10 + (buf[k] - CH_0);
  return negative ? -v : v;
}

/** Decimal digits[.digits][e[+-]digits] at i: sets the value, returns its length (0: none). */
function scanDecimal(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let mantissa = 0;
  let significant = 0;
  let fracDigits = 0;
  let nonZero = false;
  let sawDigit = false;
  for (let inFraction = false; i < end; i++) {
    const c = buf[i];
    if (c === CH_DOT && !inFraction) {
      inFraction = true;
      continue;
    }
    if (!isDigit(c)) break;
    sawDigit = true;
    if (c !== CH_0) nonZero = true;
    if (nonZero) significant++;
    if (significant <= FAST_DIGITS) mantissa = mantissa * 10 + (c - CH_0);
    if (inFraction && significant <= FAST_DIGITS) fracDigits++;
  }
  if (!sawDigit) return 0;
  const mantissaEnd = i;
  const expLen = scanExponent(buf, i, end, CH_e);
  i += expLen;
  if (!nonZero) {
    strtodResult.value = 0;
    return i - start;
  }
  const scale = (expLen > 0 ? exponentValue(buf, mantissaEnd, expLen) : 0) - fracDigits;
  if (significant <= FAST_DIGITS && scale >= -MAX_EXACT_POW10 && scale <= MAX_EXACT_POW10) {
    // Both operands exact, so the one IEEE operation rounds correctly.
    strtodResult.value = scale >= 0 ? mantissa * POW10[scale] : mantissa / POW10[-scale];
  } else {
    // The engine's string conversion rounds correctly (to nearest, ties to even), as glibc does.
    const v = Number(latin1(buf, start, i));
    strtodResult.value = v;
    strtodResult.outOfRange = v === 0 || v === Infinity;
  }
  return i - start;
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

/**
 * Hexadecimal "0x" hexdigits[.hexdigits][p[+-]digits] at i (which holds the
 * '0'): sets the value, returns its length, or 0 when no hex digit follows
 * (strtod then converts just the "0", which the decimal scan does).
 */
function scanHex(buf: Uint8Array, start: number, end: number): number {
  let i = start + 2;
  let digits = '';
  let fracDigits = 0;
  let sawDigit = false;
  for (let inFraction = false; i < end; i++) {
    const c = buf[i];
    if (c === CH_DOT && !inFraction) {
      inFraction = true;
      continue;
    }
    if (hexValue(c) < 0) break;
    sawDigit = true;
    if (digits !== '' || c !== CH_0) digits += String.fromCharCode(c);
    if (inFraction) fracDigits++;
  }
  if (!sawDigit) return 0;
  const mantissaEnd = i;
  const expLen = scanExponent(buf, i, end, CH_p);
  i += expLen;
  const binaryExp = (expLen > 0 ? exponentValue(buf, mantissaEnd, expLen) : 0) - 4 * fracDigits;
  strtodResult.value = digits === '' ? 0 : roundBinary(BigInt('0x' + digits), binaryExp);
  strtodResult.outOfRange = digits !== '' && (strtodResult.value === 0 || strtodResult.value === Infinity);
  return i - start;
}

/** m * 2^exp rounded to a double (nearest, ties to even), subnormals included; m > 0. */
function roundBinary(m: bigint, exp: number): number {
  const bits = m.toString(2).length;
  // The exponent of the result's last significand bit.
  const last = Math.max(exp + bits - SIGNIFICAND_BITS, MIN_BIT_EXPONENT);
  let q = m;
  if (last > exp) {
    const k = BigInt(Math.min(last - exp, bits + 1));
    q = m >> k;
    const rem = m - (q << k);
    const half = 1n << (k - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q++;
  }
  return scaleByPowerOfTwo(Number(q), last > exp ? last : exp);
}

/** v * 2^n without double rounding: v is an integer below 2^54 and the result lies on the double grid. */
function scaleByPowerOfTwo(v: number, n: number): number {
  if (v === 0) return 0;
  if (n > MAX_NORMAL_EXPONENT) return Infinity;
  if (n >= MIN_NORMAL_EXPONENT) return v * powerOfTwo(n);
  // Down to 2^-1074 in two steps: the first is exact, the second lands on the grid.
  return v * powerOfTwo(MIN_NORMAL_EXPONENT) * powerOfTwo(n - MIN_NORMAL_EXPONENT);
}

const pow2Bits = new Float64Array(1);
const pow2Words = new Uint32Array(pow2Bits.buffer);
/** Which of the two words holds the sign and exponent (little- or big-endian host). */
const HIGH_WORD = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f ? 1 : 0;
const EXPONENT_BIAS = 1023;
const EXPONENT_SHIFT = 20;

/** 2^n for a normal exponent, built from its bits (Math.pow need not be exact). */
function powerOfTwo(n: number): number {
  pow2Words[HIGH_WORD] = (n + EXPONENT_BIAS) << EXPONENT_SHIFT;
  pow2Words[1 - HIGH_WORD] = 0;
  return pow2Bits[0];
}

/**
 * string2d (util.c), as ZADD, ZINCRBY and the other strict score arguments
 * parse: the double, or null when Redis replies "value is not a valid float".
 */
export function parseScoreStrict(buf: Uint8Array, start: number, len: number): number | null {
  if (len === 0 || isSpace(buf[start])) return null;
  if (scanStrtod(buf, start, start + len) !== len) return null;
  const v = strtodResult.value;
  if (v !== v || strtodResult.outOfRange) return null;
  return v;
}

/** The smallest normal double: glibc's strtod sets ERANGE for a result below it (subnormal or zero). */
const MIN_NORMAL = 2.2250738585072014e-308;

/**
 * A SORT weight as sortCommandGeneric reads it: strtod (leading space
 * skipped, "" is 0) that must stop at the end or a NUL, refusing NaN and any
 * ERANGE result (overflow, and underflow to zero or a subnormal). Null when
 * Redis replies "One or more scores can't be converted into double".
 */
export function parseSortWeight(buf: Uint8Array, start: number, len: number): number | null {
  const end = start + len;
  let i = start;
  while (i < end && isSpace(buf[i])) i++;
  const consumed = scanStrtod(buf, i, end);
  const after = consumed === 0 ? start : i + consumed;
  if (after < end && buf[after] !== 0) return null;
  if (consumed === 0) return 0;
  const v = strtodResult.value;
  if (v !== v || strtodResult.outOfRange) return null;
  if (v !== 0 && Math.abs(v) < MIN_NORMAL) return null;
  return v;
}

/** One end of a score range: the bound and whether it is open. */
export interface RangeScore {
  value: number;
  exclusive: boolean;
}

/**
 * One end of a score range as zslParseRange (t_zset.c) reads it: '(' makes
 * it exclusive, then strtod (leading space skipped, "" is 0, overflow is
 * +-inf). Null when Redis replies "min or max is not a float". Fills `out`
 * when given, else returns a new object.
 */
export function parseRangeScore(buf: Uint8Array, start: number, len: number, out?: RangeScore): RangeScore | null {
  const end = start + len;
  let i = start;
  const exclusive = len > 0 && buf[i] === CH_LPAREN;
  if (exclusive) i++;
  const numberStart = i;
  while (i < end && isSpace(buf[i])) i++;
  const consumed = scanStrtod(buf, i, end);
  // With no conversion strtod sets eptr back to the start of the text, before any space.
  const after = consumed === 0 ? numberStart : i + consumed;
  if (after < end && buf[after] !== 0) return null;
  const value = consumed === 0 ? 0 : strtodResult.value;
  if (value !== value) return null;
  if (out === undefined) return { value, exclusive };
  out.value = value;
  out.exclusive = exclusive;
  return out;
}

/** What a lex range item names. */
export const LEX_MIN = 0;
export const LEX_MAX = 1;
export const LEX_VALUE = 2;

/** One end of a lex range: "-" (LEX_MIN), "+" (LEX_MAX) or a string at buf[start..start+len). */
export interface LexRangeItem {
  kind: typeof LEX_MIN | typeof LEX_MAX | typeof LEX_VALUE;
  exclusive: boolean;
  /** The string after '[' or '(' (LEX_VALUE only). */
  start: number;
  len: number;
}

/**
 * zslParseLexRangeItem (t_zset.c): null when Redis replies "min or max not
 * valid string range item". "-" and "+" count as exclusive, as in Redis.
 * Fills `out` when given, else returns a new object.
 */
export function parseLexRangeItem(buf: Uint8Array, start: number, len: number, out?: LexRangeItem): LexRangeItem | null {
  if (len === 0) return null;
  const c = buf[start];
  let kind: LexRangeItem['kind'];
  let exclusive = true;
  if (c === CH_PLUS || c === CH_MINUS) {
    // Redis tests c[1] == '\0', so a NUL after the sign still counts as the end.
    if (len > 1 && buf[start + 1] !== 0) return null;
    kind = c === CH_PLUS ? LEX_MAX : LEX_MIN;
  } else if (c === CH_LPAREN || c === CH_LBRACKET) {
    kind = LEX_VALUE;
    exclusive = c === CH_LPAREN;
  } else {
    return null;
  }
  const valueStart = kind === LEX_VALUE ? start + 1 : 0;
  const valueLen = kind === LEX_VALUE ? len - 1 : 0;
  if (out === undefined) return { kind, exclusive, start: valueStart, len: valueLen };
  out.kind = kind;
  out.exclusive = exclusive;
  out.start = valueStart;
  out.len = valueLen;
  return out;
}

// ---- "%.17g" ----

const PRECISION = 17;
/** %g switches to the exponent form below 10^-4 and at or above 10^precision. */
const MIN_FIXED_EXPONENT = -4;
/** Integers below this print exactly through String() (every such integer is a double). */
const EXACT_INTEGER_LIMIT = 2 ** 53;
/** A tie at the 18th significant digit needs at most 25 fraction bits (5^26 has 19 digits). */
const TIE_FRACTION_BITS = 25;
const TIE_SCALE = 2 ** TIE_FRACTION_BITS;
/** Below 10^17 (with room for the estimate's error) n * 5^k has at most 17 digits: no tie. */
const NO_TIE_BELOW = 9.9e16;

/** The 17 significant digits and decimal exponent of the last value formatted. */
const decimal = { digits: '', exponent: 0 };

/** The value as C's printf("%.17g") writes it, "inf"/"-inf" for the infinities. */
export function formatScore(value: number): string {
  if (Number.isInteger(value) && value < EXACT_INTEGER_LIMIT && value > -EXACT_INTEGER_LIMIT) {
    return value === 0 && 1 / value < 0 ? '-0' : String(value);
  }
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value !== value) return 'nan';
  const abs = Math.abs(value);
  toSeventeenDigits(abs);
  const text = layoutG(decimal.digits, decimal.exponent);
  return value < 0 ? '-' + text : text;
}

/**
 * Sets `decimal` to the positive value rounded to 17 significant digits as
 * glibc does: from the exact binary value, ties to even. toExponential rounds
 * ties up, so values that may be exact ties go the exact way.
 */
function toSeventeenDigits(abs: number): void {
  if (!Number.isInteger(abs) && Number.isInteger(abs * TIE_SCALE) && exactDigits(abs)) return;
  const s = abs.toExponential(PRECISION - 1);
  const e = s.indexOf('e');
  decimal.digits = s[0] + s.slice(2, e);
  decimal.exponent = Number(s.slice(e + 1));
}

/**
 * The exact path, for abs = n / 2^k with n odd and k <= 25: abs is
 * n * 5^k / 10^k, whose n * 5^k digits are all significant. Returns false
 * (leaving the work to toExponential) when they are too few to tie.
 */
function exactDigits(abs: number): boolean {
  let k = 0;
  let n = abs;
  while (!Number.isInteger(n)) {
    n *= 2;
    k++;
  }
  if (n * 5 ** k < NO_TIE_BELOW) return false;
  let all = (BigInt(n) * 5n ** BigInt(k)).toString();
  // all * 10^-k: the exponent of its first digit.
  let exponent = all.length - 1 - k;
  if (all.length > PRECISION) {
    const head = BigInt(all.slice(0, PRECISION));
    const tail = all.slice(PRECISION);
    const halfway = '5'.padEnd(tail.length, '0');
    const roundUp = tail > halfway || (tail === halfway && (head & 1n) === 1n);
    all = (roundUp ? head + 1n : head).toString();
    if (all.length > PRECISION) {
      all = all.slice(0, PRECISION);
      exponent++;
    }
  }
  decimal.digits = all.padEnd(PRECISION, '0');
  decimal.exponent = exponent;
  return true;
}

/** %g's layout of 17 significant digits with decimal exponent `exp`: trailing zeros dropped. */
function layoutG(digits: string, exp: number): string {
  if (exp < MIN_FIXED_EXPONENT || exp >= PRECISION) {
    const mantissa = trimFraction(digits[0] + '.' + digits.slice(1));
    const expDigits = String(Math.abs(exp)).padStart(2, '0');
    return `${mantissa}e${exp < 0 ? '-' : '+'}${expDigits}`;
  }
  if (exp < 0) return trimFraction('0.' + '0'.repeat(-exp - 1) + digits);
  return trimFraction(digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1));
}

function trimFraction(s: string): string {
  let end = s.length;
  while (s.charCodeAt(end - 1) === CH_0) end--;
  if (s.charCodeAt(end - 1) === CH_DOT) end--;
  return s.slice(0, end);
}
