/**
 * MULTI, EXEC, DISCARD, WATCH and UNWATCH (Redis 7.0's multi.c).
 *
 * processCommand (dispatch.ts) queues every command a client in MULTI sends,
 * except EXEC, DISCARD, MULTI, WATCH, QUIT and RESET, once it has passed the
 * admission checks; a refused one flags the transaction, and EXEC then
 * answers EXECABORT. EXEC runs the queue through call(), as Redis's
 * execCommand does, with every shard the transaction may touch locked for
 * the whole run, taken in ascending order: no client on any thread sees a
 * part of it. Errors a command finds itself (WRONGTYPE, a bad option) are
 * elements of EXEC's reply; nothing is rolled back. Blocking commands do not
 * block (CLIENT_DENY_BLOCKING). The writes reach replicas as one entry of the
 * write stream, wrapped in MULTI/EXEC when there are two or more.
 *
 * A queued command that must wait on other threads (CLIENT LIST, CONFIG
 * SET...) still starts under the locks, in its turn; its reply, and those of
 * the commands after it, are kept and written in order once it is answered.
 */
import type { CommandContext } from './context.js';
import { defineCommand, keyArg, type CommandSpec, type ReplyFunction } from './command-spec.js';
import { keyPositions } from './introspection.js';
import { keyHashSlot } from '../store/key-hash.js';
import { call } from './dispatch.js';
import { unwatchAllKeys, watchedKeysDirty, watchKeys } from './watched-keys.js';

const group = 'transactions';
const categories = ['transaction'];

const EXEC_WITHOUT_MULTI = 'EXEC without MULTI';
const PREVIOUS_ERRORS = '-EXECABORT Transaction discarded because of previous errors.';

/** A spec's keys cannot be told from its arguments (SORT's BY and GET patterns). */
function hasUnknownKeys(spec: CommandSpec): boolean {
  for (const k of spec.keySpecs) if (k.findUnknown === true) return true;
  return false;
}

const INITIAL_QUEUE_BYTES = 256;
/** Queue buffers and position arrays up to these sizes are reused by the next MULTI. */
const KEPT_QUEUE_BYTES = 64 << 10;
const KEPT_POSITIONS = 4096;
/** Finished transactions kept per thread for reuse: a MULTI then allocates nothing. */
const SPARE_STATES = 64;
const spareStates: MultiState[] = [];

function release(state: MultiState): void {
  if (spareStates.length >= SPARE_STATES) return;
  state.reset();
  spareStates.push(state);
}

/**
 * A client's transaction between MULTI and EXEC (Redis's multiState). The
 * queued arguments are copied into one growing buffer, their positions into
 * one growing array (per command: argc, the starts, the lengths), so that
 * queueing costs no allocation per command.
 */
export class MultiState {
  /** The queued commands, in order. */
  readonly specs: CommandSpec[] = [];
  /** Where each command's positions begin in `positions`. */
  private readonly entries: number[] = [];
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_QUEUE_BYTES);
  /** Bytes of the queued arguments (CLIENT LIST multi-mem). */
  bytes = 0;
  private positions = new Int32Array(64);
  private positionsUsed = 0;
  /** A queued command was refused (CLIENT_DIRTY_EXEC): EXEC answers EXECABORT. */
  aborted = false;
  /** The queued commands' flags, as processCommand reads them for EXEC (mstate.cmd_flags). */
  isWrite = false;
  denyOom = false;
  /** Shards of the queued commands' keys (bit i: shard i). */
  shardMask = 0;
  /** A queued command may touch keys its arguments do not name (FLUSHALL, KEYS, SORT BY...): every shard is locked. */
  lockAll = false;
  /** A queued command runs a script: EXEC waits for the thread's Lua engine and locks every shard. */
  runsScript = false;

  get count(): number {
    return this.specs.length;
  }

  /** Empty again, for the next MULTI (a queue buffer grown large is let go). */
  reset(): void {
    this.specs.length = 0;
    this.entries.length = 0;
    if (this.buf.length > KEPT_QUEUE_BYTES) this.buf = Buffer.allocUnsafe(INITIAL_QUEUE_BYTES);
    if (this.positions.length > KEPT_POSITIONS) this.positions = new Int32Array(64);
    this.bytes = 0;
    this.positionsUsed = 0;
    this.aborted = false;
    this.isWrite = false;
    this.denyOom = false;
    this.shardMask = 0;
    this.lockAll = false;
    this.runsScript = false;
  }

  /** Copies the context's current command in. */
  push(c: CommandContext, spec: CommandSpec): void {
    const argc = c.argc;
    let bytes = 0;
    for (let i = 0; i < argc; i++) bytes += c.argLen[i];
    if (this.bytes + bytes > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.bytes + bytes));
      this.buf.copy(grown, 0, 0, this.bytes);
      this.buf = grown;
    }
    if (this.positionsUsed + 1 + argc * 2 > this.positions.length) {
      const grown = new Int32Array(Math.max(this.positions.length * 2, this.positionsUsed + 1 + argc * 2));
      grown.set(this.positions.subarray(0, this.positionsUsed));
      this.positions = grown;
    }
    const p = this.positions;
    const base = this.positionsUsed;
    p[base] = argc;
    const buf = this.buf;
    let at = this.bytes;
    for (let i = 0; i < argc; i++) {
      const len = c.argLen[i];
      const from = c.argStart[i];
      for (let k = 0; k < len; k++) buf[at + k] = c.buf[from + k];
      p[base + 1 + i] = at;
      p[base + 1 + argc + i] = len;
      at += len;
    }
    this.bytes = at;
    this.positionsUsed = base + 1 + argc * 2;
    this.entries.push(base);
    this.specs.push(spec);
  }

  /** Points the context at queued command i; its positions go to `into` (grown as needed, returned). */
  load(c: CommandContext, i: number, into: QueuePositions): void {
    const base = this.entries[i];
    const p = this.positions;
    const argc = p[base];
    if (into.argStart.length < argc) {
      into.argStart = new Int32Array(argc * 2);
      into.argLen = new Int32Array(argc * 2);
    }
    for (let k = 0; k < argc; k++) {
      into.argStart[k] = p[base + 1 + k];
      into.argLen[k] = p[base + 1 + argc + k];
    }
    c.buf = this.buf;
    c.argc = argc;
    c.argStart = into.argStart;
    c.argLen = into.argLen;
    c.spec = this.specs[i];
  }
}

