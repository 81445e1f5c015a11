/**
 * The `bit` library Redis loads (LuaBitOp 1.0's API): 32-bit operations on
 * Lua numbers. Every argument is first normalised as LuaBitOp's tobit does
 * it, by adding 2^52 + 2^51 to the double and keeping the low 32 bits of
 * its mantissa: integers wrap modulo 2^32, fractions round to nearest even.
 * Results are signed 32-bit numbers, as LuaBitOp returns them.
 */
import type { ScriptFunctions } from './script-environment.js';

const BIAS = 6755399441055744;
const f64 = new Float64Array(1);
const i32 = new Int32Array(f64.buffer);

export function tobit(x: number): number {
  f64[0] = x + BIAS;
  return i32[0];
}

export function registerBitLibrary(fns: ScriptFunctions): void {
  const m = fns.m;
  const arg = (L: number, i: number, name: string): number => {
    if (m._lua_isnumber(L, i) === 0) {
      fns.lua.raiseWhere(`bad argument #${i} to '${name}' (number expected, got ${fns.typeName(L, i)})`, L);
    }
    return tobit(m._lua_tonumber(L, i));
  };
  const result = (L: number, v: number): number => {
    m._lua_pushnumber(L, v | 0);
    return 1;
  };
  const fold = (name: string, op: (a: number, b: number) => number) => (L: number): number => {
    const n = m._lua_gettop(L);
    let v = arg(L, 1, name);
    for (let i = 2; i <= n; i++) v = op(v, arg(L, i, name));
    return result(L, v);
  };
  const shift = (name: string, op: (a: number, s: number) => number) => (L: number): number =>
    result(L, op(arg(L, 1, name), arg(L, 2, name) & 31));
  fns.add('bit', {
    tobit: (L) => result(L, arg(L, 1, 'tobit')),
    bnot: (L) => result(L, ~arg(L, 1, 'bnot')),
    band: fold('band', (a, b) => a & b),
    bor: fold('bor', (a, b) => a | b),
    bxor: fold('bxor', (a, b) => a ^ b),
    lshift: shift('lshift', (a, s) => a << s),
    rshift: shift('rshift', (a, s) => a >>> s),
    arshift: shift('arshift', (a, s) => a >> s),
    rol: shift('rol', (a, s) => (a << s) | (a >>> (32 - s))),
    ror: shift('ror', (a, s) => (a >>> s) | (a << (32 - s))),
    bswap: (L) => {
      const b = arg(L, 1, 'bswap');
      return result(L, ((b >>> 24) | ((b >>> 8) & 0xff00) | ((b & 0xff00) << 8) | (b << 24)));
    },
    tohex: (L) => {
      const b = arg(L, 1, 'tohex');
      let n = m._lua_type(L, 2) <= 0 ? 8 : arg(L, 2, 'tohex');
      const upper = n < 0;
      if (upper) n = -n;
      if (n > 8) n = 8;
      const digits = upper ? '0123456789ABCDEF' : '0123456789abcdef';
      let text = '';
      let v = b;
      for (let i = 0; i < n; i++, v >>>= 4) text = digits[v & 15] + text;
      fns.lua.pushLatin1(text, L);
      return 1;
    },
  });
}
