/**
 * One worker thread's pub/sub subscriptions (Redis 7.0's pubsub.c, client
 * side): which of this thread's connections hold which channels and
 * patterns, this thread's copy of the node's counts (pubsub-registry.ts),
 * and the delivery of published messages to them.
 *
 * Messages come from the node's ring (pubsub-ring.ts), read while this
 * thread has subscribers, or straight from a command of this thread when
 * no other thread has any (after what the ring still holds, so that the
 * order stays the ring's): what one read finds is written to each subscriber
 * at once, in order, as Redis fills its output buffer: `message` for a
 * channel subscription, and one `pmessage` per matching pattern
 * subscription (a connection holding both gets the message twice). RESP3
 * connections get them as pushes. A message is encoded once per protocol
 * and pattern, whatever the number of its subscribers.
 */
import { ReplyWriter } from '../protocol/reply-writer.js';
import { globMatch } from '../commands/glob.js';
import { ChannelNames, PubsubRegistry } from './pubsub-registry.js';
import { RingEntry, type PubsubRing } from './pubsub-ring.js';
import { SubscriptionKind, type ClientState, type PubsubService, type SubscriptionChange } from '../commands/client-state.js';

/** A subscribed connection: where messages go, in its protocol. */
export interface Subscriber {
  readonly id: number;
  readonly resp: number;
  /** Channels and patterns held (the count Redis replies with), kept here. */
  pubsubCount?: number;
  send(bytes: Uint8Array): void;
}

/** What a connection holds, by SubscriptionKind: channels, patterns, shard channels. */
type Held = [Set<string>, Set<string>, Set<string>];

const MESSAGE = Buffer.from('message');
const PMESSAGE = Buffer.from('pmessage');
const SMESSAGE = Buffer.from('smessage');

const heldTotal = (h: Held) => h[0].size + h[1].size + h[2].size;

export class LocalSubscriptions {
  private readonly byChannel = new Map<string, Set<Subscriber>>();
  private readonly byPattern = new Map<string, Set<Subscriber>>();
  private readonly byShard = new Map<string, Set<Subscriber>>();
  private readonly indexes = [this.byChannel, this.byPattern, this.byShard];
  private readonly held = new Map<number, Held>();
  private readonly out = new ReplyWriter();
  /** This thread's copy of the node's counts: PUBLISH and PUBSUB answer from it. */
  readonly counts: PubsubRegistry;

  /** Whether this thread reads the ring (it has subscribers). */
  private reading = false;
  /** Whether readLoop runs (it may outlive `reading` while it sleeps). */
  private looping = false;
  private drainScheduled = false;
  /** The read loop waiting for the bytes of a message carried apart. */
  private blobWaiter: (() => void) | null = null;
  private readonly names = new ChannelNames();
  /**
   * What one read sends each subscriber: ranges [start, end) of `out`, as
   * its marks (which stay valid when it grows), adjoining ones merged. A
   * message is encoded once per protocol and pattern, so subscribers of the
   * same channels share one run of bytes, handed to each socket uncopied.
   */
  private readonly pending = new Map<Subscriber, number[]>();
  private readonly deliverEntry = (entry: RingEntry) => (entry.shard ? this.deliverShard(entry) : this.deliverOne(entry));
  private readonly encodedStarts = [-1, -1];
  private readonly encodedEnds = [0, 0];
  /** A message published here, delivered without the ring (deliverHere). */
  private readonly direct = new RingEntry();
  /** Each pattern's bytes, for matching channels without a conversion per message. */
  private readonly patternBytes = new Map<string, Buffer>();

  /** The node that served each shard channel's slot when this thread's first subscriber took it (cluster mode). */
  private readonly shardOwners = new Map<string, number>();

  /**
   * `confirm` tells the hub of a change of this thread's counts and resolves
   * once every thread has it; `slotOwner` (cluster mode) names the node
   * serving a shard channel's slot.
   */
  constructor(readonly worker: number, workers: number, readonly ring: PubsubRing,
    private readonly confirm: (kind: SubscriptionKind, names: string[], delta: number) => Promise<unknown>,
    private readonly slotOwner: ((channel: string) => number) | null = null) {
    this.counts = new PubsubRegistry(workers);
  }

  /** Another thread's counts changed (the hub passes it on). */
  applyDelta(worker: number, kind: SubscriptionKind, names: string[], delta: number): void {
    this.counts.apply(worker, kind, names, delta);
  }