/** Argument positions a queued command is loaded into (never the parser's own arrays, which hold the rest of a read). */
export interface QueuePositions {
  argStart: Int32Array;
  argLen: Int32Array;
}

export function queuePositions(): QueuePositions {
  return { argStart: new Int32Array(16), argLen: new Int32Array(16) };
}

/** Commands processCommand runs at once inside MULTI instead of queueing them. */
const RUN_IN_MULTI = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

export function runsInMulti(spec: CommandSpec): boolean {
  return RUN_IN_MULTI.has(spec.name);
}

function touchesWholeKeyspace(spec: CommandSpec): boolean {
  return spec.isWrite || spec.flags.includes('readonly') || spec.flags.includes('admin') || spec.categories.includes('keyspace');
}

/** queueMultiCommand: copies the current command into the client's transaction. */
export function queueCommand(c: CommandContext, spec: CommandSpec, multi: MultiState): void {
  multi.push(c, spec);
  if (spec.isWrite) multi.isWrite = true;
  if (spec.denyOom) multi.denyOom = true;
  if (spec.runsScript) {
    multi.runsScript = true;
    multi.lockAll = true;
  }
  if (!multi.lockAll) multi.shardMask |= keyShards(c, spec, multi);
}

/** The shards of the command's keys (the legacy triple, or the key finder); sets lockAll when its keys cannot be told. */
function keyShards(c: CommandContext, spec: CommandSpec, multi: MultiState): number {
  const n = hasUnknownKeys(spec) ? 0 : keyPositions(c, spec, positions);
  if (n === 0) {
    if (hasUnknownKeys(spec) || touchesWholeKeyspace(spec)) multi.lockAll = true;
    return 0;
  }
  let mask = 0;
  for (let k = 0; k < n; k++) {
    const i = positions[k];
    mask |= 1 << (keyHashSlot(c.buf, c.argStart[i], c.argLen[i]) & c.ks.shardMask);
  }
  return mask;
}

const positions: number[] = [];

/** discardTransaction: leaves MULTI and ends every watch. */
export function discardTransaction(c: CommandContext): void {
  const state = c.client.multi ?? null;
  c.client.multi = null;
  if (state !== null) release(state);
  c.client.asking = false;
  unwatchAllKeys(c.ks, c.client, c.server.watches, c.lockedShards);
}

function multi(c: CommandContext): void {
  if (c.client.multi != null) {
    c.out.error('MULTI calls can not be nested');
    return;
  }
  c.client.multi = spareStates.pop() ?? new MultiState();
  c.out.ok();
}

function discard(c: CommandContext): void {
  if (c.client.multi == null) {
    c.out.error('DISCARD without MULTI');
    return;
  }
  discardTransaction(c);
  c.out.ok();
}

function watch(c: CommandContext): void {
  if (c.client.multi != null) {
    c.out.error('WATCH inside MULTI is not allowed');
    return;
  }
  c.lockKeyRange(1, c.argc - 1, 1);
  if (watchKeys(c, c.server.watches)) c.out.ok();
}

