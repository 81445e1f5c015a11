/**
 * The node's pub/sub registry (Redis 7.0's server.pubsub_channels and
 * server.pubsub_patterns, pubsub.c) and the coordinator's hub that orders
 * and delivers published messages.
 *
 * Every worker keeps a copy of the registry: how many connections of each
 * worker hold each channel and pattern. A worker changes its own counts at
 * once and tells the hub, which applies the change, passes it to every
 * other worker and only then confirms it: a SUBSCRIBE is answered once
 * every thread counts it, so a message published after the answer, on any
 * thread, finds it. Counts are sums, so the order in which workers apply
 * changes does not matter.
 *
 * PUBLISH is answered on the worker, from its copy (the receivers on this
 * node), and the message goes to the hub, which sends it to the workers
 * with receivers. The hub handles one message at a time and batches what
 * it sends per worker per turn of its event loop: every subscriber, on
 * every thread, sees the node's messages in the hub's one order, as Redis's
 * single thread gives.
 */
import { globMatch } from '../commands/glob.js';

/** Channel or pattern name (latin1, one char per byte) → subscribed connections per worker. */
type Subscribers = Map<string, Int32Array>;

/** A published message. */
export interface Published {
  channel: Uint8Array;
  message: Uint8Array;
}

export class PubsubRegistry {
  private readonly channels: Subscribers = new Map();
  private readonly patterns: Subscribers = new Map();

  constructor(private readonly workers: number) {}

  /** `worker`'s connections holding each name changed by `delta`. */
  apply(worker: number, pattern: boolean, names: string[], delta: number): void {
    const map = pattern ? this.patterns : this.channels;
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

  /** pubsubPublishMessage's count: per worker, the connections a message on `channel` reaches (channel, then each matching pattern). */
  receivers(channel: Uint8Array): Int32Array {
    const reached = new Int32Array(this.workers);
    const direct = this.channels.get(Buffer.from(channel).toString('latin1'));
    if (direct !== undefined) for (let w = 0; w < this.workers; w++) reached[w] += direct[w];
    for (const [pattern, perWorker] of this.patterns) {
      const p = Buffer.from(pattern, 'latin1');
      if (!globMatch(p, 0, p.length, channel, 0, channel.length)) continue;
      for (let w = 0; w < this.workers; w++) reached[w] += perWorker[w];
    }
    return reached;
  }

  /** PUBSUB CHANNELS [pattern]: the channels with a subscriber (matching the pattern). */
  channelNames(pattern: string | null): string[] {
    const names = [...this.channels.keys()];
    if (pattern === null) return names;
    const p = Buffer.from(pattern, 'latin1');
    return names.filter((n) => {
      const b = Buffer.from(n, 'latin1');
      return globMatch(p, 0, p.length, b, 0, b.length);
    });
  }

  /** PUBSUB NUMSUB: [channel, subscribers] pairs. */
  numsub(channels: string[]): (string | number)[] {
    return channels.flatMap((ch) => [ch, total(this.channels.get(ch))]);
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
  | { type: 'pubsub-delta'; worker: number; pattern: boolean; names: string[]; delta: number }
  | { type: 'pubsub-messages'; messages: Published[] }
  | { type: 'rpc-result'; rid: number; parts: unknown[] };

/**
 * The coordinator's side: the authoritative registry, the order of every
 * publish, and the per-turn batches to the workers. Each turn sends the
 * confirmed subscriptions, then the messages, then the counts a publisher
 * waits for (only one subscribed to what it publishes waits: it must get
 * the message before the count).
 */
export class PubsubHub {
  private readonly registry: PubsubRegistry;
  private readonly batches: Published[][];
  /** Confirmed subscriptions, sent before the turn's messages (a subscriber hears of its subscription first). */
  private readonly confirmations: { worker: number; message: HubMessage }[] = [];
  /** Publish counts, sent after them (a publisher subscribed to its own channel gets the message first). */
  private readonly counts: { worker: number; message: HubMessage }[] = [];
  private scheduled = false;

  constructor(private readonly workers: number, private readonly send: (worker: number, message: HubMessage) => void) {
    this.registry = new PubsubRegistry(workers);
    this.batches = Array.from({ length: workers }, () => []);
  }

  /** A worker's subscriptions changed: every other worker learns it, then `worker` gets the confirmation. */
  subscribe(worker: number, rid: number, pattern: boolean, names: string[], delta: number): void {
    this.registry.apply(worker, pattern, names, delta);
    for (let w = 0; w < this.workers; w++) if (w !== worker) this.send(w, { type: 'pubsub-delta', worker, pattern, names, delta });
    this.confirmations.push({ worker, message: { type: 'rpc-result', rid, parts: [0] } });
    this.schedule();
  }

  /** A message published on this node (by a worker, or over the cluster bus); rid > 0 asks for the count back. */
  publish(worker: number, rid: number, published: Published): void {
    const reached = this.registry.receivers(published.channel);
    for (let w = 0; w < this.workers; w++) if (reached[w] > 0) this.batches[w].push(published);
    if (rid > 0) this.counts.push({ worker, message: { type: 'rpc-result', rid, parts: [total(reached)] } });
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    for (const r of this.confirmations.splice(0)) this.send(r.worker, r.message);
    for (let w = 0; w < this.workers; w++) {
      if (this.batches[w].length === 0) continue;
      this.send(w, { type: 'pubsub-messages', messages: this.batches[w] });
      this.batches[w] = [];
    }
    for (const r of this.counts.splice(0)) this.send(r.worker, r.message);
  }
}
