/**
 * The list family (Redis 7.0's t_list.c commands): pushGenericCommand
 * (LPUSH, RPUSH, LPUSHX, RPUSHX), popGenericCommand (LPOP, RPOP with a
 * count), llenCommand, lindexCommand, lsetCommand, lrangeCommand,
 * ltrimCommand, lremCommand, linsertCommand, lposCommand,
 * lmoveGenericCommand (LMOVE, RPOPLPUSH) and lmpopGenericCommand (LMPOP).
 * The handlers parse arguments and reply; the data work is in list-ops.ts.
 * The blocking forms (BLPOP, BLMOVE, BLMPOP...) are in blocking-lists.ts,
 * which serves waiters with the same list-ops.ts functions.
 */
import { EventClass } from './keyspace-events.js';
import { arg, defineCommand, keyArg, keyNumKeys, oneOf, rangeKeys, tokenArg, type CommandSpec } from './command-spec.js';
import type { CommandContext } from './context.js';
import { ValueType } from '../store/layout.js';
import { NO_SUCH_KEY, NOT_INTEGER, SYNTAX, wrongArity } from './errors.js';
import { parseBigInt64, INT64_MIN } from './numbers.js';
import {
  qlCount, qlCursor, qlDeleteAtCursor, qlDeleteRange, qlInsertAtCursor, qlNext, qlPrev, qlReplaceAtCursor, qlSeek,
} from '../store/quicklist.js';
import { bytesEqual, elem, readForward } from '../store/packed.js';
import {
  listHeader, opCreateList, opDeleteIfEmpty, opMove, opPop, opPopRange, opPopRangeWithKey, opPushArgs, replyRange,
} from './list-ops.js';
import { signalKeyAsReady } from './blocking.js';
import { mpopArgs, parseMpop } from './mpop-args.js';

const group = 'list';

export const INDEX_OUT_OF_RANGE = 'index out of range';
export const LPOS_RANK_ZERO = "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
export const LPOS_COUNT_NEGATIVE = "COUNT can't be negative";
export const LPOS_MAXLEN_NEGATIVE = "MAXLEN can't be negative";

/** Opens argument 1 (lookupKeyRead or lookupKeyWrite): its entry, 0 when missing, -1 after a WRONGTYPE reply. */
function openList(c: CommandContext, forRead: boolean): number {
  c.openKey(1);
  const e = forRead ? c.findRead() : c.findWrite();
  if (e !== 0 && c.typeOf(e) !== ValueType.List) {
    c.wrongType();
    return -1;
  }
  return e;
}

/** Whether the current list element (`elem`, in the shard) equals argument i. */
function elemIs(c: CommandContext, i: number): boolean {
  return elem.len === c.argLen[i] && bytesEqual(c.shard.u8, elem.start, c.buf, c.argStart[i], elem.len);
}

/** getListPositionFromObjectOrReply: true for LEFT (head), false for RIGHT, null after a syntax error. */
export function listPosition(c: CommandContext, i: number): boolean | null {
  if (c.argIs(i, 'right')) return false;
  if (c.argIs(i, 'left')) return true;
  c.out.error(SYNTAX);
  return null;
}

/** pushGenericCommand: LPUSH/RPUSH, and LPUSHX/RPUSHX (`onlyIfExists`). */
function pushGeneric(atHead: boolean, onlyIfExists: boolean) {
  return (c: CommandContext): void => {
    let e = openList(c, false);
    if (e < 0) return;
    const created = e === 0;
    if (created) {
      if (onlyIfExists) {
        c.out.integer(0);
        return;
      }
      e = opCreateList(c);
    }
    c.out.integer(opPushArgs(c, e, 2, atHead));
    c.dirty += c.argc - 2;
    if (created) signalKeyAsReady(c, 1);
  };
}

