/**
 * Replica election and voting, as Redis 7.0 does them (cluster_legacy.c):
 * a replica whose master is FAIL (or that runs a manual failover) waits a
 * delay that grows with its rank among its master's replicas, bumps
 * currentEpoch and asks every master for its vote (clusterHandleSlaveFailover,
 * clusterGetSlaveRank, clusterRequestFailoverAuth); masters serving slots
 * vote once per epoch (clusterSendFailoverAuthIfNeeded); the replica that
 * gets a majority takes its master's slots with the election's epoch as its
 * configEpoch (clusterFailoverReplaceYourMaster).
 */
import type { ReplicationControl } from '../replication/replication-control.js';
import { MessageFlag, type MessageHeader } from './bus-frames.js';
import { type ClusterNode, NodeFlag, SLOTS } from './cluster-node.js';
import type { ClusterState } from './cluster-state.js';
import type { LogLevel } from './gossip.js';

/** What the failover logic needs from the node around it: the bus, nodes.conf, replication, the log. */
export interface FailoverHost {
  readonly state: ClusterState;
  readonly replication: ReplicationControl;
  /** Broadcasts FAILOVER_AUTH_REQUEST, with FORCEACK for a manual failover (clusterRequestFailoverAuth). */
  requestVotes(forceAck: boolean): void;
  /** Sends FAILOVER_AUTH_ACK to a replica (clusterSendFailoverAuth). */
  sendVote(to: ClusterNode): void;
  /** Sends MFSTART to my master (clusterSendMFStart). */
  sendManualFailoverStart(to: ClusterNode): void;
  /** Sends a PING to one node now. */
  ping(node: ClusterNode): void;
  /** clusterBroadcastPong, to every node or to the other replicas of my master. */
  broadcastPong(target: 'all' | 'local-replicas'): void;
  /** Applies a configuration change now: cluster state, nodes.conf (fsynced), the workers' slot table. */
  commit(): void;
  log(level: LogLevel, message: string): void;
}

/** What the election needs from the rest of the failover logic. */
export interface ElectionHooks {
  /** Myself became a master: replication stops following the old one (replicationUnsetMaster). */
  promoted(): void;
  /** resetManualFailover. */
  resetManualFailover(): void;
}

/** The election starts at least this long after the master is seen FAIL, for the FAIL to propagate. */
const ELECTION_FIXED_DELAY_MS = 500;
/** Plus a random delay below this, so replicas of one master rarely start together. */
const ELECTION_RANDOM_DELAY_MS = 500;
/** Plus this per replica with a better replication offset (rank). */
const ELECTION_RANK_DELAY_MS = 1000;
/** The shortest time an election waits for votes (auth_timeout is max(2 * node timeout, this)). */
const MIN_AUTH_TIMEOUT_MS = 2000;
/** Redis's CLUSTER_CANT_FAILOVER_RELOG_PERIOD: one reason is logged again only after this (ms). */
const CANT_FAILOVER_RELOG_MS = 10_000;
/** No "unable to failover" log during this long (plus node timeout) after the master failed. */
const CANT_FAILOVER_QUIET_MS = 5000;

/** Why a replica is not failing over (CLUSTER_CANT_FAILOVER_*), for the log. */
const enum CantFailover {
  None,
  DataAge,
  WaitingDelay,
  Expired,
  WaitingVotes,
}

const CANT_FAILOVER_TEXT: Record<Exclude<CantFailover, CantFailover.None>, string> = {
  [CantFailover.DataAge]:
    "Disconnected from master for longer than allowed. Please check the 'cluster-replica-validity-factor' configuration option.",
  [CantFailover.WaitingDelay]: 'Waiting the delay before I can start a new failover.',
  [CantFailover.Expired]: 'Failover attempt expired.',
  [CantFailover.WaitingVotes]: 'Waiting for votes, but majority still not reached.',
};

function hasBit(bitmap: Uint8Array, bit: number): boolean {
  return (bitmap[bit >> 3] & (1 << (bit & 7))) !== 0;
}

/** The election state of one replica and the voting rules of one master (the failover_auth_* fields). */
export class Election {
  /** When the election starts (in the future) or started; 0 before the first (failover_auth_time). */
  authTime = 0;
  /** Votes received in this election (failover_auth_count). */
  authCount = 0;
  /** Whether the vote requests of this election went out (failover_auth_sent). */
  authSent = false;
  /** My rank among my master's replicas when the election was scheduled (failover_auth_rank). */
  authRank = 0;
  /** The epoch this election runs for (failover_auth_epoch). */
  authEpoch = 0;
  private cantFailoverReason = CantFailover.None;
  private lastCantFailoverLog = 0;

