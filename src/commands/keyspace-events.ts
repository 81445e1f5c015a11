/**
 * Keyspace notifications (Redis 7.0's notify.c): with notify-keyspace-events
 * naming K and/or E and the event's class, a change to a key is published on
 * this node as `__keyspace@<db>__:<key>` (the event as message) and
 * `__keyevent@<db>__:<event>` (the key as message). They are local
 * publishes: never on the cluster bus, never in the replication stream.
 *
 * Which event a write command fires is declared here per command, as
 * Redis's documentation lists them, and fired by call() for the keys the
 * command changed; a command whose events depend on what it did (SET with
 * an expiry, RENAME, LMOVE, SMOVE, ZADD INCR, the multi-key pops) records
 * them itself. A key a command leaves missing fires `del` — after the
 * command's own event (a pop that emptied a list), or instead of it (a STORE
 * with an empty result, EXPIRE in the past). `expired` and `evicted` come
 * from the store, `new` from a key's creation, `keymiss` from a read that
 * found nothing.
 */
import type { CommandContext } from './context.js';
import type { CommandSpec } from './command-spec.js';

/** Redis's NOTIFY_* bits. */
export const enum EventClass {
  Keyspace = 1 << 0,
  Keyevent = 1 << 1,
  Generic = 1 << 2,
  String = 1 << 3,
  List = 1 << 4,
  Set = 1 << 5,
  Hash = 1 << 6,
  Zset = 1 << 7,
  Expired = 1 << 8,
  Evicted = 1 << 9,
  Stream = 1 << 10,
  KeyMiss = 1 << 11,
  Module = 1 << 13,
  New = 1 << 14,
}

/** 'A': every class but key misses and new keys (NOTIFY_ALL). */
const ALL = EventClass.Generic | EventClass.String | EventClass.List | EventClass.Set | EventClass.Hash | EventClass.Zset |
  EventClass.Expired | EventClass.Evicted | EventClass.Stream | EventClass.Module;

const CHARS: [string, number][] = [
  ['g', EventClass.Generic], ['$', EventClass.String], ['l', EventClass.List], ['s', EventClass.Set], ['h', EventClass.Hash],
  ['z', EventClass.Zset], ['x', EventClass.Expired], ['e', EventClass.Evicted], ['t', EventClass.Stream], ['d', EventClass.Module],
];

export const INVALID_EVENT_CLASS = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/** keyspaceEventsStringToFlags: -1 for a character that is no class. */
export function parseEventClasses(text: string): number {
  let flags = 0;
  for (const ch of text) {
    switch (ch) {
      case 'A': flags |= ALL; break;
      case 'K': flags |= EventClass.Keyspace; break;
      case 'E': flags |= EventClass.Keyevent; break;
      case 'm': flags |= EventClass.KeyMiss; break;
      case 'n': flags |= EventClass.New; break;
      default: {
        const hit = CHARS.find(([c]) => c === ch);
        if (hit === undefined) return -1;
        flags |= hit[1];
      }
    }
  }
  return flags;
}

/** keyspaceEventsFlagsToString, Redis 7.0's (which shows 'n' only without 'A'). */
export function formatEventClasses(flags: number): string {
  let out = '';
  if ((flags & ALL) === ALL) {
    out += 'A';
  } else {
    for (const [ch, bit] of CHARS) if (flags & bit) out += ch;
    if (flags & EventClass.New) out += 'n';
  }
  if (flags & EventClass.Keyspace) out += 'K';
  if (flags & EventClass.Keyevent) out += 'E';
  if (flags & EventClass.KeyMiss) out += 'm';
  return out;
}

/** Whether an event of this class is published at all under these flags. */
export function eventWanted(flags: number, type: EventClass): boolean {
  return (flags & type) !== 0 && (flags & (EventClass.Keyspace | EventClass.Keyevent)) !== 0;
}

/** Where keyspace events go: local publishes (PubsubService.notify). */
export type EventSink = (channel: Uint8Array, message: Uint8Array) => void;

/** notifyKeyspaceEvent: the key's bytes at key[start, start + len), in logical database `db`. */
export function notifyKeyspaceEvent(flags: number, sink: EventSink, type: EventClass, event: string, db: number,
  key: Uint8Array, start: number, len: number): void {
  if (!eventWanted(flags, type)) return;
  const keyBytes = key.subarray(start, start + len);
  if (flags & EventClass.Keyspace) {
    const prefix = Buffer.from(`__keyspace@${db}__:`, 'latin1');
    const channel = Buffer.allocUnsafe(prefix.length + len);
    prefix.copy(channel, 0);
    channel.set(keyBytes, prefix.length);
    sink(channel, Buffer.from(event, 'latin1'));
  }
  if (flags & EventClass.Keyevent) sink(Buffer.from(`__keyevent@${db}__:${event}`, 'latin1'), keyBytes);
}

/**
 * How a command's declared event treats a key it leaves missing: `then-del`
 * fires the event and then `del` (a pop that emptied a list); `replace`
 * fires only `del` (a STORE with an empty result, EXPIRE in the past, DEL).
 */
export const enum MissingKey {
  ThenDel = 0,
  Replace = 1,
}

export interface KeyEvent {
  type: EventClass;
  name: string;
  missing: MissingKey;
}

