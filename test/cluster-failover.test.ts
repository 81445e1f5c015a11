/**
 * Failure detection and failover on a 3-master, 3-replica weft cluster
 * (cluster-node-timeout 2000), driven by ioredis as an application would:
 * - a master in a minority partition stops taking writes (CLUSTERDOWN) and
 *   takes them again when the partition heals;
 * - kill -9 of a master under continuous writes: its replica is promoted,
 *   the client carries on within a bound, every write acknowledged by WAIT 1
 *   survives, and the old master, restarted, rejoins as the new one's replica;
 * - CLUSTER FAILOVER under continuous writes loses no acknowledged write;
 * - a master frozen with SIGSTOP is failed over, and after SIGCONT rejoins as
 *   a replica holding the new master's data;
 * and the kill -9 timing of a real Redis cluster measured the same way.
 */
import t from 'tap';
import { Cluster } from 'ioredis';
import { requireRedisTools } from './helpers/servers.js';
import {
  bulk, clusterInfo, masterOf, sleep, startNode, startReplicatedCluster, waitFor, waitReplicasReady, type Kind, type Node,
  type ReplicatedCluster,
} from './helpers/cluster.js';
import { datasetOf, sameDataset } from './helpers/replication.js';

const text = (b: Buffer) => b.toString();
/** The bound on kill -9 → first successful write, generous for a loaded 2-core CI machine (node timeout 2 s). */
const FAILOVER_BOUND_MS = 20000;

/** A hash tag whose slot lies in master `index`'s range (formCluster splits 16384 slots evenly). */
async function tagFor(node: Node, index: number, masters: number): Promise<string> {
  const first = Math.floor((index * 16384) / masters);
  const last = Math.floor(((index + 1) * 16384) / masters) - 1;
  for (let i = 0; ; i++) {
    const slot = Number(/^:(\d+)/.exec(text(await node.client.command('CLUSTER', 'KEYSLOT', `{f${i}}`)))![1]);
    if (slot >= first && slot <= last) return `{f${i}}`;
  }
}

function clusterClient(c: ReplicatedCluster): Cluster {
  const io = new Cluster(c.masters.map((n) => ({ host: '127.0.0.1', port: n.port })), {
    // Refresh the slot map often, so that the client notices a promotion by itself.
    slotsRefreshInterval: 200,
    clusterRetryStrategy: () => 100,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 500, commandTimeout: 1000 },
  });
  io.on('error', () => {});
  return io;
}

/** Writes key i mod `keys` = i, continuously, and remembers what was acknowledged and when. */
class Writer {
  readonly acked = new Map<string, number>();
  failures = 0;
  /** Time of the first acknowledged write sent at or after `mark` (set by markNow). */
  firstOkAfterMark: number | null = null;
  private mark = Infinity;
  private running = true;
  private done: Promise<void>;
  okCount = 0;

  constructor(private readonly io: Cluster, private readonly tag: string, private readonly keys = 200) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    for (let i = 1; this.running; i++) {
      const key = `${this.tag}:k${i % this.keys}`;
      const sent = Date.now();
      try {
        await this.io.set(key, String(i));
        this.acked.set(key, i);
        this.okCount++;
        // A write sent before the mark may be answered just after it, by the node about to fail.
        if (sent >= this.mark && this.firstOkAfterMark === null) this.firstOkAfterMark = Date.now();
      } catch {
        this.failures++;
        await sleep(20);
      }
    }
  }

  markNow(): number {
    this.mark = Date.now();
    this.firstOkAfterMark = null;
    return this.mark;
  }

  async waitForOkAfterMark(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.firstOkAfterMark === null && Date.now() < deadline) await sleep(20);
    if (this.firstOkAfterMark === null) throw new Error(`no acknowledged write within ${timeoutMs} ms (${this.failures} failures)`);
    return this.firstOkAfterMark - this.mark;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** Keys whose acknowledged value is not what the cluster holds now (an older value or none). */
  async lost(): Promise<string[]> {
    const out: string[] = [];
    for (const [key, value] of this.acked) {
      const now = await this.io.get(key);
      if (now === null || Number(now) < value) out.push(`${key}: acked ${value}, now ${now}`);
    }
    return out;
  }
}

/** Waits until `node` says it is a master serving slots. */
async function waitMaster(node: Node, timeoutMs: number): Promise<void> {
  await waitFor(`${node.port} to be a master`, timeoutMs, async () => ((await masterOf(node)) === '-' ? true : 'still a replica'));
}

