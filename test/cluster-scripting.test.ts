/**
 * Scripts in cluster mode against redis-server 7.0.15, byte for byte
 * (src/scripting/script-runner.ts's clusterRefusal and refuseToRun): one
 * node of each serving slots 0-8191 with cluster-require-full-coverage no,
 * so that keys b (3300), c (7365) and f (3168) are local and a (15495) and
 * d (11298) are not. Declared keys are routed as any command's; a key a
 * script touches in a slot not served here is refused; a script with a
 * shebang stays in one slot unless allow-cross-slot-keys (a compatibility
 * script may touch several); no-cluster scripts are refused.
 */
import t from 'tap';
import { requireRedisTools } from './helpers/servers.js';
import { startNode } from './helpers/cluster.js';
import { diffScript, type Step } from './helpers/differential.js';

if (requireRedisTools(t)) {
  const extra = ['--cluster-require-full-coverage', 'no'];
  const weft = await startNode(t, 'weft', { threads: 2, extra });
  const redis = await startNode(t, 'redis', { extra });
  for (const n of [weft, redis]) await n.client.command('CLUSTER', 'ADDSLOTSRANGE', '0', '8191');
  // Both nodes see their cluster state ok before the comparison.
  for (let i = 0; i < 100; i++) {
    const states = await Promise.all([weft, redis].map(async (n) => (await n.client.command('CLUSTER', 'INFO')).toString()));
    if (states.every((s) => s.includes('cluster_state:ok'))) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  t.test('keys a script touches must be local, and in one slot for shebang scripts', async (t) => {
    const steps: Step[] = [
      ['EVAL', "return redis.call('get', 'a')", '0'], ['EVAL', "return redis.pcall('get', 'a')", '0'],
      ['EVAL', "return redis.call('set', 'b', '1')", '0'], ['EVAL', "return redis.call('mget', 'b', 'c')", '0'],
      ['EVAL', "redis.call('get', 'b'); return redis.call('get', 'c')", '0'],
      ['EVAL', "#!lua\nredis.call('get', 'b'); return redis.call('get', 'c')", '0'],
      ['EVAL', "#!lua\nredis.call('get', 'b'); return redis.call('get', '{b}x')", '0'],
      ['EVAL', "#!lua flags=allow-cross-slot-keys\nredis.call('get', 'b'); return redis.call('get', 'c')", '0'],
      ['EVAL', "#!lua\nreturn redis.call('get', 'c')", '1', 'b'], ['EVAL', "#!lua\nreturn redis.call('get', KEYS[1])", '1', 'b'],
      ['EVAL', 'return 1', '1', 'a'], ['EVAL', 'return 1', '2', 'b', 'c'], ['EVAL', 'return 1', '2', 'b', '{b}x'],
      ['EVAL', '#!lua flags=no-cluster\nreturn 1', '0'], ['EVAL', "return redis.call('get', 'd')", '1', 'f'],
      ['EVAL', "return redis.call('dbsize')", '0'],
    ];
    t.same(await diffScript(weft.client, redis.client, steps), []);
  });
}
