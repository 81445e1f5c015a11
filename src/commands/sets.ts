/**
 * The set family (Redis 7.0's t_set.c): saddCommand, sremCommand,
 * scardCommand, sismemberCommand, smismemberCommand, SMEMBERS (7.0 runs it
 * as sinterCommand over one key), spopCommand / spopWithCountCommand,
 * srandmemberCommand / srandmemberWithCountCommand and sscanCommand, plus
 * the command table of the family. The multi-key commands (SMOVE, SINTER,
 * SINTERCARD, SUNION, SDIFF and their STORE forms) are in set-algebra.ts.
 * The data work is in the op functions here and set-algebra.ts over
 * src/store/set-value.ts (intset and hashtable encodings).
 *
 * Propagation (data-types.md §5): SPOP key → `SREM key member`; SPOP with a
 * count that empties the set → `DEL key`; otherwise Redis propagates one
 * `SREM key member` per popped member, which weft sends as one
 * `SREM key m1 m2 ...` (the same effect; c.propagateAs carries one command).
 */
import { arg, defineCommand, keyArg, keyNumKeys, rangeKeys, type CommandSpec } from './command-spec.js';
import type { CommandContext } from './context.js';
import { SlotTables } from '../store/slot-tables.js';
import type { Shard } from '../store/shard.js';
import {
  initSetValue, isIntset, member, setAdd, setChange, setForEach, SetBuilder, setIsMember, setMemberAt, setRandomRef, setRemove,
  setRemoveRef, setSize, startsAsIntset, writeBuiltSet,
} from '../store/set-value.js';
import { DE_KEY, DE_KEYLEN } from '../store/arena-dict.js';
import { NOT_INTEGER, SYNTAX } from './errors.js';
import { beginCollectionScan, replyEmptyScan, scanCursorArg } from './collection-scan.js';
import {
  findSet, opCreateSet, replyBuilt, sdiff, sdiffstore, sinter, sintercard, sinterstore, smove, sunion, sunionstore,
} from './set-algebra.js';

const group = 'set';

/** SRANDMEMBER's count range (getRangeLongFromObjectOrReply with -LONG_MAX..LONG_MAX). */
const SRANDMEMBER_RANGE = 'value is out of range, value must between -9223372036854775807 and 9223372036854775807';
const LONG_MIN_TEXT = '-9223372036854775808';
/** SPOP count: keep-the-rest strategy unless remaining * this > count (SPOP_MOVE_STRATEGY_MUL). */
const SPOP_MOVE_STRATEGY_MUL = 5;
/** SRANDMEMBER count: copy-and-remove when count * this > size (SRANDMEMBER_SUB_STRATEGY_MUL). */
const SRANDMEMBER_SUB_STRATEGY_MUL = 3;

/** Adds arguments from..argc-1; returns how many were new. */
function opAdd(c: CommandContext, e: number, from: number): number {
  const s = c.shard;
  const max = c.server.limits.setMaxIntsetEntries;
  let added = 0;
  for (let i = from; i < c.argc; i++) {
    e = setAdd(s, c.db, e, c.buf, c.argStart[i], c.argLen[i], max);
    if (setChange.changed) added++;
  }
  return added;
}

function sadd(c: CommandContext): void {
  c.openKey(1);
  let e = findSet(c, false);
  if (e < 0) return;
  if (e === 0) e = opCreateSet(c, startsAsIntset(c.buf, c.argStart[2], c.argLen[2], c.server.limits.setMaxIntsetEntries));
  const added = opAdd(c, e, 2);
  c.dirty += added;
  c.out.integer(added);
}

/** Removes arguments from..argc-1, deleting the key once empty; returns how many were removed. */
function opRemove(c: CommandContext, e: number, from: number): number {
  const s = c.shard;
  let deleted = 0;
  for (let i = from; i < c.argc; i++) {
    e = setRemove(s, c.db, e, c.buf, c.argStart[i], c.argLen[i]);
    if (!setChange.changed) continue;
    deleted++;
    if (setSize(s, e) === 0) {
      s.remove(c.db, e);
      break;
    }
  }
  return deleted;
}

function srem(c: CommandContext): void {
  c.openKey(1);
  const e = findSet(c, false);
  if (e < 0) return;
  const deleted = e === 0 ? 0 : opRemove(c, e, 2);
  c.dirty += deleted;
  c.out.integer(deleted);
}

