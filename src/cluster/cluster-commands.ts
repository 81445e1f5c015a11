/**
 * CLUSTER subcommands that read or change the topology, run on the
 * coordinator, which owns the cluster state (Redis's clusterCommand in
 * cluster.c / cluster_legacy.c): the same checks, the same error strings.
 * Subcommands that only read the keyspace (KEYSLOT, COUNTKEYSINSLOT,
 * GETKEYSINSLOT) are answered by the workers themselves.
 */
import net from 'node:net';
import type { ReplyValue } from '../protocol/reply-value.js';
import { parseLongLong } from '../protocol/resp-parser.js';
import { ClusterNode, NodeFlag, randomNodeId, slotRanges, SLOTS } from './cluster-node.js';
import { FORGET_TTL_SECONDS, type ClusterState } from './cluster-state.js';
import type { ManualFailoverMode } from './manual-failover.js';
import { describeNode, renderNodes } from './nodes-conf.js';

/** What the CLUSTER commands need from the rest of the coordinator. */
export interface ClusterCommandEnvironment {
  state: ClusterState;
  /** Starts a handshake with a node (CLUSTER MEET); false when the address is invalid. */
  meet(ip: string, port: number, cport: number): boolean;
  /** CLUSTER LINKS rows. */
  links(): [string, ReplyValue][][];
  /** Valid failure reports about a node (CLUSTER COUNT-FAILURE-REPORTS). */
  failureReports(node: ClusterNode): number;
  /** Links dropped for exceeding cluster-link-sendbuf-limit (CLUSTER INFO). */
  linksFreedForBufferLimit(): number;
  /** Keys this node holds in a slot, and in all (the store is shared memory). */
  keysInSlot(slot: number): number;
  totalKeys(): number;
  /** Empties the keyspace (CLUSTER RESET of a replica). */
  flushAll(): void;
  saveConfig(): void;
  /** Tells the other nodes about a change right away (clusterBroadcastPong). */
  broadcastPong(): void;
  replicationOffset(): number;
  /** CLUSTER FAILOVER [FORCE|TAKEOVER] on this node: an error text, or null once started. */
  failover(mode: ManualFailoverMode): string | null;
}

const ok: ReplyValue = { ok: true };
const err = (text: string): ReplyValue => ({ error: text });
/** getLongLongFromObject: string2ll's grammar, so no leading zeros, no "+", no spaces, no "-0". */
function longLong(text: string): number | null {
  const b = Buffer.from(text, 'latin1');
  return parseLongLong(b, 0, b.length);
}

/** getSlotOrReply: a valid integer within 0..16383. */
function parseSlot(text: string): number | null {
  const n = longLong(text);
  return n !== null && n >= 0 && n < SLOTS ? n : null;
}

/**
 * addReplySubcommandSyntaxError: what clusterCommand answers when a branch's
 * own argument count check fails (MEET, FAILOVER and RESET accept fewer
 * arguments than their arity allows), naming the subcommand as typed.
 */
const syntaxError = (typed: string): ReplyValue =>
  err(`unknown subcommand or wrong number of arguments for '${typed.slice(0, 128)}'. Try CLUSTER HELP.`);

const BAD_SLOT = 'Invalid or out of range slot';

function infoText(env: ClusterCommandEnvironment): string {
  const state = env.state;
  const counts = state.slotCounts();
  const lines = [
    `cluster_state:${state.state}`,
    `cluster_slots_assigned:${counts.assigned}`,
    `cluster_slots_ok:${counts.ok}`,
    `cluster_slots_pfail:${counts.pfail}`,
    `cluster_slots_fail:${counts.fail}`,
    `cluster_known_nodes:${state.nodes.size}`,
    `cluster_size:${state.size}`,
    `cluster_current_epoch:${state.currentEpoch}`,
    `cluster_my_epoch:${(state.masterOf(state.myself) ?? state.myself).configEpoch}`,
  ];
  // Redis lists the message types in bus type order, only those seen.
  const order = ['ping', 'pong', 'meet', 'fail', 'publish', 'auth-req', 'auth-ack', 'update', 'mfstart', 'module', 'publishshard'];
  for (const [map, dir] of [[state.messagesSent, 'sent'], [state.messagesReceived, 'received']] as const) {
    let total = 0;
    for (const type of order) {
      const n = map.get(type) ?? 0;
      if (n > 0) lines.push(`cluster_stats_messages_${type}_${dir}:${n}`);
      total += n;
    }
    lines.push(`cluster_stats_messages_${dir}:${total}`);
  }
  lines.push(`total_cluster_links_buffer_limit_exceeded:${env.linksFreedForBufferLimit()}`);
  return lines.map((l) => l + '\r\n').join('');
}

