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
 */
import { ReplicationLog, MULTI_SHARD, copyBytes } from './replication-log.js';

/** One argument of a rewritten command. */
export type PropagatedArg = string | Uint8Array | number;

export class WritePropagator {
  private scratch = Buffer.allocUnsafe(64 * 1024);
  private len = 0;

  constructor(readonly log: ReplicationLog) {}

  get active(): boolean {
    return this.log.active;
  }

  /** Appends the command as received: argc arguments at argStart/argLen in buf. */
  command(shard: number, db: number, buf: Uint8Array, argc: number, argStart: Int32Array, argLen: Int32Array): void {
    this.len = 0;
    this.header(42, argc);
    for (let i = 0; i < argc; i++) this.bytes(buf, argStart[i], argLen[i]);
    this.log.append(shard, db, this.scratch, this.len);
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
    this.log.append(shard, db, this.scratch, this.len);
  }

  /** DEL of a key that expired or was evicted: its bytes are in the shard at [start, start+len). */
  deletion(shard: number, db: number, memory: Uint8Array, start: number, len: number): void {
    this.len = 0;
    this.header(42, 2);
    this.text('DEL');
    this.bytes(memory, start, len);
    this.log.append(shard, db, this.scratch, this.len);
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

/** The shard tag of a command from the bitmask of the shards it locked. */
export function shardTag(lockedShards: number): number {
  if (lockedShards !== 0 && (lockedShards & (lockedShards - 1)) === 0) return 31 - Math.clz32(lockedShards);
  return MULTI_SHARD;
}
