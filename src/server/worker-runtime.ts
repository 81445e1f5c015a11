/**
 * Everything a worker thread shares between its connections: the keyspace
 * mapping, one reply writer and command context, configuration, counters,
 * the server services commands call, and the periodic upkeep (active expiry,
 * idle timeouts, stats publication).
 */
import { functionCodes, type ApplyOp } from '../replication/link-frames.js';
import { beginInterruptibleWaits, endInterruptibleWaits, setLongLockWaitCheck } from '../store/shard-arena.js';
import { BusyScriptError } from '../scripting/busy-script.js';
import { ThreadScripting } from '../scripting/thread-scripting.js';
import { parentPort } from 'node:worker_threads';
import { ReplyWriter } from '../protocol/reply-writer.js';
import type { ParserLimits } from '../protocol/resp-parser.js';
import { CommandContext } from '../commands/context.js';
import type { CommandSpec } from '../commands/command-spec.js';
import type { DispatchHooks } from '../commands/dispatch.js';
import { defaultCollectionLimits, type ServerServices, type WorkerStats } from '../commands/client-state.js';
import { AccessPolicy, Keyspace } from '../store/keyspace.js';
import { E_KEYLEN } from '../store/layout.js';
import { keyHashSlotOfString } from '../store/key-hash.js';
import { activeExpireCycle, evictOne, type EvictionPolicy } from '../store/maintenance.js';
import { LAZYFREE_STEP } from '../store/collections.js';
import { BlockedClients, serveDeferred, serveReadyKeys, type ServeHooks } from '../commands/blocking.js';
import { signalRemovedEntry, unwatchAllKeys, WatchSlots } from '../commands/watched-keys.js';
import { ClientPause, PauseType } from './client-pause.js';
import { EventClass, notifyKeyspaceEvent, parseEventClasses } from '../commands/keyspace-events.js';
import type { Shard } from '../store/shard.js';
import { collectGarbage } from './garbage.js';
import { parseBufferLimits, type BufferLimit } from './output-buffer-limits.js';
import { MonitorFeed } from './monitor-feed.js';
import { LocalSubscriptions } from './pubsub-local.js';
import { PubsubRing } from './pubsub-ring.js';
import { KeyTracking } from './key-tracking.js';
import { BatchPrefetch } from './batch-prefetch.js';
import { commandTable } from '../commands/command-table.js';
import { ACTIVE_EXPIRE_WORD, WATCHED_KEYS_WORD } from './shared-flags.js';
import { Config } from './config.js';
import { StatField, StatsTable } from './worker-stats.js';
import type { FromWorker, ReplicationRequest, RpcRequest, ToWorker, WorkerInit } from './thread-messages.js';
import type { Connection } from './connection.js';
import { log, setLogLevel } from './log.js';
import { clientInfoLine, matchesFilter, type ClientListState } from './client-list.js';
import { SlotTable } from '../cluster/slot-table.js';
import { routeCommand } from './cluster-routing.js';
import type { ReplyValue } from '../protocol/reply-value.js';
import { ReplicationLog } from '../replication/replication-log.js';
import { shardTag, WritePropagator } from '../replication/write-propagation.js';
import { StreamApplier } from './stream-applier.js';
import { DeferredWrites } from './deferred-writes.js';
import { workerServices } from './worker-services.js';
import type { WriteHooks } from '../commands/dispatch.js';

/** Time per cron tick a worker spends freeing unlinked collections. */
const LAZYFREE_BUDGET_MS = 20;
/** Time per cron tick a worker spends rehashing its shards' tables in the background. */
const REHASH_BUDGET_MS = 1;

export interface LocalStats extends WorkerStats {
  netInput: number;
  netOutput: number;
  connectionsReceived: number;
  expireCycles: number;
  clientsTimedOut: number;
}

