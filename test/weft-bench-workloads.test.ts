/**
 * weft-bench's workload and reporting flags against a real redis-server, a
 * real Redis cluster and weft: --command templates with ratios and key
 * patterns (exact call counts from INFO commandstats), error replies and
 * connection failures counted, -a, key patterns P and G, --expiry-range and
 * --data-size-range on the keys written, --run-count, --compare and
 * --timeline, and ASK followed with ASKING during a slot migration.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT, NODE, RawClient, startRedis, startWeft, haveRedisServer, tempDir, type ServerHandle } from './helpers/servers.js';
import { startNode, formCluster, runTool, sleep, bulk, type Node } from './helpers/cluster.js';

const CLI = path.join(ROOT, 'native-free-bench', 'dist', 'cli.js');
const noRedis = !haveRedisServer() && 'no redis-server';

/** Runs weft-bench; returns its JSON (the whole file), its output and exit code. */
async function bench(args: string[], timeoutMs = 40000): Promise<{ json: any; out: string; code: number | null; dir: string }> {
  const dir = tempDir('weft-bench-');
  const file = path.join(dir, 'out.json');
  const r = await runTool(NODE, [CLI, '--hide-histogram', '--json-out-file', file, ...args], timeoutMs);
  const json = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
  return { json, out: r.out, code: r.code, dir };
}

async function stats(args: string[]): Promise<any> {
  const r = await bench(args);
  if (r.code !== 0) throw new Error(`weft-bench exited ${r.code}:\n${r.out}`);
  fs.rmSync(r.dir, { recursive: true, force: true });
  return r.json['ALL STATS'];
}

const int = (reply: Buffer) => Number(/^:(-?\d+)/.exec(reply.toString())![1]);

async function connect(t: Tap.Test, port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  t.teardown(() => c.close());
  return c;
}

function calls(info: string, cmd: string): number {
  const m = new RegExp(`cmdstat_${cmd}:calls=(\\d+),`).exec(info);
  return m ? Number(m[1]) : 0;
}

async function keys(c: RawClient): Promise<string[]> {
  const reply = (await c.command('KEYS', '*')).toString();
  return reply.split('\r\n').filter((l, i, all) => i > 0 && all[i - 1].startsWith('$'));
}

t.test('--command templates: ratios, key patterns, exact calls; error replies counted', { skip: noRedis }, async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const c = await connect(t, redis.port);
  // 2 threads x 2 clients x 100 requests: the cycle SET, SET, INCR (S pattern), HSET (mostly on string keys: WRONGTYPE).
  const s = await stats(['-p', String(redis.port), '-t', '2', '-c', '2', '-n', '100', '--pipeline', '3', '--key-maximum', '49',
    '--command', 'SET __key__ __data__', '--command-ratio', '2',
    '--command', 'INCR counter:__key__', '--command-key-pattern', 'S',
    '--command', 'HSET __key__ f v', '--command-ratio', '1']);
  t.equal(s.Totals.Count, 400);
  t.equal(s.Sets.Count, 200, 'SET twice per cycle of four');
  t.equal(s.Incrs.Count, 100);
  t.equal(s.Hsets.Count, 100);
  const info = bulk(await c.command('INFO', 'commandstats'));
  t.equal(calls(info, 'set'), 200);
  t.equal(calls(info, 'incr'), 100);
  t.equal(calls(info, 'hset'), 100);
  // HSET on a key SET made a string fails with WRONGTYPE, unless it came first: every error is counted.
  const failed = Number(/failed_calls=(\d+)/.exec(info.split('\n').find((l) => l.startsWith('cmdstat_hset'))!)![1]);
  t.ok(failed > 0, `some HSETs failed (${failed})`);
  t.equal(s.Hsets.Errors, failed, 'error replies counted per command');
  t.equal(s.Errors['Error replies'], failed);
  // S over 0..49: each client's 25 INCRs walk counter:memtier-0..24.
  const counters: number[] = [];
  for (let k = 0; k < 50; k++) {
    const reply = await c.command('GET', `counter:memtier-${k}`);
    counters.push(reply.toString() === '$-1\r\n' ? 0 : Number(bulk(reply)));
  }
  t.same(counters, Array.from({ length: 50 }, (_, k) => (k < 25 ? 4 : 0)), 'INCR keys walked sequentially by each client');
});

t.test('-a authenticates every connection; without it NOAUTH replies are errors', { skip: noRedis }, async (t) => {
  const redis = await startRedis(['--requirepass', 'sesame']);
  t.teardown(() => redis.stop());
  const ok = await stats(['-p', String(redis.port), '-t', '1', '-c', '2', '-n', '20', '-a', 'sesame']);
  t.equal(ok.Totals.Count, 40);
  t.equal(ok.Totals.Errors, 0);
  const denied = await stats(['-p', String(redis.port), '-t', '1', '-c', '2', '-n', '20']);
  t.equal(denied.Totals.Errors, 40, 'every request answered NOAUTH, counted as an error');
  const wrong = await bench(['-p', String(redis.port), '-t', '1', '-c', '1', '-n', '5', '-a', 'nope']);
  t.equal(wrong.code, 1, 'a failing AUTH at connect time ends the run');
  t.match(wrong.out, /setup command failed .*WRONGPASS/);
});