function nodeEntry(node: ClusterNode): ReplyValue {
  const meta: [string, ReplyValue][] = node.hostname ? [['hostname', { bulk: node.hostname }]] : [];
  return { array: [{ bulk: node.ip }, { int: node.port }, { bulk: node.id }, { map: meta }] };
}

/** A node's replication offset as CLUSTER SHARDS and SLOTS see it: myself's own, others' from their pings. */
function offsetOf(env: ClusterCommandEnvironment, node: ClusterNode): number {
  return node === env.state.myself ? env.replicationOffset() : node.replicationOffset;
}

/**
 * isReplicaAvailable: CLUSTER SLOTS lists a replica only once it is not
 * failed and has an offset, i.e. has finished its first sync, so clients
 * never read from a replica that holds nothing yet.
 */
function replicaAvailable(env: ClusterCommandEnvironment, node: ClusterNode): boolean {
  return !node.failed && offsetOf(env, node) !== 0;
}

/** CLUSTER SLOTS: one entry per contiguous range of one master, in slot order. */
function slotsReply(env: ClusterCommandEnvironment): ReplyValue {
  const state = env.state;
  const entries: ReplyValue[] = [];
  let start = -1;
  for (let s = 0; s <= SLOTS; s++) {
    const o = s < SLOTS ? state.owner[s] : null;
    if (start >= 0 && (s === SLOTS || o !== state.owner[start])) {
      const master = state.owner[start]!;
      const replicas = state.replicasOf(master).filter((r) => replicaAvailable(env, r));
      entries.push({ array: [{ int: start }, { int: s - 1 }, nodeEntry(master), ...replicas.map(nodeEntry)] });
      start = -1;
    }
    if (start < 0 && o !== null && s < SLOTS) start = s;
  }
  return { array: entries };
}

function shardNode(env: ClusterCommandEnvironment, node: ClusterNode): ReplyValue {
  const offset = offsetOf(env, node);
  const fields: [string, ReplyValue][] = [
    ['id', { bulk: node.id }],
    ['port', { int: node.port }],
    ['ip', { bulk: node.ip }],
    ['endpoint', { bulk: node.ip }],
  ];
  if (node.hostname) fields.push(['hostname', { bulk: node.hostname }]);
  fields.push(
    ['role', { bulk: node.isMaster ? 'master' : 'replica' }],
    ['replication-offset', { int: offset }],
    // A replica without an offset has not finished its first sync (addNodeDetailsToShardReply).
    ['health', { bulk: node.failed ? 'fail' : node.isReplica && offset === 0 ? 'loading' : 'online' }],
  );
  return { map: fields };
}

/** CLUSTER SHARDS: each master with its replicas and slot ranges. */
function shardsReply(env: ClusterCommandEnvironment): ReplyValue {
  const state = env.state;
  const shards: ReplyValue[] = [];
  for (const master of state.nodes.values()) {
    if (!master.isMaster) continue;
    const slots: ReplyValue[] = [];
    for (const [a, b] of slotRanges((s) => master.hasSlot(s))) slots.push({ int: a }, { int: b });
    const nodes = [master, ...state.replicasOf(master)].map((n) => shardNode(env, n));
    shards.push({ map: [['slots', { array: slots }], ['nodes', { array: nodes }]] });
  }
  return { array: shards };
}

/** ADDSLOTS / DELSLOTS and their RANGE forms (clusterCommand's addslots branch). */
function changeSlots(env: ClusterCommandEnvironment, args: string[], add: boolean, ranges: boolean): ReplyValue {
  const state = env.state;
  const name = `cluster|${args[0].toLowerCase()}`;
  if (args.length < 2 || (ranges && (args.length - 1) % 2 !== 0)) return err(`wrong number of arguments for '${name}' command`);
  const slots: number[] = [];
  if (ranges) {
    for (let i = 1; i < args.length; i += 2) {
      const a = parseSlot(args[i]);
      const b = parseSlot(args[i + 1]);
      if (a === null || b === null) return err(BAD_SLOT);
      if (a > b) return err(`start slot number ${a} is greater than end slot number ${b}`);
      for (let s = a; s <= b; s++) slots.push(s);
    }
  } else {
    for (let i = 1; i < args.length; i++) {
      const s = parseSlot(args[i]);
      if (s === null) return err(BAD_SLOT);
      slots.push(s);
    }
  }
  const seen = new Uint8Array(SLOTS);
  for (const s of slots) {
    if (add && state.owner[s] !== null) return err(`Slot ${s} is already busy`);
    if (!add && state.owner[s] === null) return err(`Slot ${s} is already unassigned`);
    if (seen[s]++) return err(`Slot ${s} specified multiple times`);
  }
  for (const s of slots) {
    if (add) {
      // Adding a slot ends any import of it (clusterAddSlot callers clear importing_slots_from).
      state.importingFrom[s] = null;
      state.assignSlot(state.myself, s);
    } else {
      state.unassignSlot(s);
    }
  }
  state.updateState();
  env.saveConfig();
  return ok;
}

