/**
 * Cluster mode on the coordinator thread: loads or creates nodes.conf, owns
 * the ClusterState and the bus, answers the CLUSTER subcommands workers
 * forward, saves nodes.conf when the configuration changes, and publishes
 * the slot table the workers route by.
 */
import path from 'node:path';
import { bindAddresses, type Config } from './config.js';
import { Keyspace, type KeyspaceBuffers } from '../store/keyspace.js';
import { ClusterState, type ClusterOptions } from '../cluster/cluster-state.js';
import { loadNodesConf, saveNodesConf } from '../cluster/nodes-conf.js';
import { allocateSlotTable, MAX_NODES, SlotTable } from '../cluster/slot-table.js';
import { executeClusterCommand, type ClusterCommandEnvironment } from '../cluster/cluster-commands.js';
import type { ClusterNode } from '../cluster/cluster-node.js';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { MessageFlag, MessageType } from '../cluster/bus-frames.js';
import { FailoverController } from '../cluster/failover-controller.js';
import type { FailoverHost } from '../cluster/failover.js';
import type { ReplyValue } from '../protocol/reply-value.js';
import { log, type LogLevel } from './log.js';
import type { ReplicationControl } from '../replication/replication-control.js';

export function clusterOptions(config: Config): ClusterOptions {
  const port = config.number('port');
  const cport = config.number('cluster-port') || port + 10000;
  return {
    port: config.number('cluster-announce-port') || port,
    cport: config.number('cluster-announce-bus-port') || cport,
    announceIp: config.get('cluster-announce-ip')!,
    announceHostname: config.get('cluster-announce-hostname')!,
    nodeTimeout: config.number('cluster-node-timeout'),
    requireFullCoverage: config.bool('cluster-require-full-coverage'),
    replicaValidityFactor: config.number('cluster-replica-validity-factor'),
    // Redis's default (10 s) until the configuration has the option.
    replPingReplicaPeriod: Number(config.get('repl-ping-replica-period') ?? '10'),
    migrationBarrier: config.number('cluster-migration-barrier'),
    allowReplicaMigration: config.bool('cluster-allow-replica-migration'),
    replicaNoFailover: config.bool('cluster-replica-no-failover'),
  };
}

export class ClusterCoordinator {
  readonly state: ClusterState;
  readonly table: SlotTable;
  readonly file: string;
  readonly bus: ClusterBus;
  readonly failover: FailoverController;
  private readonly ks: Keyspace;
  private readonly nodeIndex = new Map<ClusterNode, number>();
  private readonly freeIndexes: number[] = [];
  private nextIndex = 0;
  private cron: NodeJS.Timeout | undefined;
  private readonly env: ClusterCommandEnvironment;

  constructor(private readonly config: Config, keyspace: KeyspaceBuffers, private readonly replication: ReplicationControl) {
    // cluster-config-file is relative to dir, where the server runs.
    this.file = path.resolve(config.get('cluster-config-file')!);
    const options = clusterOptions(config);
    const loaded = loadNodesConf(this.file, options);
    this.state = loaded ?? new ClusterState(options);
    log('notice', loaded ? `Node configuration loaded, I'm ${this.state.myself.id}` : `No cluster configuration found, I'm ${this.state.myself.id}`);
    this.state.onStateChange = (next) => log('warning', `Cluster state changed: ${next}`);
    this.save();
    this.ks = new Keyspace(keyspace);
    // The main thread may not block in Atomics.wait: its locks only spin.
    for (const s of this.ks.shards) s.canWait = false;
    this.table = new SlotTable(allocateSlotTable());
    this.table.clear();
    this.env = {
      state: this.state,
      meet: (ip, port, cport) => this.bus.meet(ip, port, cport),
      // CLUSTER LINKS fields, in Redis's order (addReplyClusterLinkDescription).
      links: () => this.bus.links().map((l) => [
        ['direction', { bulk: l.direction }],
        ['node', { bulk: l.node }],
        ['create-time', { int: l.createTime }],
        ['events', { bulk: l.events }],
        ['send-buffer-allocated', { int: l.sendBufferAllocated }],
        ['send-buffer-used', { int: l.sendBufferUsed }],
      ]),
      failureReports: (node) => this.bus.failureReportCount(node),
      linksFreedForBufferLimit: () => this.bus.linksFreedForBufferLimit,
      keysInSlot: (slot) => this.ks.shardOf(slot).slotKeys(this.ks.dbMap[0], this.ks.slotIndex(slot)),
      totalKeys: () => {
        let n = 0;
        for (let db = 0; db < this.ks.databases; db++) n += this.ks.keyCount(db);
        return n;
      },
      flushAll: () => {
        this.ks.lockAll();
        for (const s of this.ks.shards) s.flushAll();
        this.ks.unlockAll();
      },
      saveConfig: () => this.save(),
      broadcastPong: () => this.bus.broadcastPong(),
      replicationOffset: () => replication.offset(),
      failover: (mode) => this.failover.failoverCommand(mode),
    };
    this.bus = new ClusterBus(this.state, {
      port: config.number('cluster-port') || config.number('port') + 10000,
      listen: bindAddresses(config.get('bind')!),
      log: (level, message) => log(level as LogLevel, message),
    });
    const failoverHost: FailoverHost = {
      state: this.state,
      replication,
      requestVotes: (forceAck) => this.bus.sendFailoverMessage(MessageType.FailoverAuthRequest, undefined, forceAck ? MessageFlag.ForceAck : 0),
      sendVote: (to) => this.bus.sendFailoverMessage(MessageType.FailoverAuthAck, to),
      sendManualFailoverStart: (to) => this.bus.sendFailoverMessage(MessageType.MfStart, to),
      ping: (node) => this.bus.ping(node),
      broadcastPong: (target) => this.bus.broadcastPong(target),
      commit: () => this.tick(),
      log: (level, message) => log(level, message),
    };
    this.failover = new FailoverController(failoverHost, (master) => this.bus.gossip.setMyMaster(master));
    // Slots another master took over: their keys here are stale (Redis deletes them).
    this.bus.on('slots-lost', (slots: number[]) => this.deleteKeysInSlots(slots));
    // Myself follows a new master, or my master moved: replication follows at once.
    this.bus.on('replicate', () => this.failover.syncReplication());
    this.bus.on('failover', (message, sender) => this.failover.handleMessage(message, sender));
    this.bus.on('master-paused', (sender, offset) => this.failover.handlePausedOffset(sender, offset));
    this.bus.on('cron', (now) => this.failover.cron(now));
    this.state.updateState();
    this.publish();
  }