/** popGenericCommand: LPOP/RPOP key [count]. */
function popGeneric(atHead: boolean) {
  return (c: CommandContext): void => {
    if (c.argc > 3) {
      c.out.error(wrongArity(c.spec.name));
      return;
    }
    const hasCount = c.argc === 3;
    let count = 0;
    if (hasCount) {
      const n = c.argCountOrReply(2);
      if (n === null) return;
      count = n;
    }
    c.openKey(1);
    const e = c.findWrite();
    if (e === 0) {
      if (hasCount) c.out.nullArray();
      else c.out.nullBulk();
      return;
    }
    if (c.typeOf(e) !== ValueType.List) {
      c.wrongType();
      return;
    }
    if (!hasCount) {
      opPop(c, e, atHead);
      c.dirty++;
    } else if (count === 0) {
      c.out.arrayHeader(0);
    } else {
      c.dirty += opPopRange(c, e, atHead, count);
    }
  };
}

function llen(c: CommandContext): void {
  const e = openList(c, true);
  if (e >= 0) c.out.integer(e === 0 ? 0 : qlCount(c.shard, listHeader(c, e)));
}

function lindex(c: CommandContext): void {
  const e = openList(c, true);
  if (e < 0) return;
  if (e === 0) {
    c.out.nullBulk();
    return;
  }
  const index = c.argInt(2);
  if (index === null) {
    c.out.error(NOT_INTEGER);
    return;
  }
  const s = c.shard;
  if (!qlSeek(s, listHeader(c, e), index)) {
    c.out.nullBulk();
    return;
  }
  readForward(s.u8, qlCursor.pos);
  c.out.bulkBytes(s.u8, elem.start, elem.len, s.dv);
}

function lset(c: CommandContext): void {
  const e = openList(c, false);
  if (e < 0) return;
  if (e === 0) {
    c.out.error(NO_SUCH_KEY);
    return;
  }
  const index = c.argInt(2);
  if (index === null) {
    c.out.error(NOT_INTEGER);
    return;
  }
  const h = listHeader(c, e);
  if (!qlSeek(c.shard, h, index)) {
    c.out.error(INDEX_OUT_OF_RANGE);
    return;
  }
  qlReplaceAtCursor(c.shard, h, c.buf, c.argStart[3], c.argLen[3]);
  c.out.ok();
  c.dirty++;
}

/** The start and end arguments 2 and 3 of LRANGE/LTRIM, or null after an error. */
const range = { start: 0, end: 0 };
function parseRange(c: CommandContext): typeof range | null {
  const start = c.argInt(2);
  const end = c.argInt(3);
  if (start === null || end === null) {
    c.out.error(NOT_INTEGER);
    return null;
  }
  range.start = start;
  range.end = end;
  return range;
}

function lrange(c: CommandContext): void {
  const r = parseRange(c);
  if (r === null) return;
  const e = openList(c, true);
  if (e < 0) return;
  if (e === 0) {
    c.out.arrayHeader(0);
    return;
  }
  const h = listHeader(c, e);
  const len = qlCount(c.shard, h);
  let { start, end } = r;
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) {
    c.out.arrayHeader(0);
    return;
  }
  if (end >= len) end = len - 1;
  replyRange(c, h, start, end, false);
}

function ltrim(c: CommandContext): void {
  const r = parseRange(c);
  if (r === null) return;
  const e = openList(c, false);
  if (e < 0) return;
  if (e === 0) {
    c.out.ok();
    return;
  }
  const s = c.shard;
  const h = listHeader(c, e);
  const len = qlCount(s, h);
  let { start, end } = r;
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  let fromHead = len;
  let fromTail = 0;
  if (start <= end && start < len) {
    if (end >= len) end = len - 1;
    fromHead = start;
    fromTail = len - end - 1;
  }
  qlDeleteRange(s, h, 0, fromHead);
  qlDeleteRange(s, h, -fromTail, fromTail);
  // ltrimCommand notifies even when nothing was trimmed.
  c.keyEvent(EventClass.List, 'ltrim', 1, true);
  opDeleteIfEmpty(c, e);
  c.dirty += fromHead + fromTail;
  c.out.ok();
}

