/**
 * What a weft master sends a weft replica after "+FULLRESYNC <replid>
 * <offset>" or "+CONTINUE <replid>": length-prefixed binary frames (the
 * replica answers with Redis's "REPLCONF ACK <offset>" commands).
 *
 * Frame: u32 payload length · u8 kind · payload (little endian).
 */

export const enum FrameKind {
  /** u16 master shard · f64 entry count of the log when the shard was read · records (snapshot-codec). */
  Snapshot = 1,
  /** The snapshot is complete: u16 number of master shards. */
  SnapshotEnd = 2,
  /** f64 cumulative entry number of the first entry · f64 replication offset it starts at · f64 offset it ends at · log entries. */
  Stream = 3,
  /** The master is alive (repl-ping-replica-period, but every second: it feeds the replica's data age). */
  Ping = 4,
  /** Answer with REPLCONF ACK now (WAIT). */
  GetAck = 5,
  /** The master's function libraries at the start of a full synchronisation: (u32 length · library code)*. */
  Functions = 6,
}

/** What the worker that applies a master's data is asked to do (the frames' effects on a replica). */
export type ApplyOp = 'flush' | 'load' | 'apply' | 'functions';

export const FRAME_HEADER_BYTES = 5;
/** Larger than any frame a master sends (a snapshot chunk holds at least one record, of at most proto-max-bulk-len). */
const MAX_FRAME_BYTES = 1 << 30;
/** A Stream frame's own header. */
export const STREAM_HEAD_BYTES = 24;

/**
 * A frame in a buffer of its own: it goes to a worker in a message, which
 * copies the whole ArrayBuffer behind a view (a pooled slice would cost 8 KiB).
 */
export function frame(kind: FrameKind, head: Buffer | null, body: Uint8Array | null): Buffer {
  const headLen = head?.length ?? 0;
  const bodyLen = body?.length ?? 0;
  const out = Buffer.allocUnsafeSlow(FRAME_HEADER_BYTES + headLen + bodyLen);
  out.writeUInt32LE(headLen + bodyLen, 0);
  out[4] = kind;
  if (head) out.set(head, FRAME_HEADER_BYTES);
  if (body) out.set(body, FRAME_HEADER_BYTES + headLen);
  return out;
}

export function snapshotFrame(shard: number, entrySeq: number, records: Uint8Array): Buffer {
  const head = Buffer.allocUnsafe(10);
  head.writeUInt16LE(shard, 0);
  head.writeDoubleLE(entrySeq, 2);
  return frame(FrameKind.Snapshot, head, records);
}

export function functionsFrame(codes: Uint8Array[]): Buffer {
  let size = 0;
  for (const c of codes) size += 4 + c.length;
  const body = Buffer.allocUnsafe(size);
  let at = 0;
  for (const c of codes) {
    body.writeUInt32LE(c.length, at);
    body.set(c, at + 4);
    at += 4 + c.length;
  }
  return frame(FrameKind.Functions, null, body);
}

/** The library codes of a Functions frame's payload. */
export function functionCodes(payload: Uint8Array): Buffer[] {
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const codes: Buffer[] = [];
  for (let at = 0; at + 4 <= buf.length;) {
    const length = buf.readUInt32LE(at);
    codes.push(Buffer.from(buf.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return codes;
}

export function snapshotEndFrame(shards: number): Buffer {
  const head = Buffer.allocUnsafe(2);
  head.writeUInt16LE(shards, 0);
  return frame(FrameKind.SnapshotEnd, head, null);
}

export function streamFrame(firstSeq: number, firstOffset: number, endOffset: number, entries: Uint8Array): Buffer {
  const out = Buffer.allocUnsafeSlow(FRAME_HEADER_BYTES + STREAM_HEAD_BYTES + entries.length);
  writeStreamHead(out, 0, firstSeq, firstOffset, endOffset, entries.length);
  out.set(entries, FRAME_HEADER_BYTES + STREAM_HEAD_BYTES);
  return out;
}

/** Writes a Stream frame's header and its own head at `at` (the entries follow them). */
export function writeStreamHead(buf: Buffer, at: number, firstSeq: number, firstOffset: number, endOffset: number, entryBytes: number): void {
  buf.writeUInt32LE(STREAM_HEAD_BYTES + entryBytes, at);
  buf[at + 4] = FrameKind.Stream;
  buf.writeDoubleLE(firstSeq, at + FRAME_HEADER_BYTES);
  buf.writeDoubleLE(firstOffset, at + FRAME_HEADER_BYTES + 8);
  buf.writeDoubleLE(endOffset, at + FRAME_HEADER_BYTES + 16);
}

/** Splits a byte stream into frames (chunks are joined once a whole frame is there). */
export class FrameReader {
  private chunks: Buffer[] = [];
  private total = 0;

  feed(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /**
   * The next whole frame, or null. Throws on a header no weft master sends
   * (an unknown kind, an impossible length): the bytes are not a weft
   * stream, and waiting for the rest would only buffer them.
   */
  next(): { kind: FrameKind; payload: Buffer } | null {
    if (this.total < FRAME_HEADER_BYTES) return null;
    if (this.chunks[0].length < FRAME_HEADER_BYTES) this.join();
    const len = this.chunks[0].readUInt32LE(0);
    const announced = this.chunks[0][4];
    if (announced < FrameKind.Snapshot || announced > FrameKind.Functions || len > MAX_FRAME_BYTES) {
      throw new Error(`not a weft replication frame (kind ${announced}, ${len} bytes)`);
    }
    if (this.total < FRAME_HEADER_BYTES + len) return null;
    if (this.chunks[0].length < FRAME_HEADER_BYTES + len) this.join();
    const head = this.chunks[0];
    const kind = head[4] as FrameKind;
    const payload = head.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + len);
    const rest = head.subarray(FRAME_HEADER_BYTES + len);
    this.total -= FRAME_HEADER_BYTES + len;
    if (rest.length > 0) this.chunks[0] = rest;
    else this.chunks.shift();
    return { kind, payload };
  }

  private join(): void {
    this.chunks = [Buffer.concat(this.chunks, this.total)];
  }
}
