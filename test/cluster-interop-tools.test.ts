/**
 * weft nodes formed into clusters by the tools and mechanisms Redis users
 * rely on: `redis-cli --cluster create` on six plain weft-server processes
 * (then `--cluster check` and `--cluster info`, and the topology replies and
 * replica redirections compared with six redis-server processes given the
 * same command), and gossip alone: six nodes
 * met in a chain must all learn of each other, and a node stopped with
 * SIGTERM, failed by the others and restarted with the same directory and
 * port must come back as itself (id, epochs, slots from nodes.conf) and be
 * taken back by the others. Last, weft-cluster start/status/stop, with
 * redis-benchmark --cluster and redis-cli --cluster check against the
 * cluster it starts.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { NODE, requireRedisTools, ROOT, tempDir } from './helpers/servers.js';
import { parseResp, type Resp } from './helpers/differential.js';
import {
  bulk, clusterInfo, clusterNodes, freePortRange, runTool, startNode, waitAllKnown, waitFor, waitStateOk, type Node,
} from './helpers/cluster.js';

const WEFT_CLUSTER = path.join(ROOT, 'dist', 'cli', 'weft-cluster.js');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The CLUSTER NODES line a node gives about the node with this id. */
async function lineAbout(viewer: Node, id: string): Promise<string> {
  return (await clusterNodes(viewer)).split('\n').find((l) => l.startsWith(`${id} `)) ?? `(${viewer.port} does not know ${id})`;
}

/** The epoch lines of CLUSTER INFO. */
async function epochs(n: Node): Promise<string[]> {
  return (await clusterInfo(n)).split('\r\n').filter((l) => /^cluster_(current|my)_epoch:/.test(l));
}

/** A RESP reply written back out, each bulk or simple string passed through `f` (bulk lengths recomputed). */
function serialise(r: Resp, f: (text: string) => string): string {
  if ('$=!'.includes(r.type) && r.text !== '-1') {
    const body = f(r.text);
    return `${r.type}${Buffer.byteLength(body, 'latin1')}\r\n${body}\r\n`;
  }
  if ('*~>%|'.includes(r.type) && !r.text.startsWith('-')) return `${r.type}${r.text}\r\n` + r.items.map((i) => serialise(i, f)).join('');
  return `${r.type}${f(r.text)}\r\n`;
}

/**
 * Names a 6-node cluster's nodes by role (M0-M2: masters in slot order, Rn: the
 * replica of Mn) and sends commands by those names, with "$M0"-style
 * arguments replaced by the node's id. Replies come back with ids, ports and
 * bus ports replaced by the names, and what legitimately differs from run to
 * run masked: ping/pong times in node lines, message counters in CLUSTER
 * INFO, replication offsets and the order of shards in CLUSTER SHARDS.
 */
