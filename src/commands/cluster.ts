/**
 * The CLUSTER command family, ASKING, READONLY and READWRITE as clients see
 * them. Subcommands answered from the keyspace (KEYSLOT, COUNTKEYSINSLOT,
 * GETKEYSINSLOT) run here; the others read or change the topology, which the
 * coordinator thread owns, and are forwarded to it.
 */
import { arg, block, defineCommand, oneOf, tokenArg, type CommandFlag, type CommandSpec, type DefineOptions } from './command-spec.js';
import type { CommandContext } from './context.js';
import { NOT_INTEGER } from './errors.js';
import { replyHelp } from './help-reply.js';
import { keyHashSlot } from '../store/key-hash.js';
import { E_KEYLEN } from '../store/layout.js';
import { writeReplyValue } from '../protocol/reply-value.js';

const group = 'cluster';
const DISABLED = 'This instance has cluster support disabled';

const CLUSTER_HELP = [
  'CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ADDSLOTS <slot> [<slot> ...]',
  '    Assign slots to current node.',
  'ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]',
  '    Assign slots which are between <start-slot> and <end-slot> to current node.',
  'BUMPEPOCH',
  '    Advance the cluster config epoch.',
  'COUNT-FAILURE-REPORTS <node-id>',
  '    Return number of failure reports for <node-id>.',
  'COUNTKEYSINSLOT <slot>',
  '    Return the number of keys in <slot>.',
  'DELSLOTS <slot> [<slot> ...]',
  '    Delete slots information from current node.',
  'DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]',
  '    Delete slots information which are between <start-slot> and <end-slot> from current node.',
  'FAILOVER [FORCE|TAKEOVER]',
  '    Promote current replica node to being a master.',
  'FORGET <node-id>',
  '    Remove a node from the cluster.',
  'GETKEYSINSLOT <slot> <count>',
  '    Return key names stored by current node in a slot.',
  'FLUSHSLOTS',
  '    Delete current node own slots information.',
  'INFO',
  '    Return information about the cluster.',
  'KEYSLOT <key>',
  '    Return the hash slot for <key>.',
  'MEET <ip> <port> [<bus-port>]',
  '    Connect nodes into a working cluster.',
  'MYID',
  '    Return the node id.',
  'NODES',
  '    Return cluster configuration seen by node. Output format:',
  '    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...',
  'REPLICATE <node-id>',
  '    Configure current node as replica to <node-id>.',
  'RESET [HARD|SOFT]',
  '    Reset current node (default: soft).',
  'SET-CONFIG-EPOCH <epoch>',
  '    Set config epoch of current node.',
  'SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)',
  '    Set slot state.',
  'REPLICAS <node-id>',
  '    Return <node-id> replicas.',
  'SAVECONFIG',
  '    Force saving cluster configuration on disk.',
  'SLOTS',
  '    Return information about slots range mappings. Each range is made of:',
  '    start, end, master and replicas IP addresses, ports and ids',
  'SHARDS',
  '    Return information about slot range mappings and the nodes associated with them.',
  'LINKS',
  '    Return information about all network links between this node and its peers.',
  '    Output format is an array where each array element is a map containing attributes of a link',
  'HELP',
  '    Prints this help.',
];

/** Every CLUSTER subcommand answers this when cluster mode is off (clusterCommand). */
function enabled(c: CommandContext): boolean {
  if (c.server.cluster === null) {
    c.out.error(DISABLED);
    return false;
  }
  return true;
}

function keyslot(c: CommandContext): void {
  if (!enabled(c)) return;
  c.out.integer(keyHashSlot(c.buf, c.argStart[2], c.argLen[2]));
}

function countkeysinslot(c: CommandContext): void {
  if (!enabled(c)) return;
  const slot = c.argInt(2);
  if (slot === null) {
    c.out.error(NOT_INTEGER);
    return;
  }
  if (slot < 0 || slot >= 16384) {
    c.out.error('Invalid slot');
    return;
  }
  // Cluster mode has one database: the physical database behind 0.
  c.out.integer(c.ks.shardOf(slot).slotKeys(c.ks.dbMap[0], c.ks.slotIndex(slot)));
}

function getkeysinslot(c: CommandContext): void {
  if (!enabled(c)) return;
  const slot = c.argInt(2);
  const max = c.argInt(3);
  if (slot === null || max === null) {
    c.out.error(NOT_INTEGER);
    return;
  }
  if (slot < 0 || slot >= 16384 || max < 0) {
    c.out.error('Invalid slot or number of keys');
    return;
  }
  const shard = c.ks.shardOf(slot);
  const keys: Buffer[] = [];
  shard.lock();
  try {
    shard.forEachInSlot(c.ks.dbMap[0], c.ks.slotIndex(slot), (e) => {
      if (keys.length >= max) return false;
      const start = shard.keyStart(e);
      keys.push(Buffer.from(shard.u8.subarray(start, start + shard.u32[(e + E_KEYLEN) >>> 2])));
      return true;
    });
  } finally {
    shard.unlock();
  }
  c.out.arrayHeader(keys.length);
  for (const k of keys) c.out.bulkBytes(k, 0, k.length);
}

