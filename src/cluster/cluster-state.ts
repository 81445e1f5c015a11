/**
 * The cluster as this node sees it, owned by the coordinator thread: the
 * known nodes, the epochs, which node serves each slot, slots being migrated
 * or imported, and the resulting cluster state (Redis's clusterState).
 * Changes go through methods that record what must follow: saving nodes.conf
 * and publishing the slot table to the workers.
 */
import { ClusterNode, NodeFlag, randomNodeId, SLOTS } from './cluster-node.js';

/** Redis's CLUSTER_WRITABLE_DELAY: a master waits this long after start before the state can be ok. */
const WRITABLE_DELAY = 2000;
/** Redis's CLUSTER_MIN_REJOIN_DELAY and CLUSTER_MAX_REJOIN_DELAY: the bounds of the wait after a minority partition. */
const MIN_REJOIN_DELAY = 500;
const MAX_REJOIN_DELAY = 5000;
/** Redis's CLUSTER_BLACKLIST_TTL: a forgotten node is not re-added by gossip for this long (s). */
export const FORGET_TTL_SECONDS = 60;

export interface ClusterOptions {
  port: number;
  cport: number;
  announceIp: string;
  announceHostname: string;
  nodeTimeout: number;
  requireFullCoverage: boolean;
  /** cluster-replica-validity-factor: how stale a replica's data may be for it to fail over (0: any). */
  replicaValidityFactor: number;
  /** repl-ping-replica-period in seconds: part of the data-age allowance (clusterHandleSlaveFailover). */
  replPingReplicaPeriod: number;
  /** cluster-migration-barrier: replicas a master keeps before one of them may migrate. */
  migrationBarrier: number;
  /** cluster-allow-replica-migration: replicas migrate to orphaned masters, and a master left without slots follows their new owner. */
  allowReplicaMigration: boolean;
  /** cluster-replica-no-failover: this replica never starts an automatic failover. */
  replicaNoFailover: boolean;
}

/** Manual failover progress (the mf_* fields of Redis's clusterState). */
export interface ManualFailoverProgress {
  /** Unix ms when it times out (mf_end); 0 when no manual failover is in progress. */
  end: number;
  /** Replica: the election may start, the master's paused offset being reached or FORCE given (mf_can_start). */
  canStart: boolean;
  /** Master: the replica that asked for it with MFSTART (mf_slave). */
  replica: ClusterNode | null;
  /** Replica: the offset the paused master advertised; null until it arrives (mf_master_offset -1). */
  masterOffset: number | null;
  /** Master: the offset writes were paused at, once the pause took effect; advertised with the PAUSED flag. */
  pausedOffset: number | null;
}

export class ClusterState {
  readonly nodes = new Map<string, ClusterNode>();
  myself: ClusterNode;
  currentEpoch = 0;
  lastVoteEpoch = 0;
  readonly owner: (ClusterNode | null)[] = new Array(SLOTS).fill(null);
  readonly migratingTo: (ClusterNode | null)[] = new Array(SLOTS).fill(null);
  readonly importingFrom: (ClusterNode | null)[] = new Array(SLOTS).fill(null);
  /**
   * The owner of a slot that it no longer claims (owner_not_claiming_slot): the slot stays
   * bound to it, but counts as unclaimed. Valid only while that node still owns the slot.
   */
  readonly ownerNotClaiming: (ClusterNode | null)[] = new Array(SLOTS).fill(null);
  readonly manualFailover: ManualFailoverProgress = { end: 0, canStart: false, replica: null, masterOffset: null, pausedOffset: null };
  state: 'ok' | 'fail' = 'fail';
  /** Called when updateState changes the state (Redis logs "Cluster state changed: ..."). */
  onStateChange: ((state: 'ok' | 'fail') => void) | null = null;
  /**
   * Masters serving at least one slot, as last counted by updateState
   * (server.cluster->size). It starts at 1, as clusterInit sets it, so
   * CLUSTER INFO says cluster_size:1 until the writable delay has passed.
   */
  size = 1;
  /** Unix ms of the last updateState that found this node in a minority (among_minority_time). */
  private amongMinorityTime = 0;
  /** Forgotten node ids and when their ban ends (unix ms). */
  readonly forgotten = new Map<string, number>();
  readonly messagesSent = new Map<string, number>();
  readonly messagesReceived = new Map<string, number>();
  private readonly startedAt = Date.now();
  /** Set when something changed that nodes.conf records. */
  configDirty = false;
  /** Set when the slot table the workers read must be published again. */
  topologyDirty = true;

  constructor(public options: ClusterOptions, myId = randomNodeId()) {
    this.myself = new ClusterNode(myId, NodeFlag.Myself | NodeFlag.Master);
    this.applyMyAddress();
    this.nodes.set(myId, this.myself);
  }

  applyMyAddress(): void {
    const me = this.myself;
    me.port = this.options.port;
    me.cport = this.options.cport;
    if (this.options.announceIp) me.ip = this.options.announceIp;
    me.hostname = this.options.announceHostname;
  }

  changed(saveConfig = true): void {
    if (saveConfig) this.configDirty = true;
    this.topologyDirty = true;
  }

  node(id: string): ClusterNode | undefined {
    return this.nodes.get(id);
  }

  /**
   * Finds a node by its full id as CLUSTER commands take it: exactly, as
   * clusterLookupNode does (verifyClusterNodeId accepts lowercase hex only,
   * so an uppercased id is an unknown node).
   */
  lookup(id: string): ClusterNode | undefined {
    return this.nodes.get(id);
  }

  addNode(node: ClusterNode): void {
    this.nodes.set(node.id, node);
    this.changed();
  }

