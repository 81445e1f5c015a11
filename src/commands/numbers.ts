/**
 * Number parsing and formatting with Redis's rules: string2ll for integers,
 * strtold-like floats with no surrounding space, and the decimal forms Redis
 * prints (INCRBYFLOAT trims a fixed 17-decimal rendering).
 */
import { parseLongLong } from '../protocol/resp-parser.js';

export { parseLongLong };

const FLOAT_RE = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity)$/i;

/** Parses a float as Redis's string2ld / string2d: no spaces, no trailing junk, no NaN. */
export function parseFloatStrict(text: string): number | null {
  if (text.length === 0 || text.length > 5000 || !FLOAT_RE.test(text)) return null;
  const lower = text.toLowerCase();
  if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
  const v = Number(text);
  return Number.isNaN(v) ? null : v;
}

export function parseFloatBytes(buf: Uint8Array, start: number, len: number): number | null {
  if (len === 0 || len > 5000) return null;
  return parseFloatStrict(Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('latin1'));
}

/** Integer value of stored bytes (string2ll), or null. */
export function bytesToInteger(buf: Uint8Array, start: number, len: number): number | null {
  return parseLongLong(buf, start, start + len);
}

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/** Parses int64 text exactly as a bigint (for values beyond 2^53), or null. */
export function parseBigInt64(buf: Uint8Array, start: number, len: number): bigint | null {
  if (parseLongLong(buf, start, start + len) === null) return null;
  const v = BigInt(Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('latin1'));
  return v > INT64_MAX || v < INT64_MIN ? null : v;
}

/**
 * A decimal as mantissa * 10^exponent, exact (so 0.1 + 0.2 adds up to 0.3,
 * as Redis's long double arithmetic prints it).
 */
interface Decimal {
  m: bigint;
  e: number;
}

function toDecimal(text: string): Decimal | null {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return null;
  const frac = match[3] ?? '';
  const exp = Number(match[4] ?? '0');
  if (!Number.isFinite(exp) || Math.abs(exp) > 400) return null;
  const m = BigInt((match[1] === '-' ? '-' : '') + (match[2] || '0') + frac);
  return { m, e: exp - frac.length };
}

/**
 * INCRBYFLOAT's sum of two decimal texts, rendered as Redis renders long
 * doubles in human form: fixed notation, 17 decimals, trailing zeros trimmed.
 * Returns null when the result is not finite.
 */
export function addDecimalTexts(a: string, b: string): string | null {
  const x = toDecimal(a);
  const y = toDecimal(b);
  if (!x || !y) {
    const s = Number(a) + Number(b);
    return Number.isFinite(s) ? formatHumanDouble(s) : null;
  }
  const e = Math.min(x.e, y.e);
  const m = x.m * 10n ** BigInt(x.e - e) + y.m * 10n ** BigInt(y.e - e);
  const approx = Number(a) + Number(b);
  if (!Number.isFinite(approx)) return null;
  return renderFixed17(m, e);
}

function renderFixed17(m: bigint, e: number): string {
  // Round to 17 decimals (half away from zero), then trim.
  let scaled: bigint;
  if (e >= -17) {
    scaled = m * 10n ** BigInt(e + 17);
  } else {
    const div = 10n ** BigInt(-17 - e);
    const q = m / div;
    const r = m % div;
    const twice = (r < 0n ? -r : r) * 2n;
    scaled = twice >= div ? q + (m < 0n ? -1n : 1n) : q;
  }
  const negative = scaled < 0n;
  const all = (negative ? -scaled : scaled).toString().padStart(18, '0');
  const intPart = all.slice(0, all.length - 17);
  const fracPart = all.slice(all.length - 17).replace(/0+$/, '');
  const text = fracPart ? `${intPart}.${fracPart}` : intPart;
  if (text === '0') return '0';
  return negative ? `-${text}` : text;
}

/** A double in Redis's human form (%.17Lf with zeros trimmed). */
export function formatHumanDouble(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return v.toFixed(0) === '-0' ? '0' : v.toFixed(0);
  const d = toDecimal(String(v));
  return d ? renderFixed17(d.m, d.e) : String(v);
}

/**
 * A double as Redis's addReplyDouble prints it in RESP2 (%.17g), and the
 * RESP3 form.
 */
export function formatDouble17g(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  // C's %g: exponent form when the exponent is < -4 or >= the precision.
  const [mant, expText] = v.toExponential(16).split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 17) {
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const fixed = v.toFixed(Math.max(0, 16 - exp));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}
