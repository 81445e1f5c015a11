/**
 * Clients blocked on keys across worker threads (Redis's blocked.c and the
 * serving half of t_list.c / t_zset.c's blocking commands).
 *
 * Invariants (data-types.md §4):
 * - "Every key is missing, so I wait" is decided and registered under the
 *   keys' shard locks (waiter-list.ts), so no push can slip in between.
 * - A write that creates a key waited on serves the waiters before its
 *   locks are released (Redis's handleClientsBlockedOnKeys after call()):
 *   the pop is done for the waiter in the writer's critical section, its
 *   reply bytes then travel to the waiter's thread. No third client can
 *   take the element in between.
 * - Exactly once: each waiter has one claim word (generation · state) in a
 *   SharedArrayBuffer. Serving, timing out, CLIENT UNBLOCK and disconnecting
 *   all claim it first with a compare-and-swap; only the winner acts, and a
 *   writer that loses the race drops the stale record and serves the next.
 * - FIFO per key: records are kept in arrival order and served in it;
 *   waiters of another type are skipped.
 * - Reply order: the waiter's connection is suspended while it waits, so
 *   its later pipelined commands run after the reply.
 */
import type { CommandContext } from './context.js';
import type { ReplyFunction } from './command-spec.js';
import type { Shard } from '../store/shard.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import {
  addWaiter, hasWaiters, nextWaiterFor, readWaiter, removeWaiter, removeWaiterRecords, waiterDestination,
  type WaiterRequest,
} from '../store/waiter-list.js';
import { keyHash, keyHashSlot, slotAndHash } from '../store/key-hash.js';
import { longDoubleToNumber, parseLongDouble } from './numbers.js';
import { signalServed } from './served-signals.js';
import type { SlotTable } from '../cluster/slot-table.js';

/** What a blocked client will do when served. */
export const enum WaiterKind {
  /** BLPOP / BRPOP: one element, replied as [key, element]. */
  Pop = 1,
  /** BLMPOP: up to `count` elements, replied as [key, [elements]]. */
  MultiPop = 2,
  /** BLMOVE / BRPOPLPUSH: one element moved to the destination, replied as the element. */
  Move = 3,
  /** BZPOPMIN / BZPOPMAX: [key, member, score]. */
  ZPop = 4,
  /** BZMPOP: [key, [[member, score]...]]. */
  ZMultiPop = 5,
}

/** Waiter flags: pop from the tail (or the maximum); push to the tail (BLMOVE ... RIGHT). */
export const FROM_RIGHT = 1;
export const TO_RIGHT = 2;

/** Claim slots per worker thread (each blocked client holds one while it waits). */
export const CLAIM_SLOTS_PER_THREAD = 65536;

const TIMEOUT_NOT_FLOAT = 'timeout is not a float or out of range';
const TIMEOUT_NEGATIVE = 'timeout is negative';
const TIMEOUT_OUT_OF_RANGE = 'timeout is out of range';
/** A thread has CLAIM_SLOTS_PER_THREAD claim words; one more blocked client is refused. */
const TOO_MANY_BLOCKED = 'too many blocked clients on this thread';
const UNBLOCKED_ROLE_CHANGED = '-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)';
const CLUSTER_DOWN = '-CLUSTERDOWN The cluster is down';
const SLOT_NOT_SERVED = '-CLUSTERDOWN Hash slot not served';
/** LLONG_MAX milliseconds: the largest timeout Redis accepts. */
const MAX_TIMEOUT_MS = 9223372036854775807;

/**
 * getTimeoutFromObjectOrReply (seconds as a long double, rounded up to
 * whole milliseconds): the timeout in ms (0 = forever), or null after
 * replying Redis's error.
 */
