/**
 * The blocking list commands (Redis's t_list.c blockingPopGenericCommand,
 * blmoveGenericCommand, blmpopGenericCommand and serveClientBlockedOnList):
 * BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP. When a key holds a list they
 * act as their non-blocking forms, in argument order; when every key is
 * missing the client waits (blocking.ts) and is served by the write that
 * creates one of its keys, inside that write's critical section.
 */
import { arg, defineCommand, keyArg, keyNumKeys, oneOf, rangeKeys, tokenArg, type CommandSpec, type ReplyFunction } from './command-spec.js';
import { CommandContext } from './context.js';
import { SYNTAX } from './errors.js';
import { E_TYPE, ValueType } from '../store/layout.js';
import type { Shard } from '../store/shard.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { WaiterRequest } from '../store/waiter-list.js';
import { keyHashSlot } from '../store/key-hash.js';
import {
  FROM_RIGHT, registerServe, ServeOutcome, setServedEffect, TO_RIGHT, WaiterKind, type BlockRequest,
} from './blocking.js';
import { opMove, opPop, opPopRangeWithKey } from './list-ops.js';
import { parseLongDouble, type LongDouble } from './numbers.js';

const group = 'list';
const TIMEOUT_NOT_FLOAT = 'timeout is not a float or out of range';
const TIMEOUT_NEGATIVE = 'timeout is negative';
const TIMEOUT_OUT_OF_RANGE = 'timeout is out of range';
const NUMKEYS_NOT_POSITIVE = 'numkeys should be greater than 0';
const COUNT_NOT_POSITIVE = 'count should be greater than 0';
/** LLONG_MAX milliseconds: the largest timeout Redis accepts. */
const MAX_TIMEOUT_MS = 9223372036854775807;

function longDoubleToNumber(v: LongDouble): number {
  if (v.inf) return v.neg ? -Infinity : Infinity;
  const n = Number(v.m) * 2 ** v.e;
  return v.neg ? -n : n;
}

/**
 * getTimeoutFromObjectOrReply (seconds as a long double, rounded up to
 * whole milliseconds): the timeout in ms (0 = forever), or null after
 * replying Redis's error.
 */
export function parseTimeout(c: CommandContext, i: number): number | null {
  const v = parseLongDouble(c.buf, c.argStart[i], c.argLen[i]);
  if (v === null) {
    c.out.error(TIMEOUT_NOT_FLOAT);
    return null;
  }
  const ms = Math.ceil(longDoubleToNumber(v) * 1000);
  if (ms < 0) {
    c.out.error(TIMEOUT_NEGATIVE);
    return null;
  }
  if (ms > MAX_TIMEOUT_MS - c.now || !Number.isFinite(ms)) {
    c.out.error(TIMEOUT_OUT_OF_RANGE);
    return null;
  }
  return ms;
}

function blockOrNull(c: CommandContext, request: BlockRequest): Promise<ReplyFunction> | void {
  const waiting = c.server.blocking.block(c, request);
  if (waiting === null) c.out.error('too many blocked clients on this thread');
  else return waiting;
}

/** BLPOP / BRPOP key [key ...] timeout. */
function blockingPop(fromRight: boolean) {
  return (c: CommandContext): void | Promise<ReplyFunction> => {
    const timeoutMs = parseTimeout(c, c.argc - 1);
    if (timeoutMs === null) return;
    c.lockKeyRange(1, c.argc - 2, 1);
    const keys: number[] = [];
    for (let i = 1; i < c.argc - 1; i++) {
      c.selectKey(i);
      const e = c.findWrite();
      if (e === 0) {
        keys.push(i);
        continue;
      }
      if (c.typeOf(e) !== ValueType.List) {
        c.wrongType();
        return;
      }
      c.out.arrayHeader(2);
      c.out.bulkBytes(c.buf, c.argStart[i], c.argLen[i]);
      opPop(c, e, !fromRight);
      c.propagateAs = [fromRight ? 'RPOP' : 'LPOP', c.argBuffer(i)];
      c.dirty++;
      return;
    }
    return blockOrNull(c, { kind: WaiterKind.Pop, flags: fromRight ? FROM_RIGHT : 0, count: 1, keys, destination: -1, timeoutMs });
  };
}

function position(c: CommandContext, i: number): boolean | null {
  if (c.argIs(i, 'left')) return true;
  if (c.argIs(i, 'right')) return false;
  c.out.error(SYNTAX);
  return null;
}

/** BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout, and BRPOPLPUSH source destination timeout. */
function blockingMove(c: CommandContext, fromHead: boolean, toHead: boolean, timeoutArg: number): void | Promise<ReplyFunction> {
  const timeoutMs = parseTimeout(c, timeoutArg);
  if (timeoutMs === null) return;
  c.lockKeysAt(MOVE_KEYS);
  c.selectKey(1);
  if (c.findWrite() !== 0) {
    if (opMove(c, 1, 2, fromHead, toHead)) {
      c.dirty++;
      c.propagateAs = fromHead === false && toHead === true && timeoutArg === 3
        ? ['RPOPLPUSH', c.argBuffer(1), c.argBuffer(2)]
        : ['LMOVE', c.argBuffer(1), c.argBuffer(2), fromHead ? 'LEFT' : 'RIGHT', toHead ? 'LEFT' : 'RIGHT'];
    }
    return;
  }
  const flags = (fromHead ? 0 : FROM_RIGHT) | (toHead ? 0 : TO_RIGHT);
  return blockOrNull(c, { kind: WaiterKind.Move, flags, count: 1, keys: [1], destination: 2, timeoutMs });
}
const MOVE_KEYS = [1, 2];

function blmove(c: CommandContext): void | Promise<ReplyFunction> {
  const fromHead = position(c, 3);
  if (fromHead === null) return;
  const toHead = position(c, 4);
  if (toHead === null) return;
  return blockingMove(c, fromHead, toHead, 5);
}

/** BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]. */
function blmpop(c: CommandContext): void | Promise<ReplyFunction> {
  const timeoutMs = parseTimeout(c, 1);
  if (timeoutMs === null) return;
  const numkeys = c.argInt(2);
  if (numkeys === null || numkeys < 1) {
    c.out.error(NUMKEYS_NOT_POSITIVE);
    return;
  }
  const whereArg = 3 + numkeys;
  if (numkeys > c.argc - 3 || whereArg >= c.argc) {
    c.out.error(SYNTAX);
    return;
  }
  const atHead = position(c, whereArg);
  if (atHead === null) return;
  let count = -1;
  for (let j = whereArg + 1; j < c.argc; j++) {
    if (count === -1 && j + 1 < c.argc && c.argIs(j, 'count')) {
      const n = c.argInt(++j);
      if (n === null || n < 1) {
        c.out.error(COUNT_NOT_POSITIVE);
        return;
      }
      count = n;
    } else {
      c.out.error(SYNTAX);
      return;
    }
  }
  if (count === -1) count = 1;
  c.lockKeyRange(3, whereArg - 1, 1);
  const keys: number[] = [];
  for (let i = 3; i < whereArg; i++) {
    c.selectKey(i);
    const e = c.findWrite();
    if (e === 0) {
      keys.push(i);
      continue;
    }
    if (c.typeOf(e) !== ValueType.List) {
      c.wrongType();
      return;
    }
    const n = opPopRangeWithKey(c, e, i, atHead, count);
    c.propagateAs = [atHead ? 'LPOP' : 'RPOP', c.argBuffer(i), n];
    c.dirty++;
    return;
  }
  return blockOrNull(c, { kind: WaiterKind.MultiPop, flags: atHead ? 0 : FROM_RIGHT, count, keys, destination: -1, timeoutMs });
}

// ---- serving waiters (under the writer's locks) ----

/**
 * A context over the key being served, replying into the waiter's reply
 * writer: argument 0 is the key, argument 1 the destination (BLMOVE). It
 * shares the writer's locks and ready-key list.
 */
function servingContext(c: CommandContext, key: Buffer, destination: Buffer | null, physicalDb: number, out: ReplyWriter): CommandContext {
  const sc = new CommandContext(out, c.ks);
  sc.server = c.server;
  sc.now = c.now;
  sc.buf = destination === null ? key : Buffer.concat([key, destination]);
  sc.argc = destination === null ? 1 : 2;
  sc.argStart = Int32Array.of(0, key.length);
  sc.argLen = Int32Array.of(key.length, destination === null ? 0 : destination.length);
  let logical = 0;
  while (logical < c.ks.databases - 1 && c.ks.dbMap[logical] !== physicalDb) logical++;
  sc.client = { ...c.client, db: logical, resp: out.resp };
  sc.lockedShards = c.lockedShards;
  sc.readyKeys = c.readyKeys;
  sc.selectKey(0);
  return sc;
}

function servePop(c: CommandContext, shard: Shard, e: number, key: Buffer, w: WaiterRequest, _d: Buffer | null, out: ReplyWriter): ServeOutcome {
  if (shard.u8[e + E_TYPE] !== ValueType.List) return ServeOutcome.Skip;
  const sc = servingContext(c, key, null, w.db, out);
  const atHead = (w.flags & FROM_RIGHT) === 0;
  if (w.kind === WaiterKind.MultiPop) {
    const n = opPopRangeWithKey(sc, e, 0, atHead, w.count);
    setServedEffect([atHead ? 'LPOP' : 'RPOP', key, n]);
  } else {
    out.arrayHeader(2);
    out.bulkBytes(key, 0, key.length);
    opPop(sc, e, atHead);
    setServedEffect([atHead ? 'LPOP' : 'RPOP', key]);
  }
  return ServeOutcome.Served;
}