function scard(c: CommandContext): void {
  c.openKey(1);
  const e = findSet(c, true);
  if (e >= 0) c.out.integer(e === 0 ? 0 : setSize(c.shard, e));
}

function sismember(c: CommandContext): void {
  c.openKey(1);
  const e = findSet(c, true);
  if (e >= 0) c.out.integer(e !== 0 && setIsMember(c.shard, e, c.buf, c.argStart[2], c.argLen[2]) ? 1 : 0);
}

function smismember(c: CommandContext): void {
  c.openKey(1);
  const e = findSet(c, true);
  if (e < 0) return;
  c.out.arrayHeader(c.argc - 2);
  for (let i = 2; i < c.argc; i++) c.out.integer(e !== 0 && setIsMember(c.shard, e, c.buf, c.argStart[i], c.argLen[i]) ? 1 : 0);
}

/** Replies every member in the encoding's natural order (array of `size`, written by the caller's header). */
function replyMembers(c: CommandContext, s: Shard, e: number): void {
  setForEach(s, e, (src, start, len) => {
    // An intset member comes as decimal text in a buffer of its own, not in the arena.
    c.out.bulkBytes(src, start, len, src === s.u8 ? s.dv : undefined);
  });
}

/** SMEMBERS: sinterCommand over one key (an empty set reply when missing). */
function smembers(c: CommandContext): void {
  c.openKey(1);
  const e = findSet(c, true);
  if (e < 0) return;
  c.out.setHeader(e === 0 ? 0 : setSize(c.shard, e));
  if (e !== 0) replyMembers(c, c.shard, e);
}

// ---- SPOP ----

function spop(c: CommandContext): void {
  if (c.argc === 3) {
    spopWithCount(c);
    return;
  }
  if (c.argc > 3) {
    c.out.error(SYNTAX);
    return;
  }
  c.openKey(1);
  let e = findSet(c, false);
  if (e < 0) return;
  if (e === 0) {
    c.out.nullBulk();
    return;
  }
  const s = c.shard;
  const ref = setRandomRef(s, e);
  setMemberAt(s, e, ref);
  const popped = Buffer.from(member.src.subarray(member.start, member.start + member.len));
  c.out.bulkBytes(popped, 0, popped.length);
  e = setRemoveRef(s, c.db, e, ref);
  if (setSize(s, e) === 0) s.remove(c.db, e);
  c.propagateAs = ['SREM', c.argBuffer(1), popped];
  c.dirty++;
}

/** spopWithCountCommand: the three strategies of t_set.c. */
function spopWithCount(c: CommandContext): void {
  const count = c.argCountOrReply(2);
  if (count === null) return;
  c.openKey(1);
  const e = findSet(c, false);
  if (e < 0) return;
  if (e === 0 || count === 0) {
    c.out.setHeader(0);
    return;
  }
  const s = c.shard;
  const size = setSize(s, e);
  if (count >= size) {
    // CASE 1: everything, replied as SUNION of the one set would, then DEL.
    const all = new SetBuilder(c.server.limits.setMaxIntsetEntries);
    setForEach(s, e, (src, start, len) => {
      all.add(src, start, len);
    });
    replyBuilt(c, all);
    s.remove(c.db, e);
    c.propagateAs = ['DEL', c.argBuffer(1)];
    c.dirty += size;
    return;
  }
  c.out.setHeader(count);
  const popped: (string | Uint8Array)[] = ['SREM', c.argBuffer(1)];
  if ((size - count) * SPOP_MOVE_STRATEGY_MUL > count) opPopRandom(c, e, count, popped);
  else opPopKeepRest(c, e, size - count, popped);
  c.propagateAs = popped;
  c.dirty += count;
}

/** CASE 2: pops `count` random members one by one, replying each. */
function opPopRandom(c: CommandContext, e: number, count: number, popped: (string | Uint8Array)[]): void {
  const s = c.shard;
  for (let i = 0; i < count; i++) {
    const ref = setRandomRef(s, e);
    setMemberAt(s, e, ref);
    c.out.bulkBytes(member.src, member.start, member.len);
    popped.push(Buffer.from(member.src.subarray(member.start, member.start + member.len)));
    e = setRemoveRef(s, c.db, e, ref);
  }
}

