/**
 * Runs one parsed command in Redis's two steps. processCommand admits it:
 * table lookup, arity, authentication, cluster routing, maxmemory, the
 * read-only replica, the RESP2 subscribed context, MASTERDOWN, MONITOR and
 * the client pause, in the order Redis applies them, then queues it when its
 * client is in MULTI. call() executes it: the handler, then the propagation
 * of its effect, the watchers of the keys it modified, client-side caching
 * (the keys a tracking client read, the invalidation of those changed) and
 * MONITOR. EXEC
 * (transactions.ts) and the replica's stream applier run commands through
 * the same call(). Locks taken through the context are always released; a
 * handler that throws answers an error to its client and the node keeps
 * serving.
 */
import type { CommandContext } from './context.js';
import type { CommandSpec, ReplyFunction } from './command-spec.js';
import { commandTable, type CommandTable } from './command-table.js';
import { MASTERDOWN, NOAUTH, OOM, unknownSubcommand, wrongArity } from './errors.js';
import { subscribedModeAllows, subscribedModeError } from './pubsub.js';
import { discardTransaction, queueCommand, runsInMulti, type MultiState } from './transactions.js';
import { signalModifiedKeys } from './watched-keys.js';
import { modifiedKeyArgs } from './modified-keys.js';
import { fireDeclaredEvents, fireRecordedEvents } from './keyspace-events.js';
import { ReplyMode } from './client-state.js';
import { StoreFullError } from '../store/shard.js';
import { beginInterruptibleWaits, endInterruptibleWaits } from '../store/shard-arena.js';
import { BusyScriptError } from '../scripting/busy-script.js';

/** processCommand's refusal of keyspace commands from a replica-flagged client (a MONITOR). */
const MONITOR_KEYSPACE = "Replica can't interact with the keyspace";
/** processCommand's refusal of a CMD_NO_MULTI command inside MULTI. */
const NOT_IN_MULTI = 'Command not allowed inside a transaction';

export interface DispatchHooks {
  /** Frees memory before a denyoom command; returns false if still over maxmemory. */
  ensureMemory(c: CommandContext): boolean;
  /**
   * Cluster redirection (set only in cluster mode): false when the command
   * was answered with MOVED, ASK, CROSSSLOT, TRYAGAIN or CLUSTERDOWN.
   */
  route?: (c: CommandContext, spec: CommandSpec, asking: boolean, queue: MultiState | null) => boolean;
  /** A handler threw: log it. */
  onHandlerError(spec: CommandSpec, err: unknown): void;
  /** Replication's part in write commands. */
  writes?: WriteHooks;
  /** A replica whose link to its master is down, with replica-serve-stale-data no. */
  masterDown?: () => boolean;
  /** Serves clients blocked on keys the command created (c.readyKeys), under its locks. */
  serveBlocked?: (c: CommandContext) => void;
  /** Serves the waiters left for a lock another thread held (c.deferredServes), after the command's locks are released. */
  serveDeferred?: (c: CommandContext) => void;
  /** CLIENT PAUSE: what a command it covers waits on before running from scratch, or null. */
  clientPause?: (c: CommandContext, spec: CommandSpec, isWrite: boolean) => Promise<void> | null;
  /** MONITOR: shows a command that ran (call()'s replicationFeedMonitors). */
  feedMonitors?: (c: CommandContext, spec: CommandSpec) => void;
  /** The BUSY reply while a script on another thread runs past busy-reply-threshold, or null. */
  busyScript?: () => string | null;
}

/**
 * What replication adds around a write command: Redis's processCommand
 * refuses writes on a read-only replica and holds them while clients are
 * paused; call() then propagates the command's effect.
 */