t.test('key patterns P and G, --data-size-range and --expiry-range, on weft', async (t) => {
  const weft = await startWeft();
  t.teardown(() => weft.stop());
  const c = await connect(t, weft.port);
  // P:P: 4 clients, each walking its own quarter of 0..99: exactly every key once.
  await stats(['-p', String(weft.port), '-t', '2', '-c', '2', '-n', '25', '--ratio', '1:0', '--key-pattern', 'P:P',
    '--key-maximum', '99', '--data-size-range', '10-20', '--expiry-range', '100-200']);
  const written = await keys(c);
  t.equal(written.length, 100, 'P: 100 distinct keys from 4 x 25 requests');
  for (const k of written.slice(0, 30)) {
    const len = int(await c.command('STRLEN', k));
    const ttl = int(await c.command('TTL', k));
    if (len < 10 || len > 20 || ttl < 90 || ttl > 200) t.fail(`${k}: length ${len}, TTL ${ttl}`);
  }
  t.pass('values of 10-20 bytes, TTLs of 100-200 s');
  await c.command('FLUSHALL');
  // G: gaussian around 5000 with stddev 10: every key within 60 of the median.
  await stats(['-p', String(weft.port), '-t', '1', '-c', '2', '-n', '200', '--ratio', '1:0', '--key-pattern', 'G:G',
    '--key-maximum', '10000', '--key-median', '5000', '--key-stddev', '10']);
  const gaussian = (await keys(c)).map((k) => Number(k.slice('memtier-'.length)));
  t.ok(gaussian.length > 10 && gaussian.length < 100, `G: ${gaussian.length} distinct keys`);
  t.ok(gaussian.every((k) => Math.abs(k - 5000) <= 60), 'G: keys within 6 standard deviations of the median');
});

t.test('--run-count, --compare and --timeline (redis-server vs weft)', { skip: noRedis }, async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const weft = await startWeft();
  t.teardown(() => weft.stop());
  const dir = tempDir('weft-bench-timeline-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const csv = path.join(dir, 'timeline.csv');
  const r = await bench(['-p', String(redis.port), '--compare', `127.0.0.1:${weft.port}`, '-x', '2', '-t', '1', '-c', '3',
    '-n', '200', '--timeline', csv]);
  t.equal(r.code, 0, r.out);
  const cmp = r.json.compare;
  t.equal(cmp.rounds.length, 2);
  for (const round of cmp.rounds) t.ok(Math.abs(round.opsRatio - round.aOpsSec / round.bOpsSec) < 1e-9, 'ratio = A / B');
  t.equal(r.json.A.runs.length, 2);
  t.equal(r.json.B.runs.length, 2);
  for (const side of [r.json.A, r.json.B]) {
    for (const run of side.runs) t.equal(run.Totals.Count, 600, 'each run sends -n per client');
    t.equal(side['ALL STATS'].Totals.Count, 1200);
  }
  t.match(r.out, /COMPARE {2}A = 127\.0\.0\.1:\d+ {2}B = 127\.0\.0\.1:\d+/);
  t.match(r.out, /\nmedian +\d/);
  const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
  t.equal(lines[0], 'run,target,second,ops,ok,errors,moved,ask,timeouts,connectionErrors,p50Ms,p99Ms');
  const perTarget = new Map<string, number>();
  for (const l of lines.slice(1)) {
    const cells = l.split(',');
    perTarget.set(cells[1], (perTarget.get(cells[1]) ?? 0) + Number(cells[3]));
  }
  t.same([...perTarget.values()], [1200, 1200], 'the timeline accounts for every reply of each target');

  const x = await bench(['-p', String(weft.port), '-x', '3', '-t', '1', '-c', '1', '-n', '50']);
  t.equal(x.code, 0, x.out);
  t.equal(x.json.runs.length, 3);
  t.ok(x.json['BEST RUN RESULTS'].Totals['Ops/sec'] >= x.json['WORST RUN RESULTS'].Totals['Ops/sec']);
  t.equal(x.json['AGGREGATED AVERAGE RESULTS (3 runs)'].Totals.Count, 150);
  t.match(x.out, /BEST RUN RESULTS[\s\S]*WORST RUN RESULTS[\s\S]*AGGREGATED AVERAGE RESULTS \(3 runs\)/);
});

