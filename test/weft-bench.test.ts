/**
 * weft-bench against a real redis-server, a standalone weft and a 3-master
 * weft cluster: -n is exact, --ratio is honoured, cluster keys land on the
 * node owning their slot, and MOVED after CLUSTER SETSLOT is followed and counted.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, NODE, RawClient, startRedis, startWeft, haveRedisServer, tempDir } from './helpers/servers.js';
import { startNode, formCluster, runTool, sleep, bulk, waitFor, type Node } from './helpers/cluster.js';

const CLI = path.join(ROOT, 'native-free-bench', 'dist', 'cli.js');

async function bench(args: string[]): Promise<any> {
  const dir = tempDir('weft-bench-');
  const file = path.join(dir, 'out.json');
  const r = await runTool(NODE, [CLI, '--hide-histogram', '--json-out-file', file, ...args], 40000);
  if (r.code !== 0) throw new Error(`weft-bench exited ${r.code}:\n${r.out}`);
  const out = JSON.parse(fs.readFileSync(file, 'utf8'))['ALL STATS'];
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

const int = (reply: Buffer) => Number(/^:(\d+)/.exec(reply.toString())![1]);

t.test('exact -n and --ratio against redis-server (INFO commandstats)', { skip: !haveRedisServer() && 'no redis-server' }, async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const s = await bench(['-p', String(redis.port), '-t', '2', '-c', '3', '-n', '120', '--ratio', '1:3', '--pipeline', '5']);
  t.equal(s.Totals.Count, 2 * 3 * 120);
  t.equal(s.Sets.Count, 2 * 3 * 30);
  t.equal(s.Gets.Count, 2 * 3 * 90);
  const c = await RawClient.connect(redis.port);
  t.teardown(() => c.close());
  const info = bulk(await c.command('INFO', 'commandstats'));
  t.match(info, /cmdstat_set:calls=180,/);
  t.match(info, /cmdstat_get:calls=540,/);
});

t.test('exact -n and --ratio against weft (DBSIZE, keyspace hits)', async (t) => {
  const weft = await startWeft();
  t.teardown(() => weft.stop());
  // S:S over 0..59 with 1:1: every client SETs keys 0..59 then GETs them, so all GETs hit.
  const s = await bench(['-p', String(weft.port), '-t', '1', '-c', '2', '-n', '120', '--ratio', '1:1',
    '--key-pattern', 'S:S', '--key-maximum', '59', '--protocol', 'resp3']);
  t.equal(s.Sets.Count, 120);
  t.equal(s.Gets.Count, 120);
  const c = await RawClient.connect(weft.port);
  t.teardown(() => c.close());
  t.equal(int(await c.command('DBSIZE')), 60);
  // weft's per-thread stat counters reach INFO a little later, so poll (bounded) for the total.
  await waitFor('keyspace_hits + keyspace_misses = 120', 3000, async () => {
    const info = bulk(await c.command('INFO', 'stats'));
    const n = Number(/keyspace_hits:(\d+)/.exec(info)![1]) + Number(/keyspace_misses:(\d+)/.exec(info)![1]);
    return n === 120 ? true : `${n}`;
  });
  t.pass('exactly 120 GETs executed');
  t.equal(s.Gets['Hits/sec'] > 0, true);
});

t.test('--rate-limiting paces each client (memtier\'s requests per second per client)', async (t) => {
  const weft = await startWeft();
  t.teardown(() => weft.stop());
  // 4 clients at 100 requests/s, 50 requests each: about half a second, about 400 ops/s in all.
  const started = Date.now();
  const s = await bench(['-p', String(weft.port), '-t', '2', '-c', '2', '-n', '50', '--rate-limiting', '100', '--pipeline', '8']);
  const seconds = (Date.now() - started) / 1000;
  t.equal(s.Totals.Count, 200);
  t.ok(seconds >= 0.45, `the run took at least the paced time (${seconds} s)`);
  t.ok(s.Totals['Ops/sec'] <= 440, `ops/s at most the limit, with a tenth for rounding (${s.Totals['Ops/sec']})`);
});

t.test('cluster mode against 3 weft masters', async (t) => {
  const nodes: Node[] = [];
  for (let i = 0; i < 3; i++) nodes.push(await startNode(t, 'weft'));
  await formCluster(nodes);
  const s = await bench(['-p', String(nodes[0].port), '--cluster-mode', '-t', '1', '-c', '2', '-n', '300',
    '--ratio', '1:0', '--key-pattern', 'S:S', '--key-maximum', '299']);
  t.equal(s.Sets.Count, 600);
  t.equal(s.Sets.Moved, 0, 'no MOVED: every key went to the owner of its slot');
  let total = 0;
  for (const n of nodes) {
    const d = int(await n.client.command('DBSIZE'));
    t.ok(d > 0, `node ${n.port} got keys`);
    total += d;
  }
  t.equal(total, 300);

  // Move an empty slot mid-run; GETs only, so the slot stays empty and SETSLOT is allowed.
  const slot = int(await nodes[0].client.command('CLUSTER', 'KEYSLOT', 'memtier-nokey-0'));
  const from = nodes.find((n) => n.port === nodes[Math.floor(slot / 5462)].port)!;
  const to = nodes.find((n) => n !== from)!;
  const run = bench(['-p', String(nodes[0].port), '--cluster-mode', '-t', '1', '-c', '2', '--test-time', '3',
    '--ratio', '0:1', '--key-prefix', 'memtier-nokey-', '--key-pattern', 'S:S', '--key-maximum', '0']);
  await sleep(1000);
  for (const [n, args] of [[to, ['IMPORTING', from.id]], [from, ['MIGRATING', to.id]], [to, ['NODE', to.id]], [from, ['NODE', to.id]]] as const) {
    t.equal((await n.client.command('CLUSTER', 'SETSLOT', String(slot), ...args)).toString(), '+OK\r\n');
  }
  const m = await run;
  t.ok(m.Gets.Moved >= 1, `MOVED counted (${m.Gets.Moved})`);
  // Requests already sent before the CLUSTER SLOTS reply arrives also get MOVED (memtier alike), but then it stops.
  t.ok(m.Gets.Moved < m.Gets.Count / 10, `MOVED followed: ${m.Gets.Moved} of ${m.Gets.Count}`);
  t.ok(m.Gets.Count > m.Gets.Moved * 10, 'traffic went on after the remap');
});