export interface WriteHooks {
  /** The error a client's write gets here (a read-only replica), or null. */
  refusal(): string | null;
  /** Client writes are paused (a manual failover): resolves when they may go on; null when not paused. */
  paused(): Promise<void> | null;
  /** Whether the write stream is wanted (a replica or the backlog). */
  readonly propagating: boolean;
  /** This node is a replica: it forwards its master's stream, never its own clients' commands. */
  readonly replica: boolean;
  /**
   * Before a write that may lock several shards (see ReplicationLog's
   * snapshot gate): null once entered, or a promise to wait on (without
   * blocking the thread) before trying the command again.
   */
  enterMultiShard(): Promise<void> | null;
  leaveMultiShard(): void;
  /** Appends the command's effect to the stream; called with its shard locks still held. */
  propagate(c: CommandContext): void;
  /** EXEC: the effects that follow are kept, then written as one entry by endTransaction (MULTI/EXEC around two or more). */
  beginTransaction(): void;
  endTransaction(c: CommandContext): void;
}

function argPreview(c: CommandContext, i: number, max: number): string {
  const len = Math.min(c.argLen[i], max);
  return Buffer.from(c.buf.buffer, c.buf.byteOffset + c.argStart[i], len).toString('latin1');
}

function unknownCommand(c: CommandContext): void {
  let args = '';
  for (let i = 1; i < c.argc && args.length < 128; i++) args += `'${argPreview(c, i, 128 - args.length)}' `;
  c.out.error(`unknown command '${argPreview(c, 0, 128)}', with args beginning with: ${args}`);
}

/** Resolves the command (and subcommand) of the request, replying an error if there is none. */
export function resolveCommand(c: CommandContext, table: CommandTable = commandTable()): CommandSpec | undefined {
  let spec = c.resolvedName ?? table.top.find(c.buf, c.argStart[0], c.argLen[0]);
  c.resolvedName = undefined;
  if (spec === undefined) {
    unknownCommand(c);
    return undefined;
  }
  if (spec.subcommands && c.argc >= 2) {
    const sub = table.subcommand(spec, c.buf, c.argStart[1], c.argLen[1]);
    if (sub === undefined) {
      c.out.error(unknownSubcommand(argPreview(c, 1, 128), spec.name));
      return undefined;
    }
    spec = sub;
  }
  if ((spec.arity > 0 && spec.arity !== c.argc) || c.argc < -spec.arity) {
    c.out.error(wrongArity(spec.fullName ?? spec.name));
    return undefined;
  }
  return spec;
}

/** Stands for the command of a request that named none (c.spec, for what follows a tracking client's command). */
const NO_COMMAND = { name: '' } as CommandSpec;

/**
 * processCommand: admits the command, queues it inside MULTI, or calls it;
 * returns a promise only for handlers that wait on other threads.
 */
export function processCommand(c: CommandContext, hooks: DispatchHooks, table: CommandTable = commandTable()): void | Promise<void> {
  // A lock wait may give up while a script on another thread runs past busy-reply-threshold; never one
  // of the master's stream, which a replica must apply whole (it waits for the script to end).
  const interruptible = c.client.fromMaster !== true;
  if (interruptible) beginInterruptibleWaits();
  const mark = c.out.mark();
  try {
    if (c.client.tracking == null) return admit(c, hooks, table, mark);
    c.spec = NO_COMMAND;
    const result = admit(c, hooks, table, mark);
    if (result === undefined) afterTrackedCommand(c);
    return result;
  } catch (err) {
    // Given up outside a handler (routing, eviction, serving blocked clients): answered BUSY.
    if (!(err instanceof BusyScriptError)) throw err;
    if (c.lockedShards !== 0) c.unlockAll();
    c.readyKeys = null;
    c.out.rollback(mark);
    c.out.error(err.reply);
  } finally {
    if (interruptible) endInterruptibleWaits();
  }
}

/**
 * After a tracking client's command (answered): the invalidations it caused
 * itself go out behind its reply, and CLIENT CACHING's one-shot flag ends
 * unless the command was another CLIENT subcommand or the client is inside
 * MULTI (resetClient).
 */
function afterTrackedCommand(c: CommandContext): void {
  c.server.tracking.afterCommand(c);
  const t = c.client.tracking;
  if (t != null && t.caching && c.client.multi == null && c.spec.parent?.name !== 'client') t.caching = false;
}

