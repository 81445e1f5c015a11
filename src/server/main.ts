/**
 * weft-server: the coordinator (main thread). Loads the configuration like
 * redis-server, allocates the shared keyspace, starts the worker threads,
 * accepts every client connection and hands it to the least-loaded worker.
 */
import { allocateScriptStore } from '../scripting/script-store.js';
import { allocateFunctionStore, FunctionStore } from '../scripting/function-store.js';
import { allocateBusyScript } from '../scripting/busy-script.js';
import { CLAIM_SLOTS_PER_THREAD } from '../commands/blocking.js';
import { WATCH_SLOTS_PER_THREAD } from '../commands/watched-keys.js';
import fs from 'node:fs';
import net from 'node:net';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { Worker, type TransferListItem } from 'node:worker_threads';
import { bindAddresses, Config, ConfigError, parseCommandLine, type LoadResult } from './config.js';
import { allocateKeyspace } from '../store/keyspace.js';
import { allocateStats, StatField, StatsTable } from './worker-stats.js';
import type { FromWorker, ReplicationRequest, ToWorker, WorkerInit } from './thread-messages.js';
import { configureLog, log } from './log.js';
import { WEFT_VERSION } from './version.js';
import { ClusterCoordinator } from './cluster-coordinator.js';
import { NodesConfError } from '../cluster/nodes-conf.js';
import { ReplicationManager } from '../replication/replication-manager.js';
import { allocateReplicationLog, ReplicationLog } from '../replication/replication-log.js';
import type { SnapshotResult } from '../replication/replication-master.js';
import type { SnapshotTask } from '../replication/snapshot-task.js';
import { Piscina } from 'piscina';
import { ACTIVE_EXPIRE_WORD, FLAGS_BYTES } from './shared-flags.js';
import { TRACKING_RING_BYTES } from './key-tracking.js';
import { PubsubHub } from './pubsub-registry.js';
import { showStartup } from './logo.js';
import { allocatePubsubRing, PubsubRing } from './pubsub-ring.js';

function loadConfig(argv: string[]): LoadResult {
  const { file, options } = parseCommandLine(argv);
  let text = '';
  if (file === '-') text = fs.readFileSync(0, 'utf8');
  else if (file !== null) {
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      process.stderr.write(`Fatal error, can't open config file '${file}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}\n`);
      process.exit(1);
    }
  }
  try {
    const result = Config.load(text, options);
    if (file && file !== '-') result.config.configFile = fs.realpathSync(file);
    return result;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(e.message + '\n');
      process.exit(1);
    }
    throw e;
  }
}

