/**
 * MULTI, EXEC, DISCARD, WATCH and UNWATCH (src/commands/transactions.ts,
 * watched-keys.ts, store/watch-list.ts) against redis-server 7.0.15, byte
 * for byte: every queueing error and EXECABORT, runtime errors as elements,
 * nested MULTI and WATCH inside MULTI, blocking commands that do not block,
 * RESP3 and HELLO inside a transaction, SELECT inside, OOM, and each way a
 * watched key is touched (writes from another connection, same-value SET,
 * no-op writes that do not touch, EXPIRE, expiry between WATCH and EXEC,
 * stale keys, FLUSHALL / FLUSHDB / SWAPDB, other databases). Then on weft
 * alone, across worker threads: transactions from many connections never
 * interleave, WATCH-based increments lose nothing, and a replica applies a
 * transaction as a whole.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { RawClient, requireRedisTools, startWeft } from './helpers/servers.js';
import { connectPair, diffScript, startPair, type Step } from './helpers/differential.js';
import { waitFor } from './helpers/cluster.js';
import { replicationInfo } from './helpers/replication.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (b: Buffer) => b.toString('latin1');

if (requireRedisTools(t)) {
  const pair = await startPair(t, [], { threads: 2 });
  const [w, r] = await connectPair(t, pair);
  // A second connection to each server, for writes that touch the first one's watched keys.
  const [w2, r2] = await connectPair(t, pair);
  const run = async (steps: Step[]) => {
    await diffScript(w, r, [['HELLO', '2'], ['SELECT', '0'], ['FLUSHALL'], ['CONFIG', 'SET', 'maxmemory', '0']]);
    return diffScript(w, r, steps);
  };
  /** Steps alternating between the two connections: [which, command]. */
  const runBoth = async (steps: [1 | 2, string[]][]) => {
    await diffScript(w, r, [['HELLO', '2'], ['SELECT', '0'], ['FLUSHALL']]);
    await diffScript(w2, r2, [['SELECT', '0']]);
    const diffs = [];
    for (const [who, cmd] of steps) diffs.push(...(await (who === 1 ? diffScript(w, r, [cmd]) : diffScript(w2, r2, [cmd]))));
    return diffs;
  };

  t.test('queueing, EXECABORT and errors inside EXEC', async (t) => {
    t.same(await run([
      ['EXEC'], ['DISCARD'], ['MULTI'], ['MULTI'], ['WATCH', 'x'], ['SET', 'a', '1'], ['INCR', 'a'], ['LPUSH', 'a', 'x'], ['GET', 'a'],
      ['EXEC'], ['EXEC'],
      // Queue-time errors abort the whole transaction.
      ['MULTI'], ['SET', 'b', '1'], ['NOSUCH', 'x'], ['GET', 'b'], ['EXEC'], ['GET', 'b'],
      ['MULTI'], ['SET', 'b', '1'], ['INCR'], ['EXEC'],
      ['MULTI'], ['SET', 'b', '1'], ['SHUTDOWN'], ['EXEC'], ['GET', 'b'],
      ['MULTI'], ['CLIENT', 'NOSUCH'], ['EXEC'],
      // Errors found by the commands themselves are elements; the rest runs.
      ['MULTI'], ['SET', 'c', 'x'], ['INCR', 'c'], ['HSET', 'c', 'f', 'v'], ['SET', 'd', '1', 'EX', '-5'], ['APPEND', 'c', 'y'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'bogus'], ['EXEC'], ['GET', 'c'],
      ['MULTI'], ['PING'], ['DISCARD'], ['DISCARD'], ['MULTI'], ['EXEC'], ['UNWATCH'], ['WATCH'],
      ['MULTI'], ['ECHO', 'x'], ['RESET'], ['EXEC'],
      ['MULTI'], ['SELECT', '1'], ['SET', 'q', '1'], ['EXEC'], ['GET', 'q'], ['SELECT', '0'], ['GET', 'q'],
      ['MULTI'], ['HELLO', '3'], ['HGETALL', 'nosuch'], ['GET', 'c'], ['EXEC'], ['HELLO', '2'],
      ['MULTI'], ['BLPOP', 'l', '0'], ['BRPOP', 'l', '0'], ['BLMOVE', 'l', 'm', 'LEFT', 'RIGHT', '0'], ['BRPOPLPUSH', 'l', 'm', '0'],
      ['BLMPOP', '0', '1', 'l', 'LEFT'], ['BZPOPMIN', 'z', '0'], ['BZPOPMAX', 'z', '0'], ['BZMPOP', '0', '1', 'z', 'MIN'],
      ['RPUSH', 'l', 'v'], ['BLPOP', 'l', '0'], ['EXEC'],
      ['MULTI'], ['SUBSCRIBE', 'ch'], ['EXEC'], ['GET', 'c'], ['UNSUBSCRIBE'], ['PING'],
    ].map((s) => ({ cmd: s, map: (reply: string) => reply.replace(/\$2\r\nid\r\n:\d+\r\n/g, '$2\r\nid\r\n:N\r\n') }))), []);
  });

  t.test('RESP3 transactions and nulls', async (t) => {
    t.same(await run([
      ['HELLO', '3'], ['SET', 'w', '1'], ['WATCH', 'w'], ['SET', 'w', '2'], ['MULTI'], ['GET', 'w'], ['EXEC'],
      ['MULTI'], ['GET', 'nosuch'], ['ZSCORE', 'z', 'm'], ['HGETALL', 'h'], ['EXEC'],
      ['MULTI'], ['NOSUCH'], ['EXEC'], ['HELLO', '2'],
    ].map((s) => ({ cmd: s, map: (reply: string) => reply.replace(/\$2\r\nid\r\n:\d+\r\n/g, '$2\r\nid\r\n:N\r\n') }))), []);
  });

  t.test('OOM: queued commands refused, EXEC aborted, DISCARD still works', async (t) => {
    t.same(await run([
      ['SET', 'big', 'x'.repeat(4096)], ['MULTI'], ['CONFIG', 'SET', 'maxmemory', '1'], ['GET', 'big'], ['EXEC'],
      ['MULTI'], ['GET', 'big'], ['SET', 'k', 'v'], ['DISCARD'],
      ['MULTI'], ['PING'], ['EXEC'],
      ['CONFIG', 'SET', 'maxmemory', '0'], ['MULTI'], ['SET', 'k', 'v'], ['CONFIG', 'SET', 'maxmemory', '1'], ['EXEC'],
      ['CONFIG', 'SET', 'maxmemory', '0'], ['GET', 'k'],
    ]), []);
  });

  t.test('WATCH: what dirties a transaction and what does not', async (t) => {
    const exec: [1 | 2, string[]][] = [[1, ['MULTI']], [1, ['PING']], [1, ['EXEC']]];
    const cases: [1 | 2, string[]][][] = [
      // Another connection's write, the same value included.
      [[1, ['SET', 'x', '1']], [1, ['WATCH', 'x']], [2, ['SET', 'x', '1']], ...exec],
      [[1, ['WATCH', 'x']], [2, ['SET', 'x', '1']], ...exec],
      [[1, ['WATCH', 'x']], [2, ['GET', 'x']], ...exec],
      // No-op writes touch nothing.
      [[1, ['WATCH', 'x']], [2, ['DEL', 'x']], ...exec],
      [[1, ['SET', 'x', '1']], [1, ['WATCH', 'x']], [2, ['PERSIST', 'x']], ...exec],
      [[1, ['SET', 'x', '1']], [1, ['WATCH', 'x']], [2, ['SET', 'x', '2', 'NX']], ...exec],
      [[1, ['SADD', 's', 'a']], [1, ['WATCH', 's']], [2, ['SADD', 's', 'a']], ...exec],
      [[1, ['SADD', 's', 'a']], [1, ['WATCH', 's']], [2, ['SADD', 's', 'b']], ...exec],
      [[1, ['SET', 'x', '1']], [1, ['WATCH', 'x', 'y']], [2, ['DEL', 'y', 'z']], ...exec],
      [[1, ['SET', 'x', '1']], [1, ['WATCH', 'y']], [2, ['DEL', 'x', 'y']], ...exec],
      [[1, ['RPUSH', 'l1', 'a']], [1, ['WATCH', 'l2']], [2, ['LMPOP', '2', 'l2', 'l1', 'LEFT']], ...exec],
      [[1, ['RPUSH', 'l1', 'a']], [1, ['WATCH', 'l1']], [2, ['LMPOP', '2', 'l2', 'l1', 'LEFT']], ...exec],
      [[1, ['SET', 'x', '1']], [1, ['WATCH', 'x']], [2, ['EXPIRE', 'x', '100']], ...exec],
      [[1, ['SET', 'x', '1']], [1, ['WATCH', 'x']], [2, ['RENAME', 'x', 'y']], ...exec],
      [[1, ['SET', 'x', '1']], [1, ['WATCH', 'y']], [2, ['RENAME', 'x', 'y']], ...exec],
      // A watched key in another database is not this one.
      [[1, ['SELECT', '1']], [1, ['WATCH', 'x']], [2, ['SET', 'x', '1']], ...exec, [1, ['SELECT', '0']]],
      [[1, ['WATCH', 'x']], [1, ['UNWATCH']], [2, ['SET', 'x', '1']], ...exec],
      [[1, ['WATCH', 'x']], [1, ['MULTI']], [1, ['PING']], [1, ['DISCARD']], [2, ['SET', 'x', '1']], ...exec],
      // A transaction's own write does not fail a later one.
      [[1, ['WATCH', 'x']], [1, ['MULTI']], [1, ['SET', 'x', '5']], [1, ['EXEC']], ...exec],
      [[1, ['WATCH', 'x']], [1, ['SET', 'x', '5']], ...exec],
      // Flushes touch only watched keys that exist.
      [[1, ['WATCH', 'x']], [2, ['FLUSHALL']], ...exec],
      [[1, ['SET', 'x', '1']], [1, ['WATCH', 'x']], [2, ['FLUSHALL']], ...exec],
      [[1, ['SET', 'x', '1']], [1, ['WATCH', 'x']], [2, ['FLUSHDB']], ...exec],
      [[1, ['SET', 'x', '1']], [1, ['WATCH', 'x']], [2, ['SELECT', '1']], [2, ['FLUSHDB']], [2, ['SELECT', '0']], ...exec],
      [[1, ['SET', 'x', '1']], [1, ['WATCH', 'x']], [2, ['SWAPDB', '0', '1']], ...exec, [2, ['SWAPDB', '0', '1']]],
      [[1, ['WATCH', 'x']], [2, ['SELECT', '1']], [2, ['SET', 'x', '1']], [2, ['SWAPDB', '0', '1']], [2, ['SELECT', '0']], ...exec,
        [2, ['SWAPDB', '0', '1']]],
      [[1, ['WATCH', 'x']], [2, ['SWAPDB', '0', '1']], ...exec, [2, ['SWAPDB', '0', '1']]],
      // COPY into another database touches the key there, not in the client's.
      [[1, ['SET', 'src', 'v']], [1, ['SELECT', '1']], [1, ['WATCH', 'x']], [1, ['SELECT', '0']], [2, ['COPY', 'src', 'x', 'DB', '1']], ...exec],
      [[1, ['SET', 'src', 'v']], [1, ['WATCH', 'x']], [2, ['COPY', 'src', 'x', 'DB', '1']], ...exec],
      // After a SWAPDB the watch follows its logical database.
      [[1, ['WATCH', 'x']], [2, ['SWAPDB', '0', '1']], [2, ['SET', 'x', '1']], ...exec, [2, ['SWAPDB', '0', '1']]],
    ];
    for (const [i, steps] of cases.entries()) t.same(await runBoth(steps), [], `case ${i}`);
  });

  t.test('WATCH and expiry', async (t) => {
    const exec: [1 | 2, string[]][] = [[1, ['MULTI']], [1, ['PING']], [1, ['EXEC']]];
    // A key alive at WATCH and expired at EXEC fails it, even untouched.
    t.same(await runBoth([[1, ['SET', 'x', '1', 'PX', '40']], [1, ['WATCH', 'x']]]), []);
    await sleep(80);
    t.same(await runBoth([...exec]), []);
    await diffScript(w, r, [['SET', 'x', '1', 'PX', '40'], ['WATCH', 'x']]);
    await sleep(80);
    t.same(await diffScript(w, r, [['MULTI'], ['PING'], ['EXEC']]), []);
    // A key already expired at WATCH: its lazy deletion is no change (multi.tcl "WATCH stale keys should not fail EXEC").
    await diffScript(w, r, [['DEBUG', 'SET-ACTIVE-EXPIRE', '0'], ['SET', 'y', 'v'], ['PEXPIRE', 'y', '1']]);
    await sleep(20);
    t.same(await diffScript(w, r, [['WATCH', 'y'], ['EXISTS', 'y'], ['MULTI'], ['PING'], ['EXEC']]), []);
    await diffScript(w, r, [['SET', 'y', 'v'], ['PEXPIRE', 'y', '1']]);
    await sleep(20);
    t.same(await diffScript(w, r, [['WATCH', 'y'], ['SET', 'y', 'w'], ['MULTI'], ['PING'], ['EXEC']]), []);
    await diffScript(w, r, [['SET', 'y', 'v'], ['PEXPIRE', 'y', '1']]);
    await sleep(20);
    t.same(await diffScript(w, r, [['WATCH', 'y'], ['FLUSHALL'], ['MULTI'], ['PING'], ['EXEC']]), []);
    await diffScript(w, r, [['DEBUG', 'SET-ACTIVE-EXPIRE', '1']]);
    // Active expiry deletes a watched key: the transaction fails.
    await diffScript(w, r, [['SET', 'z', 'v', 'PX', '20'], ['WATCH', 'z']]);
    await sleep(300);
    t.same(await diffScript(w, r, [['MULTI'], ['PING'], ['EXEC']]), []);
  });

  t.test('CLIENT LIST shows a transaction and a dirty watch', async (t) => {
    const c = await RawClient.connect(pair.weft.port);
    t.teardown(() => c.close());
    const other = await RawClient.connect(pair.weft.port);
    t.teardown(() => other.close());
    await c.command('WATCH', 'cl');
    await other.command('SET', 'cl', '1');
    await c.command('MULTI');
    await c.command('GET', 'cl');
    await c.command('SET', 'cl', '2');
    const line = text(await other.command('CLIENT', 'LIST', 'ID', text(await c.command('CLIENT', 'ID')).replace(/\D/g, '')));
    // CLIENT ID was queued: the list is read through another connection, for the id read before.
    t.match(line, /-ERR|flags=/);
    const list = text(await other.command('CLIENT', 'LIST'));
    t.match(list, /flags=xd db=0 sub=0 psub=0 ssub=0 multi=3 /);
    t.equal(text(await c.command('EXEC')), '*-1\r\n');
    t.match(text(await other.command('CLIENT', 'LIST')), /flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 .*\n.*flags=N/s);
  });
}