/** The subcommands the coordinator answers: arguments go over as latin1 strings, the reply comes back as data. */
function forward(c: CommandContext): Promise<(c: CommandContext) => void> | void {
  const cluster = c.server.cluster;
  if (cluster === null) {
    c.out.error(DISABLED);
    return;
  }
  // The subcommand goes as typed: Redis names it so in its syntax errors.
  const args: string[] = [];
  for (let i = 1; i < c.argc; i++) args.push(c.argLatin1(i));
  return cluster.execute(args).then((reply) => (cc: CommandContext) => writeReplyValue(cc.out, reply));
}

function asking(c: CommandContext): void {
  if (!enabled(c)) return;
  c.client.asking = true;
  c.out.ok();
}

function readonly(c: CommandContext): void {
  if (!enabled(c)) return;
  c.client.readonlyReplicaReads = true;
  c.out.ok();
}

function readwrite(c: CommandContext): void {
  if (!enabled(c)) return;
  c.client.readonlyReplicaReads = false;
  c.out.ok();
}

const admin: CommandFlag[] = ['admin', 'stale', 'no_async_loading'];
/** A CLUSTER subcommand; the documentation is Redis 7.0.15's (src/commands/cluster-*.json). */
const sub = (name: string, arity: number, flags: CommandFlag[], summary: string, complexity: string, handler: CommandSpec['handler'],
  o: Omit<DefineOptions, 'name' | 'arity' | 'flags' | 'group' | 'summary' | 'complexity' | 'handler'> = {}) =>
  defineCommand({ name, arity, flags, group, summary, since: '3.0.0', complexity, handler, ...o });
const nondeterministic = ['nondeterministic_output'];
const nodeId = [arg('node-id', 'string')];
const slotRanges = [block('start-slot_end-slot', [arg('start-slot', 'integer'), arg('end-slot', 'integer')], { multiple: true })];
const allNodes = 'O(N) where N is the total number of Cluster nodes';
const rangeComplexity = 'O(N) where N is the total number of the slots between the start slot and end slot arguments.';

