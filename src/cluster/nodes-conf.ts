/**
 * The CLUSTER NODES / nodes.conf line format (clusterGenNodeDescription) and
 * the nodes.conf file: written atomically (temporary file, fsync, rename) and
 * loaded at start so a restarted node keeps its id, epochs and slots.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ClusterNode, flagsText, NodeFlag, parseFlags, slotRanges, SLOTS } from './cluster-node.js';
import { ClusterState, type ClusterOptions } from './cluster-state.js';

/** One node's line, without the newline. */
export function describeNode(state: ClusterState, node: ClusterNode): string {
  const master = node.isReplica && node.masterId ? state.node(node.masterId) : undefined;
  // A replica shows its master's epoch, as Redis does.
  const epoch = node.isReplica && master ? master.configEpoch : node.configEpoch;
  const myself = node === state.myself;
  const link = myself || node.linkConnected ? 'connected' : 'disconnected';
  let line = `${node.id} ${node.address} ${flagsText(node.flags)} ${node.masterId ?? '-'} ` +
    `${myself ? 0 : node.pingSent} ${myself ? 0 : node.pongReceived} ${epoch} ${link}`;
  if (node.isMaster) {
    for (const [a, b] of slotRanges((s) => node.hasSlot(s))) line += a === b ? ` ${a}` : ` ${a}-${b}`;
  }
  if (myself) {
    for (let s = 0; s < SLOTS; s++) {
      const to = state.migratingTo[s];
      if (to) line += ` [${s}->-${to.id}]`;
      const from = state.importingFrom[s];
      if (from) line += ` [${s}-<-${from.id}]`;
    }
  }
  return line;
}

/** CLUSTER NODES: every node's line, each ended by a newline. */
export function renderNodes(state: ClusterState): string {
  let out = '';
  for (const node of state.nodes.values()) out += describeNode(state, node) + '\n';
  return out;
}

export function renderNodesConf(state: ClusterState): string {
  return `${renderNodes(state)}vars currentEpoch ${state.currentEpoch} lastVoteEpoch ${state.lastVoteEpoch}\n`;
}

/** Writes nodes.conf atomically: a crash leaves either the old file or the new one. */
export function saveNodesConf(file: string, state: ClusterState): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, renderNodesConf(state));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export class NodesConfError extends Error {}

/**
 * Loads nodes.conf; returns null when the file does not exist (a new node).
 * A file that is not a cluster config fails with a message naming the line.
 */
export function loadNodesConf(file: string, options: ClusterOptions): ClusterState | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new NodesConfError(`Unable to read cluster config file ${file}: ${(e as Error).message}`);
  }
  if (text.trim() === '') return null;
  const fail = (n: number, why: string): never => {
    throw new NodesConfError(`Unrecoverable error: corrupted cluster config file "${file}" at line ${n + 1} (${why}). ` +
      'Fix or remove the file, or point cluster-config-file elsewhere.');
  };
  const lines = text.split('\n');
  type Pending = { node: ClusterNode; slots: number[]; migrating: [number, string][]; importing: [number, string][] };
  const pending: Pending[] = [];
  let myself: ClusterNode | null = null;
  let currentEpoch = 0;
  let lastVoteEpoch = 0;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === '') continue;
    const f = line.split(' ');
    if (f[0] === 'vars') {
      for (let i = 1; i + 1 < f.length; i += 2) {
        const v = Number(f[i + 1]);
        if (!Number.isSafeInteger(v) || v < 0) fail(n, `bad value for ${f[i]}`);
        if (f[i] === 'currentEpoch') currentEpoch = v;
        else if (f[i] === 'lastVoteEpoch') lastVoteEpoch = v;
      }
      continue;
    }
    if (f.length < 8) fail(n, 'too few fields');
    if (!/^[0-9a-f]{40}$/.test(f[0])) fail(n, 'bad node id');
    const flags = parseFlags(f[2]);
    if (flags === null) fail(n, `unknown flag in '${f[2]}'`);
    const addr = /^(.*):(\d+)@(\d+)(?:,(.*))?$/.exec(f[1]);
    if (!addr) fail(n, 'bad address');
    const node = new ClusterNode(f[0], flags!);
    node.ip = addr![1];
    node.port = Number(addr![2]);
    node.cport = Number(addr![3]);
    node.hostname = (addr![4] ?? '').split(',')[0];
    node.masterId = f[3] === '-' ? null : f[3];
    node.configEpoch = Number(f[6]);
    if (!Number.isSafeInteger(node.configEpoch) || node.configEpoch < 0) fail(n, 'bad config epoch');
    // Liveness is not carried over a restart: peers are unknown until they answer.
    node.flags &= ~(NodeFlag.PFail | NodeFlag.Handshake | NodeFlag.Meet);
    const p: Pending = { node, slots: [], migrating: [], importing: [] };
    for (let i = 8; i < f.length; i++) {
      const m = /^\[(\d+)-([<>])-([0-9a-f]{40})\]$/.exec(f[i]);
      if (m) {
        (m[2] === '>' ? p.migrating : p.importing).push([Number(m[1]), m[3]]);
        continue;
      }
      const r = /^(\d+)(?:-(\d+))?$/.exec(f[i]);
      if (!r) fail(n, `bad slot '${f[i]}'`);
      const a = Number(r![1]);
      const b = r![2] === undefined ? a : Number(r![2]);
      if (a > b || b >= SLOTS) fail(n, `bad slot range '${f[i]}'`);
      for (let s = a; s <= b; s++) p.slots.push(s);
    }
    if (flags! & NodeFlag.Myself) {
      if (myself) fail(n, 'two nodes flagged myself');
      myself = node;
    }
    pending.push(p);
  }
  if (!myself) throw new NodesConfError(`Unrecoverable error: corrupted cluster config file "${file}" (no node is flagged myself).`);
  const state = new ClusterState(options, myself.id);
  state.nodes.clear();
  myself.port = options.port;
  myself.cport = options.cport;
  state.myself = myself;
  for (const p of pending) state.nodes.set(p.node.id, p.node);
  for (const p of pending) {
    // clusterLoadConfig adds each replica to its master (clusterNodeAddSlave), a replica migration target.
    const master = p.node.masterId ? state.node(p.node.masterId) : undefined;
    if (master) master.flags |= NodeFlag.MigrateTo;
    for (const s of p.slots) state.assignSlot(p.node, s);
    for (const [s, id] of p.migrating) state.migratingTo[s] = state.node(id) ?? null;
    for (const [s, id] of p.importing) state.importingFrom[s] = state.node(id) ?? null;
  }
  state.currentEpoch = Math.max(currentEpoch, state.maxEpoch());
  state.lastVoteEpoch = lastVoteEpoch;
  state.applyMyAddress();
  state.configDirty = false;
  return state;
}
