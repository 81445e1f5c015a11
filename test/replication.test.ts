/**
 * Replication between weft servers outside cluster mode (REPLICAOF): full
 * synchronisation of an existing dataset while the master keeps taking
 * writes, the write stream in effect form (every key compared, expire times
 * included), partial resynchronisation after a dropped link, WAIT, ROLE,
 * INFO replication, read-only replicas, expiry propagated as DEL, and
 * REPLICAOF NO ONE. Error replies are compared with a real redis-server.
 */
import t from 'tap';
import net from 'node:net';
import { RawClient, startWeft, startRedis, haveRedisServer, compareScripts, type ServerHandle } from './helpers/servers.js';
import { waitFor, sleep } from './helpers/cluster.js';
import { datasetOf, sameDataset, replicationInfo } from './helpers/replication.js';

async function weft(t: Tap.Test, args: string[] = [], threads = 2): Promise<{ server: ServerHandle; c: RawClient }> {
  const server = await startWeft(args, { threads });
  t.teardown(() => server.stop());
  const c = await RawClient.connect(server.port);
  t.teardown(() => c.close());
  return { server, c };
}

const text = (b: Buffer) => b.toString();

async function waitLinkUp(replica: RawClient, timeoutMs = 20000): Promise<void> {
  await waitFor('master_link_status:up on the replica', timeoutMs, async () => {
    const info = await replicationInfo(replica);
    return info.master_link_status === 'up' ? true : JSON.stringify(info);
  });
}

t.test('full sync of a dataset written before and during the sync, then the stream, every key compared', async (t) => {
  const master = await weft(t, [], 2);
  const replica = await weft(t, [], 2);
  const m = master.c;
  // A dataset in several databases, with expire times, over every shard.
  const load: string[][] = [];
  for (let i = 0; i < 20000; i++) load.push(['SET', `key:${i}`, `value-${i}`]);
  for (let i = 0; i < 500; i++) load.push(['SET', `ttl:${i}`, 'x', 'PX', String(3600_000 + i)]);
  for (let i = 0; i < 100; i++) load.push(['SELECT', '3'], ['SET', `db3:${i}`, String(i)], ['SELECT', '0']);
  await m.pipeline(load);
  // Writes keep coming while the replica synchronises: single-key and multi-shard ones.
  let writing = true;
  let written = 0;
  const writer = (async () => {
    const w = await RawClient.connect(master.server.port);
    try {
      while (writing) {
        await w.pipeline([
          ['INCR', 'counter'], ['APPEND', `log:${written % 50}`, 'ab'], ['MSET', `m:${written % 97}`, String(written), `n:${written % 89}`, String(written)],
          ['DEL', `key:${written % 20000}`, `key:${(written * 7) % 20000}`], ['SET', `ex:${written % 300}`, 'v', 'EX', '1000'],
          ['INCRBYFLOAT', 'float', '0.1'], ['EXPIRE', `key:${(written * 13) % 20000}`, '5000'],
        ]);
        written++;
      }
    } finally {
      w.close();
    }
  })();
  await sleep(100);
  t.equal(text(await replica.c.command('REPLICAOF', '127.0.0.1', String(master.server.port))), '+OK\r\n');
  await waitLinkUp(replica.c);
  await sleep(300);
  writing = false;
  await writer;
  t.ok(written > 0, `${written} write batches ran during the sync`);
  t.equal(text(await m.command('WAIT', '1', '5000')), ':1\r\n', 'WAIT 1 acknowledged by the replica');
  const diff = sameDataset(await datasetOf(m), await datasetOf(replica.c));
  t.equal(diff, null, 'the replica holds exactly the master\'s keys, values and expire times');
  t.match(master.server.output(), /Full resync requested by replica/);
});

