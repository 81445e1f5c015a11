/**
 * The failover side of clusterCron and clusterProcessPacket in one place:
 * runs the election, manual failover and replica migration logic on every
 * cron, routes the failover messages (FAILOVER_AUTH_REQUEST/ACK, MFSTART)
 * to them, and keeps replication following what the cluster says this
 * node is: a replica of a given master (replicationSetMaster), or a master
 * (replicationUnsetMaster).
 */
import { type BusMessage, MessageType } from './bus-frames.js';
import { type ClusterNode, NodeFlag } from './cluster-node.js';
import { Election, type FailoverHost } from './failover.js';
import { ManualFailover, type ManualFailoverMode } from './manual-failover.js';
import { ReplicaMigration } from './replica-migration.js';

export class FailoverController {
  readonly election: Election;
  readonly manual: ManualFailover;
  readonly migration: ReplicaMigration;
  /** The master replication was last pointed at, by id and address; null while myself is a master. */
  private following: { id: string; ip: string; port: number } | null = null;

  constructor(
    private readonly host: FailoverHost,
    /** clusterSetMaster: myself becomes a replica of the node (Gossip.setMyMaster). */
    setMyMaster: (master: ClusterNode) => void,
    random: () => number = Math.random,
  ) {
    this.manual = new ManualFailover(host);
    this.election = new Election(host, { promoted: () => this.promoted(), resetManualFailover: () => this.manual.reset() }, random);
    this.migration = new ReplicaMigration(host, setMyMaster);
  }

  /** The failover part of clusterCron, in Redis's order. */
  cron(now = Date.now()): void {
    const state = this.host.state;
    const me = state.myself;
    // What my pings advertise: my replication offset (replicationGetSlaveOffset / master_repl_offset).
    me.replicationOffset = this.host.replication.offset();
    this.updateMyselfFlags();
    this.syncReplication();
    this.manual.checkTimeout(now);
    if (me.isReplica) {
      this.manual.handleReplicaProgress();
      this.election.handleReplicaFailover(now);
      this.migration.cron(now);
    } else {
      this.manual.pingReplica();
    }
  }

  /** FAILOVER_AUTH_REQUEST, FAILOVER_AUTH_ACK and MFSTART from a known node. */
  handleMessage(message: BusMessage, sender: ClusterNode, now = Date.now()): void {
    switch (message.type) {
      case MessageType.FailoverAuthRequest:
        this.election.handleAuthRequest(sender, message, now);
        return;
      case MessageType.FailoverAuthAck:
        // Maybe the quorum is reached now: check at once (CLUSTER_TODO_HANDLE_FAILOVER).
        if (this.election.handleAuthAck(sender, message)) this.election.handleReplicaFailover(now);
        return;
      case MessageType.MfStart:
        this.manual.handleStart(sender, now);
        return;
      default:
        return;
    }
  }

  /** A paused master's offset arrived; the manual failover may be able to start now. */
  handlePausedOffset(sender: ClusterNode, offset: number, now = Date.now()): void {
    if (this.manual.handlePausedOffset(sender, offset) && this.manual.handleReplicaProgress()) {
      this.election.handleReplicaFailover(now);
    }
  }

  /** CLUSTER FAILOVER [FORCE|TAKEOVER]: an error text, or null when accepted. */
  failoverCommand(mode: ManualFailoverMode, now = Date.now()): string | null {
    return this.manual.command(mode, this.election, now);
  }

  /** clusterUpdateMyselfFlags: cluster-replica-no-failover shows as the nofailover flag. */
  private updateMyselfFlags(): void {
    const state = this.host.state;
    const me = state.myself;
    const noFailover = state.options.replicaNoFailover ? NodeFlag.NoFailover : 0;
    if ((me.flags & NodeFlag.NoFailover) !== noFailover) {
      me.flags = (me.flags & ~NodeFlag.NoFailover) | noFailover;
      state.changed();
    }
  }

  /**
   * Points replication at my master whenever it (or its address) changes,
   * however that happened: a failover, an UPDATE, CLUSTER REPLICATE, replica
   * migration, nodes.conf at start (clusterSetMaster, nodeUpdateAddressIfNeeded
   * and clusterCron's "replication is still turned off"). A new master ends
   * any manual failover, which resumes writes if I had paused them for one.
   * A replica turned master (CLUSTER RESET) stops replicating.
   */
  syncReplication(): void {
    const state = this.host.state;
    const me = state.myself;
    if (me.isMaster) {
      if (this.following) this.promoted();
      return;
    }
    const master = me.masterId ? state.node(me.masterId) : undefined;
    if (!master || master.flags & NodeFlag.NoAddress || !master.ip || master.port === 0) return;
    const current = this.following;
    if (current && current.id === master.id && current.ip === master.ip && current.port === master.port) return;
    if (!current || current.id !== master.id) this.manual.reset();
    this.following = { id: master.id, ip: master.ip, port: master.port };
    this.host.replication.replicateFrom(master.ip, master.port);
  }

  /** replicationUnsetMaster: myself is a master now. */
  private promoted(): void {
    this.following = null;
    this.host.replication.promote();
  }
}