t.test('across worker threads: transactions never interleave, WATCH loses nothing', async (t) => {
  const server = await startWeft([], { threads: 2 });
  t.teardown(() => server.stop());
  const clients = Array.from({ length: 7 }, () => new Redis({ port: server.port, lazyConnect: true, maxRetriesPerRequest: 0 }));
  t.teardown(() => clients.forEach((c) => c.disconnect()));
  await Promise.all(clients.map((c) => c.connect()));
  // Keys in different shards: {a} and {b} hash to different slots, so to different shards and locks.
  const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  const writers = clients.slice(0, 3).map(async (c) => {
    for (let i = 0; i < 200; i++) {
      const m = c.multi();
      for (const k of keys) m.incr(k);
      await m.exec();
    }
  });
  let torn = 0;
  let reads = 0;
  const readers = clients.slice(3, 5).map(async (c) => {
    for (let i = 0; i < 200; i++) {
      const m = c.multi();
      for (const k of keys) m.get(k);
      const res = (await m.exec())!.map(([, v]) => Number(v ?? 0));
      reads++;
      if (new Set(res).size !== 1) torn++;
    }
  });
  // Optimistic increments of one counter from two connections on (likely) different threads.
  let committed = 0;
  const casClients = [clients[5], clients[6]];
  const cas = casClients.map(async (c) => {
    for (let i = 0; i < 150; i++) {
      for (;;) {
        await c.watch('cas');
        const v = Number((await c.get('cas')) ?? 0);
        const res = await c.multi().set('cas', String(v + 1)).exec();
        if (res !== null) {
          committed++;
          break;
        }
      }
    }
  });
  await Promise.all([...writers, ...readers, ...cas]);
  t.equal(torn, 0, `no reader saw a transaction half done (${reads} reads)`);
  const values = await clients[0].mget(...keys);
  t.same(values, keys.map(() => '600'));
  t.equal(committed, 300);
  t.equal(await clients[0].get('cas'), '300', 'every committed increment is there, none twice');
});

