/**
 * The `struct` library Redis loads (Roberto Ierusalimschy's struct 0.2
 * API): pack, unpack and size of binary records described by a format
 * string, with the sizes of Redis's x86-64 build.
 *
 * Format: `<` little endian (the default), `>` big endian, `!n` maximum
 * alignment n (a power of 2; `!` alone: 8), ` ` ignored; `b`/`B` char,
 * `h`/`H` short, `l`/`L` long (8), `T` size_t (8), `i`/`I`[n] an n-byte
 * integer (4 by default, at most 32), `f` float, `d` double, `x` a zero
 * byte, `s` a zero-terminated string, `c`[n] n chars (`c0` in unpack: the
 * length is the value unpacked before it). Lowercase integers are signed.
 * Items are aligned to min(their size, the maximum alignment), which starts
 * at 1. unpack returns the values and then the position after them; size
 * refuses `s` and `c0`, whose sizes depend on the data.
 */
import { LUA_TNUMBER, LUA_TSTRING } from './lua-engine.js';
import type { ScriptFunctions } from './script-environment.js';

const MAX_INT_SIZE = 32;
const MAX_ALIGN = 8;
const INT_MAX = 2147483647;
const SIZES: Record<string, number> = { b: 1, B: 1, h: 2, H: 2, l: 8, L: 8, T: 8, f: 4, d: 8, x: 1 };
const INTEGER_OPTIONS = 'bBhHlLTiI';

interface Header {
  little: boolean;
  align: number;
}

class FormatReader {
  p = 0;
  constructor(private readonly fns: ScriptFunctions, private readonly L: number, readonly fmt: string) {}

  get done(): boolean {
    return this.p >= this.fmt.length;
  }

  next(): string {
    return this.fmt[this.p++];
  }

  /** getnum: the digits that follow, or `fallback` when none do. */
  number(fallback: number): number {
    if (!/[0-9]/.test(this.fmt[this.p] ?? '')) return fallback;
    let a = 0;
    while (/[0-9]/.test(this.fmt[this.p] ?? '')) {
      const digit = this.fmt.charCodeAt(this.p++) - 48;
      if (a > INT_MAX / 10 || a * 10 > INT_MAX - digit) this.fns.lua.raiseWhere('integral size overflow', this.L);
      a = a * 10 + digit;
    }
    return a;
  }

  /** optsize: the item's size in bytes (0 for options without one). */
  size(option: string): number {
    const fixed = SIZES[option];
    if (fixed !== undefined) return fixed;
    if (option === 'c') return this.number(1);
    if (option === 'i' || option === 'I') {
      const size = this.number(4);
      if (size > MAX_INT_SIZE) this.fns.lua.raiseWhere(`integral size ${size} is larger than limit of ${MAX_INT_SIZE}`, this.L);
      return size;
    }
    return 0;
  }

  /** controloptions: endianness, alignment and spaces; anything else is refused. */
  control(option: string, h: Header, fn: string): void {
    if (option === ' ') return;
    if (option === '>') h.little = false;
    else if (option === '<') h.little = true;
    else if (option === '!') {
      const a = this.number(MAX_ALIGN);
      if (a === 0 || (a & (a - 1)) !== 0) this.fns.lua.raiseWhere(`alignment ${a} is not a power of 2`, this.L);
      h.align = a;
    } else {
      this.fns.lua.raiseWhere(`bad argument #1 to '${fn}' (invalid format option '${option}')`, this.L);
    }
  }
}

/** gettoalign: the padding before an item of `size` at offset `length`. */
function padding(length: number, h: Header, option: string, size: number): number {
  if (size === 0 || option === 'c') return 0;
  const align = Math.min(size, h.align);
  return (align - (length & (align - 1))) & (align - 1);
}

