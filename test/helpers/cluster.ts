/**
 * Multi-node cluster helpers for the interop tests: start weft or Redis
 * cluster nodes on free ports (each with its own directory and an explicit
 * bus port),
 * join them with CLUSTER MEET, give masters their slots, and wait, bounded,
 * for what Redis Cluster converges to on its own timers. Every process is
 * stopped by its PID in the test's teardown.
 */
import fs from 'node:fs';
import net from 'node:net';
import { spawn } from 'node:child_process';
import type { Test } from 'tap';
import { RawClient, startRedis, startWeft, tempDir, type ServerHandle } from './servers.js';
import { parseResp } from './differential.js';

export const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

export type Kind = 'weft' | 'redis';

/** One running cluster node: its process, ports, directory, id and a raw connection. */
export interface Node {
  kind: Kind;
  server: ServerHandle;
  port: number;
  cport: number;
  dir: string;
  id: string;
  client: RawClient;
}

/** The text of a bulk (or verbatim) reply; an error reply throws with its text. */
export function bulk(reply: Buffer): string {
  const r = parseResp(reply.toString('latin1'));
  if (r.type === '-') throw new Error(r.text);
  return r.type === '=' ? r.text.slice(4) : r.text;
}

/**
 * Polls `check` until it returns true, at most timeoutMs. A check returns a
 * description of what it saw otherwise, which the failure message carries
 * with what was waited for.
 */
export async function waitFor(what: string, timeoutMs: number, check: () => Promise<true | string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const r = await check();
      if (r === true) return;
      last = r;
    } catch (e) {
      last = `error: ${(e as Error).message}`;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen:\n${last}`);
    await sleep(100);
  }
}

/**
 * Starts one cluster-enabled node, stopped in teardown, on ports of its own
 * (the later --port wins over the one startWeft and startRedis pick, as in
 * redis-server). A given port, bus port and dir restart a node where it was.
 */
export async function startNode(
  t: Test, kind: Kind, opts: { dir?: string; port?: number; cport?: number; threads?: number; announce?: boolean; extra?: string[] } = {},
): Promise<Node> {
  const dir = opts.dir ?? tempDir(`weft-${kind}-cluster-`);
  if (!opts.dir) t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const port = opts.port ?? await pickPort();
  const cport = opts.cport ?? await pickPort();
  // Announcing 127.0.0.1 makes CLUSTER SLOTS name a host before any MEET, as weft-cluster does.
  const args = ['--cluster-enabled', 'yes', '--dir', dir, '--cluster-port', String(cport),
    ...(opts.announce === false ? [] : ['--cluster-announce-ip', '127.0.0.1']), '--cluster-node-timeout', '2000',
    '--port', String(port), ...(opts.extra ?? [])];
  const server = await (kind === 'weft' ? startWeft(args, { threads: opts.threads ?? 1 }) : startRedis(args));
  t.teardown(() => server.stop());
  const client = await RawClient.connect(port);
  t.teardown(() => client.close());
  const id = bulk(await client.command('CLUSTER', 'MYID'));
  return { kind, server, port, cport, dir, id, client };
}

/** Sends every command at once and reads the replies in order. */
export function pipeline(c: RawClient, cmds: (string | Buffer)[][]): Promise<Buffer[]> {
  return c.pipeline(cmds);
}

export async function clusterInfo(n: Node): Promise<string> {
  return bulk(await n.client.command('CLUSTER', 'INFO'));
}

export async function clusterNodes(n: Node): Promise<string> {
  return bulk(await n.client.command('CLUSTER', 'NODES'));
}

/** Waits until every node knows all of `nodes`, none of them in handshake. */
export async function waitAllKnown(nodes: Node[], timeoutMs: number): Promise<void> {
  await waitFor(`every one of ${nodes.length} nodes to list ${nodes.length} nodes in CLUSTER NODES, none in handshake`, timeoutMs, async () => {
    for (const n of nodes) {
      const text = await clusterNodes(n);
      const lines = text.trim().split('\n');
      if (lines.length !== nodes.length || /handshake|noaddr/.test(text)) return `node ${n.port}:\n${text}`;
    }
    return true;
  });
}

/** Waits for cluster_state:ok on every node. */
export async function waitStateOk(nodes: Node[], timeoutMs: number): Promise<void> {
  await waitFor(`cluster_state:ok on all of ${nodes.map((n) => n.port).join(', ')}`, timeoutMs, async () => {
    for (const n of nodes) {
      const info = await clusterInfo(n);
      if (!/cluster_state:ok\r\n/.test(info)) return `node ${n.port}:\n${info}`;
    }
    return true;
  });
}

/**
 * Joins the nodes (the first MEETs each other one, naming its bus port) and
 * splits the 16384 slots over the first `masters` in equal ranges, as
 * redis-cli --cluster create does; waits for every node to know every other
 * and for cluster_state:ok everywhere.
 */
export async function formCluster(nodes: Node[], masters = nodes.length): Promise<void> {
  for (const n of nodes.slice(1)) {
    const r = (await nodes[0].client.command('CLUSTER', 'MEET', '127.0.0.1', String(n.port), String(n.cport))).toString();
    if (r !== '+OK\r\n') throw new Error(`CLUSTER MEET ${n.port}: ${r}`);
  }
  await waitAllKnown(nodes, 20000);
  for (let m = 0; m < masters; m++) {
    const first = Math.floor((m * 16384) / masters);
    const last = Math.floor(((m + 1) * 16384) / masters) - 1;
    const r = (await nodes[m].client.command('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last))).toString();
    if (r !== '+OK\r\n') throw new Error(`CLUSTER ADDSLOTSRANGE ${first} ${last} on ${nodes[m].port}: ${r}`);
  }
  await waitStateOk(nodes, 30000);
}

/** Runs a tool to completion, asynchronously (this process keeps serving its sockets), killed after timeoutMs. */
export function runTool(cmd: string, args: string[], timeoutMs = 60000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      out += `\n[killed after ${timeoutMs} ms]`;
      p.kill('SIGKILL');
    }, timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** Whether a port can be listened on at 127.0.0.1 right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * The first port the kernel hands out to outgoing connections. Ports for
 * the nodes come from below it: a free ephemeral port (what freePort gives)
 * can be taken by a client socket, or handed out twice, before a node
 * starting alongside eleven others binds it.
 */
const EPHEMERAL_LOW = (() => {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
})();
/** Ports this process handed out already (nodes of one test start in parallel). */
const handedOut = new Set<number>();

/** count consecutive ports from a random base in [min, max), each free and not handed out before. */
async function pickPorts(count: number, min: number, max: number, alsoFree: (p: number) => number[] = () => []): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = min + Math.floor(Math.random() * (max - min - count));
    const ports = Array.from({ length: count }, (_, i) => base + i).flatMap((p) => [p, ...alsoFree(p)]);
    if (ports.some((p) => handedOut.has(p))) continue;
    ports.forEach((p) => handedOut.add(p));
    let ok = true;
    for (const p of ports) if (ok) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} free port(s) found in ${min}-${max}`);
}

