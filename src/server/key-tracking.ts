/**
 * Client-side caching on one worker thread (Redis 7.0's tracking.c): the
 * keys this thread's tracking clients read, the BCAST prefixes they follow,
 * and the invalidation messages they get when those keys change anywhere on
 * the node.
 *
 * Invariant: every change to a key that a tracking client read since its
 * last invalidation reaches that client as an invalidation, sent after the
 * reply of the command that made it; extra invalidations may happen, a
 * missing one never. Writes are seen two ways:
 * - on this thread, at once, under the writer's shard locks (Redis's
 *   trackingInvalidateKey from signalModifiedKey): the ordering inside a
 *   transaction, or between a client's own reads and writes, is Redis's;
 * - from other threads, through the node's invalidation ring (a second
 *   PubsubRing: each entry the keys one command changed, its writer's thread
 *   and client id), read
 *   by every thread that has tracking clients. A writer appends only while
 *   another thread reads it, and skips all of this while no client on the
 *   node tracks (a shared count read without a lock: a client counts itself
 *   before its first tracked read, and a write to that key synchronises with
 *   the read through the shard lock).
 *
 * Redis behaviours kept: the table is one per node and ignores databases (a
 * key is its name); a key invalidated is forgotten until read again; the
 * client whose command caused an invalidation gets it after the reply
 * (tracking_pending_keys); NOLOOP skips a client's own changes; BCAST
 * clients get, once per event-loop turn, one message per prefix with the
 * changed keys in lexicographic order; FLUSHALL / FLUSHDB send every tracking
 * client a null invalidation and empty the table; a RESP2 client is told
 * only through a redirect client subscribed to something (`message
 * __redis__:invalidate`), a RESP3 one through a push; a redirect client gone
 * marks the tracker broken (flag R) and pushes tracking-redir-broken;
 * tracking-table-max-keys evicts keys (with their invalidations) past the
 * limit.
 */
import type { ClientState, ClientTracking, TrackingOptions, TrackingService } from '../commands/client-state.js';
import type { CommandContext } from '../commands/context.js';
import type { CommandSpec } from '../commands/command-spec.js';
import { findKeys } from '../commands/introspection.js';
import type { PubsubRing, RingEntry } from './pubsub-ring.js';
import { TRACKING_CLIENTS_WORD, TRACKING_ITEMS_WORD, TRACKING_KEYS_WORD, TRACKING_PREFIXES_WORD } from './shared-flags.js';

/** A connection that can be sent invalidations. */
export interface TrackingTarget extends ClientState {
  send(bytes: Uint8Array): void;
}

/** Where a redirected invalidation goes when its redirect client lives on another thread (relayed by the coordinator). */
export interface RemoteDelivery {
  deliver(thread: number, targetId: number, trackerId: number, trackerThread: number, value: Uint8Array): void;
  broken(thread: number, trackerId: number): void;
}

/** Ring entry kinds (first byte of an entry's header). Keys changed by one command travel as one entry: u32 length · bytes, each. */
const KEYS_CHANGED = 1;
/** A key longer than TRUNCATED_KEY_BYTES: only its first bytes travel; readers invalidate every key they could be. */
const KEY_TRUNCATED = 2;
const FLUSHED = 3;
/** Header: kind u8 · origin thread u8 · pad · full key length u32 (KEY_TRUNCATED) · origin client id f64. */
const HEADER_BYTES = 16;
const TRUNCATED_KEY_BYTES = 1 << 20;
const ONLY_KEY = [0];
/** Invalidation ring size: a power of two; entries up to a quarter of it. */
export const TRACKING_RING_BYTES = 8 << 20;
/** How long a writer waits before appending to a full ring again (ms). */
const RING_FULL_RETRY_MS = 1;
/** Keys evicted per turn when the table is over tracking-table-max-keys (Redis bounds its effort too). */
const EVICTIONS_PER_TURN = 1000;

const INVALIDATE_PUSH = Buffer.from('>2\r\n$10\r\ninvalidate\r\n');
const INVALIDATE_MESSAGE = Buffer.from('*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n');
const NULL_VALUE = [Buffer.from('$-1\r\n'), Buffer.from('_\r\n')];