export class WorkerRuntime {
  readonly config: Config;
  readonly ks: Keyspace;
  readonly out = new ReplyWriter();
  readonly ctx: CommandContext;
  readonly parserLimits: ParserLimits;
  readonly statsTable: StatsTable;
  readonly stats: LocalStats = {
    commands: 0, keyspaceHits: 0, keyspaceMisses: 0, rejectedCalls: 0, failedCalls: 0,
    netInput: 0, netOutput: 0, connectionsReceived: 0, expireCycles: 0, clientsTimedOut: 0,
  };
  /** This thread's connections by client id (also how client-side caching finds a redirect client). */
  private readonly connections = new Map<number, Connection>();
  /** Replies and other output, written once per turn of the event loop. */
  readonly deferredWrites = new DeferredWrites();
  /** Connections that keep a spare tail buffer, which the cron lets go of once they idle. */
  readonly spareHolders = new Set<Connection>();
  readonly hooks: DispatchHooks;
  /** Clients of this thread blocked on keys (BLPOP...). */
  readonly blocked: BlockedClients;
  readonly watches: WatchSlots;
  private readonly serveHooks: ServeHooks = {
    propagate: (c, args) => {
      if (!this.propagator.active) return;
      c.propagateAs = args;
      this.hooks.writes!.propagate(c);
    },
    deliver: (thread, slot, generation, reply) => {
      // The writer still holds its locks, which the waiter's clean-up takes: deliver once it is done.
      if (thread === this.index) queueMicrotask(() => this.blocked.delivered(slot, generation, reply));
      else {
        // A copy of its own (the reply may sit in Buffer's shared pool), moved rather than cloned.
        const own = new Uint8Array(reply);
        this.post({ type: 'unblock', thread, slot, generation, reply: own }, [own.buffer]);
      }
    },
  };
  readonly services: ServerServices;
  readonly index: number;
  readonly workers: number;
  readonly slotTable: SlotTable | null;
  private readonly connectionCounts: Int32Array;
  /** The node's shared flags (shared-flags.ts). */
  readonly flags: Int32Array;
  /** CLIENT PAUSE, node-wide. */
  readonly pause: ClientPause;
  /** MONITOR clients: this thread's, and the feed of every command to all of them. */
  readonly monitors: MonitorFeed;
  /** Touches the keys of a read's pipelined commands before they run (batch-prefetch.ts). */
  readonly prefetch: BatchPrefetch;
  /** Client-side caching: the keys this thread's tracking clients read, and their invalidations. */
  readonly tracking: KeyTracking;
  readonly scripting: ThreadScripting;
  /** Pub/sub subscriptions of this thread's connections. */
  readonly subscriptions: LocalSubscriptions;
  private readonly ownedShards: number[] = [];
  private rpcSeq = 0;
  private readonly rpcWaiting = new Map<number, (parts: unknown[]) => void>();
  private cronTimer: NodeJS.Timeout | undefined;
  /** Where the next tick's background rehashing starts among the owned shards. */
  private rehashNext = 0;
  private readonly cpuStart = process.cpuUsage();
  readonly replicationLog: ReplicationLog;
  private readonly propagator: WritePropagator;
  /** This node is a replica: clients' writes are refused (replica-read-only), expired keys wait for the master's DEL. */
  isReplica = false;
  private replicaReadOnly = true;
  private replicaServeStaleData = true;
  /** Whether this replica's link to its master is up (told by the coordinator). */
  private masterLinkUp = false;
  /** Replica connections on this worker, by client id (the coordinator sends them the stream). */
  private readonly replicaConnections = new Map<number, Connection>();
  /** Replication output for a connection whose PSYNC reply is not written yet. */
  private readonly replicaHeld = new Map<number, Uint8Array[]>();
  private applier: StreamApplier | null = null;

