/**
 * Differential testing against a real redis-server: the same requests go to
 * weft and to Redis 7.0.15 and their reply bytes are compared. Steps may ask
 * for a looser comparison where the bytes legitimately depend on time, order
 * or identity (TTL drift, hash order, client ids); each loosening is narrow.
 */
import type { Test } from 'tap';
import {
  encodeCommand, RawClient, replyLength, startRedis, startWeft, type ScriptStep, type ServerHandle,
} from './servers.js';

export interface Pair {
  weft: ServerHandle;
  redis: ServerHandle;
}

/** Starts weft and redis-server with the same extra arguments; both are stopped in teardown. */
export async function startPair(t: Test, args: string[] = [], weftOpts: { threads?: number } = {}): Promise<Pair> {
  const [weft, redis] = await Promise.all([startWeft(args, weftOpts), startRedis(args)]);
  t.teardown(() => Promise.all([weft.stop(), redis.stop()]).then(() => undefined));
  return { weft, redis };
}

/** One raw connection to each server, closed in teardown. */
export async function connectPair(t: Test, pair: Pair): Promise<[RawClient, RawClient]> {
  const [w, r] = await Promise.all([RawClient.connect(pair.weft.port), RawClient.connect(pair.redis.port)]);
  t.teardown(() => {
    w.close();
    r.close();
  });
  return [w, r];
}

/** A RESP value, parsed just enough to normalise: the type byte, the payload, children. */
export interface Resp {
  type: string;
  text: string;
  items: Resp[];
  raw: string;
}

/** Parses one RESP2/RESP3 reply (latin1 text) into a tree. */
export function parseResp(raw: string): Resp {
  const buf = Buffer.from(raw, 'latin1');
  const walk = (pos: number): [Resp, number] => {
    const len = replyLength(buf, pos);
    if (len < 0) throw new Error(`incomplete reply ${JSON.stringify(raw)}`);
    const type = raw[pos];
    const nl = raw.indexOf('\r\n', pos);
    const head = raw.slice(pos + 1, nl);
    const node: Resp = { type, text: head, items: [], raw: raw.slice(pos, pos + len) };
    if ('$=!'.includes(type)) {
      const n = Number(head);
      if (n >= 0) node.text = raw.slice(nl + 2, nl + 2 + n);
    } else if ('*~>%|'.includes(type) && Number(head) >= 0) {
      let n = Number(head);
      if (type === '%' || type === '|') n *= 2;
      let p = nl + 2;
      for (let i = 0; i < n; i++) {
        const [child, next] = walk(p);
        node.items.push(child);
        p = next;
      }
    }
    return [node, pos + len];
  };
  return walk(0)[0];
}

/**
 * A script step. A bare array is compared byte for byte; the object forms
 * loosen the comparison for that step only.
 */
export type Step =
  | ScriptStep
  | {
      cmd: ScriptStep;
      /** Integer replies may differ by this much (both must be integers of the same sign class). */
      near?: number;
      /** Array replies are compared as multisets (hash-order dependent output such as KEYS). */
      unordered?: boolean;
      /** Map replies (or RESP2 arrays of pairs) are compared as sets of pairs (CONFIG GET of several names). */
      unorderedPairs?: boolean;
      /** Maps each reply before comparing (both sides). */
      map?: (reply: string) => string;
    };

export interface Diff {
  step: string;
  weft: string;
  redis: string;
}

function show(cmd: ScriptStep): string {
  return cmd.map((a) => (typeof a === 'string' ? a : `<${a.length} bytes>`)).join(' ').slice(0, 200);
}

function sortedPairs(r: string): string {
  const p = parseResp(r);
  if (!'*%'.includes(p.type)) return r;
  const pairs: string[] = [];
  for (let i = 0; i + 1 < p.items.length; i += 2) pairs.push(p.items[i].raw + p.items[i + 1].raw);
  return `${p.type}${p.items.length}:` + pairs.sort().join('');
}

function sortedItems(r: string): string {
  const p = parseResp(r);
  if (!'*~'.includes(p.type)) return r;
  return `${p.type}${p.items.length}:` + p.items.map((i) => i.raw).sort().join('');
}

/** True when two integer replies are within `tol` and agree on the sign (-2, -1 and >= 0 are distinct classes). */
function nearIntegers(a: string, b: string, tol: number): boolean {
  const ma = /^:(-?\d+)\r\n$/.exec(a);
  const mb = /^:(-?\d+)\r\n$/.exec(b);
  if (!ma || !mb) return a === b;
  const x = Number(ma[1]);
  const y = Number(mb[1]);
  if (x < 0 || y < 0) return x === y;
  return Math.abs(x - y) <= tol;
}