function admit(c: CommandContext, hooks: DispatchHooks, table: CommandTable, replyMark: number): void | Promise<void> {
  const client = c.client;
  const multi = client.multi ?? null;
  // ASKING lasts for the one command after it (resetClient), or until EXEC inside MULTI.
  const asking = client.asking;
  if (multi === null) client.asking = false;
  const spec = resolveCommand(c, table);
  if (spec === undefined) return reject(c, null, null, replyMark);
  c.spec = spec;
  if (asking && spec.name === 'multi') client.asking = true;
  // EXEC is admitted with its queue's flags (processCommand's is_write_command, is_denyoom_command).
  const exec = multi !== null && spec.name === 'exec' ? multi : null;
  const queueing = multi !== null && exec === null && !runsInMulti(spec);
  if (!client.authenticated && !spec.noAuth) return reject(c, spec, NOAUTH, replyMark);
  if (multi !== null && spec.flags.includes('no_multi')) return reject(c, spec, NOT_IN_MULTI, replyMark);
  if (hooks.route !== undefined && !hooks.route(c, spec, asking, exec)) {
    // The redirection is the reply; an EXEC redirected is discarded, not aborted.
    if (exec !== null) {
      discardTransaction(c);
      return reject(c, null, null, replyMark);
    }
    return reject(c, spec, null, replyMark);
  }
  const isWrite = spec.isWrite || (exec?.isWrite ?? false);
  const writes = isWrite ? hooks.writes : undefined;
  // A script may write to every shard: it goes through the snapshot gate and the write pause as a write does.
  const scripted = spec.runsScript || (exec?.runsScript ?? false);
  if (scripted && c.server.scripting.runner === null) {
    return processAfterPause(c, hooks, table, c.server.scripting.start(), asking);
  }
  const refused = refusal(c, spec, hooks, writes, queueing || (exec?.denyOom ?? false));
  if (refused !== null) return reject(c, spec, refused, replyMark);
  // processCommand's pause check, after the refusals above: replicas and the master's stream are never paused.
  if (hooks.clientPause !== undefined && !client.fromMaster && !client.isReplica) {
    const hold = hooks.clientPause(c, spec, isWrite);
    if (hold !== null) return processAfterPause(c, hooks, table, hold, asking);
  }
  if (queueing) {
    queueCommand(c, spec, multi);
    c.out.simple('QUEUED');
    return finishReply(c, replyMark);
  }
  // Set when this command went through the snapshot gate and must leave it: a client's write that may
  // lock several shards while the stream is wanted. In cluster mode a keyed command stays in one slot,
  // so one shard: only keyless ones (FLUSHALL...) span shards. The master's stream applied on a
  // replica never waits there.
  let gate: WriteHooks | null = null;
  const gated = writes ?? (scripted ? hooks.writes : undefined);
  if (gated !== undefined && !client.fromMaster) {
    const pause = gated.paused();
    if (pause !== null) return processAfterPause(c, hooks, table, pause, asking);
    const spans = scripted ? c.ks.shards.length > 1
      : exec !== null ? transactionSpansShards(c, exec) : spec.spansShards && (c.server.cluster === null || spec.firstKey === 0);
    if (spans && gated.propagating) {
      const wait = gated.enterMultiShard();
      if (wait !== null) return processAfterPause(c, hooks, table, wait, asking);
      gate = gated;
    }
  }
  const result = call(c, spec, hooks, replyMark);
  // Redis's handleClientsBlockedOnKeys after call(): the waiters are served before anything else runs.
  try {
    if (c.readyKeys !== null) hooks.serveBlocked?.(c);
  } finally {
    c.readyKeys = null;
    if (c.lockedShards !== 0) c.unlockAll();
  }
  try {
    if (c.deferredServes !== null) hooks.serveDeferred?.(c);
  } finally {
    gate?.leaveMultiShard();
  }
  if (result instanceof Promise) return answerLater(c, spec, hooks, result);
  return finishReply(c, replyMark);
}

/**
 * processCommand's refusals between routing and the pause, in its order:
 * OOM (`denyOom`: also a queued command, or an EXEC whose queue holds a
 * deny-oom one), a read-only replica, the RESP2 subscribed context,
 * MASTERDOWN, a MONITOR touching keys. The error, or null.
 */