function daemonize(argv: string[]): void {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...argv, '--daemonize', 'no'], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  process.exit(0);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '-v' || argv[0] === '--version') {
    process.stdout.write(`weft-server v=${WEFT_VERSION} (Redis ${'7.0.15'} compatible) node=${process.versions.node}\n`);
    return;
  }
  const { config, ignored, notHonoured } = loadConfig(argv);
  if (config.bool('daemonize')) daemonize(argv);
  configureLog(config.get('loglevel')!, config.get('logfile')!);
  log('notice', 'oO0OoO0OoO0Oo weft is starting oO0OoO0OoO0Oo');
  log('notice', `weft version=${WEFT_VERSION}, Redis compatibility 7.0.15, node=${process.versions.node}, pid=${process.pid}`);
  if (config.configFile === '') log('warning', 'Warning: no config file specified, using the default config. In order to specify a config file use weft-server /path/to/redis.conf');
  if (ignored.length > 0) log('warning', `These Redis directives are accepted but not implemented by weft and have no effect: ${ignored.join(', ')}`);
  for (const name of notHonoured) log('warning', `'${name} ${config.get(name)}' is accepted for compatibility but not yet honoured: weft keeps no ${name === 'save' ? 'RDB snapshots' : 'append-only file'}`);

  try {
    fs.mkdirSync(config.get('dir')!, { recursive: true });
    process.chdir(config.get('dir')!);
  } catch (e) {
    log('warning', `Can't chdir to '${config.get('dir')}': ${(e as Error).message}`);
    process.exit(1);
  }

  const pidfile = config.get('pidfile')!;
  if (pidfile) fs.writeFileSync(pidfile, `${process.pid}\n`);

  const threads = config.number('threads');
  const shardCount = config.number('shards');
  let shardBits = 0;
  while (1 << (shardBits + 1) <= shardCount) shardBits++;
  const keyspace = allocateKeyspace(config.number('databases'), shardBits);
  const statsSab = allocateStats(threads);
  const stats = new StatsTable(statsSab, threads);
  const connectionCountsSab = new SharedArrayBuffer(threads * 4);
  const blockedStates = new SharedArrayBuffer(threads * CLAIM_SLOTS_PER_THREAD * 4);
  const watchStates = new SharedArrayBuffer(threads * WATCH_SLOTS_PER_THREAD * 4);
  const connectionCounts = new Int32Array(connectionCountsSab);
  const flagsSab = new SharedArrayBuffer(FLAGS_BYTES);
  new Int32Array(flagsSab)[ACTIVE_EXPIRE_WORD] = 1;
  const runId = crypto.randomBytes(20).toString('hex');
  let startsAsReplica = config.get('replicaof') !== '';
  const replicationLogSab = allocateReplicationLog();
  const replicationLog = new ReplicationLog(replicationLogSab);
  // The main thread may not block in Atomics.wait.
  replicationLog.canWait = false;
  const workers: Worker[] = [];
  const pubsubRingSab = allocatePubsubRing(threads);
  const trackingRingSab = allocatePubsubRing(threads, TRACKING_RING_BYTES);
  const scriptStoreSab = allocateScriptStore();
  const functionStoreSab = allocateFunctionStore();
  const functionStore = new FunctionStore(functionStoreSab);
  const busyScriptSab = allocateBusyScript();
  const pubsub = new PubsubHub(threads, new PubsubRing(pubsubRingSab, threads, -1),
    (worker, message) => workers[worker].postMessage(message satisfies ToWorker));
  // Snapshots for full synchronisations are read on a background thread, which may wait for shard locks.
  let snapshotPool: Piscina | null = null;
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void; left: number }>();
  let nextPendingId = 1;
  const awaitWorkers = (count: number, post: (id: number) => void): Promise<void> => new Promise((resolve, reject) => {
    const id = nextPendingId++;
    pending.set(id, { resolve, reject, left: count });
    post(id);
  });
  const replication = new ReplicationManager({
    log: replicationLog,
    shardCount: keyspace.shards.length,
    sendToReplica: (w, clientId, data) => workers[w]?.postMessage({ type: 'replica-out', clientId, data } satisfies ToWorker),
    closeClient: (w, clientId) => workers[w]?.postMessage({ type: 'replica-close', clientId } satisfies ToWorker),
    snapshot: (shard, begin) => {
      snapshotPool ??= new Piscina({ filename: new URL('../replication/snapshot-task.js', import.meta.url).href, minThreads: 0, maxThreads: 1, idleTimeout: 30000 });
      return snapshotPool.run({ keyspace, log: replicationLogSab, shard, begin } satisfies SnapshotTask) as Promise<SnapshotResult>;
    },
    functionCodes: () => functionStore.codes(),
    applyOnWorker: (op, data) => awaitWorkers(1, (id) => {
      // The link hands over buffers of their own: transferred, not copied.
      const own = data !== null && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
      workers[0].postMessage({ type: 'repl-apply', id, op, data } satisfies ToWorker, own ? [data.buffer as ArrayBuffer] : []);
    }),
    setWorkersRole: (replica, masterLinkUp) => {
      for (const w of workers) w.postMessage({ type: 'replication-role', replica, masterLinkUp } satisfies ToWorker);
    },
    workersBarrier: () => awaitWorkers(workers.length, (id) => {
      for (const w of workers) w.postMessage({ type: 'barrier', id } satisfies ToWorker);
    }),
    config: (name) => config.get(name) ?? '',
    log_: (level, message) => log(level, message),
  });
  const settle = (id: number, error: string | null): void => {
    const p = pending.get(id);
    if (!p) return;
    if (error !== null) {
      pending.delete(id);
      p.reject(new Error(error));
    } else if (--p.left === 0) {
      pending.delete(id);
      p.resolve();
    }
  };
  let cluster: ClusterCoordinator | null = null;
  if (config.bool('cluster-enabled')) {
    try {
      cluster = new ClusterCoordinator(config, keyspace, replication);
      if (cluster.state.myself.isReplica) startsAsReplica = true;
    } catch (e) {
      if (e instanceof NodesConfError) {
        log('warning', e.message);
        process.exit(1);
      }
      throw e;
    }
  }
  const startedAt = Date.now();

  const rpcParts = new Map<number, { from: number; parts: unknown[] }>();
  let shuttingDown = false;

  const shutdown = (reason: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    log('warning', `${reason}: scheduling shutdown...`);
    for (const s of servers) s.close();
    cluster?.stop();
    replication.stop();
    void snapshotPool?.destroy();
    for (const w of workers) w.postMessage({ type: 'shutdown' } satisfies ToWorker);
    if (pidfile) {
      try {
        fs.unlinkSync(pidfile);
      } catch {
        // Already gone.
      }
    }
    log('warning', 'weft is now ready to exit, bye bye...');
    setTimeout(() => process.exit(0), 50).unref();
    Promise.all(workers.map((w) => w.terminate())).then(() => process.exit(0));
  };

  const answerReplication = async (r: ReplicationRequest): Promise<unknown> => {
    switch (r.kind) {
      case 'info':
        return replication.infoFields();
      case 'role':
        return replication.role();
      case 'wait':
        return replication.wait(r.replicas, r.timeoutMs);
      case 'replicaof':
        return replication.replicaof({ host: r.host, port: r.port });
      case 'replicaof-no-one':
        return replication.replicaof(null);
      case 'psync':
        return replication.psync(r.worker, r.clientId, r.ip, r.port, r.replid, r.offset);
    }
  };

  const onWorkerMessage = (index: number, m: FromWorker): void => {
    switch (m.type) {
      case 'config':
        for (const [k, v] of m.pairs) config.setRaw(k, v);
        if (cluster && m.pairs.some(([k]) => k.startsWith('cluster-'))) cluster.reconfigure();
        workers.forEach((w, i) => i !== index && w.postMessage({ type: 'config', pairs: m.pairs } satisfies ToWorker));
        break;
      case 'rpc':
        rpcParts.set(m.rid, { from: index, parts: [] });
        for (const w of workers) w.postMessage({ type: 'rpc', rid: m.rid, request: m.request } satisfies ToWorker);
        break;
      case 'rpc-part': {
        const entry = rpcParts.get(m.rid);
        if (!entry) break;
        entry.parts.push(m.part);
        if (entry.parts.length === workers.length) {
          rpcParts.delete(m.rid);
          workers[entry.from].postMessage({ type: 'rpc-result', rid: m.rid, parts: entry.parts } satisfies ToWorker);
        }
        break;
      }
      case 'cluster': {
        const reply = cluster ? cluster.execute(m.args) : { error: 'This instance has cluster support disabled' };
        workers[index].postMessage({ type: 'rpc-result', rid: m.rid, parts: [reply] } satisfies ToWorker);
        break;
      }
      case 'replication':
        void answerReplication(m.request).then((reply) =>
          workers[index].postMessage({ type: 'rpc-result', rid: m.rid, parts: [reply] } satisfies ToWorker));
        break;
      case 'tracking-deliver':
        workers[m.thread]?.postMessage({ type: 'tracking-deliver', targetId: m.targetId, trackerId: m.trackerId, trackerThread: m.trackerThread,
          value: m.value } satisfies ToWorker);
        break;
      case 'tracking-broken':
        workers[m.thread]?.postMessage({ type: 'tracking-broken', trackerId: m.trackerId } satisfies ToWorker);
        break;
      case 'unblock':
        workers[m.thread].postMessage({ type: 'unblock', slot: m.slot, generation: m.generation, reply: m.reply } satisfies ToWorker,
          [m.reply.buffer as ArrayBuffer]);
        break;
      case 'pubsub-subscribe':
        pubsub.subscribe(index, m.rid, m.kind, m.names, m.delta);
        break;
      case 'pubsub-delta-ack':
        pubsub.applied(m.ack);
        break;
      case 'pubsub-publish':
        // clusterPropagatePublish: every other node delivers it to its own subscribers; an SPUBLISH
        // only the nodes of this shard (clusterPropagatePublishShard).
        if (m.shard) cluster?.bus.publishShard(m.channel, m.message);
        else cluster?.bus.publish(m.channel, m.message);
        break;
      case 'pubsub-blob':
        pubsub.carryApart(m.id, m.message, index);
        break;
      case 'monitor-line':
        // The other threads write it to their own MONITOR clients (the sender has written it to its own).
        workers.forEach((w, i) => {
          if (i !== m.from) w.postMessage({ type: 'monitor-line', line: m.line } satisfies ToWorker);
        });
        break;
      case 'replica-ack':
        replication.master.ack(m.clientId, m.offset);
        break;
      case 'replica-closed':
        replication.master.replicaClosed(m.clientId);
        break;
      case 'repl-applied':
      case 'barrier-done':
        settle(m.id, m.type === 'repl-applied' ? m.error : null);
        break;
      case 'shutdown':
        // No persistence yet: SAVE and NOSAVE shut down the same way.
        shutdown('User requested shutdown');
        break;
      default:
        break;
    }
  };

  await Promise.all(
    Array.from({ length: threads }, (_, index) => {
      const init: WorkerInit = {
        index, workers: threads, keyspace, stats: statsSab, config: config.snapshot(), configFile: config.configFile, configForeign: config.foreign,
        startedAt, runId, connectionCounts: connectionCountsSab, flags: flagsSab, slotTable: cluster?.table.sab ?? null,
        replicationLog: replicationLogSab, replica: startsAsReplica, blockedStates, watchStates, pubsubRing: pubsubRingSab, trackingRing: trackingRingSab, scripts: scriptStoreSab, functions: functionStoreSab, busyScript: busyScriptSab,
      };
      const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
      workers.push(w);
      return new Promise<void>((resolve, reject) => {
        w.on('message', (m: FromWorker) => (m.type === 'ready' ? resolve() : onWorkerMessage(index, m)));
        w.on('error', (err) => {
          log('warning', `Worker ${index} failed: ${err.stack ?? err}`);
          reject(err);
        });
        w.on('exit', (code) => {
          if (!shuttingDown) {
            log('warning', `Worker ${index} exited with code ${code}; shutting down`);
            shutdown('Worker thread lost');
          }
        });
      });
    }),
  );

  let nextClientId = 1;
  const maxclients = () => config.number('maxclients');
  const handOff = (socket: net.Socket): void => {
    let total = 0;
    let best = 0;
    for (let i = 0; i < threads; i++) {
      const n = Atomics.load(connectionCounts, i);
      total += n;
      if (n < Atomics.load(connectionCounts, best)) best = i;
    }
    if (total >= maxclients()) {
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    Atomics.add(connectionCounts, best, 1);
    stats.set(best, StatField.Connections, Atomics.load(connectionCounts, best));
    workers[best].postMessage({ type: 'socket', socket, id: nextClientId++ } satisfies ToWorker, [socket as unknown as TransferListItem]);
  };

  const servers: net.Server[] = [];
  const port = config.number('port');
  if (port !== 0) {
    for (const { host, optional } of bindAddresses(config.get('bind')!)) {
      const server = net.createServer({ pauseOnConnect: true, noDelay: true }, handOff);
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port, host, backlog: config.number('tcp-backlog'), ipv6Only: host.includes(':') }, () => resolve());
        });
        server.on('error', (err) => log('warning', `Accept error: ${err.message}`));
        servers.push(server);
      } catch (e) {
        if (!optional) {
          log('warning', `Warning: Could not create server TCP listening socket ${host}:${port}: ${(e as Error).message}`);
          process.exit(1);
        }
      }
    }
  }
  // A PUBLISH (or SPUBLISH) from another node reaches this node's subscribers.
  cluster?.bus.on('publish', (channel: Uint8Array, message: Uint8Array, shard: boolean) => pubsub.publish(channel, message, shard));

  if (cluster) await cluster.start();
  const replicaof = config.get('replicaof')!;
  if (replicaof !== '') {
    const [host, port] = replicaof.split(/\s+/);
    replication.replicaof({ host, port: Number(port) });
  }
  showStartup({ version: WEFT_VERSION, redisVersion: '7.0.15', mode: cluster ? 'cluster' : 'standalone', port, pid: process.pid },
    config.bool('always-show-logo'));
  log('notice', `Server initialized with ${threads} worker thread(s) over ${1 << shardBits} store shards`);
  log('notice', 'Ready to accept connections tcp');

  process.on('SIGTERM', () => shutdown('Received SIGTERM'));
  process.on('SIGINT', () => shutdown('Received SIGINT'));
}

main().catch((err) => {
  log('warning', `Fatal: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
