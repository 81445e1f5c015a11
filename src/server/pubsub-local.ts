/**
 * One worker thread's pub/sub subscriptions (Redis 7.0's pubsub.c, client
 * side): which of this thread's connections hold which channels and
 * patterns, this thread's copy of the node's counts (pubsub-registry.ts),
 * and the delivery of published messages to them.
 *
 * Messages come from the node's ring (pubsub-ring.ts), read while this
 * thread has subscribers: what one read finds is written to each subscriber
 * at once, in order, as Redis fills its output buffer: `message` for a
 * channel subscription, and one `pmessage` per matching pattern
 * subscription (a connection holding both gets the message twice). RESP3
 * connections get them as pushes. A message is encoded once per protocol
 * and pattern, whatever the number of its subscribers.
 */
import { ReplyWriter } from '../protocol/reply-writer.js';
import { globMatch } from '../commands/glob.js';
import { ChannelNames, PubsubRegistry } from './pubsub-registry.js';
import type { PubsubRing } from './pubsub-ring.js';
import type { ClientState, PubsubService, SubscriptionChange } from '../commands/client-state.js';

/** A subscribed connection: where messages go, in its protocol. */
export interface Subscriber {
  readonly id: number;
  readonly resp: number;
  /** Channels and patterns held (the count Redis replies with), kept here. */
  pubsubCount?: number;
  send(bytes: Uint8Array): void;
}

interface Held {
  channels: Set<string>;
  patterns: Set<string>;
}

const MESSAGE = Buffer.from('message');
const PMESSAGE = Buffer.from('pmessage');

export class LocalSubscriptions {
  private readonly byChannel = new Map<string, Set<Subscriber>>();
  private readonly byPattern = new Map<string, Set<Subscriber>>();
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
  /** What one read sends each subscriber. */
  private readonly pending = new Map<Subscriber, Buffer[]>();
  private readonly deliverEntry = (channel: Uint8Array, message: Uint8Array) => this.deliverOne(channel, message);

  /** `confirm` tells the hub of a change of this thread's counts and resolves once every thread has it. */
  constructor(readonly worker: number, workers: number, readonly ring: PubsubRing,
    private readonly confirm: (pattern: boolean, names: string[], delta: number) => Promise<unknown>) {
    this.counts = new PubsubRegistry(workers);
  }

  /** Another thread's counts changed (the hub passes it on). */
  applyDelta(worker: number, pattern: boolean, names: string[], delta: number): void {
    this.counts.apply(worker, pattern, names, delta);
  }

  /** SUBSCRIBE / PSUBSCRIBE of names (latin1). */
  subscribe(client: Subscriber, pattern: boolean, names: string[]): SubscriptionChange {
    // Reading starts before the node counts the subscription: a message counted for it is read.
    if (!this.reading && names.length > 0) this.startReading();
    const h = this.heldBy(client);
    const set = pattern ? h.patterns : h.channels;
    const index = pattern ? this.byPattern : this.byChannel;
    const added: string[] = [];
    const counts: number[] = [];
    for (const name of names) {
      if (!set.has(name)) {
        set.add(name);
        let subscribers = index.get(name);
        if (subscribers === undefined) index.set(name, (subscribers = new Set()));
        subscribers.add(client);
        added.push(name);
      }
      counts.push(this.countOf(client, h));
    }
    return { names, counts, done: this.changed(pattern, added, 1) };
  }

  /** UNSUBSCRIBE / PUNSUBSCRIBE of names, or (null) of every one the client holds. */
  unsubscribe(client: Subscriber, pattern: boolean, names: string[] | null): SubscriptionChange {
    const h = this.held.get(client.id);
    const set = h === undefined ? new Set<string>() : pattern ? h.patterns : h.channels;
    const index = pattern ? this.byPattern : this.byChannel;
    const list = names ?? [...set];
    const removed: string[] = [];
    const counts: number[] = [];
    for (const name of list) {
      if (set.delete(name)) {
        const subscribers = index.get(name)!;
        subscribers.delete(client);
        if (subscribers.size === 0) index.delete(name);
        removed.push(name);
      }
      counts.push(h === undefined ? 0 : this.countOf(client, h));
    }
    if (h !== undefined && h.channels.size === 0 && h.patterns.size === 0) this.held.delete(client.id);
    const done = this.changed(pattern, removed, -1);
    if (this.held.size === 0 && this.reading) {
      this.reading = false;
      this.ring.setInterested(false);
    }
    return { names: list, counts, done };
  }

  /** A closed connection, or RESET: everything it held goes, without replies. */
  dropClient(client: Subscriber): void {
    if (!this.held.has(client.id)) return;
    void this.unsubscribe(client, false, null).done;
    void this.unsubscribe(client, true, null).done;
  }

