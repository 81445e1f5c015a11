/**
 * The `cmsgpack` library Redis loads (lua-cmsgpack 0.4's API): pack,
 * unpack, unpack_one and unpack_limit between Lua values and MessagePack.
 *
 * pack: nil, booleans; numbers with an integer value in the smallest
 * integer encoding, others as float 32 when that keeps the value exactly,
 * else float 64; strings as str (fixstr, str8, str16, str32); a table whose
 * keys are exactly 1..n is an array, any other a map (in Lua's traversal
 * order); tables nested deeper than 16 and values of other types pack as
 * nil. unpack: every object of the string, as multiple results; str and bin
 * become strings; extension types are refused.
 */
import {
  LUA_TBOOLEAN, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE,
} from './lua-engine.js';
import type { ScriptFunctions } from './script-environment.js';
import { ByteOutput } from './byte-output.js';

const MAX_NESTING = 16;
const TWO_63 = 2 ** 63;

class PackOutput extends ByteOutput {
  /** A type byte then an unsigned big-endian integer of `size` bytes. */
  typed(type: number, value: number, size: 1 | 2 | 4): void {
    this.ensure(1 + size);
    this.buf[this.len++] = type;
    if (size === 1) this.buf.writeUInt8(value, this.len);
    else if (size === 2) this.buf.writeUInt16BE(value, this.len);
    else this.buf.writeUInt32BE(value, this.len);
    this.len += size;
  }

  integer(n: number): void {
    if (n >= 0) {
      if (n <= 127) this.byte(n);
      else if (n <= 0xff) this.typed(0xcc, n, 1);
      else if (n <= 0xffff) this.typed(0xcd, n, 2);
      else if (n <= 0xffffffff) this.typed(0xce, n, 4);
      else {
        this.ensure(9);
        this.buf[this.len++] = 0xcf;
        this.buf.writeBigUInt64BE(BigInt(n), this.len);
        this.len += 8;
      }
    } else if (n >= -32) {
      this.byte(n & 0xff);
    } else if (n >= -128) {
      this.ensure(2);
      this.buf[this.len++] = 0xd0;
      this.buf.writeInt8(n, this.len++);
    } else if (n >= -32768) {
      this.ensure(3);
      this.buf[this.len++] = 0xd1;
      this.buf.writeInt16BE(n, this.len);
      this.len += 2;
    } else if (n >= -2147483648) {
      this.ensure(5);
      this.buf[this.len++] = 0xd2;
      this.buf.writeInt32BE(n, this.len);
      this.len += 4;
    } else {
      this.ensure(9);
      this.buf[this.len++] = 0xd3;
      this.buf.writeBigInt64BE(BigInt(n), this.len);
      this.len += 8;
    }
  }

  double(n: number): void {
    this.ensure(9);
    if (Math.fround(n) === n || Number.isNaN(n)) {
      this.buf[this.len++] = 0xca;
      this.buf.writeFloatBE(n, this.len);
      this.len += 4;
    } else {
      this.buf[this.len++] = 0xcb;
      this.buf.writeDoubleBE(n, this.len);
      this.len += 8;
    }
  }

  bytes(b: Uint8Array): void {
    const n = b.length;
    if (n < 32) this.byte(0xa0 | n);
    else if (n <= 0xff) this.typed(0xd9, n, 1);
    else if (n <= 0xffff) this.typed(0xda, n, 2);
    else this.typed(0xdb, n, 4);
    this.ensure(n);
    this.buf.set(b, this.len);
    this.len += n;
  }

  header(fix: number, sixteen: number, n: number): void {
    if (n < 16) this.byte(fix | n);
    else if (n <= 0xffff) this.typed(sixteen, n, 2);
    else this.typed(sixteen + 1, n, 4);
  }
}