/** Runs the steps on both connections (in lockstep) and returns the steps whose replies differ. */
export async function diffScript(w: RawClient, r: RawClient, steps: Step[]): Promise<Diff[]> {
  const diffs: Diff[] = [];
  for (const step of steps) {
    const s = Array.isArray(step) ? { cmd: step } : step;
    const [rw, rr] = await Promise.all([w.command(...s.cmd), r.command(...s.cmd)]);
    let a = rw.toString('latin1');
    let b = rr.toString('latin1');
    if (s.map) {
      a = s.map(a);
      b = s.map(b);
    }
    let same: boolean;
    if (s.near !== undefined) same = nearIntegers(a, b, s.near);
    else if (s.unordered) same = sortedItems(a) === sortedItems(b);
    else if (s.unorderedPairs) same = sortedPairs(a) === sortedPairs(b);
    else same = a === b;
    if (!same) {
      // JSON keeps each reply on one line in the test output.
      const d = { step: show(s.cmd), weft: JSON.stringify(a), redis: JSON.stringify(b) };
      if (process.env.WEFT_DIFF_LOG) process.stderr.write(`DIFF ${JSON.stringify(d)}\n`);
      diffs.push(d);
    }
  }
  return diffs;
}

/** What a server did with some raw bytes on a fresh connection. */
export interface RawOutcome {
  reply: string;
  closed: boolean;
}

/**
 * Sends raw bytes on a fresh connection and collects everything the server
 * writes until it closes the connection or stays quiet for `quietMs`.
 */
export async function rawExchange(port: number, bytes: Buffer | string | (Buffer | string)[], quietMs = 300): Promise<RawOutcome> {
  const c = await RawClient.connect(port);
  let got = '';
  c.socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
  const chunks = Array.isArray(bytes) ? bytes : [bytes];
  for (const chunk of chunks) {
    c.write(chunk);
    if (chunks.length > 1) await new Promise((res) => setTimeout(res, 30));
  }
  let last = got.length;
  let quietSince = Date.now();
  const deadline = Date.now() + 5000;
  while (!c.closed && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 20));
    if (got.length !== last) {
      last = got.length;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) {
      break;
    }
  }
  const outcome = { reply: got, closed: c.closed };
  c.close();
  return outcome;
}

/** rawExchange on both servers; the outcome is compared as a whole (reply bytes and whether it closed). */
export async function diffRaw(pair: Pair, cases: { name: string; bytes: Buffer | string | (Buffer | string)[] }[]): Promise<Diff[]> {
  const diffs: Diff[] = [];
  for (const k of cases) {
    const [a, b] = await Promise.all([rawExchange(pair.weft.port, k.bytes), rawExchange(pair.redis.port, k.bytes)]);
    if (a.reply !== b.reply || a.closed !== b.closed) {
      diffs.push({ step: k.name, weft: `${JSON.stringify(a.reply)} closed=${a.closed}`, redis: `${JSON.stringify(b.reply)} closed=${b.closed}` });
    }
  }
  return diffs;
}

/**
 * Sends all commands in one write followed by a sentinel ECHO, and returns
 * every byte received up to and including the sentinel's reply: for replies
 * that are suppressed (CLIENT REPLY) or pipelined.
 */
export async function pipelined(c: RawClient, cmds: ScriptStep[]): Promise<string> {
  const sentinel = '__pipeline_end__';
  c.write(Buffer.concat([...cmds.map((cmd) => encodeCommand(cmd)), encodeCommand(['ECHO', sentinel])]));
  const want = `$${sentinel.length}\r\n${sentinel}\r\n`;
  let got = '';
  for (;;) {
    const r = (await c.reply()).toString('latin1');
    got += r;
    if (r === want) return got;
  }
}

/** Map: replaces the integer after a given bulk key in a map/array reply (HELLO's "id"). */
export function maskIntegerAfter(key: string): (reply: string) => string {
  const marker = `$${key.length}\r\n${key}\r\n:`;
  return (reply) => {
    const i = reply.indexOf(marker);
    if (i < 0) return reply;
    const end = reply.indexOf('\r\n', i + marker.length);
    return reply.slice(0, i + marker.length) + 'N' + reply.slice(end);
  };
}

/** Map: any integer reply becomes ":N" (ids that weft and Redis number differently). */
export const anyInteger = (reply: string): string => reply.replace(/^:\d+\r\n$/, ':N\r\n');
