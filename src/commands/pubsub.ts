/**
 * The pub/sub commands (Redis 7.0's pubsub.c): SUBSCRIBE, UNSUBSCRIBE,
 * PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, their sharded forms SSUBSCRIBE,
 * SUNSUBSCRIBE, SPUBLISH, and the PUBSUB container. The subscriptions are
 * the worker's (src/server/pubsub-local.ts), the node's counts the
 * coordinator's (src/server/pubsub-registry.ts), and the order of published
 * messages the shared ring's (src/server/pubsub-ring.ts).
 *
 * What Redis does and weft keeps:
 * - (P)SUBSCRIBE replies one [subscribe, name, count] per argument, count
 *   being the channels plus patterns the connection holds after it;
 *   (P)UNSUBSCRIBE without arguments drops everything of its kind, and with
 *   nothing held replies one [unsubscribe, nil, count]. In RESP3 these
 *   replies, like the messages, are pushes.
 * - A SUBSCRIBE is answered once the node knows of it, so a message
 *   published after the answer reaches it.
 * - PUBLISH answers how many connections on this node received the message
 *   (a connection matching a channel and a pattern counts twice), and is
 *   propagated to replicas outside cluster mode.
 * - A RESP2 connection holding a subscription may only send the commands
 *   dispatch lets through (subscribedModeAllows), and PING answers it
 *   [pong, message].
 */
import type { CommandContext } from './context.js';
import { arg, block, defineCommand, type CommandSpec, type DefineOptions, type ReplyFunction } from './command-spec.js';
import { replyHelp } from './help-reply.js';
import { SubscriptionKind, type SubscriptionChange } from './client-state.js';

const group = 'pubsub';
const categories = ['pubsub'];
const flags: CommandSpec['flags'] = ['pubsub', 'noscript', 'loading', 'stale'];

/** Commands a RESP2 client in the subscribed context may send (processCommand's CLIENT_PUBSUB check). */
const SUBSCRIBED_MODE_COMMANDS = new Set(['subscribe', 'ssubscribe', 'unsubscribe', 'sunsubscribe', 'psubscribe', 'punsubscribe', 'ping', 'quit', 'reset']);

export function subscribedModeAllows(spec: CommandSpec): boolean {
  return SUBSCRIBED_MODE_COMMANDS.has(spec.name);
}

