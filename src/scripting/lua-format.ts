/**
 * string.format with Redis's 64-bit integers. Lua 5.1 formats %d, %i, %o,
 * %u, %x and %X through C's long, which is 64 bits in Redis's x86-64 build
 * and 32 bits in the WebAssembly one: `string.format('%d', 1.7e12)`, a
 * millisecond timestamp, would come out as -2147483648. This C function
 * takes string.format's place: it reads the format as lstrlib's str_format
 * does (same errors), formats the integer conversions itself from the
 * 64-bit value, and hands every other conversion (%c %e %f %g %q %s...) to
 * the original function, one at a time, so their output stays Lua's own.
 */
import { LUA_REGISTRYINDEX, LUA_TNUMBER, LUA_TSTRING } from './lua-engine.js';
import type { ScriptFunctions } from './script-environment.js';

const FLAGS = '-+ #0';
const INTEGER_CONVERSIONS = 'diouxX';
const OTHER_CONVERSIONS = 'ceEfgGqs';

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** printf of one integer conversion (flags, width, precision) of a 64-bit value. */
export function formatInteger(flags: string, width: number, precision: number | null, conversion: string, value: bigint): string {
  const signed = conversion === 'd' || conversion === 'i';
  const v = signed ? BigInt.asIntN(64, value) : BigInt.asUintN(64, value);
  const negative = v < 0n;
  const base = conversion === 'o' ? 8 : conversion === 'x' || conversion === 'X' ? 16 : 10;
  let digits = (negative ? -v : v).toString(base);
  if (conversion === 'X') digits = digits.toUpperCase();
  if (precision !== null) {
    if (precision === 0 && v === 0n) digits = '';
    digits = digits.padStart(precision, '0');
  }
  let prefix = '';
  if (signed) prefix = negative ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
  if (flags.includes('#')) {
    if (conversion === 'o' && !digits.startsWith('0')) digits = '0' + digits;
    if ((conversion === 'x' || conversion === 'X') && v !== 0n) prefix = conversion === 'x' ? '0x' : '0X';
  }
  const length = prefix.length + digits.length;
  if (width <= length) return prefix + digits;
  if (flags.includes('-')) return prefix + digits + ' '.repeat(width - length);
  if (flags.includes('0') && precision === null) return prefix + '0'.repeat(width - length) + digits;
  return ' '.repeat(width - length) + prefix + digits;
}

export function formatFunction(fns: ScriptFunctions): (L: number) => number {
  const m = fns.m;
  return (L) => {
    const lua = fns.lua;
    const top = m._lua_gettop(L);
    if (m._lua_type(L, 1) !== LUA_TSTRING && m._lua_type(L, 1) !== LUA_TNUMBER) {
      lua.raiseWhere(`bad argument #1 to 'format' (string expected, got ${fns.typeName(L, 1)})`, L);
    }
    const fmt = Buffer.from(lua.bytesAt(1, L));
    const parts: Buffer[] = [];
    let literal = 0;
    let arg = 1;
    let i = 0;
    while (i < fmt.length) {
      if (fmt[i] !== 37) {
        i++;
        continue;
      }
      parts.push(fmt.subarray(literal, i));
      if (fmt[i + 1] === 37) {
        parts.push(Buffer.from('%'));
        i += 2;
        literal = i;
        continue;
      }
      if (++arg > top) lua.raiseWhere(`bad argument #${arg} to 'format' (no value)`, L);
      let j = i + 1;
      while (j < fmt.length && FLAGS.includes(String.fromCharCode(fmt[j]))) j++;
      if (j - (i + 1) >= FLAGS.length + 1) lua.raiseWhere('invalid format (repeated flags)', L);
      const flags = fmt.toString('latin1', i + 1, j);
      let width = 0;
      for (let k = 0; k < 2 && isDigit(fmt[j]); k++, j++) width = width * 10 + fmt[j] - 48;
      let precision: number | null = null;
      if (fmt[j] === 46) {
        j++;
        precision = 0;
        for (let k = 0; k < 2 && isDigit(fmt[j]); k++, j++) precision = precision * 10 + fmt[j] - 48;
      }
      if (isDigit(fmt[j])) lua.raiseWhere('invalid format (width or precision too long)', L);
      const conversion = j < fmt.length ? String.fromCharCode(fmt[j]) : '';
      if (INTEGER_CONVERSIONS.includes(conversion) && conversion !== '') {
        if (m._lua_isnumber(L, arg) === 0) lua.raiseWhere(`bad argument #${arg} to 'format' (number expected, got ${fns.typeName(L, arg)})`, L);
        const n = m._lua_tonumber(L, arg);
        // C's (long) of a double: truncated; out of range or NaN gives the minimum, as on x86-64.
        const value = Number.isFinite(n) && Math.abs(n) < 2 ** 63 ? BigInt(Math.trunc(n)) : -(2n ** 63n);
        parts.push(Buffer.from(formatInteger(flags, width, precision, conversion, value), 'latin1'));
      } else if (OTHER_CONVERSIONS.includes(conversion) && conversion !== '') {
        parts.push(otherConversion(fns, L, fmt.subarray(i, j + 1), arg));
      } else {
        lua.raiseWhere(`invalid option '%${conversion}' to 'format'`, L);
      }
      i = j + 1;
      literal = i;
    }
    parts.push(fmt.subarray(literal));
    const out = Buffer.concat(parts);
    m._lua_pushlstring(L, lua.stage(out, 0, out.length), out.length);
    return 1;
  };
}

/** Formats argument `arg` with one conversion `spec` through the original string.format. */
function otherConversion(fns: ScriptFunctions, L: number, spec: Buffer, arg: number): Buffer {
  const m = fns.m;
  const t = m._lua_type(L, arg);
  const conversion = spec[spec.length - 1];
  const wantsString = conversion === 115 || conversion === 113;
  if (wantsString ? t !== LUA_TSTRING && t !== LUA_TNUMBER : m._lua_isnumber(L, arg) === 0) {
    fns.lua.raiseWhere(`bad argument #${arg} to 'format' (${wantsString ? 'string' : 'number'} expected, got ${fns.typeName(L, arg)})`, L);
  }
  m._lua_rawgeti(L, LUA_REGISTRYINDEX, fns.current!.rawFormat);
  m._lua_pushlstring(L, fns.lua.stage(spec, 0, spec.length), spec.length);
  m._lua_pushvalue(L, arg);
  m._lua_call(L, 2, 1);
  const result = Buffer.from(fns.lua.bytesAt(-1, L));
  m._lua_settop(L, -2);
  return result;
}
