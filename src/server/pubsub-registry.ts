/**
 * The node's pub/sub registry (Redis 7.0's server.pubsub_channels and
 * server.pubsub_patterns, pubsub.c) and the coordinator's hub that keeps
 * every thread's copy current.
 *
 * Every worker keeps a copy of the registry: how many connections of each
 * worker hold each channel and pattern. A worker changes its own counts at
 * once and tells the hub, which applies the change, passes it to every
 * other worker and confirms it once they all have applied it: a SUBSCRIBE
 * is answered once every thread counts it, so a message published after
 * the answer, on any thread, finds it. Counts are sums, so the order in which workers apply
 * changes does not matter.
 *
 * PUBLISH is answered on the worker, from its copy (the receivers on this
 * node), and the message goes into the node's ring (pubsub-ring.ts), whose
 * order every subscriber sees. The hub appends the messages other nodes
 * publish (the cluster bus) to the same ring.
 */
import { globMatch } from '../commands/glob.js';
import type { PubsubRing } from './pubsub-ring.js';
import { SubscriptionKind } from '../commands/client-state.js';

/** Channel or pattern name (latin1, one char per byte) → subscribed connections per worker. */
type Subscribers = Map<string, Int32Array>;

/**
 * Channel bytes → their latin1 name, remembering the last one: a stream of
 * publishes to one channel looks its name up without making a string each.
 */
export class ChannelNames {
  private last: Uint8Array = new Uint8Array(0);
  private lastName = '';

  of(channel: Uint8Array, start = 0, length = channel.length): string {
    const last = this.last;
    if (last.length === length) {
      let same = true;
      for (let i = 0; i < length && same; i++) same = last[i] === channel[start + i];
      if (same) return this.lastName;
    }
    // A copy (Buffer's slice would be a view of bytes that change).
    this.last = Uint8Array.prototype.slice.call(channel, start, start + length);
    this.lastName = Buffer.from(this.last.buffer, this.last.byteOffset, length).toString('latin1');
    return this.lastName;
  }
}

export class PubsubRegistry {
  private readonly channels: Subscribers = new Map();
  private readonly patterns: Subscribers = new Map();
  /** Shard channels (SSUBSCRIBE): their own namespace, never matched by patterns. */
  private readonly shards: Subscribers = new Map();
  private readonly names = new ChannelNames();

  private mapOf(kind: SubscriptionKind): Subscribers {
    return kind === SubscriptionKind.Channel ? this.channels : kind === SubscriptionKind.Pattern ? this.patterns : this.shards;
  }

  constructor(private readonly workers: number) {}

  /** `worker`'s connections holding each name changed by `delta`. */
  apply(worker: number, kind: SubscriptionKind, names: string[], delta: number): void {
    const map = this.mapOf(kind);
    for (const name of names) {
      let perWorker = map.get(name);
      if (perWorker === undefined) {
        if (delta < 0) continue;
        perWorker = new Int32Array(this.workers);
        map.set(name, perWorker);
      }
      perWorker[worker] += delta;
      if (total(perWorker) <= 0) map.delete(name);
    }
  }

  /** pubsubPublishMessage's count: the connections on the node a message on `channel` (a shard channel) reaches. */
  receiverCount(channel: Uint8Array, shard: boolean): number {
    if (shard) return this.shards.size === 0 ? 0 : total(this.shards.get(this.names.of(channel)));
    let n = 0;
    if (this.channels.size > 0) n += total(this.channels.get(this.names.of(channel)));
    if (this.patterns.size === 0) return n;
    for (const [pattern, perWorker] of this.patterns) {
      const p = Buffer.from(pattern, 'latin1');
      if (globMatch(p, 0, p.length, channel, 0, channel.length)) n += total(perWorker);
    }
    return n;
  }

  /** PUBSUB CHANNELS / SHARDCHANNELS [pattern]: the channels with a subscriber (matching the pattern). */
  channelNames(pattern: string | null, shard: boolean): string[] {
    const names = [...(shard ? this.shards : this.channels).keys()];
    if (pattern === null) return names;
    const p = Buffer.from(pattern, 'latin1');
    return names.filter((n) => {
      const b = Buffer.from(n, 'latin1');
      return globMatch(p, 0, p.length, b, 0, b.length);
    });
  }