function serveMove(c: CommandContext, shard: Shard, e: number, key: Buffer, w: WaiterRequest, destination: Buffer | null, out: ReplyWriter): ServeOutcome {
  if (shard.u8[e + E_TYPE] !== ValueType.List) return ServeOutcome.Skip;
  const sc = servingContext(c, key, destination, w.db, out);
  // The destination's shard: held by the writer, or taken now if that cannot deadlock.
  const destShard = c.ks.shards[keyHashSlot(sc.buf, sc.argStart[1], sc.argLen[1]) & c.ks.shardMask];
  const bit = 1 << destShard.index;
  if ((c.lockedShards & bit) === 0) {
    if (!destShard.tryLock()) return ServeOutcome.Skip;
    c.lockedShards |= bit;
    sc.lockedShards = c.lockedShards;
  }
  const fromHead = (w.flags & FROM_RIGHT) === 0;
  const toHead = (w.flags & TO_RIGHT) === 0;
  if (!opMove(sc, 0, 1, fromHead, toHead)) return ServeOutcome.Failed;
  setServedEffect(['LMOVE', key, destination!, fromHead ? 'LEFT' : 'RIGHT', toHead ? 'LEFT' : 'RIGHT']);
  return ServeOutcome.Served;
}

registerServe(WaiterKind.Pop, servePop);
registerServe(WaiterKind.MultiPop, servePop);
registerServe(WaiterKind.Move, serveMove);

const blockingFlags = ['write', 'noscript', 'blocking'] as const;
const where = (name: string) => oneOf(name, [tokenArg('left', 'LEFT'), tokenArg('right', 'RIGHT')]);

export const blockingListCommands: CommandSpec[] = [
  defineCommand({ name: 'blpop', arity: -3, flags: [...blockingFlags], keySpecs: [rangeKeys(['RW', 'ACCESS', 'DELETE'], 1, -2)],
    categories: ['list'], group, since: '2.0.0',
    summary: 'Remove and get the first element in a list, or block until one is available',
    complexity: 'O(N) where N is the number of provided keys.', history: [['6.0.0', '`timeout` is interpreted as a double instead of an integer.']],
    arguments: [keyArg('key', 0, { multiple: true }), arg('timeout', 'double')], handler: blockingPop(false) }),
  defineCommand({ name: 'brpop', arity: -3, flags: [...blockingFlags], keySpecs: [rangeKeys(['RW', 'ACCESS', 'DELETE'], 1, -2)],
    categories: ['list'], group, since: '2.0.0',
    summary: 'Remove and get the last element in a list, or block until one is available',
    complexity: 'O(N) where N is the number of provided keys.', history: [['6.0.0', '`timeout` is interpreted as a double instead of an integer.']],
    arguments: [keyArg('key', 0, { multiple: true }), arg('timeout', 'double')], handler: blockingPop(true) }),
  defineCommand({ name: 'blmove', arity: 6, flags: ['write', 'denyoom', 'noscript', 'blocking'],
    keySpecs: [rangeKeys(['RW', 'ACCESS', 'DELETE'], 1), rangeKeys(['RW', 'INSERT'], 2)], categories: ['list'], group, since: '6.2.0',
    summary: 'Pop an element from a list, push it to another list and return it; or block until one is available',
    complexity: 'O(1)', arguments: [keyArg('source', 0), keyArg('destination', 1), where('wherefrom'), where('whereto'), arg('timeout', 'double')],
    handler: blmove }),
  defineCommand({ name: 'brpoplpush', arity: 4, flags: ['write', 'denyoom', 'noscript', 'blocking'],
    keySpecs: [rangeKeys(['RW', 'ACCESS', 'DELETE'], 1), rangeKeys(['RW', 'INSERT'], 2)], categories: ['list'], group, since: '2.2.0',
    summary: 'Pop an element from a list, push it to another list and return it; or block until one is available',
    complexity: 'O(1)', docFlags: ['deprecated'], deprecatedSince: '6.2.0', replacedBy: '`BLMOVE` with the `RIGHT` and `LEFT` arguments',
    history: [['6.0.0', '`timeout` is interpreted as a double instead of an integer.']],
    arguments: [keyArg('source', 0), keyArg('destination', 1), arg('timeout', 'double')], handler: (c) => blockingMove(c, false, true, 3) }),
  defineCommand({ name: 'blmpop', arity: -5, flags: ['write', 'blocking'], keySpecs: [keyNumKeys(['RW', 'ACCESS', 'DELETE'], 2, 0, 1)],
    categories: ['list'], group, since: '7.0.0',
    summary: 'Pop elements from a list, or block until one is available',
    complexity: 'O(N+M) where N is the number of provided keys and M is the number of elements returned.',
    arguments: [arg('timeout', 'double'), arg('numkeys', 'integer'), keyArg('key', 0, { multiple: true }), where('where'),
      arg('count', 'integer', { token: 'COUNT', optional: true })],
    getKeys: (c) => {
      const n = c.argInt(2) ?? 0;
      const keys: number[] = [];
      for (let i = 0; i < n && 3 + i < c.argc; i++) keys.push(3 + i);
      return keys;
    },
    handler: blmpop }),
];