  constructor(readonly init: WorkerInit) {
    this.index = init.index;
    this.workers = init.workers;
    this.config = Config.fromSnapshot(init.config);
    this.config.configFile = init.configFile;
    this.config.foreign.push(...init.configForeign);
    this.ks = new Keyspace(init.keyspace);
    this.statsTable = new StatsTable(init.stats, init.workers);
    this.connectionCounts = new Int32Array(init.connectionCounts);
    this.flags = new Int32Array(init.flags);
    this.pause = new ClientPause(init.flags);
    this.monitors = new MonitorFeed(init.flags, (line) => this.post({ type: 'monitor-line', from: this.index, line }));
    this.subscriptions = new LocalSubscriptions(this.index, this.workers, new PubsubRing(init.pubsubRing, this.workers, this.index),
      (kind, names, delta) => this.request((rid) => ({ type: 'pubsub-subscribe', rid, kind, names, delta })),
      init.slotTable === null ? null : (channel) => this.slotTable!.owner[keyHashSlotOfString(channel)]);
    this.tracking = new KeyTracking(new PubsubRing(init.trackingRing, this.workers, this.index), this.index, this.flags,
      (id) => this.connections.get(id),
      {
        deliver: (thread, targetId, trackerId, trackerThread, value) =>
          this.post({ type: 'tracking-deliver', thread, targetId, trackerId, trackerThread, value: new Uint8Array(value) }),
        broken: (thread, trackerId) => this.post({ type: 'tracking-broken', thread, trackerId }),
      },
      async (id) => {
        if (this.connections.has(id)) return this.index;
        const parts = (await this.rpc({ kind: 'client-locate', id })) as number[];
        return parts.find((w) => w >= 0) ?? -1;
      });
    this.prefetch = new BatchPrefetch(this.ks, commandTable());
    this.scripting = new ThreadScripting(init.scripts, init.functions, init.busyScript, init.index);
    setLongLockWaitCheck(() => this.scripting.busy.checkWait());
    for (let i = this.index; i < this.ks.shards.length; i += this.workers) this.ownedShards.push(i);
    this.slotTable = init.slotTable ? new SlotTable(init.slotTable) : null;
    this.parserLimits = { protoMaxBulkLen: this.config.number('proto-max-bulk-len'), authRequired: false };
    this.replicationLog = new ReplicationLog(init.replicationLog);
    this.propagator = new WritePropagator(this.replicationLog);
    const expiryHeld = () => this.pause.typeAt(Date.now()) !== PauseType.None;
    for (const shard of this.ks.shards) {
      shard.onRemoval = (physicalDb, e, evicted) => {
        if (this.replicationLog.active) this.propagateRemoval(shard.index, physicalDb, e);
        if (this.watches.any) signalRemovedEntry(shard, this.watches, physicalDb, e);
        if (this.keyspaceEvents !== 0) this.notifyRemoval(shard, physicalDb, e, evicted);
        if (this.tracking.active) this.tracking.invalidateRemoved(shard.u8, shard.keyStart(e), shard.u32[(e + E_KEYLEN) >>> 2]);
      };
      shard.expiryHeld = expiryHeld;
    }
    this.watches = new WatchSlots(new Int32Array(init.watchStates), this.index, this.flags, WATCHED_KEYS_WORD);
    this.blocked = new BlockedClients(new Int32Array(init.blockedStates), this.index, this.ks.shards);
    this.setRole(init.replica, false);
    this.applyConfig();
    this.hooks = {
      serveBlocked: (c) => serveReadyKeys(c, this.blocked.states, this.serveHooks),
      serveDeferred: (c) => serveDeferred(c, this.blocked.states, this.serveHooks),
      clientPause: (c, spec, isWrite) => this.postponed(c, spec, isWrite),
      feedMonitors: (c, spec) => {
        if (this.monitors.active) this.monitors.feed(c, spec);
      },
      ensureMemory: (c) => this.ensureMemory(c),
      busyScript: () => this.scripting.busy.busyReply(),
      route: this.slotTable ? (c, spec, asking, queue) => routeCommand(c, spec, this.slotTable!, asking, queue) : undefined,
      masterDown: () => this.isReplica && !this.masterLinkUp && !this.replicaServeStaleData,
      onHandlerError: (spec, err) => log('warning', `Command '${spec.fullName}' failed: ${err instanceof Error ? err.stack : String(err)}`),
      writes: this.writeHooks(),
    };
    this.services = workerServices(this);
    this.ctx = new CommandContext(this.out, this.ks);
    this.ctx.server = this.services;
    this.ctx.hooks = this.hooks;
  }

