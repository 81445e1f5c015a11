/**
 * What a blocked client served by another client's write changed, signalled
 * as Redis's serveClientsBlockedOnListKey / ...SortedSetKey do: a served
 * BLMOVE's push event on its destination, then the pop event on the source
 * (lpop, rpop, zpopmin, zpopmax), `del` when the serve emptied the source,
 * and the WATCHers and tracking clients of the destination (the writer
 * signalled the source already).
 */
import type { CommandContext } from './context.js';
import type { ReadyKey } from './blocking.js';
import { EventClass, notifyKeyspaceEvent } from './keyspace-events.js';
import { touchKey } from './watched-keys.js';

/** The served effect as propagated: LPOP/RPOP/ZPOPMIN/ZPOPMAX key [count], or LMOVE source destination from to. */
type ServedEffect = (string | Uint8Array | number)[];

export function signalServed(c: CommandContext, k: ReadyKey, destination: Buffer | null, effect: ServedEffect): void {
  const flags = c.server.keyspaceEvents;
  if (destination !== null && c.server.watches.any) touchKey(c.ks, c.server.watches, k.db, destination);
  if (destination !== null && c.server.tracking.active) c.server.tracking.invalidate(c, destination, 0, destination.length);
  if (flags === 0) return;
  const db = c.ks.logicalDb(k.db);
  const sink = c.server.pubsub.notify;
  const fire = (type: EventClass, name: string, key: Uint8Array) => notifyKeyspaceEvent(flags, sink, type, name, db, key, 0, key.length);
  const command = String(effect[0]);
  if (command === 'LMOVE') {
    fire(EventClass.List, effect[4] === 'LEFT' ? 'lpush' : 'rpush', destination!);
    fire(EventClass.List, effect[3] === 'LEFT' ? 'lpop' : 'rpop', k.key);
  } else {
    fire(command.startsWith('Z') ? EventClass.Zset : EventClass.List, command.toLowerCase(), k.key);
  }
  if (!c.ks.contains(k.db, k.key, 0, k.key.length)) fire(EventClass.Generic, 'del', k.key);
}
