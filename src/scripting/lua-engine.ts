/**
 * Real Lua 5.1 (the interpreter Redis embeds), compiled to WebAssembly by the
 * `wasmoon-lua5.1` package, driven through its raw C API only: the
 * `_lua_*` exports, `_malloc`, the module's heap and `addFunction`. The
 * package's high-level API decodes strings as UTF-8 and stops at NUL bytes;
 * Redis values are bytes, so every string crosses here as (pointer, length)
 * through `lua_pushlstring` and `lua_tolstring`.
 *
 * One module instance per worker thread (loaded once, ~6 ms), one state per
 * script environment. A JS function registered as a C function may raise a
 * Lua error (`raise`): the module's longjmp is a JS exception that unwinds
 * back to the `lua_pcall` that protects it, as in C.
 */
import { LuaApi } from 'wasmoon-lua5.1';

/** The raw exports used (pointers and states are wasm32 addresses). */
export interface LuaModule {
  HEAPU8: Uint8Array;
  HEAPU32: Uint32Array;
  HEAP32: Int32Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  addFunction(fn: (...args: number[]) => number | void, signature: string): number;
  _luaL_newstate(): number;
  _lua_close(L: number): void;
  _luaopen_base(L: number): number;
  _luaopen_table(L: number): number;
  _luaopen_string(L: number): number;
  _luaopen_math(L: number): number;
  _luaopen_debug(L: number): number;
  _luaL_loadbuffer(L: number, buf: number, size: number, name: number): number;
  _lua_pcall(L: number, nargs: number, nresults: number, errfunc: number): number;
  _lua_call(L: number, nargs: number, nresults: number): void;
  _lua_setfenv(L: number, idx: number): number;
  _lua_error(L: number): number;
  _lua_gettop(L: number): number;
  _lua_settop(L: number, idx: number): void;
  _lua_pushvalue(L: number, idx: number): void;
  _lua_remove(L: number, idx: number): void;
  _lua_insert(L: number, idx: number): void;
  _lua_replace(L: number, idx: number): void;
  _lua_concat(L: number, n: number): void;
  _luaL_where(L: number, level: number): void;
  _lua_pushlightuserdata(L: number, p: number): void;
  _lua_touserdata(L: number, idx: number): number;
  _lua_type(L: number, idx: number): number;
  _lua_checkstack(L: number, n: number): number;
  _lua_pushnil(L: number): void;
  _lua_pushnumber(L: number, n: number): void;
  _lua_pushinteger(L: number, n: number): void;
  _lua_pushboolean(L: number, b: number): void;
  _lua_pushlstring(L: number, s: number, len: number): void;
  _lua_pushcclosure(L: number, fn: number, n: number): void;
  _lua_tolstring(L: number, idx: number, len: number): number;
  _lua_tonumber(L: number, idx: number): number;
  _lua_isnumber(L: number, idx: number): number;
  _lua_isstring(L: number, idx: number): number;
  _lua_toboolean(L: number, idx: number): number;
  _lua_objlen(L: number, idx: number): number;
  _lua_createtable(L: number, narr: number, nrec: number): void;
  _lua_rawget(L: number, idx: number): void;
  _lua_rawgeti(L: number, idx: number, n: number): void;
  _lua_rawset(L: number, idx: number): void;
  _lua_rawseti(L: number, idx: number, n: number): void;
  _lua_setfield(L: number, idx: number, k: number): void;
  _lua_getfield(L: number, idx: number, k: number): void;
  _lua_next(L: number, idx: number): number;
  _lua_setmetatable(L: number, idx: number): number;
  _lua_sethook(L: number, fn: number, mask: number, count: number): void;
  _lua_gc(L: number, what: number, data: number): number;
  _luaL_ref(L: number, t: number): number;
  _luaL_unref(L: number, t: number, ref: number): void;
}

export const LUA_REGISTRYINDEX = -10000;
export const LUA_GLOBALSINDEX = -10002;
export const LUA_TNIL = 0;
export const LUA_TBOOLEAN = 1;
export const LUA_TNUMBER = 3;
export const LUA_TSTRING = 4;
export const LUA_TTABLE = 5;
export const LUA_TFUNCTION = 6;
/** luaL_loadbuffer's status for a syntax error. */
export const LUA_ERRSYNTAX = 3;
export const LUA_MASKLINE = 4;
export const LUA_MASKCOUNT = 8;
/** lua_gc: LUA_GCCOUNT (KB in use) and LUA_GCCOUNTB (the remainder in bytes). */
export const LUA_GCCOUNT = 3;
export const LUA_GCCOUNTB = 4;

let loading: Promise<LuaModule> | null = null;

/**
 * Loads this thread's Lua module once; later calls get the same one.
 *
 * The package's build has Emscripten's assertions on: each `_lua_*` export
 * of its module object is a wrapper that checks the runtime and spreads its
 * arguments (about 4 ns a call, and a script call makes dozens). The
 * instance's own exports are captured while the module instantiates, and
 * the module handed out calls them directly; its heap views stay the
 * module's (they are replaced when the memory grows).
 */
export function loadLuaModule(): Promise<LuaModule> {
  loading ??= (async () => {
    const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyInstantiate }).WebAssembly;
    const instantiate = wasm.instantiate;
    let exports: Record<string, unknown> | null = null;
    wasm.instantiate = async function (this: unknown, ...args: unknown[]) {
      const result = await instantiate.apply(this, args) as { instance?: { exports: Record<string, unknown> }; exports?: Record<string, unknown> };
      exports = result.instance?.exports ?? result.exports ?? null;
      return result;
    };
    let api: LuaApi;
    try {
      api = await LuaApi.initialize();
    } finally {
      wasm.instantiate = instantiate;
    }
    return withDirectExports(api.module as unknown as LuaModule, exports);
  })();
  return loading;
}

