/**
 * The node's pub/sub registry, kept by the coordinator (Redis 7.0's
 * server.pubsub_channels and server.pubsub_patterns, pubsub.c).
 *
 * Workers keep their own connections' subscriptions and tell the registry,
 * per worker, how many of their connections hold each channel or pattern.
 * Every PUBLISH goes through here: the registry counts the receivers on
 * this node (channel subscribers plus, for each matching pattern, its
 * subscribers), and sends the message to the workers that have any, in the
 * order the publishes arrive. One thread orders them all, so every
 * subscriber sees the node's messages in one order, as Redis's single
 * thread gives. A worker waits for the registry's answer before it replies
 * to SUBSCRIBE, so a message published after a subscription was confirmed
 * always finds it.
 */
import { globMatch } from '../commands/glob.js';

/** Channel or pattern name (latin1, one char per byte) → subscribed connections per worker. */
type Subscribers = Map<string, Int32Array>;

/** What the registry is asked by workers. */
export type PubsubRequest =
  | { kind: 'subscribe'; pattern: boolean; names: string[]; delta: 1 | -1 }
  | { kind: 'publish'; channel: Uint8Array; message: Uint8Array }
  | { kind: 'channels'; pattern: string | null }
  | { kind: 'numsub'; channels: string[] }
  | { kind: 'numpat' };

/** A message for one worker's subscribers. */
export interface Delivery {
  worker: number;
  channel: Uint8Array;
  message: Uint8Array;
}

export class PubsubRegistry {
  private readonly channels: Subscribers = new Map();
  private readonly patterns: Subscribers = new Map();

  constructor(private readonly workers: number) {}

  /** Answers a worker's request; a publish also returns the deliveries to make (before the answer goes back). */
  handle(worker: number, request: PubsubRequest): { reply: number | string[] | (string | number)[]; deliveries: Delivery[] } {
    switch (request.kind) {
      case 'subscribe':
        for (const name of request.names) this.count(request.pattern ? this.patterns : this.channels, name, worker, request.delta);
        return { reply: 0, deliveries: [] };
      case 'publish':
        return this.publish(request.channel, request.message);
      case 'channels':
        return { reply: this.channelNames(request.pattern), deliveries: [] };
      case 'numsub':
        return { reply: request.channels.flatMap((ch) => [ch, total(this.channels.get(ch))]), deliveries: [] };
      case 'numpat':
        return { reply: this.patterns.size, deliveries: [] };
    }
  }

  private count(map: Subscribers, name: string, worker: number, delta: number): void {
    let perWorker = map.get(name);
    if (perWorker === undefined) {
      if (delta < 0) return;
      perWorker = new Int32Array(this.workers);
      map.set(name, perWorker);
    }
    perWorker[worker] += delta;
    if (total(perWorker) <= 0) map.delete(name);
  }

  /** pubsubPublishMessage: the receivers on this node, and the workers that have some. */
  private publish(channel: Uint8Array, message: Uint8Array): { reply: number; deliveries: Delivery[] } {
    const key = Buffer.from(channel).toString('latin1');
    const reached = new Int32Array(this.workers);
    const direct = this.channels.get(key);
    if (direct !== undefined) for (let w = 0; w < this.workers; w++) reached[w] += direct[w];
    for (const [pattern, perWorker] of this.patterns) {
      const p = Buffer.from(pattern, 'latin1');
      if (!globMatch(p, 0, p.length, channel, 0, channel.length)) continue;
      for (let w = 0; w < this.workers; w++) reached[w] += perWorker[w];
    }
    const deliveries: Delivery[] = [];
    for (let w = 0; w < this.workers; w++) if (reached[w] > 0) deliveries.push({ worker: w, channel, message });
    return { reply: total(reached), deliveries };
  }

  /** PUBSUB CHANNELS [pattern]: the channels with a subscriber (matching the pattern). */
  private channelNames(pattern: string | null): string[] {
    const names = [...this.channels.keys()];
    if (pattern === null) return names;
    const p = Buffer.from(pattern, 'latin1');
    return names.filter((n) => {
      const b = Buffer.from(n, 'latin1');
      return globMatch(p, 0, p.length, b, 0, b.length);
    });
  }
}

function total(perWorker: Int32Array | undefined): number {
  if (perWorker === undefined) return 0;
  let n = 0;
  for (let i = 0; i < perWorker.length; i++) n += perWorker[i];
  return n;
}
