/**
 * Sharded pub/sub (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, PUBSUB SHARDCHANNELS
 * and SHARDNUMSUB). Outside cluster mode against redis-server 7.0.15, byte
 * for byte: replies and counts (shard channels counted apart from channels
 * and patterns), smessage delivery in RESP2 and RESP3, the subscribed
 * context, SSUBSCRIBE refused inside EXEC. Then on a 3+3 weft cluster:
 * channels routed as keys (MOVED, CROSSSLOT), replicas serving them without
 * READONLY, SPUBLISH reaching only the shard's nodes, node-redis's sharded
 * pub/sub, and every subscriber told `sunsubscribe` when a failover moves
 * the channel's slot to another node.
 */
import t, { type Test } from 'tap';
import { createCluster } from 'redis';
import { Cluster } from 'ioredis';
import { RawClient, encodeCommand, requireRedisTools } from './helpers/servers.js';
import { connectPair, diffScript, startPair } from './helpers/differential.js';
import { startReplicatedCluster, waitFor } from './helpers/cluster.js';
import { keyHashSlotOfString } from '../src/store/key-hash.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw connection collecting everything it receives. */
async function listener(t: Test, port: number): Promise<{ c: RawClient; text: () => string }> {
  const c = await RawClient.connect(port);
  t.teardown(() => c.close());
  let got = '';
  c.socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
  return { c, text: () => got };
}

/** An array of bulk strings with its elements sorted. */
function sortedArray(reply: string): string {
  const [head, ...rest] = reply.split('\r\n');
  const items: string[] = [];
  for (let i = 0; i + 1 < rest.length; i += 2) items.push(`${rest[i]}\r\n${rest[i + 1]}`);
  return `${head}\r\n${items.sort().join('\r\n')}`;
}

/** A channel name whose slot lies in [first, last]. */
function channelIn(first: number, last: number, prefix: string): string {
  for (let i = 0; ; i++) {
    const name = `${prefix}${i}`;
    const slot = keyHashSlotOfString(name);
    if (slot >= first && slot <= last) return name;
  }
}

if (requireRedisTools(t)) {
  t.test('outside cluster mode, as redis-server', async (t) => {
    const pair = await startPair(t, [], { threads: 2 });
    const script: (string | Buffer)[][] = [
      ['SSUBSCRIBE', 's1', 's2', 's1'], ['SUBSCRIBE', 'c1'], ['PSUBSCRIBE', 's*'], ['SSUBSCRIBE', 's3'],
      ['SUNSUBSCRIBE', 's1', 'nosuch'], ['PING'], ['GET', 'x'], ['SPUBLISH', 's2', 'x'],
    ];
    const run = async (port: number) => {
      const sub = await listener(t, port);
      for (const cmd of script) {
        sub.c.write(encodeCommand(cmd));
        await sleep(2);
      }
      await sleep(100);
      const other = await RawClient.connect(port);
      t.teardown(() => other.close());
      const replies: string[] = [];
      for (const cmd of [['SPUBLISH', 's2', 'to-s2'], ['SPUBLISH', 's1', 'to-s1'], ['PUBLISH', 's2', 'not-a-shard-message'],
        ['PUBSUB', 'SHARDCHANNELS'], ['PUBSUB', 'SHARDCHANNELS', 's[23]'], ['PUBSUB', 'SHARDCHANNELS', 'x*'],
        ['PUBSUB', 'SHARDNUMSUB', 's1', 's2', 's3'], ['PUBSUB', 'SHARDNUMSUB'], ['PUBSUB', 'CHANNELS'], ['PUBSUB', 'NUMSUB', 's2'],
        ['MULTI'], ['SSUBSCRIBE', 'in-multi'], ['SUNSUBSCRIBE', 'in-multi'], ['EXEC'], ['SPUBLISH'], ['SSUBSCRIBE']]) {
        const reply = (await other.command(...cmd)).toString('latin1');
        // SHARDCHANNELS lists in the server's hash order: compared as a set.
        replies.push(cmd[1] === 'SHARDCHANNELS' ? sortedArray(reply) : reply);
      }
      await sleep(100);
      for (const cmd of [['SUNSUBSCRIBE', 's2'], ['SUNSUBSCRIBE', 's3'], ['SUNSUBSCRIBE'], ['UNSUBSCRIBE'], ['PUNSUBSCRIBE'], ['GET', 'x'],
        ['HELLO', '3'], ['SSUBSCRIBE', 'r3'], ['SPUBLISH', 'r3', 'own'], ['SUNSUBSCRIBE', 'r3']]) {
        sub.c.write(encodeCommand(cmd));
        await sleep(2);
      }
      await sleep(150);
      return { sub: sub.text().replace(/\$2\r\nid\r\n:\d+\r\n/g, '$2\r\nid\r\n:<id>\r\n'), replies };
    };
    const [weft, redis] = await Promise.all([run(pair.weft.port), run(pair.redis.port)]);
    t.same(weft.replies, redis.replies);
    t.equal(weft.sub, redis.sub);
    t.match(weft.sub, /\*3\r\n\$8\r\nsmessage\r\n\$2\r\ns2\r\n\$5\r\nto-s2\r\n/);
    t.match(weft.sub, />3\r\n\$8\r\nsmessage\r\n\$2\r\nr3\r\n\$3\r\nown\r\n:1\r\n/, 'RESP3: the push before SPUBLISH\'s reply');
    const [w, r] = await connectPair(t, pair);
    t.same(await diffScript(w, r, [['COMMAND', 'INFO', 'ssubscribe', 'sunsubscribe', 'spublish'],
      ['COMMAND', 'GETKEYS', 'SPUBLISH', 'ch', 'm'], ['COMMAND', 'DOCS', 'spublish']]), []);
  });
}

