/** Messages between the coordinator (main thread) and the worker threads. */
import type { ApplyOp } from '../replication/link-frames.js';
import type { Socket } from 'node:net';
import type { KeyspaceBuffers } from '../store/keyspace.js';
import type { ClientFilter, SubscriptionKind } from '../commands/client-state.js';
import type { HubMessage } from './pubsub-registry.js';

export interface WorkerInit {
  index: number;
  workers: number;
  keyspace: KeyspaceBuffers;
  stats: SharedArrayBuffer;
  config: [string, string][];
  configFile: string;
  /** Redis directives from the config file that weft keeps but does not implement (for CONFIG REWRITE). */
  configForeign: string[];
  startedAt: number;
  runId: string;
  /** Int32: connection count per worker, for least-loaded hand-off. */
  connectionCounts: SharedArrayBuffer;
  /** Int32[0]: 1 while active expiry is enabled. */
  flags: SharedArrayBuffer;
  /** The topology workers route by (cluster mode), or null. */
  slotTable: SharedArrayBuffer | null;
  /** The ReplicationLog every worker appends its writes to. */
  replicationLog: SharedArrayBuffer;
  /** Whether this node starts as a replica. */
  replica: boolean;
  /** Int32 claim words of blocked clients, CLAIM_SLOTS_PER_THREAD per worker (blocking.ts). */
  blockedStates: SharedArrayBuffer;
  /** Int32 dirty words of WATCHing clients, WATCH_SLOTS_PER_THREAD per worker (watched-keys.ts). */
  watchStates: SharedArrayBuffer;
  /** The node's ring of published messages (pubsub-ring.ts). */
  pubsubRing: SharedArrayBuffer;
  /** The node's ring of changed keys for client-side caching (key-tracking.ts). */
  trackingRing: SharedArrayBuffer;
  /** The node's script cache (scripting/script-store.ts). */
  scripts: SharedArrayBuffer;
  /** The node's function libraries (scripting/function-store.ts). */
  functions: SharedArrayBuffer;
  /** The script running on some worker thread, if any (scripting/busy-script.ts). */
  busyScript: SharedArrayBuffer;
}

export type ToWorker =
  | { type: 'socket'; socket: Socket; id: number }
  | { type: 'config'; pairs: [string, string][] }
  | { type: 'rpc'; rid: number; request: RpcRequest }
  | { type: 'rpc-result'; rid: number; parts: unknown[] }
  /** Replication stream bytes for a replica's connection served by this worker. */
  | { type: 'replica-out'; clientId: number; data: Uint8Array }
  | { type: 'replica-close'; clientId: number }
  /** For the worker that applies the master's stream (worker 0). */
  | { type: 'repl-apply'; id: number; op: ApplyOp; data: Uint8Array | null }
  | { type: 'replication-role'; replica: boolean; masterLinkUp: boolean }
  /** Answered once the worker has finished what it was running. */
  | { type: 'barrier'; id: number }
  /** A blocked client of this worker was served by a write on another: its reply. */
  | { type: 'unblock'; slot: number; generation: number; reply: Uint8Array }
  | { type: 'monitor-line'; line: Uint8Array }
  /** An invalidation for a redirect client of this worker, from a tracking client on another (key-tracking.ts). */
  | { type: 'tracking-deliver'; targetId: number; trackerId: number; trackerThread: number; value: Uint8Array }
  /** The redirect client of this worker's tracking client was gone. */
  | { type: 'tracking-broken'; trackerId: number }
  | Exclude<HubMessage, { type: 'rpc-result' }>
  | { type: 'shutdown' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'config'; pairs: [string, string][] }
  | { type: 'rpc'; rid: number; request: RpcRequest }
  | { type: 'rpc-part'; rid: number; part: unknown }
  | { type: 'shutdown'; mode: 'save' | 'nosave' | 'default'; abort: boolean; rid: number }
  | { type: 'cluster'; rid: number; args: string[] }
  | { type: 'replication'; rid: number; request: ReplicationRequest }
  | { type: 'replica-ack'; clientId: number; offset: number }
  | { type: 'replica-closed'; clientId: number }
  | { type: 'repl-applied'; id: number; error: string | null }
  | { type: 'barrier-done'; id: number }
  /** A write served a client blocked on another worker (`thread`): relayed to it. */
  | { type: 'unblock'; thread: number; slot: number; generation: number; reply: Uint8Array }
  | { type: 'monitor-line'; from: number; line: Uint8Array }
  /** For another worker (`thread`): relayed to it. */
  | { type: 'tracking-deliver'; thread: number; targetId: number; trackerId: number; trackerThread: number; value: Uint8Array }
  | { type: 'tracking-broken'; thread: number; trackerId: number }
  /** A thread's subscriptions changed (rid: the confirmation it waits for). */
  | { type: 'pubsub-subscribe'; rid: number; kind: SubscriptionKind; names: string[]; delta: number }
  /** This thread applied another thread's subscription change (PubsubHub.applied). */
  | { type: 'pubsub-delta-ack'; ack: number }
  /** A message published on this thread, for the cluster bus (cluster mode); SPUBLISH's only to this shard. */
  | { type: 'pubsub-publish'; channel: Uint8Array; message: Uint8Array; shard: boolean }
  /** A message too large for the pub/sub ring (pubsub-ring.ts): its bytes, for every worker. */
  | { type: 'pubsub-blob'; id: number; message: Uint8Array };

/** What commands ask of the coordinator's replication. */
export type ReplicationRequest =
  | { kind: 'info' }
  | { kind: 'role' }
  | { kind: 'wait'; replicas: number; timeoutMs: number }
  | { kind: 'replicaof'; host: string; port: number }
  | { kind: 'replicaof-no-one' }
  | { kind: 'psync'; worker: number; clientId: number; ip: string; port: number; replid: string; offset: number };

export type RpcRequest =
  | { kind: 'client-list'; filter: ClientFilter }
  | { kind: 'client-kill'; filter: ClientFilter }
  | { kind: 'client-unblock'; id: number; error: boolean }
  /** Whether this worker serves the client: its index, or -1. */
  | { kind: 'client-locate'; id: number }
  | { kind: 'reset-stats' }
  | { kind: 'collect-garbage' };
