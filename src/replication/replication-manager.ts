/**
 * The coordinator's replication: whether this node is a master or a
 * replica, the master side (ReplicationMaster) and the replica side
 * (ReplicaLink), and what the rest of the node asks of them: INFO
 * replication, ROLE, WAIT, PSYNC, REPLICAOF and the cluster's
 * ReplicationControl (offsets, promotion, paused writes).
 */
import type { ApplyOp } from './link-frames.js';
import type { ReplicationControl } from './replication-control.js';
import { ReplicationLog } from './replication-log.js';
import { ReplicationMaster, type SnapshotResult } from './replication-master.js';
import { ReplicaLink, type LinkState } from './replica-link.js';

export interface ReplicationEnvironment {
  readonly log: ReplicationLog;
  readonly shardCount: number;
  sendToReplica(worker: number, clientId: number, data: Buffer): void;
  closeClient(worker: number, clientId: number): void;
  snapshot(shard: number, begin: boolean): Promise<SnapshotResult>;
  /** Runs an operation on the worker that applies the master's stream ('functions': replace the libraries). */
  applyOnWorker(op: ApplyOp, data: Uint8Array | null): Promise<void>;
  /** The node's function libraries. */
  functionCodes(): Uint8Array[];
  /** Tells the workers whether this node is a replica (read-only, expired keys kept) and whether its link to the master is up. */
  setWorkersRole(replica: boolean, masterLinkUp: boolean): void;
  /** Waits until every worker has finished what it was running (so every started write is in the log). */
  workersBarrier(): Promise<void>;
  config(name: string): string;
  log_(level: 'notice' | 'warning' | 'verbose', message: string): void;
}

/** ROLE's replica states (replicationGetSlaveState... as ROLE names them). */
const ROLE_STATE: Record<LinkState, string> = { connect: 'connect', connecting: 'connecting', sync: 'sync', connected: 'connected' };

export class ReplicationManager implements ReplicationControl {
  readonly master: ReplicationMaster;
  private link: ReplicaLink | null = null;
  private pauseTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout;
  /** The link state the workers were last told of (null: they have not been told since the role changed). */
  private workersLinkUp: boolean | null = null;

  constructor(private readonly env: ReplicationEnvironment) {
    this.master = new ReplicationMaster({
      log: env.log,
      shardCount: env.shardCount,
      send: (w, id, data) => env.sendToReplica(w, id, data),
      close: (w, id) => env.closeClient(w, id),
      snapshot: (s, b) => env.snapshot(s, b),
      backlogSize: () => Number(env.config('repl-backlog-size')),
      functionCodes: () => env.functionCodes(),
      log_: env.log_,
    });
    this.heartbeat = setInterval(() => this.master.heartbeat(), 1000);
    this.heartbeat.unref();
  }

  get isReplica(): boolean {
    return this.link !== null;
  }

  stop(): void {
    clearInterval(this.heartbeat);
    this.link?.stop();
    this.master.stop();
  }

  // ---- ReplicationControl ----

  offset(): number {
    if (this.link) return Math.max(0, this.link.offset);
    this.master.drainNow();
    return this.master.offset;
  }

  linkUp(): boolean {
    return this.link?.linkUp ?? false;
  }

  dataAgeMs(): number {
    if (!this.link) return 0;
    return this.link.linkUp ? Date.now() - this.link.lastIo : Date.now() - this.link.downSince;
  }

  replicateFrom(host: string, port: number): void {
    if (this.link && this.link.host === host && this.link.port === port) return;
    const previous = this.link;
    // PSYNC2: what we hold continues our own history (or the last master's), so try to resume from it.
    const cached = previous
      ? { replid: previous.masterReplid, offset: previous.offset }
      : { replid: this.master.replid, offset: this.offset() };
    previous?.stop();
    if (!previous) this.master.dropReplicas();
    this.env.log_('notice', `REPLICAOF ${host}:${port} enabled`);
    this.link = new ReplicaLink(host, port, {
      flush: () => this.env.applyOnWorker('flush', null),
      load: (records) => this.env.applyOnWorker('load', records),
      functions: (codes) => this.env.applyOnWorker('functions', codes),
      apply: (entries) => this.env.applyOnWorker('apply', entries),
      listeningPort: () => Number(this.env.config('port')),
      masterAuth: () => {
        const password = this.env.config('masterauth');
        return password ? { user: this.env.config('masteruser'), password } : null;
      },
      replTimeoutMs: () => Number(this.env.config('repl-timeout')) * 1000,
      log_: this.env.log_,
      changed: () => this.linkChanged(),
    }, cached.offset >= 0 && cached.replid !== '?' ? cached : null);
    this.workersLinkUp = null;
    this.link.start();
  }

  /** The workers learn when the link goes up or down (replica-serve-stale-data no answers MASTERDOWN while it is down). */
  private linkChanged(): void {
    const up = this.link?.linkUp ?? false;
    if (up === this.workersLinkUp) return;
    this.workersLinkUp = up;
    this.env.setWorkersRole(true, up);
  }