async function labelCluster(nodes: Node[]): Promise<{ send: (label: string, cmd: string[]) => Promise<string> }> {
  const lines = (await clusterNodes(nodes[0])).trim().split('\n').map((l) => l.split(' '));
  const masters = lines.filter((f) => f[3] === '-' && f.length > 8).sort((a, b) => parseInt(a[8]) - parseInt(b[8]));
  const labels = new Map<string, string>();
  masters.forEach((f, i) => labels.set(f[0], `M${i}`));
  for (const f of lines) if (f[3] !== '-') labels.set(f[0], `R${labels.get(f[3])!.slice(1)}`);
  const byLabel = new Map<string, Node>();
  const swaps: [RegExp, string][] = [];
  for (const f of lines) {
    const label = labels.get(f[0])!;
    const [, port, cport] = /:(\d+)@(\d+)/.exec(f[1])!;
    byLabel.set(label, nodes.find((n) => n.port === Number(port))!);
    swaps.push([new RegExp(f[0], 'g'), `<${label}>`], [new RegExp(`\\b${cport}\\b`, 'g'), `<${label}-CPORT>`], [new RegExp(`\\b${port}\\b`, 'g'), `<${label}-PORT>`]);
  }
  const mask = (text: string) => swaps.reduce((s, [re, to]) => s.replace(re, to), text);
  // Node lines: ping-sent and pong-received are times, and the lines come in each node's own table order.
  const nodeLines = (text: string) => text.split('\n').filter(Boolean).map((l) => mask(l.split(' ').map((f, i) => (i === 4 || i === 5 ? 'T' : f)).join(' '))).sort().join('\n');
  return {
    send: async (label, cmd) => {
      const node = byLabel.get(label)!;
      const args = cmd.map((a) => a.replace(/^\$([MR]\d)$/, (_, l: string) => byLabel.get(l)!.id));
      const reply = parseResp((await node.client.command(...args)).toString('latin1'));
      const sub = `${cmd[0]} ${cmd[1] ?? ''}`.toUpperCase();
      if (sub === 'CLUSTER NODES') return nodeLines(reply.text);
      if (sub === 'CLUSTER REPLICAS') return reply.items.map((i) => nodeLines(i.text)).join('\n') || reply.raw;
      if (sub === 'CLUSTER INFO') return mask(reply.text.split('\r\n').filter((l) => !/^cluster_stats_messages/.test(l)).join('\n'));
      if (sub === 'CLUSTER SHARDS') {
        for (const shard of reply.items) {
          for (const n of shard.items[3].items) {
            const at = n.items.findIndex((i) => i.text === 'replication-offset');
            n.items[at + 1] = { type: ':', text: 'OFFSET', items: [], raw: '' };
          }
        }
        return reply.items.map((shard) => serialise(shard, mask)).sort().join('');
      }
      return serialise(reply, mask);
    },
  };
}