/** A free port for a node or its bus, below the ephemeral range. */
export function pickPort(): Promise<number> {
  return pickPorts(1, EPHEMERAL_LOW - 10000, EPHEMERAL_LOW);
}

/**
 * A base port P with P..P+count-1 and their bus ports (+10000) free, all
 * below the ephemeral range, for weft-cluster start, which numbers its
 * nodes from --port up.
 */
export function freePortRange(count: number): Promise<number> {
  return pickPorts(count, EPHEMERAL_LOW - 20000, EPHEMERAL_LOW - 10000, (p) => [p + 10000]);
}

/** A cluster of masters with one replica each: replicas[i] replicates masters[i]. */
export interface ReplicatedCluster {
  masters: Node[];
  replicas: Node[];
}

/**
 * Starts `masters` masters and one replica for each, forms the cluster, makes
 * the replicas (CLUSTER REPLICATE) and waits until every replica's link is up
 * and every node lists every replica under its master.
 */
export async function startReplicatedCluster(
  t: Test, kind: Kind, masters = 3, opts: { extra?: string[] } = {},
): Promise<ReplicatedCluster> {
  const nodes = await Promise.all(Array.from({ length: masters * 2 }, () => startNode(t, kind, { threads: 1, extra: opts.extra })));
  await formCluster(nodes, masters);
  const c: ReplicatedCluster = { masters: nodes.slice(0, masters), replicas: nodes.slice(masters) };
  for (let i = 0; i < masters; i++) {
    const r = (await c.replicas[i].client.command('CLUSTER', 'REPLICATE', c.masters[i].id)).toString();
    if (r !== '+OK\r\n') throw new Error(`CLUSTER REPLICATE on ${c.replicas[i].port}: ${r}`);
  }
  await waitReplicasReady(c, 30000);
  return c;
}

/** The node id that `n` says myself replicates ('-' for a master). */
export async function masterOf(n: Node): Promise<string> {
  const mine = (await clusterNodes(n)).split('\n').find((l) => l.includes('myself'))!;
  return mine.split(' ')[3];
}

/** Waits until replicas[i] is linked to masters[i] and every node knows it as masters[i]'s replica. */
export async function waitReplicasReady(c: ReplicatedCluster, timeoutMs: number): Promise<void> {
  const all = [...c.masters, ...c.replicas];
  await waitFor('every replica linked to its master and known as its replica by every node', timeoutMs, async () => {
    for (let i = 0; i < c.replicas.length; i++) {
      if (c.replicas[i].client.closed) return `the connection to replica ${c.replicas[i].port} is closed`;
      const info = bulk(await c.replicas[i].client.command('INFO', 'replication'));
      if (!info.includes(`master_port:${c.masters[i].port}\r\n`) || !info.includes('master_link_status:up')) return `replica ${c.replicas[i].port}:\n${info}`;
    }
    for (const n of all) {
      if (n.client.closed) return `the connection to ${n.port} is closed`;
      const text = await clusterNodes(n);
      for (let i = 0; i < c.replicas.length; i++) {
        const line = text.split('\n').find((l) => l.startsWith(c.replicas[i].id));
        if (!line || !/ (myself,)?slave /.test(line) || line.split(' ')[3] !== c.masters[i].id) return `node ${n.port}:\n${text}`;
      }
    }
    return true;
  });
}