/**
 * Kill -9 of masters[index] while a writer writes to its slots, after 100
 * writes acknowledged by WAIT 1; returns the time from the kill to the first
 * acknowledged write and the writes lost.
 */
async function killMasterUnderLoad(t: Tap.Test, c: ReplicatedCluster, index: number): Promise<{ ms: number; lost: number; acked: number }> {
  const master = c.masters[index];
  const tag = await tagFor(master, index, c.masters.length);
  const io = clusterClient(c);
  t.teardown(() => io.disconnect());
  const writer = new Writer(io, tag);
  await sleep(500);
  const waited = Array.from({ length: 100 }, (_, j) => ['SET', `${tag}:wait${j}`, String(j)]);
  await master.client.pipeline(waited);
  t.equal(text(await master.client.command('WAIT', '1', '5000')), ':1\r\n', 'WAIT 1: the replica acknowledged 100 writes');
  t.ok(writer.okCount > 0, `writes flowing before the kill (${writer.okCount})`);
  // Measured from the process's end: a SIGKILLed process may still answer until it is next scheduled.
  const gone = new Promise((resolve) => master.server.proc.once('exit', resolve));
  master.server.proc.kill('SIGKILL');
  await gone;
  writer.markNow();
  const ms = await writer.waitForOkAfterMark(FAILOVER_BOUND_MS);
  t.ok(ms < FAILOVER_BOUND_MS, `kill -9 to the first acknowledged write to the lost slots: ${ms} ms`);
  await sleep(300);
  await writer.stop();
  await waitMaster(c.replicas[index], 10000);
  const values = await Promise.all(waited.map(([, key]) => io.get(key)));
  t.same(values, waited.map(([, , v]) => v), 'every write acknowledged by WAIT 1 before the kill is there');
  const lost = await writer.lost();
  return { ms, lost: lost.length, acked: writer.acked.size };
}

