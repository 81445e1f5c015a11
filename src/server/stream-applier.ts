/**
 * On a replica, the worker that executes its master's replication stream:
 * each entry is a Redis command, run through the same command table and
 * dispatcher as a client's, as the master's client (Redis's server.master):
 * never refused as read-only, never paused, replies discarded, and with the
 * clock at 0 so that keys the master still had are never found expired
 * here (their deletions come from the master, as DELs). An entry holds one
 * command, or a transaction (MULTI ... EXEC), run as the master ran it.
 */
import { ReplyWriter } from '../protocol/reply-writer.js';
import { ParseStatus, RespParser } from '../protocol/resp-parser.js';
import { CommandContext } from '../commands/context.js';
import { processCommand, type DispatchHooks } from '../commands/dispatch.js';
import { ReplyMode, type ClientState, type ServerServices } from '../commands/client-state.js';
import type { Keyspace } from '../store/keyspace.js';
import { forEachEntry } from '../replication/replication-log.js';
import { loadRecords } from '../replication/snapshot-codec.js';
import { signalFlushed } from '../commands/watched-keys.js';

function masterClient(): ClientState {
  return {
    id: 0, name: '', libName: '', libVersion: '', db: 0, resp: 2, authenticated: true, user: 'default',
    replyMode: ReplyMode.On, noEvict: true, asking: false, readonlyReplicaReads: false, closeAfterReply: false,
    createdAt: Date.now(), lastInteraction: Date.now(), lastCommand: 'NULL', address: '', localAddress: '', fd: -1,
    fromMaster: true, isReplica: false, replicaListeningPort: 0,
  };
}

export class StreamApplier {
  private readonly out = new ReplyWriter();
  private readonly ctx: CommandContext;
  private readonly parser = new RespParser();
  private readonly client = masterClient();
  private readonly hooks: DispatchHooks;

  constructor(private readonly ks: Keyspace, services: ServerServices, hooks: DispatchHooks) {
    this.ctx = new CommandContext(this.out, ks);
    this.ctx.server = services;
    // No cluster redirection and no maxmemory for the master's writes (replica-ignore-maxmemory).
    this.hooks = { ensureMemory: () => true, onHandlerError: hooks.onHandlerError, writes: hooks.writes };
    this.ctx.hooks = this.hooks;
  }

  /** Empties every database before a full synchronisation. */
  flush(): void {
    this.ks.lockAll();
    try {
      signalFlushed(this.ks, this.ctx.server.watches, -1, -1, Date.now());
      if (this.ctx.server.tracking.active) this.ctx.server.tracking.flushed(null);
      for (const s of this.ks.shards) s.flushAll();
    } finally {
      this.ks.unlockAll();
    }
  }

  load(records: Uint8Array): void {
    loadRecords(this.ks, records, Date.now());
  }

  /** Executes log entries in order. */
  apply(entries: Uint8Array): void {
    const buf = Buffer.from(entries.buffer, entries.byteOffset, entries.byteLength);
    const limits = { protoMaxBulkLen: Number.MAX_SAFE_INTEGER, authRequired: false };
    const ctx = this.ctx;
    forEachEntry(buf, (_shard, db, start, end) => {
      this.client.db = db;
      for (let at = start; at < end;) {
        const r = this.parser.parse(buf, at, end, limits);
        if (r.status !== ParseStatus.Command) throw new Error(`unreadable command in the replication stream (${r.status})`);
        at = r.pos;
        ctx.buf = buf;
        ctx.argc = this.parser.argc;
        ctx.argStart = this.parser.argStart;
        ctx.argLen = this.parser.argLen;
        ctx.client = this.client;
        ctx.now = 0;
        ctx.dirty = 0;
        this.out.resp = 2;
        const pending = processCommand(ctx, this.hooks);
        this.out.reset();
        if (pending !== undefined) throw new Error('a replicated command did not complete at once');
      }
    });
  }
}
