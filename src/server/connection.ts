/**
 * One client connection on a worker thread: parses every complete command
 * of a read, runs them, and writes all their replies in one socket write. A
 * command that waits on other threads suspends the connection (later
 * commands keep their order).
 *
 * Reads land in the worker's one receive buffer (net's `onread`, see
 * worker.ts): no buffer is allocated per read, and commands run from it in
 * place. Anything that outlives the read is copied out of it: the unparsed
 * tail into this connection's own buffer, a command suspended by a pause
 * (processAfterPause), and every key or value a command keeps (blocked
 * clients' keys, queued MULTI commands, WATCHed keys...).
 */
import type { Socket } from 'node:net';
import { ParseStatus, RespParser } from '../protocol/resp-parser.js';
import type { ClientState, ClientTracking } from '../commands/client-state.js';
import { ReplyMode } from '../commands/client-state.js';
import { processCommand } from '../commands/dispatch.js';
import type { MultiState } from '../commands/transactions.js';
import type { ClientWatch } from '../commands/watched-keys.js';
import type { WorkerRuntime } from './worker-runtime.js';
import { log } from './log.js';
import { ClientClass, className, OutputBufferWatch } from './output-buffer-limits.js';

/** The smallest buffer a connection keeps an unparsed tail in. */
const MIN_PENDING_BYTES = 16 * 1024;
/** A kept buffer past this size, more than twice what its tail needs, is replaced by a fitting one. */
const MAX_KEPT_PENDING_BYTES = 1024 * 1024;
/** An emptied tail buffer up to this size is kept as the spare (a tail plus a read or two). */
const MAX_SPARE_BYTES = 256 * 1024;
/** Redis frees the query buffer of a client idle this long. */
const SPARE_IDLE_MS = 2000;
/** Output queued past this within one turn of the event loop is written at once. */
const OUTBOX_WRITE_BYTES = 64 * 1024;

export class Connection implements ClientState {
  name = '';
  libName = '';
  libVersion = '';
  db = 0;
  resp = 2;
  authenticated: boolean;
  user = 'default';
  replyMode = ReplyMode.On;
  asking = false;
  readonlyReplicaReads = false;
  isReplica = false;
  monitor = false;
  pubsubCount = 0;
  multi: MultiState | null = null;
  watch: ClientWatch | null = null;
  tracking: ClientTracking | null = null;
  replicaListeningPort = 0;
  noEvict = false;
  closeAfterReply = false;
  /** endAfterReplies ran: the socket closes once its replies are written. */
  private ending = false;
  readonly createdAt = Date.now();
  lastInteraction = Date.now();
  lastCommand = 'NULL';
  readonly address: string;
  readonly localAddress: string;
  readonly fd: number;
  closed = false;
  /** Index of the worker thread serving this connection. */
  readonly worker: number;

  private readonly parser = new RespParser();
  /** Bytes kept between reads: the unparsed tail. */
  private pending: Buffer | null = null;
  /** Output queued for the end of this turn of the event loop, in order (deferred-writes.ts). */
  private readonly outbox: Uint8Array[] = [];
  private outboxBytes = 0;
  /** The outbox's chunks that are takes of the worker's reply writer, confirmed to it once written. */
  private readonly replyTakes: Uint8Array[] = [];
  /** The last tail's buffer, emptied, kept for the next tail until the client idles. */
  private spare: Buffer | null = null;
  private pendingLen = 0;
  /** Where parsing resumes in `pending` (the parser may be inside a multibulk). */
  private resumeAt = 0;
  private suspended = false;
  private inputPaused = false;
  private readonly outputWatch = new OutputBufferWatch();

  constructor(readonly socket: Socket, readonly id: number, private readonly rt: WorkerRuntime) {
    this.authenticated = rt.config.get('requirepass') === '';
    this.worker = rt.index;
    this.address = `${socket.remoteAddress}:${socket.remotePort}`;
    this.localAddress = `${socket.localAddress}:${socket.localPort}`;
    this.fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
    if (this.address.startsWith('::ffff:')) this.address = this.address.slice(7);
    if (this.localAddress.startsWith('::ffff:')) this.localAddress = this.localAddress.slice(7);
    socket.setNoDelay(true);
    const keepAlive = rt.config.number('tcp-keepalive');
    if (keepAlive > 0) socket.setKeepAlive(true, keepAlive * 1000);
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    socket.on('drain', () => this.resumeInput());
  }

