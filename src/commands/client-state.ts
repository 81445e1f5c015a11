import type { ReplyValue } from '../protocol/reply-value.js';
import type { ScriptRunner } from '../scripting/script-runner.js';
import type { BusyScript } from '../scripting/busy-script.js';

/**
 * What a command handler may know about the connection it serves and about
 * the server around it. The server layer implements these; the commands
 * never see sockets or threads.
 */

export const enum ReplyMode {
  On = 0,
  Off = 1,
  Skip = 2,
  /** SKIP was requested: the next command's reply is skipped. */
  SkipNext = 3,
}

export interface ClientState {
  readonly id: number;
  name: string;
  libName: string;
  libVersion: string;
  /** Logical database index. */
  db: number;
  /** 2 or 3. */
  resp: number;
  authenticated: boolean;
  user: string;
  replyMode: ReplyMode;
  noEvict: boolean;
  /** ASKING: the next command may touch a slot this node is importing (one shot). */
  asking: boolean;
  /** READONLY: a replica serves this client's reads of its master's slots. */
  readonlyReplicaReads: boolean;
  /** The replication stream from this node's master: never refused as a client write, never paused. */
  readonly fromMaster?: boolean;
  /** MONITOR: this connection is shown every command; it may not touch the keyspace. */
  monitor?: boolean;
  /** MULTI: the commands queued for EXEC (null or absent outside a transaction). */
  multi?: MultiState | null;
  /** WATCH: the keys this connection watches and its dirty word. */
  watch?: ClientWatch | null;
  /** Channels and patterns this connection is subscribed to (RESP2: more than 0 is the subscribed context). */
  pubsubCount?: number;
  /** CLIENT TRACKING ON: how this connection tracks keys (null or absent while tracking is off). */
  tracking?: ClientTracking | null;
  /** A replica's connection, after its PSYNC: it gets the stream, not replies. */
  isReplica: boolean;
  /** REPLCONF listening-port: the port the replica serves clients on (0 until told). */
  replicaListeningPort: number;
  /** Set by QUIT / protocol errors: close after the pending replies. */
  closeAfterReply: boolean;
  readonly createdAt: number;
  lastInteraction: number;
  lastCommand: string;
  readonly address: string;
  readonly localAddress: string;
  readonly fd: number;
  /**
   * Sends the replies written so far (a connection). A command that finishes
   * after a wait (a blocking pop served, a pause ended) calls it at once:
   * other waiting connections' replies may follow in the same reply writer
   * before this connection resumes.
   */
  flush?(): void;
  /** Writes unsolicited output (MONITOR lines, published messages) to a connection at once. */
  send?(bytes: Uint8Array): void;
}

/** Filters of CLIENT KILL (new form) and CLIENT LIST ID. */
export interface ClientFilter {
  ids?: number[];
  address?: string;
  localAddress?: string;
  user?: string;
  skipMe?: boolean;
  type?: string;
  /** The client issuing the command (for SKIPME). */
  self?: number;
}

/** Replication as commands reach it: the coordinator owns it. */
export interface ReplicationAccess {
  role(): Promise<ReplyValue>;
  /** WAIT: replicas that acknowledged, or an error text. */
  wait(replicas: number, timeoutMs: number): Promise<number | string>;
  /** REPLICAOF host port, or NO ONE (null): the reply line. */
  replicaof(target: { host: string; port: number } | null): Promise<string>;
  /** PSYNC from a replica's connection: the reply line (+FULLRESYNC, +CONTINUE or an error). */
  psync(client: ClientState, replid: string, offset: number): Promise<string>;
  /** REPLCONF ACK from a replica's connection. */
  ack(client: ClientState, offset: number): void;
}

/** The cluster as commands reach it: the coordinator answers CLUSTER subcommands. */
export interface ClusterAccess {
  execute(args: string[]): Promise<ReplyValue>;
}

import type { BlockedClients } from './blocking.js';
import type { CommandContext } from './context.js';
import type { CommandSpec } from './command-spec.js';
import type { MultiState } from './transactions.js';
import type { ClientWatch, WatchSlots } from './watched-keys.js';