function unwatch(c: CommandContext): void {
  unwatchAllKeys(c.ks, c.client, c.server.watches, c.lockedShards);
  c.out.ok();
}

function exec(c: CommandContext): void | Promise<ReplyFunction> {
  const client = c.client;
  const state = client.multi ?? null;
  if (state === null) {
    c.out.error(EXEC_WITHOUT_MULTI);
    return;
  }
  if (state.aborted) {
    discardTransaction(c);
    c.out.error(PREVIOUS_ERRORS);
    return;
  }
  const watches = client.watch ?? null;
  if (state.lockAll) c.lockAllShards();
  else c.lockMask(state.shardMask | (watches?.shardMask ?? 0));
  if (watchedKeysDirty(c, c.server.watches)) {
    discardTransaction(c);
    c.out.nullArray();
    return;
  }
  // execCommand unwatches before running the queue: the transaction's own writes do not dirty it.
  // The client stays in MULTI while the queue runs (CLIENT LIST shows flag x).
  unwatchAllKeys(c.ks, client, c.server.watches, c.lockedShards);
  let result: void | Promise<ReplyFunction>;
  try {
    result = runQueue(c, state);
  } finally {
    client.multi = null;
    // resetClient after EXEC: an ASKING kept through MULTI ends here.
    client.asking = false;
  }
  // A queue some of whose commands are still answering keeps its buffer until it is collected.
  if (result === undefined) release(state);
  return result;
}

/** Where EXEC loads each queued command's argument positions (the thread's one EXEC runs synchronously). */
const loaded = queuePositions();

function runQueue(c: CommandContext, queue: MultiState): void | Promise<ReplyFunction> {
  const savedBuf = c.buf;
  const savedArgc = c.argc;
  const savedArgStart = c.argStart;
  const savedArgLen = c.argLen;
  const savedSpec = c.spec;
  const writes = c.hooks.writes;
  writes?.beginTransaction();
  c.inTransaction = true;
  c.out.arrayHeader(queue.count);
  // From the first command answered later on, every reply is kept to be written in order.
  let later: (Uint8Array | Promise<ReplyFunction>)[] | null = null;
  let dirty = 0;
  try {
    for (let i = 0; i < queue.count; i++) {
      queue.load(c, i, loaded);
      c.dirty = 0;
      const mark = c.out.mark();
      const result = call(c, queue.specs[i], c.hooks, mark);
      dirty += c.dirty;
      if (result !== undefined) (later ??= []).push(result);
      else if (later !== null) later.push(c.out.cut(mark));
    }
  } finally {
    c.inTransaction = false;
    c.buf = savedBuf;
    c.argc = savedArgc;
    c.argStart = savedArgStart;
    c.argLen = savedArgLen;
    c.spec = savedSpec;
    c.dirty = dirty;
    writes?.endTransaction(c);
  }
  if (later === null) return;
  const parts = later;
  return Promise.all(parts.map((p) => (p instanceof Promise ? p.catch((err: unknown) => failedReply(err)) : p))).then(
    (done) => (ctx: CommandContext) => {
      for (const part of done) {
        if (part instanceof Uint8Array) ctx.out.raw(part);
        else part(ctx);
      }
    });
}

function failedReply(err: unknown): ReplyFunction {
  const message = err instanceof Error ? err.message : String(err);
  return (c) => c.out.error(`internal error: ${message}`);
}

export const transactionCommands: CommandSpec[] = [
  defineCommand({ name: 'multi', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], categories, group,
    since: '1.2.0', summary: 'Mark the start of a transaction block', complexity: 'O(1)', handler: multi }),
  defineCommand({ name: 'exec', arity: 1, flags: ['noscript', 'loading', 'stale', 'skip_slowlog'], categories, group,
    since: '1.2.0', summary: 'Execute all commands issued after MULTI', complexity: 'Depends on commands in the transaction',
    handler: exec }),
  defineCommand({ name: 'discard', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], categories, group,
    since: '2.0.0', summary: 'Discard all commands issued after MULTI', complexity: 'O(N), when N is the number of queued commands',
    handler: discard }),
  defineCommand({ name: 'watch', arity: -2, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], keys: [1, -1, 1],
    keyFlags: ['RO'], categories, group, since: '2.2.0',
    summary: 'Watch the given keys to determine execution of the MULTI/EXEC block', complexity: 'O(1) for every key.',
    arguments: [keyArg('key', 0, { multiple: true })], handler: watch }),
  defineCommand({ name: 'unwatch', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], categories, group,
    since: '2.2.0', summary: 'Forget about all watched keys', complexity: 'O(1)', handler: unwatch }),
];