  /**
   * A read: `length` bytes at the start of the thread's receive buffer,
   * which the next read on this thread overwrites. Commands run from it
   * directly; what must outlive the read (the unparsed tail, a suspended
   * command's request) is copied out by keepTail and processAfterPause.
   */
  onRead(buffer: Buffer, length: number): void {
    this.rt.stats.netInput += length;
    this.lastInteraction = Date.now();
    if (this.closed || this.closeAfterReply) return;
    if (this.pending === null && !this.suspended) {
      this.process(buffer, 0, length);
      return;
    }
    this.append(buffer, length);
    if (!this.suspended) this.process(this.pending!, this.resumeAt, this.pendingLen);
  }

  private append(chunk: Buffer, length: number): void {
    if (this.pending === null) {
      this.pending = this.freshPending(Math.max(length, MIN_PENDING_BYTES));
      this.pendingLen = 0;
      this.resumeAt = 0;
    }
    const need = this.pendingLen + length;
    if (need > this.pending.length) {
      const cap = Math.max(need, this.pending.length * 2, this.pendingLen + this.parser.pendingBulkBytes);
      const grown = Buffer.allocUnsafe(cap);
      this.pending.copy(grown, 0, 0, this.pendingLen);
      this.pending = grown;
    }
    chunk.copy(this.pending, this.pendingLen, 0, length);
    this.pendingLen = need;
  }

  /** A buffer of at least `cap` bytes for a tail: the spare one when it is big enough. */
  private freshPending(cap: number): Buffer {
    const spare = this.spare;
    this.spare = null;
    return spare !== null && spare.length >= cap ? spare : Buffer.allocUnsafe(cap);
  }

  /**
   * Lets go of the spare tail buffer once the client has been idle for
   * SPARE_IDLE_MS, as Redis frees an idle client's query buffer
   * (clientsCronResizeQueryBuffer). True once nothing is left to let go.
   */
  releaseIdleSpare(now: number): boolean {
    if (this.spare !== null && !this.closed && now - this.lastInteraction < SPARE_IDLE_MS) return false;
    this.spare = null;
    return true;
  }

  /**
   * Runs the commands of a read. Handlers' own errors are answered by
   * dispatch; anything else that throws here (eviction, routing, buffer
   * allocation) drops this client's unsent replies — the reply buffer is
   * shared by the worker's connections — and closes it, and the node goes on.
   */
  private process(buf: Buffer, pos: number, end: number): void {
    const mark = this.rt.out.mark();
    try {
      this.processCommands(buf, pos, end);
    } catch (err) {
      this.fail(err, mark);
    }
  }

  private fail(err: unknown, mark: number): void {
    this.rt.out.rollback(mark);
    this.rt.ctx.unlockAll();
    log('warning', `Closing client id=${this.id} addr=${this.address} after an internal error: ${err instanceof Error ? err.stack : String(err)}`);
    this.close();
  }