/**
 * The encoding thresholds of collections (hash-max-listpack-entries...),
 * read on every collection write: kept as numbers, updated on CONFIG SET.
 */
export interface CollectionLimits {
  hashMaxListpackEntries: number;
  hashMaxListpackValue: number;
  setMaxIntsetEntries: number;
  zsetMaxListpackEntries: number;
  zsetMaxListpackValue: number;
  /** list-max-listpack-size: negative for a byte cap per node, positive for an element count. */
  listMaxListpackSize: number;
}

/** Redis 7.0's defaults. */
export function defaultCollectionLimits(): CollectionLimits {
  return {
    hashMaxListpackEntries: 512, hashMaxListpackValue: 64, setMaxIntsetEntries: 512,
    zsetMaxListpackEntries: 128, zsetMaxListpackValue: 64, listMaxListpackSize: -2,
  };
}

/** What a subscription names: a channel (SUBSCRIBE), a pattern (PSUBSCRIBE) or a shard channel (SSUBSCRIBE). */
export const enum SubscriptionKind {
  Channel = 0,
  Pattern = 1,
  Shard = 2,
}

/**
 * What a (P|S)SUBSCRIBE or (P|S)UNSUBSCRIBE did: each name with the client's
 * count after it (channels and patterns together, or shard channels), that
 * count at the end, and the node's confirmation.
 */
export interface SubscriptionChange {
  names: string[];
  counts: number[];
  remaining: number;
  done: Promise<unknown>;
}

/** Pub/sub as commands see it (pubsub-local.ts on the worker, pubsub-registry.ts on the coordinator); names are latin1. */
export interface PubsubService {
  subscribe(client: ClientState, kind: SubscriptionKind, names: string[]): SubscriptionChange;
  /** names null: every name of that kind the client holds. */
  unsubscribe(client: ClientState, kind: SubscriptionKind, names: string[] | null): SubscriptionChange;
  /** PUBLISH (or SPUBLISH, `shard`): the receivers on this node (a promise while the node's message ring is full). */
  publish(client: ClientState, channel: Uint8Array, message: Uint8Array, shard: boolean): number | Promise<number>;
  /** PUBSUB CHANNELS / SHARDCHANNELS. */
  channels(pattern: string | null, shard: boolean): string[];
  /** PUBSUB NUMSUB / SHARDNUMSUB. */
  numsub(channels: string[], shard: boolean): (string | number)[];
  numpat(): number;
  /** A keyspace event: published on this node only, never answered, never carried elsewhere. */
  readonly notify: (channel: Uint8Array, message: Uint8Array) => void;
}

/** What CLIENT TRACKING ON asks for (validated by the command). */
export interface TrackingOptions {
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  /** The client invalidations go to (0: this one). */
  redirect: number;
  /** The worker thread serving the redirect client (-1 without one). */
  redirectThread: number;
  /** BCAST: the key prefixes (latin1), in the order given. */
  prefixes: string[];
}

/**
 * A tracking client's mode (Redis's CLIENT_TRACKING_* flags and
 * client_tracking_redirection), kept on the connection: the options it
 * enabled (prefixes: all it holds) and two flags of its own.
 */
export interface ClientTracking extends TrackingOptions {
  /** CLIENT CACHING yes (OPTIN) or no (OPTOUT) given for the next command or transaction. */
  caching: boolean;
  /** The redirect client was gone when an invalidation was due (flag R). */
  brokenRedirect: boolean;
}

/**
 * Client-side caching (Redis's tracking.c) as commands see it: key-tracking.ts
 * on each worker thread. Keys are bytes of the request (key[start, start + length)).
 */