function refusal(c: CommandContext, spec: CommandSpec, hooks: DispatchHooks, writes: WriteHooks | undefined,
  denyOom: boolean): string | null {
  const client = c.client;
  // Inside MULTI any queued command is refused over maxmemory: the queue itself takes memory.
  if ((spec.denyOom || denyOom) && !hooks.ensureMemory(c)) return OOM;
  if (writes !== undefined && !client.fromMaster) {
    const refused = writes.refusal();
    if (refused !== null) return refused;
  }
  // Before MASTERDOWN: the RESP2 subscribed context allows only the pub/sub commands, PING, QUIT and RESET.
  if (client.resp === 2 && client.pubsubCount !== undefined && client.pubsubCount > 0 && !subscribedModeAllows(spec)) {
    return subscribedModeError(spec);
  }
  // With replica-serve-stale-data no, only commands flagged stale run while a replica's link to its master is down.
  if (hooks.masterDown !== undefined && !client.fromMaster && hooks.masterDown() && !spec.flags.includes('stale')) return MASTERDOWN;
  // processCommand's isInsideYieldingLongCommand: only allow_busy commands while a script is timed out.
  const busy = hooks.busyScript?.() ?? null;
  if (busy !== null && !spec.flags.includes('allow_busy')) return busy;
  // A MONITOR client is a replica to Redis: it may not read or write keys.
  if (client.monitor === true && (spec.isWrite || spec.flags.includes('readonly') || spec.flags.includes('may_replicate'))) {
    return MONITOR_KEYSPACE;
  }
  return null;
}

/** Whether an EXEC locks several shards: the snapshot gate applies to it as to any multi-shard write. */
function transactionSpansShards(c: CommandContext, multi: MultiState): boolean {
  if (multi.lockAll) return c.ks.shards.length > 1;
  const mask = multi.shardMask | (c.client.watch?.shardMask ?? 0);
  return (mask & (mask - 1)) !== 0;
}

/**
 * call(): runs the handler, then propagates what it changed, touches the
 * watchers of the keys it modified and shows it to MONITOR. Its locks stay
 * held: the caller (processCommand, EXEC) releases them. A handler that
 * throws has its error answered here.
 */
export function call(c: CommandContext, spec: CommandSpec, hooks: DispatchHooks, replyMark: number): void | Promise<ReplyFunction> {
  const client = c.client;
  c.server.stats.commands++;
  client.lastCommand = spec.fullName ?? spec.name;
  c.propagateAs = null;
  c.modifiedKeys = null;
  c.keyEvents = null;
  let result: void | Promise<ReplyFunction>;
  try {
    result = spec.handler!(c);
  } catch (err) {
    handlerFailed(c, spec, hooks, err, replyMark);
    return;
  }
  // trackingRememberKeys: what a tracking client reads (BCAST clients follow prefixes instead).
  const tracking = client.tracking;
  if (tracking != null && !tracking.bcast && spec.flags.includes('readonly')) c.server.tracking.remember(c, spec);
  if (c.dirty > 0) {
    // forceCommandPropagation (PUBLISH): not a write, still sent to replicas, except by a replica's own clients.
    const stream = spec.isWrite ? hooks.writes
      : spec.forcePropagation === true && (client.fromMaster || hooks.writes?.replica === false) ? hooks.writes : undefined;
    if (stream !== undefined && stream.propagating && !c.suppressPropagation) stream.propagate(c);
    if (spec.isWrite) {
      const watching = c.server.watches.any;
      const notifying = c.server.keyspaceEvents !== 0;
      const invalidating = c.server.tracking.active;
      if (watching || notifying || invalidating) {
        const keys = modifiedKeyArgs(c, spec);
        if (watching) signalModifiedKeys(c, keys, c.server.watches);
        if (invalidating) c.server.tracking.invalidateArguments(c, keys);
        if (notifying && c.keyEvents === null) fireDeclaredEvents(c, spec, keys);
      }
    }
  }
  if (c.keyEvents !== null) fireRecordedEvents(c);
  hooks.feedMonitors?.(c, spec);
  return result;
}