/** The "value" part of an invalidation: an array of the keys. */
function keysValue(keys: string[]): Buffer {
  let head = `*${keys.length}\r\n`;
  for (const k of keys) head += `$${Buffer.byteLength(k, 'latin1')}\r\n${k}\r\n`;
  return Buffer.from(head, 'latin1');
}

function overlaps(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  return a.slice(0, n) === b.slice(0, n);
}

/** checkPrefixCollisionsOrReply: the error for prefixes overlapping each other or the client's, or null. */
export function prefixCollision(held: string[], given: string[]): string | null {
  for (let i = 0; i < given.length; i++) {
    for (const p of held) {
      if (overlaps(p, given[i])) return `Prefix '${given[i]}' overlaps with an existing prefix '${p}'. Prefixes for a single client must not overlap.`;
    }
    for (let j = i + 1; j < given.length; j++) {
      if (overlaps(given[i], given[j])) {
        return `Prefix '${given[i]}' overlaps with another provided prefix '${given[j]}'. Prefixes for a single client must not overlap.`;
      }
    }
  }
  return null;
}

export class KeyTracking implements TrackingService {
  /** This thread's tracking clients, by id. */
  private readonly clients = new Map<number, TrackingTarget>();
  /** Key (latin1) → ids of this thread's clients that read it. */
  private readonly table = new Map<string, Set<number>>();
  /** BCAST prefix (latin1) → ids of this thread's clients following it. */
  private readonly prefixes = new Map<string, Set<number>>();
  /** Per prefix, the keys changed this turn and the client that last changed each (0: none, an expiry). */
  private readonly bcastKeys = new Map<string, Map<string, number>>();
  private bcastScheduled = false;
  /**
   * Invalidations due to a client's own command, sent behind its reply (a
   * command that waits on other threads lets others run before it answers).
   */
  private readonly pendingSelf = new Map<ClientState, Buffer[]>();
  /** Ring entries a full ring refused, appended in order once it has room. */
  private readonly backlog: Buffer[][] = [];
  private items = 0;
  private reading = false;
  private looping = false;
  private evictionScheduled = false;
  private readonly header = new Uint8Array(HEADER_BYTES);
  /** Where one command's keys are laid out for the ring. */
  private scratch = Buffer.allocUnsafe(4096);
  /** A single key as toRing takes keys (at position 0). */
  private readonly singleStart = [0];
  private readonly singleLength = [0];
  private readonly headerView = new DataView(this.header.buffer);
  private readonly ringView: DataView;
  private readonly readEntry = (e: RingEntry) => this.fromRing(e);
  /** tracking-table-max-keys (0: no limit). */
  maxKeys = 1_000_000;

  constructor(private readonly ring: PubsubRing, private readonly self: number, private readonly words: Int32Array,
    private readonly connection: (id: number) => TrackingTarget | undefined, private readonly remote: RemoteDelivery,
    private readonly locateClient: (id: number) => Promise<number>) {
    this.ringView = new DataView(ring.sab);
  }

  get active(): boolean {
    return this.words[TRACKING_CLIENTS_WORD] !== 0;
  }

  locate(id: number): Promise<number> {
    return this.locateClient(id);
  }

  counts(): { clients: number; keys: number; items: number; prefixes: number } {
    const w = this.words;
    return { clients: Atomics.load(w, TRACKING_CLIENTS_WORD), keys: Atomics.load(w, TRACKING_KEYS_WORD),
      items: Atomics.load(w, TRACKING_ITEMS_WORD), prefixes: Atomics.load(w, TRACKING_PREFIXES_WORD) };
  }

  // ---- clients ----