export function parseTimeout(c: CommandContext, i: number): number | null {
  const v = parseLongDouble(c.buf, c.argStart[i], c.argLen[i]);
  if (v === null) {
    c.out.error(TIMEOUT_NOT_FLOAT);
    return null;
  }
  const ms = Math.ceil(longDoubleToNumber(v) * 1000);
  if (ms < 0) {
    c.out.error(TIMEOUT_NEGATIVE);
    return null;
  }
  if (ms > MAX_TIMEOUT_MS - c.now || !Number.isFinite(ms)) {
    c.out.error(TIMEOUT_OUT_OF_RANGE);
    return null;
  }
  return ms;
}

/** A claim word is generation * 2 + 1 while waiting, generation * 2 once claimed. */
const GENERATION_LIMIT = 2 ** 30;

/**
 * How a writer serves one kind of waiter on the key it just created, under
 * the key's lock. Registered by the list and sorted-set families.
 */
export interface WaiterServer {
  /**
   * Whether this key can serve the waiter now: its type (waiters of another
   * type are skipped) and any further lock the serve needs. Decided before
   * the waiter is claimed, so a claimed waiter is always answered.
   */
  accepts(c: CommandContext, shard: Shard, e: number, waiter: WaiterRequest, destination: Buffer | null): boolean;
  /**
   * Serves the claimed waiter, its reply into `out`: the element(s), or an
   * error reply when it cannot take one (BLMOVE to a wrong-type destination:
   * the element stays for the next waiter). Calls setServedEffect with what
   * to propagate when it changed the dataset.
   */
  serve(c: CommandContext, shard: Shard, e: number, key: Buffer, waiter: WaiterRequest, destination: Buffer | null, out: ReplyWriter): void;
}

const servers = new Map<WaiterKind, WaiterServer>();

/** The list and sorted-set families register how each kind of waiter is served. */
export function registerServer(kind: WaiterKind, server: WaiterServer): void {
  servers.set(kind, server);
}

/** A key created by the current command that someone may wait on. */
export interface ReadyKey {
  shard: number;
  db: number;
  key: Buffer;
}

/**
 * Called by a write that created a list or sorted-set key (Redis's
 * signalKeyAsReady from dbAdd), under the key's shard lock; the waiters are
 * served when the command is done (serveReadyKeys).
 */
export function signalKeyAsReady(c: CommandContext, keyArg: number): void {
  const slot = keyHashSlot(c.buf, c.argStart[keyArg], c.argLen[keyArg]);
  const shard = c.ks.shards[slot & c.ks.shardMask];
  if (!hasWaiters(shard)) return;
  c.readyKeys ??= [];
  c.readyKeys.push({ shard: shard.index, db: c.ks.dbMap[c.client.db], key: Buffer.from(c.argBuffer(keyArg)) });
}

/**
 * A ready key whose next waiter needs another shard's lock that a thread
 * held when the writer tried it (BLMOVE's destination: waiting for it under
 * the writer's locks could deadlock). The writer serves it again once its
 * own locks are released, taking `mask` in order, so no wake-up is lost.
 */
export interface DeferredServe {
  key: ReadyKey;
  mask: number;
}

/** Set by a WaiterServer's accepts when it refused only because a lock was busy: that shard's index. */
let busyShard = -1;

/** WaiterServer.accepts: this waiter could be served but for the busy lock of shard `index`. */
export function lockBusy(index: number): void {
  busyShard = index;
}

export interface ServeHooks {
  /** Appends a served pop to the replication stream (Redis propagates one pop per served waiter). */
  propagate(c: CommandContext, args: (string | Uint8Array | number)[]): void;
  /** Hands a served waiter's reply to its thread. */
  deliver(thread: number, slot: number, generation: number, reply: Uint8Array): void;
}

/** The command a serve performed, to propagate (set by the serve function). */
let servedEffect: (string | Uint8Array | number)[] | null = null;

/** Serve functions say what to propagate for the pop they did (Redis propagates the pop, never the blocking command). */
export function setServedEffect(args: (string | Uint8Array | number)[]): void {
  servedEffect = args;
}

const waiter: WaiterRequest = { slot: 0, generation: 0, thread: 0, kind: 0, resp: 2, flags: 0, db: 0, count: 0 };
const serveOut = new ReplyWriter();

