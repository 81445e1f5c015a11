/**
 * The set family's multi-key commands (Redis 7.0's t_set.c): smoveCommand,
 * sinterGenericCommand (SINTER, SINTERCARD, SINTERSTORE) and
 * sunionDiffGenericCommand (SUNION, SDIFF and their STORE forms), plus the
 * helpers the rest of the family shares (set lookup, creation, replies of
 * built sets).
 *
 * What Redis does and weft keeps:
 * - Every existing input is type-checked before any work, even after a
 *   missing key; SINTER* returns at once when any input is missing.
 * - SINTER walks the smallest set (a stable sort by cardinality, as glibc's
 *   qsort is for these sizes) and replies in its natural order.
 * - SUNION / SDIFF collect into a temporary set that starts as an intset:
 *   their reply order and the encoding a STORE writes are that set's. SDIFF
 *   picks algorithm 1 (test each member of the first set) or 2 (add the
 *   first, remove the others) by the same work estimate, since it decides
 *   whether a big first set turned the temporary set into a hashtable.
 * - *STORE overwrites the destination whatever its type (dropping its TTL)
 *   and deletes it on an empty result; the result is computed before the
 *   destination is touched, so it may be one of the inputs.
 *
 * All keys' shards are locked first (lockKeyRange / lockKeysAt); each key is
 * then selected and found, and found again right before it is resized,
 * created or removed, as other lookups in its shard move the shard's link.
 */
import { EventClass } from './keyspace-events.js';
import type { CommandContext } from './context.js';
import { SlotTables } from '../store/slot-tables.js';
import { ValueType } from '../store/layout.js';
import type { Shard } from '../store/shard.js';
import {
  emptySetBytes, initSetValue, keyBytes, member, setAdd, setChange, setForEach, SetBuilder, setIsMember, setMemberAt,
  setRemove, setSize, startsAsIntset, writeBuiltSet,
} from '../store/set-value.js';
import { NUMKEYS_NOT_POSITIVE, SYNTAX } from './errors.js';

const TOO_MANY_KEYS = "Number of keys can't be greater than number of args";
const LIMIT_NEGATIVE = "LIMIT can't be negative";

/** The set at the current key (lookup + checkType): its entry, 0 when missing, -1 after WRONGTYPE. */
export function findSet(c: CommandContext, forRead: boolean): number {
  const e = forRead ? c.findRead() : c.findWrite();
  if (e !== 0 && c.typeOf(e) !== ValueType.Set) {
    c.wrongType();
    return -1;
  }
  return e;
}

/** setTypeCreate + dbAdd for the current key (known absent): an empty set of the chosen encoding. */
export function opCreateSet(c: CommandContext, asIntset: boolean): number {
  const length = SlotTables.collectionPad(c.argLen[c.keyArg]) + emptySetBytes(asIntset);
  const e = c.insertKey(ValueType.Set, length);
  initSetValue(c.shard, e, length, asIntset);
  return e;
}

/** Replies a built set as SUNION does: a set of its members in its object's natural order. */
export function replyBuilt(c: CommandContext, b: SetBuilder): void {
  c.out.setHeader(b.size);
  for (const key of b.ordered()) c.out.bulkBytes(keyBytes(key), 0, key.length);
}

// ---- SMOVE ----

const moveKeys = [1, 2];

/** smoveCommand. */
export function smove(c: CommandContext): void {
  c.lockKeysAt(moveKeys);
  c.selectKey(1);
  const src = findSet(c, false);
  if (src < 0) return;
  c.selectKey(2);
  const dst = c.findWrite();
  if (src === 0) {
    c.out.integer(0);
    return;
  }
  if (dst !== 0 && c.typeOf(dst) !== ValueType.Set) {
    c.wrongType();
    return;
  }
  const ms = c.argStart[3];
  const ml = c.argLen[3];
  if (c.argsEqual(1, 2)) {
    c.selectKey(1);
    c.out.integer(setIsMember(c.shard, c.findWrite(), c.buf, ms, ml) ? 1 : 0);
    return;
  }
  c.out.integer(opMove(c, ms, ml) ? 1 : 0);
}

