/**
 * Function libraries on a worker thread (Redis 7.0's functions.c and
 * function_lua.c): the libraries of the node's FunctionStore loaded into a
 * Lua state of this thread's own, reloaded whenever the store's generation
 * moves, and the FUNCTION LOAD / DELETE / FLUSH changes made under the
 * store's lock.
 *
 * A library is `#!lua name=<lib>` then Lua code that registers its
 * functions with redis.register_function(name, callback) or
 * redis.register_function{function_name=, callback=, flags=, description=}
 * while it loads, in an environment holding only the load API (the sandbox's
 * library_env). Function names are global to the node, looked up
 * case-insensitively by FCALL; each keeps its flags (the shebang flags of
 * scripts) and description for FUNCTION LIST.
 */
import { LUA_MASKCOUNT, LUA_MASKLINE, LUA_REGISTRYINDEX, LUA_TFUNCTION, LUA_TNIL, LUA_TSTRING, LUA_TTABLE } from './lua-engine.js';
import { HookState, ScriptEnvironment, type ScriptFunctions } from './script-environment.js';
import { flagByName } from './script-flags.js';
import type { FunctionStore } from './function-store.js';

export interface RegisteredFunction {
  name: string;
  /** Registry reference to the callback, in the thread's functions state. */
  ref: number;
  flags: number;
  description: string | null;
}

export interface Library {
  name: string;
  code: Buffer;
  functions: RegisteredFunction[];
}

const NAME_PATTERN = /^[A-Za-z0-9_]+$/;
const BAD_NAME = 'Library names can only contain letters, numbers, or underscores(_) and must be at least one character long';
const LF = 10;
/** Redis stops a library's loading code after this long (LOAD_TIMEOUT_MS)... */
const LOAD_TIMEOUT_MS = 500;
/** ...checked every so many instructions. */
const LOAD_HOOK_INSTRUCTIONS = 100000;
const LOAD_TIMEOUT = 'FUNCTION LOAD timeout';

/** A library's metadata line (functionExtractLibMetaData): its name and where its Lua starts, or the error. */
export function libraryMetadata(code: Uint8Array): { name: string; sourceStart: number } | string {
  if (code.length < 2 || code[0] !== 35 || code[1] !== 33) return 'Missing library metadata';
  const end = code.indexOf(LF);
  if (end < 0) return 'Invalid metadata value given: ';
  const parts = Buffer.from(code.buffer, code.byteOffset, end).toString('latin1').split(' ').filter((p) => p !== '');
  const engine = parts[0].slice(2);
  let name: string | null = null;
  for (const part of parts.slice(1)) {
    if (!part.startsWith('name=')) return `Invalid metadata value given: ${part}`;
    if (name !== null) return 'Invalid metadata value, name argument was given multiple times';
    name = part.slice(5);
  }
  if (engine.toLowerCase() !== 'lua') return `Engine '${engine}' not found`;
  if (name === null) return 'Library name was not given';
  if (!NAME_PATTERN.test(name)) return BAD_NAME;
  return { name, sourceStart: end };
}

function nameOf(code: Uint8Array): string | null {
  const meta = libraryMetadata(code);
  return typeof meta === 'string' ? null : meta.name;
}

export class FunctionEngine {
  private env: ScriptEnvironment | null = null;
  private generation = -1;
  libraries: Library[] = [];
  private readonly byName = new Map<string, RegisteredFunction>();
  /** The functions of the library loading now (register_function adds to it), or null outside FUNCTION LOAD. */
  private registering: RegisteredFunction[] | null = null;

  /** The count hook that ends a library's loading code past LOAD_TIMEOUT_MS, and when it does. */
  private readonly loadHook: number;
  private loadDeadline = 0;

  constructor(private readonly fns: ScriptFunctions, private readonly store: FunctionStore) {
    this.loadHook = fns.m.addFunction((L: number) => this.checkLoadTime(L), 'vii');
  }

  /** luaEngineLoadHook: past the deadline, raises at every line (pcall cannot swallow it). */
  private checkLoadTime(L: number): number {
    if (performance.now() < this.loadDeadline) return 0;
    this.fns.m._lua_sethook(L, this.loadHook, LUA_MASKLINE, 0);
    return this.fns.raiseError(L, LOAD_TIMEOUT);
  }

  /** The thread's functions state, current with the store. */
  current(): ScriptEnvironment {
    if (this.env === null || this.generation !== this.store.generation) this.reload(this.store.codes(), this.store.generation);
    return this.env!;
  }

