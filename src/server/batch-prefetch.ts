/**
 * Overlapping the store's cache misses across the commands of one read,
 * and parsing them once.
 *
 * With pipelining a read holds many commands on random keys, and each
 * command's lookup stalls on three dependent loads from memory: the slot
 * header, the bucket, the entry. Executed one after another, the stalls add
 * up (about 35% of a pipelined GET's CPU, as dictFind's are in Redis).
 * Before a read's commands run, this pass parses them ahead, hashes each
 * one's first key, and loads the slot headers of every key, then every
 * bucket, then every entry: the loads of one level are independent, so the
 * CPU has them in flight together, and the commands then find their memory
 * in cache.
 *
 * Invariant: nothing here changes what a command does. The loads take no
 * lock and their values are only hints (a concurrent writer may make them
 * stale); execution takes the shard lock and looks the key up again. Only
 * commands whose first key is their first argument are hinted, and only
 * when the read holds more than one command. The commands are parsed with
 * the parser limits of the read's start: the connection stops taking them
 * from here when a command changes those limits (AUTH, CONFIG SET).
 */
import { ParseStatus, RespParser, type ParserLimits } from '../protocol/resp-parser.js';
import type { CommandTable } from '../commands/command-table.js';
import type { CommandSpec } from '../commands/command-spec.js';
import type { PresetKey } from '../commands/context.js';
import type { Keyspace } from '../store/keyspace.js';
import { keyHash, slotAndHash } from '../store/key-hash.js';
import { E_HASH } from '../store/layout.js';
import { bytesEqual } from '../store/packed.js';

/** Commands parsed ahead per read: enough for a deep pipeline, few enough that the first ones' lines are still cached. */
const MAX_BATCH = 64;
const MULTIBULK = 42; // '*'

/**
 * A read's commands parsed ahead, once: the connection runs them from here
 * (load, specOf, presetKey) instead of parsing them, looking their names up
 * and hashing their first keys again.
 * Only multibulk commands are parsed ahead: the inline form is unescaped in
 * place, and parsing it twice would unescape it twice.
 */
export class BatchPrefetch {
  private readonly parser = new RespParser();
  /** Per command: where it ends, its argc and where its positions begin in `starts`/`lengths`. */
  private readonly ends = new Int32Array(MAX_BATCH);
  private readonly specs: (CommandSpec | undefined)[] = new Array<CommandSpec | undefined>(MAX_BATCH).fill(undefined);
  private readonly argcs = new Int32Array(MAX_BATCH);
  private readonly bases = new Int32Array(MAX_BATCH);
  private starts = new Int32Array(MAX_BATCH * 4);
  private lengths = new Int32Array(MAX_BATCH * 4);
  /** Per command: the slot of its argument 1 when hashed ahead (-1: not), and its hash. */
  private readonly commandSlots = new Int32Array(MAX_BATCH);
  private readonly commandHashes = new Uint32Array(MAX_BATCH);
  /** The commands whose keys are touched (a key repeated by the next command is touched once). */
  private readonly touched = new Int32Array(MAX_BATCH);
  private readonly addresses = new Int32Array(MAX_BATCH);
  /** What the loads read, kept so that the compiler cannot drop them. */
  sink = 0;

  constructor(private readonly ks: Keyspace, private readonly table: CommandTable) {}

