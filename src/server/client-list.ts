/** CLIENT LIST / CLIENT INFO lines and CLIENT KILL filters, in Redis 7's format. */
import type { ClientFilter } from '../commands/client-state.js';
import type { Connection } from './connection.js';

/** What the worker knows of a connection beyond the connection itself. */
export interface ClientListState {
  channels: number;
  patterns: number;
  shardChannels: number;
  blocked: boolean;
  /** A watched key changed: EXEC will fail (flag d). */
  watchDirty: boolean;
}

/** clientFlagsString: Redis's flag letters, in its order, or N. */
function flagLetters(c: Connection, s: ClientListState): string {
  let flags = '';
  if (c.isReplica) flags += 'S';
  else if (c.monitor) flags += 'O';
  if (s.channels + s.patterns + s.shardChannels > 0) flags += 'P';
  if (c.multi !== null) flags += 'x';
  if (s.blocked) flags += 'b';
  const t = c.tracking;
  if (t !== null) {
    flags += 't';
    if (t.brokenRedirect) flags += 'R';
    if (t.bcast) flags += 'B';
  }
  if (s.watchDirty) flags += 'd';
  if (c.closeAfterReply) flags += 'c';
  if (c.readonlyReplicaReads) flags += 'r';
  if (c.noEvict) flags += 'e';
  return flags === '' ? 'N' : flags;
}

export function clientInfoLine(c: Connection, now: number, s: ClientListState): string {
  const age = Math.floor((now - c.createdAt) / 1000);
  const idle = Math.floor((now - c.lastInteraction) / 1000);
  const multi = c.multi === null ? -1 : c.multi.count;
  const multiMem = c.multi?.bytes ?? 0;
  const qbuf = c.queryBufferBytes;
  const omem = c.outputBytes;
  return `id=${c.id} addr=${c.address} laddr=${c.localAddress} fd=${c.fd} name=${c.name} age=${age} idle=${idle} flags=${flagLetters(c, s)} ` +
    `db=${c.db} sub=${s.channels} psub=${s.patterns} ssub=${s.shardChannels} multi=${multi} qbuf=${qbuf} qbuf-free=0 argv-mem=0 ` +
    `multi-mem=${multiMem} rbs=0 rbp=0 obl=0 oll=0 omem=${omem} tot-mem=${qbuf + omem + multiMem} events=r cmd=${c.lastCommand} user=${c.user} redir=${c.tracking === null ? -1 : c.tracking.redirect} resp=${c.resp} lib-name=${c.libName} lib-ver=${c.libVersion} ` +
    // The worker thread serving the connection, named as newer Redis and Valkey name their I/O threads.
    `io-thread=${c.worker}`;
}

export function matchesFilter(c: Connection, f: ClientFilter): boolean {
  if (f.ids && !f.ids.includes(c.id)) return false;
  if (f.address !== undefined && c.address !== f.address) return false;
  if (f.localAddress !== undefined && c.localAddress !== f.localAddress) return false;
  if (f.user !== undefined && c.user !== f.user) return false;
  if (f.type !== undefined) {
    // getClientType: a replica's connection is of type replica (alias slave), every other one here normal.
    const type = c.isReplica ? 'replica' : 'normal';
    if ((f.type === 'slave' ? 'replica' : f.type) !== type) return false;
  }
  if (f.skipMe && f.self === c.id) return false;
  return true;
}