t.test('effect-form propagation of every write command', async (t) => {
  const master = await weft(t, [], 2);
  const replica = await weft(t, ['--replicaof', `127.0.0.1 ${master.server.port}`], 1).catch(async () => {
    throw new Error('replicaof at start-up failed');
  });
  await waitLinkUp(replica.c);
  const m = master.c;
  await m.pipeline([
    ['SET', 'a', '1'], ['SET', 'b', 'x', 'EX', '100'], ['SET', 'c', 'y', 'PX', '100000', 'GET'], ['SETNX', 'd', '1'], ['SETEX', 'e', '100', 'v'],
    ['PSETEX', 'f', '100000', 'v'], ['GETSET', 'a', '2'], ['SET', 'g', 'gone'], ['GETDEL', 'g'], ['SET', 'h', 'v'], ['GETEX', 'h', 'EX', '500'],
    ['SET', 'i', 'v', 'EX', '100'], ['GETEX', 'i', 'PERSIST'], ['MSET', 'j', '1', 'k', '2'], ['MSETNX', 'l', '1', 'm', '2'], ['INCR', 'n'], ['DECR', 'n'],
    ['INCRBY', 'n', '10'], ['DECRBY', 'n', '3'], ['INCRBYFLOAT', 'o', '1.5'], ['INCRBYFLOAT', 'o', '2.25'], ['APPEND', 'p', 'abc'], ['SETRANGE', 'p', '5', 'z'],
    ['SETBIT', 'q', '100', '1'], ['BITOP', 'OR', 'r', 'q', 'p'], ['BITFIELD', 's', 'SET', 'u8', '0', '200', 'INCRBY', 'u8', '0', '100'],
    ['SET', 't', 'v'], ['EXPIRE', 't', '100'], ['PEXPIRE', 'j', '100000'], ['EXPIREAT', 'k', String(Math.floor(Date.now() / 1000) + 1000)],
    ['PEXPIREAT', 'l', String(Date.now() + 1000000)], ['PERSIST', 'l'], ['SET', 'u', 'v'], ['EXPIRE', 'u', '-1'], ['SET', 'v1', 'v'], ['RENAME', 'v1', 'v2'],
    ['SET', 'w1', 'v'], ['RENAMENX', 'w1', 'w2'], ['COPY', 'v2', 'v3'], ['DEL', 'a', 'nosuchkey'], ['UNLINK', 'b'],
    ['SELECT', '5'], ['SET', 'five', '5'], ['SWAPDB', '5', '6'], ['SELECT', '6'], ['SET', 'six', '6'], ['SELECT', '7'], ['SET', 'gone', '1'], ['FLUSHDB'], ['SELECT', '0'],
  ]);
  t.equal(text(await m.command('WAIT', '1', '5000')), ':1\r\n');
  t.equal(sameDataset(await datasetOf(m), await datasetOf(replica.c)), null, 'same keys, values and expire times');
  t.equal(text(await replica.c.command('GET', 'o')), '$4\r\n3.75\r\n');
  await m.command('FLUSHALL');
  t.equal(text(await m.command('WAIT', '1', '5000')), ':1\r\n');
  t.equal(text(await replica.c.command('DBSIZE')), ':0\r\n', 'FLUSHALL reached the replica');
});

t.test('keys that expire or are evicted on the master are deleted on the replica', async (t) => {
  const master = await weft(t, [], 1);
  const replica = await weft(t, [], 1);
  await replica.c.command('REPLICAOF', '127.0.0.1', String(master.server.port));
  await waitLinkUp(replica.c);
  await master.c.pipeline(Array.from({ length: 50 }, (_, i) => ['SET', `short:${i}`, 'v', 'PX', '200']));
  await master.c.command('SET', 'long', 'v');
  t.equal(text(await master.c.command('WAIT', '1', '5000')), ':1\r\n');
  t.equal(text(await replica.c.command('DBSIZE')), ':51\r\n', 'the replica got every key');
  // A replica hides an expired key from reads but keeps it until the master's DEL.
  await sleep(400);
  t.equal(text(await replica.c.command('GET', 'short:0')), '$-1\r\n', 'expired keys read as missing on the replica');
  await waitFor('active expiry on the master to reach the replica', 10000, async () => {
    const n = text(await replica.c.command('DBSIZE'));
    return n === ':1\r\n' ? true : n;
  });
  t.pass('the master\'s expiry deletions were propagated');
});

