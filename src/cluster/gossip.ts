/**
 * What the cluster bus messages mean: building the header and the gossip
 * section, and applying what peers tell us to the ClusterState. This is
 * Redis's clusterProcessPacket and its helpers (cluster_legacy.c); sockets,
 * timers and framing live in cluster-bus.ts, behind the GossipTransport.
 */
import type { EventEmitter } from 'node:events';
import { ClusterNode, NodeFlag, randomNodeId, SLOTS } from './cluster-node.js';
import type { ClusterState } from './cluster-state.js';
import {
  type BusMessage,
  type GossipEntry,
  type MessageHeader,
  type PingMessage,
  MESSAGE_TYPE_NAMES,
  MessageFlag,
  MessageType,
} from './bus-frames.js';

export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning';

/** Redis's CLUSTER_FAIL_REPORT_VALIDITY_MULT: a failure report counts for node_timeout times this. */
const FAIL_REPORT_VALIDITY_MULT = 2;
/** Redis's CLUSTER_FAIL_UNDO_TIME_MULT: a master with slots stays FAIL this many node timeouts. */
const FAIL_UNDO_TIME_MULT = 2;
/** Gossip pong times may be this far in our future and still be believed (clusterProcessGossipSection). */
const PONG_CLOCK_SKEW_MS = 500;

/** One bus connection as the message handling sees it. */
export interface BusLink {
  /** Accepted by our listener (the peer dialled us), as opposed to dialled by us. */
  readonly inbound: boolean;
  /** The node at the other end: set at creation for outbound links, once the sender is known for inbound ones. */
  node: ClusterNode | null;
  readonly createdAt: number;
  /** The address of our end of the connection, '' when unknown. */
  localIp(): string;
  /** The address of the peer's end, '' when unknown. */
  remoteIp(): string;
}

/** What the bus tells the coordinator. */
export interface BusEventMap {
  /** A PUBLISH (or sharded PUBLISH) from another node, to deliver to local subscribers. */
  publish: [channel: Uint8Array, message: Uint8Array, sharded: boolean];
  /** Myself became a replica of this master, or its address changed: (re)start replication from it. */
  replicate: [master: ClusterNode];
  /** Slots taken from myself by a newer configuration while I stay a master: their keys must go. */
  'slots-lost': [slots: number[]];
  /** A failover message (auth request/ack, MFSTART) from a known node, for the failover logic. */
  failover: [message: BusMessage, sender: ClusterNode];
  /** A master paused for a manual failover advertised the offset its writes stopped at (CLUSTERMSG_FLAG0_PAUSED). */
  'master-paused': [sender: ClusterNode, offset: number];
  /** Every cron run (10 per second), after liveness checks and before the cluster state is updated. */
  cron: [now: number];
}

export interface GossipTransport {
  send(link: BusLink, message: BusMessage): void;
  /** Sends to every node with an outbound link (clusterBroadcastMessage). */
  broadcast(message: BusMessage): void;
  outboundLink(node: ClusterNode): BusLink | undefined;
  /** Links an inbound link to the node that sent on it (setClusterNodeToInboundClusterLink). */
  attachInbound(node: ClusterNode, link: BusLink): void;
  closeLink(link: BusLink): void;
  /** Closes the node's links, inbound and outbound (freeClusterNode). */
  closeNodeLinks(node: ClusterNode): void;
  log(level: LogLevel, message: string): void;
  readonly events: EventEmitter<BusEventMap>;
}