export function registerStructLibrary(fns: ScriptFunctions): void {
  const m = fns.m;
  const checkString = (L: number, i: number, fn: string): Uint8Array => {
    const t = m._lua_type(L, i);
    if (t !== LUA_TSTRING && t !== LUA_TNUMBER) {
      fns.lua.raiseWhere(`bad argument #${i} to '${fn}' (string expected, got ${fns.typeName(L, i)})`, L);
    }
    return Buffer.from(fns.lua.bytesAt(i, L));
  };
  const checkNumber = (L: number, i: number, fn: string): number => {
    if (m._lua_isnumber(L, i) === 0) fns.lua.raiseWhere(`bad argument #${i} to '${fn}' (number expected, got ${fns.typeName(L, i)})`, L);
    return m._lua_tonumber(L, i);
  };
  const argError = (L: number, i: number, fn: string, message: string): never =>
    fns.lua.raiseWhere(`bad argument #${i} to '${fn}' (${message})`, L);

  fns.add('struct', {
    pack: (L) => {
      const fmt = new FormatReader(fns, L, Buffer.from(checkString(L, 1, 'pack')).toString('latin1'));
      const h: Header = { little: true, align: 1 };
      const out: number[] = [];
      let arg = 2;
      while (!fmt.done) {
        const option = fmt.next();
        let size = fmt.size(option);
        for (let pad = padding(out.length, h, option, size); pad > 0; pad--) out.push(0);
        if (INTEGER_OPTIONS.includes(option)) {
          const n = checkNumber(L, arg++, 'pack');
          let value = BigInt.asUintN(64, BigInt(Math.trunc(Number.isFinite(n) ? n : 0)));
          const bytes: number[] = [];
          for (let i = 0; i < size; i++) {
            bytes.push(Number(value & 0xffn));
            value >>= 8n;
          }
          out.push(...(h.little ? bytes : bytes.reverse()));
        } else if (option === 'x') {
          out.push(0);
        } else if (option === 'f' || option === 'd') {
          const b = Buffer.alloc(size);
          const n = checkNumber(L, arg++, 'pack');
          if (option === 'f') {
            if (h.little) b.writeFloatLE(n);
            else b.writeFloatBE(n);
          } else if (h.little) {
            b.writeDoubleLE(n);
          } else {
            b.writeDoubleBE(n);
          }
          out.push(...b);
        } else if (option === 'c' || option === 's') {
          const s = checkString(L, arg++, 'pack');
          if (size === 0) size = s.length;
          if (s.length < size) argError(L, arg, 'pack', 'string too short');
          for (let i = 0; i < size; i++) out.push(s[i]);
          if (option === 's') {
            out.push(0);
            size++;
          }
        } else {
          fmt.control(option, h, 'pack');
        }
      }
      const bytes = Uint8Array.from(out);
      m._lua_pushlstring(L, fns.lua.stage(bytes, 0, bytes.length), bytes.length);
      return 1;
    },
    unpack: (L) => {
      const fmt = new FormatReader(fns, L, Buffer.from(checkString(L, 1, 'unpack')).toString('latin1'));
      const data = checkString(L, 2, 'unpack');
      let pos = (m._lua_type(L, 3) > 0 ? Math.trunc(checkNumber(L, 3, 'unpack')) : 1) - 1;
      if (pos < 0 || pos > data.length) argError(L, 3, 'unpack', 'offset must be 1 or greater');
      const h: Header = { little: true, align: 1 };
      m._lua_settop(L, 2);
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      while (!fmt.done) {
        const option = fmt.next();
        let size = fmt.size(option);
        pos += padding(pos, h, option, size);
        if (size > data.length || pos > data.length - size) argError(L, 2, 'unpack', 'data string too short');
        if (m._lua_checkstack(L, 2) === 0) fns.lua.raiseWhere('stack overflow (too many results)', L);
        if (INTEGER_OPTIONS.includes(option)) {
          let value = 0n;
          for (let i = 0; i < size; i++) value = (value << 8n) | BigInt(data[h.little ? pos + size - 1 - i : pos + i]);
          value = BigInt.asUintN(64, value);
          const signed = option === option.toLowerCase();
          m._lua_pushnumber(L, Number(signed && size <= 8 ? BigInt.asIntN(size * 8, value) : value));
        } else if (option === 'f') {
          m._lua_pushnumber(L, view.getFloat32(pos, h.little));
        } else if (option === 'd') {
          m._lua_pushnumber(L, view.getFloat64(pos, h.little));
        } else if (option === 'c') {
          if (size === 0) {
            if (m._lua_gettop(L) === 2 || m._lua_isnumber(L, -1) === 0) fns.lua.raiseWhere("format 'c0' needs a previous size", L);
            size = Math.trunc(m._lua_tonumber(L, -1));
            m._lua_settop(L, -2);
            if (size > data.length || pos > data.length - size) argError(L, 2, 'unpack', 'data string too short');
          }
          m._lua_pushlstring(L, fns.lua.stage(data, pos, size), size);
        } else if (option === 's') {
          const end = data.indexOf(0, pos);
          if (end < 0) fns.lua.raiseWhere('unfinished string in data', L);
          size = end - pos + 1;
          m._lua_pushlstring(L, fns.lua.stage(data, pos, size - 1), size - 1);
        } else if (option !== 'x') {
          fmt.control(option, h, 'unpack');
        }
        pos += size;
      }
      m._lua_pushnumber(L, pos + 1);
      return m._lua_gettop(L) - 2;
    },
    size: (L) => {
      const fmt = new FormatReader(fns, L, Buffer.from(checkString(L, 1, 'size')).toString('latin1'));
      const h: Header = { little: true, align: 1 };
      let pos = 0;
      while (!fmt.done) {
        const option = fmt.next();
        const size = fmt.size(option);
        pos += padding(pos, h, option, size);
        if (option === 's') argError(L, 1, 'size', "option 's' has no fixed size");
        if (option === 'c' && size === 0) argError(L, 1, 'size', "option 'c0' has no fixed size");
        if (size === 0 && option !== 'c') fmt.control(option, h, 'size');
        pos += size;
      }
      m._lua_pushnumber(L, pos);
      return 1;
    },
  });
}