export function subscribedModeError(spec: CommandSpec): string {
  return `Can't execute '${spec.fullName ?? spec.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
}

function names(c: CommandContext, from: number): string[] {
  const out: string[] = [];
  for (let i = from; i < c.argc; i++) out.push(c.argLatin1(i));
  return out;
}

/** Writes [kind, name, count] per name (a push in RESP3); a null name replies nil. */
function replyChange(kind: string, change: SubscriptionChange, nothingHeld: number | null): ReplyFunction {
  return (c) => {
    const out = c.out;
    if (nothingHeld !== null) {
      out.pushHeader(3);
      out.bulkString(kind);
      out.nullBulk();
      out.integer(nothingHeld);
      return;
    }
    change.names.forEach((name, i) => {
      out.pushHeader(3);
      out.bulkString(kind);
      const b = Buffer.from(name, 'latin1');
      out.bulkBytes(b, 0, b.length);
      out.integer(change.counts[i]);
    });
  };
}

const SUBSCRIBE_REPLY = ['subscribe', 'psubscribe', 'ssubscribe'];
const UNSUBSCRIBE_REPLY = ['unsubscribe', 'punsubscribe', 'sunsubscribe'];

function subscribeGeneric(kind: SubscriptionKind) {
  return (c: CommandContext): void | Promise<ReplyFunction> => {
    // ssubscribeCommand: a client that expects one reply per command (inside EXEC) cannot; SUBSCRIBE
    // still can, for backward compatibility.
    if (kind === SubscriptionKind.Shard && c.inTransaction) {
      c.out.error("SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
      return;
    }
    const change = c.server.pubsub.subscribe(c.client, kind, names(c, 1));
    return change.done.then(() => replyChange(SUBSCRIBE_REPLY[kind], change, null));
  };
}

function unsubscribeGeneric(kind: SubscriptionKind) {
  return (c: CommandContext): Promise<ReplyFunction> => {
    const change = c.server.pubsub.unsubscribe(c.client, kind, c.argc > 1 ? names(c, 1) : null);
    return change.done.then(() => replyChange(UNSUBSCRIBE_REPLY[kind], change, change.names.length === 0 ? change.remaining : null));
  };
}

function publishGeneric(shard: boolean) {
  return (c: CommandContext): void | Promise<ReplyFunction> => {
    // Views of the request: the service copies what it keeps beyond the command.
    const channel = c.buf.subarray(c.argStart[1], c.argStart[1] + c.argLen[1]);
    const message = c.buf.subarray(c.argStart[2], c.argStart[2] + c.argLen[2]);
    // Replicas deliver a PUBLISH to their own subscribers (forceCommandPropagation, spec.forcePropagation);
    // SPUBLISH is never propagated (it goes to the shard's nodes over the bus).
    if (!shard && c.server.cluster === null) c.dirty++;
    const receivers = c.server.pubsub.publish(c.client, channel, message, shard);
    if (typeof receivers === 'number') c.out.integer(receivers);
    else return receivers.then((n) => (r: CommandContext) => r.out.integer(n));
  };
}

function channelsGeneric(shard: boolean) {
  return (c: CommandContext): void => {
    const list = c.server.pubsub.channels(c.argc > 2 ? c.argLatin1(2) : null, shard);
    c.out.arrayHeader(list.length);
    for (const name of list) {
      const b = Buffer.from(name, 'latin1');
      c.out.bulkBytes(b, 0, b.length);
    }
  };
}

function numsubGeneric(shard: boolean) {
  return (c: CommandContext): void => pubsubNumsub(c, shard);
}

function pubsubNumsub(c: CommandContext, shard: boolean): void {
  const pairs = c.server.pubsub.numsub(names(c, 2), shard);
  // A flat array of pairs, in RESP3 too.
  c.out.arrayHeader(pairs.length);
  for (let i = 0; i < pairs.length; i += 2) {
    const b = Buffer.from(pairs[i] as string, 'latin1');
    c.out.bulkBytes(b, 0, b.length);
    c.out.integer(pairs[i + 1] as number);
  }
}

function pubsubNumpat(c: CommandContext): void {
  c.out.integer(c.server.pubsub.numpat());
}

/** Redis 7.0.15's PUBSUB HELP, word for word. */
const PUBSUB_HELP = [
  'PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
  'HELP',
  '    Prints this help.',
];

/** A PUBSUB subcommand: pubsub, loading and stale, in the pubsub group and category. */
const sub = (o: Omit<DefineOptions, 'group' | 'categories' | 'flags'>) =>
  defineCommand({ flags: ['pubsub', 'loading', 'stale'], categories, group, ...o });

export const pubsubCommands: CommandSpec[] = [
  defineCommand({ name: 'subscribe', arity: -2, flags, categories, group, since: '2.0.0',
    summary: 'Listen for messages published to the given channels',
    complexity: 'O(N) where N is the number of channels to subscribe to.',
    arguments: [arg('channel', 'string', { multiple: true })], handler: subscribeGeneric(SubscriptionKind.Channel) }),
  defineCommand({ name: 'unsubscribe', arity: -1, flags, categories, group, since: '2.0.0',
    summary: 'Stop listening for messages posted to the given channels',
    complexity: 'O(N) where N is the number of clients already subscribed to a channel.',
    arguments: [arg('channel', 'string', { optional: true, multiple: true })], handler: unsubscribeGeneric(SubscriptionKind.Channel) }),
  defineCommand({ name: 'psubscribe', arity: -2, flags, categories, group, since: '2.0.0',
    summary: 'Listen for messages published to channels matching the given patterns',
    complexity: 'O(N) where N is the number of patterns the client is already subscribed to.',
    arguments: [block('pattern', [arg('pattern', 'pattern')], { multiple: true })], handler: subscribeGeneric(SubscriptionKind.Pattern) }),
  defineCommand({ name: 'punsubscribe', arity: -1, flags, categories, group, since: '2.0.0',
    summary: 'Stop listening for messages posted to channels matching the given patterns',
    complexity: 'O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).',
    arguments: [arg('pattern', 'pattern', { optional: true, multiple: true })], handler: unsubscribeGeneric(SubscriptionKind.Pattern) }),
  defineCommand({ name: 'publish', arity: 3, flags: ['pubsub', 'loading', 'stale', 'fast', 'may_replicate'], categories, group, since: '2.0.0',
    summary: 'Post a message to a channel',
    complexity: 'O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).',
    arguments: [arg('channel', 'string'), arg('message', 'string')], handler: publishGeneric(false) }),
  defineCommand({ name: 'ssubscribe', arity: -2, flags, categories, group, since: '7.0.0', keys: [1, -1, 1], keyFlags: ['NOT_KEY'],
    summary: 'Listen for messages published to the given shard channels',
    complexity: 'O(N) where N is the number of shard channels to subscribe to.',
    arguments: [arg('shardchannel', 'string', { multiple: true })], handler: subscribeGeneric(SubscriptionKind.Shard) }),
  defineCommand({ name: 'sunsubscribe', arity: -1, flags, categories, group, since: '7.0.0', keys: [1, -1, 1], keyFlags: ['NOT_KEY'],
    summary: 'Stop listening for messages posted to the given shard channels',
    complexity: 'O(N) where N is the number of clients already subscribed to a shard channel.',
    arguments: [arg('shardchannel', 'string', { optional: true, multiple: true })], handler: unsubscribeGeneric(SubscriptionKind.Shard) }),
  defineCommand({ name: 'spublish', arity: 3, flags: ['pubsub', 'loading', 'stale', 'fast', 'may_replicate'], categories, group, since: '7.0.0',
    keys: [1, 1, 1], keyFlags: ['NOT_KEY'], summary: 'Post a message to a shard channel',
    complexity: 'O(N) where N is the number of clients subscribed to the receiving shard channel.',
    arguments: [arg('shardchannel', 'string'), arg('message', 'string')], handler: publishGeneric(true) }),
  defineCommand({ name: 'pubsub', arity: -2, categories: [], group, since: '2.8.0', summary: 'A container for Pub/Sub commands',
    complexity: 'Depends on subcommand.',
    subcommands: [
      sub({ name: 'channels', arity: -2, since: '2.8.0', summary: 'List active channels',
        complexity: 'O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)',
        arguments: [arg('pattern', 'pattern', { optional: true })], handler: channelsGeneric(false) }),
      sub({ name: 'numsub', arity: -2, since: '2.8.0', summary: 'Get the count of subscribers for channels',
        complexity: 'O(N) for the NUMSUB subcommand, where N is the number of requested channels',
        arguments: [arg('channel', 'string', { optional: true, multiple: true })], handler: numsubGeneric(false) }),
      sub({ name: 'numpat', arity: 2, since: '2.8.0', summary: 'Get the count of unique patterns pattern subscriptions',
        complexity: 'O(1)', handler: pubsubNumpat }),
      sub({ name: 'shardchannels', arity: -2, since: '7.0.0', summary: 'List active shard channels',
        complexity: 'O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).',
        arguments: [arg('pattern', 'pattern', { optional: true })], handler: channelsGeneric(true) }),
      sub({ name: 'shardnumsub', arity: -2, since: '7.0.0', summary: 'Get the count of subscribers for shard channels',
        complexity: 'O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels',
        arguments: [arg('shardchannel', 'string', { optional: true, multiple: true })], handler: numsubGeneric(true) }),
      defineCommand({ name: 'help', arity: 2, flags: ['loading', 'stale'], group, since: '6.2.0',
        summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', handler: (c) => replyHelp(c, PUBSUB_HELP) }),
    ] }),
];

// PUBLISH reaches replicas outside cluster mode (pubsub.c's forceCommandPropagation).
pubsubCommands.find((spec) => spec.name === 'publish')!.forcePropagation = true;