export function registerCmsgpackLibrary(fns: ScriptFunctions): void {
  const m = fns.m;
  const pushResult = (L: number, out: PackOutput) => m._lua_pushlstring(L, fns.lua.stage(out.buf, 0, out.len), out.len);
  const unpackLimit = (L: number, limit: number, offset: number, withOffset: boolean): number => {
    if (m._lua_type(L, 1) !== LUA_TSTRING && m._lua_type(L, 1) !== LUA_TNUMBER) {
      fns.lua.raiseWhere(`bad argument #1 to 'unpack' (string expected, got ${fns.typeName(L, 1)})`, L);
    }
    const data = Buffer.from(fns.lua.bytesAt(1, L));
    if (offset < 0 || offset > data.length) {
      fns.lua.raiseWhere(`Start offset ${offset} greater than input length ${data.length}.`, L);
    }
    const reader = new Unpacker(fns, L, data, offset);
    if (withOffset) m._lua_pushnumber(L, 0);
    let count = 0;
    while (reader.p < data.length && (limit <= 0 || count < limit)) {
      if (m._lua_checkstack(L, 2) === 0) fns.lua.raiseWhere('too many results to unpack', L);
      reader.value(0);
      count++;
    }
    if (withOffset) {
      // The offset of the next object, or -1 when the string is consumed: it replaces the placeholder below the values.
      m._lua_pushnumber(L, reader.p < data.length ? reader.p : -1);
      m._lua_replace(L, -(count + 2));
      return count + 1;
    }
    return count;
  };
  fns.add('cmsgpack', {
    pack: (L) => {
      const argc = m._lua_gettop(L);
      if (argc === 0) fns.lua.raiseWhere("bad argument #0 to 'pack' (MessagePack pack needs input.)", L);
      const out = new PackOutput();
      for (let i = 1; i <= argc; i++) {
        m._lua_pushvalue(L, i);
        packValue(fns, L, out, 0);
        m._lua_settop(L, -2);
      }
      pushResult(L, out);
      return 1;
    },
    unpack: (L) => unpackLimit(L, 0, 0, false),
    unpack_one: (L) => unpackLimit(L, 1, m._lua_type(L, 2) > 0 ? Math.trunc(m._lua_tonumber(L, 2)) : 0, true),
    unpack_limit: (L) => unpackLimit(L, Math.trunc(m._lua_tonumber(L, 2)), m._lua_type(L, 3) > 0 ? Math.trunc(m._lua_tonumber(L, 3)) : 0, true),
  });
}

/** Packs the value at the top of L's stack. */
function packValue(fns: ScriptFunctions, L: number, out: PackOutput, depth: number): void {
  const m = fns.m;
  switch (m._lua_type(L, -1)) {
    case LUA_TSTRING:
      out.bytes(fns.lua.bytesAt(-1, L));
      return;
    case LUA_TBOOLEAN:
      out.byte(m._lua_toboolean(L, -1) !== 0 ? 0xc3 : 0xc2);
      return;
    case LUA_TNUMBER: {
      const n = m._lua_tonumber(L, -1);
      if (Number.isInteger(n) && n >= -TWO_63 && n < TWO_63) out.integer(n);
      else out.double(n);
      return;
    }
    case LUA_TTABLE:
      if (depth >= MAX_NESTING || m._lua_checkstack(L, 3) === 0) {
        out.byte(0xc0);
        return;
      }
      packTable(fns, L, out, depth + 1);
      return;
    default:
      out.byte(0xc0);
  }
}

/** table_is_an_array: the length when the keys are exactly 1..n, -1 otherwise. */
function arrayLength(fns: ScriptFunctions, L: number): number {
  const m = fns.m;
  let count = 0;
  let max = 0;
  m._lua_pushnil(L);
  while (m._lua_next(L, -2) !== 0) {
    m._lua_settop(L, -2);
    const k = m._lua_type(L, -1) === LUA_TNUMBER ? m._lua_tonumber(L, -1) : NaN;
    if (!(k >= 1 && Math.floor(k) === k)) {
      m._lua_settop(L, -2);
      return -1;
    }
    if (k > max) max = k;
    count++;
  }
  return count === max ? count : -1;
}

function packTable(fns: ScriptFunctions, L: number, out: PackOutput, depth: number): void {
  const m = fns.m;
  const length = arrayLength(fns, L);
  if (length >= 0) {
    out.header(0x90, 0xdc, length);
    for (let i = 1; i <= length; i++) {
      m._lua_rawgeti(L, -1, i);
      packValue(fns, L, out, depth);
      m._lua_settop(L, -2);
    }
    return;
  }
  let pairs = 0;
  m._lua_pushnil(L);
  while (m._lua_next(L, -2) !== 0) {
    m._lua_settop(L, -2);
    pairs++;
  }
  out.header(0x80, 0xde, pairs);
  m._lua_pushnil(L);
  while (m._lua_next(L, -2) !== 0) {
    m._lua_pushvalue(L, -2);
    packValue(fns, L, out, depth);
    m._lua_settop(L, -2);
    packValue(fns, L, out, depth);
    m._lua_settop(L, -2);
  }
}

