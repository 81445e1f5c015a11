/**
 * Cluster redirection for one command on a worker, as Redis's getNodeByQuery
 * and clusterRedirectClient (cluster.c): every key must hash to one slot
 * (CROSSSLOT); an unserved slot is CLUSTERDOWN; a down cluster serves reads
 * only if allowed; a slot migrating away sends missing keys to the target
 * (ASK) or asks to retry a partly moved multi-key request (TRYAGAIN); an
 * importing slot serves clients that sent ASKING; READONLY clients read
 * their master's slots on a replica; anything else is MOVED. Commands
 * without keys are never redirected.
 */
import type { CommandContext } from '../commands/context.js';
import type { CommandSpec } from '../commands/command-spec.js';
import { findKeys } from '../commands/introspection.js';
import { keyHashSlot, hashBytes } from '../store/key-hash.js';
import type { SlotTable } from '../cluster/slot-table.js';

const CROSSSLOT = '-CROSSSLOT Keys in request don\'t hash to the same slot';
const TRYAGAIN = '-TRYAGAIN Multiple keys request during rehashing of slot';
const DOWN = '-CLUSTERDOWN The cluster is down';
const DOWN_READONLY = '-CLUSTERDOWN The cluster is down and only accepts read commands';
const UNBOUND = '-CLUSTERDOWN Hash slot not served';

/** Key argument positions of the command: the legacy triple, or the key finder for movable keys. */
function keyPositions(c: CommandContext, spec: CommandSpec, out: number[]): number {
  out.length = 0;
  if (spec.movableKeys) {
    for (const k of findKeys(spec, c) ?? []) out.push(k.pos);
    return out.length;
  }
  if (spec.firstKey <= 0) return 0;
  const last = spec.lastKey < 0 ? c.argc + spec.lastKey : spec.lastKey;
  for (let i = spec.firstKey; i <= last && i < c.argc; i += spec.keyStep) out.push(i);
  return out.length;
}

const positions: number[] = [];

/** Whether the arguments at i and j are the same bytes (equalStringObjects). */
function sameKey(c: CommandContext, i: number, j: number): boolean {
  const len = c.argLen[i];
  if (c.argLen[j] !== len) return false;
  const a = c.argStart[i];
  const b = c.argStart[j];
  for (let k = 0; k < len; k++) if (c.buf[a + k] !== c.buf[b + k]) return false;
  return true;
}

/** Whether a key is present in this node's keyspace (expired keys count as missing). */
function keyExists(c: CommandContext, i: number, slot: number): boolean {
  const ks = c.ks;
  const shard = ks.shardOf(slot);
  const start = c.argStart[i];
  const len = c.argLen[i];
  shard.lock();
  try {
    const e = shard.lookup(ks.dbMap[0], ks.slotIndex(slot), c.buf, start, len, hashBytes(c.buf, start, len));
    return e !== 0 && !shard.isExpired(e, c.now);
  } finally {
    shard.unlock();
  }
}

/**
 * Returns true when this node serves the command; otherwise it has written
 * the redirection or error reply.
 */
export function routeCommand(c: CommandContext, spec: CommandSpec, table: SlotTable, asking: boolean): boolean {
  const n = keyPositions(c, spec, positions);
  if (n === 0) return true;
  const slot = keyHashSlot(c.buf, c.argStart[positions[0]], c.argLen[positions[0]]);
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
    const p = positions[k];
    if (keyHashSlot(c.buf, c.argStart[p], c.argLen[p]) !== slot) {
      c.out.error(CROSSSLOT);
      return false;
    }
    if (!multiple && !sameKey(c, positions[0], p)) multiple = true;
  }
  const isWrite = spec.isWrite;
  if (!table.stateOk) {
    // This thread's own configuration, not the coordinator's copy in the slot
    // table: a CONFIG SET applies to the very next command of its connection,
    // as in Redis.
    if (c.server.configGet('cluster-allow-reads-when-down') !== 'yes') {
      c.out.error(DOWN);
      return false;
    }
    if (isWrite) {
      c.out.error(DOWN_READONLY);
      return false;
    }
  }
  const me = table.myIndex;
  const migrating = owner === me && table.migrating[slot] >= 0;
  const importing = !migrating && table.importing[slot] >= 0;
  if (migrating || importing) {
    let missing = 0;
    for (let k = 0; k < n; k++) if (!keyExists(c, positions[k], slot)) missing++;
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
  if (c.client.readonlyReplicaReads && !isWrite && table.masterIndex(me) === owner) return true;
  const target = table.redirect(slot, false);
  if (target.index < 0) {
    c.out.error(UNBOUND);
    return false;
  }
  c.out.error(`-MOVED ${slot} ${target.endpoint}`);
  return false;
}