  /** enableTracking: options validated by the command; prefixes add to those held. */
  enable(client: ClientState, o: TrackingOptions): void {
    let t = client.tracking ?? null;
    if (t === null) {
      if (this.clients.size === 0) this.startReading();
      this.clients.set(client.id, client as TrackingTarget);
      Atomics.add(this.words, TRACKING_CLIENTS_WORD, 1);
      t = client.tracking = { bcast: false, optin: false, optout: false, noloop: false, caching: false, brokenRedirect: false,
        redirect: 0, redirectThread: -1, prefixes: [] };
    }
    t.bcast = o.bcast;
    t.optin = o.optin;
    t.optout = o.optout;
    t.noloop = o.noloop;
    t.brokenRedirect = false;
    t.redirect = o.redirect;
    t.redirectThread = o.redirectThread;
    if (o.bcast) {
      // BCAST without PREFIX follows every key: the empty prefix.
      for (const p of o.prefixes.length === 0 ? [''] : o.prefixes) {
        if (t.prefixes.includes(p)) continue;
        t.prefixes.push(p);
        let ids = this.prefixes.get(p);
        if (ids === undefined) {
          this.prefixes.set(p, (ids = new Set()));
          Atomics.add(this.words, TRACKING_PREFIXES_WORD, 1);
        }
        ids.add(client.id);
      }
    }
  }

  /** disableTracking (CLIENT TRACKING OFF, RESET, a closed connection): the keys it read stay until they change. */
  disable(client: ClientState): void {
    const t = client.tracking ?? null;
    if (t === null) return;
    for (const p of t.prefixes) {
      const ids = this.prefixes.get(p);
      if (ids === undefined) continue;
      ids.delete(client.id);
      if (ids.size === 0) {
        this.prefixes.delete(p);
        this.bcastKeys.delete(p);
        Atomics.sub(this.words, TRACKING_PREFIXES_WORD, 1);
      }
    }
    client.tracking = null;
    this.clients.delete(client.id);
    this.pendingSelf.delete(client);
    Atomics.sub(this.words, TRACKING_CLIENTS_WORD, 1);
    if (this.clients.size === 0) this.stopReading();
  }

  // ---- reads ----

  remember(c: CommandContext, spec: CommandSpec): void {
    const client = c.client;
    const t = client.tracking!;
    // OPTIN tracks only after CACHING yes, OPTOUT all but after CACHING no.
    if ((t.optin && !t.caching) || (t.optout && t.caching)) return;
    // Shard channels are keys to COMMAND, not data a client caches.
    if (spec.isPubsub) return;
    const keys = findKeys(spec, c);
    if (keys === null) return;
    let added = 0;
    for (const k of keys) {
      const name = latin1(c.buf, c.argStart[k.pos], c.argLen[k.pos]);
      let ids = this.table.get(name);
      if (ids === undefined) {
        this.table.set(name, (ids = new Set()));
        added++;
      }
      if (!ids.has(client.id)) {
        ids.add(client.id);
        this.items++;
        Atomics.add(this.words, TRACKING_ITEMS_WORD, 1);
      }
    }
    if (added === 0) return;
    const total = Atomics.add(this.words, TRACKING_KEYS_WORD, added) + added;
    if (this.maxKeys > 0 && total > this.maxKeys) this.scheduleEviction();
  }

  /** serverCron's trackingLimitUsedSlots: a limit lowered by CONFIG SET is enforced without waiting for reads. */
  cron(): void {
    if (this.maxKeys > 0 && this.table.size > 0 && Atomics.load(this.words, TRACKING_KEYS_WORD) > this.maxKeys) this.scheduleEviction();
  }

  private scheduleEviction(): void {
    if (this.evictionScheduled) return;
    this.evictionScheduled = true;
    setImmediate(this.evictOverLimit);
  }

  /** trackingLimitUsedSlots: keys over tracking-table-max-keys are invalidated, oldest first. */
  private readonly evictOverLimit = () => {
    this.evictionScheduled = false;
    let budget = EVICTIONS_PER_TURN;
    for (const name of this.table.keys()) {
      if (this.maxKeys === 0 || Atomics.load(this.words, TRACKING_KEYS_WORD) <= this.maxKeys) return;
      if (budget-- === 0) break;
      this.invalidateName(name, 0, null);
    }
    if (budget < 0) this.scheduleEviction();
  };

  // ---- writes ----

  invalidate(c: CommandContext, key: Uint8Array, start: number, length: number): void {
    this.oneChanged(key, start, length, c.client.id, c.client);
  }

