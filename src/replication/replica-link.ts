/**
 * The replica side of replication, on the coordinator: the connection to
 * the master (Redis's handshake: AUTH, REPLCONF, PSYNC), the snapshot and
 * the stream it receives, handed in order to the worker that applies them,
 * REPLCONF ACK every second and when the master asks, and reconnection
 * with a partial resynchronisation when the master still has our offset.
 *
 * A stream entry the snapshot already contains is skipped: the snapshot of
 * master shard s was read when the master's log held S(s) entries, so an
 * entry of shard s numbered below S(s) is in it. An entry spanning several
 * shards is either before every shard's snapshot or after all of them (the
 * master's snapshot gate), so comparing it with the smallest S decides it.
 */
import net from 'node:net';
import { forEachEntry, MULTI_SHARD, ENTRY_HEADER_BYTES } from './replication-log.js';
import { FrameKind, FrameReader, STREAM_HEAD_BYTES } from './link-frames.js';

/** What the link needs from the node: the worker that applies, the config, the log. */
export interface ReplicaEnvironment {
  /** Empties the dataset before a full synchronisation. */
  flush(): Promise<void>;
  /** Loads snapshot records. */
  load(records: Uint8Array): Promise<void>;
  /** Replaces the function libraries with the master's (a Functions frame's payload). */
  functions(codes: Uint8Array): Promise<void>;
  /** Executes log entries (Redis commands) in order. */
  apply(entries: Uint8Array): Promise<void>;
  listeningPort(): number;
  masterAuth(): { user: string; password: string } | null;
  replTimeoutMs(): number;
  log_(level: 'notice' | 'warning' | 'verbose', message: string): void;
  /** The link state changed (for INFO, ROLE and the cluster). */
  changed(): void;
}

export type LinkState = 'connect' | 'connecting' | 'sync' | 'connected';

