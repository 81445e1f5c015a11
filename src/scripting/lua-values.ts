/**
 * Redis 7.0's conversions between RESP replies and Lua values
 * (script_lua.c's redisProtocolToLuaType and luaReplyToRedisReply).
 *
 * RESP -> Lua (what redis.call returns): integer -> number; bulk -> string;
 * a null bulk or array -> false; array -> table; status -> {ok=s}; error ->
 * {err=s}. RESP3 (after redis.setresp(3)): null -> nil, map -> {map={...}},
 * set -> {set={member=true}}, boolean, double -> {double=n}, big number ->
 * {big_number=s}, verbatim -> {verbatim_string={format=f, string=s}};
 * attributes are dropped.
 *
 * Lua -> RESP (what a script returns): string -> bulk; number -> integer,
 * truncated toward zero (a value beyond int64 gives int64's minimum, as the
 * x86-64 conversion Redis relies on); true -> 1 and false -> null (RESP3
 * booleans once the script chose RESP3); a table is read raw for err, ok,
 * double, big_number, verbatim_string, map and set in that order, else
 * as an array up to its first nil; anything else -> null.
 */
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { formatScore } from '../commands/zset-scores.js';
import {
  LUA_TBOOLEAN, LUA_TNIL, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, type LuaState,
} from './lua-engine.js';

const CR = 13;
/** Nesting Redis's conversion refuses past ("reached lua stack limit"): checked as stack room. */
const STACK_ROOM_PER_LEVEL = 4;
export const STACK_LIMIT = 'reached lua stack limit';

const INT64_MIN = -(2n ** 63n);
const TWO_63 = 2 ** 63;

/** Reads a RESP line's end: the index of its CR. */
function lineEnd(b: Uint8Array, p: number): number {
  while (b[p] !== CR) p++;
  return p;
}

function lineInteger(b: Uint8Array, from: number, to: number): number {
  let negative = false;
  let p = from;
  if (b[p] === 45) {
    negative = true;
    p++;
  }
  let n = 0;
  for (; p < to; p++) n = n * 10 + (b[p] - 48);
  return negative ? -n : n;
}

/**
 * Converts RESP values written by a command into Lua values. One instance
 * per environment: `bytes` is the reply being read.
 */
export class ReplyToLua {
  private b: Uint8Array = new Uint8Array(0);

  constructor(private readonly lua: LuaState) {}

  /** Pushes the reply in b[start, ...) and returns where it ends. */
  push(b: Uint8Array, start: number): number {
    this.b = b;
    return this.value(start);
  }

  /** Pushes a one-field table and the field's name: the caller pushes the value, then rawsets it at -3 ({field = value}). */
  private openField(field: string): void {
    this.lua.m._lua_createtable(this.lua.L, 0, 1);
    this.lua.pushLatin1(field);
  }