  constructor(
    private readonly host: FailoverHost,
    private readonly hooks: ElectionHooks,
    private readonly random: () => number = Math.random,
  ) {}

  private myMaster(): ClusterNode | undefined {
    const me = this.host.state.myself;
    return me.isReplica && me.masterId ? this.host.state.node(me.masterId) : undefined;
  }

  /**
   * clusterGetSlaveRank: how many other replicas of my master (those allowed
   * to fail over) advertise a greater replication offset than mine.
   */
  rank(): number {
    const { state, replication } = this.host;
    const master = this.myMaster();
    if (!master) return 0;
    const myOffset = replication.offset();
    let rank = 0;
    for (const replica of state.replicasOf(master)) {
      if (replica === state.myself || replica.flags & NodeFlag.NoFailover) continue;
      if (replica.replicationOffset > myOffset) rank++;
    }
    return rank;
  }

  /** clusterHandleSlaveFailover: runs every cron, and as soon as a vote arrives. */
  handleReplicaFailover(now = Date.now()): void {
    const { state, replication } = this.host;
    const me = state.myself;
    const options = state.options;
    const mf = state.manualFailover;
    const authAge = now - this.authTime;
    const quorum = Math.floor(state.size / 2) + 1;
    const manual = mf.end !== 0 && mf.canStart;
    const authTimeout = Math.max(options.nodeTimeout * 2, MIN_AUTH_TIMEOUT_MS);
    const authRetryTime = authTimeout * 2;

    // Only a replica of a master that serves slots, with that master FAIL (or a manual
    // failover under way), and automatic failover allowed unless this is manual.
    const master = this.myMaster();
    if (!me.isReplica || !master || (!master.failed && !manual) || (options.replicaNoFailover && !manual) || master.slotCount === 0) {
      this.cantFailoverReason = CantFailover.None;
      return;
    }

    // Not being connected for the time it took to flag the master FAIL is
    // expected; beyond that, data older than the validity factor allows is
    // too stale to take over with (except when a human asks for it).
    let dataAge = replication.dataAgeMs();
    if (dataAge > options.nodeTimeout) dataAge -= options.nodeTimeout;
    const maxDataAge = options.replPingReplicaPeriod * 1000 + options.nodeTimeout * options.replicaValidityFactor;
    if (options.replicaValidityFactor > 0 && dataAge > maxDataAge && !manual) {
      this.logCantFailover(CantFailover.DataAge, now);
      return;
    }

    // The previous attempt timed out and the retry time passed: schedule a new election.
    if (authAge > authRetryTime) {
      this.authTime = now + ELECTION_FIXED_DELAY_MS + Math.floor(this.random() * ELECTION_RANDOM_DELAY_MS);
      this.authCount = 0;
      this.authSent = false;
      this.authRank = this.rank();
      this.authTime += this.authRank * ELECTION_RANK_DELAY_MS;
      // A manual failover has no reason to wait.
      if (mf.end !== 0) {
        this.authTime = now;
        this.authRank = 0;
      }
      const offset = replication.offset();
      this.host.log('notice', `Start of election delayed for ${this.authTime - now} milliseconds (rank #${this.authRank}, offset ${offset}).`);
      // Tell the other replicas my offset, so that they rank themselves against it.
      me.replicationOffset = offset;
      this.host.broadcastPong('local-replicas');
      // Redis handles the failover again before sleeping: a manual one starts right away.
      if (mf.end !== 0) this.handleReplicaFailover(now);
      return;
    }

    // Better offsets may have arrived from the other replicas since: the delay only grows.
    if (!this.authSent && mf.end === 0) {
      const newRank = this.rank();
      if (newRank > this.authRank) {
        const addedDelay = (newRank - this.authRank) * ELECTION_RANK_DELAY_MS;
        this.authTime += addedDelay;
        this.authRank = newRank;
        this.host.log('notice', `Replica rank updated to #${newRank}, added ${addedDelay} milliseconds of delay.`);
      }
    }

    if (now < this.authTime) {
      this.logCantFailover(CantFailover.WaitingDelay, now);
      return;
    }
    if (authAge > authTimeout) {
      this.logCantFailover(CantFailover.Expired, now);
      return;
    }

    if (!this.authSent) {
      state.currentEpoch++;
      this.authEpoch = state.currentEpoch;
      this.host.log('notice', `Starting a failover election for epoch ${state.currentEpoch}.`);
      state.changed();
      this.host.commit();
      this.host.requestVotes(mf.end !== 0);
      this.authSent = true;
      return;
    }

    if (this.authCount >= quorum) {
      this.host.log('notice', "Failover election won: I'm the new master.");
      if (me.configEpoch < this.authEpoch) {
        me.configEpoch = this.authEpoch;
        this.host.log('notice', `configEpoch set to ${me.configEpoch} after successful failover`);
      }
      this.replaceMyMaster();
    } else {
      this.logCantFailover(CantFailover.WaitingVotes, now);
    }
  }