  /** (P|S)SUBSCRIBE of names (latin1). */
  subscribe(client: Subscriber, kind: SubscriptionKind, names: string[]): SubscriptionChange {
    // Reading starts before the node counts the subscription: a message counted for it is read.
    if (!this.reading && names.length > 0) this.startReading();
    const h = this.heldBy(client);
    const set = h[kind];
    const index = this.indexes[kind];
    const added: string[] = [];
    const counts: number[] = [];
    for (const name of names) {
      if (!set.has(name)) {
        set.add(name);
        let subscribers = index.get(name);
        if (subscribers === undefined) {
          index.set(name, (subscribers = new Set()));
          if (kind === SubscriptionKind.Shard && this.slotOwner !== null) this.shardOwners.set(name, this.slotOwner(name));
        }
        subscribers.add(client);
        added.push(name);
      }
      counts.push(this.countOf(client, h, kind));
    }
    return { names, counts, remaining: this.countOf(client, h, kind), done: this.changed(kind, added, 1) };
  }

  /** (P|S)UNSUBSCRIBE of names, or (null) of every one of that kind the client holds. */
  unsubscribe(client: Subscriber, kind: SubscriptionKind, names: string[] | null): SubscriptionChange {
    const h = this.held.get(client.id);
    const set = h === undefined ? new Set<string>() : h[kind];
    const index = this.indexes[kind];
    const list = names ?? [...set];
    const removed: string[] = [];
    const counts: number[] = [];
    for (const name of list) {
      if (set.delete(name)) {
        const subscribers = index.get(name)!;
        subscribers.delete(client);
        if (subscribers.size === 0) {
          index.delete(name);
          if (kind === SubscriptionKind.Shard) this.shardOwners.delete(name);
          if (kind === SubscriptionKind.Pattern) this.patternBytes.delete(name);
        }
        removed.push(name);
      }
      counts.push(h === undefined ? 0 : this.countOf(client, h, kind));
    }
    const remaining = h === undefined ? 0 : this.countOf(client, h, kind);
    if (h !== undefined && heldTotal(h) === 0) this.held.delete(client.id);
    const done = this.changed(kind, removed, -1);
    if (this.held.size === 0 && this.reading) {
      this.reading = false;
      this.ring.setInterested(false);
    }
    return { names: list, counts, remaining, done };
  }

  /** A closed connection, or RESET: everything it held goes, without replies. */
  dropClient(client: Subscriber): void {
    if (!this.held.has(client.id)) return;
    void this.unsubscribe(client, SubscriptionKind.Channel, null).done;
    void this.unsubscribe(client, SubscriptionKind.Pattern, null).done;
    void this.unsubscribe(client, SubscriptionKind.Shard, null).done;
  }

  /**
   * The shard channels whose slot changed hands since they were taken (a
   * slot moved away, deleted, or a failover in this shard): every subscriber
   * loses them, with Redis's unsolicited [sunsubscribe, channel, remaining]
   * (removeChannelsInSlot); clients subscribe again at the new owner.
   * Migrating and importing slots keep theirs until the move completes.
   */
  dropMovedShardChannels(): void {
    const slotOwner = this.slotOwner;
    if (slotOwner === null || this.byShard.size === 0) return;
    for (const [name, subscribers] of [...this.byShard]) {
      if (slotOwner(name) === this.shardOwners.get(name)) continue;
      for (const s of [...subscribers]) {
        const change = this.unsubscribe(s, SubscriptionKind.Shard, [name]);
        const out = this.out;
        out.resp = s.resp;
        out.pushHeader(3);
        out.bulkString('sunsubscribe');
        out.bulkString(name);
        out.integer(change.remaining);
        s.send(out.take());
      }
    }
  }

  /** This thread's counts change at once; the hub passes the change on and confirms it. */
  private changed(kind: SubscriptionKind, names: string[], delta: number): Promise<unknown> {
    if (names.length === 0) return Promise.resolve();
    this.counts.apply(this.worker, kind, names, delta);
    return this.confirm(kind, names, delta);
  }

  /**
   * Whether a message published on this thread reaches every subscriber of
   * the node without the ring: only this thread has subscribers.
   */
  get alone(): boolean {
    return this.reading && !this.ring.othersInterested();
  }

  /**
   * A message published on this thread while it is `alone`: its subscribers
   * get it as if read from the ring, after whatever the ring still holds for
   * them (a message another thread published before stays before it).
   */
  deliverHere(channel: Uint8Array, message: Uint8Array, shard: boolean): void {
    if (this.ring.pending()) this.ring.read(this.deliverEntry);
    const e = this.direct;
    e.bytes = channel;
    e.channelStart = 0;
    e.channelLength = channel.length;
    e.message = message;
    e.messageStart = 0;
    e.messageLength = message.length;
    e.shard = shard;
    this.deliverEntry(e);
  }

  /** A message too large for the ring arrived: its entry can be read now (if this thread still reads). */
  blobArrived(id: number, message: Uint8Array): void {
    if (!this.reading) return;
    this.ring.addBlob(id, message);
    const waiter = this.blobWaiter;
    this.blobWaiter = null;
    waiter?.();
  }