  find(name: string): RegisteredFunction | undefined {
    this.current();
    return this.byName.get(name.toLowerCase());
  }

  private reload(codes: Buffer[], generation: number): void {
    this.env?.close();
    this.env = new ScriptEnvironment(this.fns);
    this.libraries = [];
    this.byName.clear();
    for (const code of codes) {
      const library = this.loadInto(this.env, code);
      if (typeof library !== 'string') this.adopt(library);
    }
    this.generation = generation;
  }

  private adopt(library: Library): void {
    this.libraries.push(library);
    for (const f of library.functions) this.byName.set(f.name.toLowerCase(), f);
  }

  /** Compiles and runs a library's code in env; the library, or Redis's error text. */
  private loadInto(env: ScriptEnvironment, code: Buffer): Library | string {
    const meta = libraryMetadata(code);
    if (typeof meta === 'string') return meta;
    const compiled = env.compile(code.subarray(meta.sourceStart), true);
    if (compiled.error !== null) return compiled.error;
    this.registering = [];
    const m = this.fns.m;
    this.loadDeadline = performance.now() + LOAD_TIMEOUT_MS;
    m._lua_sethook(env.lua.L, this.loadHook, LUA_MASKCOUNT, LOAD_HOOK_INSTRUCTIONS);
    const stopHook = () => m._lua_sethook(env.lua.L, 0, 0, 0);
    let error: string | null;
    try {
      error = env.runLibrary(compiled.ref, stopHook);
    } finally {
      stopHook();
      // The runner installs its kill hook again before the next call.
      env.hookState = HookState.None;
      env.release(compiled.ref);
    }
    const functions = this.registering;
    this.registering = null;
    if (error !== null) {
      for (const f of functions) env.release(f.ref);
      return `Error registering functions: ${error}`;
    }
    if (functions.length === 0) return 'No functions registered';
    return { name: meta.name, code, functions };
  }

  /** FUNCTION LOAD [REPLACE]: the library's name, or the error text. */
  load(code: Buffer, replace: boolean): { name: string } | { error: string } {
    return this.store.update<{ name: string } | { error: string }>((codes) => {
      const env = this.current();
      const meta = libraryMetadata(code);
      if (typeof meta === 'string') return { codes: null, result: { error: meta } };
      const existing = codes.findIndex((c) => nameOf(c) === meta.name);
      if (existing >= 0 && !replace) return { codes: null, result: { error: `Library '${meta.name}' already exists` } };
      const library = this.loadInto(env, code);
      if (typeof library === 'string') return { codes: null, result: { error: library } };
      for (const f of library.functions) {
        const owner = this.byName.get(f.name.toLowerCase());
        const replaced = this.libraries.find((l) => l.name === meta.name);
        if (owner !== undefined && !(replace && replaced?.functions.includes(owner))) {
          for (const g of library.functions) env.release(g.ref);
          return { codes: null, result: { error: `Function ${f.name} already exists` } };
        }
      }
      // The change goes to the store; this thread reloads like every other one.
      for (const g of library.functions) env.release(g.ref);
      const next = codes.slice();
      if (existing >= 0) next.splice(existing, 1);
      next.push(code);
      return { codes: next, result: { name: meta.name } };
    });
  }

  /** FUNCTION DELETE: false when there is no such library. */
  delete(name: string): boolean {
    return this.store.update((codes) => {
      const i = codes.findIndex((c) => nameOf(c) === name);
      if (i < 0) return { codes: null, result: false };
      const next = codes.slice();
      next.splice(i, 1);
      return { codes: next, result: true };
    });
  }

  flush(): void {
    this.store.update(() => ({ codes: [], result: undefined }));
  }

  /**
   * FUNCTION RESTORE: the libraries of a payload added to these (APPEND: a
   * library that exists is an error; REPLACE: it is replaced) or in their
   * place (FLUSH). All or nothing: the whole resulting set must load, with
   * no function name twice. Null, or the error text.
   */
  restore(restored: Buffer[], policy: 'flush' | 'append' | 'replace'): string | null {
    return this.store.update<string | null>((codes) => {
      let next = policy === 'flush' ? [] : codes.slice();
      for (const code of restored) {
        const meta = libraryMetadata(code);
        if (typeof meta === 'string') return { codes: null, result: meta };
        const existing = next.findIndex((c) => nameOf(c) === meta.name);
        if (existing >= 0) {
          if (policy === 'append') return { codes: null, result: `Library ${meta.name} already exists` };
          next = next.filter((_, i) => i !== existing);
        }
        next.push(code);
      }
      const error = this.validate(next);
      return error === null ? { codes: next, result: null } : { codes: null, result: error };
    });
  }