  /** This thread's counts change at once; the hub passes the change on and confirms it. */
  private changed(pattern: boolean, names: string[], delta: number): Promise<unknown> {
    if (names.length === 0) return Promise.resolve();
    this.counts.apply(this.worker, pattern, names, delta);
    return this.confirm(pattern, names, delta);
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
      for (const [s, parts] of pending) s.send(parts.length === 1 ? parts[0] : Buffer.concat(parts));
      pending.clear();
    }
    return complete;
  }

  private add(s: Subscriber, bytes: Buffer): void {
    const list = this.pending.get(s);
    if (list === undefined) this.pending.set(s, [bytes]);
    else list.push(bytes);
  }

  private deliverOne(channel: Uint8Array, message: Uint8Array): void {
    const direct = this.byChannel.size === 0 ? undefined : this.byChannel.get(this.names.of(channel));
    if (direct !== undefined) {
      let resp2: Buffer | null = null;
      let resp3: Buffer | null = null;
      for (const s of direct) {
        if (s.resp === 2) this.add(s, (resp2 ??= this.encode(2, null, channel, message)));
        else this.add(s, (resp3 ??= this.encode(3, null, channel, message)));
      }
    }
    for (const [pattern, subscribers] of this.byPattern) {
      const p = Buffer.from(pattern, 'latin1');
      if (!globMatch(p, 0, p.length, channel, 0, channel.length)) continue;
      let resp2: Buffer | null = null;
      let resp3: Buffer | null = null;
      for (const s of subscribers) {
        if (s.resp === 2) this.add(s, (resp2 ??= this.encode(2, p, channel, message)));
        else this.add(s, (resp3 ??= this.encode(3, p, channel, message)));
      }
    }
  }

  /** Channels and patterns a connection holds (CLIENT LIST sub and psub). */
  heldCounts(clientId: number): [number, number] {
    const h = this.held.get(clientId);
    return h === undefined ? [0, 0] : [h.channels.size, h.patterns.size];
  }

  private heldBy(client: Subscriber): Held {
    let h = this.held.get(client.id);
    if (h === undefined) this.held.set(client.id, (h = { channels: new Set(), patterns: new Set() }));
    return h;
  }

  private countOf(client: Subscriber, h: Held): number {
    client.pubsubCount = h.channels.size + h.patterns.size;
    return client.pubsubCount;
  }

  /** [message, channel, payload] or [pmessage, pattern, channel, payload], as a push in RESP3. */
  private encode(resp: number, pattern: Uint8Array | null, channel: Uint8Array, message: Uint8Array): Buffer {
    const out = this.out;
    out.resp = resp;
    out.pushHeader(pattern === null ? 3 : 4);
    const kind = pattern === null ? MESSAGE : PMESSAGE;
    out.bulkBytes(kind, 0, kind.length);
    if (pattern !== null) out.bulkBytes(pattern, 0, pattern.length);
    out.bulkBytes(channel, 0, channel.length);
    out.bulkBytes(message, 0, message.length);
    return out.take();
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
  elsewhere: ((channel: Uint8Array, message: Uint8Array) => void) | null): PubsubService {
  const ring = local.ring;
  const append = (channel: Uint8Array, message: Uint8Array): boolean => {
    if (!ring.oversized(channel.length, message.length)) return ring.append(channel, message);
    const id = ring.blobId();
    const copy = new Uint8Array(message);
    if (!ring.append(channel, copy, id)) return false;
    carryApart(id, copy);
    local.blobArrived(id, copy);
    return true;
  };
  const published = (client: ClientState, channel: Uint8Array, message: Uint8Array, receivers: number): number => {
    if (receivers > 0) local.published((client.pubsubCount ?? 0) > 0);
    elsewhere?.(channel, message);
    return receivers;
  };
  return {
    subscribe: (client, pattern, names) => local.subscribe(subscriber(client), pattern, names),
    unsubscribe: (client, pattern, names) => local.unsubscribe(subscriber(client), pattern, names),
    publish: (client, channel, message) => {
      const receivers = local.counts.receiverCount(channel);
      if (receivers === 0 || append(channel, message)) return published(client, channel, message, receivers);
      // The ring is full: the bytes are the request's, copied to outlive it.
      const channelCopy = new Uint8Array(channel);
      const messageCopy = new Uint8Array(message);
      return new Promise<number>((resolve) => {
        const retry = () => {
          if (append(channelCopy, messageCopy)) resolve(published(client, channelCopy, messageCopy, receivers));
          else setTimeout(retry, RING_FULL_RETRY_MS);
        };
        setTimeout(retry, RING_FULL_RETRY_MS);
      });
    },
    channels: (pattern) => local.counts.channelNames(pattern),
    numsub: (channels) => local.counts.numsub(channels),
    numpat: () => local.counts.numpat(),
  };
}

/** A client that can receive messages: a connection (the master's stream, say, cannot subscribe). */
function subscriber(client: ClientState): Subscriber {
  if (client.send === undefined) throw new Error('this client cannot receive published messages');
  return client as ClientState & Subscriber;
}