t.test('in a 3+3 weft cluster', async (t) => {
  const cluster = await startReplicatedCluster(t, 'weft', 3);
  const [m0, m1] = cluster.masters;
  const r0 = cluster.replicas[0];
  const channel = channelIn(0, 5460, 'news-');
  const other = channelIn(5461, 10922, 'news-');
  const slot = keyHashSlotOfString(channel);

  const onMaster = await listener(t, m0.port);
  const onReplica = await listener(t, r0.port);
  const elsewhere = await listener(t, m1.port);
  t.equal((await onMaster.c.command('SSUBSCRIBE', channel)).toString(), `*3\r\n$10\r\nssubscribe\r\n$${channel.length}\r\n${channel}\r\n:1\r\n`);
  t.equal((await onReplica.c.command('SSUBSCRIBE', channel)).toString().slice(0, 17), '*3\r\n$10\r\nssubscri', 'a replica serves its master\'s channels without READONLY');
  t.match((await elsewhere.c.command('SSUBSCRIBE', channel)).toString(), new RegExp(`^-MOVED ${slot} 127\\.0\\.0\\.1:${m0.port}\r\n$`));
  t.equal((await elsewhere.c.command('SSUBSCRIBE', channel, other)).toString(), "-CROSSSLOT Keys in request don't hash to the same slot\r\n");
  t.match((await m1.client.command('SPUBLISH', channel, 'x')).toString(), /^-MOVED /);
  t.equal((await elsewhere.c.command('SSUBSCRIBE', other)).toString().slice(-4), ':1\r\n');

  t.equal((await m0.client.command('SPUBLISH', channel, 'from-master')).toString(), ':1\r\n', 'receivers on this node');
  t.equal((await r0.client.command('SPUBLISH', channel, 'from-replica')).toString(), ':1\r\n');
  await waitFor('both messages at the master\'s and the replica\'s subscriber', 10000, async () => {
    const seen = [onMaster, onReplica].map((s) => (s.text().match(/from-(master|replica)/g) ?? []).sort().join(','));
    return seen.every((x) => x === 'from-master,from-replica') ? true : JSON.stringify(seen);
  });
  await sleep(200);
  t.notMatch(elsewhere.text(), /from-/, 'other shards never see them');

  t.test('node-redis sharded pub/sub', async (t) => {
    const client = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${m1.port}` }] });
    client.on('error', () => {});
    await client.connect();
    t.teardown(() => client.destroy());
    const got: string[] = [];
    await client.sSubscribe(other, (message) => got.push(message));
    await client.sPublish(other, 'via-node-redis');
    await waitFor('node-redis got its sharded message', 10000, async () => (got.includes('via-node-redis') ? true : got.join(',')));
    await waitFor('the raw subscriber on the same shard got it too', 10000, async () =>
      (elsewhere.text().includes('via-node-redis') ? true : 'not yet'));
  });

  t.test('ioredis: a cluster subscriber hears PUBLISH from every node, masters and replicas', async (t) => {
    const client = new Cluster([{ host: '127.0.0.1', port: m0.port }], { lazyConnect: true });
    client.on('error', () => {});
    t.teardown(() => client.disconnect());
    await client.connect();
    const got = new Set<string>();
    client.on('message', (_channel: string, message: string) => got.add(message));
    await client.subscribe('everywhere');
    const nodes = [...cluster.masters, ...cluster.replicas];
    for (const n of nodes) await n.client.command('PUBLISH', 'everywhere', `from-${n.port}`);
    await waitFor('a message from each of the six nodes', 10000, async () => (got.size === nodes.length ? true : [...got].join(',')));
  });

  t.test('a failover moves the slot: every subscriber of the shard is told sunsubscribe', async (t) => {
    t.equal((await r0.client.command('CLUSTER', 'FAILOVER')).toString(), '+OK\r\n');
    const expected = `*3\r\n$12\r\nsunsubscribe\r\n$${channel.length}\r\n${channel}\r\n:0\r\n`;
    await waitFor('sunsubscribe on the old master and the new one', 20000, async () =>
      [onMaster, onReplica].every((s) => s.text().endsWith(expected)) ? true : JSON.stringify([onMaster.text().slice(-80), onReplica.text().slice(-80)]));
    onReplica.c.write(encodeCommand(['PING']));
    await waitFor('PING answered outside the subscribed context', 5000, async () =>
      onReplica.text().endsWith(`${expected}+PONG\r\n`) ? true : JSON.stringify(onReplica.text().slice(-60)));
    t.equal((await r0.client.command('PUBSUB', 'SHARDNUMSUB', channel)).toString(), `*2\r\n$${channel.length}\r\n${channel}\r\n:0\r\n`);
    t.notMatch(elsewhere.text(), /sunsubscribe/, 'other shards keep theirs');
  });
});
