/**
 * One Lua state set up as Redis 7.0's script environment (script_lua.c's
 * luaRegisterRedisAPI and scriptingInit): the libraries Redis loads (base,
 * table, string, math, bit, cjson, cmsgpack and struct), string.format
 * with 64-bit integers (lua-format.ts), the `redis` table, Redis's random
 * generator in place of math.random, then the sandbox (sandbox-source.ts):
 * read-only library tables and globals, the absent functions removed,
 * bytecode refused. The state's globals are then the sandbox's proxy; KEYS
 * and ARGV are set in the real table behind it for each call.
 *
 * The C functions (redis.call and the rest) are registered once per thread
 * by ScriptFunctions and shared by every state the thread creates (the
 * scripts' state, remade by SCRIPT FLUSH; the functions' state, remade when
 * the libraries change), so the module's function table does not grow.
 */
import { sha1hex } from './script-store.js';
import {
  LUA_ERRSYNTAX, LUA_GLOBALSINDEX, LUA_REGISTRYINDEX, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, LuaState, type LuaModule,
} from './lua-engine.js';
import { SANDBOX_CHUNK, SANDBOX_SOURCE } from './sandbox-source.js';
import { formatFunction } from './lua-format.js';
import { tableInsertFunction } from './lua-table-insert.js';
import { ReplyToLua } from './lua-values.js';
import { REDIS_COMPAT_VERSION } from '../server/config.js';

/** The count hook a state has: none yet, the kill check every 100,000 instructions, or every line once killed. */
export const enum HookState {
  None,
  Counting,
  Killing,
}

/** Redis's replication flags for redis.set_repl (PROPAGATE_AOF, PROPAGATE_REPL). */
export const REPL_NONE = 0;
export const REPL_AOF = 1;
export const REPL_REPLICA = 2;
export const REPL_ALL = 3;

/** What the redis.* functions ask of the server while a script runs. */
export interface ScriptHost {
  /** redis.call (raise) / redis.pcall: runs the command from the Lua stack of L, pushes its reply; returns 1. */
  call(L: number, raise: boolean): number;
  /** redis.setresp. */
  setResp(version: number): void;
  /** redis.set_repl. */
  setReplication(flags: number): void;
  /** redis.log at Redis's level 0..3. */
  log(level: number, message: string): void;
  /** redis.acl_check_cmd: whether the command exists (weft has no ACL users). */
  commandExists(name: Uint8Array): boolean;
  /** redis.register_function, while a library loads (FUNCTION LOAD). */
  registerFunction(L: number): number;
}

/** A C function implemented in JS: the calling thread's state in, the number of results pushed out. */
type CFunction = (L: number) => number;

const CHUNK_USER = '@user_script';
const CHUNK_FUNCTION = '@user_function';
const LOG_LEVELS = ['LOG_DEBUG', 'LOG_VERBOSE', 'LOG_NOTICE', 'LOG_WARNING'];

function versionNumber(version: string): number {
  const [a, b, c] = version.split('.').map(Number);
  return (a << 16) | (b << 8) | c;
}

/**
 * Redis's Lua PRNG (rand.c's redisLrand48): the 48-bit linear congruential
 * generator of lrand48, seeded as Redis seeds it, so that math.random gives
 * the sequence Redis gives. One generator per thread, kept across scripts
 * (Redis 7.0 does not reseed it per call).
 */
export class RedisRandom {
  private x = 0x1234abcd330en;

  /** redisSrand48. */
  seed(seed: number): void {
    const s = seed | 0;
    this.x = (BigInt((s >>> 16) & 0xffff) << 32n) | (BigInt(s & 0xffff) << 16n) | 0x330en;
  }

  /** redisLrand48: 31 bits. */
  next(): number {
    this.x = (this.x * 0x5deece66dn + 0xbn) & 0xffffffffffffn;
    return Number(this.x >> 17n);
  }
}

const INT32_MAX = 2147483647;

/**
 * Redis's error table from an error text (luaPushErrorBuff): "-CODE msg"
 * keeps its code, anything else gets ERR; trailing CR/LF are trimmed.
 */
