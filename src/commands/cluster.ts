/**
 * The CLUSTER command family, ASKING, READONLY and READWRITE as clients see
 * them. Subcommands answered from the keyspace (KEYSLOT, COUNTKEYSINSLOT,
 * GETKEYSINSLOT) run here; the others read or change the topology, which the
 * coordinator thread owns, and are forwarded to it.
 */
import { defineCommand, type CommandFlag, type CommandSpec } from './command-spec.js';
import type { CommandContext } from './context.js';
import { NOT_INTEGER } from './errors.js';
import { replyHelp } from './connection.js';
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
  const args = [c.spec.name];
  for (let i = 2; i < c.argc; i++) args.push(c.argLatin1(i));
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
const sub = (name: string, arity: number, flags: CommandFlag[], summary: string, handler: CommandSpec['handler'], o: { since?: string; tips?: string[] } = {}) =>
  defineCommand({ name, arity, flags, group, summary, since: o.since ?? '3.0.0', tips: o.tips, handler });
const nondeterministic = { tips: ['nondeterministic_output'] };

export const clusterCommands: CommandSpec[] = [
  defineCommand({ name: 'cluster', arity: -2, group, summary: 'A container for Redis Cluster commands.', since: '3.0.0',
    complexity: 'Depends on subcommand.', subcommands: [
      sub('addslots', -3, admin, 'Assigns new hash slots to a node.', forward),
      sub('addslotsrange', -4, admin, 'Assigns new hash slot ranges to a node.', forward, { since: '7.0.0' }),
      sub('bumpepoch', 2, admin, 'Advances the cluster config epoch.', forward, nondeterministic),
      sub('count-failure-reports', 3, ['admin', 'stale'], 'Returns the number of active failure reports active for a node.', forward, nondeterministic),
      sub('countkeysinslot', 3, ['stale'], 'Returns the number of keys in a hash slot.', countkeysinslot),
      sub('delslots', -3, admin, 'Sets hash slots as unbound for a node.', forward),
      sub('delslotsrange', -4, admin, 'Sets hash slot ranges as unbound for a node.', forward, { since: '7.0.0' }),
      sub('failover', -2, admin, 'Forces a replica to perform a manual failover of its master.', forward),
      sub('flushslots', 2, admin, "Deletes all slots information from a node.", forward),
      sub('forget', 3, admin, 'Removes a node from the nodes table.', forward),
      sub('getkeysinslot', 4, ['stale'], 'Returns the key names in a hash slot.', getkeysinslot, nondeterministic),
      sub('help', 2, ['loading', 'stale'], 'Returns helpful text about the different subcommands.', (c) => {
        if (enabled(c)) replyHelp(c, CLUSTER_HELP);
      }, { since: '5.0.0' }),
      sub('info', 2, ['stale'], 'Returns information about the state of a node.', forward, nondeterministic),
      sub('keyslot', 3, ['stale'], 'Returns the hash slot for a key.', keyslot),
      sub('links', 2, ['stale'], 'Returns a list of all TCP links to and from peer nodes.', forward, { since: '7.0.0', ...nondeterministic }),
      sub('meet', -4, admin, 'Forces a node to handshake with another node.', forward),
      sub('myid', 2, ['stale'], 'Returns the ID of a node.', forward),
      sub('myshardid', 2, ['stale'], 'Returns the shard ID of a node.', forward, { since: '7.2.0', ...nondeterministic }),
      sub('nodes', 2, ['stale'], 'Returns the cluster configuration for a node.', forward, nondeterministic),
      sub('replicas', 3, ['admin', 'stale'], 'Lists the replica nodes of a master node.', forward, { since: '5.0.0', ...nondeterministic }),
      sub('replicate', 3, admin, 'Configure a node as replica of a master node.', forward),
      sub('reset', -2, ['admin', 'noscript', 'stale'], 'Resets a node.', forward),
      sub('saveconfig', 2, admin, 'Forces a node to save the cluster configuration to disk.', forward),
      sub('set-config-epoch', 3, admin, 'Sets the configuration epoch for a new node.', forward),
      sub('setslot', -4, admin, 'Binds a hash slot to a node.', forward),
      sub('shards', 2, ['stale'], 'Returns the mapping of cluster slots to shards.', forward, { since: '7.0.0', ...nondeterministic }),
      sub('slaves', 3, ['admin', 'stale'], 'Lists the replica nodes of a master node.', forward, nondeterministic),
      sub('slots', 2, ['stale'], 'Returns the mapping of cluster slots to nodes.', forward, nondeterministic),
    ] }),
  defineCommand({ name: 'asking', arity: 1, flags: ['fast'], categories: ['connection'], group, since: '3.0.0',
    summary: 'Sent by cluster clients after an -ASK redirect', complexity: 'O(1)', handler: asking }),
  defineCommand({ name: 'readonly', arity: 1, flags: ['loading', 'stale', 'fast'], categories: ['connection'], group, since: '3.0.0',
    summary: 'Enables read queries for a connection to a cluster replica node', complexity: 'O(1)', handler: readonly }),
  defineCommand({ name: 'readwrite', arity: 1, flags: ['loading', 'stale', 'fast'], categories: ['connection'], group, since: '3.0.0',
    summary: 'Disables read queries for a connection to a cluster replica node', complexity: 'O(1)', handler: readwrite }),
];