t.test('read-only replica, ROLE, INFO replication, WAIT, partial resync and REPLICAOF NO ONE', async (t) => {
  const master = await weft(t, [], 2);
  const replica = await weft(t, [], 2);
  const r = replica.c;
  const m = master.c;
  t.equal(text(await m.command('ROLE')), '*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n');
  t.equal(text(await r.command('REPLICAOF', '127.0.0.1', String(master.server.port))), '+OK\r\n');
  t.equal(text(await r.command('REPLICAOF', '127.0.0.1', String(master.server.port))), '+OK Already connected to specified master\r\n');
  await waitLinkUp(r);
  await m.command('SET', 'k', 'v');
  t.equal(text(await m.command('WAIT', '1', '0')), ':1\r\n');
  t.equal(text(await r.command('SET', 'x', 'y')), "-READONLY You can't write against a read only replica.\r\n");
  t.equal(text(await r.command('GET', 'k')), '$1\r\nv\r\n');
  const started = Date.now();
  t.equal(text(await m.command('WAIT', '2', '300')), ':1\r\n', 'WAIT for more replicas than there are times out with the count');
  t.ok(Date.now() - started >= 250, 'WAIT waited for its timeout');
  t.equal(text(await r.command('WAIT', '1', '10')), '-ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 ' +
    'if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.\r\n');
  const info = await replicationInfo(m);
  t.equal(info.role, 'master');
  t.equal(info.connected_slaves, '1');
  t.match(info.slave0, new RegExp(`^ip=127\\.0\\.0\\.1,port=${replica.server.port},state=online,offset=\\d+,lag=\\d+$`));
  t.equal(info.repl_backlog_active, '1');
  const rinfo = await replicationInfo(r);
  t.equal(rinfo.role, 'slave');
  t.equal(rinfo.master_port, String(master.server.port));
  t.equal(rinfo.master_replid, info.master_replid, 'the replica reports its master\'s replication id');
  const role = text(await r.command('ROLE'));
  t.match(role, new RegExp(`^\\*5\\r\\n\\$5\\r\\nslave\\r\\n\\$9\\r\\n127\\.0\\.0\\.1\\r\\n:${master.server.port}\\r\\n\\$9\\r\\nconnected\\r\\n:\\d+\\r\\n$`));
  t.match(text(await m.command('CLIENT', 'LIST', 'TYPE', 'replica')), /flags=S /);

  // The link drops; the replica comes back with a partial resynchronisation and gets what it missed.
  t.equal(text(await m.command('CLIENT', 'KILL', 'TYPE', 'replica')), ':1\r\n');
  await m.command('SET', 'missed', 'yes');
  await waitLinkUp(r);
  t.equal(text(await m.command('WAIT', '1', '5000')), ':1\r\n');
  t.equal(text(await r.command('GET', 'missed')), '$3\r\nyes\r\n');
  t.match(master.server.output(), /Partial resynchronization request from 127\.0\.0\.1:\d+ accepted/);
  t.match(replica.server.output(), /Successful partial resynchronization with master/);

  t.equal(text(await r.command('REPLICAOF', 'NO', 'ONE')), '+OK\r\n');
  t.equal(text(await r.command('SET', 'x', 'y')), '+OK\r\n', 'a promoted replica takes writes');
  t.equal(text(await r.command('GET', 'k')), '$1\r\nv\r\n', 'and keeps its data');
  t.equal((await replicationInfo(r)).master_replid2, info.master_replid, 'its old master\'s id becomes replid2');
});

t.test('a replica that vanishes during its full sync leaves multi-shard writes working', async (t) => {
  const master = await weft(t, [], 1);
  await master.c.pipeline(Array.from({ length: 30000 }, (_, i) => ['SET', `key:${i}`, `value-${i}`]));
  for (let round = 0; round < 3; round++) {
    const ghost = await RawClient.connect(master.server.port);
    ghost.write('PSYNC ? -1\r\n');
    await sleep(2 + round * 5);
    ghost.close();
  }
  await sleep(200);
  // Keys in different shards: the write takes the snapshot gate, which a vanished sync must not keep closed.
  const started = Date.now();
  t.equal(text(await master.c.command('MSET', 'a', '1', 'b', '2', 'c', '3', 'd', '4', 'e', '5')), '+OK\r\n');
  t.ok(Date.now() - started < 2000, `MSET answered in ${Date.now() - started} ms`);
  t.equal(text(await master.c.command('DEL', 'a', 'b', 'c', 'd', 'e')), ':5\r\n');
});