  private value(p: number): number {
    const lua = this.lua;
    const m = lua.m;
    const L = lua.L;
    const b = this.b;
    const end = lineEnd(b, p + 1);
    const next = end + 2;
    if (m._lua_checkstack(L, STACK_ROOM_PER_LEVEL) === 0) lua.raiseMessage(STACK_LIMIT);
    switch (b[p]) {
      case 43: // + status
      case 45: { // - error
        this.openField(b[p] === 43 ? 'ok' : 'err');
        lua.pushBytes(b, p + 1, end - p - 1);
        m._lua_rawset(L, -3);
        return next;
      }
      case 58: { // : integer
        // Up to 15 digits the digits are exact in a double; longer ones are rounded as strtod rounds them.
        m._lua_pushnumber(L, end - p - 1 <= 15 ? lineInteger(b, p + 1, end)
          : Number(Buffer.from(b.buffer, b.byteOffset + p + 1, end - p - 1).toString('latin1')));
        return next;
      }
      case 36: { // $ bulk
        const n = lineInteger(b, p + 1, end);
        if (n < 0) {
          m._lua_pushboolean(L, 0);
          return next;
        }
        lua.pushBytes(b, next, n);
        return next + n + 2;
      }
      case 42: // * array
      case 62: { // > push
        const n = lineInteger(b, p + 1, end);
        if (n < 0) {
          m._lua_pushboolean(L, 0);
          return next;
        }
        m._lua_createtable(L, n, 0);
        let q = next;
        for (let i = 1; i <= n; i++) {
          q = this.value(q);
          m._lua_rawseti(L, -2, i);
        }
        return q;
      }
      case 95: // _ null
        m._lua_pushnil(L);
        return next;
      case 35: // # boolean
        m._lua_pushboolean(L, b[p + 1] === 116 ? 1 : 0);
        return next;
      case 44: { // , double
        this.openField('double');
        m._lua_pushnumber(L, parseDouble(Buffer.from(b.buffer, b.byteOffset + p + 1, end - p - 1).toString('latin1')));
        m._lua_rawset(L, -3);
        return next;
      }
      case 40: { // ( big number
        this.openField('big_number');
        lua.pushBytes(b, p + 1, end - p - 1);
        m._lua_rawset(L, -3);
        return next;
      }
      case 61: { // = verbatim
        const n = lineInteger(b, p + 1, end);
        this.openField('verbatim_string');
        m._lua_createtable(L, 0, 2);
        lua.pushLatin1('format');
        lua.pushBytes(b, next, 3);
        m._lua_rawset(L, -3);
        lua.pushLatin1('string');
        lua.pushBytes(b, next + 4, n - 4);
        m._lua_rawset(L, -3);
        m._lua_rawset(L, -3);
        return next + n + 2;
      }
      case 37: { // % map
        const n = lineInteger(b, p + 1, end);
        this.openField('map');
        m._lua_createtable(L, 0, n);
        let q = next;
        for (let i = 0; i < n; i++) {
          q = this.value(q);
          q = this.value(q);
          m._lua_rawset(L, -3);
        }
        m._lua_rawset(L, -3);
        return q;
      }
      case 126: { // ~ set
        const n = lineInteger(b, p + 1, end);
        this.openField('set');
        m._lua_createtable(L, 0, n);
        let q = next;
        for (let i = 0; i < n; i++) {
          q = this.value(q);
          m._lua_pushboolean(L, 1);
          m._lua_rawset(L, -3);
        }
        m._lua_rawset(L, -3);
        return q;
      }
      case 124: { // | attribute: skipped, the value follows
        const n = lineInteger(b, p + 1, end);
        let q = next;
        for (let i = 0; i < 2 * n; i++) {
          q = this.value(q);
          m._lua_settop(L, -2);
        }
        return this.value(q);
      }
      default:
        throw new Error(`unexpected reply byte ${b[p]}`);
    }
  }
}

function parseDouble(text: string): number {
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  if (text === 'nan') return NaN;
  return Number(text);
}

/** C's (long long) cast of a Lua number as Redis's x86-64 build does it. */
export function luaNumberToInteger(n: number): number | bigint {
  if (n !== n || n >= TWO_63 || n < -TWO_63) return INT64_MIN;
  const t = Math.trunc(n);
  return Number.isSafeInteger(t) ? t : BigInt(t);
}

/**
 * Writes the Lua value at the top of the stack as a reply (popping it).
 * `scriptResp` is the protocol the script chose with redis.setresp.
 */
export function writeLuaValue(lua: LuaState, out: ReplyWriter, scriptResp: number): void {
  const m = lua.m;
  const L = lua.L;
  if (m._lua_checkstack(L, STACK_ROOM_PER_LEVEL) === 0) {
    m._lua_settop(L, -2);
    out.error(STACK_LIMIT);
    return;
  }
  switch (m._lua_type(L, -1)) {
    case LUA_TSTRING: {
      const bytes = lua.bytesAt(-1);
      out.bulkBytes(bytes, 0, bytes.length);
      break;
    }
    case LUA_TBOOLEAN: {
      const v = m._lua_toboolean(L, -1) !== 0;
      if (scriptResp === 2) {
        if (v) out.integer(1);
        else out.nullBulk();
      } else {
        out.boolean(v);
      }
      break;
    }
    case LUA_TNUMBER: {
      const n = luaNumberToInteger(m._lua_tonumber(L, -1));
      if (typeof n === 'bigint') out.bigInteger(n);
      else out.integer(n);
      break;
    }
    case LUA_TTABLE:
      writeTable(lua, out, scriptResp);
      break;
    default:
      out.nullBulk();
  }
  m._lua_settop(L, -2);
}