  promote(): void {
    const link = this.link;
    if (!link) return;
    link.stop();
    this.link = null;
    // shiftReplicationId: the new history starts where the old master's stream left off here.
    this.master.shiftReplicationId(link.masterReplid, Math.max(0, link.offset));
    this.env.setWorkersRole(false, false);
    this.workersLinkUp = null;
    // Writes from now on must reach the backlog, for the other replicas' partial resync.
    this.master.enableBacklog();
    this.env.log_('notice', 'MASTER MODE enabled');
  }

  async pauseWrites(ms: number): Promise<number> {
    this.env.log.setWritesPaused(true);
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = setTimeout(() => this.resumeWrites(), ms);
    this.pauseTimer.unref();
    await this.env.workersBarrier();
    this.master.drainNow();
    return this.master.offset;
  }

  resumeWrites(): void {
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    this.env.log.setWritesPaused(false);
  }

  // ---- commands ----

  /** REPLICAOF host port (null: NO ONE); the reply text. */
  replicaof(target: { host: string; port: number } | null): string {
    if (target === null) {
      if (this.link) this.promote();
      return '+OK';
    }
    if (this.link && this.link.host === target.host && this.link.port === target.port) return '+OK Already connected to specified master';
    this.replicateFrom(target.host, target.port);
    return '+OK';
  }

  psync(worker: number, clientId: number, ip: string, port: number, replid: string, offset: number): string {
    if (this.link && this.link.state !== 'connected') return '-NOMASTERLINK Can\'t SYNC while not connected with my master';
    return this.master.psync(worker, clientId, ip, port, replid, offset);
  }

  /** WAIT numreplicas timeout; an error text on a replica. */
  async wait(needed: number, timeoutMs: number): Promise<number | string> {
    if (this.link) return 'WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.';
    return this.master.wait(needed, timeoutMs);
  }

  /** ROLE, as a ReplyValue-shaped array. */
  role(): unknown[] {
    if (this.link) {
      return [{ bulk: 'slave' }, { bulk: this.link.host }, { int: this.link.port }, { bulk: ROLE_STATE[this.link.state] }, { int: Math.max(-1, this.link.offset) }];
    }
    const replicas = [...this.master.replicas.values()].filter((r) => r.state === 'online')
      .map((r) => ({ array: [{ bulk: r.ip }, { bulk: String(r.port) }, { bulk: String(r.ackOffset) }] }));
    return [{ bulk: 'master' }, { int: this.offset() }, { array: replicas }];
  }

  /** INFO replication's fields, in Redis 7.0's order. */
  infoFields(): [string, string | number][] {
    const m = this.master;
    const f: [string, string | number][] = [];
    const link = this.link;
    const now = Date.now();
    if (link) {
      f.push(['role', 'slave'], ['master_host', link.host], ['master_port', link.port],
        ['master_link_status', link.linkUp ? 'up' : 'down'],
        ['master_last_io_seconds_ago', link.lastIo ? Math.floor((now - link.lastIo) / 1000) : -1],
        ['master_sync_in_progress', link.state === 'sync' ? 1 : 0],
        ['slave_read_repl_offset', Math.max(0, link.readOffset)], ['slave_repl_offset', Math.max(0, link.offset)]);
      if (link.state === 'sync') {
        f.push(['master_sync_total_bytes', -1], ['master_sync_read_bytes', link.syncBytes], ['master_sync_left_bytes', -1],
          ['master_sync_perc', '0.00'], ['master_sync_last_io_seconds_ago', Math.floor((now - link.lastIo) / 1000)]);
      }
      if (!link.linkUp) f.push(['master_link_down_since_seconds', Math.floor((now - link.downSince) / 1000)]);
      f.push(['slave_priority', this.env.config('replica-priority')], ['slave_read_only', this.env.config('replica-read-only') === 'yes' ? 1 : 0],
        ['replica_announced', this.env.config('replica-announced') === 'yes' ? 1 : 0]);
    } else {
      f.push(['role', 'master']);
    }
    const replicas = [...m.replicas.values()];
    f.push(['connected_slaves', replicas.length]);
    replicas.forEach((r, i) => {
      f.push([`slave${i}`, `ip=${r.ip},port=${r.port},state=${r.state},offset=${r.ackOffset},lag=${Math.floor((now - r.ackTime) / 1000)}`]);
    });
    const offset = link ? Math.max(0, link.offset) : this.offset();
    f.push(['master_failover_state', 'no-failover'], ['master_replid', link ? (link.masterReplid === '?' ? m.replid : link.masterReplid) : m.replid],
      ['master_replid2', m.replid2], ['master_repl_offset', offset], ['second_repl_offset', m.secondOffset],
      ['repl_backlog_active', m.backlogActive ? 1 : 0], ['repl_backlog_size', Number(this.env.config('repl-backlog-size'))],
      ['repl_backlog_first_byte_offset', m.backlogActive ? m.backlogFirstByte : 0], ['repl_backlog_histlen', m.backlogHistlen]);
    return f;
  }
}
