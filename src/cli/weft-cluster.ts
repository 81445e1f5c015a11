/**
 * weft-cluster: starts a local weft cluster (masters and replicas as separate
 * weft-server processes on loopback), joins it (CLUSTER MEET), assigns the
 * slots evenly, sets up replicas, waits for cluster_state:ok everywhere and
 * prints ready-to-paste client and benchmark command lines. `stop` and
 * `status` use the pids it recorded in its directory.
 *
 *   weft-cluster start [--masters 3] [--replicas 1] [--port 7000] [--threads N]
 *                      [--dir DIR] [--node-timeout MS] [--foreground] [--any-weft-server-option value ...]
 *   weft-cluster stop [--dir DIR]
 *   weft-cluster status [--dir DIR]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RespClient, RespError } from './resp-client.js';

const SLOTS = 16384;
const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'server', 'main.js');
const STATE_FILE = 'weft-cluster.json';

interface NodeRecord {
  port: number;
  pid: number;
  dir: string;
  role: 'master' | 'replica';
}

interface Options {
  masters: number;
  replicas: number;
  port: number;
  threads: number | null;
  dir: string;
  nodeTimeout: number;
  foreground: boolean;
  /** Every other --name value pair, passed to each node. */
  passThrough: string[];
}

function usage(message: string): never {
  process.stderr.write(`weft-cluster: ${message}\n` +
    'usage: weft-cluster start [--masters 3] [--replicas 1] [--port 7000] [--threads N] [--dir DIR] [--node-timeout MS] [--foreground] [--weft-server-option value ...]\n' +
    '       weft-cluster stop [--dir DIR]\n       weft-cluster status [--dir DIR]\n');
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const o: Options = { masters: 3, replicas: 1, port: 7000, threads: null, dir: path.resolve('weft-cluster'), nodeTimeout: 5000, foreground: false, passThrough: [] };
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) usage(`--${name} needs an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) usage(`unexpected argument '${a}'`);
    const name = a.slice(2);
    if (name === 'foreground') {
      o.foreground = true;
      continue;
    }
    const v = argv[++i];
    if (name === 'masters') o.masters = int(name, v, 1);
    else if (name === 'replicas') o.replicas = int(name, v, 0);
    else if (name === 'port') o.port = int(name, v, 1);
    else if (name === 'threads') o.threads = int(name, v, 1);
    else if (name === 'node-timeout') o.nodeTimeout = int(name, v, 1);
    else if (name === 'dir') o.dir = path.resolve(v ?? usage('--dir needs a value'));
    else if (v === undefined) usage(`--${name} needs a value`);
    else o.passThrough.push(a, v);
  }
  return o;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds or the time is up, saying what it waits for. */
async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not ready yet: try again until the deadline.
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

async function withClient<T>(port: number, f: (c: RespClient) => Promise<T>): Promise<T> {
  const c = await RespClient.connect(port);
  try {
    return await f(c);
  } finally {
    c.close();
  }
}

function readState(dir: string): NodeRecord[] {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), 'utf8')) as NodeRecord[];
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function start(o: Options): Promise<void> {
  const total = o.masters * (1 + o.replicas);
  // By default the masters, which serve the traffic, share the host's cores.
  const threads = o.threads ?? Math.max(1, Math.floor(os.availableParallelism() / o.masters));
  if (readState(o.dir).some((n) => alive(n.pid))) usage(`a cluster from ${o.dir} is still running: weft-cluster stop --dir ${o.dir}`);
  fs.mkdirSync(o.dir, { recursive: true });
  const nodes: NodeRecord[] = [];
  const children: ChildProcess[] = [];
  process.stdout.write(`Starting ${total} weft nodes (${o.masters} masters, ${o.replicas} replica(s) each, ${threads} worker thread(s) per node) on ports ${o.port}-${o.port + total - 1}...\n`);
  for (let i = 0; i < total; i++) {
    const port = o.port + i;
    const dir = path.join(o.dir, `node-${port}`);
    fs.mkdirSync(dir, { recursive: true });
    const args = [MAIN, '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(o.nodeTimeout),
      // memtier matches hosts by their exact text: announce the address clients will use.
      '--cluster-announce-ip', '127.0.0.1', '--dir', dir, '--logfile', path.join(dir, 'weft.log'),
      '--save', '', '--threads', String(threads), ...o.passThrough];
    const child = spawn(process.execPath, args, { detached: !o.foreground, stdio: 'ignore' });
    if (!o.foreground) child.unref();
    children.push(child);
    nodes.push({ port, pid: child.pid!, dir, role: i < o.masters ? 'master' : 'replica' });
  }
  fs.writeFileSync(path.join(o.dir, STATE_FILE), JSON.stringify(nodes, null, 2));
  const stopAll = () => {
    for (const n of nodes) {
      try {
        process.kill(n.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
  };
  try {
    for (const n of nodes) {
      await waitFor(`node ${n.port} to accept connections (log: ${path.join(n.dir, 'weft.log')})`, 20000,
        () => withClient(n.port, async (c) => (await c.call('PING')) === 'PONG'));
    }
    const ids = await Promise.all(nodes.map((n) => withClient(n.port, (c) => c.call('CLUSTER', 'MYID') as Promise<string>)));
    // A node that already has a configuration (a restart) keeps it.
    const fresh = await withClient(nodes[0].port, async (c) => /cluster_known_nodes:1\r\n/.test(String(await c.call('CLUSTER', 'INFO'))));
    if (fresh) {
      process.stdout.write('Joining the nodes (CLUSTER MEET)...\n');
      await withClient(nodes[0].port, async (c) => {
        for (const n of nodes.slice(1)) await c.call('CLUSTER', 'MEET', '127.0.0.1', n.port);
      });
      await waitFor('every node to know every other node', 30000, async () => {
        for (const n of nodes) {
          const text = String(await withClient(n.port, (c) => c.call('CLUSTER', 'NODES')));
          const lines = text.trim().split('\n');
          if (lines.length !== total || /handshake/.test(text)) return false;
        }
        return true;
      });
      process.stdout.write(`Assigning ${SLOTS} slots to ${o.masters} masters...\n`);
      for (let m = 0; m < o.masters; m++) {
        const first = Math.floor((m * SLOTS) / o.masters);
        const last = Math.floor(((m + 1) * SLOTS) / o.masters) - 1;
        await withClient(nodes[m].port, (c) => c.call('CLUSTER', 'ADDSLOTSRANGE', first, last));
      }
      if (o.replicas > 0) {
        process.stdout.write('Setting up replicas (CLUSTER REPLICATE)...\n');
        for (let r = o.masters; r < total; r++) {
          const master = (r - o.masters) % o.masters;
          await waitFor(`node ${nodes[r].port} to see ${nodes[master].port} as a master`, 20000, async () => {
            const reply = await withClient(nodes[r].port, (c) => c.command('CLUSTER', 'REPLICATE', ids[master]));
            if (reply instanceof RespError) throw reply;
            return true;
          });
        }
      }
    }
    await waitFor('cluster_state:ok on every node', 30000, async () => {
      for (const n of nodes) {
        if (!/cluster_state:ok/.test(String(await withClient(n.port, (c) => c.call('CLUSTER', 'INFO'))))) return false;
      }
      return true;
    });
    // Ready means failover-ready: every replica has synchronised with its master.
    await waitFor('every replica to synchronise with its master', 30000, async () => {
      for (const n of nodes.filter((x) => x.role === 'replica')) {
        if (!/master_link_status:up/.test(String(await withClient(n.port, (c) => c.call('INFO', 'replication'))))) return false;
      }
      return true;
    });
  } catch (e) {
    process.stderr.write(`weft-cluster: ${(e as Error).message}\nStopping the nodes; their logs are in ${o.dir}.\n`);
    stopAll();
    process.exit(1);
  }
  const p = o.port;
  process.stdout.write(`\nweft cluster ready: cluster_state:ok on all ${total} nodes.\n` +
    nodes.map((n) => `  127.0.0.1:${n.port}  ${n.role}  pid ${n.pid}`).join('\n') + '\n\n' +
    'Try it:\n' +
    `  redis-cli -c -p ${p}\n` +
    `  redis-benchmark --cluster -p ${p} -t set,get -c 50 -r 1000000 -d 32 -n 200000 -q\n` +
    `  memtier_benchmark --cluster-mode -s 127.0.0.1 -p ${p} --protocol=redis -t 2 -c 25 --test-time 30\n` +
    `  bin/weft-bench --cluster-mode -s 127.0.0.1 -p ${p} -t 2 -c 25 --test-time 30\n` +
    `  weft-cluster status --dir ${o.dir}\n`);
  if (o.foreground) {
    process.stdout.write('\nPress Ctrl-C to stop every node.\n');
    const onSignal = () => {
      stopAll();
      process.exit(0);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    await new Promise(() => {});
  } else {
    process.stdout.write(`  weft-cluster stop --dir ${o.dir}\n`);
  }
}

async function stop(dir: string): Promise<void> {
  const nodes = readState(dir);
  if (nodes.length === 0) usage(`no cluster recorded in ${dir}`);
  for (const n of nodes) {
    if (alive(n.pid)) process.kill(n.pid, 'SIGTERM');
  }
  const deadline = Date.now() + 10000;
  while (nodes.some((n) => alive(n.pid)) && Date.now() < deadline) await sleep(100);
  const left = nodes.filter((n) => alive(n.pid));
  for (const n of left) process.kill(n.pid, 'SIGKILL');
  process.stdout.write(`Stopped ${nodes.length} node(s)${left.length ? ` (${left.length} killed after 10 s)` : ''}.\n`);
}

async function status(dir: string): Promise<void> {
  const nodes = readState(dir);
  if (nodes.length === 0) usage(`no cluster recorded in ${dir}`);
  for (const n of nodes) {
    let line = `127.0.0.1:${n.port} pid ${n.pid} `;
    if (!alive(n.pid)) line += 'not running';
    else {
      try {
        const info = String(await withClient(n.port, (c) => c.call('CLUSTER', 'INFO')));
        line += `${/cluster_state:(\w+)/.exec(info)?.[1] ?? '?'} ${n.role} known_nodes=${/cluster_known_nodes:(\d+)/.exec(info)?.[1] ?? '?'}`;
      } catch (e) {
        line += `running but not answering: ${(e as Error).message}`;
      }
    }
    process.stdout.write(line + '\n');
  }
}

async function main(): Promise<void> {
  const [verb, ...rest] = process.argv.slice(2);
  const o = parseOptions(rest);
  if (verb === 'start') await start(o);
  else if (verb === 'stop') await stop(o.dir);
  else if (verb === 'status') await status(o.dir);
  else usage(verb ? `unknown command '${verb}'` : 'a command is needed');
}

main().catch((e) => {
  process.stderr.write(`weft-cluster: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
