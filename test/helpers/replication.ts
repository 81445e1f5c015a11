/**
 * Replication test helpers: a server's whole dataset (every key of every
 * database with its value and absolute expire time), a comparison of two
 * datasets that names the first differences, and INFO replication as fields.
 */
import type { RawClient } from './servers.js';
import { bulk } from './cluster.js';

/** "db:key" → value and PEXPIRETIME (-1 without one), all binary-safe (latin1). */
export type Dataset = Map<string, { value: string; expireAt: number }>;

const text = (b: Buffer) => b.toString('latin1');

/** Array of bulk strings → their texts. */
function bulkArray(reply: Buffer): string[] {
  const out: string[] = [];
  const s = text(reply);
  let pos = s.indexOf('\r\n') + 2;
  while (pos < s.length) {
    const nl = s.indexOf('\r\n', pos);
    const len = Number(s.slice(pos + 1, nl));
    out.push(s.slice(nl + 2, nl + 2 + len));
    pos = nl + 2 + len + 2;
  }
  return out;
}

/** Reads every key of databases 0..databases-1 (weft keeps strings only, so GET reads any value). */
export async function datasetOf(c: RawClient, databases = 16): Promise<Dataset> {
  const data: Dataset = new Map();
  for (let db = 0; db < databases; db++) {
    await c.command('SELECT', String(db));
    const keys = bulkArray(await c.command('KEYS', '*')).map((k) => Buffer.from(k, 'latin1'));
    if (keys.length === 0) continue;
    const replies = await c.pipeline(keys.flatMap((k) => [['GET', k], ['PEXPIRETIME', k]]), 30000);
    keys.forEach((k, i) => {
      const expireAt = Number(/^:(-?\d+)/.exec(text(replies[2 * i + 1]))![1]);
      data.set(`${db}:${text(k)}`, { value: bulk(replies[2 * i]), expireAt });
    });
  }
  await c.command('SELECT', '0');
  return data;
}

/** null when both hold the same keys, values and expire times; otherwise the first differences. */
export function sameDataset(a: Dataset, b: Dataset): string | null {
  const diffs: string[] = [];
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w) diffs.push(`${k} missing from the second`);
    else if (w.value !== v.value || w.expireAt !== v.expireAt) diffs.push(`${k}: ${JSON.stringify(v)} vs ${JSON.stringify(w)}`);
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