  private startReading(): void {
    this.reading = true;
    this.ring.setInterested(true);
    if (!this.looping) void this.readLoop();
  }

  /** Reads while this thread has subscribers, sleeping when the ring has nothing new. */
  private async readLoop(): Promise<void> {
    this.looping = true;
    try {
      while (this.reading) {
        if (!this.drain()) {
          // Stopped at a message carried apart: its bytes come as a message to this thread.
          await new Promise<void>((resolve) => (this.blobWaiter = resolve));
          continue;
        }
        const woken = this.ring.wait();
        if (woken !== undefined) await woken;
      }
    } finally {
      this.looping = false;
    }
  }

  /**
   * After this thread published: its subscribers get the message at the end
   * of this turn of the event loop, with everything else published in it (as
   * Redis writes output buffers before it sleeps); a publisher that is itself
   * subscribed gets it now, before its reply.
   */
  published(publisherSubscribed: boolean): void {
    if (!this.reading) return;
    if (publisherSubscribed) {
      this.drain();
    } else if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.scheduledDrain);
    }
  }

  private readonly scheduledDrain = () => {
    this.drainScheduled = false;
    this.drain();
  };

  /**
   * Delivers everything the ring holds for this thread now; false when it
   * stopped at a message carried apart whose bytes have not arrived.
   */
  drain(): boolean {
    if (!this.reading) return true;
    const complete = this.ring.read(this.deliverEntry);
    const pending = this.pending;
    if (pending.size > 0) {
      const encoded = this.out.take();
      for (const [s, ranges] of pending) {
        if (ranges.length === 2) {
          s.send(encoded.subarray(ranges[0], ranges[1]));
          continue;
        }
        const parts: Buffer[] = [];
        for (let i = 0; i < ranges.length; i += 2) parts.push(encoded.subarray(ranges[i], ranges[i + 1]));
        s.send(Buffer.concat(parts));
      }
      pending.clear();
    }
    return complete;
  }

  private add(s: Subscriber, start: number, end: number): void {
    const ranges = this.pending.get(s);
    if (ranges === undefined) this.pending.set(s, [start, end]);
    else if (ranges[ranges.length - 1] === start) ranges[ranges.length - 1] = end;
    else ranges.push(start, end);
  }

  /** SPUBLISH: [smessage, channel, payload] to the shard channel's subscribers (no patterns). */
  private deliverShard(e: RingEntry): void {
    if (this.byShard.size === 0) return;
    const subscribers = this.byShard.get(this.names.of(e.bytes, e.channelStart, e.channelLength));
    if (subscribers === undefined) return;
    this.deliverTo(subscribers, null, e, SMESSAGE);
  }

  private deliverOne(e: RingEntry): void {
    const direct = this.byChannel.size === 0 ? undefined : this.byChannel.get(this.names.of(e.bytes, e.channelStart, e.channelLength));
    if (direct !== undefined) this.deliverTo(direct, null, e, MESSAGE);
    for (const [pattern, subscribers] of this.byPattern) {
      let p = this.patternBytes.get(pattern);
      if (p === undefined) this.patternBytes.set(pattern, (p = Buffer.from(pattern, 'latin1')));
      if (globMatch(p, 0, p.length, e.bytes, e.channelStart, e.channelStart + e.channelLength)) this.deliverTo(subscribers, p, e, PMESSAGE);
    }
  }

  /** One encoding per protocol, shared by every subscriber using it. */
  private deliverTo(subscribers: Set<Subscriber>, pattern: Uint8Array | null, e: RingEntry, kind: Buffer): void {
    // Where the message lies in `out`, by protocol (index 0: RESP2, 1: RESP3); -1 until encoded.
    const starts = this.encodedStarts;
    const ends = this.encodedEnds;
    starts[0] = starts[1] = -1;
    for (const s of subscribers) {
      const p = s.resp === 2 ? 0 : 1;
      if (starts[p] < 0) {
        starts[p] = this.out.mark();
        this.encode(s.resp, pattern, e, kind);
        ends[p] = this.out.mark();
      }
      this.add(s, starts[p], ends[p]);
    }
  }

  /** Channels, patterns and shard channels a connection holds (CLIENT LIST sub, psub and ssub). */
  heldCounts(clientId: number): [number, number, number] {
    const h = this.held.get(clientId);
    return h === undefined ? [0, 0, 0] : [h[0].size, h[1].size, h[2].size];
  }

  private heldBy(client: Subscriber): Held {
    let h = this.held.get(client.id);
    if (h === undefined) this.held.set(client.id, (h = [new Set(), new Set(), new Set()]));
    return h;
  }

  /**
   * The count Redis replies with: channels and patterns together
   * (clientSubscriptionsCount), or shard channels
   * (clientShardSubscriptionsCount). The connection keeps the total, which
   * makes the RESP2 subscribed context.
   */
  private countOf(client: Subscriber, h: Held, kind: SubscriptionKind): number {
    client.pubsubCount = heldTotal(h);
    return kind === SubscriptionKind.Shard ? h[2].size : h[0].size + h[1].size;
  }

  /** [message|smessage, channel, payload] or [pmessage, pattern, channel, payload], as a push in RESP3: written to `out`. */
  private encode(resp: number, pattern: Uint8Array | null, e: RingEntry, kind: Buffer): void {
    const out = this.out;
    out.resp = resp;
    out.pushHeader(pattern === null ? 3 : 4);
    out.bulkBytes(kind, 0, kind.length);
    if (pattern !== null) out.bulkBytes(pattern, 0, pattern.length);
    out.bulkBytes(e.bytes, e.channelStart, e.channelLength);
    out.bulkBytes(e.message, e.messageStart, e.messageLength);
  }
}

