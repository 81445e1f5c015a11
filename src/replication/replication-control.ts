/**
 * What cluster failover needs from a node's replication, and nothing more:
 * the coordinator's failover logic (src/cluster) drives replication through
 * this interface; src/replication implements it.
 */
export interface ReplicationControl {
  /**
   * This node's replication offset: a master's master_repl_offset, a
   * replica's offset of its master's stream applied so far (0 until its
   * first synchronisation completes). Replicas are ranked by it.
   */
  offset(): number;
  /** Replica: whether the link to the master is up (master_link_status:up). */
  linkUp(): boolean;
  /**
   * Replica: how old its data may be, in ms (clusterHandleSlaveFailover's
   * data_age): since the link went down, or since the last byte from the
   * master while it is up.
   */
  dataAgeMs(): number;
  /** Myself is (now) a replica of the master at host:port: (re)start replication from it. */
  replicateFrom(host: string, port: number): void;
  /** Myself became a master: stop replicating, keep the data, start a new history (replicationUnsetMaster). */
  promote(): void;
  /**
   * Manual failover, master side: pause client writes for up to `ms`
   * (CLIENT PAUSE WRITE), and resolve, once every write executed before the
   * pause is in the replication stream, with the offset that stream ends at.
   */
  pauseWrites(ms: number): Promise<number>;
  /** Ends a pause started by pauseWrites. */
  resumeWrites(): void;
}