t.test('a server that dies mid-run: connection errors and lost requests counted, the run still ends', async (t) => {
  const weft: ServerHandle = await startWeft();
  t.teardown(() => weft.stop());
  const run = bench(['-p', String(weft.port), '-t', '1', '-c', '4', '--test-time', '3', '--pipeline', '4', '--request-timeout', '500']);
  await sleep(1200);
  await weft.stop();
  const r = await run;
  t.equal(r.code, 0, 'the run ends at its test time');
  const s = r.json['ALL STATS'];
  t.ok(s.Totals.Count > 0, 'requests were answered before the kill');
  t.ok(s.Errors['Connection errors'] >= 4, `connection errors counted (${s.Errors['Connection errors']})`);
  t.ok(s.Totals.Errors > 0, 'requests without replies counted as errors');
  t.match(r.out, /Errors: 0 error replies, [1-9]\d* connection errors/);
});

t.test('cluster mode against a real 3-master Redis cluster, and ASK followed on weft', { skip: noRedis }, async (t) => {
  const redisNodes: Node[] = [];
  for (let i = 0; i < 3; i++) redisNodes.push(await startNode(t, 'redis'));
  await formCluster(redisNodes);
  const s = await stats(['-p', String(redisNodes[1].port), '--cluster-mode', '-t', '2', '-c', '2', '-n', '100', '--ratio', '1:1',
    '--key-pattern', 'P:P', '--key-maximum', '199']);
  t.equal(s.Totals.Count, 400);
  t.equal(s.Totals.Moved, 0);
  t.equal(s.Totals.Errors, 0);
  let total = 0;
  for (const n of redisNodes) total += int(await n.client.command('DBSIZE'));
  t.equal(total, 200, 'every key on the master of its slot');

  // weft: a slot migrating to another master with its key gone from the source: ASK, followed with ASKING.
  const nodes: Node[] = [];
  for (let i = 0; i < 3; i++) nodes.push(await startNode(t, 'weft'));
  await formCluster(nodes);
  const key = 'memtier-0';
  const slot = int(await nodes[0].client.command('CLUSTER', 'KEYSLOT', key));
  const from = nodes[Math.floor(slot / 5462)];
  const to = nodes.find((n) => n !== from)!;
  await to.client.command('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id);
  await from.client.command('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id);
  await to.client.command('ASKING');
  await to.client.command('SET', key, 'on-target');
  const a = await stats(['-p', String(nodes[0].port), '--cluster-mode', '-t', '1', '-c', '2', '-n', '50', '--ratio', '0:1',
    '--key-pattern', 'S:S', '--key-maximum', '0']);
  t.equal(a.Gets.Count, 100);
  t.equal(a.Gets.Ask, 100, 'every GET was redirected with ASK');
  t.equal(a.Gets.Errors, 0, 'and answered by the importing node after ASKING');
  t.equal(a.Gets['Hits/sec'] > 0, true, 'the importing node had the key');
});

t.test('--pipeline keeps N requests in flight (memtier); --pipeline-batch sends N and waits for all N replies (redis-benchmark)', async (t) => {
  // A server that answers the first request at once and holds the others back for a while:
  // how many requests it has seen by then tells the two disciplines apart.
  async function requestsSeenWhileHeld(extra: string[]): Promise<number> {
    let seen = 0;
    let answered = 0;
    let holding = true;
    let atRelease = -1;
    const server = net.createServer((s) => {
      s.on('error', () => {});
      const answer = () => {
        const n = holding ? Math.min(seen, 1) - answered : seen - answered;
        if (n > 0) s.write('$-1\r\n'.repeat(n));
        answered += Math.max(0, n);
      };
      s.on('data', (d) => {
        seen += d.toString('latin1').split('*2\r\n').length - 1;
        answer();
      });
      setTimeout(() => {
        atRelease = seen;
        holding = false;
        answer();
      }, 300);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const s = await stats(['-p', String(port), '-t', '1', '-c', '1', '--pipeline', '4', '-n', '12', '--ratio', '0:1', ...extra]);
    server.close();
    t.equal(s.Gets.Count, 12);
    return atRelease;
  }
  t.equal(await requestsSeenWhileHeld([]), 5, 'window: the first reply let a fifth request go');
  t.equal(await requestsSeenWhileHeld(['--pipeline-batch']), 4, 'batch: nothing more until all four are answered');
});

t.test('replies larger than a socket read (200 KB values) are put together across reads', async (t) => {
  const weft = await startWeft();
  t.teardown(() => weft.stop());
  // S:S with 1:1: every GET reads the value its client has just written.
  const s = await stats(['-p', String(weft.port), '-t', '1', '-c', '2', '-n', '40', '--ratio', '1:1', '--key-pattern', 'S:S',
    '--key-maximum', '9', '-d', '200000', '--pipeline', '4']);
  t.equal(s.Gets.Count, 40);
  t.equal(s.Gets['Misses/sec'], 0, 'every GET hit');
  t.equal(s.Totals.Errors, 0);
  t.ok(s.Gets['KB/sec'] > s.Gets['Ops/sec'] * 190, 'and its 200 KB came back');
});