/** How long a publisher waits before trying a full ring again (ms). */
const RING_FULL_RETRY_MS = 1;

/**
 * The commands' view of pub/sub on this thread. PUBLISH is answered here,
 * from this thread's counts: the message goes into the node's ring (when
 * anyone on the node receives it) and this thread's own subscribers get it
 * at once, before the reply. A full ring makes the publisher wait.
 * `carryApart` posts a message too large for the ring to every other worker, and
 * `elsewhere` hands it to the cluster bus.
 */
export function pubsubService(local: LocalSubscriptions, carryApart: (id: number, message: Uint8Array) => void,
  elsewhere: ((channel: Uint8Array, message: Uint8Array, shard: boolean) => void) | null): PubsubService {
  const ring = local.ring;
  const append = (channel: Uint8Array, message: Uint8Array, shard: boolean): boolean => {
    if (!ring.oversized(channel.length, message.length)) return ring.append(channel, message, shard);
    const id = ring.blobId();
    const copy = new Uint8Array(message);
    if (!ring.append(channel, copy, shard, id)) return false;
    carryApart(id, copy);
    local.blobArrived(id, copy);
    return true;
  };
  const published = (client: ClientState, channel: Uint8Array, message: Uint8Array, receivers: number, shard: boolean): number => {
    if (receivers > 0) local.published((client.pubsubCount ?? 0) > 0);
    elsewhere?.(channel, message, shard);
    return receivers;
  };
  return {
    subscribe: (client, kind, names) => local.subscribe(subscriber(client), kind, names),
    unsubscribe: (client, kind, names) => local.unsubscribe(subscriber(client), kind, names),
    publish: (client, channel, message, shard) => {
      const receivers = local.counts.receiverCount(channel, shard);
      if (receivers > 0 && local.alone) {
        local.deliverHere(channel, message, shard);
        return published(client, channel, message, receivers, shard);
      }
      if (receivers === 0 || append(channel, message, shard)) return published(client, channel, message, receivers, shard);
      // The ring is full: the bytes are the request's, copied to outlive it.
      const channelCopy = new Uint8Array(channel);
      const messageCopy = new Uint8Array(message);
      return new Promise<number>((resolve) => {
        const retry = () => {
          if (append(channelCopy, messageCopy, shard)) resolve(published(client, channelCopy, messageCopy, receivers, shard));
          else setTimeout(retry, RING_FULL_RETRY_MS);
        };
        setTimeout(retry, RING_FULL_RETRY_MS);
      });
    },
    notify: (channel, message) => {
      if (local.counts.receiverCount(channel, false) === 0) return;
      if (local.alone) {
        local.deliverHere(channel, message, false);
        local.published(false);
        return;
      }
      if (append(channel, message, false)) {
        local.published(false);
        return;
      }
      // The ring is full: the event still goes out, in its turn among this thread's.
      const channelCopy = new Uint8Array(channel);
      const messageCopy = new Uint8Array(message);
      const retry = () => {
        if (append(channelCopy, messageCopy, false)) local.published(false);
        else setTimeout(retry, RING_FULL_RETRY_MS);
      };
      setTimeout(retry, RING_FULL_RETRY_MS);
    },
    channels: (pattern, shard) => local.counts.channelNames(pattern, shard),
    numsub: (channels, shard) => local.counts.numsub(channels, shard),
    numpat: () => local.counts.numpat(),
  };
}

/** A client that can receive messages: a connection (the master's stream, say, cannot subscribe). */
function subscriber(client: ClientState): Subscriber {
  if (client.send === undefined) throw new Error('this client cannot receive published messages');
  return client as ClientState & Subscriber;
}
