/**
 * The state a handler runs with: the arguments (offsets into the input
 * buffer), the reply writer, the client, the keyspace, and the key being
 * worked on. Shards locked through the context are released by the
 * dispatcher even when a handler throws.
 */
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { Keyspace } from '../store/keyspace.js';
import type { Shard } from '../store/shard.js';
import { keyHash, keyHashSlot, slotAndHash } from '../store/key-hash.js';
import { E_LRU, E_TYPE } from '../store/layout.js';
import { parseLongLong } from '../protocol/resp-parser.js';
import type { ClientState, ServerServices } from './client-state.js';
import type { CommandSpec } from './command-spec.js';
import { OUT_OF_RANGE, WRONGTYPE } from './errors.js';
import type { DeferredServe, ReadyKey } from './blocking.js';
import type { DispatchHooks } from './dispatch.js';
import { EventClass, notifyKeyspaceEvent, type RecordedEvent } from './keyspace-events.js';

/** A key's slot and hash computed ahead, and the bytes they belong to. */
export interface PresetKey {
  buf: Uint8Array | null;
  start: number;
  length: number;
  slot: number;
  hash: number;
}

export class CommandContext {
  buf: Uint8Array = new Uint8Array(0);
  argc = 0;
  argStart: Int32Array = new Int32Array(0);
  argLen: Int32Array = new Int32Array(0);
  now = 0;
  spec!: CommandSpec;
  /**
   * The command table's entry for this request's name, when the connection
   * looked it up already (a batch parsed ahead): resolveCommand takes it
   * instead of looking again, once.
   */
  resolvedName: CommandSpec | undefined = undefined;
  /**
   * The slot and hash of argument 1, computed when the request was parsed
   * ahead (server/batch-prefetch.ts). keyAt(1) takes them only while they
   * describe the very bytes it is given (same buffer, offset and length):
   * a context pointed at another request (EXEC's queue, a held command's
   * copy) computes its own.
   */
  readonly presetKey: PresetKey = { buf: null, start: 0, length: 0, slot: 0, hash: 0 };
  client!: ClientState;
  server!: ServerServices;

  // The key selected by keyAt().
  shard!: Shard;
  /** Physical database of the client's logical one. */
  db = 0;
  slot = 0;
  slotIndex = 0;
  hash = 0;
  /** Bit i set: shard i is locked by this command. */
  lockedShards = 0;
  /** Set when the command changed the dataset: it is then propagated to replicas. */
  dirty = 0;
  /**
   * The command to propagate instead of the one received, when replaying
   * that would not give the same result (relative expiry times, floats,
   * GETDEL...): Redis's rewriteClientCommandVector / alsoPropagate.
   */
  propagateAs: (string | Uint8Array | number)[] | null = null;
  /** Keys this command created that clients may be blocked on (blocking.ts), served before its locks go. */
  readyKeys: ReadyKey[] | null = null;
  /** Ready keys whose serving needs a lock another thread held (blocking.ts): served again once this command's locks go. */
  deferredServes: DeferredServe[] | null = null;

  /**
   * The argument positions of the keys the command changed, when its handler
   * knows them better than its key specs (DEL of missing keys, a pop from the
   * first non-empty key): the keys whose watchers are touched.
   */
  modifiedKeys: number[] | null = null;
  /** Keyspace events the handler recorded itself (keyspace-events.ts), instead of its command's declared one. */
  keyEvents: RecordedEvent[] | null = null;
  /** Set while EXEC runs its queue: blocking commands do not block (CLIENT_DENY_BLOCKING) and locks stay held. */
  inTransaction = false;
  /** Set while a script runs under redis.set_repl without REPL_REPLICA: call() does not propagate. */
  suppressPropagation = false;
  /** What processCommand runs this context's commands with (set once by its owner): call() for EXEC's queue. */
  hooks!: DispatchHooks;

  constructor(readonly out: ReplyWriter, readonly ks: Keyspace) {}