class Unpacker {
  constructor(private readonly fns: ScriptFunctions, private readonly L: number, private readonly data: Buffer, public p: number) {}

  private need(n: number): void {
    if (this.p + n > this.data.length) this.fns.lua.raiseWhere('Missing bytes in input.', this.L);
  }

  private bad(): never {
    return this.fns.lua.raiseWhere('Bad data format in input.', this.L);
  }

  private pushBytes(n: number): void {
    this.need(n);
    this.fns.m._lua_pushlstring(this.L, this.fns.lua.stage(this.data, this.p, n), n);
    this.p += n;
  }

  private uint(size: 1 | 2 | 4): number {
    this.need(size);
    const d = this.data;
    const v = size === 1 ? d.readUInt8(this.p) : size === 2 ? d.readUInt16BE(this.p) : d.readUInt32BE(this.p);
    this.p += size;
    return v;
  }

  /** Pushes the object at p. */
  value(depth: number): void {
    const m = this.fns.m;
    const L = this.L;
    const d = this.data;
    this.need(1);
    const t = d[this.p++];
    if (t <= 0x7f) return m._lua_pushnumber(L, t);
    if (t >= 0xe0) return m._lua_pushnumber(L, t - 256);
    if ((t & 0xe0) === 0xa0) return this.pushBytes(t & 0x1f);
    if ((t & 0xf0) === 0x90) return this.array(t & 0x0f, depth);
    if ((t & 0xf0) === 0x80) return this.map(t & 0x0f, depth);
    switch (t) {
      case 0xc0: return m._lua_pushnil(L);
      case 0xc2: return m._lua_pushboolean(L, 0);
      case 0xc3: return m._lua_pushboolean(L, 1);
      case 0xcc: return m._lua_pushnumber(L, this.uint(1));
      case 0xcd: return m._lua_pushnumber(L, this.uint(2));
      case 0xce: return m._lua_pushnumber(L, this.uint(4));
      case 0xcf: this.need(8); m._lua_pushnumber(L, Number(d.readBigUInt64BE(this.p))); this.p += 8; return;
      case 0xd0: this.need(1); m._lua_pushnumber(L, d.readInt8(this.p)); this.p += 1; return;
      case 0xd1: this.need(2); m._lua_pushnumber(L, d.readInt16BE(this.p)); this.p += 2; return;
      case 0xd2: this.need(4); m._lua_pushnumber(L, d.readInt32BE(this.p)); this.p += 4; return;
      case 0xd3: this.need(8); m._lua_pushnumber(L, Number(d.readBigInt64BE(this.p))); this.p += 8; return;
      case 0xca: this.need(4); m._lua_pushnumber(L, d.readFloatBE(this.p)); this.p += 4; return;
      case 0xcb: this.need(8); m._lua_pushnumber(L, d.readDoubleBE(this.p)); this.p += 8; return;
      case 0xd9: case 0xc4: return this.pushBytes(this.uint(1));
      case 0xda: case 0xc5: return this.pushBytes(this.uint(2));
      case 0xdb: case 0xc6: return this.pushBytes(this.uint(4));
      case 0xdc: return this.array(this.uint(2), depth);
      case 0xdd: return this.array(this.uint(4), depth);
      case 0xde: return this.map(this.uint(2), depth);
      case 0xdf: return this.map(this.uint(4), depth);
      default: return this.bad();
    }
  }

  private array(n: number, depth: number): void {
    const m = this.fns.m;
    if (m._lua_checkstack(this.L, 3) === 0) this.bad();
    m._lua_createtable(this.L, Math.min(n, 1 << 16), 0);
    for (let i = 1; i <= n; i++) {
      this.value(depth + 1);
      m._lua_rawseti(this.L, -2, i);
    }
  }

  private map(n: number, depth: number): void {
    const m = this.fns.m;
    if (m._lua_checkstack(this.L, 4) === 0) this.bad();
    m._lua_createtable(this.L, 0, Math.min(n, 1 << 16));
    for (let i = 0; i < n; i++) {
      this.value(depth + 1);
      this.value(depth + 1);
      // A nil key cannot be stored (Lua would raise): lua-cmsgpack drops such a pair.
      if (m._lua_type(this.L, -2) === 0) m._lua_settop(this.L, -3);
      else m._lua_rawset(this.L, -3);
    }
  }
}
