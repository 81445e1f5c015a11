/**
 * Runs scripts on a worker thread (Redis 7.0's eval.c and script.c): one
 * Lua environment per thread, compiled functions by SHA1, bodies in the
 * node's shared ScriptStore so that EVALSHA finds a script whichever
 * thread cached it.
 *
 * A script is atomic like EXEC: it runs with every shard of the node
 * locked (taken in ascending order, as any multi-shard command takes them,
 * so two scripts on two threads cannot deadlock), because a script without
 * a shebang may touch keys it did not declare. redis.call runs the command
 * through dispatch's call() — its propagation, keyspace events, watchers and
 * MONITOR — after Redis's script checks (scriptCall): unknown command,
 * arity, commands refused in scripts, writes from read-only scripts, OOM
 * before the first write, a read-only replica. The command's RESP reply is
 * read back into Lua values (lua-values.ts). The script's effects reach
 * replicas as one entry, MULTI/EXEC-wrapped when more than one command
 * wrote (never the EVAL itself), and redis.set_repl can keep them away.
 *
 * Functions (FCALL) run the same way from the thread's functions state
 * (function-engine.ts), their keys and arguments passed as the callback's
 * two tables. While a script runs, the node's shared busy-script state
 * (busy-script.ts) says so, and a count hook ends it when SCRIPT KILL or
 * FUNCTION KILL asks.
 *
 * The request's arguments handed to a command are the Lua strings
 * themselves: the command's buffer is the module's heap, and its argument
 * positions point at the strings on the Lua stack (numbers are formatted
 * "%.17g" into strings pushed there first), so a call copies nothing.
 */
import type { CommandContext } from '../commands/context.js';
import type { CommandSpec } from '../commands/command-spec.js';
import { commandTable, type CommandTable } from '../commands/command-table.js';
import { call, type DispatchHooks } from '../commands/dispatch.js';
import { keyPositions } from '../commands/introspection.js';
import { keyHashSlot } from '../store/key-hash.js';
import { MASTERDOWN, OOM } from '../commands/errors.js';
import { formatScore } from '../commands/zset-scores.js';
import { log, type LogLevel } from '../server/log.js';
import {
  LUA_MASKCOUNT, LUA_MASKLINE, LUA_REGISTRYINDEX, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, type LuaModule,
} from './lua-engine.js';
import { writeLuaValue } from './lua-values.js';
import { FunctionEngine } from './function-engine.js';
import type { FunctionStore } from './function-store.js';
import { HookState, REPL_ALL, REPL_REPLICA, ScriptEnvironment, ScriptFunctions, type ScriptHost } from './script-environment.js';
import { registerBitLibrary } from './lua-bit.js';
import { registerCjsonLibrary } from './lua-cjson.js';
import { registerCmsgpackLibrary } from './lua-cmsgpack.js';
import { registerStructLibrary } from './lua-struct.js';
import { sha1hex, type ScriptStore } from './script-store.js';
import { parseShebang, ScriptFlag } from './script-flags.js';
import { KILLED, ScriptKind, type BusyScript } from './busy-script.js';

const NO_ARGUMENTS = 'Please specify at least one argument for this redis lib call';
const BAD_ARGUMENT = 'Lua redis lib command arguments must be strings or integers';
const UNKNOWN_COMMAND = 'Unknown Redis command called from script';
const WRONG_ARITY = 'Wrong number of args calling Redis command from script';
const NOT_ALLOWED = 'This Redis command is not allowed from script';
const READ_ONLY_SCRIPT = 'Write commands are not allowed from read-only scripts.';
const NO_CLUSTER = "Can not run script on cluster, 'no-cluster' flag is set.";
const STALE_REPLICA = 'Can not execute the command on a stale replica';
const WRITE_FLAG_FROM_RO = 'Can not execute a script with write flag using *_ro command.';
const CLUSTER_DOWN_READONLY = '-CLUSTERDOWN The cluster is down and only accepts read commands';
const CLUSTER_DOWN = '-CLUSTERDOWN The cluster is down';
const SCRIPT_CLUSTER_DOWN_READONLY = 'Script attempted to execute a write command while the cluster is down and readonly';
const SCRIPT_CLUSTER_DOWN = 'Script attempted to execute a command while the cluster is down';
const SCRIPT_NON_LOCAL_KEY = 'Script attempted to access a non local key in a cluster node';
const SCRIPT_CROSS_SLOT = 'Script attempted to access keys that do not hash to the same slot';
/** Redis's count hook period (LUA_MASKCOUNT every 100000 instructions). */
const HOOK_INSTRUCTIONS = 100000;
/** Argument positions of a command's keys (keyPositions' output, reused). */
const keyIndexes: number[] = [];
const LOG_LEVELS: LogLevel[] = ['debug', 'verbose', 'notice', 'warning'];
const SHA_LENGTH = 40;