  start(): void {
    const hz = this.config.number('hz');
    this.cronTimer = setInterval(() => this.cron(), Math.max(2, Math.floor(1000 / hz)));
    this.cronTimer.unref();
  }

  stop(): void {
    if (this.cronTimer) clearInterval(this.cronTimer);
    for (const c of [...this.connections.values()]) c.close();
  }

  /** Applies configuration values that live in hot objects. */
  /** Values read on every command or read, kept out of the config map (a lookup costs ~26 ns). */
  maxmemory = 0;
  queryBufferLimit = 0;
  /** notify-keyspace-events (keyspace-events.ts's flags). */
  keyspaceEvents = 0;
  /** client-output-buffer-limit, by ClientClass. */
  bufferLimits: BufferLimit[] = [];

  readonly limits = defaultCollectionLimits();

  applyConfig(): void {
    const l = this.limits;
    if (this.scripting !== undefined) this.scripting.busy.threshold = this.config.number('busy-reply-threshold');
    l.hashMaxListpackEntries = this.config.number('hash-max-listpack-entries');
    l.hashMaxListpackValue = this.config.number('hash-max-listpack-value');
    // Redis caps the intset at 2^30 entries whatever the setting (intsetUpgradeAndAdd's limit).
    l.setMaxIntsetEntries = Math.min(this.config.number('set-max-intset-entries'), 2 ** 30);
    l.zsetMaxListpackEntries = this.config.number('zset-max-listpack-entries');
    l.zsetMaxListpackValue = this.config.number('zset-max-listpack-value');
    l.listMaxListpackSize = this.config.number('list-max-listpack-size');
    this.maxmemory = this.config.number('maxmemory');
    this.queryBufferLimit = this.config.number('client-query-buffer-limit');
    this.bufferLimits = parseBufferLimits(this.config.get('client-output-buffer-limit')!);
    this.keyspaceEvents = parseEventClasses(this.config.get('notify-keyspace-events')!);
    this.tracking.maxKeys = this.config.number('tracking-table-max-keys');
    // Undefined only while the constructor runs applyConfig before building the services.
    if (this.services !== undefined) this.services.keyspaceEvents = this.keyspaceEvents;
    const policy = this.config.get('maxmemory-policy')!;
    this.ks.policy = policy.endsWith('-lfu') ? AccessPolicy.Lfu : AccessPolicy.Lru;
    this.ks.lfuLogFactor = this.config.number('lfu-log-factor');
    this.ks.lfuDecayTime = this.config.number('lfu-decay-time');
    if (this.parserLimits) this.parserLimits.protoMaxBulkLen = this.config.number('proto-max-bulk-len');
    this.replicaReadOnly = this.config.bool('replica-read-only');
    this.replicaServeStaleData = this.config.bool('replica-serve-stale-data');
    setLogLevel(this.config.get('loglevel')!);
  }