t.test('a replica applies a transaction as a whole', async (t) => {
  const master = await startWeft([], { threads: 2 });
  t.teardown(() => master.stop());
  const replica = await startWeft(['--replicaof', `127.0.0.1 ${master.port}`], { threads: 2 });
  t.teardown(() => replica.stop());
  const m = new Redis({ port: master.port, maxRetriesPerRequest: 0 });
  const readers = [new Redis({ port: replica.port, maxRetriesPerRequest: 0 }), new Redis({ port: replica.port, maxRetriesPerRequest: 0 })];
  t.teardown(() => [m, ...readers].forEach((c) => c.disconnect()));
  const control = await RawClient.connect(replica.port);
  t.teardown(() => control.close());
  await waitFor('the replica linked', 10000, async () => (await replicationInfo(control)).master_link_status === 'up' || 'not yet');
  const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
  let done = false;
  const writer = (async () => {
    for (let i = 0; i < 300; i++) {
      const tx = m.multi();
      for (const k of keys) tx.incr(k);
      await tx.exec();
    }
    done = true;
  })();
  let torn = 0;
  let reads = 0;
  await Promise.all([writer, ...readers.map(async (c) => {
    while (!done) {
      const res = (await c.multi().mget(...keys.slice(0, 3)).mget(...keys.slice(3)).exec())!;
      const all = [...(res[0][1] as (string | null)[]), ...(res[1][1] as (string | null)[])].map((v) => Number(v ?? 0));
      reads++;
      if (new Set(all).size !== 1) torn++;
    }
  })]);
  await waitFor('the last transaction applied', 10000, async () => (await readers[0].get('f')) === '300' || 'not yet');
  t.equal(torn, 0, `no replica reader saw part of a transaction (${reads} reads)`);
  t.same(await readers[0].mget(...keys), keys.map(() => '300'));
  // A replica refuses a queued write (READONLY), so its EXEC aborts; reads run.
  const rc = RawClient.connect(replica.port);
  const raw = await rc;
  t.teardown(() => raw.close());
  t.same((await raw.pipeline([['MULTI'], ['SET', 'x', '1'], ['GET', 'a'], ['EXEC'], ['MULTI'], ['GET', 'a'], ['EXEC']])).map(text), [
    '+OK\r\n', "-READONLY You can't write against a read only replica.\r\n", '+QUEUED\r\n',
    '-EXECABORT Transaction discarded because of previous errors.\r\n', '+OK\r\n', '+QUEUED\r\n', '*1\r\n$3\r\n300\r\n',
  ]);
  // One write alone is not wrapped, a read-only transaction sends nothing: the replica agrees either way.
  await m.multi().set('single', '1').exec();
  await m.multi().get('single').exec();
  await waitFor('the single write applied', 10000, async () => (await readers[0].get('single')) === '1' || 'not yet');
  t.equal(text(await control.command('DBSIZE')), ':7\r\n');
});