export function errorTableText(text: string): string {
  let code = 'ERR';
  let msg = text;
  if (text.charCodeAt(0) === 45) {
    const space = text.indexOf(' ');
    if (space < 0) {
      msg = text.slice(1);
    } else {
      code = text.slice(1, space);
      msg = text.slice(space + 1);
    }
  }
  msg = msg.replace(/^[\r\n]+|[\r\n]+$/g, '');
  return `${code} ${msg}`;
}

export class ScriptFunctions {
  readonly pointers = new Map<string, number>();
  readonly random = new RedisRandom();
  /** The environment whose state is running now (functions read its stack through it). */
  current: ScriptEnvironment | null = null;

  constructor(readonly m: LuaModule, readonly host: ScriptHost) {
    const api: Record<string, CFunction> = {
      'redis.call': (L) => this.host.call(L, true),
      'redis.pcall': (L) => this.host.call(L, false),
      'redis.error_reply': (L) => this.errorReply(L),
      'redis.status_reply': (L) => this.statusReply(L),
      'redis.sha1hex': (L) => this.sha1hex(L),
      'redis.log': (L) => this.logCall(L),
      'redis.setresp': (L) => this.setResp(L),
      'redis.set_repl': (L) => this.setRepl(L),
      'redis.replicate_commands': (L) => {
        m._lua_pushboolean(L, 1);
        return 1;
      },
      'redis.breakpoint': (L) => {
        m._lua_pushboolean(L, 0);
        return 1;
      },
      'redis.debug': () => 0,
      'redis.acl_check_cmd': (L) => this.aclCheck(L),
      'weft.random': (L) => this.mathRandom(L),
      'weft.register_function': (L) => this.host.registerFunction(L),
      'weft.randomseed': (L) => {
        this.random.seed(this.checkInteger(L, 1, 'randomseed'));
        return 0;
      },
    };
    for (const [name, fn] of Object.entries(api)) this.pointers.set(name, m.addFunction(fn, 'ii'));
    this.pointers.set('weft.format', m.addFunction(formatFunction(this), 'ii'));
    this.pointers.set('weft.table_insert', m.addFunction(tableInsertFunction(this), 'ii'));
  }

  /** Adds a library's functions under `prefix.` (bit, cjson). */
  add(prefix: string, fns: Record<string, CFunction>): void {
    for (const [name, fn] of Object.entries(fns)) this.pointers.set(`${prefix}.${name}`, this.m.addFunction(fn, 'ii'));
  }

  get lua(): LuaState {
    return this.current!.lua;
  }

  /** Raises a Redis error table {err = "CODE msg"} in thread L. */
  raiseError(L: number, text: string): never {
    this.pushErrorTable(L, text);
    return this.lua.raise(L);
  }

  pushErrorTable(L: number, text: string): void {
    this.m._lua_createtable(L, 0, 1);
    this.lua.pushLatin1('err', L);
    this.lua.pushLatin1(errorTableText(text), L);
    this.m._lua_rawset(L, -3);
  }

  /** luaL_checkint's message for argument i of fn, raised in L. */
  checkInteger(L: number, i: number, fn: string): number {
    if (this.m._lua_isnumber(L, i) === 0) {
      this.lua.raiseWhere(`bad argument #${i} to '${fn}' (number expected, got ${this.typeName(L, i)})`, L);
    }
    return Math.trunc(this.m._lua_tonumber(L, i)) | 0;
  }

  typeName(L: number, i: number): string {
    const names = ['nil', 'boolean', 'userdata', 'number', 'string', 'table', 'function', 'userdata', 'thread'];
    const t = this.m._lua_type(L, i);
    return t < 0 ? 'no value' : names[t];
  }

  private errorReply(L: number): number {
    if (this.m._lua_gettop(L) !== 1 || this.m._lua_type(L, 1) !== LUA_TSTRING) {
      this.pushErrorTable(L, 'wrong number or type of arguments');
      return 1;
    }
    const text = this.lua.latin1At(1, L);
    this.pushErrorTable(L, text.charCodeAt(0) === 45 ? text : '-' + text);
    return 1;
  }

  private statusReply(L: number): number {
    if (this.m._lua_gettop(L) !== 1 || this.m._lua_type(L, 1) !== LUA_TSTRING) {
      this.pushErrorTable(L, 'wrong number or type of arguments');
      return 1;
    }
    this.m._lua_createtable(L, 0, 1);
    this.lua.pushLatin1('ok', L);
    this.m._lua_pushvalue(L, 1);
    this.m._lua_rawset(L, -3);
    return 1;
  }