/** A handler that waited on other threads has its answer: the connection is made current again to write it. */
function answerLater(c: CommandContext, spec: CommandSpec, hooks: DispatchHooks, result: Promise<ReplyFunction>): Promise<void> {
  const client = c.client;
  return result.then(
    (reply) => {
      c.client = client;
      c.spec = spec;
      c.out.resp = client.resp;
      const mark = c.out.mark();
      try {
        reply(c);
        finishReply(c, mark);
      } catch (err) {
        handlerFailed(c, spec, hooks, err, mark);
      }
      if (client.tracking != null) afterTrackedCommand(c);
      client.flush?.();
    },
    (err) => {
      c.client = client;
      c.out.resp = client.resp;
      handlerFailed(c, spec, hooks, err, c.out.mark());
      client.flush?.();
    },
  );
}

/**
 * rejectCommand: the error (null when already written) is the reply, and a
 * transaction being queued is flagged for EXECABORT; EXEC itself refused
 * discards its transaction and answers EXECABORT with the reason.
 */
function reject(c: CommandContext, spec: CommandSpec | null, error: string | null, replyMark: number): void {
  c.server.stats.rejectedCalls++;
  if (spec !== null && spec.name === 'exec') {
    discardTransaction(c);
    c.out.error(`-EXECABORT Transaction discarded because of: ${error!.charCodeAt(0) === 45 ? error!.slice(1) : error!}`);
  } else {
    if (error !== null) c.out.error(error);
    const multi = c.client.multi ?? null;
    if (multi !== null) multi.aborted = true;
  }
  finishReply(c, replyMark);
}

/** Runs a write held by a client pause (or the snapshot gate) once it ends, as Redis unblocks paused clients. */
function processAfterPause(c: CommandContext, hooks: DispatchHooks, table: CommandTable, pause: Promise<void>, asking: boolean): Promise<void> {
  const { client, argc } = c;
  // The request is copied: its bytes may lie in the worker's receive buffer, which the next read
  // overwrites, and the connection rebases its parser's arrays when it keeps the bytes after it.
  const first = c.argStart[0];
  const buf = Buffer.from(c.buf.subarray(first, c.argStart[argc - 1] + c.argLen[argc - 1]));
  const argStart = new Int32Array(argc);
  for (let i = 0; i < argc; i++) argStart[i] = c.argStart[i] - first;
  const argLen = c.argLen.slice(0, argc);
  return pause.then(() => {
    c.client = client;
    c.buf = buf;
    c.argc = argc;
    c.argStart = argStart;
    c.argLen = argLen;
    c.now = Date.now();
    c.dirty = 0;
    c.out.resp = client.resp;
    client.asking = asking;
    const pending = processCommand(c, hooks, table);
    // Answered now: sent before another held connection's reply can join it in the writer.
    if (pending === undefined) client.flush?.();
    return pending;
  });
}

function handlerFailed(c: CommandContext, spec: CommandSpec, hooks: DispatchHooks, err: unknown, replyMark: number): void {
  c.out.rollback(replyMark);
  if (err instanceof BusyScriptError) {
    // A lock a timed-out script holds: the command did not run.
    c.out.error(err.reply);
    finishReply(c, replyMark);
    return;
  }
  if (err instanceof StoreFullError) {
    // A shard's arena reached its 4 GiB ceiling: the same refusal as a full maxmemory.
    c.server.stats.rejectedCalls++;
    c.out.error(OOM);
    finishReply(c, replyMark);
    return;
  }
  hooks.onHandlerError(spec, err);
  c.server.stats.failedCalls++;
  const message = err instanceof Error ? err.message : String(err);
  c.out.error(`internal error in '${spec.fullName ?? spec.name}': ${message}`);
  finishReply(c, replyMark);
}

/** CLIENT REPLY OFF|SKIP: drop what this command wrote. */
function finishReply(c: CommandContext, replyMark: number): void {
  const mode = c.client.replyMode;
  if (mode === ReplyMode.On) return;
  if (mode === ReplyMode.Off) {
    c.out.rollback(replyMark);
  } else if (mode === ReplyMode.SkipNext) {
    c.out.rollback(replyMark);
    c.client.replyMode = ReplyMode.On;
  } else if (mode === ReplyMode.Skip) {
    // The SKIP command itself is answered with nothing; the next one is skipped.
    c.out.rollback(replyMark);
    c.client.replyMode = ReplyMode.SkipNext;
  }
}