const g = EventClass.Generic;
const s$ = EventClass.String;
const l = EventClass.List;
const s = EventClass.Set;
const h = EventClass.Hash;
const z = EventClass.Zset;
const R = MissingKey.Replace;
const D = MissingKey.ThenDel;

/** The event each write command fires for the keys it changed (those recording their own are absent). */
const COMMAND_EVENTS: Record<string, [EventClass, string, MissingKey]> = {
  setnx: [s$, 'set', R], getset: [s$, 'set', R], mset: [s$, 'set', R], msetnx: [s$, 'set', R], getdel: [g, 'del', R],
  incr: [s$, 'incrby', R], decr: [s$, 'incrby', R], incrby: [s$, 'incrby', R], decrby: [s$, 'incrby', R],
  incrbyfloat: [s$, 'incrbyfloat', R], append: [s$, 'append', R], setrange: [s$, 'setrange', R], setbit: [s$, 'setbit', R],
  bitfield: [s$, 'setbit', R], bitop: [s$, 'set', R],
  del: [g, 'del', R], unlink: [g, 'del', R], expire: [g, 'expire', R], pexpire: [g, 'expire', R], expireat: [g, 'expire', R],
  pexpireat: [g, 'expire', R], persist: [g, 'persist', R],
  lpush: [l, 'lpush', D], rpush: [l, 'rpush', D], lpushx: [l, 'lpush', D], rpushx: [l, 'rpush', D], lpop: [l, 'lpop', D],
  rpop: [l, 'rpop', D], blpop: [l, 'lpop', D], brpop: [l, 'rpop', D], lset: [l, 'lset', D],
  lrem: [l, 'lrem', D], linsert: [l, 'linsert', D],
  hset: [h, 'hset', D], hsetnx: [h, 'hset', D], hmset: [h, 'hset', D], hdel: [h, 'hdel', D], hincrby: [h, 'hincrby', D],
  hincrbyfloat: [h, 'hincrbyfloat', D],
  sadd: [s, 'sadd', D], srem: [s, 'srem', D], spop: [s, 'spop', D], sinterstore: [s, 'sinterstore', R],
  sunionstore: [s, 'sunionstore', R], sdiffstore: [s, 'sdiffstore', R],
  zadd: [z, 'zadd', D], zincrby: [z, 'zincr', D], zrem: [z, 'zrem', D], zremrangebyrank: [z, 'zremrangebyrank', D],
  zremrangebyscore: [z, 'zremrangebyscore', D], zremrangebylex: [z, 'zremrangebylex', D], zpopmin: [z, 'zpopmin', D],
  zpopmax: [z, 'zpopmax', D], bzpopmin: [z, 'zpopmin', D], bzpopmax: [z, 'zpopmax', D], zrangestore: [z, 'zrangestore', R],
  zunionstore: [z, 'zunionstore', R], zinterstore: [z, 'zinterstore', R], zdiffstore: [z, 'zdiffstore', R],
  sort: [l, 'sortstore', R],
};

/** The declared event of a command, or undefined (none, or it records its own). */
export function declaredEvent(spec: CommandSpec): KeyEvent | undefined {
  const e = COMMAND_EVENTS[spec.fullName ?? spec.name];
  return e === undefined ? undefined : { type: e[0], name: e[1], missing: e[2] };
}

/**
 * An event a handler recorded for one of its key arguments, in logical
 * database `db` (`thenDel`: followed by `del` if the key is gone).
 */
export interface RecordedEvent {
  type: EventClass;
  name: string;
  arg: number;
  thenDel: boolean;
  db: number;
}

function keyExistsAt(c: CommandContext, i: number): boolean {
  return c.ks.contains(c.ks.dbMap[c.client.db], c.buf, c.argStart[i], c.argLen[i]);
}

/** The events the handler recorded (c.keyEvents), whether or not the command changed anything (LTRIM fires always). */
export function fireRecordedEvents(c: CommandContext): void {
  const flags = c.server.keyspaceEvents;
  const sink = c.server.pubsub.notify;
  for (const e of c.keyEvents!) {
    notifyKeyspaceEvent(flags, sink, e.type, e.name, e.db, c.buf, c.argStart[e.arg], c.argLen[e.arg]);
    if (e.thenDel && !keyExistsAt(c, e.arg)) {
      notifyKeyspaceEvent(flags, sink, EventClass.Generic, 'del', e.db, c.buf, c.argStart[e.arg], c.argLen[e.arg]);
    }
  }
}

/**
 * After a write that changed the dataset and recorded no events of its own,
 * with its locks held: its declared event for each key it changed, and `del`
 * for those it left missing.
 */
export function fireDeclaredEvents(c: CommandContext, spec: CommandSpec, modified: ArrayLike<number>): void {
  const declared = spec.keyspaceEvent;
  if (declared === undefined) return;
  const flags = c.server.keyspaceEvents;
  const sink = c.server.pubsub.notify;
  const db = c.client.db;
  const at = (type: EventClass, name: string, i: number) =>
    notifyKeyspaceEvent(flags, sink, type, name, db, c.buf, c.argStart[i], c.argLen[i]);
  for (let k = 0; k < modified.length; k++) {
    const i = modified[k];
    if (keyExistsAt(c, i)) {
      at(declared.type, declared.name, i);
      continue;
    }
    if (declared.missing === MissingKey.ThenDel && declared.name !== 'del') at(declared.type, declared.name, i);
    at(EventClass.Generic, 'del', i);
  }
}
