/**
 * Cluster redirection for one command on a worker, as Redis's getNodeByQuery
 * and clusterRedirectClient (cluster.c): every key must hash to one slot
 * (CROSSSLOT); an unserved slot is CLUSTERDOWN; a down cluster serves reads
 * only if allowed; a slot migrating away sends missing keys to the target
 * (ASK) or asks to retry a partly moved multi-key request (TRYAGAIN); an
 * importing slot serves clients that sent ASKING; READONLY clients read
 * their master's slots on a replica; anything else is MOVED. Commands
 * without keys are never redirected. EXEC is routed over the keys of every
 * queued command together, as getNodeByQuery walks the multiState.
 */
import type { CommandContext } from '../commands/context.js';
import type { CommandSpec } from '../commands/command-spec.js';
import { keyPositions } from '../commands/introspection.js';
import { keyHashSlot, hashBytes } from '../store/key-hash.js';
import type { SlotTable } from '../cluster/slot-table.js';
import { queuePositions, type MultiState } from '../commands/transactions.js';

const CROSSSLOT = '-CROSSSLOT Keys in request don\'t hash to the same slot';
const TRYAGAIN = '-TRYAGAIN Multiple keys request during rehashing of slot';
const DOWN = '-CLUSTERDOWN The cluster is down';
const DOWN_READONLY = '-CLUSTERDOWN The cluster is down and only accepts read commands';
const UNBOUND = '-CLUSTERDOWN Hash slot not served';

/** The keys a request names: where each one's bytes are (reused between commands). */
class RequestKeys {
  count = 0;
  readonly bufs: Uint8Array[] = [];
  readonly starts: number[] = [];
  readonly lens: number[] = [];

  add(buf: Uint8Array, start: number, len: number): void {
    this.bufs[this.count] = buf;
    this.starts[this.count] = start;
    this.lens[this.count] = len;
    this.count++;
  }

  slot(k: number): number {
    return keyHashSlot(this.bufs[k], this.starts[k], this.lens[k]);
  }

  /** Whether keys j and k are the same bytes (equalStringObjects). */
  same(j: number, k: number): boolean {
    const len = this.lens[j];
    if (this.lens[k] !== len) return false;
    const a = this.bufs[j];
    const b = this.bufs[k];
    const sa = this.starts[j];
    const sb = this.starts[k];
    for (let i = 0; i < len; i++) if (a[sa + i] !== b[sb + i]) return false;
    return true;
  }
}

const requestKeys = new RequestKeys();

/** Adds the key arguments of the command in c: the legacy triple, or the key finder for movable keys. */
function addKeys(c: CommandContext, spec: CommandSpec, out: RequestKeys): void {
  const n = keyPositions(c, spec, positions);
  for (let k = 0; k < n; k++) out.add(c.buf, c.argStart[positions[k]], c.argLen[positions[k]]);
}

const positions: number[] = [];

/** Positions of queued commands while their keys are gathered. */
const queued = queuePositions();

/** The keys of every queued command of a transaction, the context pointed at each in turn. */
function addQueuedKeys(c: CommandContext, queue: MultiState, out: RequestKeys): boolean {
  const { buf, argc, argStart, argLen, spec } = c;
  for (let i = 0; i < queue.count; i++) {
    queue.load(c, i, queued);
    addKeys(c, queue.specs[i], out);
  }
  c.buf = buf;
  c.argc = argc;
  c.argStart = argStart;
  c.argLen = argLen;
  c.spec = spec;
  return queue.isWrite;
}

/** Whether a key is present in this node's keyspace (expired keys count as missing). */
function keyExists(c: CommandContext, keys: RequestKeys, k: number, slot: number): boolean {
  const ks = c.ks;
  const shard = ks.shardOf(slot);
  const buf = keys.bufs[k];
  const start = keys.starts[k];
  const len = keys.lens[k];
  shard.lock();
  try {
    const e = shard.lookup(ks.dbMap[0], ks.slotIndex(slot), buf, start, len, hashBytes(buf, start, len));
    return e !== 0 && !shard.isExpired(e, c.now);
  } finally {
    shard.unlock();
  }
}

/**
 * Returns true when this node serves the command; otherwise it has written
 * the redirection or error reply.
 */
export function routeCommand(c: CommandContext, spec: CommandSpec, table: SlotTable, asking: boolean,
  queue: MultiState | null): boolean {
  const keys = requestKeys;
  keys.count = 0;
  let isWrite = spec.isWrite;
  if (queue !== null) isWrite = addQueuedKeys(c, queue, keys);
  else addKeys(c, spec, keys);
  const n = keys.count;
  if (n === 0) return true;
  // The batch hashed a pipelined command's first key already (batch-prefetch.ts), as keyAt takes it.
  const slot = c.presetNames(keys.bufs[0], keys.starts[0], keys.lens[0]) ? c.presetKey.slot : keys.slot(0);
  const owner = table.owner[slot];
  // getNodeByQuery looks at the first key's slot before it compares the
  // others: an unserved first slot wins over CROSSSLOT.
  if (owner < 0) {
    c.out.error(UNBOUND);
    return false;
  }
  // Whether two different keys are named (the same key twice is one key).
  let multiple = false;
  for (let k = 1; k < n; k++) {
    if (keys.slot(k) !== slot) {
      c.out.error(CROSSSLOT);
      return false;
    }
    if (!multiple && !keys.same(0, k)) multiple = true;
  }
  // Sharded pub/sub (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH): channels are routed as keys, but a channel
  // is never missing from a migrating slot, replicas serve them without READONLY, and they may go on
  // while the cluster is down (cluster-allow-pubsubshard-when-down).
  const shardPubsub = queue === null && spec.isPubsub;
  if (!table.stateOk) {
    // This thread's own configuration, not the coordinator's copy in the slot
    // table: a CONFIG SET applies to the very next command of its connection,
    // as in Redis.
    if (shardPubsub) {
      if (c.server.configGet('cluster-allow-pubsubshard-when-down') !== 'yes') {
        c.out.error(DOWN);
        return false;
      }
    } else if (c.server.configGet('cluster-allow-reads-when-down') !== 'yes') {
      c.out.error(DOWN);
      return false;
    } else if (isWrite) {
      c.out.error(DOWN_READONLY);
      return false;
    }
  }
  const me = table.myIndex;
  const migrating = owner === me && table.migrating[slot] >= 0;
  const importing = !migrating && table.importing[slot] >= 0;
  if (migrating || importing) {
    let missing = 0;
    if (!shardPubsub) for (let k = 0; k < n; k++) if (!keyExists(c, keys, k, slot)) missing++;
    if (migrating && missing > 0) {
      if (missing < n) {
        c.out.error(TRYAGAIN);
        return false;
      }
      // processCommand redirects only to another node: a slot "migrating"
      // to this node itself is served here.
      const target = table.redirect(slot, true);
      if (target.index === me) return true;
      if (target.index < 0) return true; // the migration ended meanwhile: the slot is ours
      c.out.error(`-ASK ${slot} ${target.endpoint}`);
      return false;
    }
    if (importing && (asking || spec.flags.includes('asking'))) {
      if (multiple && missing > 0) {
        c.out.error(TRYAGAIN);
        return false;
      }
      return true;
    }
  }
  if (owner === me) return true;
  if ((c.client.readonlyReplicaReads || shardPubsub) && !isWrite && table.masterIndex(me) === owner) return true;
  const target = table.redirect(slot, false);
  if (target.index < 0) {
    c.out.error(UNBOUND);
    return false;
  }
  c.out.error(`-MOVED ${slot} ${target.endpoint}`);
  return false;
}