t.test('a master that sends something other than a weft stream: the replica logs it and keeps serving', async (t) => {
  // A fake master: answers the handshake as Redis does, then sends an RDB payload and a stream command.
  let connections = 0;
  const fake = net.createServer((s) => {
    connections++;
    s.on('error', () => {});
    s.once('data', () => {
      s.write('+OK\r\n+OK\r\n+FULLRESYNC ' + 'a'.repeat(40) + ' 0\r\n$18\r\nREDIS0009\xfa\x09redis-ver\r\n*1\r\n$4\r\nPING\r\n');
    });
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  t.teardown(() => fake.close());
  const port = (fake.address() as net.AddressInfo).port;
  const replica = await weft(t, [], 1);
  t.equal(text(await replica.c.command('REPLICAOF', '127.0.0.1', String(port))), '+OK\r\n');
  await waitFor('a second connection attempt', 10000, async () => (connections >= 2 ? true : `${connections} connection(s)`));
  t.match(replica.server.output(), /Replication stream from 127\.0\.0\.1:\d+ unreadable: not a weft replication frame/);
  t.equal(text(await replica.c.command('PING')), '+PONG\r\n', 'the replica still serves');
  t.equal((await replicationInfo(replica.c)).master_link_status, 'down');
});

t.test('replica-serve-stale-data no: MASTERDOWN while the link is down, as redis-server answers', { skip: !haveRedisServer() && 'no redis-server' }, async (t) => {
  // Both replicate a port nobody listens on, so their links stay down.
  const nobody = net.createServer();
  await new Promise<void>((resolve) => nobody.listen(0, '127.0.0.1', resolve));
  const deadPort = String((nobody.address() as net.AddressInfo).port);
  await new Promise<void>((resolve) => nobody.close(() => resolve()));
  const w = await weft(t, ['--replica-serve-stale-data', 'no']);
  const redis = await startRedis(['--replica-serve-stale-data', 'no']);
  t.teardown(() => redis.stop());
  const r = await RawClient.connect(redis.port);
  t.teardown(() => r.close());
  const script = [['GET', 'k'], ['SET', 'k', 'v'], ['PING'], ['ECHO', 'x'], ['DBSIZE'], ['CONFIG', 'GET', 'replica-serve-stale-data'], ['EXISTS', 'k']];
  t.same(await compareScripts(w.c, r, script), [], 'a master serves everything');
  for (const c of [w.c, r]) await c.command('REPLICAOF', '127.0.0.1', deadPort);
  t.same(await compareScripts(w.c, r, script), [], 'a replica with its link down: the same replies (MASTERDOWN, READONLY, stale commands)');
  t.equal(text(await w.c.command('GET', 'k')), "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n");
  for (const c of [w.c, r]) await c.command('CONFIG', 'SET', 'replica-serve-stale-data', 'yes');
  t.same(await compareScripts(w.c, r, script), [], 'replica-serve-stale-data yes: stale reads again');
  t.equal(text(await w.c.command('GET', 'k')), '$1\r\nv\r\n', 'the data written as a master is still there');
});

t.test('argument errors match redis-server', { skip: !haveRedisServer() && 'no redis-server' }, async (t) => {
  const w = await weft(t);
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const r = await RawClient.connect(redis.port);
  t.teardown(() => r.close());
  t.same(await compareScripts(w.c, r, [
    ['REPLICAOF', '127.0.0.1', 'notaport'], ['REPLICAOF', '127.0.0.1', '70000'], ['SLAVEOF', 'x'], ['WAIT', 'x', '0'], ['WAIT', '0', 'x'],
    ['WAIT', '0', '-1'], ['WAIT', '0', '0'], ['REPLCONF', 'listening-port'], ['REPLCONF', 'nosuch', 'x'], ['REPLCONF', 'listening-port', 'x'],
    ['REPLCONF', 'capa', 'eof'], ['PSYNC', 'x'], ['ROLE', 'x'], ['REPLICAOF', 'no', 'one'],
  ]), []);
});

t.test('REPLICAOF is refused in cluster mode', async (t) => {
  const w = await weft(t, ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${process.pid}-${Date.now()}.conf`, '--dir', (await import('node:os')).tmpdir()]);
  t.equal(text(await w.c.command('REPLICAOF', '127.0.0.1', '1')), '-ERR REPLICAOF not allowed in cluster mode.\r\n');
});
