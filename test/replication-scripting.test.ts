/**
 * Scripts and functions replicate by their effects (src/scripting/script-runner.ts):
 * a replica of a weft master ends equal to it after a load of scripts and functions whose
 * results depend on the master's state and on math.random (so replaying
 * the EVAL could not give the same data), scripts inside MULTI, a script
 * that writes then fails, and redis.set_repl keeping one write from the
 * replica, as Redis's REPL_NONE does. The replica never sees an EVAL: its
 * script cache stays empty.
 */
import t from 'tap';
import { RawClient, startWeft } from './helpers/servers.js';
import { waitFor } from './helpers/cluster.js';
import { datasetOf, sameDataset } from './helpers/replication.js';

const text = (b: Buffer) => b.toString('latin1');

const master = await startWeft([], { threads: 2 });
t.teardown(() => master.stop());
const replica = await startWeft([], { threads: 2 });
t.teardown(() => replica.stop());
const m = await RawClient.connect(master.port);
t.teardown(() => m.close());
const m2 = await RawClient.connect(master.port);
t.teardown(() => m2.close());
const r = await RawClient.connect(replica.port);
t.teardown(() => r.close());

t.test('a replica equals its master after a load of scripts', async (t) => {
  t.equal(text(await r.command('REPLICAOF', '127.0.0.1', String(master.port))), '+OK\r\n');
  await waitFor('master_link_status:up on the replica', 20000, async () =>
    text(await r.command('INFO', 'replication')).includes('master_link_status:up'));
  const draw = "local n = math.random(1000); redis.call('rpush', KEYS[1], n); redis.call('incrby', KEYS[2], n); " +
    "redis.call('hset', KEYS[3], 'f' .. (n % 7), redis.call('get', KEYS[2])); return n";
  const sha = text(await m.command('SCRIPT', 'LOAD', draw)).split('\r\n')[1];
  for (let i = 0; i < 200; i++) {
    const c = i % 2 === 0 ? m : m2;
    const reply = text(await c.command('EVALSHA', sha, '3', `{g${i % 5}}l`, `{g${i % 5}}n`, `{g${i % 5}}h`));
    if (!reply.startsWith(':')) t.fail(`EVALSHA answered ${JSON.stringify(reply)}`);
  }
  // Functions: their writes replicate as effects too (the library itself as FUNCTION LOAD).
  t.equal(text(await m.command('FUNCTION', 'LOAD', '#!lua name=repl\nredis.register_function(\'bump\', function(keys, args) ' +
    "local n = math.random(100); redis.call('zincrby', keys[1], n, args[1]); return n end)")), '$4\r\nrepl\r\n');
  for (let i = 0; i < 50; i++) {
    const reply = text(await (i % 2 === 0 ? m : m2).command('FCALL', 'bump', '1', 'fz', `member${i % 7}`));
    if (!reply.startsWith(':')) t.fail(`FCALL answered ${JSON.stringify(reply)}`);
  }
  // Inside MULTI, with a plain write between two scripts.
  await m.command('MULTI');
  await m.command('EVAL', "return redis.call('incr', KEYS[1])", '1', 'tx');
  await m.command('SET', 'tx2', 'v');
  await m.command('EVAL', "redis.call('incr', KEYS[1]); return redis.call('incr', KEYS[1])", '1', 'tx');
  t.match(text(await m.command('EXEC')), /^\*3\r\n:1\r\n\+OK\r\n:3\r\n$/);
  // A script that writes, then fails: its write stays, and replicates.
  t.match(text(await m.command('EVAL', "redis.call('set', KEYS[1], 'kept'); return redis.call('lpush', KEYS[1], 'x')", '1', 'half')),
    /^-WRONGTYPE/);
  // REPL_NONE: the master keeps the write, the replica never gets it.
  t.equal(text(await m.command('EVAL', "redis.set_repl(redis.REPL_NONE); redis.call('set', KEYS[1], 'master only'); " +
    "redis.set_repl(redis.REPL_ALL); redis.call('set', KEYS[2], 'both'); return 1", '2', 'hidden', 'shown')), ':1\r\n');
  t.equal(text(await m.command('WAIT', '1', '5000')), ':1\r\n', 'WAIT 1 acknowledged');
  t.equal(text(await r.command('GET', 'hidden')), '$-1\r\n', 'the REPL_NONE write stayed on the master');
  t.equal(text(await r.command('GET', 'shown')), '$4\r\nboth\r\n');
  t.equal(text(await r.command('GET', 'half')), '$4\r\nkept\r\n');
  await m.command('DEL', 'hidden');
  t.equal(text(await m.command('WAIT', '1', '5000')), ':1\r\n');
  const diff = sameDataset(await datasetOf(m, 1), await datasetOf(r, 1));
  t.equal(diff, null, 'same keys, types, values and expiry');
  t.equal(text(await r.command('SCRIPT', 'EXISTS', sha)), '*1\r\n:0\r\n', 'the replica was sent effects, never a script');
  t.match(text(await r.command('FUNCTION', 'LIST')), /repl/, 'the replica has the library');
});
