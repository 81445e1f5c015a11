/**
 * The cluster bus: the TCP listener on the cluster port, one outbound link to
 * every known node, and the 10 Hz cron that pings, reconnects and detects
 * failures (Redis's clusterCron, clusterAcceptHandler, clusterLinkConnectHandler,
 * clusterReadHandler in cluster_legacy.c). What messages mean is in gossip.ts.
 *
 * Nothing received from the network may take the process down: a link that
 * sends a malformed frame, or whose message cannot be handled, is closed and
 * logged, and the other links carry on.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { ClusterNode, NodeFlag, randomNodeId } from './cluster-node.js';
import { FORGET_TTL_SECONDS, type ClusterState } from './cluster-state.js';
import {
  type BusMessage,
  encodeFrame,
  FRAME_LENGTH_BYTES,
  FrameDecoder,
  MAX_FRAME_BYTES,
  MESSAGE_TYPE_NAMES,
  MessageType,
} from './bus-frames.js';
import { type BusEventMap, type BusLink, Gossip, type GossipTransport, type LogLevel } from './gossip.js';

/** Redis runs clusterCron every 100 ms. */
const CRON_INTERVAL_MS = 100;
/** A handshake node lives at most max(node timeout, this) before it is dropped (clusterCron). */
const MIN_HANDSHAKE_TIMEOUT_MS = 1000;
/** Redis's CLUSTER_PORT_INCR. */
export const CLUSTER_PORT_INCR = 10000;

export interface ClusterBusOptions {
  /**
   * The port to listen on (cluster-port, or port + 10000); by default the cport
   * this node announces. It differs from it under cluster-announce-bus-port.
   */
  port?: number;
  /** Addresses to listen on, as the client listener binds them; a failing optional one is skipped. */
  listen?: { host: string; optional?: boolean }[];
  /** The local address outbound links are made from (bind-source-addr). */
  sourceAddress?: string;
  /** cluster-link-sendbuf-limit in bytes: a link queueing more is dropped; 0 for no limit. */
  sendBufferLimit?: number;
  log?: (level: LogLevel, message: string) => void;
  cronIntervalMs?: number;
}

/** One row of CLUSTER LINKS. */
export interface ClusterLinkInfo {
  direction: 'to' | 'from';
  node: string;
  createTime: number;
  events: 'r' | 'rw';
  sendBufferAllocated: number;
  sendBufferUsed: number;
}

/** Socket addresses with IPv4-mapped IPv6 written as plain IPv4, as Redis's nodes show them. */
function plainIp(address: string | undefined): string {
  if (!address) return '';
  const mapped = address.startsWith('::ffff:') ? address.slice(7) : '';
  return mapped && net.isIPv4(mapped) ? mapped : address;
}

class Link implements BusLink {
  readonly createdAt = Date.now();
  readonly decoder = new FrameDecoder();
  closed = false;

  constructor(
    readonly socket: net.Socket,
    readonly inbound: boolean,
    public node: ClusterNode | null,
  ) {}

  localIp(): string {
    return plainIp(this.socket.localAddress);
  }

  remoteIp(): string {
    return plainIp(this.socket.remoteAddress);
  }

  describe(): string {
    const who = this.node ? `node ${this.node.id}` : 'unknown node';
    return `${this.inbound ? 'from' : 'to'} ${who} (${this.remoteIp() || '?'}:${this.socket.remotePort ?? '?'})`;
  }
}

export class ClusterBus extends EventEmitter<BusEventMap> {
  readonly gossip: Gossip;
  /** Links dropped for exceeding the send buffer limit (CLUSTER INFO total_cluster_links_buffer_limit_exceeded). */
  linksFreedForBufferLimit = 0;
  private readonly servers: net.Server[] = [];
  private readonly outbound = new Map<ClusterNode, Link>();
  private readonly inbound = new Map<ClusterNode, Link>();
  /** Inbound links whose sender is not known yet. */
  private readonly anonymous = new Set<Link>();
  private cron: NodeJS.Timeout | null = null;
  private iteration = 0;
  private stopped = false;
  private listenPort = 0;