/** Pushes t[field] (raw) for the table at the top; returns its type. */
function field(lua: LuaState, name: string): number {
  lua.pushLatin1(name);
  lua.m._lua_rawget(lua.L, -2);
  return lua.m._lua_type(lua.L, -1);
}

function writeTable(lua: LuaState, out: ReplyWriter, scriptResp: number): void {
  const m = lua.m;
  const L = lua.L;
  if (field(lua, 'err') === LUA_TSTRING) {
    const text = lua.latin1At(-1).replace(/[\r\n]/g, ' ');
    m._lua_settop(L, -2);
    out.error('-' + text);
    return;
  }
  m._lua_settop(L, -2);
  if (field(lua, 'ok') === LUA_TSTRING) {
    const text = lua.latin1At(-1).replace(/[\r\n]/g, ' ');
    m._lua_settop(L, -2);
    out.simple(text);
    return;
  }
  m._lua_settop(L, -2);
  if (field(lua, 'double') === LUA_TNUMBER) {
    const v = m._lua_tonumber(L, -1);
    m._lua_settop(L, -2);
    out.double(v, formatScore(v));
    return;
  }
  m._lua_settop(L, -2);
  if (field(lua, 'big_number') === LUA_TSTRING) {
    const text = lua.latin1At(-1).replace(/[\r\n]/g, ' ');
    m._lua_settop(L, -2);
    if (out.resp === 3) out.bigNumberText(text);
    else out.bulkString(text);
    return;
  }
  m._lua_settop(L, -2);
  if (field(lua, 'verbatim_string') === LUA_TTABLE) {
    const format = field(lua, 'format') === LUA_TSTRING ? lua.latin1At(-1) : null;
    m._lua_settop(L, -2);
    const text = field(lua, 'string') === LUA_TSTRING ? Buffer.from(lua.bytesAt(-1)) : null;
    m._lua_settop(L, -3);
    if (format !== null && text !== null && format.length === 3) {
      out.verbatimBytes(text, format);
      return;
    }
  } else {
    m._lua_settop(L, -2);
  }
  if (field(lua, 'map') === LUA_TTABLE) {
    writePairs(lua, out, scriptResp, true);
    m._lua_settop(L, -2);
    return;
  }
  m._lua_settop(L, -2);
  if (field(lua, 'set') === LUA_TTABLE) {
    writePairs(lua, out, scriptResp, false);
    m._lua_settop(L, -2);
    return;
  }
  m._lua_settop(L, -2);
  let n = 0;
  for (;;) {
    m._lua_rawgeti(L, -1, n + 1);
    const nil = m._lua_type(L, -1) === LUA_TNIL;
    m._lua_settop(L, -2);
    if (nil) break;
    n++;
  }
  out.arrayHeader(n);
  for (let i = 1; i <= n; i++) {
    m._lua_rawgeti(L, -1, i);
    writeLuaValue(lua, out, scriptResp);
  }
}

/** The map or set table at the top: its pairs (map) or keys (set), in Lua's traversal order. */
function writePairs(lua: LuaState, out: ReplyWriter, scriptResp: number, isMap: boolean): void {
  const m = lua.m;
  const L = lua.L;
  let n = 0;
  m._lua_pushnil(L);
  while (m._lua_next(L, -2) !== 0) {
    m._lua_settop(L, -2);
    n++;
  }
  if (isMap) out.mapHeader(n);
  else out.setHeader(n);
  m._lua_pushnil(L);
  while (m._lua_next(L, -2) !== 0) {
    if (isMap) {
      m._lua_pushvalue(L, -2);
      writeLuaValue(lua, out, scriptResp);
      writeLuaValue(lua, out, scriptResp);
    } else {
      m._lua_settop(L, -2);
      m._lua_pushvalue(L, -1);
      writeLuaValue(lua, out, scriptResp);
    }
  }
}