function setSlot(env: ClusterCommandEnvironment, args: string[]): ReplyValue {
  const state = env.state;
  const me = state.myself;
  if (me.isReplica) return err('Please use SETSLOT only with masters.');
  if (args.length < 3) return err("wrong number of arguments for 'cluster|setslot' command");
  const slot = parseSlot(args[1]);
  if (slot === null) return err(BAD_SLOT);
  const action = args[2].toLowerCase();
  if (action === 'migrating' && args.length === 4) {
    if (state.owner[slot] !== me) return err(`I'm not the owner of hash slot ${slot}`);
    const target = state.lookup(args[3]);
    if (!target) return err(`I don't know about node ${args[3]}`);
    if (!target.isMaster) return err('Target node is not a master');
    state.migratingTo[slot] = target;
  } else if (action === 'importing' && args.length === 4) {
    if (state.owner[slot] === me) return err(`I'm already the owner of hash slot ${slot}`);
    const source = state.lookup(args[3]);
    if (!source) return err(`I don't know about node ${args[3]}`);
    if (!source.isMaster) return err('Target node is not a master');
    state.importingFrom[slot] = source;
  } else if (action === 'stable' && args.length === 3) {
    state.migratingTo[slot] = null;
    state.importingFrom[slot] = null;
  } else if (action === 'node' && args.length === 4) {
    const target = state.lookup(args[3]);
    if (!target) return err(`Unknown node ${args[3]}`);
    if (!target.isMaster) return err('Target node is not a master');
    if (state.owner[slot] === me && target !== me && env.keysInSlot(slot) !== 0) {
      return err(`Can't assign hashslot ${slot} to a different node while I still hold keys for this hash slot.`);
    }
    // The last key moved out: the migration is over (clusterCommandSetSlot).
    if (env.keysInSlot(slot) === 0 && state.migratingTo[slot]) state.migratingTo[slot] = null;
    let bumped = false;
    if (target === me && state.importingFrom[slot]) {
      // The importing node takes the slot with a new epoch, without agreement (clusterBumpConfigEpochWithoutConsensus).
      bumped = state.bumpEpochWithoutConsensus();
      state.importingFrom[slot] = null;
    }
    state.assignSlot(target, slot);
    state.updateState();
    env.saveConfig();
    if (bumped || target === me) env.broadcastPong();
    return ok;
  } else {
    return err('Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP');
  }
  state.changed();
  env.saveConfig();
  return ok;
}

function forget(env: ClusterCommandEnvironment, id: string): ReplyValue {
  const state = env.state;
  const node = state.lookup(id);
  if (!node) return err(`Unknown node ${id}`);
  if (node === state.myself) return err("I tried hard but I can't forget myself...");
  if (state.myself.isReplica && state.myself.masterId === node.id) return err("Can't forget my master!");
  state.forgotten.set(node.id, Date.now() + FORGET_TTL_SECONDS * 1000);
  state.deleteNode(node);
  state.updateState();
  env.saveConfig();
  return ok;
}

function reset(env: ClusterCommandEnvironment, hard: boolean): ReplyValue {
  const state = env.state;
  const me = state.myself;
  if (me.isMaster && env.totalKeys() !== 0) return err("CLUSTER RESET can't be called with master nodes containing keys");
  if (me.isReplica) {
    env.flushAll();
    me.flags = (me.flags & ~NodeFlag.Replica) | NodeFlag.Master;
    me.masterId = null;
  }
  for (let s = 0; s < SLOTS; s++) {
    if (state.owner[s]) state.unassignSlot(s);
    state.migratingTo[s] = null;
    state.importingFrom[s] = null;
  }
  for (const node of [...state.nodes.values()]) if (node !== me) state.deleteNode(node);
  if (hard) {
    state.currentEpoch = 0;
    state.lastVoteEpoch = 0;
    me.configEpoch = 0;
    state.renameNode(me, randomNodeId());
  }
  state.updateState();
  env.saveConfig();
  return ok;
}

function replicate(env: ClusterCommandEnvironment, id: string): ReplyValue {
  const state = env.state;
  const me = state.myself;
  const master = state.lookup(id);
  if (!master) return err(`Unknown node ${id}`);
  if (master === me) return err("Can't replicate myself");
  if (master.isReplica) return err('I can only replicate a master, not a replica.');
  if (me.isMaster && (me.slotCount !== 0 || env.totalKeys() !== 0)) {
    return err('To set a master the node must be empty and without assigned slots.');
  }
  me.flags = (me.flags & ~NodeFlag.Master) | NodeFlag.Replica;
  me.masterId = master.id;
  // clusterSetMaster adds me to the master's replicas, which makes it a replica migration target.
  master.flags |= NodeFlag.MigrateTo;
  state.changed();
  state.updateState();
  env.saveConfig();
  env.broadcastPong();
  return ok;
}