  invalidateArguments(c: CommandContext, positions: ArrayLike<number>): void {
    if (positions.length === 0) return;
    if (this.clients.size > 0) {
      for (let k = 0; k < positions.length; k++) {
        this.invalidateName(latin1(c.buf, c.argStart[positions[k]], c.argLen[positions[k]]), c.client.id, c.client);
      }
    }
    if (this.ring.othersInterested()) this.toRing(c.buf, c.argStart, c.argLen, positions, c.client.id);
  }

  /** An entry expired or evicted (no client caused it): the same as a change. */
  invalidateRemoved(key: Uint8Array, start: number, length: number): void {
    this.oneChanged(key, start, length, 0, null);
  }

  private oneChanged(key: Uint8Array, start: number, length: number, origin: number, running: ClientState | null): void {
    if (this.clients.size > 0) this.invalidateName(latin1(key, start, length), origin, running);
    if (!this.ring.othersInterested()) return;
    this.singleStart[0] = start;
    this.singleLength[0] = length;
    this.toRing(key, this.singleStart, this.singleLength, ONLY_KEY, origin);
  }

  /**
   * One ring entry for the keys of one command: key k is
   * buf[starts[positions[k]], + lengths[positions[k]]). A key too long to
   * travel whole gets an entry of its own, cut.
   */
  private toRing(buf: Uint8Array, starts: ArrayLike<number>, lengths: ArrayLike<number>, positions: ArrayLike<number>, origin: number): void {
    let total = 0;
    for (let k = 0; k < positions.length; k++) {
      const start = starts[positions[k]];
      const length = lengths[positions[k]];
      if (length > TRUNCATED_KEY_BYTES) this.append(KEY_TRUNCATED, buf.subarray(start, start + TRUNCATED_KEY_BYTES), length, origin);
      else total += 4 + length;
    }
    if (total === 0) return;
    if (this.scratch.length < total) this.scratch = Buffer.allocUnsafe(Math.max(total, this.scratch.length * 2));
    const out = this.scratch;
    let at = 0;
    for (let k = 0; k < positions.length; k++) {
      const start = starts[positions[k]];
      const length = lengths[positions[k]];
      if (length > TRUNCATED_KEY_BYTES) continue;
      out.writeUInt32LE(length, at);
      out.set(buf.subarray(start, start + length), at + 4);
      at += 4 + length;
    }
    this.append(KEYS_CHANGED, out.subarray(0, total), 0, origin);
  }

  flushed(c: CommandContext | null): void {
    if (this.clients.size > 0) this.flushLocal(c?.client ?? null);
    if (this.ring.othersInterested()) this.append(FLUSHED, new Uint8Array(0), 0, c?.client.id ?? 0);
  }

  afterCommand(c: CommandContext): void {
    if (this.pendingSelf.size === 0) return;
    const values = this.pendingSelf.get(c.client);
    if (values === undefined) return;
    this.pendingSelf.delete(c.client);
    const t = c.client.tracking ?? null;
    // Still tracking (the command may have been CLIENT TRACKING OFF or RESET): only tracking clients are told.
    if (t !== null) for (const v of values) this.deliver(c.client as TrackingTarget, t, v, (b) => c.out.raw(b));
  }

  private postpone(client: ClientState, value: Buffer): void {
    const values = this.pendingSelf.get(client);
    if (values === undefined) this.pendingSelf.set(client, [value]);
    else values.push(value);
  }

  /** trackingInvalidateKey for one key name: its readers on this thread, and the BCAST prefixes it falls under. */
  private invalidateName(name: string, origin: number, running: ClientState | null): void {
    const ids = this.table.get(name);
    if (ids !== undefined) {
      this.table.delete(name);
      this.forget(ids.size);
      let value: Buffer | null = null;
      for (const id of ids) {
        const target = this.clients.get(id);
        const t = target?.tracking ?? null;
        if (t === null || t.bcast || (t.noloop && id === origin)) continue;
        value ??= keysValue([name]);
        if (target === running) this.postpone(target, value);
        else this.deliver(target!, t, value, null);
      }
    }
    if (this.prefixes.size > 0) this.matchPrefixes(name, origin, null);
  }