function hasBit(bitmap: Uint8Array, bit: number): boolean {
  return (bitmap[bit >> 3] & (1 << (bit & 7))) !== 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export class Gossip {
  /** Failure reports: failing node -> reporting master -> when reported (clusterNodeAddFailureReport). */
  private readonly failureReports = new Map<ClusterNode, Map<ClusterNode, number>>();

  constructor(
    private readonly state: ClusterState,
    private readonly transport: GossipTransport,
  ) {}

  // ---- building messages ----

  /**
   * clusterBuildMessageHdr: a replica advertises its master's slots and configEpoch.
   * A master paused for a manual failover advertises the offset its writes
   * stopped at, with the PAUSED flag, for the replica to catch up to.
   */
  header(): MessageHeader {
    const state = this.state;
    const me = state.myself;
    const master = (me.isReplica && me.masterId && state.node(me.masterId)) || me;
    const mf = state.manualFailover;
    const pausedOffset = me.isMaster && mf.end !== 0 ? mf.pausedOffset : null;
    return {
      sender: me.id,
      currentEpoch: state.currentEpoch,
      configEpoch: master.configEpoch,
      replicationOffset: pausedOffset ?? me.replicationOffset,
      slots: master.slots,
      masterId: me.isReplica ? me.masterId : null,
      ip: state.options.announceIp,
      port: me.port,
      cport: me.cport,
      flags: me.flags,
      stateOk: state.state === 'ok',
      mflags: pausedOffset !== null ? MessageFlag.Paused : 0,
    };
  }

  private gossipEntry(node: ClusterNode): GossipEntry {
    return {
      id: node.id,
      pingSent: Math.floor(node.pingSent / 1000),
      pongReceived: Math.floor(node.pongReceived / 1000),
      ip: node.ip,
      port: node.port,
      cport: node.cport,
      flags: node.flags & 0xffff,
    };
  }

  /**
   * clusterSendPing: the header plus gossip about max(3, N/10) random other
   * nodes (at most N-2), then every node in PFAIL so failure reports spread fast.
   */
  sendPing(link: BusLink, type: typeof MessageType.Ping | typeof MessageType.Pong | typeof MessageType.Meet): void {
    const state = this.state;
    const nodes = [...state.nodes.values()];
    let freshNodes = nodes.length - 2;
    const wanted = Math.min(Math.max(3, Math.floor(nodes.length / 10)), freshNodes);
    const gossip: GossipEntry[] = [];
    const included = new Set<ClusterNode>();
    let iterations = wanted * 3;
    while (freshNodes > 0 && gossip.length < wanted && iterations-- > 0) {
      const node = nodes[Math.floor(Math.random() * nodes.length)];
      if (node === state.myself || node.flags & NodeFlag.PFail || included.has(node)) continue;
      if (node.flags & (NodeFlag.Handshake | NodeFlag.NoAddress) || (!this.transport.outboundLink(node) && node.slotCount === 0)) {
        freshNodes--;
        continue;
      }
      gossip.push(this.gossipEntry(node));
      included.add(node);
      freshNodes--;
    }
    for (const node of nodes) {
      if (node.flags & NodeFlag.PFail && !(node.flags & (NodeFlag.Handshake | NodeFlag.NoAddress))) {
        gossip.push(this.gossipEntry(node));
      }
    }
    if (!link.inbound && type === MessageType.Ping && link.node) link.node.pingSent = Date.now();
    const me = state.myself;
    this.transport.send(link, { ...this.header(), type, gossip, hostname: me.hostname, shardId: me.shardId });
  }

  /** clusterSendUpdate: tell a node claiming slots with a stale epoch who owns them now. */
  private sendUpdate(link: BusLink | undefined, owner: ClusterNode): void {
    if (!link) return;
    this.transport.send(link, {
      ...this.header(),
      type: MessageType.Update,
      update: { id: owner.id, configEpoch: owner.configEpoch, slots: owner.slots },
    });
  }

  /** clusterSendFail: everybody must flag the node as FAIL. */
  sendFail(node: ClusterNode): void {
    this.transport.broadcast({ ...this.header(), type: MessageType.Fail, failing: node.id });
  }

  // ---- node bookkeeping ----

  /** clusterDelNode: forget the node, its failure reports, its links and its place as a master. */
  deleteNode(node: ClusterNode): void {
    this.failureReports.delete(node);
    for (const reports of this.failureReports.values()) reports.delete(node);
    for (const other of this.state.nodes.values()) if (other.masterId === node.id && other !== node) other.masterId = null;
    this.transport.closeNodeLinks(node);
    this.state.deleteNode(node);
  }

  /** Failure reports by or about nodes deleted from the state behind our back go too. */
  dropReportsOfDeletedNodes(): void {
    const live = (node: ClusterNode) => this.state.nodes.get(node.id) === node;
    for (const [failing, reports] of this.failureReports) {
      if (!live(failing)) this.failureReports.delete(failing);
      else for (const reporter of reports.keys()) if (!live(reporter)) reports.delete(reporter);
    }
  }

  /** Whether a handshake with this address is already going on (clusterHandshakeInProgress). */
  handshakeInProgress(ip: string, port: number, cport: number): boolean {
    for (const node of this.state.nodes.values()) {
      if (node.flags & NodeFlag.Handshake && node.ip === ip && node.port === port && node.cport === cport) return true;
    }
    return false;
  }

  /** clusterSetNodeAsMaster. */
  private setNodeAsMaster(node: ClusterNode): void {
    if (node.isMaster) return;
    if (node.masterId && node !== this.state.myself) node.flags |= NodeFlag.MigrateTo;
    node.flags = (node.flags & ~NodeFlag.Replica) | NodeFlag.Master;
    node.masterId = null;
    this.state.changed();
  }

  /**
   * clusterSetMaster: myself becomes a replica of `master` (which, as in
   * clusterNodeAddSlave, becomes a possible replica migration target); the
   * coordinator starts replicating and ends any manual failover.
   */
  setMyMaster(master: ClusterNode): void {
    const state = this.state;
    const me = state.myself;
    if (me.isMaster) {
      me.flags = (me.flags & ~(NodeFlag.Master | NodeFlag.MigrateTo)) | NodeFlag.Replica;
      for (let s = 0; s < SLOTS; s++) {
        state.migratingTo[s] = null;
        state.importingFrom[s] = null;
      }
    }
    me.masterId = master.id;
    me.shardId = master.shardId;
    master.flags |= NodeFlag.MigrateTo;
    state.changed();
    this.transport.events.emit('replicate', master);
  }

  // ---- failure detection ----

  private addFailureReport(failing: ClusterNode, reporter: ClusterNode, now: number): boolean {
    const reports = this.failureReports.get(failing) ?? new Map<ClusterNode, number>();
    this.failureReports.set(failing, reports);
    const isNew = !reports.has(reporter);
    reports.set(reporter, now);
    return isNew;
  }

  /** clusterNodeFailureReportsCount: valid reports only, expired ones are dropped. */
  failureReportCount(node: ClusterNode, now = Date.now()): number {
    const reports = this.failureReports.get(node);
    if (!reports) return 0;
    const maxAge = this.state.options.nodeTimeout * FAIL_REPORT_VALIDITY_MULT;
    for (const [reporter, time] of reports) if (now - time > maxAge) reports.delete(reporter);
    if (reports.size === 0) this.failureReports.delete(node);
    return reports.size;
  }

  /**
   * markNodeAsFailingIfNeeded: PFAIL becomes FAIL when a majority of the
   * slot-serving masters (myself included if I am a master) report it.
   */
  private markNodeAsFailingIfNeeded(node: ClusterNode, now: number): void {
    const state = this.state;
    if (!(node.flags & NodeFlag.PFail) || node.flags & NodeFlag.Fail) return;
    const quorum = Math.floor(state.size / 2) + 1;
    let failures = this.failureReportCount(node, now);
    if (state.myself.isMaster) failures++;
    if (failures < quorum) return;
    this.transport.log('notice', `Marking node ${node.id} as failing (quorum reached).`);
    node.flags = (node.flags & ~NodeFlag.PFail) | NodeFlag.Fail;
    node.failTime = now;
    this.sendFail(node);
    state.changed();
  }

  /** clearNodeFailureIfNeeded: a reachable FAIL node is cleared unless it is a master someone should replace. */
  private clearNodeFailureIfNeeded(node: ClusterNode, now: number): void {
    const timeout = this.state.options.nodeTimeout;
    // A replica, or a master with no slots, has nothing for anyone to take over.
    if (node.isReplica || node.slotCount === 0) {
      this.transport.log('notice', `Clear FAIL state for node ${node.id}: ${node.isReplica ? 'replica' : 'master without slots'} is reachable again.`);
      node.flags &= ~NodeFlag.Fail;
      this.state.changed();
    } else if (node.isMaster && now - node.failTime > timeout * FAIL_UNDO_TIME_MULT) {
      // Failed long enough ago that a replica would have been promoted by now: nobody will.
      this.transport.log('notice', `Clear FAIL state for node ${node.id}: is reachable again and nobody is serving its slots after some time.`);
      node.flags &= ~NodeFlag.Fail;
      this.state.changed();
    }
  }

  // ---- receiving ----

  /** clusterProcessPacket. */
  handle(link: BusLink, message: BusMessage, now = Date.now()): void {
    const state = this.state;
    const me = state.myself;
    const type = message.type;
    state.countMessage(state.messagesReceived, MESSAGE_TYPE_NAMES.get(type) ?? 'unknown');

    // Only PONGs come back on a link we dialled; one from a different id means the
    // address now belongs to another node, so it no longer has a known address.
    if (!link.inbound && link.node && !(link.node.flags & NodeFlag.Handshake) && link.node.id !== message.sender) {
      const node = link.node;
      this.transport.log('verbose', `PONG contains mismatching sender ID. About node ${node.id} added ${now - node.createdAt} ms ago, having flags ${node.flags}`);
      node.flags |= NodeFlag.NoAddress;
      node.ip = '';
      node.port = 0;
      node.cport = 0;
      this.transport.closeLink(link);
      state.changed();
      return;
    }

    // getNodeFromLinkAndMsg: a handshake node still has a made-up name, so it is not "known".
    let sender: ClusterNode | null =
      link.node && !(link.node.flags & NodeFlag.Handshake) ? link.node : (state.node(message.sender) ?? null);
    if (sender === me) sender = null;
    if (sender && link.inbound && !link.node) this.transport.attachInbound(sender, link);
    if (sender) sender.dataReceived = now;

    if (sender && !(sender.flags & NodeFlag.Handshake)) {
      if (message.currentEpoch > state.currentEpoch) {
        state.currentEpoch = message.currentEpoch;
        state.changed();
      }
      if (message.configEpoch > sender.configEpoch) {
        sender.configEpoch = message.configEpoch;
        state.changed();
      }
      sender.replicationOffset = message.replicationOffset;
      if (message.mflags & MessageFlag.Paused) this.transport.events.emit('master-paused', sender, message.replicationOffset);
    }

    switch (message.type) {
      case MessageType.Ping:
      case MessageType.Pong:
      case MessageType.Meet:
        if (type !== MessageType.Pong) this.handlePingOrMeet(link, message, sender);
        this.handleConfig(link, message, sender, now);
        return;
      case MessageType.Fail:
        this.handleFail(message.failing, sender, now);
        return;
      case MessageType.Publish:
      case MessageType.PublishShard:
        if (sender) this.transport.events.emit('publish', message.channel, message.message, type === MessageType.PublishShard);
        return;
      case MessageType.Update:
        if (sender) this.handleUpdate(message.update.id, message.update.configEpoch, message.update.slots);
        return;
      default:
        if (sender) this.transport.events.emit('failover', message, sender);
    }
  }

  /** The PING/MEET part of clusterProcessPacket: learn my ip, add a MEETing node, always answer PONG. */
  private handlePingOrMeet(link: BusLink, message: PingMessage, sender: ClusterNode | null): void {
    const state = this.state;
    const me = state.myself;
    // Only other nodes MEET us, through the address they know us by: the local
    // address of that connection is our address, unless one is announced.
    if ((message.type === MessageType.Meet || me.ip === '') && !state.options.announceIp) {
      const ip = link.localIp();
      if (ip && ip !== me.ip) {
        me.ip = ip;
        this.transport.log('notice', `IP address for this node updated to ${ip}`);
        state.changed();
      }
    }
    // A MEET introduces the sender: add it in handshake under a made-up name,
    // its PONG to our PING will tell us the rest (flags, master, slots).
    if (!sender && message.type === MessageType.Meet) {
      const ip = message.ip || link.remoteIp();
      if (ip && message.port > 0 && message.cport > 0 && !this.handshakeInProgress(ip, message.port, message.cport)) {
        const node = new ClusterNode(randomNodeId(), NodeFlag.Handshake);
        node.ip = ip;
        node.port = message.port;
        node.cport = message.cport;
        state.addNode(node);
      }
    }
    this.sendPing(link, MessageType.Pong);
  }

  /** The PING/PONG/MEET configuration part of clusterProcessPacket. */
  private handleConfig(link: BusLink, message: PingMessage, sender: ClusterNode | null, now: number): void {
    const state = this.state;
    if (!link.inbound && link.node && link.node.flags & NodeFlag.Handshake) {
      const handshakeNode = link.node;
      const known = state.node(message.sender);
      if (known) {
        // We already know this node under its real name: keep that one, with the address that answered.
        if (known !== state.myself) this.updateAddressIfNeeded(known, link, message);
        this.transport.log('verbose', `Handshake: we already know node ${known.id}, updating the address if needed.`);
        this.deleteNode(handshakeNode);
        return;
      }
      state.renameNode(handshakeNode, message.sender);
      handshakeNode.flags = (handshakeNode.flags & ~NodeFlag.Handshake) | (message.flags & (NodeFlag.Master | NodeFlag.Replica));
      this.transport.log('debug', `Handshake with node ${handshakeNode.id} completed.`);
      state.changed();
    }

    if (sender) {
      sender.flags = (sender.flags & ~NodeFlag.NoFailover) | (message.flags & NodeFlag.NoFailover);
      if (sender.hostname !== message.hostname || sender.shardId !== message.shardId) {
        sender.hostname = message.hostname;
        sender.shardId = message.shardId;
        state.changed();
      }
    }
    if (sender && message.type === MessageType.Ping && !(sender.flags & NodeFlag.Handshake)) {
      this.updateAddressIfNeeded(sender, link, message);
    }

    if (!link.inbound && message.type === MessageType.Pong && link.node) {
      const node = link.node;
      node.pongReceived = now;
      node.pingSent = 0;
      // A PFAIL that did not turn into FAIL goes away on its own.
      if (node.flags & NodeFlag.PFail) {
        node.flags &= ~NodeFlag.PFail;
        state.changed(false);
      } else if (node.flags & NodeFlag.Fail) {
        this.clearNodeFailureIfNeeded(node, now);
      }
    }
    if (!sender) return;

    // Role switch: master <-> replica, or a replica following another master.
    if (message.masterId === null) {
      this.setNodeAsMaster(sender);
    } else {
      if (sender.isMaster) {
        for (let s = 0; s < SLOTS; s++) if (state.owner[s] === sender) state.unassignSlot(s);
        sender.flags = (sender.flags & ~(NodeFlag.Master | NodeFlag.MigrateTo)) | NodeFlag.Replica;
        state.changed();
      }
      const master = state.node(message.masterId);
      if (master && sender.masterId !== master.id) {
        sender.masterId = master.id;
        // clusterNodeAddSlave: a master that has had a replica is a replica migration target.
        master.flags |= NodeFlag.MigrateTo;
        state.changed();
      }
    }

    // Slots: only when the claim differs from what we know of the sender's master.
    const senderMaster = sender.isMaster ? sender : sender.masterId ? state.node(sender.masterId) : undefined;
    const dirtySlots = senderMaster !== undefined && !sameBytes(senderMaster.slots, message.slots);
    if (dirtySlots && sender.isMaster) this.updateSlotsConfigWith(sender, message.configEpoch, message.slots);
    if (dirtySlots) {
      // The reverse case: the sender claims slots that a newer configuration gave
      // to someone else (a master back from a partition); tell it (one UPDATE, as Redis).
      for (let s = 0; s < SLOTS; s++) {
        if (!hasBit(message.slots, s)) continue;
        const owner = state.owner[s];
        if (owner === sender || state.slotUnclaimed(s)) continue;
        if (owner && owner.configEpoch > message.configEpoch) {
          this.transport.log('verbose', `Node ${sender.id} has old slots configuration, sending an UPDATE message about ${owner.id}`);
          this.sendUpdate(this.transport.outboundLink(sender), owner);
          break;
        }
      }
    }

    if (state.myself.isMaster && sender.isMaster && message.configEpoch === state.myself.configEpoch) {
      if (state.handleEpochCollision(sender)) {
        this.transport.log('verbose', `WARNING: configEpoch collision with node ${sender.id}. configEpoch set to ${state.myself.configEpoch}`);
      }
    }
    this.processGossipSection(message.gossip, sender, now);
  }

  /**
   * clusterUpdateSlotsConfigWith: a slot moves to the claimant when it is
   * unclaimed or the claimant's configEpoch is greater than its owner's.
   * Slots being imported are left alone (they are closed by hand).
   */
  private updateSlotsConfigWith(sender: ClusterNode, senderConfigEpoch: number, slots: Uint8Array): void {
    const state = this.state;
    const me = state.myself;
    if (sender === me) {
      this.transport.log('notice', 'Discarding UPDATE message about myself.');
      return;
    }
    const myMaster = me.isMaster ? me : me.masterId ? state.node(me.masterId) : undefined;
    let newMaster: ClusterNode | null = null;
    const lostSlots: number[] = [];
    // Whether the sender is the new master of my shard: it took all my (master's) slots and claims no others.
    let senderSlots = 0;
    let migratedOurSlots = 0;
    for (let s = 0; s < SLOTS; s++) {
      const owner = state.owner[s];
      if (!hasBit(slots, s)) {
        if (owner === sender) state.ownerNotClaiming[s] = sender;
        continue;
      }
      senderSlots++;
      if (owner === sender) {
        state.ownerNotClaiming[s] = null;
        continue;
      }
      if (state.importingFrom[s]) continue;
      if (state.slotUnclaimed(s) || owner!.configEpoch < senderConfigEpoch) {
        if (owner === me) lostSlots.push(s);
        if (owner && owner === myMaster) {
          newMaster = sender;
          migratedOurSlots++;
        }
        state.assignSlot(sender, s);
        state.ownerNotClaiming[s] = null;
      }
    }
    // A master failed over (or a replica whose master was) follows the node that
    // took the last of its slots; without replica migration only when that node
    // took exactly our slots, i.e. is the new master of our shard.
    const followNewMaster = state.options.allowReplicaMigration || senderSlots === migratedOurSlots;
    if (newMaster && myMaster && myMaster.slotCount === 0 && followNewMaster) {
      this.transport.log('warning', `Configuration change detected. Reconfiguring myself as a replica of ${sender.id}`);
      this.setMyMaster(sender);
    } else if (me.isReplica && myMaster?.isReplica && myMaster.masterId && myMaster.masterId !== me.id) {
      // A replica's master that lost its last slot became a replica itself: follow its master.
      const grandMaster = state.node(myMaster.masterId);
      if (grandMaster) {
        this.transport.log('notice', `I'm a sub-replica! Reconfiguring myself as a replica of grandmaster ${grandMaster.id}`);
        this.setMyMaster(grandMaster);
      }
    } else if (lostSlots.length > 0) {
      this.transport.events.emit('slots-lost', lostSlots);
    }
  }

  /** nodeUpdateAddressIfNeeded: a PING on a link we did not dial tells the node's current address. */
  private updateAddressIfNeeded(node: ClusterNode, link: BusLink, message: MessageHeader): void {
    if (node === this.state.myself || link === this.transport.outboundLink(node)) return;
    this.moveNode(node, message.ip || link.remoteIp(), message.port, message.cport);
  }

  /** Gives a node a new address: its link to the old one goes, and the cron dials the new one. */
  private moveNode(node: ClusterNode, ip: string, port: number, cport: number): void {
    if (!ip || port === 0 || cport === 0) return;
    if (node.ip === ip && node.port === port && node.cport === cport) return;
    node.ip = ip;
    node.port = port;
    node.cport = cport;
    node.flags &= ~NodeFlag.NoAddress;
    const outbound = this.transport.outboundLink(node);
    if (outbound) this.transport.closeLink(outbound);
    this.transport.log('notice', `Address updated for node ${node.id}, now ${ip}:${port}`);
    const me = this.state.myself;
    if (me.isReplica && me.masterId === node.id) this.transport.events.emit('replicate', node);
    this.state.changed();
  }

  /** clusterProcessGossipSection. */
  private processGossipSection(entries: GossipEntry[], sender: ClusterNode, now: number): void {
    const state = this.state;
    const failFlags = NodeFlag.Fail | NodeFlag.PFail;
    for (const entry of entries) {
      if (entry.id === state.myself.id) continue;
      const node = state.node(entry.id);
      if (!node) {
        // Redis 7 adds a node gossiped by a known node under its real name (never a
        // handshake with a bare address, which could belong to another cluster by now).
        if (entry.flags & NodeFlag.NoAddress || entry.ip === '' || entry.port === 0 || entry.cport === 0) continue;
        if (state.isForgotten(entry.id, now)) continue;
        const added = new ClusterNode(entry.id, entry.flags & (NodeFlag.Master | NodeFlag.Replica | NodeFlag.NoFailover));
        added.ip = entry.ip;
        added.port = entry.port;
        added.cport = entry.cport;
        state.addNode(added);
        this.transport.log('verbose', `Node ${entry.id} learnt from ${sender.id}'s gossip at ${entry.ip}:${entry.port}`);
        continue;
      }
      if (node.flags & NodeFlag.Handshake) continue;
      // Failure reports count only from masters.
      if (sender.isMaster) {
        if (entry.flags & failFlags) {
          if (this.addFailureReport(node, sender, now)) {
            this.transport.log('verbose', `Node ${sender.id} reported node ${node.id} as not reachable.`);
          }
          this.markNodeAsFailingIfNeeded(node, now);
        } else if (this.failureReports.get(node)?.delete(sender)) {
          this.transport.log('verbose', `Node ${sender.id} reported node ${node.id} is back online.`);
        }
      }
      // A node we see as up, with no ping of ours pending and no reports, takes the
      // newer pong time others saw, so we do not ping it needlessly.
      if (!(entry.flags & failFlags) && node.pingSent === 0 && this.failureReportCount(node, now) === 0) {
        const pongTime = entry.pongReceived * 1000;
        if (pongTime <= now + PONG_CLOCK_SKEW_MS && pongTime > node.pongReceived) node.pongReceived = pongTime;
      }
      // A node we cannot reach, seen up at another address by someone who can: try that address.
      if (node.flags & failFlags && !(entry.flags & (NodeFlag.NoAddress | failFlags))) {
        this.moveNode(node, entry.ip, entry.port, entry.cport);
      }
    }
  }

  /** The FAIL part of clusterProcessPacket: everybody trusts a FAIL broadcast from a known node. */
  private handleFail(failingId: string, sender: ClusterNode | null, now: number): void {
    if (!sender) {
      this.transport.log('notice', `Ignoring FAIL message from unknown node about ${failingId}`);
      return;
    }
    const failing = this.state.node(failingId);
    if (!failing || failing.flags & (NodeFlag.Fail | NodeFlag.Myself)) return;
    this.transport.log('notice', `FAIL message received from ${sender.id} about ${failingId}`);
    failing.flags = (failing.flags & ~NodeFlag.PFail) | NodeFlag.Fail;
    failing.failTime = now;
    this.state.changed();
  }

  /** The UPDATE part of clusterProcessPacket: a newer configuration for a node's slots. */
  private handleUpdate(nodeId: string, configEpoch: number, slots: Uint8Array): void {
    const node = this.state.node(nodeId);
    if (!node || node === this.state.myself) return;
    if (node.configEpoch >= configEpoch) return;
    if (node.isReplica) this.setNodeAsMaster(node);
    node.configEpoch = configEpoch;
    this.state.changed();
    this.updateSlotsConfigWith(node, configEpoch, slots);
  }
}
