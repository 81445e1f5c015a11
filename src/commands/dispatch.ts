/**
 * Runs one parsed command: table lookup, arity, authentication and
 * maxmemory checks in the order Redis's processCommand applies them, then the
 * handler. Locks taken through the context are always released; a handler
 * that throws answers an error to its client and the node keeps serving.
 */
import type { CommandContext } from './context.js';
import type { CommandSpec, ReplyFunction } from './command-spec.js';
import { commandTable, type CommandTable } from './command-table.js';
import { MASTERDOWN, NOAUTH, OOM, unknownSubcommand, wrongArity } from './errors.js';
import { subscribedModeAllows, subscribedModeError } from './pubsub.js';

/** processCommand's refusal of keyspace commands from a replica-flagged client (a MONITOR). */
const MONITOR_KEYSPACE = "Replica can't interact with the keyspace";
import { ReplyMode } from './client-state.js';
import { StoreFullError } from '../store/shard.js';

export interface DispatchHooks {
  /** Frees memory before a denyoom command; returns false if still over maxmemory. */
  ensureMemory(c: CommandContext): boolean;
  /**
   * Cluster redirection (set only in cluster mode): false when the command
   * was answered with MOVED, ASK, CROSSSLOT, TRYAGAIN or CLUSTERDOWN.
   */
  route?: (c: CommandContext, spec: CommandSpec, asking: boolean) => boolean;
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
  clientPause?: (c: CommandContext, spec: CommandSpec) => Promise<void> | null;
  /** MONITOR: shows a command that ran (call()'s replicationFeedMonitors). */
  feedMonitors?: (c: CommandContext, spec: CommandSpec) => void;
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
  let spec = table.top.find(c.buf, c.argStart[0], c.argLen[0]);
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

/** Executes one command; returns a promise only for handlers that wait on other threads. */
export function dispatch(c: CommandContext, hooks: DispatchHooks, table: CommandTable = commandTable()): void | Promise<void> {
  const client = c.client;
  const stats = c.server.stats;
  const replyMark = c.out.mark();
  // ASKING lasts for the one command after it, whatever that command's fate
  // (resetClient); the ASKING command sets it again.
  const asking = client.asking;
  client.asking = false;
  const spec = resolveCommand(c, table);
  if (spec === undefined) {
    stats.rejectedCalls++;
    return finishReply(c, replyMark);
  }
  c.spec = spec;
  if (!client.authenticated && !spec.noAuth) {
    c.out.error(NOAUTH);
    stats.rejectedCalls++;
    return finishReply(c, replyMark);
  }
  if (hooks.route !== undefined && !hooks.route(c, spec, asking)) {
    stats.rejectedCalls++;
    return finishReply(c, replyMark);
  }
  if (spec.denyOom && !hooks.ensureMemory(c)) {
    c.out.error(OOM);
    stats.rejectedCalls++;
    return finishReply(c, replyMark);
  }
  const writes = spec.isWrite ? hooks.writes : undefined;
  // Set when this command went through the snapshot gate and must leave it: a client's write that may
  // lock several shards while the stream is wanted. In cluster mode a keyed command stays in one slot,
  // so one shard: only keyless ones (FLUSHALL...) span shards. The master's stream applied on a
  // replica never waits there.
  let gate: WriteHooks | null = null;
  if (writes !== undefined && !client.fromMaster) {
    const refusal = writes.refusal();
    if (refusal !== null) {
      c.out.error(refusal);
      stats.rejectedCalls++;
      return finishReply(c, replyMark);
    }
  }
  // Before MASTERDOWN, as processCommand orders them: the RESP2 subscribed context allows only the
  // pub/sub commands, PING, QUIT and RESET.
  if (client.resp === 2 && client.pubsubCount !== undefined && client.pubsubCount > 0 && !subscribedModeAllows(spec)) {
    c.out.error(subscribedModeError(spec));
    stats.rejectedCalls++;
    return finishReply(c, replyMark);
  }
  // processCommand's next check: with replica-serve-stale-data no, only commands flagged stale run
  // while a replica's link to its master is down.
  if (hooks.masterDown !== undefined && !client.fromMaster && hooks.masterDown() && !spec.flags.includes('stale')) {
    c.out.error(MASTERDOWN);
    stats.rejectedCalls++;
    return finishReply(c, replyMark);
  }
  // A MONITOR client is a replica to Redis: it may not read or write keys.
  if (client.monitor === true && (spec.isWrite || spec.flags.includes('readonly') || spec.flags.includes('may_replicate'))) {
    c.out.error(MONITOR_KEYSPACE);
    stats.rejectedCalls++;
    return finishReply(c, replyMark);
  }
  // processCommand's pause check, after the refusals above: replicas and the master's stream are never paused.
  if (hooks.clientPause !== undefined && !client.fromMaster && !client.isReplica) {
    const hold = hooks.clientPause(c, spec);
    if (hold !== null) return dispatchAfterPause(c, hooks, table, hold, asking);
  }
  if (writes !== undefined && !client.fromMaster) {
    const pause = writes.paused();
    if (pause !== null) return dispatchAfterPause(c, hooks, table, pause, asking);
    if (spec.spansShards && writes.propagating && (c.server.cluster === null || spec.firstKey === 0)) {
      const wait = writes.enterMultiShard();
      if (wait !== null) return dispatchAfterPause(c, hooks, table, wait, asking);
      gate = writes;
    }
  }
  stats.commands++;
  client.lastCommand = spec.fullName ?? spec.name;
  c.propagateAs = null;
  let result: void | Promise<ReplyFunction>;
  try {
    result = spec.handler!(c);
    if (c.dirty > 0) {
      // forceCommandPropagation (PUBLISH): not a write, still sent to replicas, except by a replica's own clients.
      const stream = writes ?? (spec.forcePropagation === true && (client.fromMaster || hooks.writes?.replica === false) ? hooks.writes : undefined);
      if (stream !== undefined && stream.propagating) stream.propagate(c);
    }
    // Redis's handleClientsBlockedOnKeys after call(): the waiters are served before anything else runs.
    if (c.readyKeys !== null) hooks.serveBlocked?.(c);
    hooks.feedMonitors?.(c, spec);
  } catch (err) {
    c.readyKeys = null;
    c.deferredServes = null;
    c.unlockAll();
    gate?.leaveMultiShard();
    return handlerFailed(c, spec, hooks, err, replyMark);
  }
  if (c.lockedShards !== 0) c.unlockAll();
  if (c.deferredServes !== null) hooks.serveDeferred?.(c);
  gate?.leaveMultiShard();
  if (result instanceof Promise) {
    return result.then(
      (reply) => {
        // Other connections ran meanwhile: make this one current again.
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
  return finishReply(c, replyMark);
}

/** Runs a write held by a client pause (or the snapshot gate) once it ends, as Redis unblocks paused clients. */
function dispatchAfterPause(c: CommandContext, hooks: DispatchHooks, table: CommandTable, pause: Promise<void>, asking: boolean): Promise<void> {
  const { client, buf, argc } = c;
  // The positions are copied: the connection rebases its parser's arrays when it keeps the bytes after
  // this command for later (the buffer itself stays as it is, held here).
  const argStart = c.argStart.slice(0, argc);
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
    const pending = dispatch(c, hooks, table);
    // Answered now: sent before another held connection's reply can join it in the writer.
    if (pending === undefined) client.flush?.();
    return pending;
  });
}

function handlerFailed(c: CommandContext, spec: CommandSpec, hooks: DispatchHooks, err: unknown, replyMark: number): void {
  c.out.rollback(replyMark);
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
