/**
 * INFO, with Redis 7's section and field names. Figures come from the shared
 * keyspace and the workers' published counters, so any worker can answer.
 */
import os from 'node:os';
import type { ClientState } from '../commands/client-state.js';
import type { WorkerRuntime } from './worker-runtime.js';
import { StatField } from './worker-stats.js';
import { Keyspace } from '../store/keyspace.js';
import { REDIS_COMPAT_VERSION } from './config.js';
import { WEFT_VERSION } from './version.js';

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'modules', 'errorstats', 'cluster', 'keyspace'];

let peakMemory = 0;
let lastOpsSample = { at: 0, commands: 0, rate: 0 };

export function human(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  let i = 0;
  let v = bytes;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${bytes}B` : `${v.toFixed(2)}${units[i]}`;
}

function opsPerSecond(total: number): number {
  const now = Date.now();
  if (now - lastOpsSample.at >= 1000) {
    if (lastOpsSample.at !== 0) lastOpsSample.rate = Math.round(((total - lastOpsSample.commands) * 1000) / (now - lastOpsSample.at));
    lastOpsSample = { at: now, commands: total, rate: lastOpsSample.rate };
  }
  return lastOpsSample.rate;
}

export function memoryFigures(rt: WorkerRuntime): { used: number; dataset: number; rss: number; heap: number } {
  const dataset = rt.ks.liveBytes();
  const heap = rt.statsTable.sum(StatField.HeapUsed);
  const used = dataset + heap;
  if (used > peakMemory) peakMemory = used;
  return { used, dataset, rss: process.memoryUsage.rss(), heap };
}

export function renderInfo(rt: WorkerRuntime, requested: string[], _client: ClientState, replication: [string, string | number][]): string {
  let sections: string[];
  if (requested.length === 0 || requested.includes('default')) sections = [...DEFAULT_SECTIONS];
  else if (requested.includes('all') || requested.includes('everything')) sections = [...DEFAULT_SECTIONS];
  else sections = requested;
  const parts: string[] = [];
  const t = rt.statsTable;
  const cfg = rt.config;
  const now = Date.now();
  for (const name of DEFAULT_SECTIONS) {
    if (!sections.includes(name)) continue;
    const lines: string[] = [];
    const add = (k: string, v: string | number) => lines.push(`${k}:${v}`);
    switch (name) {
      case 'server': {
        const uptime = Math.floor((now - rt.init.startedAt) / 1000);
        add('redis_version', REDIS_COMPAT_VERSION);
        add('weft_version', WEFT_VERSION);
        add('redis_git_sha1', '00000000');
        add('redis_git_dirty', 0);
        add('redis_build_id', '0');
        add('redis_mode', rt.slotTable ? 'cluster' : 'standalone');
        add('os', `${os.type()} ${os.release()} ${os.arch()}`);
        add('arch_bits', 64);
        add('monotonic_clock', 'POSIX clock_gettime');
        add('multiplexing_api', 'epoll');
        add('atomicvar_api', 'js-atomics');
        add('node_version', process.versions.node);
        add('process_id', process.pid);
        add('process_supervised', 'no');
        add('run_id', rt.init.runId);
        add('tcp_port', cfg.get('port')!);
        add('server_time_usec', now * 1000);
        add('uptime_in_seconds', uptime);
        add('uptime_in_days', Math.floor(uptime / 86400));
        add('hz', cfg.get('hz')!);
        add('configured_hz', cfg.get('hz')!);
        add('lru_clock', Keyspace.lruClock(now));
        add('executable', process.argv[1] ?? '');
        add('config_file', rt.init.configFile);
        add('io_threads_active', rt.workers > 1 ? 1 : 0);
        add('worker_threads', rt.workers);
        add('store_shards', rt.ks.shards.length);
        break;
      }
      case 'clients':
        add('connected_clients', rt.connectedClients());
        add('cluster_connections', 0);
        add('maxclients', cfg.get('maxclients')!);
        add('client_recent_max_input_buffer', 0);
        add('client_recent_max_output_buffer', 0);
        add('blocked_clients', rt.statsTable.sum(StatField.BlockedClients));
        add('tracking_clients', rt.tracking.counts().clients);
        add('clients_in_timeout_table', 0);
        break;
      case 'memory': {
        const m = memoryFigures(rt);
        const max = cfg.number('maxmemory');
        const total = os.totalmem();
        add('used_memory', m.used);
        add('used_memory_human', human(m.used));
        add('used_memory_rss', m.rss);
        add('used_memory_rss_human', human(m.rss));
        add('used_memory_peak', peakMemory);
        add('used_memory_peak_human', human(peakMemory));
        add('used_memory_peak_perc', `${((m.used / Math.max(1, peakMemory)) * 100).toFixed(2)}%`);
        add('used_memory_overhead', m.heap);
        add('used_memory_dataset', m.dataset);
        add('used_memory_dataset_perc', `${((m.dataset / Math.max(1, m.used)) * 100).toFixed(2)}%`);
        add('used_memory_heap', m.heap);
        // Every worker thread's Lua state together, and the node's script cache (one for all threads).
        const lua = rt.statsTable.sum(StatField.LuaMemory);
        add('used_memory_lua', lua);
        add('used_memory_vm_eval', lua);
        add('used_memory_lua_human', human(lua));
        add('used_memory_scripts_eval', rt.scripting.cachedBytes);
        add('number_of_cached_scripts', rt.scripting.cachedScripts);
        add('allocator_allocated', rt.ks.arenaBytes());
        add('allocator_active', rt.ks.reservedBytes());
        add('allocator_resident', m.rss);
        add('total_system_memory', total);
        add('total_system_memory_human', human(total));
        add('maxmemory', max);
        add('maxmemory_human', human(max));
        add('maxmemory_policy', cfg.get('maxmemory-policy')!);
        add('allocator_frag_ratio', (rt.ks.arenaBytes() / Math.max(1, m.dataset)).toFixed(2));
        add('mem_fragmentation_ratio', (m.rss / Math.max(1, m.used)).toFixed(2));
        add('mem_allocator', 'weft-arena');
        add('lazyfree_pending_objects', 0);
        break;
      }
      case 'persistence':
        add('loading', 0);
        add('async_loading', 0);
        add('rdb_changes_since_last_save', 0);
        add('rdb_bgsave_in_progress', 0);
        add('rdb_last_save_time', Math.floor(rt.init.startedAt / 1000));
        add('rdb_last_bgsave_status', 'ok');
        add('aof_enabled', 0);
        add('aof_rewrite_in_progress', 0);
        add('aof_last_write_status', 'ok');
        break;
      case 'stats': {
        const commands = t.sum(StatField.Commands);
        add('total_connections_received', t.sum(StatField.ConnectionsReceived));
        add('total_commands_processed', commands);
        add('instantaneous_ops_per_sec', opsPerSecond(commands));
        add('total_net_input_bytes', t.sum(StatField.NetInputBytes));
        add('total_net_output_bytes', t.sum(StatField.NetOutputBytes));
        add('rejected_connections', 0);
        add('expired_keys', rt.ks.expiredKeys());
        add('evicted_keys', rt.ks.evictedKeys());
        add('evicted_clients', 0);
        add('keyspace_hits', t.sum(StatField.KeyspaceHits));
        add('keyspace_misses', t.sum(StatField.KeyspaceMisses));
        add('pubsub_channels', 0);
        add('pubsub_patterns', 0);
        add('total_active_defrag_time', 0);
        add('expire_cycle_cpu_milliseconds', 0);
        const tracked = rt.tracking.counts();
        add('tracking_total_keys', tracked.keys);
        add('tracking_total_items', tracked.items);
        add('tracking_total_prefixes', tracked.prefixes);
        add('total_error_replies', t.sum(StatField.RejectedCalls) + t.sum(StatField.FailedCalls));
        add('total_reads_processed', commands);
        add('total_writes_processed', commands);
        add('client_query_buffer_limit_disconnections', 0);
        break;
      }
      case 'replication':
        for (const [k, v] of replication) add(k, v);
        break;
      case 'cpu': {
        const u = process.cpuUsage();
        add('used_cpu_sys', (u.system / 1e6).toFixed(6));
        add('used_cpu_user', (u.user / 1e6).toFixed(6));
        add('used_cpu_sys_children', '0.000000');
        add('used_cpu_user_children', '0.000000');
        break;
      }
      case 'modules':
      case 'errorstats':
        break;
      case 'cluster':
        add('cluster_enabled', rt.slotTable ? 1 : 0);
        break;
      case 'keyspace':
        for (let db = 0; db < rt.ks.databases; db++) {
          const keys = rt.ks.keyCount(db);
          if (keys > 0) add(`db${db}`, `keys=${keys},expires=${rt.ks.volatileCount(db)},avg_ttl=0`);
        }
        break;
    }
    const title = name === 'cpu' ? 'CPU' : name === 'modules' ? 'Modules' : name === 'errorstats' ? 'Errorstats' : name[0].toUpperCase() + name.slice(1);
    parts.push(`# ${title}\r\n${lines.map((l) => l + '\r\n').join('')}`);
  }
  return parts.join('\r\n');
}
