/**
 * Replication test helpers: a server's whole dataset (every key of every
 * database, of every type, with its value and absolute expire time), a
 * comparison of two datasets that names the first differences, and INFO
 * replication as fields.
 */
import type { RawClient } from './servers.js';
import { bulk } from './cluster.js';
import { parseResp } from './differential.js';

/**
 * "db:key" → its type (TYPE), its value in a canonical text and its
 * PEXPIRETIME (-1 without one), all binary-safe (latin1). A string's value is
 * its bytes; a collection's is the JSON of its contents in a canonical order:
 * a list in its order, a hash's field/value pairs sorted by field, a set's
 * members sorted, a sorted set's member/score pairs in rank order.
 */
export type Dataset = Map<string, { type: string; value: string; expireAt: number }>;

const text = (b: Buffer) => b.toString('latin1');

/** Array of bulk strings → their texts. */
function bulkArray(reply: Buffer): string[] {
  const r = parseResp(text(reply));
  if (r.type === '-') throw new Error(r.text);
  return r.items.map((i) => i.text);
}

/** Pairs of an HGETALL / ZRANGE WITHSCORES reply (RESP2 flat array). */
function pairsOf(items: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < items.length; i += 2) out.push([items[i], items[i + 1]]);
  return out;
}

/** The command reading a whole value of the type, and its canonical text from the reply. */
const readers: Record<string, { cmd: (k: Buffer) => (string | Buffer)[]; canon: (reply: Buffer) => string }> = {
  string: { cmd: (k) => ['GET', k], canon: (r) => bulk(r) },
  list: { cmd: (k) => ['LRANGE', k, '0', '-1'], canon: (r) => JSON.stringify(bulkArray(r)) },
  hash: {
    cmd: (k) => ['HGETALL', k],
    canon: (r) => JSON.stringify(pairsOf(bulkArray(r)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))),
  },
  set: { cmd: (k) => ['SMEMBERS', k], canon: (r) => JSON.stringify(bulkArray(r).sort()) },
  zset: { cmd: (k) => ['ZRANGE', k, '0', '-1', 'WITHSCORES'], canon: (r) => JSON.stringify(pairsOf(bulkArray(r))) },
};

/** Reads every key of databases 0..databases-1: TYPE and PEXPIRETIME of each, then its whole value as its type reads. */
export async function datasetOf(c: RawClient, databases = 16): Promise<Dataset> {
  const data: Dataset = new Map();
  for (let db = 0; db < databases; db++) {
    await c.command('SELECT', String(db));
    const keys = bulkArray(await c.command('KEYS', '*')).map((k) => Buffer.from(k, 'latin1'));
    if (keys.length === 0) continue;
    const meta = await c.pipeline(keys.flatMap((k) => [['TYPE', k], ['PEXPIRETIME', k]]), 30000);
    const types = keys.map((_, i) => /^\+(\w+)\r\n$/.exec(text(meta[2 * i]))?.[1] ?? `unreadable ${JSON.stringify(text(meta[2 * i]))}`);
    const values = await c.pipeline(keys.map((k, i) => (readers[types[i]] ?? readers.string).cmd(k)), 30000);
    keys.forEach((k, i) => {
      const expireAt = Number(/^:(-?\d+)/.exec(text(meta[2 * i + 1]))![1]);
      const reader = readers[types[i]];
      const value = reader ? reader.canon(values[i]) : text(values[i]);
      data.set(`${db}:${text(k)}`, { type: types[i], value, expireAt });
    });
  }
  await c.command('SELECT', '0');
  return data;
}

/** A value for a failure message: long ones cut. */
const shown = (v: { type: string; value: string; expireAt: number }) =>
  JSON.stringify({ ...v, value: v.value.length > 200 ? `${v.value.slice(0, 200)}... (${v.value.length} chars)` : v.value });

/** Where two long texts first differ, for a failure message. */
function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `first difference at char ${i}: ${JSON.stringify(a.slice(Math.max(0, i - 40), i + 80))} vs ${JSON.stringify(b.slice(Math.max(0, i - 40), i + 80))}`;
}

/** null when both hold the same keys, values and expire times; otherwise the first differences. */
export function sameDataset(a: Dataset, b: Dataset): string | null {
  const diffs: string[] = [];
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w) diffs.push(`${k} missing from the second`);
    else if (w.type !== v.type || w.value !== v.value || w.expireAt !== v.expireAt) {
      diffs.push(`${k}: ${shown(v)} vs ${shown(w)}${w.value !== v.value ? `; ${firstDifference(v.value, w.value)}` : ''}`);
    }
    if (diffs.length >= 10) break;
  }
  for (const k of b.keys()) {
    if (diffs.length >= 10) break;
    if (!a.has(k)) diffs.push(`${k} only in the second`);
  }
  return diffs.length === 0 && a.size === b.size ? null : `${a.size} vs ${b.size} keys; ${diffs.join('; ')}`;
}

/** INFO replication as name → value. */
export async function replicationInfo(c: RawClient): Promise<Record<string, string>> {
  const info = bulk(await c.command('INFO', 'replication'));
  const out: Record<string, string> = {};
  for (const line of info.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) out[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return out;
}