export interface TrackingService {
  /** Some client on the node tracks keys: writes look for the clients to invalidate only then (a plain read). */
  readonly active: boolean;
  /** The worker thread serving a client id, or -1 when no connection has it (CLIENT TRACKING REDIRECT). */
  locate(id: number): Promise<number>;
  enable(client: ClientState, options: TrackingOptions): void;
  disable(client: ClientState): void;
  /** A read-only command ran for a tracking client: the keys it read are remembered (trackingRememberKeys). */
  remember(c: CommandContext, spec: CommandSpec): void;
  /** A key changed (trackingInvalidateKey), by the context's client. */
  invalidate(c: CommandContext, key: Uint8Array, start: number, length: number): void;
  /** The keys a command changed, as argument positions (one message to the other threads). */
  invalidateArguments(c: CommandContext, positions: ArrayLike<number>): void;
  /** FLUSHALL / FLUSHDB (trackingInvalidateKeysOnFlush): every tracking client is told, the table emptied. */
  flushed(c: CommandContext | null): void;
  /** After a command: the invalidations due to its own client go out behind its reply. */
  afterCommand(c: CommandContext): void;
  /** BCAST prefixes and tracked keys on the node (INFO). */
  counts(): { clients: number; keys: number; items: number; prefixes: number };
}

export interface ServerServices {
  /** Client-side caching: the keys tracking clients read, and their invalidation. */
  readonly tracking: TrackingService;
  /** Encoding thresholds of collections, current with the configuration. */
  readonly limits: CollectionLimits;
  /** This thread's clients blocked on keys. */
  readonly blocking: BlockedClients;
  /** notify-keyspace-events, as keyspace-events.ts's flags (0: none); a field kept current with the configuration (read on every write). */
  keyspaceEvents: number;
  /** This thread's dirty words of WATCH, and the node's count of watched keys. */
  readonly watches: WatchSlots;
  /** Null when cluster mode is off. */
  readonly cluster: ClusterAccess | null;
  readonly replication: ReplicationAccess;
  /** The running configuration: get one value (as a string). */
  configGet(name: string): string | undefined;
  /** All names matching a glob, with values. */
  configMatch(pattern: string): [string, string][];
  /** Set several values atomically; returns an error text or null. */
  configSet(pairs: [string, string][]): string | null;
  configRewrite(): string | null;
  resetStats(): void;
  /** CLIENT LIST lines of every connection on every thread. */
  clientList(filter: ClientFilter): Promise<string[]>;
  killClients(filter: ClientFilter): Promise<number>;
  /** CLIENT UNBLOCK: 1 when the client was blocked (on any thread) and is now unblocked. */
  unblockClient(id: number, error: boolean): Promise<number>;
  /**
   * INFO text for the requested sections (already lowercased): at once,
   * unless the replication section needs the coordinator's figures.
   */
  info(sections: string[], client: ClientState): string | Promise<string>;
  shutdown(mode: 'save' | 'nosave' | 'default', abort: boolean): Promise<string | null>;
  /** Unix ms when the server started (INFO uptime). */
  readonly startedAt: number;
  readonly runId: string;
  readonly tcpPort: number;
  /** Active expiry can be disabled by DEBUG SET-ACTIVE-EXPIRE. */
  setActiveExpire(on: boolean): void;
  /** CLIENT PAUSE / UNPAUSE: the node-wide pause (type 1 WRITE, 2 ALL; end in ms since the epoch). */
  pauseClients(type: number, end: number): void;
  unpauseClients(): void;
  /** Pub/sub: this thread's subscriptions and the node's registry. */
  readonly pubsub: PubsubService;
  /** MONITOR: false when the client already monitors. */
  startMonitor(client: ClientState): boolean;
  /** RESET ends MONITOR mode. */
  stopMonitor(client: ClientState): void;
  /** MEMORY PURGE: every worker thread collects its garbage. */
  collectGarbage(): Promise<void>;
  /** V8 heap bytes in use on each worker thread (as last published), for MEMORY STATS. */
  threadHeaps(): number[];
  /** Per-thread stats for INFO stats (this thread's counters). */
  stats: WorkerStats;
  /** This thread's Lua scripting. */
  readonly scripting: ScriptingAccess;
}

/** A worker thread's scripting engine, loaded on its first scripting command. */
export interface ScriptingAccess {
  /** The runner; null until start() has resolved. */
  readonly runner: ScriptRunner | null;
  /** Loads the engine (once); resolves when `runner` is set. */
  start(): Promise<void>;
  /** The node's busy-script state (SCRIPT KILL, FUNCTION KILL). */
  readonly busy: BusyScript;
}

export interface WorkerStats {
  commands: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  rejectedCalls: number;
  failedCalls: number;
}