/** Serves the waiters of every key the command created, in the order they became ready. Runs under the command's locks. */
export function serveReadyKeys(c: CommandContext, states: Int32Array, hooks: ServeHooks): void {
  const ready = c.readyKeys!;
  for (let i = 0; i < ready.length; i++) serveKey(c, states, hooks, ready[i]);
  c.readyKeys = null;
}

function serveKey(c: CommandContext, states: Int32Array, hooks: ServeHooks, k: ReadyKey): void {
  const shard = c.ks.shards[k.shard];
  const slotIndex = slotAndHash(k.key, 0, k.key.length) >> c.ks.shardBits;
  const hash = keyHash.value;
  let previous = 0;
  for (;;) {
    const r = nextWaiterFor(shard, previous, k.db, k.key, 0, k.key.length);
    if (r === 0) return;
    const e = shard.find(k.db, slotIndex, k.key, 0, k.key.length, hash, c.now);
    if (e === 0) return;
    readWaiter(shard, r, waiter);
    const server = servers.get(waiter.kind as WaiterKind);
    const destination = waiter.kind === WaiterKind.Move ? waiterDestination(shard, r) : null;
    busyShard = -1;
    if (server === undefined || !server.accepts(c, shard, e, waiter, destination)) {
      if (busyShard >= 0) {
        // FIFO: the waiters behind this one wait for it too.
        (c.deferredServes ??= []).push({ key: k, mask: (1 << k.shard) | (1 << busyShard) });
        return;
      }
      previous = r;
      continue;
    }
    const word = waiter.generation * 2 + 1;
    if (Atomics.compareExchange(states, waiter.slot, word, word - 1) !== word) {
      // Claimed elsewhere (served on another key, timed out, gone): the record is stale.
      removeWaiter(shard, r);
      continue;
    }
    serveOut.resp = waiter.resp;
    servedEffect = null;
    server.serve(c, shard, e, k.key, waiter, destination, serveOut);
    if (servedEffect !== null) {
      hooks.propagate(c, servedEffect);
      signalServed(c, k, destination, servedEffect);
    }
    servedEffect = null;
    // The serve may have moved records (it can create keys and allocate): find ours again by identity.
    removeWaiterRecords(shard, waiter.slot, waiter.generation);
    hooks.deliver(waiter.thread, waiter.slot, waiter.generation, serveOut.take());
  }
}

/**
 * Serves the keys left for a busy lock, after the writer released its own:
 * their shards are now taken in order (waiting is safe), then the waiters
 * served as after any write. Repeats while serving leaves more behind.
 */
export function serveDeferred(c: CommandContext, states: Int32Array, hooks: ServeHooks): void {
  while (c.deferredServes !== null) {
    const deferred = c.deferredServes;
    c.deferredServes = null;
    for (const d of deferred) {
      c.lockMask(d.mask);
      try {
        c.readyKeys = [d.key];
        serveReadyKeys(c, states, hooks);
      } finally {
        c.readyKeys = null;
        c.unlockAll();
      }
    }
  }
}

// ---- the waiting side ----

/** Blocks the current client (every key of the request is empty): the promise its connection waits on. */
export function blockOrError(c: CommandContext, request: BlockRequest): Promise<ReplyFunction> | void {
  // CLIENT_DENY_BLOCKING (inside EXEC): the reply of a timeout at once; BLMOVE's is a null bulk there.
  if (c.inTransaction) {
    if (request.kind === WaiterKind.Move) c.out.nullBulk();
    else c.out.nullArray();
    return;
  }
  const waiting = c.server.blocking.block(c, request);
  if (waiting === null) c.out.error(TOO_MANY_BLOCKED);
  else return waiting;
}

interface LocalWaiter {
  generation: number;
  clientId: number;
  /** Hash slot of the keys waited on (in cluster mode they share one). */
  hashSlot: number;
  /** Shards holding this waiter's records. */
  shards: number[];
  timer: NodeJS.Timeout | null;
  resolve: (reply: ReplyFunction) => void;
}