/**
 * CASE 3: moves `remaining` random members to a new set, replies what is
 * left of the old one, and makes the new set the key's value (dbOverwrite:
 * the TTL stays). The new set's encoding is chosen afresh, as Redis's is.
 */
function opPopKeepRest(c: CommandContext, e: number, remaining: number, popped: (string | Uint8Array)[]): void {
  const s = c.shard;
  const kept = new SetBuilder(c.server.limits.setMaxIntsetEntries);
  for (let i = 0; i < remaining; i++) {
    const ref = setRandomRef(s, e);
    setMemberAt(s, e, ref);
    kept.add(member.src, member.start, member.len);
    e = setRemoveRef(s, c.db, e, ref);
  }
  setForEach(s, e, (src, start, len) => {
    c.out.bulkBytes(src, start, len);
    popped.push(Buffer.from(src.subarray(start, start + len)));
  });
  s.releaseValue(e);
  // Until the new set is written the entry holds an empty intset, never a freed table.
  initSetValue(s, e, s.valueLength(e), true);
  const length = SlotTables.collectionPad(c.argLen[1]) + kept.valueBytes();
  e = s.resizeValue(c.db, e, length, 0, false);
  writeBuiltSet(s, e, length, kept);
}

// ---- SRANDMEMBER ----

function srandmember(c: CommandContext): void {
  if (c.argc === 3) {
    srandmemberWithCount(c);
    return;
  }
  if (c.argc > 3) {
    c.out.error(SYNTAX);
    return;
  }
  c.openKey(1);
  const e = findSet(c, true);
  if (e < 0) return;
  if (e === 0) {
    c.out.nullBulk();
    return;
  }
  setMemberAt(c.shard, e, setRandomRef(c.shard, e));
  c.out.bulkBytes(member.src, member.start, member.len);
}

/** srandmemberWithCountCommand: negative counts repeat, positive ones are distinct. */
function srandmemberWithCount(c: CommandContext): void {
  const l = c.argInt(2);
  if (l === null) {
    c.out.error(NOT_INTEGER);
    return;
  }
  if (c.argLen[2] === LONG_MIN_TEXT.length && c.argLatin1(2) === LONG_MIN_TEXT) {
    c.out.error(SRANDMEMBER_RANGE);
    return;
  }
  c.openKey(1);
  const e = findSet(c, true);
  if (e < 0) return;
  if (e === 0 || l === 0) {
    c.out.arrayHeader(0);
    return;
  }
  const s = c.shard;
  const count = Math.abs(l);
  const size = setSize(s, e);
  if (l < 0 || count === 1) {
    // CASE 1: independent picks, in random order.
    c.out.arrayHeader(count);
    for (let i = 0; i < count; i++) {
      setMemberAt(s, e, setRandomRef(s, e));
      c.out.bulkBytes(member.src, member.start, member.len);
    }
    return;
  }
  if (count >= size) {
    // CASE 2: the whole set in its natural order.
    c.out.arrayHeader(size);
    replyMembers(c, s, e);
    return;
  }
  const refs = count * SRANDMEMBER_SUB_STRATEGY_MUL > size ? pickBySubtraction(s, e, count) : pickByRejection(s, e, count);
  c.out.arrayHeader(count);
  for (const ref of refs) {
    setMemberAt(s, e, ref);
    c.out.bulkBytes(member.src, member.start, member.len);
  }
}

/** CASE 3: every member, then random ones dropped until `count` are left. */
function pickBySubtraction(s: Shard, e: number, count: number): number[] {
  const refs: number[] = [];
  setForEach(s, e, (_src, _start, _len, ref) => {
    refs.push(ref);
  });
  while (refs.length > count) {
    const i = Math.floor(Math.random() * refs.length);
    refs[i] = refs[refs.length - 1];
    refs.pop();
  }
  return refs;
}

/** CASE 4: random picks until `count` distinct ones were drawn. */
function pickByRejection(s: Shard, e: number, count: number): Set<number> {
  const refs = new Set<number>();
  while (refs.size < count) refs.add(setRandomRef(s, e));
  return refs;
}

// ---- SSCAN ----

