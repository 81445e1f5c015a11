/**
 * The `cjson` library Redis loads (lua-cjson 2.1's API and behaviour):
 * encode and decode between Lua values and JSON, with cjson.null (the NULL
 * light userdata) for JSON null.
 *
 * encode: a table whose keys are all positive integers is an array (holes
 * become null) unless excessively sparse (highest index above twice the
 * count and above 10: an error); any other table is an object whose keys
 * must be strings or numbers; an empty table is `{}`. Numbers print as
 * "%.14g"; NaN and infinities are refused. Strings are escaped as lua-cjson
 * escapes them (`/` and DEL included) and otherwise copied byte for byte.
 * decode: JSON text to Lua values; errors name the offending token and its
 * character position, as lua-cjson's do.
 */
import {
  LUA_TBOOLEAN, LUA_TNIL, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, type LuaModule,
} from './lua-engine.js';
import type { ScriptFunctions } from './script-environment.js';
import { ByteOutput } from './byte-output.js';

const LUA_TLIGHTUSERDATA = 2;
const MAX_DEPTH = 1000;
const PRECISION = 14;
const SPARSE_RATIO = 2;
const SPARSE_SAFE = 10;

/** C's printf("%.*g"). */
export function formatG(v: number, precision: number): string {
  if (v === 0) return 1 / v < 0 ? '-0' : '0';
  const exp = v.toExponential(precision - 1);
  const e = Number(exp.slice(exp.indexOf('e') + 1));
  if (e < -4 || e >= precision) {
    let mantissa = exp.slice(0, exp.indexOf('e'));
    if (mantissa.includes('.')) mantissa = mantissa.replace(/\.?0+$/, '');
    const abs = Math.abs(e);
    return `${mantissa}e${e < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
  }
  let fixed = v.toFixed(Math.max(0, precision - 1 - e));
  if (fixed.includes('.')) fixed = fixed.replace(/\.?0+$/, '');
  return fixed;
}

const ESCAPES: (string | null)[] = [];
for (let i = 0; i < 256; i++) ESCAPES.push(null);
for (let i = 0; i < 32; i++) ESCAPES[i] = `\\u${i.toString(16).padStart(4, '0')}`;
ESCAPES[8] = '\\b';
ESCAPES[9] = '\\t';
ESCAPES[10] = '\\n';
ESCAPES[12] = '\\f';
ESCAPES[13] = '\\r';
ESCAPES[34] = '\\"';
ESCAPES[47] = '\\/';
ESCAPES[92] = '\\\\';
ESCAPES[127] = '\\u007f';

/** encode's output: JSON strings escaped as lua-cjson escapes them. */
class JsonOutput extends ByteOutput {
  stringBytes(b: Uint8Array): void {
    this.ensure(b.length * 6 + 2);
    const out = this.buf;
    out[this.len++] = 34;
    for (let i = 0; i < b.length; i++) {
      const esc = ESCAPES[b[i]];
      if (esc === null) out[this.len++] = b[i];
      else this.len += out.write(esc, this.len, 'latin1');
    }
    out[this.len++] = 34;
  }
}

export function registerCjsonLibrary(fns: ScriptFunctions): void {
  const m = fns.m;
  fns.add('cjson', {
    encode: (L) => {
      if (m._lua_gettop(L) !== 1) fns.lua.raiseWhere("bad argument #1 to 'encode' (expected 1 argument)", L);
      const out = new JsonOutput();
      encodeValue(fns, L, out, 0);
      const lua = fns.lua;
      m._lua_pushlstring(L, lua.stage(out.buf, 0, out.len), out.len);
      return 1;
    },
    decode: (L) => {
      if (m._lua_gettop(L) !== 1) fns.lua.raiseWhere("bad argument #1 to 'decode' (expected 1 argument)", L);
      if (m._lua_isnumber(L, 1) === 0 && m._lua_type(L, 1) !== LUA_TSTRING) {
        fns.lua.raiseWhere(`bad argument #1 to 'decode' (string expected, got ${fns.typeName(L, 1)})`, L);
      }
      const text = Buffer.from(fns.lua.bytesAt(1, L));
      new JsonDecoder(fns, L, text).decodeAll();
      return 1;
    },
  });
}

function encodeError(fns: ScriptFunctions, L: number, typeName: string, reason: string): never {
  return fns.lua.raiseWhere(`Cannot serialise ${typeName}: ${reason}`, L);
}