  onMessage(m: ToWorker): void {
    switch (m.type) {
      case 'config':
        for (const [k, v] of m.pairs) this.config.setRaw(k, v);
        this.applyConfig();
        break;
      case 'rpc':
        this.post({ type: 'rpc-part', rid: m.rid, part: this.answerRpc(m.request) });
        break;
      case 'unblock':
        this.blocked.delivered(m.slot, m.generation, m.reply);
        break;
      case 'monitor-line':
        this.monitors.deliver(m.line);
        break;
      case 'tracking-deliver':
        this.tracking.delivered(m.targetId, m.trackerId, m.trackerThread, m.value);
        break;
      case 'tracking-broken':
        this.tracking.brokenRedirect(m.trackerId);
        break;
      case 'pubsub-blob':
        this.subscriptions.blobArrived(m.id, m.message);
        break;
      case 'pubsub-delta':
        this.subscriptions.applyDelta(m.worker, m.kind, m.names, m.delta);
        if (m.ack > 0) this.post({ type: 'pubsub-delta-ack', ack: m.ack });
        break;
      case 'replica-out': {
        const held = this.replicaHeld.get(m.clientId);
        if (held) {
          held.push(m.data);
          break;
        }
        // Through the connection's outbox, in order; client-output-buffer-limit replica applies once it is written.
        const conn = this.replicaConnections.get(m.clientId);
        if (conn) conn.send(m.data);
        break;
      }
      case 'replica-close':
        this.replicaConnections.get(m.clientId)?.close();
        break;
      case 'repl-apply':
        this.runApply(m.id, m.op, m.data);
        break;
      case 'replication-role':
        this.setRole(m.replica, m.masterLinkUp);
        break;
      case 'barrier':
        this.post({ type: 'barrier-done', id: m.id });
        break;
      case 'rpc-result': {
        const resolve = this.rpcWaiting.get(m.rid);
        this.rpcWaiting.delete(m.rid);
        resolve?.(m.parts);
        break;
      }
      default:
        break;
    }
  }

  post(m: FromWorker, transfer?: ArrayBuffer[]): void {
    parentPort!.postMessage(m, transfer);
  }

  connectionOpened(c: Connection): void {
    this.connections.set(c.id, c);
    this.stats.connectionsReceived++;
  }

  private clientListState(c: Connection): ClientListState {
    const [channels, patterns, shardChannels] = this.subscriptions.heldCounts(c.id);
    return { channels, patterns, shardChannels, blocked: this.blocked.isBlocked(c.id), watchDirty: c.watch !== null && this.watches.dirty(c.watch) };
  }

  connectionClosed(c: Connection): void {
    this.blocked.clientClosed(c.id);
    c.multi = null;
    unwatchAllKeys(this.ks, c, this.watches, 0);
    this.monitors.remove(c.id);
    this.subscriptions.dropClient(c);
    this.tracking.disable(c);
    if (this.connections.delete(c.id)) Atomics.sub(this.connectionCounts, this.index, 1);
    if (this.replicaConnections.delete(c.id)) this.post({ type: 'replica-closed', clientId: c.id });
  }

  // ---- replication ----

  private setRole(replica: boolean, masterLinkUp: boolean): void {
    // replicationSetMaster's disconnectAllBlockedClients: a blocked pop waits for writes this node no longer takes.
    if (replica && !this.isReplica) this.blocked.unblockAll();
    this.isReplica = replica;
    this.masterLinkUp = masterLinkUp;
    for (const shard of this.ks.shards) shard.keepExpired = replica;
  }

  private writeHooks(): WriteHooks {
    const rt = this;
    const log = this.replicationLog;
    const propagator = this.propagator;
    return {
      refusal: () => (rt.isReplica && rt.replicaReadOnly ? "-READONLY You can't write against a read only replica." : null),
      paused: () => log.whenWritesResume(),
      get propagating() {
        return log.active;
      },
      get replica() {
        return rt.isReplica;
      },
      enterMultiShard: () => log.tryEnterMultiShardWrite(),
      leaveMultiShard: () => log.leaveMultiShardWrite(),
      propagate: (c) => {
        const tag = shardTag(c.lockedShards);
        if (c.propagateAs !== null) propagator.rewritten(tag, c.client.db, c.propagateAs);
        else propagator.command(tag, c.client.db, c.buf, c.argc, c.argStart, c.argLen);
      },
      beginTransaction: () => propagator.beginTransaction(),
      endTransaction: (c) => propagator.endTransaction(shardTag(c.lockedShards)),
    };
  }