  private processCommands(buf: Buffer, pos: number, end: number): void {
    const rt = this.rt;
    const ctx = rt.ctx;
    const out = rt.out;
    const limits = rt.parserLimits;
    limits.authRequired = !this.authenticated;
    // One clock reading per read, like Redis's per-event-loop command time snapshot.
    const now = Date.now();
    // Pipelined commands are parsed ahead and their keys' memory touched together (batch-prefetch.ts),
    // unless the read continues a command begun in an earlier one.
    const batch = rt.prefetch;
    let batched = this.parser.partialStart < 0 ? batch.run(buf, pos, end, rt.ks.dbMap[this.db], limits) : 0;
    let next = 0;
    const bulkLimit = limits.protoMaxBulkLen;
    while (!this.closeAfterReply) {
      if (next < batched) {
        ctx.resolvedName = batch.specOf(next);
        batch.presetKey(next, buf, ctx.presetKey);
        pos = batch.load(next++, this.parser);
      } else {
        ctx.presetKey.buf = null;
        const r = this.parser.parse(buf, pos, end, limits);
        pos = r.pos;
        if (r.status === ParseStatus.Incomplete) break;
        if (r.status === ParseStatus.Empty) continue;
        if (r.status === ParseStatus.ProtocolError) {
          out.resp = this.resp;
          out.error(this.parser.error);
          log('verbose', `Protocol error (${this.parser.error}) from client: id=${this.id} addr=${this.address}`);
          this.closeAfterReply = true;
          pos = end;
          break;
        }
      }
      out.resp = this.resp;
      ctx.buf = buf;
      ctx.argc = this.parser.argc;
      ctx.argStart = this.parser.argStart;
      ctx.argLen = this.parser.argLen;
      ctx.client = this;
      ctx.now = now;
      ctx.dirty = 0;
      const pending = processCommand(ctx, rt.hooks);
      // The rest of the batch was parsed under the limits it changed (AUTH, RESET, CONFIG SET): parsed again.
      if (limits.authRequired !== !this.authenticated || limits.protoMaxBulkLen !== bulkLimit) batched = next;
      limits.authRequired = !this.authenticated;
      if (pending !== undefined) {
        this.suspend(buf, pos, end, pending);
        return;
      }
    }
    this.keepTail(buf, pos, end);
    this.flush();
  }

  private suspend(buf: Buffer, pos: number, end: number, pending: Promise<void>): void {
    this.suspended = true;
    this.keepTail(buf, pos, end);
    this.flush();
    pending.then(() => {
      const mark = this.rt.out.mark();
      try {
        this.resume();
      } catch (err) {
        this.fail(err, mark);
      }
    }, (err) => this.fail(err, this.rt.out.mark()));
  }

  private resume(): void {
    this.suspended = false;
    this.flush();
    if (this.closed) return;
    if (this.pending !== null && !this.closeAfterReply) this.process(this.pending, this.resumeAt, this.pendingLen);
    else if (this.closeAfterReply) this.flush();
  }

  /** Keeps buf[from, end) (and the partial command before it) for the next read. */
  private keepTail(buf: Buffer, pos: number, end: number): void {
    const partial = this.parser.partialStart;
    const from = partial >= 0 ? partial : pos;
    if (from >= end && partial < 0) {
      // The buffer is kept for the next read that ends inside a command (a pipelined load does so every read).
      if (this.pending !== null && this.pending.length <= MAX_SPARE_BYTES) {
        this.spare = this.pending;
        this.rt.spareHolders.add(this);
      }
      this.pending = null;
      this.pendingLen = 0;
      this.resumeAt = 0;
      return;
    }
    const len = end - from;
    if (len > this.rt.queryBufferLimit) {
      log('warning', `Closing client that reached max query buffer length: id=${this.id} addr=${this.address} (qbuf initial bytes: ${JSON.stringify(buf.subarray(from, from + 64).toString('latin1'))})`);
      this.close();
      return;
    }
    if (buf === this.pending && from === 0) {
      this.resumeAt = pos;
      return;
    }
    const cap = Math.max(len + this.parser.pendingBulkBytes, MIN_PENDING_BYTES);
    // The connection's buffer is reused, the tail moved to its front (copy handles the overlap):
    // a load pipelined across reads allocates nothing per read. A buffer grown for one big request
    // is let go, as Redis trims a client's query buffer.
    let next = this.pending ?? this.freshPending(cap);
    if (next.length < cap || (next.length > MAX_KEPT_PENDING_BYTES && next.length > 2 * cap)) next = Buffer.allocUnsafe(cap);
    buf.copy(next, 0, from, end);
    this.pending = next;
    this.pendingLen = len;
    this.resumeAt = pos - from;
    this.parser.rebase(from);
  }

  /** Queues this read's replies for the end of the event loop's turn (deferred-writes.ts). */
  flush(): void {
    const out = this.rt.out;
    if (out.pending !== 0) {
      if (this.closed) {
        out.reset();
        return;
      }
      this.rt.stats.netOutput += out.pending;
      const taken = out.take();
      this.replyTakes.push(taken);
      this.enqueue(taken);
    } else if (this.closeAfterReply && !this.closed && this.outbox.length === 0) {
      this.endAfterReplies();
    }
  }