/** LREM from the tail: deletes matches walking backwards; returns how many. */
function removeFromTail(c: CommandContext, h: number, limit: number): number {
  const s = c.shard;
  let removed = 0;
  qlSeek(s, h, -1);
  for (;;) {
    readForward(s.u8, qlCursor.pos);
    if (elemIs(c, 3)) {
      removed++;
      const more = qlDeleteAtCursor(s, h, true);
      if (removed === limit || !more) return removed;
    } else if (!qlPrev(s)) {
      return removed;
    }
  }
}

/** LREM from the head; returns how many were deleted. */
function removeFromHead(c: CommandContext, h: number, limit: number): number {
  const s = c.shard;
  let removed = 0;
  qlSeek(s, h, 0);
  for (;;) {
    readForward(s.u8, qlCursor.pos);
    if (elemIs(c, 3)) {
      removed++;
      const more = qlDeleteAtCursor(s, h);
      if (removed === limit || !more) return removed;
    } else if (!qlNext(s)) {
      return removed;
    }
  }
}

function lrem(c: CommandContext): void {
  const toRemove = c.argInt(2);
  if (toRemove === null) {
    c.out.error(NOT_INTEGER);
    return;
  }
  const e = openList(c, false);
  if (e < 0) return;
  if (e === 0) {
    c.out.integer(0);
    return;
  }
  const h = listHeader(c, e);
  const removed = toRemove < 0 ? removeFromTail(c, h, -toRemove) : removeFromHead(c, h, toRemove);
  c.dirty += removed;
  opDeleteIfEmpty(c, e);
  c.out.integer(removed);
}

function linsert(c: CommandContext): void {
  let after: boolean;
  if (c.argIs(2, 'after')) after = true;
  else if (c.argIs(2, 'before')) after = false;
  else {
    c.out.error(SYNTAX);
    return;
  }
  const e = openList(c, false);
  if (e < 0) return;
  if (e === 0) {
    c.out.integer(0);
    return;
  }
  const s = c.shard;
  const h = listHeader(c, e);
  qlSeek(s, h, 0);
  do {
    readForward(s.u8, qlCursor.pos);
    if (elemIs(c, 3)) {
      qlInsertAtCursor(s, h, c.buf, c.argStart[4], c.argLen[4], after, c.server.limits.listMaxListpackSize);
      c.dirty++;
      c.out.integer(qlCount(s, h));
      return;
    }
  } while (qlNext(s));
  c.out.integer(-1);
}

/** LPOS options: RANK (sign gives the direction), COUNT (-1: not given), MAXLEN (0: no cap). */
const lposArgs = { rank: 1, count: -1, maxlen: 0, rankIsLongMin: false };
/** Matching indexes of LPOS ... COUNT (the reply's length is known only at the end). */
const lposMatches: number[] = [];

/** lposCommand's option loop; false after an error reply. */
function parseLposArgs(c: CommandContext): boolean {
  const o = lposArgs;
  o.rank = 1;
  o.count = -1;
  o.maxlen = 0;
  o.rankIsLongMin = false;
  for (let j = 3; j < c.argc; j++) {
    const more = j + 1 < c.argc;
    if (more && c.argIs(j, 'rank')) {
      const rank = c.argInt(++j);
      if (rank === null) return lposError(c, NOT_INTEGER);
      if (rank === 0) return lposError(c, LPOS_RANK_ZERO);
      o.rank = rank;
      // Redis negates LONG_MIN in place (it stays negative): every match then counts and COUNT never stops the scan.
      o.rankIsLongMin = rank <= -9223372036854775808 && parseBigInt64(c.buf, c.argStart[j], c.argLen[j]) === INT64_MIN;
    } else if (more && c.argIs(j, 'count')) {
      const count = c.argInt(++j);
      if (count === null || count < 0) return lposError(c, LPOS_COUNT_NEGATIVE);
      o.count = count;
    } else if (more && c.argIs(j, 'maxlen')) {
      const maxlen = c.argInt(++j);
      if (maxlen === null || maxlen < 0) return lposError(c, LPOS_MAXLEN_NEGATIVE);
      o.maxlen = maxlen;
    } else {
      return lposError(c, SYNTAX);
    }
  }
  return true;
}