/** A script to run: its function in the environment, the name errors give it, its flags (script-flags.ts). */
export interface LoadedScript {
  ref: number;
  name: string;
  flags: number;
}

export class ScriptRunner implements ScriptHost {
  private readonly fns: ScriptFunctions;
  private env: ScriptEnvironment;
  /** The environment whose script runs now (the eval one, or the functions one). */
  private active: ScriptEnvironment;
  /** Function libraries (FUNCTION, FCALL). */
  readonly functions: FunctionEngine;
  /** The count hook every running script has: it stops one that SCRIPT KILL or FUNCTION KILL asked to. */
  private readonly killHook: number;
  /** Compiled scripts of this thread's environment, by lowercase SHA1. */
  private readonly compiled = new Map<string, LoadedScript>();
  // The run in progress.
  private c: CommandContext | null = null;
  private resp = 2;
  private replication = REPL_ALL;
  private readOnly = false;
  private flags = 0;
  /** The slot of the script's keys in cluster mode (declared, or the first one touched), -1 before one is known. */
  private slot = -1;
  private wrote = false;
  private dirty = 0;
  private argStart = new Int32Array(16);
  private argLen = new Int32Array(16);

  constructor(readonly m: LuaModule, readonly store: ScriptStore, functionStore: FunctionStore, private readonly busy: BusyScript,
    private readonly table: CommandTable = commandTable()) {
    this.fns = new ScriptFunctions(m, this);
    registerBitLibrary(this.fns);
    registerCjsonLibrary(this.fns);
    registerCmsgpackLibrary(this.fns);
    registerStructLibrary(this.fns);
    this.killHook = m.addFunction((L: number) => this.checkKill(L), 'vii');
    this.functions = new FunctionEngine(this.fns, functionStore);
    this.env = new ScriptEnvironment(this.fns);
    this.active = this.env;
  }

  /** Bytes of Lua memory in this thread's environment (INFO's used_memory_lua). */
  get luaMemory(): number {
    return this.env.lua.memoryBytes();
  }

  /** The compiled script of sha (any case), compiling a body another thread cached; null when unknown (NOSCRIPT). */
  find(shaArg: string): LoadedScript | null {
    if (shaArg.length !== SHA_LENGTH) return null;
    this.checkFlushed();
    const sha = shaArg.toLowerCase();
    const known = this.compiled.get(sha);
    if (known !== undefined) return known;
    const stored = this.store.find(sha);
    if (stored === undefined) return null;
    const script = this.compile(this.store.body(stored), sha);
    return typeof script === 'string' ? null : script;
  }

  /** EVAL and SCRIPT LOAD: compiles a body (once per thread) and caches it node-wide; the error text if it does not compile. */
  load(body: Uint8Array, sha = sha1hex(body)): LoadedScript | string {
    this.checkFlushed();
    const known = this.compiled.get(sha);
    if (known !== undefined) return known;
    const script = this.compile(body, sha);
    if (typeof script !== 'string') this.store.add(sha, body);
    return script;
  }

  /** Reads the shebang and compiles the Lua after it (its line feed kept, so line numbers stay the user's). */
  private compile(body: Uint8Array, sha: string): LoadedScript | string {
    const shebang = parseShebang(body);
    if (typeof shebang === 'string') return shebang;
    const result = this.env.compile(body.subarray(shebang.sourceStart));
    if (result.error !== null) return result.error;
    const script = { ref: result.ref, name: sha, flags: shebang.flags };
    this.compiled.set(sha, script);
    return script;
  }

  /** SCRIPT FLUSH: empties the node's cache; every thread starts a fresh environment when it next looks. */
  flush(): void {
    this.store.flush();
    this.checkFlushed();
  }

  private checkFlushed(): void {
    if (!this.store.flushedSinceLastLook()) return;
    this.compiled.clear();
    this.env.close();
    this.env = new ScriptEnvironment(this.fns);
    this.active = this.env;
  }

  /**
   * Runs a loaded script for the EVAL-family command in c (keys from
   * argument 3, numkeys of them, then the arguments) and writes its reply.
   */
  run(c: CommandContext, script: LoadedScript, numkeys: number, readOnly: boolean): void {
    this.execute(c, script, numkeys, readOnly, this.env, false);
  }