/** What a blocking command asks for when every key is empty. */
export interface BlockRequest {
  kind: WaiterKind;
  flags: number;
  count: number;
  /** Argument positions of the keys waited on: firstKey..lastKey. */
  firstKey: number;
  lastKey: number;
  /** Argument position of the destination (BLMOVE), or -1. */
  destination: number;
  /** Milliseconds, 0 = forever. */
  timeoutMs: number;
}

/**
 * The blocked clients of one worker thread: their claim slots, timers and
 * the promises their connections are suspended on.
 */
export class BlockedClients {
  private readonly waiting = new Map<number, LocalWaiter>();
  private readonly byClient = new Map<number, number>();
  private readonly freeSlots: number[] = [];
  private readonly generations: Uint32Array;
  private nextSlot = 0;

  constructor(readonly states: Int32Array, readonly thread: number, private readonly shards: Shard[]) {
    this.generations = new Uint32Array(CLAIM_SLOTS_PER_THREAD);
  }

  /** Blocked clients on this thread (INFO blocked_clients). */
  get count(): number {
    return this.waiting.size;
  }

  isBlocked(clientId: number): boolean {
    return this.byClient.has(clientId);
  }

  /**
   * Registers the current client as waiting on the request's keys; the
   * caller holds the keys' shard locks and found them all empty. Returns the
   * promise the connection waits on.
   */
  block(c: CommandContext, request: BlockRequest): Promise<ReplyFunction> | null {
    const local = this.allocateSlot();
    if (local < 0) return null;
    const slot = this.thread * CLAIM_SLOTS_PER_THREAD + local;
    const generation = (this.generations[local] = (this.generations[local] + 1) % GENERATION_LIMIT);
    Atomics.store(this.states, slot, generation * 2 + 1);
    const w: WaiterRequest = {
      slot, generation, thread: this.thread, kind: request.kind, resp: c.client.resp, flags: request.flags,
      db: c.ks.dbMap[c.client.db], count: request.count,
    };
    const shards: number[] = [];
    const dest = request.destination;
    for (let i = request.firstKey; i <= request.lastKey; i++) {
      const shard = c.ks.shards[keyHashSlot(c.buf, c.argStart[i], c.argLen[i]) & c.ks.shardMask];
      if (!shards.includes(shard.index)) shards.push(shard.index);
      addWaiter(shard, w, c.buf, c.argStart[i], c.argLen[i], dest >= 0 ? c.buf : null, dest >= 0 ? c.argStart[dest] : 0,
        dest >= 0 ? c.argLen[dest] : 0);
    }
    const clientId = c.client.id;
    const hashSlot = keyHashSlot(c.buf, c.argStart[request.firstKey], c.argLen[request.firstKey]);
    return new Promise<ReplyFunction>((resolve) => {
      const entry: LocalWaiter = { generation, clientId, hashSlot, shards, timer: null, resolve };
      if (request.timeoutMs > 0) entry.timer = setTimeout(() => this.timedOut(slot), request.timeoutMs);
      this.waiting.set(slot, entry);
      this.byClient.set(clientId, slot);
    });
  }

  private allocateSlot(): number {
    if (this.freeSlots.length > 0) return this.freeSlots.pop()!;
    if (this.nextSlot >= CLAIM_SLOTS_PER_THREAD) return -1;
    return this.nextSlot++;
  }

  /** Claims a waiter for an outcome decided on this thread; false if a writer got it first. */
  private claim(slot: number, w: LocalWaiter): boolean {
    const word = w.generation * 2 + 1;
    return Atomics.compareExchange(this.states, slot, word, word - 1) === word;
  }

  /** Forgets a waiter whose outcome is decided, removing its records from every shard it waited in. */
  private finish(slot: number, w: LocalWaiter): void {
    if (w.timer !== null) clearTimeout(w.timer);
    this.waiting.delete(slot);
    this.byClient.delete(w.clientId);
    for (const si of w.shards) {
      const shard = this.shards[si];
      shard.lock();
      try {
        removeWaiterRecords(shard, slot, w.generation);
      } finally {
        shard.unlock();
      }
    }
    this.freeSlots.push(slot - this.thread * CLAIM_SLOTS_PER_THREAD);
  }