function lposError(c: CommandContext, text: string): false {
  c.out.error(text);
  return false;
}

function lpos(c: CommandContext): void {
  if (!parseLposArgs(c)) return;
  const { count, maxlen, rankIsLongMin } = lposArgs;
  const fromTail = lposArgs.rank < 0;
  const rank = rankIsLongMin ? 1 : Math.abs(lposArgs.rank);
  const e = openList(c, true);
  if (e < 0) return;
  if (e === 0) {
    if (count !== -1) c.out.arrayHeader(0);
    else c.out.nullBulk();
    return;
  }
  const s = c.shard;
  const h = listHeader(c, e);
  const len = qlCount(s, h);
  lposMatches.length = 0;
  let index = 0;
  let matches = 0;
  let matchIndex = -1;
  qlSeek(s, h, fromTail ? -1 : 0);
  while (maxlen === 0 || index < maxlen) {
    readForward(s.u8, qlCursor.pos);
    if (elemIs(c, 2)) {
      matches++;
      matchIndex = fromTail ? len - index - 1 : index;
      if (matches >= rank) {
        if (count === -1) break;
        lposMatches.push(matchIndex);
        if (count !== 0 && !rankIsLongMin && matches - rank + 1 >= count) break;
      }
    }
    index++;
    matchIndex = -1;
    if (!(fromTail ? qlPrev(s) : qlNext(s))) break;
  }
  if (count === -1) {
    if (matchIndex !== -1) c.out.integer(matchIndex);
    else c.out.nullBulk();
    return;
  }
  c.out.arrayHeader(lposMatches.length);
  for (let i = 0; i < lposMatches.length; i++) c.out.integer(lposMatches[i]);
}

function lmove(c: CommandContext): void {
  const fromHead = listPosition(c, 3);
  if (fromHead === null) return;
  const toHead = listPosition(c, 4);
  if (toHead === null) return;
  moveGeneric(c, fromHead, toHead);
}

function moveGeneric(c: CommandContext, fromHead: boolean, toHead: boolean): void {
  c.lockKeysAt(moveKeys);
  if (opMove(c, 1, 2, fromHead, toHead)) c.dirty++;
}
const moveKeys = [1, 2];

/**
 * Pops from the first list among keys first..last (their shards locked), as
 * LMPOP, BLMPOP and BLPOP/BRPOP do when a list exists: `count` elements
 * replied as [key, [elements]] and propagated as `LPOP|RPOP key n`, or with
 * count -1 one element replied as [key, element] and propagated as
 * `LPOP|RPOP key`. A key of another type stops with WRONGTYPE. Returns
 * whether it replied (false: every key is missing).
 */
export function popFirstList(c: CommandContext, first: number, last: number, atHead: boolean, count: number): boolean {
  for (let i = first; i <= last; i++) {
    c.selectKey(i);
    const e = c.findWrite();
    if (e === 0) continue;
    if (c.typeOf(e) !== ValueType.List) {
      c.wrongType();
      return true;
    }
    const pop = atHead ? 'LPOP' : 'RPOP';
    c.keyModified(i);
    c.keyEvent(EventClass.List, atHead ? 'lpop' : 'rpop', i, true);
    if (count < 0) {
      c.out.arrayHeader(2);
      c.out.bulkBytes(c.buf, c.argStart[i], c.argLen[i]);
      opPop(c, e, atHead);
      c.propagateAs = [pop, c.argBuffer(i)];
      c.dirty++;
    } else {
      const n = opPopRangeWithKey(c, e, i, atHead, count);
      c.propagateAs = [pop, c.argBuffer(i), n];
      c.dirty += n;
    }
    return true;
  }
  return false;
}

/** lmpopGenericCommand (non-blocking): LMPOP numkeys key... LEFT|RIGHT [COUNT n]. */
function lmpop(c: CommandContext): void {
  if (!parseMpop(c, 1, 'left', 'right')) return;
  c.lockKeyRange(mpopArgs.firstKey, mpopArgs.lastKey, 1);
  if (!popFirstList(c, mpopArgs.firstKey, mpopArgs.lastKey, mpopArgs.firstWord, mpopArgs.count)) c.out.nullArray();
}