  /** The `expired` or `evicted` event of a key the store removes. */
  private notifyRemoval(shard: Shard, physicalDb: number, e: number, evicted: boolean): void {
    const db = this.ks.logicalDb(physicalDb);
    notifyKeyspaceEvent(this.keyspaceEvents, this.services.pubsub.notify, evicted ? EventClass.Evicted : EventClass.Expired,
      evicted ? 'evicted' : 'expired', db, shard.u8, shard.keyStart(e), shard.u32[(e + E_KEYLEN) >>> 2]);
  }

  /** DEL for a key the store removed (expired or evicted): Redis's propagateDeletion. */
  private propagateRemoval(shardIndex: number, physicalDb: number, e: number): void {
    const shard = this.ks.shards[shardIndex];
    const db = this.ks.logicalDb(physicalDb);
    this.propagator.deletion(shardIndex, db, shard.u8, shard.keyStart(e), shard.u32[(e + E_KEYLEN) >>> 2]);
  }

  private runApply(id: number, op: ApplyOp, data: Uint8Array | null): void {
    // The stream applies each command at once: the Lua engine its scripting commands (FUNCTION LOAD...) need
    // is loaded first. Entries that arrive meanwhile wait behind in order (their callbacks chain on one promise).
    if ((op === 'apply' || op === 'functions') && this.scripting.runner === null) {
      void this.scripting.start().then(() => this.runApply(id, op, data));
      return;
    }
    this.applier ??= new StreamApplier(this.ks, this.services, this.hooks);
    let error: string | null = null;
    try {
      if (op === 'flush') this.applier.flush();
      else if (op === 'functions') this.scripting.runner!.functions.replaceAll(functionCodes(data!));
      else if (op === 'load') this.applier.load(data!);
      else this.applier.apply(data!);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      log('warning', `Replication ${op} failed: ${e instanceof Error ? e.stack : error}`);
    }
    this.post({ type: 'repl-applied', id, error });
  }

  /**
   * Sends a request to the coordinator and resolves with the parts of its
   * 'rpc-result' (request ids carry the worker index, so they never collide).
   */
  request(message: (rid: number) => FromWorker): Promise<unknown[]> {
    const rid = ++this.rpcSeq * 1000 + this.index;
    return new Promise((resolve) => {
      this.rpcWaiting.set(rid, resolve);
      this.post(message(rid));
    });
  }

  /** Asks every worker (through the coordinator) and gathers their answers. */
  rpc(request: RpcRequest): Promise<unknown[]> {
    return this.request((rid) => ({ type: 'rpc', rid, request }));
  }

  private answerRpc(request: RpcRequest): unknown {
    switch (request.kind) {
      case 'client-list': {
        const lines: [number, string][] = [];
        for (const c of this.connections.values()) if (matchesFilter(c, request.filter)) lines.push([c.id, clientInfoLine(c, Date.now(), this.clientListState(c))]);
        return lines;
      }
      case 'client-unblock':
        return this.blocked.unblock(request.id, request.error);
      case 'client-locate':
        return this.connections.has(request.id) ? this.index : -1;
      case 'client-kill': {
        let n = 0;
        for (const c of [...this.connections.values()]) {
          if (matchesFilter(c, request.filter)) {
            n++;
            // Like Redis, the killer's own connection is closed after its reply.
            if (c.id === request.filter.self) c.closeAfterReply = true;
            else c.close();
          }
        }
        return n;
      }
      case 'collect-garbage':
        collectGarbage();
        this.publishStats();
        return 0;
      case 'reset-stats':
        for (const k of Object.keys(this.stats) as (keyof LocalStats)[]) this.stats[k] = 0;
        this.publishStats();
        return 0;
    }
  }