  private sha1hex(L: number): number {
    if (this.m._lua_gettop(L) !== 1) this.lua.raiseMessage('wrong number of arguments', L);
    const bytes = this.m._lua_type(L, 1) === LUA_TSTRING || this.m._lua_type(L, 1) === LUA_TNUMBER
      ? Buffer.from(this.lua.bytesAt(1, L)) : Buffer.alloc(0);
    this.lua.pushLatin1(sha1hex(bytes), L);
    return 1;
  }

  private logCall(L: number): number {
    const argc = this.m._lua_gettop(L);
    if (argc < 2) this.lua.raiseMessage('redis.log() requires two arguments or more.', L);
    if (this.m._lua_type(L, 1) !== LUA_TNUMBER) this.lua.raiseMessage('First argument must be a number (log level).', L);
    const level = this.m._lua_tonumber(L, 1);
    if (!(level >= 0 && level <= 3) || !Number.isInteger(level)) this.lua.raiseMessage('Invalid debug level.', L);
    const parts: string[] = [];
    for (let i = 2; i <= argc; i++) {
      const t = this.m._lua_type(L, i);
      if (t === LUA_TSTRING || t === LUA_TNUMBER) parts.push(Buffer.from(this.lua.bytesAt(i, L)).toString('utf8'));
    }
    this.host.log(level, parts.join(' '));
    return 0;
  }

  private setResp(L: number): number {
    if (this.m._lua_gettop(L) !== 1) this.raiseError(L, 'redis.setresp() requires one argument.');
    const v = this.m._lua_tonumber(L, 1);
    if (v !== 2 && v !== 3) this.raiseError(L, 'RESP version must be 2 or 3.');
    this.host.setResp(v);
    return 0;
  }

  private setRepl(L: number): number {
    if (this.m._lua_gettop(L) !== 1) this.raiseError(L, 'redis.set_repl() requires one argument.');
    const flags = this.m._lua_tonumber(L, 1);
    if (!Number.isInteger(flags) || (flags & ~REPL_ALL) !== 0) {
      this.raiseError(L, 'Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.');
    }
    this.host.setReplication(flags);
    return 0;
  }

  private aclCheck(L: number): number {
    if (this.m._lua_gettop(L) < 1) this.raiseError(L, 'Please specify at least one argument for this redis lib call');
    if (this.m._lua_type(L, 1) !== LUA_TSTRING || !this.host.commandExists(Buffer.from(this.lua.bytesAt(1, L)))) {
      this.raiseError(L, 'Invalid command passed to redis.acl_check_cmd()');
    }
    this.m._lua_pushboolean(L, 1);
    return 1;
  }

  /** math.random over Redis's generator (Redis's math_random). */
  private mathRandom(L: number): number {
    const r = (this.random.next() % INT32_MAX) / INT32_MAX;
    const argc = this.m._lua_gettop(L);
    if (argc === 0) {
      this.m._lua_pushnumber(L, r);
    } else if (argc === 1) {
      const u = this.checkInteger(L, 1, 'random');
      if (u < 1) this.lua.raiseWhere("bad argument #1 to 'random' (interval is empty)", L);
      this.m._lua_pushnumber(L, Math.floor(r * u) + 1);
    } else if (argc === 2) {
      const l = this.checkInteger(L, 1, 'random');
      const u = this.checkInteger(L, 2, 'random');
      if (l > u) this.lua.raiseWhere("bad argument #2 to 'random' (interval is empty)", L);
      this.m._lua_pushnumber(L, Math.floor(r * (u - l + 1)) + l);
    } else {
      this.lua.raiseWhere('wrong number of arguments', L);
    }
    return 1;
  }
}

/** The result of compiling a body: a registry reference to the function, or the compiler's message. */
export type Compiled = { ref: number; error: null } | { ref: 0; error: string };

export class ScriptEnvironment {
  readonly lua: LuaState;
  /** Registry references: the real globals table (behind the sandbox's proxy) and the error handler. */
  private readonly realGlobals: number;
  readonly errorHandler: number;
  /** Registry reference: Lua's own string.format, which weft's (lua-format.ts) calls for the conversions it does not do itself. */
  readonly rawFormat: number;
  /** Registry reference: the sandbox's library_env, which makes a function library's environment. */
  private readonly libraryEnv: number;
  /** Registry reference: the sandbox's table of read-only proxies (proxy -> real table). */
  readonly readOnlyTables: number;
  /** Reads the replies of the commands a script calls into this state's values. */
  readonly toLua: ReplyToLua;
  /** The count hook installed (the runner sets it once, and again after a kill). */
  hookState = HookState.None;