  constructor(
    readonly state: ClusterState,
    private readonly options: ClusterBusOptions = {},
  ) {
    super();
    const transport: GossipTransport = {
      send: (link, message) => this.send(link as Link, message),
      broadcast: (message) => this.broadcast(message),
      outboundLink: (node) => this.outbound.get(node),
      attachInbound: (node, link) => this.attachInbound(node, link as Link),
      closeLink: (link) => this.closeLink(link as Link),
      closeNodeLinks: (node) => this.closeNodeLinks(node),
      log: (level, message) => this.log(level, message),
      events: this,
    };
    this.gossip = new Gossip(state, transport);
  }

  /** The cluster port actually listened on. */
  get port(): number {
    return this.listenPort;
  }

  /**
   * Listens on the cluster port of every address and starts the cron. A
   * cluster port of 0 takes a free one, which becomes the announced cport
   * too when that is 0.
   */
  async start(): Promise<void> {
    this.listenPort = this.options.port ?? this.state.options.cport;
    // Redis's default bind, "* -::*": every IPv4 address, and every IPv6 one where there is IPv6.
    const addresses = this.options.listen ?? [{ host: '0.0.0.0' }, { host: '::', optional: true }];
    for (const { host, optional } of addresses) {
      const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: this.listenPort, host, ipv6Only: host.includes(':') }, () => {
            server.off('error', reject);
            resolve();
          });
        });
      } catch (e) {
        server.close();
        if (optional) continue;
        await this.stop();
        throw new Error(`Could not create the cluster bus listening socket ${host}:${this.listenPort}: ${(e as Error).message}`);
      }
      server.on('error', (err) => this.log('warning', `Cluster bus accept error: ${err.message}`));
      this.servers.push(server);
      if (this.listenPort === 0) this.listenPort = (server.address() as net.AddressInfo).port;
      if (this.state.options.cport === 0) {
        this.state.options.cport = this.listenPort;
        this.state.myself.cport = this.listenPort;
        this.state.changed();
      }
    }
    this.cron = setInterval(() => this.tick(), this.options.cronIntervalMs ?? CRON_INTERVAL_MS);
  }

  /** Closes every link and the listeners. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.cron) clearInterval(this.cron);
    this.cron = null;
    for (const link of [...this.outbound.values(), ...this.inbound.values(), ...this.anonymous]) this.closeLink(link);
    await Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    this.servers.length = 0;
  }

  /**
   * CLUSTER MEET (clusterStartHandshake): adds a node in HANDSHAKE|MEET under a
   * made-up name and dials it. False for an invalid address; a handshake
   * already going on with the same address counts as success.
   */
  meet(ip: string, port: number, cport = port + CLUSTER_PORT_INCR): boolean {
    const address = plainIp(ip);
    if (net.isIP(address) === 0) return false;
    const validPort = (p: number) => Number.isInteger(p) && p > 0 && p <= 0xffff;
    if (!validPort(port) || !validPort(cport)) return false;
    if (this.gossip.handshakeInProgress(address, port, cport)) return true;
    const node = new ClusterNode(randomNodeId(), NodeFlag.Handshake | NodeFlag.Meet);
    node.ip = address;
    node.port = port;
    node.cport = cport;
    this.state.addNode(node);
    if (!this.stopped) this.connect(node);
    return true;
  }

  /** Propagates a PUBLISH to every node (clusterPropagatePublish). */
  publish(channel: Uint8Array, message: Uint8Array): void {
    this.broadcast({ ...this.gossip.header(), type: MessageType.Publish, channel, message });
  }

  /** Propagates an SPUBLISH to the nodes of my shard (clusterPropagatePublishShard). */
  publishShard(channel: Uint8Array, message: Uint8Array): void {
    const shardMaster = this.myShardMaster();
    this.broadcast({ ...this.gossip.header(), type: MessageType.PublishShard, channel, message }, (node) =>
      this.inShardOf(node, shardMaster),
    );
  }

  /**
   * clusterBroadcastPong: after SETSLOT NODE, a failover or an epoch bump, tell
   * everyone now; or only the other replicas of my master
   * (CLUSTER_BROADCAST_LOCAL_SLAVES), when an election is scheduled.
   */
  broadcastPong(target: 'all' | 'local-replicas' = 'all'): void {
    const me = this.state.myself;
    for (const node of this.state.nodes.values()) {
      if (node.flags & (NodeFlag.Myself | NodeFlag.Handshake)) continue;
      if (target === 'local-replicas') {
        const localReplica = node.isReplica && node.masterId !== null && (node.masterId === me.id || node.masterId === me.masterId);
        if (!localReplica) continue;
      }
      const link = this.outbound.get(node);
      if (link) this.gossip.sendPing(link, MessageType.Pong);
    }
  }

  /** Sends a PING to one node now, if it has a link. */
  ping(node: ClusterNode): void {
    const link = this.outbound.get(node);
    if (link) this.gossip.sendPing(link, MessageType.Ping);
  }

  /**
   * Sends a failover message to every node (auth requests) or to one (ack,
   * MFSTART); `mflags` carries FORCEACK on a manual failover's auth request.
   */
  sendFailoverMessage(
    type: typeof MessageType.FailoverAuthRequest | typeof MessageType.FailoverAuthAck | typeof MessageType.MfStart,
    to?: ClusterNode,
    mflags = 0,
  ): void {
    const header = this.gossip.header();
    const message: BusMessage = { ...header, mflags: header.mflags | mflags, type };
    if (!to) {
      this.broadcast(message);
      return;
    }
    const link = this.outbound.get(to);
    if (link) this.send(link, message);
  }

  /** clusterDelNode: drops the node, its links and the failure reports by and about it. */
  deleteNode(node: ClusterNode): void {
    if (node === this.state.myself) return;
    this.gossip.deleteNode(node);
  }

  /** CLUSTER FORGET: delete the node and keep gossip from re-adding it for a while (clusterBlacklistAddNode). */
  forgetNode(node: ClusterNode): void {
    if (node === this.state.myself) return;
    this.state.forgotten.set(node.id, Date.now() + FORGET_TTL_SECONDS * 1000);
    this.deleteNode(node);
  }

  /** CLUSTER COUNT-FAILURE-REPORTS. */
  failureReportCount(node: ClusterNode): number {
    return this.gossip.failureReportCount(node);
  }

  /** CLUSTER LINKS: every node's outbound ("to") and inbound ("from") link. */
  links(): ClusterLinkInfo[] {
    const rows: ClusterLinkInfo[] = [];
    const row = (link: Link, node: ClusterNode): ClusterLinkInfo => {
      const queued = link.socket.writableLength;
      return {
        direction: link.inbound ? 'from' : 'to',
        node: node.id,
        createTime: link.createdAt,
        events: queued > 0 ? 'rw' : 'r',
        sendBufferAllocated: queued,
        sendBufferUsed: queued,
      };
    };
    for (const node of this.state.nodes.values()) {
      const out = this.outbound.get(node);
      if (out) rows.push(row(out, node));
      const into = this.inbound.get(node);
      if (into) rows.push(row(into, node));
    }
    return rows;
  }

  /** clusterBroadcastMessage: to every node we hold an outbound link to. */
  private broadcast(message: BusMessage, only?: (node: ClusterNode) => boolean): void {
    for (const node of this.state.nodes.values()) {
      if (node.flags & (NodeFlag.Myself | NodeFlag.Handshake)) continue;
      if (only && !only(node)) continue;
      const link = this.outbound.get(node);
      if (link) this.send(link, message);
    }
  }

  private myShardMaster(): string | null {
    const me = this.state.myself;
    return me.isReplica ? me.masterId : me.id;
  }

  private inShardOf(node: ClusterNode, master: string | null): boolean {
    return node.id === master || (node.isReplica && node.masterId === master);
  }

  // ---- links ----

  private log(level: LogLevel, message: string): void {
    this.options.log?.(level, message);
  }

  private accept(socket: net.Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    const link = new Link(socket, true, null);
    this.anonymous.add(link);
    this.watch(link);
    this.log('verbose', `Accepting cluster node connection from ${link.remoteIp()}:${socket.remotePort}`);
  }

  /** Dials the node's cluster port (clusterNodeCronHandleReconnect). */
  private connect(node: ClusterNode): void {
    let socket: net.Socket;
    try {
      socket = net.connect({ host: node.ip, port: node.cport, localAddress: this.options.sourceAddress, noDelay: true });
    } catch (e) {
      // Failure detection needs a pending ping; claim one now, as Redis does on a synchronous connect error.
      if (node.pingSent === 0) node.pingSent = Date.now();
      this.log('debug', `Unable to connect to Cluster Node [${node.ip}]:${node.cport} -> ${(e as Error).message}`);
      return;
    }
    const link = new Link(socket, false, node);
    this.outbound.set(node, link);
    socket.once('connect', () => this.connected(link));
    this.watch(link);
  }

  /**
   * clusterLinkConnectHandler: PING (or MEET, to be added by the peer) at once,
   * keeping the time of a ping that was pending before the reconnect.
   */
  private connected(link: Link): void {
    const node = link.node;
    if (link.closed || !node) return;
    node.linkConnected = true;
    const pendingPing = node.pingSent;
    this.gossip.sendPing(link, node.flags & NodeFlag.Meet ? MessageType.Meet : MessageType.Ping);
    if (pendingPing) node.pingSent = pendingPing;
    node.flags &= ~NodeFlag.Meet;
    this.log('debug', `Connecting with Node ${node.id} at ${node.ip}:${node.cport}`);
  }

  private watch(link: Link): void {
    const socket = link.socket;
    socket.setKeepAlive(true, this.state.options.nodeTimeout * 2);
    socket.on('data', (chunk: Buffer) => this.receive(link, chunk));
    socket.on('error', (err) => {
      this.log('debug', `Cluster bus link ${link.describe()}: ${err.message}`);
      this.closeLink(link);
    });
    socket.on('close', () => this.closeLink(link));
  }

  /** clusterReadHandler: frames in, messages handled; anything malformed closes the link. */
  private receive(link: Link, chunk: Buffer): void {
    if (link.closed) return;
    try {
      for (const message of link.decoder.push(chunk)) {
        if (link.closed || this.stopped) return;
        this.gossip.handle(link, message);
      }
    } catch (e) {
      this.log('warning', `Error handling a cluster bus message ${link.describe()}: ${(e as Error).stack ?? String(e)}`);
      this.closeLink(link);
      return;
    }
    if (link.decoder.error !== null) {
      this.log('warning', `Bad message received from the cluster bus ${link.describe()}: ${link.decoder.error}. Closing the link.`);
      this.closeLink(link);
    }
  }

  private send(link: Link, message: BusMessage): void {
    if (link.closed) return;
    const frame = encodeFrame(message);
    // The receiver would take a frame over its limit for garbage and drop the link.
    if (frame.length - FRAME_LENGTH_BYTES > MAX_FRAME_BYTES) {
      this.log('warning', `Not sending a ${frame.length}-byte cluster bus message ${link.describe()}: over the ${MAX_FRAME_BYTES}-byte frame limit.`);
      return;
    }
    link.socket.write(frame);
    this.state.countMessage(this.state.messagesSent, MESSAGE_TYPE_NAMES.get(message.type) ?? 'unknown');
  }

  /** setClusterNodeToInboundClusterLink: one inbound link per node, the newest wins. */
  private attachInbound(node: ClusterNode, link: Link): void {
    const previous = this.inbound.get(node);
    if (previous && previous !== link) {
      this.log('debug', `Replacing inbound link from node ${node.id}`);
      this.closeLink(previous);
    }
    this.anonymous.delete(link);
    link.node = node;
    this.inbound.set(node, link);
  }

  /** freeClusterLink. */
  private closeLink(link: Link): void {
    if (link.closed) return;
    link.closed = true;
    link.socket.destroy();
    this.anonymous.delete(link);
    const node = link.node;
    if (!node) return;
    if (link.inbound) {
      if (this.inbound.get(node) === link) this.inbound.delete(node);
    } else if (this.outbound.get(node) === link) {
      this.outbound.delete(node);
      node.linkConnected = false;
    }
  }

  private closeNodeLinks(node: ClusterNode): void {
    const out = this.outbound.get(node);
    if (out) this.closeLink(out);
    const into = this.inbound.get(node);
    if (into) this.closeLink(into);
  }

  // ---- cron ----

  private tick(): void {
    try {
      const now = Date.now();
      this.cronOnce(now);
      this.emit('cron', now);
      this.state.updateState();
    } catch (e) {
      this.log('warning', `Cluster cron failed: ${(e as Error).stack ?? String(e)}`);
    }
  }

  /** clusterCron. */
  private cronOnce(now: number): void {
    const state = this.state;
    const timeout = state.options.nodeTimeout;
    const handshakeTimeout = Math.max(timeout, MIN_HANDSHAKE_TIMEOUT_MS);
    this.iteration++;
    this.dropLinksOfDeletedNodes();
    this.gossip.dropReportsOfDeletedNodes();
    const nodes = [...state.nodes.values()];

    for (const node of nodes) {
      this.freeLinksOverBufferLimit(node);
      if (node.flags & (NodeFlag.Myself | NodeFlag.NoAddress)) continue;
      // A handshake node lives no longer than the handshake timeout.
      if (node.flags & NodeFlag.Handshake && now - node.createdAt > handshakeTimeout) {
        this.log('verbose', `Handshake with ${node.ip}:${node.cport} timed out, forgetting the node.`);
        this.deleteNode(node);
        continue;
      }
      if (!this.outbound.has(node) && node.ip !== '' && node.cport !== 0) this.connect(node);
    }

    // About once a second, ping the node with the oldest pong among five random ones.
    if (this.iteration % 10 === 0) {
      let oldest: ClusterNode | null = null;
      for (let i = 0; i < 5 && nodes.length > 0; i++) {
        const node = nodes[Math.floor(Math.random() * nodes.length)];
        if (!this.outbound.has(node) || node.pingSent !== 0) continue;
        if (node.flags & (NodeFlag.Myself | NodeFlag.Handshake)) continue;
        if (!oldest || node.pongReceived < oldest.pongReceived) oldest = node;
      }
      const link = oldest && this.outbound.get(oldest);
      if (link) this.gossip.sendPing(link, MessageType.Ping);
    }

    for (const node of nodes) {
      if (node.flags & (NodeFlag.Myself | NodeFlag.NoAddress | NodeFlag.Handshake)) continue;
      if (!state.nodes.has(node.id)) continue;
      const pingDelay = now - node.pingSent;
      const dataDelay = now - node.dataReceived;
      let link = this.outbound.get(node);
      // A link that has been up a while, with a ping pending and no traffic at all for
      // half the timeout, may be stuck even though the node is alive: redial it.
      if (link && now - link.createdAt > timeout && node.pingSent && pingDelay > timeout / 2 && dataDelay > timeout / 2) {
        this.closeLink(link);
        link = undefined;
      }
      // Nobody goes unpinged for more than half the node timeout.
      if (link && node.pingSent === 0 && now - node.pongReceived > timeout / 2) {
        this.gossip.sendPing(link, MessageType.Ping);
        continue;
      }
      if (node.pingSent === 0) continue;
      // Any data counts as proof of life, as a busy link can delay the pong.
      const nodeDelay = Math.min(pingDelay, dataDelay);
      if (nodeDelay > timeout && !(node.flags & (NodeFlag.PFail | NodeFlag.Fail))) {
        this.log('debug', `*** NODE ${node.id} possibly failing`);
        node.flags |= NodeFlag.PFail;
        state.changed(false);
      }
    }
  }

  /** A node deleted from the state without deleteNode (CLUSTER FORGET, RESET) must not keep its links. */
  private dropLinksOfDeletedNodes(): void {
    for (const links of [this.outbound, this.inbound]) {
      for (const [node, link] of links) if (this.state.nodes.get(node.id) !== node) this.closeLink(link);
    }
  }

  /** clusterNodeCronFreeLinkOnBufferLimitReached. */
  private freeLinksOverBufferLimit(node: ClusterNode): void {
    const limit = this.options.sendBufferLimit ?? 0;
    if (limit <= 0) return;
    for (const link of [this.outbound.get(node), this.inbound.get(node)]) {
      if (link && link.socket.writableLength > limit) {
        this.log('warning', `Freeing cluster link ${link.describe()}: its send buffer (${link.socket.writableLength} bytes) is over the limit.`);
        this.linksFreedForBufferLimit++;
        this.closeLink(link);
      }
    }
  }
}