// Skips without the Redis tools locally, fails without them under CI.
if (requireRedisTools(t)) {
  t.test('redis-cli --cluster create, check and info on six weft-server processes, compared with Redis', async (t) => {
    // Plain nodes: no announced address, so each learns its own from the MEET redis-cli makes it receive.
    // weft has no replication yet: its replicas hold nothing, as a Redis replica before its first
    // sync (offset 0, so CLUSTER SLOTS leaves it out and CLUSTER SHARDS says "loading"). The Redis
    // masters delay that sync (diskless, after the delay) beyond the test to stay comparable, and
    // stop at once on SIGTERM instead of waiting for lagging replicas (shutdown-timeout).
    const [weft, redis] = await Promise.all((['weft', 'redis'] as const).map((kind) =>
      Promise.all(Array.from({ length: 6 }, () =>
        startNode(t, kind, { announce: false, extra: kind === 'redis' ? ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '300', '--shutdown-timeout', '0'] : [] })))));
    const create = async (nodes: Node[]) =>
      runTool('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], 60000);
    const [created, redisCreated] = await Promise.all([create(weft), create(redis)]);
    t.equal(created.code, 0, 'redis-cli --cluster create exits with 0');
    t.match(created.out, /\[OK\] All 16384 slots covered/, 'create ends with a covered cluster');
    t.notMatch(created.out, /\[ERR\]/, 'create reports no error');
    if (created.code !== 0 || /\[ERR\]/.test(created.out)) t.comment(created.out);
    t.equal(redisCreated.code, 0, `the same on Redis:\n${redisCreated.code === 0 ? '' : redisCreated.out}`);

    // create waits only until the masters' slots agree; the replicas' new role reaches
    // the other nodes with their next pings. Every node ends up with the same picture.
    for (const nodes of [weft, redis]) {
      await waitFor(`every ${nodes[0].kind} node to see 3 masters and 3 replicas, all connected at 127.0.0.1`, 20000, async () => {
        for (const n of nodes) {
          const lines = (await clusterNodes(n)).trim().split('\n');
          const masters = lines.filter((l) => / (myself,)?master - /.test(l)).length;
          const replicas = lines.filter((l) => / (myself,)?slave [0-9a-f]{40} /.test(l)).length;
          const connected = lines.every((l) => / 127\.0\.0\.1:\d+@\d+ /.test(l) && / connected/.test(l));
          if (masters !== 3 || replicas !== 3 || !connected) return `${n.port}:\n${lines.join('\n')}`;
        }
        return true;
      });
      await waitStateOk(nodes, 20000);
    }

    const check = await runTool('redis-cli', ['--cluster', 'check', `127.0.0.1:${weft[0].port}`], 30000);
    t.equal(check.code, 0, 'redis-cli --cluster check exits with 0');
    t.match(check.out, /\[OK\] All nodes agree about slots configuration\./);
    t.match(check.out, /\[OK\] All 16384 slots covered\./);
    t.notMatch(check.out, /\[ERR\]|\[WARNING\]/, 'check finds nothing to warn about');
    if (check.code !== 0 || /\[ERR\]|\[WARNING\]/.test(check.out)) t.comment(check.out);

    const info = await runTool('redis-cli', ['--cluster', 'info', `127.0.0.1:${weft[3].port}`], 30000);
    t.equal(info.code, 0, 'redis-cli --cluster info exits with 0');
    t.match(info.out, /\[OK\] 0 keys in 3 masters\./);
    t.equal((info.out.match(/\| 1 slaves\./g) ?? []).length, 3, `every master has one replica:\n${info.out}`);

    // The topology replies, and redirections on replicas, against Redis's. Nodes are named by
    // role, not by address: M0-M2 the masters in slot order, Rn the replica of Mn
    // (redis-cli may pair replicas differently on each run).
    const [w, r] = await Promise.all([labelCluster(weft), labelCluster(redis)]);
    const steps: [string, ...string[]][] = [
      ['M0', 'CLUSTER', 'SLOTS'], ['R1', 'CLUSTER', 'SLOTS'], ['M2', 'CLUSTER', 'NODES'], ['R0', 'CLUSTER', 'NODES'],
      ['M0', 'CLUSTER', 'SHARDS'], ['R2', 'CLUSTER', 'SHARDS'], ['R1', 'CLUSTER', 'INFO'], ['M1', 'CLUSTER', 'INFO'],
      ['M1', 'CLUSTER', 'REPLICAS', '$M1'], ['R0', 'CLUSTER', 'REPLICAS', '$M0'], ['R0', 'CLUSTER', 'REPLICAS', '$R0'],
      ['M2', 'CLUSTER', 'COUNT-FAILURE-REPORTS', '$R2'], ['R2', 'CLUSTER', 'MYID'],
      ['M2', 'CLUSTER', 'SETSLOT', '1', 'STABLE'], ['R2', 'CLUSTER', 'SETSLOT', '1', 'STABLE'], ['R2', 'CLUSTER', 'ADDSLOTS', '1'],
      ['R2', 'CLUSTER', 'REPLICATE', '$M1'], ['M0', 'CLUSTER', 'REPLICATE', '$M1'], ['M0', 'CLUSTER', 'FORGET', '$R1'],
      // foo hashes to slot 12182 (M2), bar to 5061 (M0). A READONLY replica serves reads of its
      // master's slots (empty here: neither side's replicas have synced), and redirects the rest.
      ['M2', 'SET', 'foo', 'x'], ['R0', 'GET', 'foo'], ['R2', 'GET', 'foo'], ['R2', 'READONLY'], ['R2', 'GET', 'foo'], ['R2', 'GET', 'bar'],
      ['R2', 'SET', 'foo', 'y'], ['R2', 'EXISTS', 'bar'], ['R2', 'READWRITE'], ['R2', 'GET', 'foo'],
      ['M0', 'READONLY'], ['M0', 'GET', 'foo'], ['M0', 'READWRITE'], ['M2', 'DEL', 'foo'],
    ];
    const diffs = [];
    for (const [label, ...cmd] of steps) {
      const [a, b] = await Promise.all([w, r].map((c) => c.send(label, cmd)));
      if (a !== b) diffs.push({ step: `${label} ${cmd.join(' ')}`, weft: JSON.stringify(a), redis: JSON.stringify(b) });
    }
    t.same(diffs, [], 'the same replies as a Redis cluster made by the same command');
  });

  t.test('gossip joins a chain of six nodes; a restarted node comes back as itself', async (t) => {
    const nodes = await Promise.all(Array.from({ length: 6 }, () => startNode(t, 'weft')));
    // Distinct config epochs first, as redis-cli --cluster create does, so that no collision
    // handling can change them later: the restart must find exactly what it left.
    for (const [i, n] of nodes.entries()) t.equal((await n.client.command('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1))).toString(), '+OK\r\n');
    // Each node meets only the next one: the others it must learn from gossip.
    for (let i = 0; i < 5; i++) {
      const r = await nodes[i].client.command('CLUSTER', 'MEET', '127.0.0.1', String(nodes[i + 1].port), String(nodes[i + 1].cport));
      t.equal(r.toString(), '+OK\r\n', `node ${i} meets node ${i + 1}`);
    }
    const started = Date.now();
    await waitAllKnown(nodes, 30000);
    t.pass(`all six nodes know each other after ${Date.now() - started} ms`);

    for (const [i, n] of nodes.entries()) {
      const first = Math.floor((i * 16384) / 6);
      const last = Math.floor(((i + 1) * 16384) / 6) - 1;
      t.equal((await n.client.command('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last))).toString(), '+OK\r\n');
    }
    await waitStateOk(nodes, 30000);
    // currentEpoch spreads by gossip: everyone ends at the highest config epoch.
    await waitFor('cluster_current_epoch:6 on every node', 20000, async () => {
      for (const n of nodes) {
        const e = await epochs(n);
        if (e[0] !== 'cluster_current_epoch:6') return `${n.port}: ${e}`;
      }
      return true;
    });
    // Every node sees every other as a connected master with its slots.
    await waitFor('every node to see the six masters connected with their slots', 20000, async () => {
      for (const n of nodes) {
        const lines = (await clusterNodes(n)).trim().split('\n');
        if (lines.length !== 6 || !lines.every((l) => / connected \d+-\d+$/.test(l) && !/fail/.test(l))) return `${n.port}:\n${lines.join('\n')}`;
      }
      return true;
    });

    const victim = nodes[3];
    const others = nodes.filter((n) => n !== victim);
    const victimSlots = `${Math.floor((3 * 16384) / 6)}-${Math.floor((4 * 16384) / 6) - 1}`;
    const myLine = await lineAbout(victim, victim.id);
    const myEpochs = await epochs(victim);
    t.match(myLine, new RegExp(`^${victim.id} 127\\.0\\.0\\.1:${victim.port}@${victim.cport} myself,master - 0 0 4 connected ${victimSlots}$`));
    t.same(myEpochs, ['cluster_current_epoch:6', 'cluster_my_epoch:4']);

    await victim.server.stop();
    victim.client.close();
    // The others notice (PFAIL after node-timeout, then FAIL with a majority of masters' reports).
    await waitFor(`every other node to flag ${victim.port} as fail`, 20000, async () => {
      for (const n of others) {
        const line = await lineAbout(n, victim.id);
        if (!/ master,fail /.test(line)) return `${n.port}: ${line}`;
      }
      return true;
    });

    const back = await startNode(t, 'weft', { dir: victim.dir, port: victim.port, cport: victim.cport });
    t.equal(back.id, victim.id, 'same node id after the restart');
    t.equal(await lineAbout(back, back.id), myLine, 'same CLUSTER NODES line (address, epoch, slots)');
    t.same(await epochs(back), myEpochs, 'same currentEpoch and configEpoch');

    const rejoined = [...others, back];
    await waitFor(`every node to see ${back.port} connected again, without a failure flag`, 30000, async () => {
      for (const n of others) {
        const line = await lineAbout(n, back.id);
        if (!new RegExp(` master - \\d+ \\d+ 4 connected ${victimSlots}$`).test(line)) return `${n.port}: ${line}`;
      }
      const view = (await clusterNodes(back)).trim().split('\n');
      if (view.length !== 6 || !view.every((l) => / connected \d+-\d+$/.test(l) && !/fail/.test(l))) return `${back.port}:\n${view.join('\n')}`;
      return true;
    });
    await waitStateOk(rejoined, 30000);
    t.same(await epochs(back), myEpochs, 'epochs unchanged once it rejoined');
    t.equal(bulk(await back.client.command('CLUSTER', 'MYID')), victim.id);
  });

  t.test('weft-cluster start, then redis-benchmark --cluster and redis-cli --cluster check, then stop', async (t) => {
    const dir = tempDir('weft-cluster-cli-');
    const port = await freePortRange(6);
    t.teardown(async () => {
      await runTool(NODE, [WEFT_CLUSTER, 'stop', '--dir', dir], 20000);
      // Whatever stop left (or a start that failed half-way) is killed by the pids it recorded.
      let recorded: { pid: number }[] = [];
      try {
        recorded = JSON.parse(fs.readFileSync(path.join(dir, 'weft-cluster.json'), 'utf8')) as { pid: number }[];
      } catch {
        // Nothing recorded: nothing started.
      }
      for (const { pid } of recorded) if (alive(pid)) process.kill(pid, 'SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const start = await runTool(NODE, [WEFT_CLUSTER, 'start', '--dir', dir, '--port', String(port), '--threads', '1', '--node-timeout', '2000'], 60000);
    t.equal(start.code, 0, 'weft-cluster start exits with 0');
    t.match(start.out, /weft cluster ready: cluster_state:ok on all 6 nodes\./);
    if (start.code !== 0) t.comment(start.out);

    const status = await runTool(NODE, [WEFT_CLUSTER, 'status', '--dir', dir], 20000);
    t.equal(status.code, 0, 'weft-cluster status exits with 0');
    t.equal((status.out.match(/ ok master known_nodes=6$/gm) ?? []).length, 3, `3 masters ok:\n${status.out}`);
    t.equal((status.out.match(/ ok replica known_nodes=6$/gm) ?? []).length, 3, `3 replicas ok:\n${status.out}`);

    const bench = await runTool('redis-benchmark', ['--cluster', '-p', String(port), '-t', 'set,get', '-n', '20000', '-c', '20', '-q'], 60000);
    t.equal(bench.code, 0, 'redis-benchmark exits with 0');
    t.notMatch(bench.out, /Error/, 'no error in its output');
    t.match(bench.out, /Cluster has 3 master nodes/);
    t.match(bench.out, /GET: [\d.]+ requests per second/);
    if (bench.code !== 0) t.comment(bench.out);

    const check = await runTool('redis-cli', ['--cluster', 'check', `127.0.0.1:${port}`], 30000);
    t.equal(check.code, 0, 'redis-cli --cluster check exits with 0');
    t.match(check.out, /\[OK\] All 16384 slots covered\./);
    t.notMatch(check.out, /\[ERR\]|\[WARNING\]/, 'check finds nothing to warn about');
    if (check.code !== 0 || /\[ERR\]|\[WARNING\]/.test(check.out)) t.comment(check.out);

    const pids = (JSON.parse(fs.readFileSync(path.join(dir, 'weft-cluster.json'), 'utf8')) as { pid: number }[]).map((n) => n.pid);
    const stop = await runTool(NODE, [WEFT_CLUSTER, 'stop', '--dir', dir], 20000);
    t.equal(stop.code, 0, 'weft-cluster stop exits with 0');
    t.match(stop.out, /^Stopped 6 node\(s\)\.$/m, 'every node stopped on SIGTERM');
    t.same(pids.filter(alive), [], 'no node left running');
  });
}