export const clusterCommands: CommandSpec[] = [
  defineCommand({ name: 'cluster', arity: -2, group, summary: 'A container for cluster commands', since: '3.0.0',
    complexity: 'Depends on subcommand.', subcommands: [
      sub('addslots', -3, admin, 'Assign new hash slots to receiving node', 'O(N) where N is the total number of hash slot arguments', forward,
        { arguments: [arg('slot', 'integer', { multiple: true })] }),
      sub('addslotsrange', -4, admin, 'Assign new hash slots to receiving node', rangeComplexity, forward,
        { since: '7.0.0', arguments: slotRanges }),
      sub('bumpepoch', 2, admin, 'Advance the cluster config epoch', 'O(1)', forward, { tips: nondeterministic }),
      sub('count-failure-reports', 3, ['admin', 'stale'], 'Return the number of failure reports active for a given node',
        'O(N) where N is the number of failure reports', forward, { tips: nondeterministic, arguments: nodeId }),
      sub('countkeysinslot', 3, ['stale'], 'Return the number of local keys in the specified hash slot', 'O(1)', countkeysinslot,
        { arguments: [arg('slot', 'integer')] }),
      sub('delslots', -3, admin, 'Set hash slots as unbound in receiving node', 'O(N) where N is the total number of hash slot arguments',
        forward, { arguments: [arg('slot', 'integer', { multiple: true })] }),
      sub('delslotsrange', -4, admin, 'Set hash slots as unbound in receiving node', rangeComplexity, forward,
        { since: '7.0.0', arguments: slotRanges }),
      sub('failover', -2, admin, 'Forces a replica to perform a manual failover of its master.', 'O(1)', forward,
        { arguments: [oneOf('options', [tokenArg('force', 'FORCE'), tokenArg('takeover', 'TAKEOVER')], { optional: true })] }),
      sub('flushslots', 2, admin, "Delete a node's own slots information", 'O(1)', forward),
      sub('forget', 3, admin, 'Remove a node from the nodes table', 'O(1)', forward, { arguments: nodeId }),
      sub('getkeysinslot', 4, ['stale'], 'Return local key names in the specified hash slot', 'O(log(N)) where N is the number of requested keys',
        getkeysinslot, { tips: nondeterministic, arguments: [arg('slot', 'integer'), arg('count', 'integer')] }),
      sub('help', 2, ['loading', 'stale'], 'Show helpful text about the different subcommands', 'O(1)', (c) => {
        if (enabled(c)) replyHelp(c, CLUSTER_HELP);
      }, { since: '5.0.0' }),
      sub('info', 2, ['stale'], 'Provides info about Redis Cluster node state', 'O(1)', forward, { tips: nondeterministic }),
      sub('keyslot', 3, ['stale'], 'Returns the hash slot of the specified key', 'O(N) where N is the number of bytes in the key', keyslot,
        { arguments: [arg('key', 'string')] }),
      sub('links', 2, ['stale'], 'Returns a list of all TCP links to and from peer nodes in cluster', allNodes, forward,
        { since: '7.0.0', tips: nondeterministic }),
      sub('meet', -4, admin, 'Force a node cluster to handshake with another node', 'O(1)', forward, {
        history: [['4.0.0', 'Added the optional `cluster_bus_port` argument.']],
        arguments: [arg('ip', 'string'), arg('port', 'integer'), arg('cluster_bus_port', 'integer', { since: '4.0.0', optional: true })] }),
      sub('myid', 2, ['stale'], 'Return the node id', 'O(1)', forward),
      // A Redis 7.2 addition: 7.0 has no documentation to match.
      defineCommand({ name: 'myshardid', arity: 2, flags: ['stale'], group, summary: 'Returns the shard ID of a node.', since: '7.2.0',
        tips: nondeterministic, handler: forward }),
      sub('nodes', 2, ['stale'], 'Get Cluster config for the node', allNodes, forward, { tips: nondeterministic }),
      sub('replicas', 3, ['admin', 'stale'], 'List replica nodes of the specified master node', 'O(1)', forward,
        { since: '5.0.0', tips: nondeterministic, arguments: nodeId }),
      sub('replicate', 3, admin, 'Reconfigure a node as a replica of the specified master node', 'O(1)', forward, { arguments: nodeId }),
      sub('reset', -2, ['admin', 'noscript', 'stale'], 'Reset a Redis Cluster node',
        'O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.', forward,
        { arguments: [oneOf('hard_soft', [tokenArg('hard', 'HARD'), tokenArg('soft', 'SOFT')], { optional: true })] }),
      sub('saveconfig', 2, admin, 'Forces the node to save cluster state on disk', 'O(1)', forward),
      sub('set-config-epoch', 3, admin, 'Set the configuration epoch in a new node', 'O(1)', forward,
        { arguments: [arg('config-epoch', 'integer')] }),
      sub('setslot', -4, admin, 'Bind a hash slot to a specific node', 'O(1)', forward, { arguments: [arg('slot', 'integer'),
        oneOf('subcommand', [arg('node-id', 'string', { token: 'IMPORTING' }), arg('node-id', 'string', { token: 'MIGRATING' }),
          arg('node-id', 'string', { token: 'NODE' }), tokenArg('stable', 'STABLE')])] }),
      sub('shards', 2, ['stale'], 'Get array of cluster slots to node mappings', 'O(N) where N is the total number of cluster nodes', forward,
        { since: '7.0.0', tips: nondeterministic }),
      sub('slaves', 3, ['admin', 'stale'], 'List replica nodes of the specified master node', 'O(1)', forward, { tips: nondeterministic,
        docFlags: ['deprecated'], deprecatedSince: '5.0.0', replacedBy: '`CLUSTER REPLICAS`', arguments: nodeId }),
      sub('slots', 2, ['stale'], 'Get array of Cluster slot to node mappings', allNodes, forward, { tips: nondeterministic,
        docFlags: ['deprecated'], deprecatedSince: '7.0.0', replacedBy: '`CLUSTER SHARDS`',
        history: [['4.0.0', 'Added node IDs.'], ['7.0.0', 'Added additional networking metadata field.']] }),
    ] }),
  defineCommand({ name: 'asking', arity: 1, flags: ['fast'], categories: ['connection'], group, since: '3.0.0',
    summary: 'Sent by cluster clients after an -ASK redirect', complexity: 'O(1)', handler: asking }),
  defineCommand({ name: 'readonly', arity: 1, flags: ['loading', 'stale', 'fast'], categories: ['connection'], group, since: '3.0.0',
    summary: 'Enables read queries for a connection to a cluster replica node', complexity: 'O(1)', handler: readonly }),
  defineCommand({ name: 'readwrite', arity: 1, flags: ['loading', 'stale', 'fast'], categories: ['connection'], group, since: '3.0.0',
    summary: 'Disables read queries for a connection to a cluster replica node', complexity: 'O(1)', handler: readwrite }),
];