/** Encodes the value at the top of L's stack (left in place). */
function encodeValue(fns: ScriptFunctions, L: number, out: JsonOutput, depth: number): void {
  const m = fns.m;
  switch (m._lua_type(L, -1)) {
    case LUA_TSTRING:
      out.stringBytes(fns.lua.bytesAt(-1, L));
      return;
    case LUA_TNUMBER: {
      const v = m._lua_tonumber(L, -1);
      if (!Number.isFinite(v)) encodeError(fns, L, 'number', 'must not be NaN or Inf');
      out.text(formatG(v, PRECISION));
      return;
    }
    case LUA_TBOOLEAN:
      out.text(m._lua_toboolean(L, -1) !== 0 ? 'true' : 'false');
      return;
    case LUA_TNIL:
      out.text('null');
      return;
    case LUA_TLIGHTUSERDATA:
      if (m._lua_touserdata(L, -1) === 0) {
        out.text('null');
        return;
      }
      break;
    case LUA_TTABLE:
      if (depth + 1 > MAX_DEPTH) fns.lua.raiseWhere(`Cannot serialise, excessive nesting (${depth + 1})`, L);
      if (m._lua_checkstack(L, 3) === 0) fns.lua.raiseWhere(`Cannot serialise, excessive nesting (${depth + 1})`, L);
      encodeTable(fns, L, out, depth + 1);
      return;
  }
  encodeError(fns, L, fns.typeName(L, -1), 'type not supported');
}

/** lua_array_length: the highest index when every key is a positive integer, -1 otherwise. */
function arrayLength(fns: ScriptFunctions, L: number): number {
  const m = fns.m;
  let max = 0;
  let items = 0;
  m._lua_pushnil(L);
  while (m._lua_next(L, -2) !== 0) {
    const k = m._lua_type(L, -2) === LUA_TNUMBER ? m._lua_tonumber(L, -2) : NaN;
    if (!(k >= 1 && Math.floor(k) === k)) {
      m._lua_settop(L, -3);
      return -1;
    }
    if (k > max) max = k;
    items++;
    m._lua_settop(L, -2);
  }
  if (max > items * SPARSE_RATIO && max > SPARSE_SAFE) encodeError(fns, L, 'table', 'excessively sparse array');
  return max;
}

function encodeTable(fns: ScriptFunctions, L: number, out: JsonOutput, depth: number): void {
  const m = fns.m;
  const length = arrayLength(fns, L);
  if (length > 0) {
    out.text('[');
    for (let i = 1; i <= length; i++) {
      if (i > 1) out.text(',');
      m._lua_rawgeti(L, -1, i);
      encodeValue(fns, L, out, depth);
      m._lua_settop(L, -2);
    }
    out.text(']');
    return;
  }
  out.text('{');
  let first = true;
  m._lua_pushnil(L);
  while (m._lua_next(L, -2) !== 0) {
    if (!first) out.text(',');
    first = false;
    const keyType = m._lua_type(L, -2);
    if (keyType === LUA_TSTRING) {
      out.stringBytes(fns.lua.bytesAt(-2, L));
    } else if (keyType === LUA_TNUMBER) {
      out.text(`"${formatG(m._lua_tonumber(L, -2), PRECISION)}"`);
    } else {
      encodeError(fns, L, 'table', 'table key must be a number or string');
    }
    out.text(':');
    encodeValue(fns, L, out, depth);
    m._lua_settop(L, -2);
  }
  out.text('}');
}

type Token =
  | 'T_OBJ_BEGIN' | 'T_OBJ_END' | 'T_ARR_BEGIN' | 'T_ARR_END' | 'T_STRING' | 'T_NUMBER' | 'T_BOOLEAN' | 'T_NULL'
  | 'T_COLON' | 'T_COMMA' | 'T_END' | 'T_ERROR';

