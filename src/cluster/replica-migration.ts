/**
 * Replica migration, as Redis 7.0 does it (clusterCron's orphaned master
 * count and clusterHandleSlaveMigration in cluster_legacy.c): when a master
 * serving slots has lost all its working replicas, and it used to have some
 * (the MIGRATE_TO flag), one replica of the master with the most working
 * replicas moves to it, provided its own master keeps more than
 * cluster-migration-barrier of them. Of those replicas the one with the
 * smallest node id moves, after the orphan has stayed orphaned for
 * CLUSTER_SLAVE_MIGRATION_DELAY, so that the orphan's own replicas get the
 * time to show up after a failover.
 */
import { type ClusterNode, NodeFlag } from './cluster-node.js';
import type { FailoverHost } from './failover.js';

/** Redis's CLUSTER_SLAVE_MIGRATION_DELAY (ms). */
export const REPLICA_MIGRATION_DELAY_MS = 5000;

export class ReplicaMigration {
  constructor(
    private readonly host: FailoverHost,
    /** clusterSetMaster: myself becomes a replica of the node. */
    private readonly setMyMaster: (master: ClusterNode) => void,
  ) {}

  /** clusterCountNonFailingSlaves. */
  private workingReplicas(master: ClusterNode): number {
    return this.host.state.replicasOf(master).filter((r) => !r.failed).length;
  }

  /**
   * The replica-migration part of clusterCron: only worth trying when some
   * master is orphaned and my master is among those with the most working
   * replicas, at least two of them.
   */
  cron(now = Date.now()): void {
    const state = this.host.state;
    const me = state.myself;
    if (!me.isReplica || !state.options.allowReplicaMigration) return;
    let orphanedMasters = 0;
    let maxReplicas = 0;
    let myMasterReplicas = 0;
    for (const node of state.nodes.values()) {
      if (!node.isMaster || node.failed) continue;
      const working = this.workingReplicas(node);
      if (working === 0 && node.slotCount > 0 && node.flags & NodeFlag.MigrateTo) orphanedMasters++;
      if (working > maxReplicas) maxReplicas = working;
      if (me.masterId === node.id) myMasterReplicas = working;
    }
    if (orphanedMasters > 0 && maxReplicas >= 2 && myMasterReplicas === maxReplicas) this.migrateIfNeeded(maxReplicas, now);
  }

  /** clusterHandleSlaveMigration. */
  private migrateIfNeeded(maxReplicas: number, now: number): void {
    const state = this.host.state;
    const me = state.myself;
    // Only a healthy cluster reshuffles its replicas.
    if (state.state !== 'ok') return;
    const myMaster = me.masterId ? state.node(me.masterId) : undefined;
    if (!myMaster) return;
    const healthy = state.replicasOf(myMaster).filter((r) => !(r.flags & (NodeFlag.Fail | NodeFlag.PFail))).length;
    if (healthy <= state.options.migrationBarrier) return;

    // The target: a working master that had replicas and has none that work;
    // the candidate: the smallest id among the replicas of the best-served masters.
    let target: ClusterNode | null = null;
    let candidate: ClusterNode = me;
    for (const node of state.nodes.values()) {
      const working = node.isMaster ? this.workingReplicas(node) : 0;
      const orphaned = node.isMaster && !node.failed && (node.flags & NodeFlag.MigrateTo) !== 0 && working === 0;
      if (orphaned) {
        if (!target && node.slotCount > 0) target = node;
        if (node.orphanedTime === 0) node.orphanedTime = now;
      } else {
        node.orphanedTime = 0;
      }
      if (working === maxReplicas) {
        for (const replica of state.replicasOf(node)) if (replica.id < candidate.id) candidate = replica;
      }
    }
    if (target && candidate === me && now - target.orphanedTime > REPLICA_MIGRATION_DELAY_MS) {
      this.host.log('notice', `Migrating to orphaned master ${target.id}`);
      this.setMyMaster(target);
    }
  }
}