  /**
   * Records a keyspace event for the key at argument i (fired by call() once
   * the handler is done); `thenDel`: followed by `del` if the key is gone then.
   */
  keyEvent(type: EventClass, name: string, i: number, thenDel = false, db = this.client.db): void {
    if (this.server.keyspaceEvents === 0) return;
    (this.keyEvents ??= []).push({ type, name, arg: i, thenDel, db });
  }

  /** Records that the key at argument i was changed (see modifiedKeys). */
  keyModified(i: number): void {
    (this.modifiedKeys ??= []).push(i);
  }

  // ---- arguments ----

  argBuffer(i: number): Buffer {
    const s = this.argStart[i];
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + s, this.argLen[i]);
  }

  /** A copy of the argument (safe to keep after the command). */
  argCopy(i: number): Buffer {
    return Buffer.from(this.argBuffer(i));
  }

  argString(i: number): string {
    return this.argBuffer(i).toString('utf8');
  }

  argLatin1(i: number): string {
    return this.argBuffer(i).toString('latin1');
  }

  /** Case-insensitive comparison with a lowercase ASCII word, allocation free. */
  argIs(i: number, lower: string): boolean {
    const n = this.argLen[i];
    if (n !== lower.length) return false;
    const b = this.buf;
    const s = this.argStart[i];
    for (let k = 0; k < n; k++) {
      let ch = b[s + k];
      if (ch >= 65 && ch <= 90) ch += 32;
      if (ch !== lower.charCodeAt(k)) return false;
    }
    return true;
  }

  /** string2ll of the argument, or null. */
  argInt(i: number): number | null {
    const s = this.argStart[i];
    return parseLongLong(this.buf, s, s + this.argLen[i]);
  }

  /**
   * getPositiveLongFromObjectOrReply: argument i as an integer >= 0, or
   * null after replying Redis's range error (a non-integer gets it too).
   */
  argCountOrReply(i: number): number | null {
    const n = this.argInt(i);
    if (n === null || n < 0) {
      this.out.error(OUT_OF_RANGE);
      return null;
    }
    return n;
  }

  /** Arguments equal byte for byte. */
  argsEqual(i: number, j: number): boolean {
    const n = this.argLen[i];
    if (n !== this.argLen[j]) return false;
    const a = this.argStart[i];
    const b = this.argStart[j];
    for (let k = 0; k < n; k++) if (this.buf[a + k] !== this.buf[b + k]) return false;
    return true;
  }

  // ---- keys and locks ----

  /** Selects argument i as the current key (slot, hash, shard); does not lock. */
  keyAt(i: number): void {
    const s = this.argStart[i];
    const n = this.argLen[i];
    if (i === 1 && this.presetNames(this.buf, s, n)) {
      this.slot = this.presetKey.slot;
      this.hash = this.presetKey.hash;
    } else {
      this.slot = slotAndHash(this.buf, s, n);
      this.hash = keyHash.value;
    }
    this.shard = this.ks.shards[this.slot & this.ks.shardMask];
    this.slotIndex = this.slot >> this.ks.shardBits;
  }

  /** Whether the preset slot and hash are those of buf[start, start + length): the very bytes the batch hashed. */
  presetNames(buf: Uint8Array, start: number, length: number): boolean {
    const preset = this.presetKey;
    return preset.buf === buf && preset.start === start && preset.length === length;
  }

  /** keyAt + lock its shard; also resolves the physical database under the lock. */
  lockKey(i: number): Shard {
    this.keyAt(i);
    const bit = 1 << this.shard.index;
    if ((this.lockedShards & bit) === 0) {
      this.shard.lock();
      this.lockedShards |= bit;
    }
    this.db = this.ks.dbMap[this.client.db];
    return this.shard;
  }

  /** Locks the shards of several keys in ascending order (no deadlock between threads). */
  lockKeysAt(indices: ArrayLike<number>): void {
    let mask = 0;
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      mask |= 1 << (keyHashSlot(this.buf, this.argStart[i], this.argLen[i]) & this.ks.shardMask);
    }
    this.lockMask(mask);
  }

  /** Locks keys first, first+step, ... up to last (inclusive). */
  lockKeyRange(first: number, last: number, step: number): void {
    let mask = 0;
    for (let i = first; i <= last; i += step) {
      mask |= 1 << (keyHashSlot(this.buf, this.argStart[i], this.argLen[i]) & this.ks.shardMask);
    }
    this.lockMask(mask);
  }

  lockMask(mask: number): void {
    mask &= ~this.lockedShards;
    const shards = this.ks.shards;
    for (let i = 0; mask !== 0; i++, mask >>>= 1) {
      if (mask & 1) {
        shards[i].lock();
        this.lockedShards |= 1 << i;
      }
    }
    this.db = this.ks.dbMap[this.client.db];
  }

  lockAllShards(): void {
    this.lockMask(this.ks.shards.length >= 32 ? -1 : (1 << this.ks.shards.length) - 1);
  }

  unlockAll(): void {
    let mask = this.lockedShards;
    const shards = this.ks.shards;
    for (let i = 0; mask !== 0; i++, mask >>>= 1) if (mask & 1) shards[i].unlock();
    this.lockedShards = 0;
  }

  /** Finds the current key for reading: lazy expiry, hit/miss stats, access clock. */
  findRead(): number {
    const e = this.shard.find(this.db, this.slotIndex, this.buf, this.argStart[this.keyArg], this.argLen[this.keyArg], this.hash, this.now);
    if (e === 0) {
      this.keyMissed(true);
    } else {
      this.server.stats.keyspaceHits++;
      this.ks.touch(this.shard, e, this.now);
    }
    return e;
  }

  /**
   * A read of the current key found nothing (lookupKeyReadWithFlags): the
   * miss is counted and, unless `notify` is false (LOOKUP_NONOTIFY), the
   * keymiss event fired.
   */
  keyMissed(notify: boolean): void {
    this.server.stats.keyspaceMisses++;
    const flags = this.server.keyspaceEvents;
    if (notify && flags !== 0) {
      notifyKeyspaceEvent(flags, this.server.pubsub.notify, EventClass.KeyMiss, 'keymiss', this.client.db, this.buf,
        this.argStart[this.keyArg], this.argLen[this.keyArg]);
    }
  }

  /** Finds the current key for writing (no hit/miss stats). */
  findWrite(): number {
    const e = this.shard.find(this.db, this.slotIndex, this.buf, this.argStart[this.keyArg], this.argLen[this.keyArg], this.hash, this.now);
    if (e !== 0) this.ks.touch(this.shard, e, this.now);
    return e;
  }

  /** Finds without touching the access clock or stats (OBJECT, TYPE-less paths). */
  findQuiet(): number {
    return this.shard.find(this.db, this.slotIndex, this.buf, this.argStart[this.keyArg], this.argLen[this.keyArg], this.hash, this.now);
  }

  /** Inserts the current key (known absent) with room for a value. */
  insertKey(type: number, valueCapacity: number, withTtl = false): number {
    const e = this.shard.insert(this.db, this.slotIndex, this.buf, this.argStart[this.keyArg], this.argLen[this.keyArg],
      this.hash, type, valueCapacity, withTtl);
    this.shard.u32[(e + E_LRU) >>> 2] = this.ks.initialAccess(this.now);
    const flags = this.server.keyspaceEvents;
    if (flags !== 0) {
      notifyKeyspaceEvent(flags, this.server.pubsub.notify, EventClass.New, 'new', this.client.db, this.buf,
        this.argStart[this.keyArg], this.argLen[this.keyArg]);
    }
    return e;
  }

  /** keyAt remembers which argument is the key. */
  keyArg = 1;

  selectKey(i: number): void {
    this.keyArg = i;
    this.keyAt(i);
    this.db = this.ks.dbMap[this.client.db];
  }

  /** lockKey + remember the argument. */
  openKey(i: number): Shard {
    this.keyArg = i;
    return this.lockKey(i);
  }

  typeOf(e: number): number {
    return this.shard.u8[e + E_TYPE];
  }

  wrongType(): void {
    this.out.error(WRONGTYPE);
  }
}
