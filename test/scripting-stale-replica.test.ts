/**
 * Scripts on a stale replica (replica-serve-stale-data no, its master
 * unreachable) against redis-server 7.0.15, byte for byte: a compatibility
 * script gets MASTERDOWN, a script with write flags READONLY, an
 * allow-stale read-only script runs but no command inside it does, and
 * functions follow their flags the same way.
 */
import t from 'tap';
import { RawClient, requireRedisTools, startRedis, startWeft } from './helpers/servers.js';
import { diffScript } from './helpers/differential.js';

if (requireRedisTools(t)) {
  // Port 1: nothing listens there, so the link to the master stays down.
  const args = ['--replicaof', '127.0.0.1', '1', '--replica-serve-stale-data', 'no'];
  const weft = await startWeft(args, { threads: 2 });
  t.teardown(() => weft.stop());
  const redis = await startRedis(args);
  t.teardown(() => redis.stop());
  const w = await RawClient.connect(weft.port);
  t.teardown(() => w.close());
  const r = await RawClient.connect(redis.port);
  t.teardown(() => r.close());

  t.test('scripts and their commands on a stale replica', async (t) => {
    t.same(await diffScript(w, r, [
      ['EVAL', 'return 1', '0'], ['EVAL', "return redis.call('get', 'x')", '0'], ['EVAL_RO', 'return 1', '0'],
      ['EVAL', '#!lua\nreturn 1', '0'], ['EVAL', '#!lua flags=no-writes\nreturn 1', '0'],
      ['EVAL', '#!lua flags=allow-stale\nreturn 1', '0'], ['EVAL', '#!lua flags=allow-stale,no-writes\nreturn 1', '0'],
      ['EVAL', "#!lua flags=allow-stale,no-writes\nreturn redis.call('get', 'x')", '0'],
      ['EVAL', "#!lua flags=allow-stale,no-writes\nreturn redis.pcall('ping')", '0'],
      ['EVAL_RO', '#!lua flags=allow-stale\nreturn 1', '0'], ['EVAL_RO', '#!lua flags=allow-stale,no-writes\nreturn 2', '0'],
      ['SCRIPT', 'LOAD', '#!lua flags=allow-stale,no-writes\nreturn 3'],
      ['EVALSHA', '5c6a0ea6a5f43d9e1bf0bd2b2e3e5e8b1d1c3f1a', '0'],
      ['FCALL', 'nosuch', '0'],
    ]), []);
  });
}