  constructor(readonly fns: ScriptFunctions) {
    const m = fns.m;
    this.lua = new LuaState(m);
    const lua = this.lua;
    const L = lua.L;
    for (const open of [m._luaopen_base, m._luaopen_table, m._luaopen_string, m._luaopen_math, m._luaopen_debug]) {
      open(L);
      m._lua_settop(L, 0);
    }
    fns.current = this;
    m._lua_getfield(L, LUA_GLOBALSINDEX, lua.name('string'));
    m._lua_getfield(L, -1, lua.name('format'));
    this.rawFormat = m._luaL_ref(L, LUA_REGISTRYINDEX);
    m._lua_pushcclosure(L, fns.pointers.get('weft.format')!, 0);
    m._lua_setfield(L, -2, lua.name('format'));
    m._lua_settop(L, 0);
    this.library('redis');
    m._lua_getfield(L, LUA_GLOBALSINDEX, lua.name('redis'));
    for (let level = 0; level < LOG_LEVELS.length; level++) this.setNumber(LOG_LEVELS[level], level);
    this.setNumber('REPL_NONE', REPL_NONE);
    this.setNumber('REPL_AOF', REPL_AOF);
    this.setNumber('REPL_SLAVE', REPL_REPLICA);
    this.setNumber('REPL_REPLICA', REPL_REPLICA);
    this.setNumber('REPL_ALL', REPL_ALL);
    this.setNumber('REDIS_VERSION_NUM', versionNumber(REDIS_COMPAT_VERSION));
    lua.pushLatin1(REDIS_COMPAT_VERSION);
    m._lua_setfield(L, -2, lua.name('REDIS_VERSION'));
    m._lua_settop(L, 0);
    this.library('bit');
    this.library('cjson');
    this.library('cmsgpack');
    this.library('struct');
    m._lua_pushvalue(L, LUA_GLOBALSINDEX);
    this.realGlobals = m._luaL_ref(L, LUA_REGISTRYINDEX);
    // The sandbox chunk, called with weft's own functions.
    const source = Buffer.from(SANDBOX_SOURCE, 'utf8');
    if (m._luaL_loadbuffer(L, lua.stage(source, 0, source.length), source.length, lua.name(SANDBOX_CHUNK)) !== 0) {
      throw new Error(`sandbox: ${lua.latin1At(-1)}`);
    }
    m._lua_createtable(L, 0, 4);
    for (const name of ['random', 'randomseed', 'register_function', 'table_insert']) {
      m._lua_pushcclosure(L, fns.pointers.get(`weft.${name}`)!, 0);
      m._lua_setfield(L, -2, lua.name(name));
    }
    if (m._lua_pcall(L, 1, 4, 0) !== 0) throw new Error(`sandbox: ${lua.latin1At(-1)}`);
    this.readOnlyTables = m._luaL_ref(L, LUA_REGISTRYINDEX);
    this.libraryEnv = m._luaL_ref(L, LUA_REGISTRYINDEX);
    this.errorHandler = m._luaL_ref(L, LUA_REGISTRYINDEX);
    m._lua_replace(L, LUA_GLOBALSINDEX);
    m._lua_settop(L, 0);
    this.toLua = new ReplyToLua(lua);
  }

  /** Sets global `name` to a table of the registered functions `name.*`. */
  private library(name: string): void {
    const m = this.fns.m;
    const L = this.lua.L;
    m._lua_createtable(L, 0, 16);
    for (const [full, pointer] of this.fns.pointers) {
      const dot = full.indexOf('.');
      if (full.slice(0, dot) !== name) continue;
      m._lua_pushcclosure(L, pointer, 0);
      m._lua_setfield(L, -2, this.lua.name(full.slice(dot + 1)));
    }
    if (name === 'cjson') {
      // cjson.null: the NULL light userdata.
      m._lua_pushlightuserdata(L, 0);
      m._lua_setfield(L, -2, this.lua.name('null'));
    }
    m._lua_setfield(L, LUA_GLOBALSINDEX, this.lua.name(name));
  }