  async start(): Promise<void> {
    await this.bus.start();
    this.cron = setInterval(() => this.tick(), 100);
    this.cron.unref();
  }

  stop(): void {
    if (this.cron) clearInterval(this.cron);
    void this.bus.stop();
    if (this.state.configDirty) this.save();
  }

  /** CONFIG SET changed a cluster-* option. */
  reconfigure(): void {
    this.state.options = clusterOptions(this.config);
    this.state.applyMyAddress();
    this.state.changed();
    this.tick();
  }

  execute(args: string[]): ReplyValue {
    const reply = executeClusterCommand(this.env, args);
    this.tick();
    return reply;
  }

  /** Every 100 ms, and after each command: state, nodes.conf, slot table. */
  tick(): void {
    this.state.updateState();
    if (this.state.configDirty) this.save();
    if (this.state.topologyDirty) this.publish();
  }

  private deleteKeysInSlots(slots: number[]): void {
    let deleted = 0;
    for (const slot of slots) {
      const shard = this.ks.shardOf(slot);
      shard.lock();
      try {
        deleted += shard.flushSlot(this.ks.dbMap[0], this.ks.slotIndex(slot));
      } finally {
        shard.unlock();
      }
    }
    if (deleted > 0) log('notice', `Deleted ${deleted} keys from ${slots.length} slots now served by another master`);
  }

  save(): void {
    try {
      saveNodesConf(this.file, this.state);
      this.state.configDirty = false;
    } catch (e) {
      log('warning', `Could not save the cluster configuration to ${this.file}: ${(e as Error).message}`);
    }
  }

  /** A node's slot-table index: stable while the node is known; released indexes are reused. */
  private indexOf(node: ClusterNode): number {
    let i = this.nodeIndex.get(node);
    if (i === undefined) {
      i = this.freeIndexes.pop() ?? this.nextIndex++;
      if (i >= MAX_NODES) throw new Error(`more than ${MAX_NODES} cluster nodes`);
      this.nodeIndex.set(node, i);
    }
    return i;
  }

  /** Writes the topology for the workers: node records first, then the slots that refer to them. */
  publish(): void {
    const { state, table } = this;
    table.beginWrite();
    // Forgotten or renamed-away nodes give their index back; no slot refers to them any more.
    for (const [node, index] of [...this.nodeIndex]) {
      if (state.nodes.get(node.id) !== node) {
        this.nodeIndex.delete(node);
        this.freeIndexes.push(index);
      }
    }
    for (const node of state.nodes.values()) {
      const master = node.isReplica && node.masterId ? state.node(node.masterId) : undefined;
      table.setNode(this.indexOf(node), `${node.ip}:${node.port}`, master ? this.indexOf(master) : -1);
    }
    for (let s = 0; s < 16384; s++) {
      const o = state.owner[s];
      table.owner[s] = o ? this.indexOf(o) : -1;
      const m = state.migratingTo[s];
      table.migrating[s] = m ? this.indexOf(m) : -1;
      const i = state.importingFrom[s];
      table.importing[s] = i ? this.indexOf(i) : -1;
    }
    table.setHeader(state.state === 'ok', this.indexOf(state.myself));
    table.endWrite();
    state.topologyDirty = false;
  }
}