  /**
   * Parses the commands of buf[pos, end) (more than one, all multibulk, up
   * to the first that is incomplete or malformed), touches the memory of
   * their first keys in physical database `db`, and returns how many were
   * parsed: the connection then takes them with load().
   */
  run(buf: Uint8Array, pos: number, end: number, db: number, limits: ParserLimits): number {
    const p = this.parser;
    p.reset();
    if (buf[pos] !== MULTIBULK) return 0;
    const first = p.parse(buf, pos, end, limits);
    // One command (no pipelining): nothing to overlap, and the connection's own parser takes it.
    if (first.status !== ParseStatus.Command || first.pos >= end) return 0;
    let n = 0;
    let keys = 0;
    let used = 0;
    for (let r = first; n < MAX_BATCH;) {
      if (r.status === ParseStatus.Command) {
        const argc = p.argc;
        if (used + argc > this.starts.length) this.grow(used + argc);
        const starts = this.starts;
        const lengths = this.lengths;
        for (let k = 0; k < argc; k++) {
          starts[used + k] = p.argStart[k];
          lengths[used + k] = p.argLen[k];
        }
        this.bases[n] = used;
        this.argcs[n] = argc;
        this.ends[n] = r.pos;
        const spec = this.table.top.find(buf, p.argStart[0], p.argLen[0]);
        this.specs[n] = spec;
        this.commandSlots[n] = -1;
        if (argc >= 2 && spec !== undefined && spec.firstKey === 1) keys = this.hashKey(buf, n, keys);
        used += argc;
        n++;
      } else if (r.status !== ParseStatus.Empty) {
        break;
      }
      if (r.pos >= end || buf[r.pos] !== MULTIBULK) break;
      r = p.parse(buf, r.pos, end, limits);
    }
    if (keys >= 2) this.touch(keys, db);
    return n;
  }

  /** Points `into` (the connection's parser arrays) at parsed command i; returns where it ends. */
  load(i: number, into: RespParser): number {
    const argc = this.argcs[i];
    into.loadArgs(this.starts, this.lengths, this.bases[i], argc);
    return this.ends[i];
  }

  /** The command table's entry for parsed command i's name (undefined: no such command). */
  specOf(i: number): CommandSpec | undefined {
    return this.specs[i];
  }

  private grow(need: number): void {
    const size = Math.max(need, this.starts.length * 2);
    const starts = new Int32Array(size);
    const lengths = new Int32Array(size);
    starts.set(this.starts);
    lengths.set(this.lengths);
    this.starts = starts;
    this.lengths = lengths;
  }

  /**
   * Records the slot and hash of command i's first key (its argument 1).
   * The same key as the last one touched (a pipeline on one hot key, whose
   * memory stays cached) takes that one's slot and hash without hashing.
   */
  private hashKey(buf: Uint8Array, i: number, touched: number): number {
    const start = this.starts[this.bases[i] + 1];
    const length = this.lengths[this.bases[i] + 1];
    if (touched > 0) {
      const last = this.touched[touched - 1];
      const lastStart = this.starts[this.bases[last] + 1];
      if (this.lengths[this.bases[last] + 1] === length && bytesEqual(buf, start, buf, lastStart, length)) {
        this.commandSlots[i] = this.commandSlots[last];
        this.commandHashes[i] = this.commandHashes[last];
        return touched;
      }
    }
    this.commandSlots[i] = slotAndHash(buf, start, length);
    this.commandHashes[i] = keyHash.value;
    this.touched[touched] = i;
    return touched + 1;
  }

  /**
   * Parsed command i's argument 1 as keyAt would hash it, for the context
   * to take (its bytes named by buffer, offset and length), or none.
   */
  presetKey(i: number, buf: Uint8Array, into: PresetKey): void {
    const slot = this.commandSlots[i];
    if (slot < 0) {
      into.buf = null;
      return;
    }
    const base = this.bases[i];
    into.buf = buf;
    into.start = this.starts[base + 1];
    into.length = this.lengths[base + 1];
    into.slot = slot;
    into.hash = this.commandHashes[i];
  }

  /** Loads, level by level across the batch, the slot headers, the buckets and the entries of the touched keys. */
  private touch(n: number, db: number): void {
    const ks = this.ks;
    const addresses = this.addresses;
    for (let i = 0; i < n; i++) {
      const c = this.touched[i];
      const slot = this.commandSlots[c];
      addresses[i] = ks.shards[slot & ks.shardMask].bucketHint(db, slot >> ks.shardBits, this.commandHashes[c]);
    }
    for (let i = 0; i < n; i++) {
      const link = addresses[i];
      addresses[i] = link === 0 ? 0 : ks.shards[this.commandSlots[this.touched[i]] & ks.shardMask].u32[link >>> 2] | 0;
    }
    let sink = 0;
    for (let i = 0; i < n; i++) {
      const e = addresses[i];
      if (e !== 0) sink ^= ks.shards[this.commandSlots[this.touched[i]] & ks.shardMask].u32[(e + E_HASH) >>> 2] | 0;
    }
    this.sink ^= sink;
  }
}