/** The one WebAssembly function the loader wraps for a moment. */
interface WebAssemblyInstantiate {
  instantiate: (...args: unknown[]) => Promise<unknown>;
}

/** The module with its `_name` functions replaced by the instance's `name` exports, where there are. */
function withDirectExports(module: LuaModule, exports: Record<string, unknown> | null): LuaModule {
  if (exports === null) return module;
  const direct = Object.create(module) as Record<string, unknown>;
  for (const key of Object.keys(module)) {
    if (!key.startsWith('_lua') && key !== '_malloc' && key !== '_free') continue;
    const raw = exports[key.slice(1)];
    if (typeof raw === 'function') direct[key] = raw;
  }
  return direct as unknown as LuaModule;
}

/** Room for one value pushed or read: grown as needed, never shrunk below this. */
const INITIAL_SCRATCH = 64 << 10;

/**
 * A Lua state with byte-exact string transfer. Strings pushed are copied
 * into a scratch area of the module's heap first; strings read are views of
 * the heap valid until the state runs again (`bytesAt`) or copies.
 */
export class LuaState {
  /** The thread being served: the main one, or the coroutine a C function was called from. */
  L: number;
  private scratch: number;
  private scratchSize = INITIAL_SCRATCH;
  /** Four bytes for lua_tolstring's length out-parameter. */
  private readonly lengthOut: number;
  private readonly names = new Map<string, number>();
  /** The start and length of the string read by the last lengthAt/bytesAt. */
  pointer = 0;

  constructor(readonly m: LuaModule) {
    this.L = m._luaL_newstate();
    this.scratch = m._malloc(INITIAL_SCRATCH);
    this.lengthOut = m._malloc(8);
  }

  /** A NUL-terminated copy of an ASCII name, kept for the state's life (field and chunk names). */
  name(text: string): number {
    let p = this.names.get(text);
    if (p === undefined) {
      p = this.m._malloc(text.length + 1);
      const heap = this.m.HEAPU8;
      for (let i = 0; i < text.length; i++) heap[p + i] = text.charCodeAt(i);
      heap[p + text.length] = 0;
      this.names.set(text, p);
    }
    return p;
  }

  /** Grows the scratch area to hold `length` bytes. */
  private reserve(length: number): void {
    if (length <= this.scratchSize) return;
    this.m._free(this.scratch);
    this.scratchSize = Math.max(length, this.scratchSize * 2);
    this.scratch = this.m._malloc(this.scratchSize);
  }

  /** Copies bytes into the scratch area; returns its address. */
  stage(src: Uint8Array, start: number, length: number): number {
    this.reserve(length);
    this.m.HEAPU8.set(src.subarray(start, start + length), this.scratch);
    return this.scratch;
  }

  pushBytes(src: Uint8Array, start = 0, length = src.length - start): void {
    this.m._lua_pushlstring(this.L, this.stage(src, start, length), length);
  }

  /** Pushes a string as latin1 bytes (ASCII texts, error messages holding request bytes). */
  pushLatin1(text: string, L = this.L): void {
    const n = text.length;
    this.reserve(n);
    const heap = this.m.HEAPU8;
    const p = this.scratch;
    for (let i = 0; i < n; i++) heap[p + i] = text.charCodeAt(i);
    this.m._lua_pushlstring(L, p, n);
  }

  /** The length of the string (or number, converted in place) at idx; `pointer` is where its bytes are. */
  lengthAt(idx: number, L = this.L): number {
    this.pointer = this.m._lua_tolstring(L, idx, this.lengthOut);
    return this.m.HEAPU32[this.lengthOut >>> 2];
  }

  /** A view of the string at idx in the module's heap (valid until Lua runs again or the heap grows). */
  bytesAt(idx: number, L = this.L): Uint8Array {
    const n = this.lengthAt(idx, L);
    return this.m.HEAPU8.subarray(this.pointer, this.pointer + n);
  }

  /** The string at idx as latin1 text (one character per byte). */
  latin1At(idx: number, L = this.L): string {
    const b = this.bytesAt(idx, L);
    return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
  }

  /** Raises a Lua error with the value at the top of the stack; never returns. */
  raise(L = this.L): never {
    this.m._lua_error(L);
    throw new Error('lua_error returned');
  }

  /** Raises a Lua error whose value is the string message (lua_error: no position). */
  raiseMessage(message: string, L = this.L): never {
    this.pushLatin1(message, L);
    return this.raise(L);
  }

  /** luaL_error: the message prefixed with the calling Lua line ("user_script:1: "). */
  raiseWhere(message: string, L = this.L): never {
    this.m._luaL_where(L, 1);
    this.pushLatin1(message, L);
    this.m._lua_concat(L, 2);
    return this.raise(L);
  }

  /** KB and bytes the state's heap holds (collectgarbage('count')). */
  memoryBytes(): number {
    return this.m._lua_gc(this.L, LUA_GCCOUNT, 0) * 1024 + this.m._lua_gc(this.L, LUA_GCCOUNTB, 0);
  }

  /** Closes the state and frees what it staged. */
  close(): void {
    this.m._lua_close(this.L);
    this.m._free(this.scratch);
    this.m._free(this.lengthOut);
    for (const p of this.names.values()) this.m._free(p);
    this.names.clear();
  }
}