  publishStats(): void {
    const t = this.statsTable;
    const i = this.index;
    const s = this.stats;
    t.set(i, StatField.Commands, s.commands);
    t.set(i, StatField.KeyspaceHits, s.keyspaceHits);
    t.set(i, StatField.KeyspaceMisses, s.keyspaceMisses);
    t.set(i, StatField.RejectedCalls, s.rejectedCalls);
    t.set(i, StatField.FailedCalls, s.failedCalls);
    t.set(i, StatField.NetInputBytes, s.netInput);
    t.set(i, StatField.NetOutputBytes, s.netOutput);
    t.set(i, StatField.ConnectionsReceived, s.connectionsReceived);
    t.set(i, StatField.ExpireCycles, s.expireCycles);
    t.set(i, StatField.ClientsTimedOut, s.clientsTimedOut);
    t.set(i, StatField.BlockedClients, this.blocked.count);
    t.set(i, StatField.LuaMemory, this.scripting.runner?.luaMemory ?? 0);
    t.set(i, StatField.HeapUsed, process.memoryUsage().heapUsed);
  }

  /**
   * Frees unlinked collections of the owned shards, LAZYFREE_STEP units per
   * lock hold, for at most LAZYFREE_BUDGET_MS per cron tick (Redis frees them
   * on its lazyfree thread; here the owning worker does, between commands).
   */
  private freeLazily(): void {
    const deadline = performance.now() + LAZYFREE_BUDGET_MS;
    for (const si of this.ownedShards) {
      const shard = this.ks.shards[si];
      let more = shard.lazyPending;
      while (more && performance.now() < deadline) {
        shard.lock();
        try {
          more = shard.freeLazySome(LAZYFREE_STEP);
        } finally {
          shard.unlock();
        }
      }
    }
  }

  /**
   * Incremental rehashing also advances in the background (Redis's
   * activerehashing), for at most REHASH_BUDGET_MS per cron tick as Redis's
   * databasesCron rehashes for a millisecond: a growing keyspace does not
   * stall the thread's clients every tick. The next tick starts at the shard
   * after the last one served.
   */
  private rehashInBackground(): void {
    const shards = this.ownedShards;
    const deadline = performance.now() + REHASH_BUDGET_MS;
    for (let k = 0; k < shards.length; k++) {
      const shard = this.ks.shards[shards[(this.rehashNext + k) % shards.length]];
      shard.lock();
      try {
        for (let d = 0; d < this.ks.databases; d++) shard.rehashSome(d, 1000);
      } finally {
        shard.unlock();
      }
      if (performance.now() >= deadline) {
        this.rehashNext = (this.rehashNext + k + 1) % shards.length;
        return;
      }
    }
  }

  private maintain(): void {
    const now = Date.now();
    // checkClientPauseTimeoutAndReturnIfPaused: the dataset holds still while clients are paused.
    if (Atomics.load(this.flags, ACTIVE_EXPIRE_WORD) === 1 && this.pause.typeAt(now) === PauseType.None) {
      this.stats.expireCycles++;
      // Redis gives the slow cycle 25% of each cron period.
      const budget = 250 / this.config.number('hz');
      activeExpireCycle(this.ks, this.ownedShards, now, budget, this.config.number('active-expire-effort'));
    }
    this.rehashInBackground();
    this.freeLazily();
  }

  /**
   * The cron's work: a lock wait there gives up while a script that runs
   * past busy-reply-threshold holds the lock, and the rest waits for the
   * next tick, so that this thread goes on answering (BUSY, SCRIPT KILL).
   */
  private cron(): void {
    beginInterruptibleWaits();
    try {
      this.maintain();
    } catch (err) {
      if (!(err instanceof BusyScriptError)) throw err;
    } finally {
      endInterruptibleWaits();
    }
    this.serveHousekeeping();
  }