/** sscanCommand: an intset is returned whole (cursor 0); a hashtable is walked with dictScan's cursor. */
function sscan(c: CommandContext): void {
  const cursor = scanCursorArg(c);
  if (cursor < 0) return;
  c.openKey(1);
  const e = findSet(c, true);
  if (e < 0) return;
  if (e === 0) {
    replyEmptyScan(c);
    return;
  }
  const res = beginCollectionScan(c);
  if (res === null) return;
  const s = c.shard;
  if (isIntset(s, e)) {
    setForEach(s, e, (src, start, len) => {
      res.add(src, start, len);
    });
    res.reply(c, 0);
    return;
  }
  const u32 = s.u32;
  const next = res.scanDict(s, s.collectionStart(e), cursor, (de) => {
    res.add(s.u8, de + DE_KEY, u32[(de + DE_KEYLEN) >>> 2]);
  });
  res.reply(c, next);
}

// ---- the command table ----

const key1: [number, number, number] = [1, 1, 1];
const membersArgs = () => [keyArg('key', 0), arg('member', 'string', { multiple: true })];
const storeKeySpecs = (destFlags: ('RW' | 'OW')[]) => [rangeKeys([...destFlags, 'UPDATE'], 1), rangeKeys(['RO', 'ACCESS'], 2, -1)];
const storeArgs = () => [keyArg('destination', 0), keyArg('key', 1, { multiple: true })];
const INTER_COMPLEXITY = 'O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.';
const UNION_COMPLEXITY = 'O(N) where N is the total number of elements in all given sets.';
const ORDER_TIP = ['nondeterministic_output_order'];

