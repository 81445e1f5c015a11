/**
 * Replication commands: REPLICAOF/SLAVEOF, ROLE, WAIT, and the two a
 * replica sends its master, REPLCONF and PSYNC (replication.c). The
 * coordinator owns replication; these parse, check and ask it.
 */
import { arg, block, defineCommand, oneOf, tokenArg, type CommandSpec } from './command-spec.js';
import type { CommandContext } from './context.js';
import { NOT_INTEGER, SYNTAX } from './errors.js';
import { writeReplyValue } from '../protocol/reply-value.js';

const group = 'server';

/** A reply line from the coordinator: "+..." a status, "-..." an error. */
function writeLine(c: CommandContext, line: string): void {
  if (line.startsWith('-')) c.out.error(line);
  else c.out.simple(line.slice(1));
}

function replicaof(c: CommandContext): Promise<(c: CommandContext) => void> | void {
  if (c.server.cluster !== null) {
    c.out.error('REPLICAOF not allowed in cluster mode.');
    return;
  }
  let target: { host: string; port: number } | null = null;
  if (!(c.argIs(1, 'no') && c.argIs(2, 'one'))) {
    if (c.client.isReplica) {
      c.out.error('Command is not valid when client is a replica.');
      return;
    }
    const port = c.argInt(2);
    if (port === null || port < 0 || port > 65535) {
      c.out.error('Invalid master port');
      return;
    }
    target = { host: c.argString(1), port };
  }
  return c.server.replication.replicaof(target).then((line) => (c) => writeLine(c, line));
}

function role(c: CommandContext): Promise<(c: CommandContext) => void> {
  return c.server.replication.role().then((reply) => (c) => writeReplyValue(c.out, reply));
}

function wait(c: CommandContext): Promise<(c: CommandContext) => void> | void {
  const replicas = c.argInt(1);
  if (replicas === null) {
    c.out.error(NOT_INTEGER);
    return;
  }
  // getTimeoutFromObjectOrReply in milliseconds.
  const timeout = c.argInt(2);
  if (timeout === null) {
    c.out.error('timeout is not an integer or out of range');
    return;
  }
  if (timeout < 0) {
    c.out.error('timeout is negative');
    return;
  }
  return c.server.replication.wait(replicas, timeout).then((r) => (c) => {
    if (typeof r === 'string') c.out.error(r);
    else c.out.integer(r);
  });
}

/** REPLCONF <option> <value> ...: what a replica tells its master about itself, and its ACKs. */
function replconf(c: CommandContext): void {
  if (c.argc % 2 === 0) {
    c.out.error(SYNTAX);
    return;
  }
  for (let i = 1; i < c.argc; i += 2) {
    if (c.argIs(i, 'listening-port')) {
      const port = c.argInt(i + 1);
      if (port === null) {
        c.out.error(NOT_INTEGER);
        return;
      }
      c.client.replicaListeningPort = port;
    } else if (c.argIs(i, 'ack')) {
      // A replica's ACK gets no reply; from anyone else it is ignored.
      const offset = c.argInt(i + 1);
      if (c.client.isReplica && offset !== null) c.server.replication.ack(c.client, offset);
      return;
    } else if (c.argIs(i, 'getack')) {
      // Only a master may ask us, over the replication stream; weft masters ask with a frame of their own.
      return;
    } else if (!c.argIs(i, 'ip-address') && !c.argIs(i, 'capa') && !c.argIs(i, 'rdb-only') && !c.argIs(i, 'rdb-filter-only')) {
      c.out.error(`Unrecognized REPLCONF option: ${c.argLatin1(i)}`);
      return;
    }
  }
  c.out.ok();
}

/** PSYNC <replid> <offset>: the connection becomes a replica's; the stream follows the reply. */
function psync(c: CommandContext): Promise<(c: CommandContext) => void> | void {
  // syncCommand: a replica asking again on the same connection is ignored.
  if (c.client.isReplica) return;
  const offset = c.argInt(2);
  if (offset === null) {
    c.out.error(NOT_INTEGER);
    return;
  }
  const client = c.client;
  return c.server.replication.psync(client, c.argLatin1(1), offset).then((line) => (c) => {
    if (line.startsWith('+')) client.isReplica = true;
    writeLine(c, line);
  });
}

const hostPort = oneOf('args', [
  block('host-port', [arg('host', 'string'), arg('port', 'integer')]),
  block('no-one', [tokenArg('no', 'NO'), tokenArg('one', 'ONE')]),
]);

export const replicationCommands: CommandSpec[] = [
  defineCommand({ name: 'replicaof', arity: 3, flags: ['admin', 'noscript', 'stale', 'no_async_loading'], group, since: '5.0.0',
    summary: 'Make the server a replica of another instance, or promote it as master.', complexity: 'O(1)', arguments: [hostPort], handler: replicaof }),
  defineCommand({ name: 'slaveof', arity: 3, flags: ['admin', 'noscript', 'stale', 'no_async_loading'], group, since: '1.0.0',
    summary: 'Make the server a replica of another instance, or promote it as master.', complexity: 'O(1)', docFlags: ['deprecated'],
    deprecatedSince: '5.0.0', replacedBy: '`REPLICAOF`', arguments: [hostPort], handler: replicaof }),
  defineCommand({ name: 'role', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast'], categories: ['admin', 'dangerous'], group, since: '2.8.12',
    summary: 'Return the role of the instance in the context of replication', complexity: 'O(1)', handler: role }),
  defineCommand({ name: 'wait', arity: 3, flags: ['noscript'], categories: ['connection'], group: 'generic', since: '3.0.0',
    tips: ['request_policy:all_shards', 'response_policy:agg_min'],
    summary: 'Wait for the synchronous replication of all the write commands sent in the context of the current connection', complexity: 'O(1)',
    arguments: [arg('numreplicas', 'integer'), arg('timeout', 'integer')], handler: wait }),
  defineCommand({ name: 'replconf', arity: -1, flags: ['admin', 'noscript', 'loading', 'stale', 'allow_busy'], group, since: '3.0.0',
    summary: 'An internal command for configuring the replication stream', complexity: 'O(1)', docFlags: ['syscmd'], handler: replconf }),
  defineCommand({ name: 'psync', arity: -3, flags: ['admin', 'noscript', 'no_async_loading', 'no_multi'], group, since: '2.8.0',
    summary: 'Internal command used for replication', arguments: [arg('replicationid', 'string'), arg('offset', 'integer')], handler: psync }),
];