  /** PUBSUB NUMSUB / SHARDNUMSUB: [channel, subscribers] pairs. */
  numsub(channels: string[], shard: boolean): (string | number)[] {
    const map = shard ? this.shards : this.channels;
    return channels.flatMap((ch) => [ch, total(map.get(ch))]);
  }

  /** PUBSUB NUMPAT: distinct patterns with a subscriber. */
  numpat(): number {
    return this.patterns.size;
  }
}

export function total(perWorker: Int32Array | undefined): number {
  if (perWorker === undefined) return 0;
  let n = 0;
  for (let i = 0; i < perWorker.length; i++) n += perWorker[i];
  return n;
}

/** What the hub sends a worker. */
export type HubMessage =
  /** Another worker's counts changed; `ack` > 0 asks for a 'pubsub-delta-ack' once applied. */
  | { type: 'pubsub-delta'; worker: number; kind: SubscriptionKind; names: string[]; delta: number; ack: number }
  /** A message too large for the ring: its bytes, for the ring entry with this id. */
  | { type: 'pubsub-blob'; id: number; message: Uint8Array }
  | { type: 'rpc-result'; rid: number; parts: unknown[] };

/** How long the hub waits before trying a full ring again (ms). */
const RING_FULL_RETRY_MS = 1;

/**
 * The coordinator's side: the authoritative registry, the confirmation of
 * subscriptions once every worker knows them, and the messages of other
 * nodes, appended to the ring in the order they came (waiting while it is
 * full).
 */
export class PubsubHub {
  private readonly registry: PubsubRegistry;
  private readonly waiting: { channel: Uint8Array; message: Uint8Array; shard: boolean }[] = [];
  /** Subscription changes waiting for the other workers' acknowledgements. */
  private readonly acks = new Map<number, { left: number; worker: number; rid: number }>();
  private nextAck = 1;

  constructor(private readonly workers: number, private readonly ring: PubsubRing,
    private readonly send: (worker: number, message: HubMessage) => void) {
    this.registry = new PubsubRegistry(workers);
  }

  /**
   * A worker's subscriptions changed: every other worker applies it and says
   * so, and only then does `worker` get the confirmation. A PUBLISH decides
   * from its own thread's counts whether anyone receives it, so a SUBSCRIBE
   * answered before every thread counts it could miss the next message.
   */
  subscribe(worker: number, rid: number, kind: SubscriptionKind, names: string[], delta: number): void {
    this.registry.apply(worker, kind, names, delta);
    if (this.workers === 1) {
      this.send(worker, { type: 'rpc-result', rid, parts: [0] });
      return;
    }
    const ack = this.nextAck++;
    this.acks.set(ack, { left: this.workers - 1, worker, rid });
    for (let w = 0; w < this.workers; w++) if (w !== worker) this.send(w, { type: 'pubsub-delta', worker, kind, names, delta, ack });
  }

  /** A worker applied the change `ack`: once all have, its subscriber's thread gets the confirmation. */
  applied(ack: number): void {
    const pending = this.acks.get(ack);
    if (pending === undefined || --pending.left > 0) return;
    this.acks.delete(ack);
    this.send(pending.worker, { type: 'rpc-result', rid: pending.rid, parts: [0] });
  }

  /** A message too large for the ring: every worker but its publisher (`from`, -1 for none) gets its bytes. */
  carryApart(id: number, message: Uint8Array, from: number): void {
    for (let w = 0; w < this.workers; w++) if (w !== from) this.send(w, { type: 'pubsub-blob', id, message });
  }

  /** A message another node published (clusterPropagatePublish, or ...Shard): this node's subscribers get it. */
  publish(channel: Uint8Array, message: Uint8Array, shard: boolean): void {
    if (this.registry.receiverCount(channel, shard) === 0) return;
    this.waiting.push({ channel, message, shard });
    if (this.waiting.length === 1) this.appendWaiting();
  }

  private appendWaiting(): void {
    while (this.waiting.length > 0) {
      const { channel, message, shard } = this.waiting[0];
      let appended: boolean;
      if (this.ring.oversized(channel.length, message.length)) {
        const id = this.ring.blobId();
        appended = this.ring.append(channel, message, shard, id);
        if (appended) this.carryApart(id, message, -1);
      } else {
        appended = this.ring.append(channel, message, shard);
      }
      if (!appended) {
        setTimeout(() => this.appendWaiting(), RING_FULL_RETRY_MS);
        return;
      }
      this.waiting.shift();
    }
  }
}
