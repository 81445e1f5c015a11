/**
 * Blocked clients whose node can no longer serve them, as Redis 7.0 answers
 * them, weft and redis-server side by side:
 * - cluster mode (clusterRedirectBlockedClientIfNeeded, from the cron):
 *   -MOVED when the keys' slot moved to another node, -CLUSTERDOWN The
 *   cluster is down when the cluster state fails, -CLUSTERDOWN Hash slot
 *   not served when the slot is unassigned but the cluster stays up
 *   (cluster-require-full-coverage no); a slot being imported keeps them;
 * - a master turned replica (disconnectAllBlockedClients): -UNBLOCKED, and
 *   the connection closes after the reply.
 */
import t, { type Test } from 'tap';
import { RawClient, requireRedisTools, startRedis, startWeft, type ServerHandle } from './helpers/servers.js';
import { bulk, formCluster, startNode, waitFor, type Kind, type Node } from './helpers/cluster.js';

const text = (b: Buffer) => b.toString('latin1');

/** A client of `port` blocked in BLPOP on `key` (forever, after ASKING when asked); its reply is the promise. */
async function blockOn(t: Test, port: number, key: string, asking = false): Promise<{ client: RawClient; reply: Promise<string> }> {
  const client = await RawClient.connect(port);
  t.teardown(() => client.close());
  if (asking) await client.command('ASKING');
  client.write(`*3\r\n$5\r\nBLPOP\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n$1\r\n0\r\n`);
  const reply = client.reply(15000).then(text, (e: Error) => `no reply: ${e.message}`);
  return { client, reply };
}

async function waitBlocked(c: RawClient, n: number): Promise<void> {
  await waitFor(`${n} blocked clients`, 10000, async () => {
    const info = text(await c.command('INFO', 'clients'));
    return new RegExp(`blocked_clients:${n}\\r\\n`).test(info) ? true : info;
  });
}

/** What one kind of server answers in each scenario, with its own ports replaced by names. */
async function clusterScenarios(t: Test, kind: Kind): Promise<string[]> {
  const a = await startNode(t, kind, { threads: 2 });
  const b = await startNode(t, kind, { threads: 2 });
  await formCluster([a, b]);
  const mask = (s: string) => s.split(String(b.port)).join('<B>').split(String(a.port)).join('<A>');
  const seen: string[] = [];
  // Keys whose slots A serves (A has 0..8191).
  const slotOf = async (key: string) => Number(/^:(\d+)/.exec(text(await a.client.command('CLUSTER', 'KEYSLOT', key)))![1]);
  const keys: string[] = [];
  for (let i = 0; keys.length < 3; i++) if ((await slotOf(`{a${i}}q`)) < 8192) keys.push(`{a${i}}q`);
  const [moved, down, unserved] = keys;

  // The slot moves to B: the blocked client is told where it went.
  const m = await blockOn(t, a.port, moved);
  await waitBlocked(a.client, 1);
  const movedSlot = String(await slotOf(moved));
  for (const n of [b, a]) await n.client.command('CLUSTER', 'SETSLOT', movedSlot, 'NODE', b.id);
  seen.push(mask(await m.reply));

  // The slot is unassigned on A: with full coverage required the cluster fails.
  const d = await blockOn(t, a.port, down);
  await waitBlocked(a.client, 1);
  const downSlot = String(await slotOf(down));
  await a.client.command('CLUSTER', 'DELSLOTS', downSlot);
  seen.push(mask(await d.reply));
  await a.client.command('CLUSTER', 'ADDSLOTS', downSlot);

  // Without full coverage the cluster stays up: the slot is not served.
  await a.client.command('CONFIG', 'SET', 'cluster-require-full-coverage', 'no');
  await waitFor('cluster_state:ok on A', 10000, async () => /cluster_state:ok/.test(bulk(await a.client.command('CLUSTER', 'INFO'))) ? true : 'not ok');
  const u = await blockOn(t, a.port, unserved);
  await waitBlocked(a.client, 1);
  const unservedSlot = String(await slotOf(unserved));
  await a.client.command('CLUSTER', 'DELSLOTS', unservedSlot);
  seen.push(mask(await u.reply));
  // A slot B owns and A imports keeps a client blocked on A (ASKING lets it block there).
  await a.client.command('CLUSTER', 'SETSLOT', movedSlot, 'IMPORTING', b.id);
  const i = await blockOn(t, a.port, moved, true);
  const early = await Promise.race([i.reply, waitBlocked(a.client, 1).then(() => null)]);
  if (early !== null) return [...seen, `answered while importing: ${early}`];
  await new Promise((r) => setTimeout(r, 500));
  seen.push(`blocked while importing: ${await blockedCount(a)}`);
  await a.client.command('CLUSTER', 'SETSLOT', movedSlot, 'STABLE');
  seen.push(mask(await i.reply));
  return seen;
}

async function blockedCount(n: Node): Promise<string> {
  return /blocked_clients:(\d+)/.exec(text(await n.client.command('INFO', 'clients')))![1];
}

async function roleChange(t: Test, kind: Kind): Promise<string[]> {
  const start = (): Promise<ServerHandle> => (kind === 'weft' ? startWeft([], { threads: 2 }) : startRedis());
  const [master, other] = await Promise.all([start(), start()]);
  t.teardown(() => Promise.all([master.stop(), other.stop()]).then(() => undefined));
  const admin = await RawClient.connect(master.port);
  t.teardown(() => admin.close());
  const blocked = await blockOn(t, master.port, 'jobs');
  const zBlocked = await RawClient.connect(master.port);
  t.teardown(() => zBlocked.close());
  zBlocked.write('*3\r\n$8\r\nBZPOPMIN\r\n$1\r\nz\r\n$1\r\n0\r\n');
  await waitBlocked(admin, 2);
  await admin.command('REPLICAOF', '127.0.0.1', String(other.port));
  const zReply = text(await zBlocked.reply(5000));
  await waitBlocked(admin, 0);
  return [await blocked.reply, zReply, `closed: ${(await blocked.client.closedWith()) === '' && blocked.client.closed}`,
    `closed: ${zBlocked.closed || (await zBlocked.closedWith()) === ''}`, await blockedCount({ client: admin } as Node)];
}

if (requireRedisTools(t)) {
  t.test('cluster mode: MOVED and CLUSTERDOWN to blocked clients, as redis-server', async (t) => {
    const [weft, redis] = await Promise.all([clusterScenarios(t, 'weft'), clusterScenarios(t, 'redis')]);
    t.same(weft, redis);
    t.match(weft[0], /^-MOVED \d+ 127\.0\.0\.1:<B>\r\n$/);
    t.equal(weft[1], '-CLUSTERDOWN The cluster is down\r\n');
    t.equal(weft[2], '-CLUSTERDOWN Hash slot not served\r\n');
    t.equal(weft[3], 'blocked while importing: 1');
  });

  t.test('a master turned replica unblocks its clients with -UNBLOCKED and closes them', async (t) => {
    const [weft, redis] = await Promise.all([roleChange(t, 'weft'), roleChange(t, 'redis')]);
    t.same(weft, redis);
    t.equal(weft[0], '-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)\r\n');
  });
}