t.test('eviction and expiry by the active cycle dirty a WATCH', async (t) => {
  const server = await startWeft(['--maxmemory-policy', 'allkeys-random'], { threads: 2 });
  t.teardown(() => server.stop());
  const c = await RawClient.connect(server.port);
  t.teardown(() => c.close());
  const other = await RawClient.connect(server.port);
  t.teardown(() => other.close());
  for (let i = 0; i < 300; i++) await c.command('SET', `k${i}`, 'x'.repeat(1000));
  await c.command('WATCH', ...Array.from({ length: 300 }, (_, i) => `k${i}`));
  // Another connection's writes make room by evicting: some watched keys go.
  await other.command('CONFIG', 'SET', 'maxmemory', '100000');
  await other.command('SET', 'trigger', 'v');
  t.ok(Number(/evicted_keys:(\d+)/.exec(text(await other.command('INFO', 'stats')))![1]) > 0, 'keys were evicted');
  // Back without a limit first: inside MULTI a queued command is refused over maxmemory. A CONFIG SET
  // reaches the other worker threads a moment later: wait until c's thread has it.
  await other.command('CONFIG', 'SET', 'maxmemory', '0');
  await waitFor('the limit lifted on c\'s thread', 5000, async () =>
    (text(await c.command('CONFIG', 'GET', 'maxmemory')).endsWith('$1\r\n0\r\n') ? true : 'not yet'));
  t.same((await c.pipeline([['MULTI'], ['PING'], ['EXEC']])).map(text), ['+OK\r\n', '+QUEUED\r\n', '*-1\r\n']);
  // Alive when watched (300 ms is ample), gone by the active cycle before EXEC.
  await c.command('SET', 'short', 'v', 'PX', '300');
  await c.command('WATCH', 'short');
  await waitFor('the active cycle removed it', 5000, async () => (text(await other.command('EXISTS', 'short')) === ':0\r\n' ? true : 'not yet'));
  t.same((await c.pipeline([['MULTI'], ['PING'], ['EXEC']])).map(text), ['+OK\r\n', '+QUEUED\r\n', '*-1\r\n'], 'expired meanwhile');
});
