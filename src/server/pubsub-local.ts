/**
 * One worker thread's pub/sub subscriptions (Redis 7.0's pubsub.c, client
 * side): which of this thread's connections hold which channels and
 * patterns, and the delivery of published messages to them. The node-wide
 * counts live in the coordinator's registry (pubsub-registry.ts), which this
 * tells of every connection that starts or stops holding a name.
 *
 * Messages are written straight to the subscriber's socket, as Redis adds
 * them to its output buffer: `message` for a channel subscription, and one
 * `pmessage` per matching pattern subscription (a connection holding both
 * gets the message twice). RESP3 connections get them as pushes.
 */
import { ReplyWriter } from '../protocol/reply-writer.js';
import { globMatch } from '../commands/glob.js';
import type { PubsubRequest } from './pubsub-registry.js';
import type { ClientState, PubsubService } from '../commands/client-state.js';

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

/** What a (P)SUBSCRIBE or (P)UNSUBSCRIBE did: each name with the client's count after it, and the registry's confirmation. */
export interface SubscriptionChange {
  names: string[];
  counts: number[];
  done: Promise<unknown>;
}

const MESSAGE = Buffer.from('message');
const PMESSAGE = Buffer.from('pmessage');

export class LocalSubscriptions {
  private readonly byChannel = new Map<string, Set<Subscriber>>();
  private readonly byPattern = new Map<string, Set<Subscriber>>();
  private readonly held = new Map<number, Held>();
  private readonly out = new ReplyWriter();

  constructor(private readonly registry: (request: PubsubRequest) => Promise<unknown>) {}

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
    const done = added.length > 0 ? this.registry({ kind: 'subscribe', pattern, names: added, delta: 1 }) : Promise.resolve();
    return { names, counts, done };
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
    const done = removed.length > 0 ? this.registry({ kind: 'subscribe', pattern, names: removed, delta: -1 }) : Promise.resolve();
    return { names: list, counts, done };
  }

  /** A closed connection, or RESET: everything it held goes, without replies. */
  dropClient(client: Subscriber): void {
    if (!this.held.has(client.id)) return;
    void this.unsubscribe(client, false, null).done;
    void this.unsubscribe(client, true, null).done;
  }

  /** A message published on this node, for this thread's subscribers. */
  deliver(channel: Uint8Array, message: Uint8Array): void {
    const direct = this.byChannel.get(Buffer.from(channel).toString('latin1'));
    if (direct !== undefined) for (const s of direct) s.send(this.encode(s.resp, null, channel, message));
    for (const [pattern, subscribers] of this.byPattern) {
      const p = Buffer.from(pattern, 'latin1');
      if (!globMatch(p, 0, p.length, channel, 0, channel.length)) continue;
      for (const s of subscribers) s.send(this.encode(s.resp, p, channel, message));
    }
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

/** The commands' view of pub/sub on this thread: the subscriptions here, the registry (`ask`) for the node. */
export function pubsubService(local: LocalSubscriptions, ask: (request: PubsubRequest) => Promise<unknown>): PubsubService {
  return {
    subscribe: (client, pattern, names) => local.subscribe(subscriber(client), pattern, names),
    unsubscribe: (client, pattern, names) => local.unsubscribe(subscriber(client), pattern, names),
    publish: async (channel, message) => (await ask({ kind: 'publish', channel, message })) as number,
    channels: async (pattern) => (await ask({ kind: 'channels', pattern })) as string[],
    numsub: async (channels) => (await ask({ kind: 'numsub', channels })) as (string | number)[],
    numpat: async () => (await ask({ kind: 'numpat' })) as number,
  };
}

/** A client that can receive messages: a connection (the master's stream, say, cannot subscribe). */
function subscriber(client: ClientState): Subscriber {
  const s = client as ClientState & Partial<Subscriber>;
  if (typeof s.send !== 'function') throw new Error('this client cannot receive published messages');
  return s as ClientState & Subscriber;
}