/** Removes the member from the source (deleting it once empty) and adds it to the destination. */
function opMove(c: CommandContext, ms: number, ml: number): boolean {
  c.selectKey(1);
  let e = c.findWrite();
  const src = c.shard;
  e = setRemove(src, c.db, e, c.buf, ms, ml);
  if (!setChange.changed) return false;
  c.keyEvent(EventClass.Set, 'srem', 1, true);
  if (setSize(src, e) === 0) src.remove(c.db, e);
  c.dirty++;
  c.selectKey(2);
  const max = c.server.limits.setMaxIntsetEntries;
  let d = c.findWrite();
  if (d === 0) d = opCreateSet(c, startsAsIntset(c.buf, ms, ml, max));
  setAdd(c.shard, c.db, d, c.buf, ms, ml, max);
  if (setChange.changed) {
    c.dirty++;
    c.keyEvent(EventClass.Set, 'sadd', 2);
  }
  return true;
}

// ---- looking up the inputs ----

interface SetInput {
  shard: Shard;
  /** The entry, 0 when the key is missing. */
  e: number;
  size: number;
}

/** lookupKeyRead of arguments first..last with checkType; null after replying WRONGTYPE. */
function lookupSets(c: CommandContext, first: number, last: number): SetInput[] | null {
  const sets: SetInput[] = [];
  for (let i = first; i <= last; i++) {
    c.selectKey(i);
    const e = findSet(c, true);
    if (e < 0) return null;
    sets.push({ shard: c.shard, e, size: e === 0 ? 0 : setSize(c.shard, e) });
  }
  return sets;
}

function sameSet(a: SetInput, b: SetInput): boolean {
  return a.e === b.e && a.shard === b.shard;
}

// ---- SINTER, SINTERCARD, SINTERSTORE ----

const enum InterMode {
  Reply,
  Cardinality,
  Store,
}

export function sinter(c: CommandContext): void {
  c.lockKeyRange(1, c.argc - 1, 1);
  sinterGeneric(c, 1, c.argc - 1, InterMode.Reply, 0);
}

export function sinterstore(c: CommandContext): void {
  c.lockKeyRange(1, c.argc - 1, 1);
  sinterGeneric(c, 2, c.argc - 1, InterMode.Store, 0);
}

/** SINTERCARD numkeys key [key ...] [LIMIT limit]. */
export function sintercard(c: CommandContext): void {
  const numkeys = c.argInt(1);
  if (numkeys === null || numkeys < 1) {
    c.out.error(NUMKEYS_NOT_POSITIVE);
    return;
  }
  if (numkeys > c.argc - 2) {
    c.out.error(TOO_MANY_KEYS);
    return;
  }
  let limit = 0;
  for (let j = 2 + numkeys; j < c.argc; j++) {
    if (c.argIs(j, 'limit') && j + 1 < c.argc) {
      const n = c.argInt(++j);
      if (n === null || n < 0) {
        c.out.error(LIMIT_NEGATIVE);
        return;
      }
      limit = n;
    } else {
      c.out.error(SYNTAX);
      return;
    }
  }
  c.lockKeyRange(2, 1 + numkeys, 1);
  sinterGeneric(c, 2, 1 + numkeys, InterMode.Cardinality, limit);
}

/** sinterGenericCommand over the keys first..last; `limit` (SINTERCARD) 0 = none. */
function sinterGeneric(c: CommandContext, first: number, last: number, mode: InterMode, limit: number): void {
  const sets = lookupSets(c, first, last);
  if (sets === null) return;
  if (sets.some((x) => x.e === 0)) {
    if (mode === InterMode.Store) opStore(c, null);
    else if (mode === InterMode.Cardinality) c.out.integer(0);
    else c.out.setHeader(0);
    return;
  }
  // Array.prototype.sort is stable, like glibc's qsort (a merge sort) on these arrays.
  sets.sort((a, b) => a.size - b.size);
  const smallest = sets[0];
  const refs: number[] = [];
  const result = mode === InterMode.Store ? new SetBuilder(c.server.limits.setMaxIntsetEntries) : null;
  setForEach(smallest.shard, smallest.e, (src, start, len, ref) => {
    for (let j = 1; j < sets.length; j++) {
      if (sameSet(sets[j], smallest)) continue;
      if (!setIsMember(sets[j].shard, sets[j].e, src, start, len)) return false;
    }
    if (result !== null) result.add(src, start, len);
    else refs.push(ref);
    return limit > 0 && refs.length >= limit;
  });
  if (mode === InterMode.Store) {
    opStore(c, result);
  } else if (mode === InterMode.Cardinality) {
    c.out.integer(refs.length);
  } else {
    c.out.setHeader(refs.length);
    for (let i = 0; i < refs.length; i++) {
      setMemberAt(smallest.shard, smallest.e, refs[i]);
      c.out.bulkBytes(member.src, member.start, member.len);
    }
  }
}