  private enqueue(bytes: Uint8Array): void {
    if (this.outbox.length === 0) this.rt.deferredWrites.add(this);
    this.outbox.push(bytes);
    this.outboxBytes += bytes.length;
    // Big output is not held for the turn's end: libuv may read a socket up to 32 times in one turn,
    // and the socket's backpressure (pausing input, output limits) must act between those reads.
    if (this.outboxBytes >= OUTBOX_WRITE_BYTES) this.writeOutbox();
  }

  writeOutbox(): void {
    const box = this.outbox;
    const takes = this.replyTakes;
    if (this.closed || box.length === 0) {
      box.length = 0;
      takes.length = 0;
      this.outboxBytes = 0;
      return;
    }
    const socket = this.socket;
    let ok: boolean;
    if (box.length === 1) {
      ok = socket.write(box[0]);
    } else {
      // One writev for the turn's chunks. What the kernel did not take decides: a write() refused
      // while corked has already set the 'drain' that resumes input.
      socket.cork();
      for (let i = 0; i < box.length; i++) socket.write(box[i]);
      socket.uncork();
      ok = socket.writableLength < socket.writableHighWaterMark;
    }
    // Nothing left queued: the kernel took every byte, and Node holds no reference to the reply buffer.
    if (socket.writableLength === 0) for (let i = 0; i < takes.length; i++) this.rt.out.written(takes[i]);
    box.length = 0;
    takes.length = 0;
    this.outboxBytes = 0;
    if (this.closeAfterReply) {
      this.endAfterReplies();
      return;
    }
    if (socket.writableLength > 0) this.checkOutputLimits();
    if (!ok && !this.inputPaused && !this.closed) {
      // The client is not reading its replies: stop reading its commands until it does.
      this.inputPaused = true;
      socket.pause();
    }
  }

  /** getClientType: a replica's connection, a subscriber (any protocol), or a normal client (MONITOR included). */
  private get outputClass(): ClientClass {
    if (this.isReplica) return ClientClass.Replica;
    return this.pubsubCount > 0 ? ClientClass.Pubsub : ClientClass.Normal;
  }

  /** Unsent output (CLIENT LIST omem): what waits for the turn's end and what the socket holds beyond the kernel. */
  get outputBytes(): number {
    return this.outboxBytes + this.socket.writableLength;
  }

  /** Unparsed input (CLIENT LIST qbuf). */
  get queryBufferBytes(): number {
    return this.pending === null ? 0 : this.pendingLen - this.resumeAt;
  }

  /**
   * checkClientOutputBufferLimits after output was queued: a client past its
   * class's hard limit, or past the soft one for longer than its seconds, is
   * closed and logged (Redis closes it asynchronously, ASAP).
   */
  checkOutputLimits(): void {
    const cls = this.outputClass;
    const limit = this.rt.bufferLimits[cls];
    if (limit === undefined || (limit.hard === 0 && limit.soft === 0) || this.closed) return;
    if (!this.outputWatch.exceeded(this.socket.writableLength, limit, Date.now())) return;
    log('warning', `Client id=${this.id} addr=${this.address} laddr=${this.localAddress} name=${this.name} ` +
      `omem=${this.socket.writableLength} class=${className(cls)} scheduled to be closed ASAP for overcoming of output buffer limits.`);
    this.close();
  }

  /**
   * CLIENT_CLOSE_AFTER_REPLY (QUIT, a protocol error, a master turned
   * replica): once the replies are written the socket is closed for good,
   * as Redis frees the client, rather than half-closed. A client that keeps
   * sending gets a reset, not a server still reading and discarding.
   */
  private endAfterReplies(): void {
    if (this.ending) return;
    this.ending = true;
    this.socket.end(() => this.socket.destroy());
  }

  private resumeInput(): void {
    if (this.inputPaused && !this.closed) {
      this.inputPaused = false;
      this.socket.resume();
    }
  }

  /**
   * Output that is not a reply to this connection's own commands (MONITOR lines, pub/sub messages,
   * invalidations, the replication stream), queued behind the replies before it. The bytes must
   * stay unchanged until the turn's end.
   */
  send(line: Uint8Array): void {
    if (this.closed || this.ending) return;
    this.rt.stats.netOutput += line.length;
    this.enqueue(line);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.rt.connectionClosed(this);
  }
}