  /**
   * clusterLogCantFailover: a reason is logged once, then again only after
   * a while, and not at all in the first seconds after the master failed.
   */
  private logCantFailover(reason: Exclude<CantFailover, CantFailover.None>, now: number): void {
    if (reason === this.cantFailoverReason && now - this.lastCantFailoverLog < CANT_FAILOVER_RELOG_MS) return;
    this.cantFailoverReason = reason;
    const master = this.myMaster();
    const quietTime = this.host.state.options.nodeTimeout + CANT_FAILOVER_QUIET_MS;
    if (master && master.failed && now - master.failTime < quietTime) return;
    this.lastCantFailoverLog = now;
    this.host.log('warning', `Currently unable to failover: ${CANT_FAILOVER_TEXT[reason]}`);
  }

  /**
   * clusterFailoverReplaceYourMaster: myself becomes a master, takes all of
   * the old master's slots, saves the configuration and tells everyone.
   */
  replaceMyMaster(): void {
    const state = this.host.state;
    const me = state.myself;
    const oldMaster = this.myMaster();
    if (me.isMaster || !oldMaster) return;
    me.flags = (me.flags & ~NodeFlag.Replica) | NodeFlag.Master;
    me.masterId = null;
    this.hooks.promoted();
    for (let s = 0; s < SLOTS; s++) if (oldMaster.hasSlot(s)) state.assignSlot(me, s);
    state.changed();
    this.host.commit();
    this.host.broadcastPong('all');
    this.hooks.resetManualFailover();
  }

  /**
   * clusterSendFailoverAuthIfNeeded: a master serving slots votes for a
   * replica once per epoch, only if the replica's master is FAIL (or the
   * request is a manual failover's), not twice for one master within
   * 2 * node timeout, and only if no claimed slot has a newer configuration.
   * The vote is saved (fsynced) before it is sent.
   */
  handleAuthRequest(node: ClusterNode, request: MessageHeader, now = Date.now()): void {
    const state = this.host.state;
    const me = state.myself;
    if (me.isReplica || me.slotCount === 0) return;
    const deny = (why: string) => this.host.log('warning', `Failover auth denied to ${node.id}: ${why}`);
    // Receiving the request raised my currentEpoch to the request's if it was greater.
    if (request.currentEpoch < state.currentEpoch) {
      deny(`reqEpoch (${request.currentEpoch}) < curEpoch(${state.currentEpoch})`);
      return;
    }
    if (state.lastVoteEpoch === state.currentEpoch) {
      deny(`already voted for epoch ${state.currentEpoch}`);
      return;
    }
    const master = node.isReplica && node.masterId ? state.node(node.masterId) : undefined;
    const forceAck = (request.mflags & MessageFlag.ForceAck) !== 0;
    if (node.isMaster) {
      deny('it is a master node');
      return;
    }
    if (!master) {
      deny("I don't know its master");
      return;
    }
    if (!master.failed && !forceAck) {
      deny('its master is up');
      return;
    }
    const voteTimeout = state.options.nodeTimeout * 2;
    if (now - master.votedTime < voteTimeout) {
      deny(`can't vote about this master before ${voteTimeout - (now - master.votedTime)} milliseconds`);
      return;
    }
    for (let s = 0; s < SLOTS; s++) {
      if (!hasBit(request.slots, s) || state.slotUnclaimed(s)) continue;
      const owner = state.owner[s]!;
      if (owner.configEpoch <= request.configEpoch) continue;
      deny(`slot ${s} epoch (${owner.configEpoch}) > reqEpoch (${request.configEpoch})`);
      return;
    }
    state.lastVoteEpoch = state.currentEpoch;
    master.votedTime = now;
    state.changed();
    this.host.commit();
    this.host.sendVote(node);
    this.host.log('notice', `Failover auth granted to ${node.id} for epoch ${state.currentEpoch}`);
  }

  /**
   * A FAILOVER_AUTH_ACK: it counts if it comes from a master serving slots
   * and was given in this election's epoch or later. Returns whether it counted.
   */
  handleAuthAck(voter: ClusterNode, ack: MessageHeader): boolean {
    if (!voter.isMaster || voter.slotCount === 0 || ack.currentEpoch < this.authEpoch) return false;
    this.authCount++;
    return true;
  }
}
