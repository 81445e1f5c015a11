/** Messages between the coordinator (main thread) and the worker threads. */
import type { Socket } from 'node:net';
import type { KeyspaceBuffers } from '../store/keyspace.js';
import type { ClientFilter } from '../commands/client-state.js';

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
}

export type ToWorker =
  | { type: 'socket'; socket: Socket; id: number }
  | { type: 'config'; pairs: [string, string][] }
  | { type: 'rpc'; rid: number; request: RpcRequest }
  | { type: 'rpc-result'; rid: number; parts: unknown[] }
  | { type: 'shutdown' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'config'; pairs: [string, string][] }
  | { type: 'rpc'; rid: number; request: RpcRequest }
  | { type: 'rpc-part'; rid: number; part: unknown }
  | { type: 'shutdown'; mode: 'save' | 'nosave' | 'default'; abort: boolean; rid: number }
  | { type: 'cluster'; rid: number; args: string[] };

export type RpcRequest =
  | { kind: 'client-list'; filter: ClientFilter }
  | { kind: 'client-kill'; filter: ClientFilter }
  | { kind: 'reset-stats' };