  private timedOut(slot: number): void {
    const w = this.waiting.get(slot);
    if (w === undefined || !this.claim(slot, w)) return;
    this.finish(slot, w);
    w.resolve(replyTimedOut);
  }

  /** A writer served this waiter (on any thread): its reply bytes. */
  delivered(slot: number, generation: number, reply: Uint8Array): void {
    const w = this.waiting.get(slot);
    if (w === undefined || w.generation !== generation) return;
    this.finish(slot, w);
    const bytes = Buffer.from(reply);
    w.resolve((c) => c.out.raw(bytes));
  }

  /** CLIENT UNBLOCK: 1 when the client was blocked here and is now unblocked. */
  unblock(clientId: number, withError: boolean): number {
    const slot = this.byClient.get(clientId);
    if (slot === undefined) return 0;
    const w = this.waiting.get(slot)!;
    if (!this.claim(slot, w)) return 0;
    this.finish(slot, w);
    w.resolve(withError ? replyUnblockedError : replyTimedOut);
    return 1;
  }

  /** The client's connection closed: its waiter goes (unless a writer already served it). */
  clientClosed(clientId: number): void {
    const slot = this.byClient.get(clientId);
    if (slot === undefined) return;
    const w = this.waiting.get(slot)!;
    if (this.claim(slot, w)) this.finish(slot, w);
  }

  /**
   * disconnectAllBlockedClients: this master became a replica, so every
   * blocked client gets Redis's -UNBLOCKED and its connection closes after
   * the reply (CLIENT_CLOSE_AFTER_REPLY).
   */
  unblockAll(): void {
    for (const [slot, w] of [...this.waiting]) {
      if (!this.claim(slot, w)) continue;
      this.finish(slot, w);
      w.resolve(replyRoleChanged);
    }
  }

  /**
   * clusterRedirectBlockedClientIfNeeded, run from the worker's cron as
   * Redis runs it from clientsCron: with the cluster down a blocked client
   * gets -CLUSTERDOWN; when its keys' slot is no longer served here (and not
   * being imported) it gets -MOVED to the new owner, or -CLUSTERDOWN when
   * no node serves it. Blocking pops are writes: READONLY replica reads
   * never keep them here.
   */
  redirectIfNeeded(table: SlotTable): void {
    for (const [slot, w] of [...this.waiting]) {
      const error = redirection(table, w.hashSlot);
      if (error === null || !this.claim(slot, w)) continue;
      this.finish(slot, w);
      w.resolve((c) => c.out.error(error));
    }
  }
}

/** The error a client blocked on `hashSlot` gets now, or null while it may stay blocked. */
function redirection(table: SlotTable, hashSlot: number): string | null {
  if (!table.stateOk) return CLUSTER_DOWN;
  const owner = table.owner[hashSlot];
  if (owner === table.myIndex || table.importing[hashSlot] >= 0) return null;
  if (owner < 0) return SLOT_NOT_SERVED;
  const target = table.redirect(hashSlot, false);
  if (target.index < 0) return SLOT_NOT_SERVED;
  if (target.index === table.myIndex) return null;
  return `-MOVED ${hashSlot} ${target.endpoint}`;
}

/** Redis's reply to clients still blocked when their master turns replica. */
function replyRoleChanged(c: CommandContext): void {
  c.out.error(UNBLOCKED_ROLE_CHANGED);
  c.client.closeAfterReply = true;
}

/** A timeout replies a null array, whatever the command (replyToBlockedClientTimedOut). */
function replyTimedOut(c: CommandContext): void {
  c.out.nullArray();
}

function replyUnblockedError(c: CommandContext): void {
  c.out.error('-UNBLOCKED client unblocked via CLIENT UNBLOCK');
}
