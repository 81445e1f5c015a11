/**
 * What a worker thread offers the commands (ServerServices): the
 * coordinator reached through requests (CLUSTER, replication, SHUTDOWN),
 * every worker through RPCs (CLIENT LIST and KILL, CONFIG SET, MEMORY
 * PURGE), and this thread's own state (pub/sub, blocked clients, watches,
 * the configuration, CLIENT PAUSE, MONITOR).
 */
import type { ClientFilter, ClientState, ServerServices } from '../commands/client-state.js';
import type { ReplyValue } from '../protocol/reply-value.js';
import type { ReplicationRequest } from './thread-messages.js';
import type { WorkerRuntime } from './worker-runtime.js';
import { pubsubService } from './pubsub-local.js';
import { ConfigError } from './config.js';
import { renderInfo } from './info.js';
import { StatField } from './worker-stats.js';
import { ACTIVE_EXPIRE_WORD } from './shared-flags.js';
import type { PauseType } from './client-pause.js';

export function workerServices(rt: WorkerRuntime): ServerServices {
  const clusterCall = async (args: string[]): Promise<ReplyValue> =>
    (await rt.request((rid) => ({ type: 'cluster', rid, args })))[0] as ReplyValue;
  const replicationCall = async (request: ReplicationRequest): Promise<unknown> =>
    (await rt.request((rid) => ({ type: 'replication', rid, request })))[0];
  return {
    pubsub: pubsubService(rt.subscriptions, (id, message) => rt.post({ type: 'pubsub-blob', id, message }),
      rt.slotTable === null ? null : (channel, message, shard) =>
        rt.post({ type: 'pubsub-publish', channel: new Uint8Array(channel), message: new Uint8Array(message), shard })),
    cluster: rt.slotTable ? { execute: clusterCall } : null,
    replication: rt.replicationServices(replicationCall),
    stats: rt.stats,
    limits: rt.limits,
    blocking: rt.blocked,
    tracking: rt.tracking,
    scripting: rt.scripting,
    watches: rt.watches,
    keyspaceEvents: rt.keyspaceEvents,
    startedAt: rt.init.startedAt,
    runId: rt.init.runId,
    get tcpPort() {
      return rt.config.number('port');
    },
    configGet: (name) => rt.config.get(name),
    configMatch: (pattern) => rt.config.match(pattern),
    configSet: (pairs) => {
      try {
        const applied = rt.config.trySet(pairs);
        rt.applyConfig();
        rt.post({ type: 'config', pairs: applied });
        return null;
      } catch (e) {
        return e instanceof ConfigError ? e.message : String(e);
      }
    },
    configRewrite: () => {
      try {
        rt.config.rewrite();
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    },
    resetStats: () => {
      void rt.rpc({ kind: 'reset-stats' });
    },
    collectGarbage: async () => {
      await rt.rpc({ kind: 'collect-garbage' });
    },
    clientList: async (filter: ClientFilter) => {
      const parts = (await rt.rpc({ kind: 'client-list', filter })) as [number, string][][];
      return parts.flat().sort((a, b) => a[0] - b[0]).map((p) => p[1]);
    },
    unblockClient: async (id: number, error: boolean) => {
      const parts = (await rt.rpc({ kind: 'client-unblock', id, error })) as number[];
      return parts.reduce((a, b) => a + b, 0);
    },
    killClients: async (filter: ClientFilter) => {
      const parts = (await rt.rpc({ kind: 'client-kill', filter })) as number[];
      return parts.reduce((a, b) => a + b, 0);
    },
    info: (sections: string[], client: ClientState) => {
      rt.publishStats();
      const wantsReplication = sections.length === 0 || sections.some((s) => s === 'replication' || s === 'default' || s === 'all' || s === 'everything');
      if (!wantsReplication) return renderInfo(rt, sections, client, []);
      return replicationCall({ kind: 'info' }).then((replication) =>
        renderInfo(rt, sections, client, replication as [string, string | number][]));
    },
    shutdown: async (mode, abort) =>
      ((await rt.request((rid) => ({ type: 'shutdown', mode, abort, rid })))[0] as string | null) ?? null,
    threadHeaps: () => {
      rt.publishStats();
      return Array.from({ length: rt.workers }, (_, i) => rt.statsTable.get(i, StatField.HeapUsed));
    },
    setActiveExpire: (on) => {
      Atomics.store(rt.flags, ACTIVE_EXPIRE_WORD, on ? 1 : 0);
    },
    pauseClients: (type, end) => rt.pause.pause(type as PauseType, end, Date.now()),
    unpauseClients: () => rt.pause.unpause(),
    startMonitor: (client) => {
      const send = client.send?.bind(client);
      if (send === undefined || !rt.monitors.add({ id: client.id, send })) return false;
      client.monitor = true;
      return true;
    },
    stopMonitor: (client) => {
      rt.monitors.remove(client.id);
      client.monitor = false;
    },
  };
}