  /** Whether a set of libraries loads, with every function name once: null, or the first error. */
  private validate(codes: Buffer[]): string | null {
    const scratch = new ScriptEnvironment(this.fns);
    const names = new Set<string>();
    try {
      for (const code of codes) {
        const library = this.loadInto(scratch, code);
        if (typeof library === 'string') return library;
        for (const f of library.functions) {
          if (names.has(f.name.toLowerCase())) return `Function ${f.name} already exists`;
          names.add(f.name.toLowerCase());
        }
      }
      return null;
    } finally {
      scratch.close();
    }
  }

  /** A replica's full synchronisation: the master's libraries replace these, as they are. */
  replaceAll(codes: Buffer[]): void {
    this.store.update(() => ({ codes, result: undefined }));
  }

  /** FUNCTION DUMP's and RESTORE's view: every library's code, in load order. */
  codes(): Buffer[] {
    return this.store.codes();
  }

  /** redis.register_function (function_lua.c's luaRegisterFunction). */
  register(L: number): number {
    const fns = this.fns;
    const m = fns.m;
    const lua = fns.lua;
    const fail = (text: string): never => fns.raiseError(L, text);
    if (this.registering === null) fail('redis.register_function can only be called on FUNCTION LOAD command');
    const argc = m._lua_gettop(L);
    let name: string | null = null;
    let callback = false;
    let flags = 0;
    let description: string | null = null;
    if (argc === 1) {
      if (m._lua_type(L, 1) !== LUA_TTABLE) {
        fail('calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).');
      }
      // Index 2 holds the callback once found, as in the two-argument form.
      m._lua_settop(L, 2);
      m._lua_pushnil(L);
      while (m._lua_next(L, 1) !== 0) {
        const key = m._lua_type(L, -2) === LUA_TSTRING ? lua.latin1At(-2, L) : '';
        if (key === 'function_name') {
          if (m._lua_isstring(L, -1) === 0) fail('function_name argument given to redis.register_function must be a string');
          name = lua.latin1At(-1, L);
        } else if (key === 'description') {
          if (m._lua_isstring(L, -1) === 0) fail('description argument given to redis.register_function must be a string');
          description = lua.latin1At(-1, L);
        } else if (key === 'callback') {
          if (m._lua_type(L, -1) !== LUA_TFUNCTION) fail('callback argument given to redis.register_function must be a function');
          m._lua_pushvalue(L, -1);
          m._lua_replace(L, 2);
          callback = true;
        } else if (key === 'flags') {
          flags = this.readFlags(L);
        } else {
          fail('unknown argument given to redis.register_function');
        }
        m._lua_settop(L, -2);
      }
      if (name === null) fail('redis.register_function must get a function name argument');
      if (!callback) fail('redis.register_function must get a callback argument');
    } else if (argc === 2) {
      if (m._lua_isstring(L, 1) === 0) fail('first argument to redis.register_function must be a string');
      if (m._lua_type(L, 2) !== LUA_TFUNCTION) fail('second argument to redis.register_function must be a function');
      name = lua.latin1At(1, L);
    } else {
      fail('wrong number of arguments to redis.register_function');
    }
    if (!NAME_PATTERN.test(name!)) fail(BAD_NAME);
    if (this.registering!.some((f) => f.name === name)) fail('Function already exists in the library');
    // The callback is at index 2 (put there from the table form too).
    m._lua_pushvalue(L, 2);
    const ref = m._luaL_ref(L, LUA_REGISTRYINDEX);
    this.registering!.push({ name: name!, ref, flags, description });
    return 0;
  }

  /** The flags table of the named-arguments form. */
  private readFlags(L: number): number {
    const fns = this.fns;
    const m = fns.m;
    if (m._lua_type(L, -1) !== LUA_TTABLE) fns.raiseError(L, 'flags argument to redis.register_function must be a table representing function flags');
    let flags = 0;
    for (let i = 1; ; i++) {
      m._lua_rawgeti(L, -1, i);
      if (m._lua_type(L, -1) === LUA_TNIL) {
        m._lua_settop(L, -2);
        return flags;
      }
      const flag = m._lua_type(L, -1) === LUA_TSTRING ? flagByName(fns.lua.latin1At(-1, L)) : undefined;
      if (flag === undefined) fns.raiseError(L, 'unknown flag given');
      flags |= flag!;
      m._lua_settop(L, -2);
    }
  }
}
