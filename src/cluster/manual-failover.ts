/**
 * Manual failover, CLUSTER FAILOVER [FORCE|TAKEOVER], as Redis 7.0 does it
 * (cluster_legacy.c): the replica sends MFSTART; its master pauses writes
 * and advertises the offset they stopped at, with the PAUSED flag; once the
 * replica has processed the stream up to there it starts an election with
 * FORCEACK, which masters vote for although its master is up. FORCE skips
 * the handshake with the master, TAKEOVER the election too. Everything is
 * abandoned after CLUSTER_MF_TIMEOUT.
 */
import type { ClusterNode } from './cluster-node.js';
import type { Election, FailoverHost } from './failover.js';

/** Redis's CLUSTER_MF_TIMEOUT: a manual failover not done by then is abandoned (ms). */
export const MANUAL_FAILOVER_TIMEOUT_MS = 5000;
/** Redis's CLUSTER_MF_PAUSE_MULT: the master pauses writes for this many timeouts at most. */
const MANUAL_FAILOVER_PAUSE_MULT = 2;

export type ManualFailoverMode = 'default' | 'force' | 'takeover';

export class ManualFailover {
  /** Tells a pause that resolves after its manual failover ended from one still wanted. */
  private pauseGeneration = 0;

  constructor(private readonly host: FailoverHost) {}

  private get progress() {
    return this.host.state.manualFailover;
  }

  /**
   * resetManualFailover: a master that paused writes for it resumes them,
   * whatever the outcome.
   */
  reset(): void {
    const mf = this.progress;
    if (mf.replica) this.host.replication.resumeWrites();
    mf.end = 0;
    mf.canStart = false;
    mf.replica = null;
    mf.masterOffset = null;
    mf.pausedOffset = null;
    this.pauseGeneration++;
  }

  /** manualFailoverCheckTimeout. */
  checkTimeout(now: number): void {
    const mf = this.progress;
    if (mf.end !== 0 && mf.end < now) {
      this.host.log('warning', 'Manual failover timed out.');
      this.reset();
    }
  }

  /**
   * CLUSTER FAILOVER [FORCE|TAKEOVER] on this node: returns the error text of
   * a refusal, or null once the failover has been started.
   */
  command(mode: ManualFailoverMode, election: Election, now = Date.now()): string | null {
    const state = this.host.state;
    const me = state.myself;
    if (me.isMaster) return 'You should send CLUSTER FAILOVER to a replica';
    const master = me.masterId ? state.node(me.masterId) : undefined;
    if (!master) return "I'm a replica but my master is unknown to me";
    if (mode === 'default' && (master.failed || !master.linkConnected)) {
      return 'Master is down or failed, please use CLUSTER FAILOVER FORCE';
    }
    this.reset();
    this.progress.end = now + MANUAL_FAILOVER_TIMEOUT_MS;
    if (mode === 'takeover') {
      // No agreement at all: a new configEpoch of my own, my master's slots, and tell everyone.
      this.host.log('warning', 'Taking over the master (user request).');
      if (state.bumpEpochWithoutConsensus()) this.host.log('notice', `New configEpoch set to ${me.configEpoch}`);
      election.replaceMyMaster();
    } else if (mode === 'force') {
      // No agreement with the master about the offset: the election may start right away.
      this.host.log('warning', 'Forced failover user request accepted.');
      this.progress.canStart = true;
    } else {
      this.host.log('warning', 'Manual failover user request accepted.');
      this.host.sendManualFailoverStart(master);
    }
    return null;
  }

  /**
   * MFSTART, on a master, from one of its replicas: pause writes, and once
   * the pause holds, advertise where the stream stopped (the header carries
   * the paused offset and the PAUSED flag) and tell the replica at once.
   */
  handleStart(sender: ClusterNode, now = Date.now()): void {
    const me = this.host.state.myself;
    if (!me.isMaster || sender.masterId !== me.id) return;
    this.reset();
    const mf = this.progress;
    mf.end = now + MANUAL_FAILOVER_TIMEOUT_MS;
    mf.replica = sender;
    this.host.log('notice', `Manual failover requested by replica ${sender.id}.`);
    const generation = this.pauseGeneration;
    this.host.replication.pauseWrites(MANUAL_FAILOVER_TIMEOUT_MS * MANUAL_FAILOVER_PAUSE_MULT).then(
      (offset) => {
        // Ended meanwhile: its reset already resumed writes.
        if (generation !== this.pauseGeneration) return;
        mf.pausedOffset = offset;
        this.host.ping(sender);
      },
      (e: unknown) => {
        this.host.log('warning', `Manual failover: pausing writes failed: ${e instanceof Error ? e.message : String(e)}`);
        if (generation === this.pauseGeneration) this.reset();
      },
    );
  }

  /**
   * The master side, every cron: while paused, ping the replica that asked,
   * so it learns the paused offset without waiting for regular gossip.
   */
  pingReplica(): void {
    const mf = this.progress;
    if (mf.end !== 0 && mf.replica && mf.pausedOffset !== null && this.host.state.myself.isMaster) this.host.ping(mf.replica);
  }

  /**
   * A header with the PAUSED flag: if it is my master's during my manual
   * failover, it tells the offset to reach. Returns whether it was taken.
   */
  handlePausedOffset(sender: ClusterNode, offset: number): boolean {
    const mf = this.progress;
    const me = this.host.state.myself;
    if (mf.end === 0 || !me.isReplica || me.masterId !== sender.id || mf.masterOffset !== null) return false;
    mf.masterOffset = offset;
    this.host.log('notice', `Received replication offset for paused master manual failover: ${offset}`);
    return true;
  }

  /**
   * clusterHandleManualFailover, the replica side: the election may start
   * once my replication offset has reached the one my paused master
   * advertised. Returns whether it just became possible.
   */
  handleReplicaProgress(): boolean {
    const mf = this.progress;
    if (mf.end === 0 || mf.canStart || mf.masterOffset === null) return false;
    // Redis waits for equality; a replica cannot get past a paused master's stream.
    if (this.host.replication.offset() < mf.masterOffset) return false;
    mf.canStart = true;
    this.host.log('notice', 'All master replication stream processed, manual failover can start.');
    return true;
  }
}
