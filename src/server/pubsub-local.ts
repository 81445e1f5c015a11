/**
 * One worker thread's pub/sub subscriptions (Redis 7.0's pubsub.c, client
 * side): which of this thread's connections hold which channels and
 * patterns, this thread's copy of the node's counts (pubsub-registry.ts),
 * and the delivery of published messages to them.
 *
 * A batch of messages from the hub is written to each subscriber at once,
 * in order, as Redis fills its output buffer: `message` for a channel
 * subscription, and one `pmessage` per matching pattern subscription (a
 * connection holding both gets the message twice). RESP3 connections get
 * them as pushes.
 */
import { ReplyWriter } from '../protocol/reply-writer.js';
import { globMatch } from '../commands/glob.js';
import { PubsubRegistry, total, type Published } from './pubsub-registry.js';
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

  /** `confirm` tells the hub of a change of this thread's counts and resolves once every thread has it. */
  constructor(readonly worker: number, workers: number,
    private readonly confirm: (pattern: boolean, names: string[], delta: number) => Promise<unknown>) {
    this.counts = new PubsubRegistry(workers);
  }

  /** Another thread's counts changed (the hub passes it on). */
  applyDelta(worker: number, pattern: boolean, names: string[], delta: number): void {
    this.counts.apply(worker, pattern, names, delta);
  }

  /** Whether any of `client`'s subscriptions receives a message on `channel` (it is then answered after the message). */
  receives(client: Subscriber, channel: Uint8Array): boolean {
    const h = this.held.get(client.id);
    if (h === undefined) return false;
    if (h.channels.has(Buffer.from(channel).toString('latin1'))) return true;
    for (const pattern of h.patterns) {
      const p = Buffer.from(pattern, 'latin1');
      if (globMatch(p, 0, p.length, channel, 0, channel.length)) return true;
    }
    return false;
  }

  /** SUBSCRIBE / PSUBSCRIBE of names (latin1). */
  subscribe(client: Subscriber, pattern: boolean, names: string[]): SubscriptionChange {
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
    return { names: list, counts, done: this.changed(pattern, removed, -1) };
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

  /** Messages published on this node, in the node's order, for this thread's subscribers: one write per subscriber. */
  deliver(messages: Published[]): void {
    const pending = new Map<Subscriber, Buffer[]>();
    const add = (s: Subscriber, bytes: Buffer) => {
      const list = pending.get(s);
      if (list === undefined) pending.set(s, [bytes]);
      else list.push(bytes);
    };
    for (const { channel, message } of messages) {
      const direct = this.byChannel.get(Buffer.from(channel).toString('latin1'));
      if (direct !== undefined) for (const s of direct) add(s, this.encode(s.resp, null, channel, message));
      for (const [pattern, subscribers] of this.byPattern) {
        const p = Buffer.from(pattern, 'latin1');
        if (!globMatch(p, 0, p.length, channel, 0, channel.length)) continue;
        for (const s of subscribers) add(s, this.encode(s.resp, p, channel, message));
      }
    }
    for (const [s, parts] of pending) s.send(parts.length === 1 ? parts[0] : Buffer.concat(parts));
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

/**
 * The commands' view of pub/sub on this thread. PUBLISH is answered here,
 * from this thread's counts, and the message sent to the hub (`publish`);
 * a publisher that receives its own message waits for the hub's count, so
 * that the message comes first.
 */
export function pubsubService(local: LocalSubscriptions,
  publish: (published: Published, wantCount: boolean) => Promise<number> | null): PubsubService {
  return {
    subscribe: (client, pattern, names) => local.subscribe(subscriber(client), pattern, names),
    unsubscribe: (client, pattern, names) => local.unsubscribe(subscriber(client), pattern, names),
    publish: (client, channel, message) => {
      const own = (client.pubsubCount ?? 0) > 0 && local.receives(subscriber(client), channel);
      const counted = publish({ channel, message }, own);
      return counted ?? total(local.counts.receivers(channel));
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