  private forget(items: number): void {
    this.items -= items;
    Atomics.sub(this.words, TRACKING_ITEMS_WORD, items);
    Atomics.sub(this.words, TRACKING_KEYS_WORD, 1);
  }

  /** trackingRememberKeyToBroadcast; `truncated` names a key whose tail was cut (every prefix it could fall under). */
  private matchPrefixes(name: string, origin: number, truncated: number | null): void {
    for (const prefix of this.prefixes.keys()) {
      const matches = truncated === null || prefix.length <= name.length ? name.startsWith(prefix) : prefix.startsWith(name);
      if (!matches) continue;
      let keys = this.bcastKeys.get(prefix);
      if (keys === undefined) this.bcastKeys.set(prefix, (keys = new Map()));
      // A key too long to travel whole is broadcast as the prefix itself: its clients drop what falls under it.
      keys.set(truncated === null ? name : prefix, origin);
    }
    if (!this.bcastScheduled) {
      this.bcastScheduled = true;
      setImmediate(this.broadcast);
    }
  }

  /** trackingBroadcastInvalidationMessages, once per turn: one message per prefix and client, keys sorted. */
  private readonly broadcast = () => {
    this.bcastScheduled = false;
    // Latin1 strings sort by code unit, which is byte order: Redis's radix tree order.
    const prefixes = [...this.bcastKeys.keys()].sort();
    for (const prefix of prefixes) {
      const changed = this.bcastKeys.get(prefix)!;
      const ids = this.prefixes.get(prefix);
      if (ids === undefined) continue;
      const names = [...changed.keys()].sort();
      let all: Buffer | null = null;
      for (const id of ids) {
        const target = this.clients.get(id);
        const t = target?.tracking ?? null;
        if (t === null || !t.bcast) continue;
        if (t.noloop) {
          const others = names.filter((n) => changed.get(n) !== id);
          if (others.length > 0) this.deliver(target!, t, keysValue(others), null);
        } else {
          this.deliver(target!, t, (all ??= keysValue(names)), null);
        }
      }
    }
    this.bcastKeys.clear();
  };

  /** trackingInvalidateKeysOnFlush: a null to every tracking client (its own protocol's), and the table emptied. */
  private flushLocal(running: ClientState | null): void {
    for (const [, target] of this.clients) {
      const t = target.tracking!;
      const value = NULL_VALUE[target.resp === 3 ? 1 : 0];
      if (target === running) this.postpone(target, value);
      else this.deliver(target, t, value, null);
    }
    this.clearTable();
  }

  /** Forgets every tracked key of this thread, and takes them out of the node's counts. */
  private clearTable(): void {
    if (this.table.size === 0) return;
    Atomics.sub(this.words, TRACKING_KEYS_WORD, this.table.size);
    Atomics.sub(this.words, TRACKING_ITEMS_WORD, this.items);
    this.items = 0;
    this.table.clear();
  }

  /**
   * sendTrackingMessage: to the tracker itself, or to its redirect client
   * (here, or on the thread serving it). `write` puts bytes behind the
   * running command's reply; null sends them at once.
   */
  private deliver(tracker: TrackingTarget, t: ClientTracking, value: Buffer, write: ((b: Uint8Array) => void) | null): void {
    const send = write ?? ((b: Uint8Array) => tracker.send(b));
    if (t.redirect === 0) {
      if (tracker.resp === 3) send(Buffer.concat([INVALIDATE_PUSH, value]));
      return;
    }
    if (t.redirectThread !== this.self) {
      this.remote.deliver(t.redirectThread, t.redirect, tracker.id, this.self, value);
      return;
    }
    const target = this.connection(t.redirect);
    if (target === undefined) this.redirectBroken(tracker, send);
    else sendRedirected(target, value);
  }

  /** Another thread's tracker redirects here: its invalidation for one of this thread's connections. */
  delivered(targetId: number, trackerId: number, trackerThread: number, value: Uint8Array): void {
    const target = this.connection(targetId);
    if (target === undefined) this.remote.broken(trackerThread, trackerId);
    else sendRedirected(target, value);
  }