export const setCommands: CommandSpec[] = [
  defineCommand({ name: 'sadd', arity: -3, flags: ['write', 'denyoom', 'fast'], keys: key1, keyFlags: ['RW', 'INSERT'],
    categories: ['set'], group, summary: 'Add one or more members to a set',
    complexity: 'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.',
    history: [['2.4.0', 'Accepts multiple `member` arguments.']], arguments: membersArgs(), handler: sadd }),
  defineCommand({ name: 'srem', arity: -3, flags: ['write', 'fast'], keys: key1, keyFlags: ['RW', 'DELETE'],
    categories: ['set'], group, summary: 'Remove one or more members from a set',
    complexity: 'O(N) where N is the number of members to be removed.',
    history: [['2.4.0', 'Accepts multiple `member` arguments.']], arguments: membersArgs(), handler: srem }),
  defineCommand({ name: 'scard', arity: 2, flags: ['readonly', 'fast'], keys: key1, keyFlags: ['RO'], categories: ['set'],
    group, summary: 'Get the number of members in a set', complexity: 'O(1)', arguments: [keyArg('key', 0)], handler: scard }),
  defineCommand({ name: 'sismember', arity: 3, flags: ['readonly', 'fast'], keys: key1, keyFlags: ['RO'], categories: ['set'],
    group, summary: 'Determine if a given value is a member of a set', complexity: 'O(1)',
    arguments: [keyArg('key', 0), arg('member', 'string')], handler: sismember }),
  defineCommand({ name: 'smismember', arity: -3, flags: ['readonly', 'fast'], keys: key1, keyFlags: ['RO', 'ACCESS'],
    categories: ['set'], group, since: '6.2.0', summary: 'Returns the membership associated with the given elements for a set',
    complexity: 'O(N) where N is the number of elements being checked for membership', arguments: membersArgs(),
    handler: smismember }),
  defineCommand({ name: 'smembers', arity: 2, flags: ['readonly'], keys: key1, keyFlags: ['RO', 'ACCESS'], categories: ['set'],
    tips: ORDER_TIP, group, summary: 'Get all the members in a set', complexity: 'O(N) where N is the set cardinality.',
    arguments: [keyArg('key', 0)], handler: smembers }),
  defineCommand({ name: 'smove', arity: 4, flags: ['write', 'fast'],
    keySpecs: [rangeKeys(['RW', 'ACCESS', 'DELETE'], 1), rangeKeys(['RW', 'INSERT'], 2)], categories: ['set'], group,
    summary: 'Move a member from one set to another', complexity: 'O(1)',
    arguments: [keyArg('source', 0), keyArg('destination', 1), arg('member', 'string')], handler: smove }),
  defineCommand({ name: 'spop', arity: -2, flags: ['write', 'fast'], keys: key1, keyFlags: ['RW', 'ACCESS', 'DELETE'],
    categories: ['set'], tips: ['nondeterministic_output'], group,
    summary: 'Remove and return one or multiple random members from a set',
    complexity: 'Without the count argument O(1), otherwise O(N) where N is the value of the passed count.',
    history: [['3.2.0', 'Added the `count` argument.']],
    arguments: [keyArg('key', 0), arg('count', 'integer', { since: '3.2.0', optional: true })], handler: spop }),
  defineCommand({ name: 'srandmember', arity: -2, flags: ['readonly'], keys: key1, keyFlags: ['RO', 'ACCESS'],
    categories: ['set'], tips: ['nondeterministic_output'], group, summary: 'Get one or multiple random members from a set',
    complexity: 'Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.',
    history: [['2.6.0', 'Added the optional `count` argument.']],
    arguments: [keyArg('key', 0), arg('count', 'integer', { since: '2.6.0', optional: true })], handler: srandmember }),
  defineCommand({ name: 'sinter', arity: -2, flags: ['readonly'], keys: [1, -1, 1], keyFlags: ['RO', 'ACCESS'],
    categories: ['set'], tips: ORDER_TIP, group, summary: 'Intersect multiple sets', complexity: INTER_COMPLEXITY,
    arguments: [keyArg('key', 0, { multiple: true })], handler: sinter }),
  defineCommand({ name: 'sintercard', arity: -3, flags: ['readonly'], keySpecs: [keyNumKeys(['RO', 'ACCESS'], 1, 0, 1)],
    categories: ['set'], group, since: '7.0.0', summary: 'Intersect multiple sets and return the cardinality of the result',
    complexity: INTER_COMPLEXITY,
    arguments: [arg('numkeys', 'integer'), keyArg('key', 0, { multiple: true }), arg('limit', 'integer', { token: 'LIMIT', optional: true })],
    handler: sintercard }),
  defineCommand({ name: 'sinterstore', arity: -3, flags: ['write', 'denyoom'], keySpecs: storeKeySpecs(['RW']),
    categories: ['set'], group, summary: 'Intersect multiple sets and store the resulting set in a key',
    complexity: INTER_COMPLEXITY, arguments: storeArgs(), handler: sinterstore }),
  defineCommand({ name: 'sunion', arity: -2, flags: ['readonly'], keys: [1, -1, 1], keyFlags: ['RO', 'ACCESS'],
    categories: ['set'], tips: ORDER_TIP, group, summary: 'Add multiple sets', complexity: UNION_COMPLEXITY,
    arguments: [keyArg('key', 0, { multiple: true })], handler: sunion }),
  defineCommand({ name: 'sunionstore', arity: -3, flags: ['write', 'denyoom'], keySpecs: storeKeySpecs(['OW']),
    categories: ['set'], group, summary: 'Add multiple sets and store the resulting set in a key', complexity: UNION_COMPLEXITY,
    arguments: storeArgs(), handler: sunionstore }),
  defineCommand({ name: 'sdiff', arity: -2, flags: ['readonly'], keys: [1, -1, 1], keyFlags: ['RO', 'ACCESS'],
    categories: ['set'], tips: ORDER_TIP, group, summary: 'Subtract multiple sets', complexity: UNION_COMPLEXITY,
    arguments: [keyArg('key', 0, { multiple: true })], handler: sdiff }),
  defineCommand({ name: 'sdiffstore', arity: -3, flags: ['write', 'denyoom'], keySpecs: storeKeySpecs(['OW']),
    categories: ['set'], group, summary: 'Subtract multiple sets and store the resulting set in a key',
    complexity: UNION_COMPLEXITY, arguments: storeArgs(), handler: sdiffstore }),
  defineCommand({ name: 'sscan', arity: -3, flags: ['readonly'], keys: key1, keyFlags: ['RO', 'ACCESS'], categories: ['set'],
    tips: ['nondeterministic_output'], group, since: '2.8.0', summary: 'Incrementally iterate Set elements',
    complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..',
    arguments: [keyArg('key', 0), arg('cursor', 'integer'), arg('pattern', 'pattern', { token: 'MATCH', optional: true }),
      arg('count', 'integer', { token: 'COUNT', optional: true })], handler: sscan }),
];