  private setNumber(field: string, value: number): void {
    this.fns.m._lua_pushnumber(this.lua.L, value);
    this.fns.m._lua_setfield(this.lua.L, -2, this.lua.name(field));
  }

  /**
   * Compiles a script body as Redis does (chunk "@user_script"), or a
   * function library's code (chunk "@user_function"); bytecode is refused.
   */
  compile(body: Uint8Array, library = false): Compiled {
    const m = this.fns.m;
    const L = this.lua.L;
    const chunk = library ? CHUNK_FUNCTION : CHUNK_USER;
    const prefix = library ? 'Error compiling function: ' : 'Error compiling script (new function): ';
    if (body.length > 0 && body[0] === 27) return { ref: 0, error: `${prefix}${chunk.slice(1)}: cannot load incompatible bytecode` };
    const status = m._luaL_loadbuffer(L, this.lua.stage(body, 0, body.length), body.length, this.lua.name(chunk));
    if (status !== 0) {
      const message = status === LUA_ERRSYNTAX || m._lua_type(L, -1) === LUA_TSTRING ? this.lua.latin1At(-1) : 'unknown error';
      m._lua_settop(L, 0);
      return { ref: 0, error: `${prefix}${message}` };
    }
    return { ref: m._luaL_ref(L, LUA_REGISTRYINDEX), error: null };
  }

  /**
   * Runs a compiled library chunk in an environment of its own (the
   * sandbox's library_env: the load-time API while it runs, the script
   * globals after). `loaded` is called as soon as the code has run (to stop
   * its load-time hook before the environment is switched). Returns null, or
   * the error table's text.
   */
  runLibrary(ref: number, loaded: () => void): string | null {
    const m = this.fns.m;
    const lua = this.lua;
    const L = lua.L;
    m._lua_rawgeti(L, LUA_REGISTRYINDEX, this.errorHandler);
    m._lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    m._lua_rawgeti(L, LUA_REGISTRYINDEX, this.libraryEnv);
    m._lua_call(L, 0, 2);
    // Stack: handler, chunk, env, finish.
    m._lua_pushvalue(L, -2);
    m._lua_setfenv(L, -4);
    m._lua_remove(L, -2);
    m._lua_insert(L, -3);
    // Stack: finish, handler, chunk.
    this.fns.current = this;
    const status = m._lua_pcall(L, 0, 0, -2);
    loaded();
    let error: string | null = null;
    if (status !== 0) {
      error = 'ERR unknown error';
      if (m._lua_type(L, -1) === LUA_TTABLE) {
        lua.pushLatin1('err');
        m._lua_rawget(L, -2);
        if (m._lua_type(L, -1) === LUA_TSTRING) error = lua.latin1At(-1);
        m._lua_settop(L, -2);
      }
      m._lua_settop(L, -2);
    }
    m._lua_settop(L, -2);
    m._lua_call(L, 0, 0);
    m._lua_settop(L, 0);
    return error;
  }

  /** Pushes a table of args [from, from + count) of the request (FCALL's keys and arguments). */
  pushArguments(buf: Uint8Array, starts: Int32Array, lengths: Int32Array, from: number, count: number): void {
    const m = this.fns.m;
    const L = this.lua.L;
    m._lua_createtable(L, count, 0);
    for (let i = 0; i < count; i++) {
      this.lua.pushBytes(buf, starts[from + i], lengths[from + i]);
      m._lua_rawseti(L, -2, i + 1);
    }
  }

  /** Drops a compiled function. */
  release(ref: number): void {
    this.fns.m._luaL_unref(this.lua.L, LUA_REGISTRYINDEX, ref);
  }

  /** Sets KEYS (or ARGV) in the real globals to args [from, from + count) of the request. */
  setArguments(name: string, buf: Uint8Array, starts: Int32Array, lengths: Int32Array, from: number, count: number): void {
    const m = this.fns.m;
    const lua = this.lua;
    const L = lua.L;
    m._lua_rawgeti(L, LUA_REGISTRYINDEX, this.realGlobals);
    lua.pushLatin1(name);
    this.pushArguments(buf, starts, lengths, from, count);
    m._lua_rawset(L, -3);
    m._lua_settop(L, -2);
  }

  close(): void {
    this.lua.close();
  }
}
