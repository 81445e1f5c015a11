/**
 * A node of the cluster as one node knows it: identity, addresses, role,
 * flags, epochs, liveness times and the slots it claims (Redis's clusterNode).
 */
import crypto from 'node:crypto';

export const SLOTS = 16384;

/** Node flags, the same bits as Redis's bus header and nodes.conf (cluster_legacy.h). */
export const enum NodeFlag {
  Master = 1,
  Replica = 2,
  PFail = 4,
  Fail = 8,
  Myself = 16,
  Handshake = 32,
  NoAddress = 64,
  Meet = 128,
  MigrateTo = 256,
  NoFailover = 512,
}

const FLAG_NAMES: [NodeFlag, string][] = [
  [NodeFlag.Myself, 'myself'],
  [NodeFlag.Master, 'master'],
  [NodeFlag.Replica, 'slave'],
  [NodeFlag.PFail, 'fail?'],
  [NodeFlag.Fail, 'fail'],
  [NodeFlag.Handshake, 'handshake'],
  [NodeFlag.NoAddress, 'noaddr'],
  [NodeFlag.NoFailover, 'nofailover'],
];

/** The flags field of CLUSTER NODES / nodes.conf (representClusterNodeFlags). */
export function flagsText(flags: number): string {
  const names = FLAG_NAMES.filter(([bit]) => flags & bit).map(([, name]) => name);
  return names.length ? names.join(',') : 'noflags';
}

export function parseFlags(text: string): number | null {
  let flags = 0;
  for (const name of text.split(',')) {
    if (name === 'noflags') continue;
    const found = FLAG_NAMES.find(([, n]) => n === name);
    if (!found) return null;
    flags |= found[0];
  }
  return flags;
}

/** A random 40-hex-digit node name, as Redis's getRandomHexChars. */
export function randomNodeId(): string {
  return crypto.randomBytes(20).toString('hex');
}

export class ClusterNode {
  ip = '';
  port = 0;
  cport = 0;
  hostname = '';
  flags: number;
  /** The master's id for a replica. */
  masterId: string | null = null;
  configEpoch = 0;
  /** Unix ms of the last ping sent without its pong yet, 0 when none is pending. */
  pingSent = 0;
  /** Unix ms of the last pong received. */
  pongReceived = 0;
  /** Unix ms of the last data of any kind from the node (proof of life). */
  dataReceived = 0;
  /** Unix ms when the node entered FAIL. */
  failTime = 0;
  /** Unix ms of the last failover vote this node gave to a replica of this master (voted_time). */
  votedTime = 0;
  /** Unix ms since when this master has had no working replica, as replica migration tracks it (orphaned_time). */
  orphanedTime = 0;
  /** Whether an outbound bus link to the node is connected. */
  linkConnected = false;
  replicationOffset = 0;
  shardId: string;
  /** The slots this node claims, as a bitmap (Redis's node->slots). */
  readonly slots = new Uint8Array(SLOTS / 8);
  slotCount = 0;
  readonly createdAt = Date.now();

  constructor(public id: string, flags: number) {
    this.flags = flags;
    this.shardId = randomNodeId();
  }

  get isMaster(): boolean {
    return (this.flags & NodeFlag.Master) !== 0;
  }

  get isReplica(): boolean {
    return (this.flags & NodeFlag.Replica) !== 0;
  }

  get failed(): boolean {
    return (this.flags & NodeFlag.Fail) !== 0;
  }

  hasSlot(slot: number): boolean {
    return (this.slots[slot >> 3] & (1 << (slot & 7))) !== 0;
  }

  addSlot(slot: number): boolean {
    if (this.hasSlot(slot)) return false;
    this.slots[slot >> 3] |= 1 << (slot & 7);
    this.slotCount++;
    return true;
  }

  deleteSlot(slot: number): boolean {
    if (!this.hasSlot(slot)) return false;
    this.slots[slot >> 3] &= ~(1 << (slot & 7));
    this.slotCount--;
    return true;
  }

  /** The ip:port@cport[,hostname] field. */
  get address(): string {
    return `${this.ip}:${this.port}@${this.cport}${this.hostname ? `,${this.hostname}` : ''}`;
  }
}

/** Slot ranges of a bitmap-like predicate, in order: [[start, end], ...]. */
export function slotRanges(has: (slot: number) => boolean): [number, number][] {
  const ranges: [number, number][] = [];
  let start = -1;
  for (let s = 0; s <= SLOTS; s++) {
    if (s < SLOTS && has(s)) {
      if (start < 0) start = s;
    } else if (start >= 0) {
      ranges.push([start, s - 1]);
      start = -1;
    }
  }
  return ranges;
}