  private serveHousekeeping(): void {
    const now = Date.now();
    if (this.slotTable !== null && this.blocked.count > 0) this.blocked.redirectIfNeeded(this.slotTable);
    this.subscriptions.dropMovedShardChannels();
    this.tracking.cron();
    for (const c of this.spareHolders) if (c.releaseIdleSpare(now)) this.spareHolders.delete(c);
    const timeout = this.config.number('timeout');
    if (timeout > 0) {
      for (const c of [...this.connections.values()]) {
        if (now - c.lastInteraction > timeout * 1000) {
          log('verbose', `Closing idle client id=${c.id}`);
          this.stats.clientsTimedOut++;
          c.close();
        }
      }
    }
    this.publishStats();
  }

  /**
   * processCommand's pause check: while a CLIENT PAUSE covers this command
   * (ALL: any; WRITE: writes and may-replicate ones), the promise it waits
   * on before running from scratch; null otherwise.
   */
  private postponed(c: CommandContext, spec: CommandSpec, isWrite: boolean): Promise<void> | null {
    const type = this.pause.typeAt(c.now);
    if (type === PauseType.None) return null;
    if (type === PauseType.Write && !isWrite && !spec.flags.includes('may_replicate')) return null;
    return this.pause.whenChanged(Date.now());
  }

  private ensureMemory(c: CommandContext): boolean {
    const max = this.maxmemory;
    if (max === 0) return true;
    const ks = this.ks;
    if (ks.liveBytes() <= max) return true;
    // performEvictions fails while clients are paused: nothing is evicted, the write gets OOM.
    if (this.pause.typeAt(Date.now()) !== PauseType.None) return false;
    const policy = this.config.get('maxmemory-policy') as EvictionPolicy;
    const samples = this.config.number('maxmemory-samples');
    const deadline = performance.now() + 5;
    while (ks.liveBytes() > max) {
      // The key being written may be the one evicted; that is Redis's behaviour too.
      if (!evictOne(ks, policy, samples, c.now)) break;
      if (performance.now() > deadline) return true;
    }
    return ks.liveBytes() <= max;
  }

  /** REPLICAOF, ROLE, WAIT and PSYNC as commands see them: the coordinator's replication, asked through `replicationCall`. */
  replicationServices(replicationCall: (request: ReplicationRequest) => Promise<unknown>): ServerServices['replication'] {
    return {
      role: async () => ({ array: (await replicationCall({ kind: 'role' })) as ReplyValue[] }),
      wait: async (replicas, timeoutMs) => (await replicationCall({ kind: 'wait', replicas, timeoutMs })) as number | string,
      replicaof: async (target) => (await replicationCall(target ? { kind: 'replicaof', ...target } : { kind: 'replicaof-no-one' })) as string,
      psync: async (client, replid, offset) => {
        const conn = client as Connection;
        this.replicaConnections.set(conn.id, conn);
        const ip = conn.address.slice(0, conn.address.lastIndexOf(':'));
        // The stream the coordinator sends may arrive before this reply is written: hold it until the
        // +FULLRESYNC / +CONTINUE line is flushed (setImmediate runs after the reply's microtasks).
        this.replicaHeld.set(conn.id, []);
        const line = (await replicationCall({ kind: 'psync', worker: this.index, clientId: conn.id, ip, port: conn.replicaListeningPort, replid, offset })) as string;
        if (!line.startsWith('+')) {
          this.replicaConnections.delete(conn.id);
          this.replicaHeld.delete(conn.id);
          return line;
        }
        setImmediate(() => {
          const held = this.replicaHeld.get(conn.id) ?? [];
          this.replicaHeld.delete(conn.id);
          for (const data of held) conn.send(data);
        });
        return line;
      },
      ack: (client, offset) => this.post({ type: 'replica-ack', clientId: client.id, offset }),
    };
  }

  connectedClients(): number {
    let n = 0;
    for (let i = 0; i < this.workers; i++) n += Atomics.load(this.connectionCounts, i);
    return n;
  }

  cpuUsage(): NodeJS.CpuUsage {
    return process.cpuUsage(this.cpuStart);
  }
}