const key1: [number, number, number] = [1, 1, 1];
const PUSH_COMPLEXITY = 'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.';
const pushArgs = () => [keyArg('key', 0), arg('element', 'string', { multiple: true })];
const leftRight = (name: string) => oneOf(name, [tokenArg('left', 'LEFT'), tokenArg('right', 'RIGHT')]);
const popArgs = () => [keyArg('key', 0), arg('count', 'integer', { since: '6.2.0', optional: true })];
const moveKeySpecs = () => [rangeKeys(['RW', 'ACCESS', 'DELETE'], 1), rangeKeys(['RW', 'INSERT'], 2)];

export const listCommands: CommandSpec[] = [
  defineCommand({ name: 'lpush', arity: -3, flags: ['write', 'denyoom', 'fast'], keys: key1, keyFlags: ['RW', 'INSERT'],
    categories: ['list'], group, summary: 'Prepend one or multiple elements to a list', complexity: PUSH_COMPLEXITY,
    history: [['2.4.0', 'Accepts multiple `element` arguments.']], arguments: pushArgs(), handler: pushGeneric(true, false) }),
  defineCommand({ name: 'rpush', arity: -3, flags: ['write', 'denyoom', 'fast'], keys: key1, keyFlags: ['RW', 'INSERT'],
    categories: ['list'], group, summary: 'Append one or multiple elements to a list', complexity: PUSH_COMPLEXITY,
    history: [['2.4.0', 'Accepts multiple `element` arguments.']], arguments: pushArgs(), handler: pushGeneric(false, false) }),
  defineCommand({ name: 'lpushx', arity: -3, flags: ['write', 'denyoom', 'fast'], keys: key1, keyFlags: ['RW', 'INSERT'],
    categories: ['list'], group, since: '2.2.0', summary: 'Prepend an element to a list, only if the list exists',
    complexity: PUSH_COMPLEXITY, history: [['4.0.0', 'Accepts multiple `element` arguments.']], arguments: pushArgs(),
    handler: pushGeneric(true, true) }),
  defineCommand({ name: 'rpushx', arity: -3, flags: ['write', 'denyoom', 'fast'], keys: key1, keyFlags: ['RW', 'INSERT'],
    categories: ['list'], group, since: '2.2.0', summary: 'Append an element to a list, only if the list exists',
    complexity: PUSH_COMPLEXITY, history: [['4.0.0', 'Accepts multiple `element` arguments.']], arguments: pushArgs(),
    handler: pushGeneric(false, true) }),
  defineCommand({ name: 'lpop', arity: -2, flags: ['write', 'fast'], keys: key1, keyFlags: ['RW', 'ACCESS', 'DELETE'],
    categories: ['list'], group, summary: 'Remove and get the first elements in a list',
    complexity: 'O(N) where N is the number of elements returned', history: [['6.2.0', 'Added the `count` argument.']],
    arguments: popArgs(), handler: popGeneric(true) }),
  defineCommand({ name: 'rpop', arity: -2, flags: ['write', 'fast'], keys: key1, keyFlags: ['RW', 'ACCESS', 'DELETE'],
    categories: ['list'], group, summary: 'Remove and get the last elements in a list',
    complexity: 'O(N) where N is the number of elements returned', history: [['6.2.0', 'Added the `count` argument.']],
    arguments: popArgs(), handler: popGeneric(false) }),
  defineCommand({ name: 'llen', arity: 2, flags: ['readonly', 'fast'], keys: key1, keyFlags: ['RO'], categories: ['list'], group,
    summary: 'Get the length of a list', complexity: 'O(1)', arguments: [keyArg('key', 0)], handler: llen }),
  defineCommand({ name: 'lindex', arity: 3, flags: ['readonly'], keys: key1, categories: ['list'], group,
    summary: 'Get an element from a list by its index',
    complexity: 'O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).',
    arguments: [keyArg('key', 0), arg('index', 'integer')], handler: lindex }),
  defineCommand({ name: 'lset', arity: 4, flags: ['write', 'denyoom'], keys: key1, categories: ['list'], group,
    summary: 'Set the value of an element in a list by its index',
    complexity: 'O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).',
    arguments: [keyArg('key', 0), arg('index', 'integer'), arg('element', 'string')], handler: lset }),
  defineCommand({ name: 'lrange', arity: 4, flags: ['readonly'], keys: key1, categories: ['list'], group,
    summary: 'Get a range of elements from a list',
    complexity: 'O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.',
    arguments: [keyArg('key', 0), arg('start', 'integer'), arg('stop', 'integer')], handler: lrange }),
  defineCommand({ name: 'ltrim', arity: 4, flags: ['write'], keys: key1, keyFlags: ['RW', 'DELETE'], categories: ['list'], group,
    summary: 'Trim a list to the specified range', complexity: 'O(N) where N is the number of elements to be removed by the operation.',
    arguments: [keyArg('key', 0), arg('start', 'integer'), arg('stop', 'integer')], handler: ltrim }),
  defineCommand({ name: 'lrem', arity: 4, flags: ['write'], keys: key1, keyFlags: ['RW', 'DELETE'], categories: ['list'], group,
    summary: 'Remove elements from a list', complexity: 'O(N+M) where N is the length of the list and M is the number of elements removed.',
    arguments: [keyArg('key', 0), arg('count', 'integer'), arg('element', 'string')], handler: lrem }),
  defineCommand({ name: 'linsert', arity: 5, flags: ['write', 'denyoom'], keys: key1, keyFlags: ['RW', 'INSERT'],
    categories: ['list'], group, since: '2.2.0', summary: 'Insert an element before or after another element in a list',
    complexity: 'O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).',
    arguments: [keyArg('key', 0), oneOf('where', [tokenArg('before', 'BEFORE'), tokenArg('after', 'AFTER')]),
      arg('pivot', 'string'), arg('element', 'string')], handler: linsert }),
  defineCommand({ name: 'lpos', arity: -3, flags: ['readonly'], keys: key1, categories: ['list'], group, since: '6.0.6',
    summary: 'Return the index of matching elements on a list',
    complexity: 'O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.',
    arguments: [keyArg('key', 0), arg('element', 'string'), arg('rank', 'integer', { token: 'RANK', optional: true }),
      arg('num-matches', 'integer', { token: 'COUNT', optional: true }), arg('len', 'integer', { token: 'MAXLEN', optional: true })],
    handler: lpos }),
  defineCommand({ name: 'lmove', arity: 5, flags: ['write', 'denyoom'], keySpecs: moveKeySpecs(), categories: ['list'], group,
    since: '6.2.0', summary: 'Pop an element from a list, push it to another list and return it', complexity: 'O(1)',
    arguments: [keyArg('source', 0), keyArg('destination', 1), leftRight('wherefrom'), leftRight('whereto')], handler: lmove }),
  defineCommand({ name: 'rpoplpush', arity: 3, flags: ['write', 'denyoom'], keySpecs: moveKeySpecs(), categories: ['list'], group,
    since: '1.2.0', summary: 'Remove the last element in a list, prepend it to another list and return it', complexity: 'O(1)',
    docFlags: ['deprecated'], deprecatedSince: '6.2.0', replacedBy: '`LMOVE` with the `RIGHT` and `LEFT` arguments',
    arguments: [keyArg('source', 0), keyArg('destination', 1)], handler: (c) => moveGeneric(c, false, true) }),
  defineCommand({ name: 'lmpop', arity: -4, flags: ['write'], keySpecs: [keyNumKeys(['RW', 'ACCESS', 'DELETE'], 1, 0, 1)],
    categories: ['list'], group, since: '7.0.0', summary: 'Pop elements from a list',
    complexity: 'O(N+M) where N is the number of provided keys and M is the number of elements returned.',
    arguments: [arg('numkeys', 'integer'), keyArg('key', 0, { multiple: true }), leftRight('where'),
      arg('count', 'integer', { token: 'COUNT', optional: true })], handler: lmpop }),
];
