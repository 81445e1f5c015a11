/**
 * The blocking sorted-set pops (Redis's t_zset.c blockingGenericZpopCommand
 * and serveClientBlockedOnSortedSet): BZPOPMIN, BZPOPMAX and BZMPOP. When a
 * key holds a sorted set they act as ZPOPMIN/ZPOPMAX/ZMPOP on the first one
 * in argument order; when every key is missing the client waits
 * (blocking.ts) and the write that creates one of its keys serves it.
 * Propagated as ZPOPMIN|ZPOPMAX key [count], never as the blocking command.
 */
import { arg, defineCommand, keyArg, keyNumKeys, numkeysGetKeys, oneOf, rangeKeys, tokenArg, type CommandSpec, type ReplyFunction } from './command-spec.js';
import type { CommandContext } from './context.js';
import { E_TYPE, ValueType } from '../store/layout.js';
import type { Shard } from '../store/shard.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { WaiterRequest } from '../store/waiter-list.js';
import { blockOrError, FROM_RIGHT, parseTimeout, registerServer, setServedEffect, WaiterKind } from './blocking.js';
import { mpopArgs, parseMpop } from './mpop-args.js';
import { popFirstKey } from './zset-core.js';
import { group, zsetPopReply } from './zset-common.js';

const popName = (max: boolean) => (max ? 'ZPOPMAX' : 'ZPOPMIN');

/** BZPOPMIN / BZPOPMAX key [key ...] timeout: [key, member, score]. */
function blockingZpop(max: boolean) {
  return (c: CommandContext): void | Promise<ReplyFunction> => {
    const timeoutMs = parseTimeout(c, c.argc - 1);
    if (timeoutMs === null) return;
    const last = c.argc - 2;
    c.lockKeyRange(1, last, 1);
    const popped = popFirstKey(c, 1, last, max, -1, true, false);
    if (popped > 0) c.propagateAs = [popName(max), c.argBuffer(popped)];
    if (popped >= 0) return;
    return blockOrError(c, { kind: WaiterKind.ZPop, flags: max ? FROM_RIGHT : 0, count: 1, firstKey: 1, lastKey: last, destination: -1, timeoutMs });
  };
}

/** BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]: [key, [[member, score]...]]. */
function bzmpop(c: CommandContext): void | Promise<ReplyFunction> {
  const timeoutMs = parseTimeout(c, 1);
  if (timeoutMs === null || !parseMpop(c, 2, 'min', 'max')) return;
  const { firstKey, lastKey, count } = mpopArgs;
  const max = !mpopArgs.firstWord;
  c.lockKeyRange(firstKey, lastKey, 1);
  const popped = popFirstKey(c, firstKey, lastKey, max, count, true, true);
  if (popped > 0) c.propagateAs = [popName(max), c.argBuffer(popped), count];
  if (popped >= 0) return;
  return blockOrError(c, { kind: WaiterKind.ZMultiPop, flags: max ? FROM_RIGHT : 0, count, firstKey, lastKey, destination: -1, timeoutMs });
}

function serveZpop(_c: CommandContext, shard: Shard, e: number, key: Buffer, w: WaiterRequest, _d: Buffer | null, out: ReplyWriter): void {
  const max = (w.flags & FROM_RIGHT) !== 0;
  const nested = w.kind === WaiterKind.ZMultiPop;
  zsetPopReply(shard, w.db, e, key, max, w.count, true, nested, out);
  setServedEffect(nested ? [popName(max), key, w.count] : [popName(max), key]);
}

const zsetServer = { accepts: (_c: CommandContext, shard: Shard, e: number) => shard.u8[e + E_TYPE] === ValueType.ZSet, serve: serveZpop };
registerServer(WaiterKind.ZPop, zsetServer);
registerServer(WaiterKind.ZMultiPop, zsetServer);

const categories = ['sortedset'];
const timeoutHistory: [string, string][] = [['6.0.0', '`timeout` is interpreted as a double instead of an integer.']];
const bzpopArguments = [keyArg('key', 0, { multiple: true }), arg('timeout', 'double')];

export const blockingSortedSetCommands: CommandSpec[] = [
  defineCommand({ name: 'bzpopmin', arity: -3, flags: ['write', 'noscript', 'blocking', 'fast'],
    keySpecs: [rangeKeys(['RW', 'ACCESS', 'DELETE'], 1, -2)], categories, group, since: '5.0.0',
    summary: 'Remove and return the member with the lowest score from one or more sorted sets, or block until one is available',
    complexity: 'O(log(N)) with N being the number of elements in the sorted set.', history: timeoutHistory,
    arguments: bzpopArguments, handler: blockingZpop(false) }),
  defineCommand({ name: 'bzpopmax', arity: -3, flags: ['write', 'noscript', 'blocking', 'fast'],
    keySpecs: [rangeKeys(['RW', 'ACCESS', 'DELETE'], 1, -2)], categories, group, since: '5.0.0',
    summary: 'Remove and return the member with the highest score from one or more sorted sets, or block until one is available',
    complexity: 'O(log(N)) with N being the number of elements in the sorted set.', history: timeoutHistory,
    arguments: bzpopArguments, handler: blockingZpop(true) }),
  defineCommand({ name: 'bzmpop', arity: -5, flags: ['write', 'blocking'], keySpecs: [keyNumKeys(['RW', 'ACCESS', 'DELETE'], 2, 0, 1)],
    categories, group, since: '7.0.0',
    summary: 'Remove and return members with scores in a sorted set or block until one is available',
    complexity: 'O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.',
    arguments: [arg('timeout', 'double'), arg('numkeys', 'integer'), keyArg('key', 0, { multiple: true }),
      oneOf('where', [tokenArg('min', 'MIN'), tokenArg('max', 'MAX')]), arg('count', 'integer', { token: 'COUNT', optional: true })],
    getKeys: numkeysGetKeys(2, false), handler: bzmpop }),
];