function encode(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

export class ReplicaLink {
  state: LinkState = 'connect';
  /** The master's replication id and the offset of its stream applied here (PSYNC's cache). */
  masterReplid = '?';
  offset = -1;
  /** Bytes of the stream received (applied or queued). */
  readOffset = 0;
  lastIo = 0;
  downSince = Date.now();
  syncStartedAt = 0;
  syncBytes = 0;
  private socket: net.Socket | null = null;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private cron: NodeJS.Timeout | undefined;
  private stopped = false;
  private skipBefore = new Map<number, number>();
  private skipMultiBefore = 0;
  /** Stream entries numbered from here on are past every snapshot: none is skipped (0: none ever). */
  private skipUntil = 0;
  /** The apply step queued and not started yet: its stream batches and the offset they end at. */
  private queued: { batches: Uint8Array[]; end: number } | null = null;
  /** The apply queue: every step runs after the previous one. */
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly host: string, readonly port: number, private readonly env: ReplicaEnvironment, cached: { replid: string; offset: number } | null) {
    if (cached) {
      this.masterReplid = cached.replid;
      this.offset = cached.offset;
    }
  }

  start(): void {
    this.cron = setInterval(() => this.everySecond(), 1000);
    this.cron.unref();
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.cron) clearInterval(this.cron);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
    this.socket = null;
  }

  /** Resolves once everything received so far is applied. */
  settled(): Promise<void> {
    return this.chain;
  }

  get linkUp(): boolean {
    return this.state === 'connected';
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((e: Error) => {
      this.env.log_('warning', `Applying the replication stream failed: ${e.message}; resynchronizing`);
      this.masterReplid = '?';
      this.socket?.destroy();
    });
  }

  private connect(): void {
    if (this.stopped) return;
    this.state = 'connecting';
    this.env.log_('notice', `Connecting to MASTER ${this.host}:${this.port}`);
    this.env.changed();
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    let handshakeDone = false;
    let lineBuf: Buffer = Buffer.alloc(0);
    const frames = new FrameReader();
    const replies: string[] = [];
    const auth = this.env.masterAuth();
    const commands: string[][] = [];
    if (auth) commands.push(auth.user ? ['AUTH', auth.user, auth.password] : ['AUTH', auth.password]);
    commands.push(['REPLCONF', 'listening-port', String(this.env.listeningPort())], ['REPLCONF', 'capa', 'psync2'],
      ['PSYNC', this.masterReplid, this.masterReplid === '?' ? '-1' : String(this.offset + 1)]);
    socket.on('connect', () => {
      this.env.log_('notice', 'MASTER <-> REPLICA sync started');
      socket.write(commands.map(encode).join(''));
    });
    socket.on('data', (chunk: Buffer) => {
      this.lastIo = Date.now();
      if (!handshakeDone) {
        lineBuf = lineBuf.length ? Buffer.concat([lineBuf, chunk]) : chunk;
        for (;;) {
          const nl = lineBuf.indexOf('\r\n');
          if (nl < 0) return;
          replies.push(lineBuf.subarray(0, nl).toString('latin1'));
          lineBuf = lineBuf.subarray(nl + 2);
          if (replies.length === commands.length) break;
        }
        handshakeDone = true;
        if (!this.handshake(commands, replies)) {
          socket.destroy();
          return;
        }
        chunk = lineBuf;
      }
      if (chunk.length > 0) frames.feed(chunk);
      try {
        for (let f = frames.next(); f !== null; f = frames.next()) this.onFrame(f.kind, f.payload);
      } catch (e) {
        // Not a weft master's stream (a redis-server sends an RDB file): drop the link, sync afresh later.
        this.env.log_('warning', `Replication stream from ${this.host}:${this.port} unreadable: ${(e as Error).message}; is it a weft master?`);
        this.masterReplid = '?';
        socket.destroy();
      }
    });
    socket.on('error', (e) => this.env.log_('verbose', `Replication link to ${this.host}:${this.port}: ${e.message}`));
    socket.on('close', () => this.onClose(socket));
  }

  /** Checks the handshake replies; sets up a full or partial synchronisation. */
  private handshake(commands: string[][], replies: string[]): boolean {
    // What this connection streams is applied in steps of its own, after whatever the last one left queued.
    this.queued = null;
    for (let i = 0; i < commands.length - 1; i++) {
      if (replies[i].startsWith('-')) {
        this.env.log_('warning', `Unable to ${commands[i][0]} to MASTER: ${replies[i].slice(1)}`);
        if (commands[i][0] === 'AUTH') return false;
      }
    }
    const reply = replies[replies.length - 1];
    const full = /^\+FULLRESYNC ([0-9a-f]{40}) (\d+)$/.exec(reply);
    if (full) {
      this.env.log_('notice', `Full resync from master: ${full[1]}:${full[2]}`);
      this.masterReplid = full[1];
      const base = Number(full[2]);
      this.state = 'sync';
      this.syncStartedAt = Date.now();
      this.syncBytes = 0;
      this.skipBefore.clear();
      this.skipMultiBefore = 0;
      // Until the snapshot ends, every stream entry is checked against it.
      this.skipUntil = Infinity;
      this.readOffset = base;
      this.enqueue(async () => {
        await this.env.flush();
        this.offset = base;
      });
      this.env.changed();
      return true;
    }
    const cont = /^\+CONTINUE(?: ([0-9a-f]{40}))?$/.exec(reply);
    if (cont) {
      this.env.log_('notice', 'Successful partial resynchronization with master.');
      if (cont[1] && cont[1] !== this.masterReplid) {
        this.env.log_('notice', `Master replication ID changed to ${cont[1]}`);
        this.masterReplid = cont[1];
      }
      this.readOffset = this.offset;
      this.state = 'connected';
      this.env.changed();
      this.sendAck();
      return true;
    }
    this.env.log_('warning', `Unexpected reply to PSYNC from master: ${reply}`);
    return false;
  }

  private onFrame(kind: FrameKind, payload: Buffer): void {
    switch (kind) {
      case FrameKind.Snapshot: {
        const shard = payload.readUInt16LE(0);
        this.skipBefore.set(shard, payload.readDoubleLE(2));
        // A copy of its own: the worker's message copies the whole buffer behind a view.
        const records = payload.subarray(10).slice();
        this.syncBytes += records.length;
        if (records.length > 0) this.enqueue(() => this.env.load(records));
        break;
      }
      case FrameKind.Functions: {
        const codes = payload.slice();
        this.enqueue(() => this.env.functions(codes));
        break;
      }
      case FrameKind.SnapshotEnd: {
        this.skipMultiBefore = this.skipBefore.size > 0 ? Math.min(...this.skipBefore.values()) : 0;
        this.skipUntil = this.skipBefore.size > 0 ? Math.max(...this.skipBefore.values()) : 0;
        this.enqueue(async () => {
          this.state = 'connected';
          this.env.log_('notice', `MASTER <-> REPLICA sync: Finished with success (${this.syncBytes} bytes in ${Date.now() - this.syncStartedAt} ms)`);
          this.env.changed();
          this.sendAck();
        });
        break;
      }
      case FrameKind.Stream:
        this.onStream(payload);
        break;
      case FrameKind.GetAck:
        this.enqueue(async () => this.sendAck());
        break;
      case FrameKind.Ping:
      default:
        break;
    }
  }

  private onStream(payload: Buffer): void {
    let seq = payload.readDoubleLE(0);
    const endOffset = payload.readDoubleLE(16);
    const entries = payload.subarray(STREAM_HEAD_BYTES);
    let batch: Uint8Array;
    if (seq >= this.skipUntil) {
      // Past every shard's snapshot point: nothing to filter. A copy of its own, for the worker's message.
      this.skipUntil = 0;
      batch = entries.slice();
    } else {
      const kept: Buffer[] = [];
      forEachEntry(entries, (shard, _db, start, end) => {
        const before = shard === MULTI_SHARD ? this.skipMultiBefore : (this.skipBefore.get(shard) ?? 0);
        if (seq >= before) kept.push(entries.subarray(start - ENTRY_HEADER_BYTES, end));
        seq++;
      });
      batch = new Uint8Array(Buffer.concat(kept));
    }
    this.readOffset = endOffset;
    // While the worker is busy, stream frames gather into the apply step already queued: one message for them all.
    if (this.queued !== null) {
      this.queued.batches.push(batch);
      this.queued.end = endOffset;
      return;
    }
    const step = { batches: [batch], end: endOffset };
    this.queued = step;
    this.enqueue(async () => {
      if (this.queued === step) this.queued = null;
      const all = step.batches.length === 1 ? step.batches[0] : new Uint8Array(Buffer.concat(step.batches));
      if (all.length > 0) await this.env.apply(all);
      this.offset = step.end;
    });
  }

  private sendAck(): void {
    if (this.socket && this.state === 'connected') this.socket.write(encode(['REPLCONF', 'ACK', String(this.offset)]));
  }

  private everySecond(): void {
    if (this.state === 'connected') this.sendAck();
    if ((this.state === 'connected' || this.state === 'sync') && Date.now() - this.lastIo > this.env.replTimeoutMs()) {
      this.env.log_('warning', 'MASTER timeout: no data nor PING received...');
      this.socket?.destroy();
    }
  }

  private onClose(socket: net.Socket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    if (this.state === 'connected' || this.state === 'sync') {
      this.downSince = Date.now();
      this.env.log_('notice', `Connection with master lost.`);
    }
    // A snapshot cut short leaves a partial dataset: the next sync must be a full one.
    if (this.state === 'sync') this.masterReplid = '?';
    this.state = 'connect';
    this.env.changed();
    if (!this.stopped) this.reconnectTimer = setTimeout(() => this.connect(), 1000);
  }
}