// ---- SUNION, SDIFF and their STORE forms ----

export function sunion(c: CommandContext): void {
  sunionDiffGeneric(c, 1, false, false);
}

export function sunionstore(c: CommandContext): void {
  sunionDiffGeneric(c, 2, true, false);
}

export function sdiff(c: CommandContext): void {
  sunionDiffGeneric(c, 1, false, true);
}

export function sdiffstore(c: CommandContext): void {
  sunionDiffGeneric(c, 2, true, true);
}

/** sunionDiffGenericCommand over the keys from `first` to the last argument. */
function sunionDiffGeneric(c: CommandContext, first: number, store: boolean, diff: boolean): void {
  c.lockKeyRange(1, c.argc - 1, 1);
  const sets = lookupSets(c, first, c.argc - 1);
  if (sets === null) return;
  const result = new SetBuilder(c.server.limits.setMaxIntsetEntries);
  if (!diff) opUnion(sets, result);
  else if (sets[0].e !== 0) opDiff(sets, result);
  if (store) opStore(c, result);
  else replyBuilt(c, result);
}

function opUnion(sets: SetInput[], result: SetBuilder): void {
  for (const x of sets) {
    if (x.e === 0) continue;
    setForEach(x.shard, x.e, (src, start, len) => {
      result.add(src, start, len);
    });
  }
}

/** SDIFF's two algorithms, chosen by Redis's work estimate. */
function opDiff(sets: SetInput[], result: SetBuilder): void {
  let algoOneWork = 0;
  let algoTwoWork = 0;
  for (const x of sets) {
    if (x.e === 0) continue;
    algoOneWork += sets[0].size;
    algoTwoWork += x.size;
  }
  // Algorithm 1 has better constant times and does less work with elements in common.
  algoOneWork = Math.floor(algoOneWork / 2);
  if (algoOneWork <= algoTwoWork) opDiffByLookup(sets, result);
  else opDiffBySubtraction(sets, result);
}

/** Algorithm 1: each member of the first set that no other set holds. */
function opDiffByLookup(sets: SetInput[], result: SetBuilder): void {
  const firstSet = sets[0];
  // Bigger sets first: a member in common is found sooner (the result is the same).
  const others = sets.slice(1).sort((a, b) => b.size - a.size);
  setForEach(firstSet.shard, firstSet.e, (src, start, len) => {
    for (const x of others) {
      if (x.e === 0) continue;
      if (sameSet(x, firstSet) || setIsMember(x.shard, x.e, src, start, len)) return;
    }
    result.add(src, start, len);
  });
}

/** Algorithm 2: the first set, minus every member of the others. */
function opDiffBySubtraction(sets: SetInput[], result: SetBuilder): void {
  for (let j = 0; j < sets.length; j++) {
    const x = sets[j];
    if (x.e === 0) continue;
    setForEach(x.shard, x.e, (src, start, len) => {
      if (j === 0) result.add(src, start, len);
      else result.remove(src, start, len);
    });
    if (result.size === 0) break;
  }
}

/**
 * setKey of the result into the destination (argument 1), or its deletion
 * when the result is empty (`null`: an input was missing). Replies the size.
 */
function opStore(c: CommandContext, result: SetBuilder | null): void {
  c.selectKey(1);
  const e = c.findWrite();
  const s = c.shard;
  if (e !== 0) s.remove(c.db, e);
  if (result === null || result.size === 0) {
    if (e !== 0) c.dirty++;
    c.out.integer(0);
    return;
  }
  const length = SlotTables.collectionPad(c.argLen[1]) + result.valueBytes();
  writeBuiltSet(s, c.insertKey(ValueType.Set, length), length, result);
  c.dirty++;
  c.out.integer(result.size);
}