if (requireRedisTools(t)) {
  t.test('weft: partition, kill -9, manual failover, SIGSTOP', async (top) => {
    const c = await startReplicatedCluster(top, 'weft');
    const t = top;
    const [m0, m1, m2] = c.masters;

    t.test('a master in a minority partition refuses writes after the node timeout', async (t) => {
      m1.server.proc.kill('SIGSTOP');
      m2.server.proc.kill('SIGSTOP');
      try {
        await waitFor('cluster_state:fail on the lone master', 10000, async () => (/cluster_state:fail/.test(await clusterInfo(m0)) ? true : 'ok still'));
        const tag = await tagFor(m0, 0, 3);
        t.equal(text(await m0.client.command('SET', `${tag}:x`, '1')), '-CLUSTERDOWN The cluster is down\r\n');
      } finally {
        m1.server.proc.kill('SIGCONT');
        m2.server.proc.kill('SIGCONT');
      }
      await waitFor('cluster_state:ok again', 15000, async () => (/cluster_state:ok/.test(await clusterInfo(m0)) ? true : 'fail still'));
      t.equal(await masterOf(c.replicas[1]), m1.id, 'no replica was promoted without a majority');
    });

    t.test('kill -9 of a master under ioredis writes; the old master rejoins as a replica', async (t) => {
      const r = await killMasterUnderLoad(t, c, 0);
      t.comment(`weft: kill -9 -> first write ${r.ms} ms; ${r.lost} of ${r.acked} keys lost an acknowledged write (no WAIT)`);
      // Started under the enclosing test: it lives on for the next subtests.
      const restarted = await startNode(top, 'weft', { dir: m0.dir, port: m0.port, cport: m0.cport, threads: 1 });
      await waitFor('the old master to replicate the new one', 15000, async () => {
        const info = bulk(await restarted.client.command('INFO', 'replication'));
        return (await masterOf(restarted)) === c.replicas[0].id && info.includes('master_link_status:up') ? true : info;
      });
      t.pass('the restarted master is a replica of its former replica');
      c.masters[0] = c.replicas[0];
      c.replicas[0] = restarted;
    });

    t.test('CLUSTER FAILOVER under load loses no acknowledged write', async (t) => {
      await waitReplicasReady(c, 20000);
      const tag = await tagFor(m1, 1, 3);
      const io = clusterClient(c);
      t.teardown(() => io.disconnect());
      const writer = new Writer(io, tag);
      await sleep(500);
      t.equal(text(await c.replicas[1].client.command('CLUSTER', 'FAILOVER')), '+OK\r\n');
      await waitMaster(c.replicas[1], 10000);
      writer.markNow();
      await writer.waitForOkAfterMark(10000);
      await sleep(300);
      await writer.stop();
      t.ok(writer.acked.size > 0, `${writer.okCount} writes acknowledged`);
      t.same(await writer.lost(), [], 'every acknowledged write is in the new master');
      t.equal(await masterOf(m1), c.replicas[1].id, 'the old master became the replica');
      [c.masters[1], c.replicas[1]] = [c.replicas[1], m1];
    });

    t.test('a master frozen by SIGSTOP is failed over and rejoins as a replica with the new data', async (t) => {
      await waitReplicasReady(c, 20000);
      const tag = await tagFor(m2, 2, 3);
      await m2.client.pipeline(Array.from({ length: 50 }, (_, j) => ['SET', `${tag}:before${j}`, 'x']));
      t.equal(text(await m2.client.command('WAIT', '1', '5000')), ':1\r\n');
      m2.server.proc.kill('SIGSTOP');
      const promoted = c.replicas[2];
      try {
        await waitMaster(promoted, 15000);
        await promoted.client.pipeline(Array.from({ length: 50 }, (_, j) => ['SET', `${tag}:after${j}`, 'y']));
      } finally {
        m2.server.proc.kill('SIGCONT');
      }
      await waitFor('the old master to replicate the new one, link up', 15000, async () => {
        const info = bulk(await m2.client.command('INFO', 'replication'));
        return (await masterOf(m2)) === promoted.id && info.includes('master_link_status:up') ? true : info;
      });
      t.equal(text(await promoted.client.command('WAIT', '1', '5000')), ':1\r\n');
      await m2.client.command('READONLY');
      t.equal(sameDataset(await datasetOf(promoted.client, 1), await datasetOf(m2.client, 1)), null, 'the old master holds the new master\'s data');
      [c.masters[2], c.replicas[2]] = [promoted, m2];
    });

    t.test('CLUSTER FAILOVER TAKEOVER promotes a replica without an election', async (t) => {
      await waitReplicasReady(c, 20000);
      const [master, replica] = [c.masters[2], c.replicas[2]];
      const epochOf = async (n: Node) => Number(/cluster_my_epoch:(\d+)/.exec(await clusterInfo(n))![1]);
      const before = await epochOf(master);
      t.equal(text(await replica.client.command('CLUSTER', 'FAILOVER', 'TAKEOVER')), '+OK\r\n');
      await waitMaster(replica, 5000);
      t.ok((await epochOf(replica)) > before, 'the new master took a configEpoch above the old one\'s');
      await waitFor('the old master to follow the new one', 10000, async () => ((await masterOf(master)) === replica.id ? true : 'not yet'));
      t.pass('the old master became its replica');
      [c.masters[2], c.replicas[2]] = [replica, master];
    });

    t.test('cluster-replica-no-failover: no automatic promotion; CLUSTER FAILOVER FORCE still promotes', async (t) => {
      await waitReplicasReady(c, 20000);
      const [master, replica] = [c.masters[1], c.replicas[1]];
      t.equal(text(await replica.client.command('CONFIG', 'SET', 'cluster-replica-no-failover', 'yes')), '+OK\r\n');
      await waitFor('the nofailover flag to show', 5000, async () => {
        const line = (await bulk(await c.masters[0].client.command('CLUSTER', 'NODES'))).split('\n').find((l) => l.startsWith(replica.id))!;
        return / slave,nofailover /.test(line) ? true : line;
      });
      const gone = new Promise((resolve) => master.server.proc.once('exit', resolve));
      master.server.proc.kill('SIGKILL');
      await gone;
      await waitFor('the master to be marked FAIL', 10000, async () => {
        const line = (await bulk(await c.masters[0].client.command('CLUSTER', 'NODES'))).split('\n').find((l) => l.startsWith(master.id))!;
        return / master,fail /.test(line) ? true : line;
      });
      // Longer than an election would take (500-1000 ms after FAIL).
      await sleep(3000);
      t.equal(await masterOf(replica), master.id, 'the replica was not promoted');
      t.match(await clusterInfo(c.masters[0]), /cluster_state:fail/, 'the dead master\'s slots are down');
      t.equal(text(await replica.client.command('CLUSTER', 'FAILOVER', 'FORCE')), '+OK\r\n');
      await waitMaster(replica, 10000);
      await waitFor('cluster_state:ok', 10000, async () => (/cluster_state:ok/.test(await clusterInfo(c.masters[0])) ? true : 'fail still'));
      t.pass('FORCE promoted it, and the cluster is whole again');
      [c.masters[1], c.replicas[1]] = [replica, master];
    });

    t.test('a master with slots and no replica that comes back is cleared of FAIL after 2 x node timeout', async (t) => {
      const lone = c.masters[1]; // its old master was killed: it has no replica
      const observer = c.masters[0];
      // (It keeps the nofailover flag it was given as a replica.)
      const flagsOf = async () => (await bulk(await observer.client.command('CLUSTER', 'NODES'))).split('\n').find((l) => l.startsWith(lone.id))!.split(' ')[2].replace(',nofailover', '');
      lone.server.proc.kill('SIGSTOP');
      try {
        await waitFor('FAIL on the lone master', 10000, async () => ((await flagsOf()) === 'master,fail' ? true : await flagsOf()));
      } finally {
        lone.server.proc.kill('SIGCONT');
      }
      const back = Date.now();
      await waitFor('the FAIL flag to be cleared', 15000, async () => ((await flagsOf()) === 'master' ? true : await flagsOf()));
      t.ok(Date.now() - back >= 1000, `not cleared at once (${Date.now() - back} ms): a master with slots waits for a failover first`);
      t.match(observer.server.output(), new RegExp(`Clear FAIL state for node ${lone.id}: is reachable again and nobody is serving its slots after some time\\.`));
      await waitFor('cluster_state:ok', 10000, async () => (/cluster_state:ok/.test(await clusterInfo(observer)) ? true : 'fail still'));
    });
  });

  t.test('replica migration: a master left without replicas gets one from the master with two', async (t) => {
    const c = await startReplicatedCluster(t, 'weft');
    const extra = await startNode(t, 'weft', { threads: 1 });
    await c.masters[0].client.command('CLUSTER', 'MEET', '127.0.0.1', String(extra.port), String(extra.cport));
    await waitFor('the new node to learn the cluster', 15000, async () => ((await clusterInfo(extra)).includes('cluster_known_nodes:7') ? true : 'not yet'));
    t.equal(text(await extra.client.command('CLUSTER', 'REPLICATE', c.masters[1].id)), '+OK\r\n');
    await waitFor('every node to see two replicas of the second master', 15000, async () => {
      for (const n of [...c.masters, ...c.replicas]) {
        const lines = bulk(await n.client.command('CLUSTER', 'NODES')).split('\n').filter((l) => l.split(' ')[3] === c.masters[1].id);
        if (lines.length !== 2) return `${n.port} sees ${lines.length}`;
      }
      return true;
    });
    // The first master loses its only replica: after it is FAIL and CLUSTER_SLAVE_MIGRATION_DELAY (5 s),
    // the replica of the second master with the smaller id moves to it.
    c.replicas[0].server.proc.kill('SIGKILL');
    const candidates = [c.replicas[1], extra].sort((a, b) => (a.id < b.id ? -1 : 1));
    await waitFor('a replica to migrate to the orphaned master', 30000, async () => {
      const mine = await masterOf(candidates[0]);
      return mine === c.masters[0].id ? true : `${candidates[0].port} replicates ${mine}`;
    });
    t.equal(await masterOf(candidates[1]), c.masters[1].id, 'the other replica stays (migration barrier 1)');
    await waitFor('the migrated replica\'s link to be up', 15000, async () => {
      const info = bulk(await candidates[0].client.command('INFO', 'replication'));
      return info.includes(`master_port:${c.masters[0].port}\r\n`) && info.includes('master_link_status:up') ? true : info;
    });
    t.pass('the orphaned master has a working replica again');
  });

  t.test('Redis 7 cluster: kill -9 of a master, measured the same way', async (t) => {
    const kind: Kind = 'redis';
    const c = await startReplicatedCluster(t, kind);
    const r = await killMasterUnderLoad(t, c, 0);
    t.comment(`redis: kill -9 -> first write ${r.ms} ms; ${r.lost} of ${r.acked} keys lost an acknowledged write (no WAIT)`);
  });
}