  /** The redirect client of one of this thread's trackers was gone. */
  brokenRedirect(trackerId: number): void {
    const tracker = this.clients.get(trackerId);
    if (tracker !== undefined) this.redirectBroken(tracker, (b) => tracker.send(b));
  }

  private redirectBroken(tracker: TrackingTarget, send: (b: Uint8Array) => void): void {
    const t = tracker.tracking!;
    t.brokenRedirect = true;
    if (tracker.resp === 3) {
      send(Buffer.from(`>2\r\n$21\r\ntracking-redir-broken\r\n:${t.redirect}\r\n`, 'latin1'));
    }
  }

  // ---- the ring ----

  private append(kind: number, key: Uint8Array, fullLength: number, origin: number): void {
    const h = this.header;
    h[0] = kind;
    h[1] = this.self;
    this.headerView.setUint32(4, fullLength, true);
    this.headerView.setFloat64(8, origin, true);
    if (this.backlog.length === 0 && this.ring.append(key, h, false)) return;
    // Full: kept in order and appended once readers move on (an invalidation is late, never lost).
    this.backlog.push([Buffer.from(key), Buffer.from(h)]);
    if (this.backlog.length === 1) setTimeout(this.retryBacklog, RING_FULL_RETRY_MS);
  }

  private readonly retryBacklog = () => {
    while (this.backlog.length > 0) {
      const [key, h] = this.backlog[0];
      if (!this.ring.append(key, h, false)) {
        setTimeout(this.retryBacklog, RING_FULL_RETRY_MS);
        return;
      }
      this.backlog.shift();
    }
  };

  private fromRing(e: RingEntry): void {
    const at = e.messageStart;
    const kind = e.message[at];
    if (e.message[at + 1] === this.self) return;
    const origin = this.ringView.getFloat64(at + 8, true);
    if (kind === FLUSHED) {
      this.flushLocal(null);
      return;
    }
    if (kind === KEYS_CHANGED) {
      const end = e.channelStart + e.channelLength;
      for (let at = e.channelStart; at < end;) {
        const length = this.ringView.getUint32(at, true);
        this.invalidateName(latin1(e.bytes, at + 4, length), origin, null);
        at += 4 + length;
      }
      return;
    }
    const name = latin1(e.bytes, e.channelStart, e.channelLength);
    // A cut key: every tracked key it may be (same length, same first bytes), and the prefixes it may fall under.
    const fullLength = this.ringView.getUint32(at + 4, true);
    const prefixes = this.prefixes.size;
    for (const candidate of [...this.table.keys()]) {
      if (candidate.length === fullLength && candidate.startsWith(name)) this.invalidateName(candidate, origin, null);
    }
    if (prefixes > 0) this.matchPrefixes(name, origin, fullLength);
  }

  private startReading(): void {
    this.reading = true;
    this.ring.setInterested(true);
    if (!this.looping) void this.readLoop();
  }

  /** The last tracking client here is gone: what the table held can never be sent. */
  private stopReading(): void {
    this.reading = false;
    this.ring.setInterested(false);
    this.clearTable();
    this.bcastKeys.clear();
  }

  private async readLoop(): Promise<void> {
    this.looping = true;
    try {
      while (this.reading) {
        this.ring.read(this.readEntry);
        const woken = this.ring.wait();
        if (woken !== undefined) await woken;
      }
    } finally {
      this.looping = false;
    }
  }
}

/** To a redirect client: a push in RESP3, a `__redis__:invalidate` message to a RESP2 subscriber, nothing otherwise. */
function sendRedirected(target: TrackingTarget, value: Uint8Array): void {
  if (target.resp === 3) target.send(Buffer.concat([INVALIDATE_PUSH, value]));
  else if ((target.pubsubCount ?? 0) > 0) target.send(Buffer.concat([INVALIDATE_MESSAGE, value]));
}

function latin1(bytes: Uint8Array, start: number, length: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString('latin1');
}