const NUMBER_PATTERN = /^-?(?:0x[0-9a-f]+|(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|inf(?:inity)?|nan)/i;

/** A recursive-descent JSON decoder pushing Lua values onto L. */
class JsonDecoder {
  private p = 0;
  private token: Token = 'T_END';
  private tokenStart = 0;
  private error = '';
  private number = 0;
  private bool = false;
  private str: Buffer = Buffer.alloc(0);
  private readonly m: LuaModule;

  constructor(private readonly fns: ScriptFunctions, private readonly L: number, private readonly text: Buffer) {
    this.m = fns.m;
  }

  decodeAll(): void {
    this.next();
    this.value(0);
    this.next();
    if (this.at() !== 'T_END') this.fail('the end');
  }

  /** The current token (a method, so that the compiler does not narrow it across next()). */
  private at(): Token {
    return this.token;
  }

  private fail(expected: string): never {
    const found = this.token === 'T_ERROR' ? this.error : this.token;
    return this.fns.lua.raiseWhere(`Expected ${expected} but found ${found} at character ${this.tokenStart + 1}`, this.L);
  }

  private value(depth: number): void {
    const m = this.m;
    const L = this.L;
    switch (this.token) {
      case 'T_STRING':
        m._lua_pushlstring(L, this.fns.lua.stage(this.str, 0, this.str.length), this.str.length);
        return;
      case 'T_NUMBER':
        m._lua_pushnumber(L, this.number);
        return;
      case 'T_BOOLEAN':
        m._lua_pushboolean(L, this.bool ? 1 : 0);
        return;
      case 'T_NULL':
        m._lua_pushlightuserdata(L, 0);
        return;
      case 'T_OBJ_BEGIN':
      case 'T_ARR_BEGIN': {
        if (depth + 1 > MAX_DEPTH || m._lua_checkstack(L, 3) === 0) {
          this.fns.lua.raiseWhere(`Found too many nested data structures (${depth + 1}) at character ${this.tokenStart + 1}`, L);
        }
        if (this.at() === 'T_OBJ_BEGIN') this.object(depth + 1);
        else this.array(depth + 1);
        return;
      }
      default:
        this.fail('value');
    }
  }

  private object(depth: number): void {
    const m = this.m;
    m._lua_createtable(this.L, 0, 0);
    this.next();
    if (this.at() === 'T_OBJ_END') return;
    for (;;) {
      if (this.at() !== 'T_STRING') this.fail('object key string');
      m._lua_pushlstring(this.L, this.fns.lua.stage(this.str, 0, this.str.length), this.str.length);
      this.next();
      if (this.at() !== 'T_COLON') this.fail('colon');
      this.next();
      this.value(depth);
      m._lua_rawset(this.L, -3);
      this.next();
      if (this.at() === 'T_OBJ_END') return;
      if (this.at() !== 'T_COMMA') this.fail('comma or object end');
      this.next();
    }
  }

  private array(depth: number): void {
    const m = this.m;
    m._lua_createtable(this.L, 0, 0);
    this.next();
    if (this.at() === 'T_ARR_END') return;
    for (let i = 1; ; i++) {
      this.value(depth);
      m._lua_rawseti(this.L, -2, i);
      this.next();
      if (this.at() === 'T_ARR_END') return;
      if (this.at() !== 'T_COMMA') this.fail('comma or array end');
      this.next();
    }
  }

  private next(): void {
    const t = this.text;
    while (this.p < t.length && (t[this.p] === 32 || t[this.p] === 9 || t[this.p] === 10 || t[this.p] === 13)) this.p++;
    this.tokenStart = this.p;
    if (this.p >= t.length) {
      this.token = 'T_END';
      return;
    }
    const ch = t[this.p];
    const single: Record<number, Token> = { 123: 'T_OBJ_BEGIN', 125: 'T_OBJ_END', 91: 'T_ARR_BEGIN', 93: 'T_ARR_END', 58: 'T_COLON', 44: 'T_COMMA' };
    if (single[ch] !== undefined) {
      this.token = single[ch];
      this.p++;
      return;
    }
    if (ch === 34) {
      this.string();
      return;
    }
    const rest = t.toString('latin1', this.p, Math.min(t.length, this.p + 64));
    for (const [word, token, value] of [['true', 'T_BOOLEAN', true], ['false', 'T_BOOLEAN', false], ['null', 'T_NULL', false]] as const) {
      if (rest.startsWith(word)) {
        this.token = token;
        this.bool = value;
        this.p += word.length;
        return;
      }
    }
    const num = NUMBER_PATTERN.exec(t.toString('latin1', this.p, Math.min(t.length, this.p + 400)));
    if (num !== null) {
      const s = num[0].toLowerCase();
      this.number = s.includes('0x') ? (s.startsWith('-') ? -parseInt(s.slice(3), 16) : parseInt(s.slice(2), 16))
        : s.includes('inf') ? (s.startsWith('-') ? -Infinity : Infinity) : s.includes('nan') ? NaN : Number(s);
      this.token = 'T_NUMBER';
      this.p += num[0].length;
      return;
    }
    this.token = 'T_ERROR';
    this.error = 'invalid token';
  }

  private string(): void {
    const t = this.text;
    const out: number[] = [];
    let p = this.p + 1;
    for (;;) {
      if (p >= t.length) {
        this.token = 'T_ERROR';
        this.error = 'unexpected end of string';
        return;
      }
      const ch = t[p];
      if (ch === 34) break;
      if (ch !== 92) {
        out.push(ch);
        p++;
        continue;
      }
      const esc = t[p + 1];
      const simple: Record<number, number> = { 34: 34, 92: 92, 47: 47, 98: 8, 102: 12, 110: 10, 114: 13, 116: 9 };
      if (simple[esc] !== undefined) {
        out.push(simple[esc]);
        p += 2;
        continue;
      }
      if (esc !== 117) {
        this.token = 'T_ERROR';
        this.error = 'invalid escape code';
        return;
      }
      let code = parseInt(t.toString('latin1', p + 2, p + 6), 16);
      let used = 6;
      if (!/^[0-9a-fA-F]{4}$/.test(t.toString('latin1', p + 2, p + 6))) code = -1;
      if (code >= 0xd800 && code <= 0xdbff) {
        const low = t.toString('latin1', p + 6, p + 12);
        const lowCode = /^\\u[0-9a-fA-F]{4}$/.test(low) ? parseInt(low.slice(2), 16) : -1;
        code = lowCode >= 0xdc00 && lowCode <= 0xdfff ? 0x10000 + ((code - 0xd800) << 10) + (lowCode - 0xdc00) : -1;
        used = 12;
      } else if (code >= 0xdc00 && code <= 0xdfff) {
        code = -1;
      }
      if (code < 0) {
        this.token = 'T_ERROR';
        this.error = 'invalid unicode escape code';
        return;
      }
      for (const b of Buffer.from(String.fromCodePoint(code), 'utf8')) out.push(b);
      p += used;
    }
    this.str = Buffer.from(out);
    this.p = p + 1;
    this.token = 'T_STRING';
  }
}