function setConfigEpoch(env: ClusterCommandEnvironment, text: string): ReplyValue {
  const state = env.state;
  const epoch = longLong(text);
  if (epoch === null) return err('value is not an integer or out of range');
  if (epoch < 0) return err(`Invalid config epoch specified: ${epoch}`);
  if (state.nodes.size > 1) return err('The user can assign a config epoch only when the node does not know any other node.');
  if (state.myself.configEpoch !== 0) return err('Node config epoch is already non-zero');
  state.myself.configEpoch = epoch;
  if (state.currentEpoch < epoch) state.currentEpoch = epoch;
  state.changed();
  state.updateState();
  env.saveConfig();
  return ok;
}

/** Runs `CLUSTER <args...>` (args[0] is the subcommand as typed); arity was checked by the worker. */
export function executeClusterCommand(env: ClusterCommandEnvironment, args: string[]): ReplyValue {
  const state = env.state;
  const sub = args[0].toLowerCase();
  switch (sub) {
    case 'info':
      return { verbatim: infoText(env) };
    case 'nodes':
      return { verbatim: renderNodes(state) };
    case 'myid':
      return { bulk: state.myself.id };
    case 'myshardid':
      return { bulk: (state.masterOf(state.myself) ?? state.myself).shardId };
    case 'slots':
      return slotsReply(env);
    case 'shards':
      return shardsReply(env);
    case 'meet': {
      if (args.length > 4) return syntaxError(args[0]);
      const port = longLong(args[2]);
      if (port === null) return err(`Invalid TCP base port specified: ${args[2]}`);
      let cport = port + 10000;
      if (args.length === 4) {
        const bus = longLong(args[3]);
        if (bus === null) return err(`Invalid TCP bus port specified: ${args[3]}`);
        cport = bus;
      }
      // clusterStartHandshake refuses a bad address or a port outside 1..65535 (EINVAL).
      const valid = (p: number) => p > 0 && p <= 65535;
      if (net.isIP(args[1]) === 0 || !valid(port) || !valid(cport) || !env.meet(args[1], port, cport)) {
        return err(`Invalid node address specified: ${args[1]}:${args[2]}`);
      }
      return ok;
    }
    case 'addslots':
    case 'delslots':
      return changeSlots(env, args, sub === 'addslots', false);
    case 'addslotsrange':
    case 'delslotsrange':
      return changeSlots(env, args, sub === 'addslotsrange', true);
    case 'flushslots': {
      if (env.totalKeys() !== 0) return err('DB must be empty to perform CLUSTER FLUSHSLOTS.');
      for (let s = 0; s < SLOTS; s++) if (state.owner[s] === state.myself) state.unassignSlot(s);
      state.updateState();
      env.saveConfig();
      return ok;
    }
    case 'setslot':
      return setSlot(env, args);
    case 'forget':
      return forget(env, args[1]);
    case 'reset': {
      if (args.length > 2) return syntaxError(args[0]);
      const mode = (args[1] ?? 'soft').toLowerCase();
      if (mode !== 'soft' && mode !== 'hard') return err('syntax error');
      return reset(env, mode === 'hard');
    }
    case 'replicate':
      return replicate(env, args[1]);
    case 'replicas':
    case 'slaves': {
      const node = state.lookup(args[1]);
      if (!node) return err(`Unknown node ${args[1]}`);
      if (!node.isMaster) return err('The specified node is not a master');
      return { array: state.replicasOf(node).map((r) => ({ bulk: describeNode(state, r) })) };
    }
    case 'count-failure-reports': {
      const node = state.lookup(args[1]);
      if (!node) return err(`Unknown node ${args[1]}`);
      return { int: env.failureReports(node) };
    }
    case 'saveconfig':
      try {
        env.saveConfig();
        return ok;
      } catch (e) {
        return err(`error saving the cluster node config: ${(e as Error).message}`);
      }
    case 'bumpepoch': {
      const bumped = state.bumpEpochWithoutConsensus();
      if (bumped) env.saveConfig();
      return { simple: `${bumped ? 'BUMPED' : 'STILL'} ${state.myself.configEpoch}` };
    }
    case 'set-config-epoch':
      return setConfigEpoch(env, args[1]);
    case 'links':
      return { array: env.links().map((row) => ({ map: row })) };
    case 'failover': {
      if (args.length > 2) return syntaxError(args[0]);
      const option = args.length === 2 ? args[1].toLowerCase() : null;
      if (option !== null && option !== 'force' && option !== 'takeover') return err('syntax error');
      const refusal = env.failover(option ?? 'default');
      return refusal === null ? ok : err(refusal);
    }
    default:
      return err(`unknown subcommand '${sub}'. Try CLUSTER HELP.`);
  }
}