  /** clusterDelNode: forget a node, its slots and its place as anyone's master. */
  deleteNode(node: ClusterNode): void {
    for (let s = 0; s < SLOTS; s++) {
      if (this.owner[s] === node) this.owner[s] = null;
      if (this.migratingTo[s] === node) this.migratingTo[s] = null;
      if (this.importingFrom[s] === node) this.importingFrom[s] = null;
    }
    this.nodes.delete(node.id);
    this.changed();
  }

  /** Renames a node learnt during the handshake under a random name. */
  renameNode(node: ClusterNode, id: string): void {
    this.nodes.delete(node.id);
    node.id = id;
    this.nodes.set(id, node);
    this.changed();
  }

  // ---- slots ----

  assignSlot(node: ClusterNode, slot: number): void {
    const previous = this.owner[slot];
    if (previous && previous !== node) previous.deleteSlot(slot);
    node.addSlot(slot);
    this.owner[slot] = node;
    this.changed();
  }

  unassignSlot(slot: number): void {
    const previous = this.owner[slot];
    if (previous) previous.deleteSlot(slot);
    this.owner[slot] = null;
    this.changed();
  }

  mastersServingSlots(): ClusterNode[] {
    return [...this.nodes.values()].filter((n) => n.isMaster && n.slotCount > 0);
  }

  replicasOf(master: ClusterNode): ClusterNode[] {
    return [...this.nodes.values()].filter((n) => n.isReplica && n.masterId === master.id);
  }

  /** Whether a slot has no owner, or an owner that stopped claiming it (isSlotUnclaimed). */
  slotUnclaimed(slot: number): boolean {
    const owner = this.owner[slot];
    return owner === null || this.ownerNotClaiming[slot] === owner;
  }

  /** The master whose slots a node serves: itself, or its master. */
  masterOf(node: ClusterNode): ClusterNode | undefined {
    return node.isReplica && node.masterId ? this.nodes.get(node.masterId) : node;
  }

  /** The highest configEpoch of all nodes (clusterGetMaxEpoch). */
  maxEpoch(): number {
    let max = this.currentEpoch;
    for (const n of this.nodes.values()) if (n.configEpoch > max) max = n.configEpoch;
    return max;
  }

  /** clusterBumpConfigEpochWithoutConsensus: returns whether the epoch changed. */
  bumpEpochWithoutConsensus(): boolean {
    const max = this.maxEpoch();
    if (this.myself.configEpoch === 0 || this.myself.configEpoch !== max) {
      this.currentEpoch++;
      this.myself.configEpoch = this.currentEpoch;
      this.changed();
      return true;
    }
    return false;
  }

  /**
   * clusterHandleConfigEpochCollision: two masters with one configEpoch; the
   * one with the smaller id takes a new epoch, so epochs converge.
   */
  handleEpochCollision(sender: ClusterNode): boolean {
    const me = this.myself;
    if (sender.configEpoch !== me.configEpoch || !sender.isMaster || !me.isMaster) return false;
    if (sender.id <= me.id) return false;
    this.currentEpoch++;
    me.configEpoch = this.currentEpoch;
    this.changed();
    return true;
  }

  // ---- cluster state ----

  /** clusterUpdateState: ok only with every slot served (if required) and a reachable majority of masters. */
  updateState(now = Date.now()): boolean {
    const before = this.state;
    if (this.myself.isMaster && this.state === 'fail' && now - this.startedAt < WRITABLE_DELAY) return false;
    let next: 'ok' | 'fail' = 'ok';
    if (this.options.requireFullCoverage) {
      for (let s = 0; s < SLOTS; s++) {
        const o = this.owner[s];
        if (o === null || o.failed) {
          next = 'fail';
          break;
        }
      }
    }
    const masters = this.mastersServingSlots();
    this.size = masters.length;
    const reachable = masters.filter((n) => !(n.flags & (NodeFlag.Fail | NodeFlag.PFail))).length;
    // A node that knows no slot-serving master is a minority too: given its
    // first slots after the writable delay, it waits the rejoin delay, as Redis does.
    if (reachable < Math.floor(this.size / 2) + 1) {
      next = 'fail';
      this.amongMinorityTime = now;
    }
    if (before === next) return false;
    // A master back from a minority waits node_timeout (clamped to 0.5..5 s)
    // for a configuration update before it serves again (clusterUpdateState).
    const rejoinDelay = Math.min(MAX_REJOIN_DELAY, Math.max(MIN_REJOIN_DELAY, this.options.nodeTimeout));
    if (next === 'ok' && this.myself.isMaster && now - this.amongMinorityTime < rejoinDelay) return false;
    this.state = next;
    this.topologyDirty = true;
    this.onStateChange?.(next);
    return true;
  }

  /** Slots assigned, and those whose owner is PFAIL or FAIL (CLUSTER INFO). */
  slotCounts(): { assigned: number; ok: number; pfail: number; fail: number } {
    let assigned = 0;
    let pfail = 0;
    let fail = 0;
    for (let s = 0; s < SLOTS; s++) {
      const o = this.owner[s];
      if (!o) continue;
      assigned++;
      if (o.flags & NodeFlag.Fail) fail++;
      else if (o.flags & NodeFlag.PFail) pfail++;
    }
    return { assigned, ok: assigned - pfail - fail, pfail, fail };
  }

  countMessage(map: Map<string, number>, type: string): void {
    map.set(type, (map.get(type) ?? 0) + 1);
  }

  /** Whether a forgotten node is still banned from being re-added; expired bans are dropped. */
  isForgotten(id: string, now = Date.now()): boolean {
    const until = this.forgotten.get(id);
    if (until === undefined) return false;
    if (until > now) return true;
    this.forgotten.delete(id);
    return false;
  }
}
