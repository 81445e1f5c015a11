/**
 * The worker side of the write stream: encodes what a write command did as
 * a RESP command and appends it to the ReplicationLog, while the command
 * still holds its shard locks.
 *
 * Commands are propagated in effect form, as Redis propagates them: the
 * command as received when replaying it gives the same result, or the
 * handler's rewrite (SET ... PXAT for relative expiries, SET ... KEEPTTL for
 * INCRBYFLOAT, DEL for GETDEL, ...). Keys the store removes because they
 * expired or were evicted go out as DEL, like Redis's propagateDeletion.
 *
 * A transaction's effects are kept while it runs and appended as one entry
 * when it ends: bare when there is one, wrapped in MULTI/EXEC when there are
 * two or more (with SELECT where the database changes inside), as Redis 7.0
 * propagates EXEC; one entry, so no other thread's write lands inside it.
 */
import { ReplicationLog, MULTI_SHARD, copyBytes } from './replication-log.js';

/** One argument of a rewritten command. */
export type PropagatedArg = string | Uint8Array | number;

/** One effect kept while a transaction runs. */
interface KeptEffect {
  shard: number;
  db: number;
  bytes: Uint8Array;
}

const MULTI = Buffer.from('*1\r\n$5\r\nMULTI\r\n');
const EXEC = Buffer.from('*1\r\n$4\r\nEXEC\r\n');

export class WritePropagator {
  private scratch = Buffer.allocUnsafe(64 * 1024);
  private len = 0;
  /** Non-null while a transaction runs: its effects, in order. */
  private kept: KeptEffect[] | null = null;

  constructor(readonly log: ReplicationLog) {}

  get active(): boolean {
    return this.log.active;
  }

  /** Appends the command as received: argc arguments at argStart/argLen in buf. */
  command(shard: number, db: number, buf: Uint8Array, argc: number, argStart: Int32Array, argLen: Int32Array): void {
    this.len = 0;
    this.header(42, argc);
    for (let i = 0; i < argc; i++) this.bytes(buf, argStart[i], argLen[i]);
    this.emit(shard, db);
  }

  /** Appends a rewritten command. */
  rewritten(shard: number, db: number, args: readonly PropagatedArg[]): void {
    this.len = 0;
    this.header(42, args.length);
    for (const a of args) {
      if (typeof a === 'string') this.text(a);
      else if (typeof a === 'number') this.text(String(a));
      else this.bytes(a, 0, a.length);
    }
    this.emit(shard, db);
  }

  /** DEL of a key that expired or was evicted: its bytes are in the shard at [start, start+len). */
  deletion(shard: number, db: number, memory: Uint8Array, start: number, len: number): void {
    this.len = 0;
    this.header(42, 2);
    this.text('DEL');
    this.bytes(memory, start, len);
    this.emit(shard, db);
  }

  beginTransaction(): void {
    this.kept = [];
  }

  /** Appends the transaction's effects as one entry tagged `shard` (the shards it locked). */
  endTransaction(shard: number): void {
    const kept = this.kept;
    this.kept = null;
    if (kept === null || kept.length === 0) return;
    if (kept.length === 1) {
      this.log.append(kept[0].shard, kept[0].db, kept[0].bytes, kept[0].bytes.length);
      return;
    }
    const parts: Uint8Array[] = [MULTI];
    let db = kept[0].db;
    for (const effect of kept) {
      if (effect.db !== db) {
        db = effect.db;
        parts.push(selectCommand(db));
      }
      parts.push(effect.bytes);
    }
    parts.push(EXEC);
    const entry = Buffer.concat(parts);
    this.log.append(shard, kept[0].db, entry, entry.length);
  }

  private emit(shard: number, db: number): void {
    if (this.kept !== null) this.kept.push({ shard, db, bytes: Buffer.from(this.scratch.subarray(0, this.len)) });
    else this.log.append(shard, db, this.scratch, this.len);
  }

  private room(n: number): void {
    if (this.len + n <= this.scratch.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.len + n));
    this.scratch.copy(grown, 0, 0, this.len);
    this.scratch = grown;
  }

  /** "*<n>\r\n" or "$<n>\r\n", the digits written without a string. */
  private header(prefix: number, n: number): void {
    this.room(24);
    const out = this.scratch;
    out[this.len++] = prefix;
    let digits = 1;
    for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
    for (let i = digits - 1, v = n; i >= 0; i--, v = Math.floor(v / 10)) out[this.len + i] = 48 + (v % 10);
    this.len += digits;
    out[this.len++] = 13;
    out[this.len++] = 10;
  }

  private bytes(buf: Uint8Array, start: number, n: number): void {
    this.header(36, n);
    this.room(n + 2);
    copyBytes(this.scratch, this.len, buf, start, n);
    this.len += n;
    this.scratch[this.len++] = 13;
    this.scratch[this.len++] = 10;
  }

  private text(s: string): void {
    const n = Buffer.byteLength(s, 'latin1');
    this.header(36, n);
    this.room(n + 2);
    this.len += this.scratch.write(s, this.len, 'latin1');
    this.scratch[this.len++] = 13;
    this.scratch[this.len++] = 10;
  }
}

function selectCommand(db: number): Buffer {
  const index = String(db);
  return Buffer.from(`*2\r\n$6\r\nSELECT\r\n$${index.length}\r\n${index}\r\n`);
}

/** The shard tag of a command from the bitmask of the shards it locked. */
export function shardTag(lockedShards: number): number {
  if (lockedShards !== 0 && (lockedShards & (lockedShards - 1)) === 0) return 31 - Math.clz32(lockedShards);
  return MULTI_SHARD;
}
