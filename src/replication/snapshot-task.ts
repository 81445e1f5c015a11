/**
 * A piscina task (a background thread, which may block on locks): reads one
 * shard under its lock into snapshot records, with the replication log's
 * entry count at that moment. The first task of a snapshot closes the
 * log's multi-shard write gate (it may wait for writes in flight); the
 * master opens it again after the last shard, or if this task fails.
 */
import { Keyspace, type KeyspaceBuffers } from '../store/keyspace.js';
import { ReplicationLog } from './replication-log.js';
import { encodeShard } from './snapshot-codec.js';
import type { SnapshotResult } from './replication-master.js';

export interface SnapshotTask {
  keyspace: KeyspaceBuffers;
  log: SharedArrayBuffer;
  shard: number;
  begin: boolean;
}

let cached: { keyspace: KeyspaceBuffers; ks: Keyspace; log: ReplicationLog } | null = null;

export default function snapshotShard(task: SnapshotTask): SnapshotResult {
  if (cached === null || cached.keyspace.dbMap !== task.keyspace.dbMap) {
    cached = { keyspace: task.keyspace, ks: new Keyspace(task.keyspace), log: new ReplicationLog(task.log) };
  }
  const { ks, log } = cached;
  if (task.begin) log.beginSnapshot();
  try {
    const shard = ks.shards[task.shard];
    shard.lock();
    try {
      const entries = log.entriesAppended();
      const { chunks, records } = encodeShard(ks, task.shard);
      return { chunks, entries, records };
    } finally {
      shard.unlock();
    }
  } catch (e) {
    // The master learns the gate is closed only from a task that succeeds.
    if (task.begin) log.endSnapshot();
    throw e;
  }
}
