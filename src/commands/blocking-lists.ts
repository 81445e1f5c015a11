/**
 * The blocking list commands (Redis's t_list.c blockingPopGenericCommand,
 * blmoveGenericCommand, blmpopGenericCommand and serveClientBlockedOnList):
 * BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP. When a key holds a list they
 * act as their non-blocking forms, in argument order; when every key is
 * missing the client waits (blocking.ts) and is served by the write that
 * creates one of its keys, inside that write's critical section.
 */
import {
  arg, defineCommand, keyArg, keyNumKeys, numkeysGetKeys, oneOf, rangeKeys, tokenArg, type CommandSpec, type ReplyFunction,
} from './command-spec.js';
import { CommandContext } from './context.js';
import { E_TYPE, ValueType } from '../store/layout.js';
import type { Shard } from '../store/shard.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { WaiterRequest } from '../store/waiter-list.js';
import { keyHashSlot } from '../store/key-hash.js';
import {
  blockOrError, FROM_RIGHT, lockBusy, parseTimeout, registerServer, setServedEffect, TO_RIGHT, WaiterKind,
} from './blocking.js';
import { opMove, opPop, opPopRangeWithKey } from './list-ops.js';
import { listPosition, popFirstList } from './lists.js';
import { mpopArgs, parseMpop } from './mpop-args.js';

const group = 'list';
/** BLPOP / BRPOP key [key ...] timeout. */
function blockingPop(fromRight: boolean) {
  return (c: CommandContext): void | Promise<ReplyFunction> => {
    const timeoutMs = parseTimeout(c, c.argc - 1);
    if (timeoutMs === null) return;
    const last = c.argc - 2;
    c.lockKeyRange(1, last, 1);
    if (popFirstList(c, 1, last, !fromRight, -1)) return;
    return blockOrError(c, { kind: WaiterKind.Pop, flags: fromRight ? FROM_RIGHT : 0, count: 1, firstKey: 1, lastKey: last, destination: -1, timeoutMs });
  };
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
      c.propagateAs = timeoutArg === BRPOPLPUSH_TIMEOUT_ARG
        ? ['RPOPLPUSH', c.argBuffer(1), c.argBuffer(2)]
        : ['LMOVE', c.argBuffer(1), c.argBuffer(2), fromHead ? 'LEFT' : 'RIGHT', toHead ? 'LEFT' : 'RIGHT'];
    }
    return;
  }
  const flags = (fromHead ? 0 : FROM_RIGHT) | (toHead ? 0 : TO_RIGHT);
  return blockOrError(c, { kind: WaiterKind.Move, flags, count: 1, firstKey: 1, lastKey: 1, destination: 2, timeoutMs });
}
const MOVE_KEYS = [1, 2];
const BRPOPLPUSH_TIMEOUT_ARG = 3;

function blmove(c: CommandContext): void | Promise<ReplyFunction> {
  const fromHead = listPosition(c, 3);
  if (fromHead === null) return;
  const toHead = listPosition(c, 4);
  if (toHead === null) return;
  return blockingMove(c, fromHead, toHead, 5);
}

/** BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]. */
function blmpop(c: CommandContext): void | Promise<ReplyFunction> {
  const timeoutMs = parseTimeout(c, 1);
  if (timeoutMs === null || !parseMpop(c, 2, 'left', 'right')) return;
  const { firstKey, lastKey, firstWord: atHead, count } = mpopArgs;
  c.lockKeyRange(firstKey, lastKey, 1);
  if (popFirstList(c, firstKey, lastKey, atHead, count)) return;
  return blockOrError(c, { kind: WaiterKind.MultiPop, flags: atHead ? 0 : FROM_RIGHT, count, firstKey, lastKey, destination: -1, timeoutMs });
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
  sc.client = { ...c.client, db: c.ks.logicalDb(physicalDb), resp: out.resp };
  sc.lockedShards = c.lockedShards;
  sc.readyKeys = c.readyKeys;
  sc.selectKey(0);
  return sc;
}

function isList(shard: Shard, e: number): boolean {
  return shard.u8[e + E_TYPE] === ValueType.List;
}

function servePop(c: CommandContext, _s: Shard, e: number, key: Buffer, w: WaiterRequest, _d: Buffer | null, out: ReplyWriter): void {
  const sc = servingContext(c, key, null, w.db, out);
  const atHead = (w.flags & FROM_RIGHT) === 0;
  const pop = atHead ? 'LPOP' : 'RPOP';
  if (w.kind === WaiterKind.MultiPop) {
    setServedEffect([pop, key, opPopRangeWithKey(sc, e, 0, atHead, w.count)]);
  } else {
    out.arrayHeader(2);
    out.bulkBytes(key, 0, key.length);
    opPop(sc, e, atHead);
    setServedEffect([pop, key]);
  }
}

/**
 * A move needs the destination's shard too: held by the writer, or taken now
 * if that cannot deadlock (no waiting); when it is busy the key is served
 * again after the writer's locks go (blocking.ts serveDeferred).
 */
function acceptsMove(c: CommandContext, shard: Shard, e: number, _w: WaiterRequest, destination: Buffer | null): boolean {
  if (!isList(shard, e)) return false;
  const destShard = c.ks.shards[keyHashSlot(destination!, 0, destination!.length) & c.ks.shardMask];
  const bit = 1 << destShard.index;
  if ((c.lockedShards & bit) !== 0) return true;
  if (!destShard.tryLock()) {
    lockBusy(destShard.index);
    return false;
  }
  c.lockedShards |= bit;
  return true;
}

function serveMove(c: CommandContext, _s: Shard, _e: number, key: Buffer, w: WaiterRequest, destination: Buffer | null, out: ReplyWriter): void {
  const sc = servingContext(c, key, destination, w.db, out);
  const fromHead = (w.flags & FROM_RIGHT) === 0;
  const toHead = (w.flags & TO_RIGHT) === 0;
  if (opMove(sc, 0, 1, fromHead, toHead)) {
    setServedEffect(['LMOVE', key, destination!, fromHead ? 'LEFT' : 'RIGHT', toHead ? 'LEFT' : 'RIGHT']);
  }
}

const popServer = { accepts: (_c: CommandContext, shard: Shard, e: number) => isList(shard, e), serve: servePop };
registerServer(WaiterKind.Pop, popServer);
registerServer(WaiterKind.MultiPop, popServer);
registerServer(WaiterKind.Move, { accepts: acceptsMove, serve: serveMove });

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
    getKeys: numkeysGetKeys(2, false), handler: blmpop }),
];