  /** FCALL and FCALL_RO: runs the named function (false when there is none: "Function not found"). */
  runFunction(c: CommandContext, name: string, numkeys: number, readOnly: boolean): boolean {
    const f = this.functions.find(name);
    if (f === undefined) return false;
    this.execute(c, f, numkeys, readOnly, this.functions.current(), true);
    return true;
  }

  /**
   * Runs a script or function: a script finds its keys and arguments in the
   * KEYS and ARGV globals, a function gets them as its two arguments.
   */
  private execute(c: CommandContext, script: LoadedScript, numkeys: number, readOnly: boolean, env: ScriptEnvironment,
    asFunction: boolean): void {
    const refused = this.refuseToRun(c, script, readOnly);
    if (refused !== null) {
      c.out.error(refused);
      return;
    }
    const lua = env.lua;
    const m = this.m;
    const L = lua.L;
    c.lockAllShards();
    this.slot = numkeys > 0 && c.server.cluster !== null ? keyHashSlot(c.buf, c.argStart[3], c.argLen[3]) : -1;
    this.flags = script.flags;
    if (!asFunction) {
      env.setArguments('KEYS', c.buf, c.argStart, c.argLen, 3, numkeys);
      env.setArguments('ARGV', c.buf, c.argStart, c.argLen, 3 + numkeys, c.argc - 3 - numkeys);
    }
    m._lua_rawgeti(L, LUA_REGISTRYINDEX, env.errorHandler);
    m._lua_rawgeti(L, LUA_REGISTRYINDEX, script.ref);
    if (asFunction) {
      env.pushArguments(c.buf, c.argStart, c.argLen, 3, numkeys);
      env.pushArguments(c.buf, c.argStart, c.argLen, 3 + numkeys, c.argc - 3 - numkeys);
    }
    const saved = { buf: c.buf, argc: c.argc, argStart: c.argStart, argLen: c.argLen, spec: c.spec };
    const outer = c.inTransaction;
    const writes = c.hooks.writes;
    this.c = c;
    this.active = env;
    this.fns.current = env;
    this.resp = 2;
    this.replication = REPL_ALL;
    this.readOnly = readOnly || (script.flags & ScriptFlag.NoWrites) !== 0;
    this.wrote = false;
    this.dirty = 0;
    if (!outer) writes?.beginTransaction();
    c.inTransaction = true;
    if (env.hookState !== HookState.Counting) {
      m._lua_sethook(L, this.killHook, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
      env.hookState = HookState.Counting;
    }
    this.busy.begin(asFunction ? ScriptKind.Function : ScriptKind.Eval, c.buf, c.argStart, c.argLen, c.argc);
    let status: number;
    try {
      status = m._lua_pcall(L, asFunction ? 2 : 0, 1, asFunction ? -4 : -2);
    } finally {
      this.busy.end();
      c.inTransaction = outer;
      c.buf = saved.buf;
      c.argc = saved.argc;
      c.argStart = saved.argStart;
      c.argLen = saved.argLen;
      c.spec = saved.spec;
      c.suppressPropagation = false;
      c.dirty = this.dirty;
      c.out.resp = c.client.resp;
      this.c = null;
      if (!outer) writes?.endTransaction(c);
    }
    if (status === 0) writeLuaValue(lua, c.out, this.resp);
    else this.replyError(c, script.name, env);
    m._lua_settop(L, 0);
  }

  /**
   * scriptPrepareForRun's refusals of a script with a shebang (compatibility
   * scripts are checked command by command): no-cluster in cluster mode, a
   * write script from an _RO command, on a read-only replica, or over
   * maxmemory without allow-oom.
   */
  private refuseToRun(c: CommandContext, script: LoadedScript, readOnlyCommand: boolean): string | null {
    const flags = script.flags;
    const fromMaster = c.client.fromMaster === true;
    // A stale replica (replica-serve-stale-data no, link down) runs only allow-stale scripts, never a compatibility one.
    const stale = !fromMaster && (c.hooks.masterDown?.() ?? false);
    if ((flags & ScriptFlag.EvalCompat) !== 0) return stale ? MASTERDOWN : null;
    if ((flags & ScriptFlag.NoCluster) !== 0 && c.server.cluster !== null) return NO_CLUSTER;
    if ((flags & ScriptFlag.NoWrites) === 0 && !fromMaster) {
      // processCommand sees a write command in a script with write flags: READONLY first, as it orders them.
      const refused = c.hooks.writes?.refusal() ?? null;
      if (refused !== null) return refused;
    }
    if (stale && (flags & ScriptFlag.AllowStale) === 0) return MASTERDOWN;
    if ((flags & ScriptFlag.NoWrites) !== 0) return null;
    if (readOnlyCommand) return WRITE_FLAG_FROM_RO;
    if (fromMaster) return null;
    if ((flags & ScriptFlag.AllowOom) === 0 && !c.hooks.ensureMemory(c)) return OOM;
    return null;
  }

  /** The reply of a script that raised an error (luaCallFunction's error path). */
  private replyError(c: CommandContext, name: string, env: ScriptEnvironment): void {
    const m = this.m;
    const lua = env.lua;
    const L = lua.L;
    if (m._lua_type(L, -1) !== LUA_TTABLE) {
      const text = m._lua_type(L, -1) === LUA_TSTRING ? lua.latin1At(-1).slice(0, 100) : 'execution failure';
      c.out.error(`Error running script ${name}, ${text}`);
      return;
    }
    const field = (key: string): string | null => {
      lua.pushLatin1(key);
      m._lua_rawget(L, -2);
      const t = m._lua_type(L, -1);
      const value = t === LUA_TSTRING || t === LUA_TNUMBER ? lua.latin1At(-1) : null;
      m._lua_settop(L, -2);
      return value;
    };
    const err = field('err');
    const source = field('source');
    const line = field('line');
    let text = '-' + (err ?? 'ERR unknown error');
    if (source !== null && line !== null) text += ` script: ${name}, on ${source}:${line}.`;
    c.out.error(text);
  }

  // ---- ScriptHost: what the redis.* functions ask ----

  call(L: number, raise: boolean): number {
    const lua = this.active.lua;
    const saved = lua.L;
    lua.L = L;
    try {
      return this.callCommand(L, raise);
    } catch (err) {
      // A Lua error unwinding (the module's longjmp) goes on; a JS failure becomes a script error.
      if (typeof err === 'number') throw err;
      return this.fail(L, raise, `internal error: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      lua.L = saved;
    }
  }

  /** An error of the script layer: returned as an error table by redis.pcall, raised by redis.call. */
  private fail(L: number, raise: boolean, text: string): number {
    this.fns.pushErrorTable(L, text);
    if (raise) this.active.lua.raise(L);
    return 1;
  }

  private callCommand(L: number, raise: boolean): number {
    const m = this.m;
    const lua = this.active.lua;
    const c = this.c;
    if (c === null) return this.fail(L, raise, NOT_ALLOWED);
    const argc = m._lua_gettop(L);
    if (argc === 0) return this.fail(L, raise, NO_ARGUMENTS);
    if (this.argStart.length < argc) {
      this.argStart = new Int32Array(argc * 2);
      this.argLen = new Int32Array(argc * 2);
    }
    for (let i = 1; i <= argc; i++) {
      const t = m._lua_type(L, i);
      if (t === LUA_TNUMBER) {
        // Redis formats numbers "%.17g" (3 -> "3", 0.1 -> "0.10000000000000001"); the string replaces the number.
        lua.pushLatin1(formatScore(m._lua_tonumber(L, i)));
        m._lua_replace(L, i);
      } else if (t !== LUA_TSTRING) {
        return this.fail(L, raise, BAD_ARGUMENT);
      }
      this.argLen[i - 1] = lua.lengthAt(i, L);
      this.argStart[i - 1] = lua.pointer;
    }
    const heap = m.HEAPU8;
    const spec = this.resolve(heap, argc);
    if (typeof spec === 'string') return this.fail(L, raise, spec);
    c.buf = heap;
    c.argc = argc;
    c.argStart = this.argStart;
    c.argLen = this.argLen;
    c.spec = spec;
    const refused = this.refusal(c, spec);
    if (refused !== null) return this.fail(L, raise, refused);
    c.dirty = 0;
    c.suppressPropagation = (this.replication & REPL_REPLICA) === 0;
    const out = c.out;
    const mark = out.mark();
    out.resp = this.resp;
    const result = call(c, spec, c.hooks, mark);
    if (result !== undefined) {
      // A command that waits on other threads cannot answer inside a script.
      result.catch(() => undefined);
      out.rollback(mark);
      return this.fail(L, raise, NOT_ALLOWED);
    }
    this.dirty += c.dirty;
    if (c.dirty > 0 && spec.isWrite && !this.wrote) {
      this.wrote = true;
      this.busy.wrote();
    }
    const at = out.markOffset(mark);
    const reply = out.buf;
    if (reply[at] === 45) {
      let end = at;
      while (reply[end] !== 13) end++;
      const text = Buffer.from(reply.buffer, reply.byteOffset + at, end - at).toString('latin1');
      out.rollback(mark);
      return this.fail(L, raise, text);
    }
    this.active.toLua.push(reply, at);
    out.rollback(mark);
    return 1;
  }

  /** The command the arguments name, or the script error (scriptCall's lookup and arity check). */
  private resolve(heap: Uint8Array, argc: number): CommandSpec | string {
    let spec = this.table.top.find(heap, this.argStart[0], this.argLen[0]);
    if (spec === undefined) return UNKNOWN_COMMAND;
    if (spec.subcommands && argc >= 2) {
      const sub = this.table.subcommand(spec, heap, this.argStart[1], this.argLen[1]);
      if (sub === undefined) return UNKNOWN_COMMAND;
      spec = sub;
    }
    if ((spec.arity > 0 && spec.arity !== argc) || argc < -spec.arity) return WRONG_ARITY;
    return spec;
  }

  /** scriptCall's refusals before running a command: the error text, or null. */
  private refusal(c: CommandContext, spec: CommandSpec): string | null {
    if (spec.flags.includes('noscript')) return NOT_ALLOWED;
    // scriptVerifyAllowStale: on a stale replica (only allow-stale scripts run there) no command runs.
    if (!c.client.fromMaster && (c.hooks.masterDown?.() ?? false)) return STALE_REPLICA;
    const mayWrite = spec.isWrite || spec.flags.includes('may_replicate');
    if (this.readOnly && mayWrite) return READ_ONLY_SCRIPT;
    if (spec.isWrite && !c.client.fromMaster) {
      const refused = c.hooks.writes?.refusal() ?? null;
      if (refused !== null) return refused;
    }
    // Redis checks memory until the script's first write: a script that began writing is let finish.
    if (spec.denyOom && !this.wrote && (this.flags & (ScriptFlag.AllowOom | ScriptFlag.NoWrites)) === 0 && !c.hooks.ensureMemory(c)) {
      return OOM;
    }
    if (c.hooks.route !== undefined && !c.client.fromMaster) return this.clusterRefusal(c, spec, c.hooks.route);
    return null;
  }

  /**
   * scriptVerifyClusterState: the command's keys must be served here (the
   * cluster routing of any command, its redirection turned into Redis's
   * script error), and, unless the script allows cross-slot keys (as a
   * compatibility script does), in the slot of its other keys.
   */
  private clusterRefusal(c: CommandContext, spec: CommandSpec, route: NonNullable<DispatchHooks['route']>): string | null {
    const out = c.out;
    const mark = out.mark();
    if (!route(c, spec, false, null)) {
      const at = out.markOffset(mark);
      const text = Buffer.from(out.buf.buffer, out.buf.byteOffset + at, Math.min(out.len - at, 80)).toString('latin1');
      out.rollback(mark);
      if (text.startsWith(CLUSTER_DOWN_READONLY)) return SCRIPT_CLUSTER_DOWN_READONLY;
      if (text.startsWith(CLUSTER_DOWN)) return SCRIPT_CLUSTER_DOWN;
      return SCRIPT_NON_LOCAL_KEY;
    }
    if ((this.flags & (ScriptFlag.AllowCrossSlot | ScriptFlag.EvalCompat)) !== 0) return null;
    const n = keyPositions(c, spec, keyIndexes);
    if (n === 0) return null;
    const slot = keyHashSlot(c.buf, c.argStart[keyIndexes[0]], c.argLen[keyIndexes[0]]);
    if (this.slot < 0) this.slot = slot;
    else if (this.slot !== slot) return SCRIPT_CROSS_SLOT;
    return null;
  }

  /**
   * The count hook (every HOOK_INSTRUCTIONS instructions): once a kill is
   * asked, it raises Redis's error, and from then on at every line too, so
   * that a pcall in the script cannot swallow it.
   */
  private checkKill(L: number): number {
    if (!this.busy.killRequested) return 0;
    this.m._lua_sethook(L, this.killHook, LUA_MASKCOUNT | LUA_MASKLINE, 1);
    this.active.hookState = HookState.Killing;
    return this.fns.raiseError(L, KILLED);
  }

  setResp(version: number): void {
    this.resp = version;
  }

  setReplication(flags: number): void {
    this.replication = flags;
  }

  log(level: number, message: string): void {
    log(LOG_LEVELS[level], message);
  }

  registerFunction(L: number): number {
    return this.functions.register(L);
  }

  commandExists(name: Uint8Array): boolean {
    return this.table.top.find(name, 0, name.length) !== undefined;
  }
}
