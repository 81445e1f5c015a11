/**
 * FUNCTION and FCALL (src/scripting/function-engine.ts, function-store.ts,
 * src/commands/functions.ts) against redis-server 7.0.15, byte for byte:
 * FUNCTION LOAD's metadata, registration and compile errors, the load-time
 * environment, REPLACE, DELETE, FLUSH, LIST (one library at a time: Redis
 * lists several in an order it does not define), STATS; FCALL and
 * FCALL_RO with flags, errors and their `user_function` positions. Then on
 * weft alone: a library loaded on one thread serves FCALL on every thread,
 * and a replica gets the master's libraries with its full synchronisation
 * and the FUNCTION commands after it.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { RawClient, requireRedisTools, startWeft } from './helpers/servers.js';
import { connectPair, diffScript, startPair, type Step } from './helpers/differential.js';
import { waitFor } from './helpers/cluster.js';

const lib = (name: string, body: string) => `#!lua name=${name}\n${body}`;

const weft = await startWeft([], { threads: 2 });
t.teardown(() => weft.stop());
const replica = await startWeft([], { threads: 1 });
t.teardown(() => replica.stop());

if (requireRedisTools(t)) {
  const pair = await startPair(t, [], { threads: 2 });
  const [w, r] = await connectPair(t, pair);
  const run = async (steps: Step[]) => {
    await diffScript(w, r, [['HELLO', '2'], ['FLUSHALL'], ['FUNCTION', 'FLUSH']]);
    return diffScript(w, r, steps);
  };

  t.test('FUNCTION LOAD: metadata, registration and compile errors', async (t) => {
    t.same(await run([
      ['FUNCTION', 'LOAD', lib('lib1', "redis.register_function('f1', function(keys, args) return keys[1] end)")],
      ['FUNCTION', 'LOAD', lib('lib1', "redis.register_function('f1', function(keys, args) return 1 end)")],
      ['FUNCTION', 'LOAD', lib('lib2', "redis.call('set', 'a', 'b')")], ['FUNCTION', 'LOAD', lib('lib2', 'local x = 1')],
      ['FUNCTION', 'LOAD', 'return 1'], ['FUNCTION', 'LOAD', '#!lua\nreturn 1'], ['FUNCTION', 'LOAD', '#!lua name=lib2 foo=bar\nreturn 1'],
      ['FUNCTION', 'LOAD', '#!lua name=li-b\nreturn 1'], ['FUNCTION', 'LOAD', '#!py name=lib\nreturn 1'],
      ['FUNCTION', 'LOAD', lib('lib3', "redis.register_function('f1', function() return 1 end)")],
      ['FUNCTION', 'LOAD', lib('p1', 'local t = math')], ['FUNCTION', 'LOAD', lib('p2', 'return redis.setresp(3)')],
      ['FUNCTION', 'LOAD', lib('p3', "redis.register_function('f-8', function() end)")],
      ['FUNCTION', 'LOAD', lib('p4', "redis.register_function('f9')")],
      ['FUNCTION', 'LOAD', lib('p5', "redis.register_function{function_name='f9', callback=function() end, flags={'bogus'}}")],
      ['FUNCTION', 'LOAD', lib('p6', "redis.register_function{function_name='f9', callback=function() end, foo=1}")],
      ['FUNCTION', 'LOAD', lib('p7', "redis.register_function{callback=function() end}")],
      ['FUNCTION', 'LOAD', lib('p8', "redis.register_function{function_name='f9'}")],
      ['FUNCTION', 'LOAD', lib('p9', "redis.register_function{function_name=1, callback=function() end}")],
      ['FUNCTION', 'LOAD', lib('pa', "redis.register_function('ga', function() return 1 end)\nredis.register_function('ga', function() return 2 end)")],
      ['FUNCTION', 'LOAD', lib('pb', 'x = 1')], ['FUNCTION', 'LOAD', lib('pc', 'local a = KEYS')], ['FUNCTION', 'LOAD', lib('pd', 'return +')],
      ['FUNCTION', 'LOAD', lib('pe', "redis.foo = 1")], ['FUNCTION', 'LOAD', lib('pf', "error('bad')")],
      ['FUNCTION', 'LOAD', lib('pg', "redis.log(redis.LOG_NOTICE, 'loading')\nredis.register_function('gg', function() return redis.REDIS_VERSION_NUM end)")],
      ['FUNCTION', 'LOAD', lib('ph', "redis.register_function('gh', 'x')")],
      ['FUNCTION', 'LOAD', lib('pi', "redis.register_function('gi', function() end, 3)")],
      ['FUNCTION', 'LOAD', lib('slow', 'local i = 0 while true do i = i + 1 end')],
      ['FUNCTION', 'LOAD'], ['FUNCTION', 'LOAD', 'REPLACE'], ['FUNCTION', 'LOAD', 'BOGUS', lib('pj', 'x')],
      ['FUNCTION', 'STATS'],
    ]), []);
  });

  t.test('FCALL and FCALL_RO', async (t) => {
    t.same(await run([
      ['FUNCTION', 'LOAD', lib('lib1', [
        "redis.register_function('echo_keys', function(keys, args) return {#keys, #args, keys[1], args[1]} end)",
        "redis.register_function('incr', function(keys) return redis.call('incr', keys[1]) end)",
        "redis.register_function{function_name='ro', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}",
        "redis.register_function{function_name='ro_writes', callback=function(keys) return redis.call('set', keys[1], 'x') end, flags={'no-writes'}}",
        "redis.register_function('boom', function() error('boom') end)",
        "redis.register_function('unknown', function() return redis.call('nosuch') end)",
        "redis.register_function('globals', function() return {KEYS == nil, type(math.random), type(redis.register_function)} end)",
        "redis.register_function('missing', function() return x end)",
      ].join('\n'))],
      ['FCALL', 'echo_keys', '2', 'a', 'b', 'c'], ['FCALL', 'ECHO_KEYS', '0'], ['FCALL', 'incr', '1', 'n'], ['FCALL', 'incr', '1', 'n'],
      ['FCALL_RO', 'ro', '1', 'n'], ['FCALL_RO', 'incr', '1', 'n'], ['FCALL', 'ro_writes', '1', 'n'], ['FCALL', 'boom', '0'],
      ['FCALL', 'unknown', '0'], ['FCALL', 'globals', '0'], ['FCALL', 'missing', '0'], ['FCALL', 'nosuch', '0'],
      ['FCALL', 'incr', '-1'], ['FCALL', 'incr', '5', 'a'], ['FCALL', 'incr', 'x'], ['FCALL', 'incr'],
      ['FUNCTION', 'LIST', 'LIBRARYNAME', 'x*'], ['FUNCTION', 'LIST', 'BOGUS'], ['FUNCTION', 'STATS'],
      ['FUNCTION', 'LOAD', 'REPLACE', lib('lib1', "redis.register_function('incr', function() return 55 end)")],
      ['FCALL', 'incr', '0'], ['FCALL', 'echo_keys', '0'],
      ['FUNCTION', 'LOAD', 'REPLACE', lib('lib1', 'local x = 1')], ['FCALL', 'incr', '0'],
      ['FUNCTION', 'DELETE', 'lib1'], ['FUNCTION', 'DELETE', 'lib1'], ['FCALL', 'incr', '0'],
      ['FUNCTION', 'LOAD', lib('lib2', "redis.register_function('f2', function() return 2 end)")], ['FLUSHALL'], ['FCALL', 'f2', '0'],
      ['FUNCTION', 'FLUSH', 'BOGUS'], ['FUNCTION', 'FLUSH', 'SYNC'], ['FCALL', 'f2', '0'], ['FUNCTION', 'STATS'],
      ['FUNCTION', 'NOSUCH'],
    ]), []);
  });

  // FUNCTION DUMP of library d1, as redis-server 7.0.15 serialises it (RDB_OPCODE_FUNCTION2, the code, RDB version 10, CRC-64).
  const D1 = "#!lua name=d1\nredis.register_function('d1', function() return 1 end)";
  const D1_DUMP = Buffer.from('f5404423216c7561206e616d653d64310a72656469732e72656769737465725f66756e6374696f6e28276431272c2066756e6374696f6e28292072657475726e203120656e64290a0046d21c74e641b206', 'hex');
  t.test('FUNCTION DUMP and RESTORE', async (t) => {
    const corrupt = Buffer.from(D1_DUMP);
    corrupt[20] ^= 1;
    t.same(await run([
      ['FUNCTION', 'DUMP'], ['FUNCTION', 'LOAD', D1], ['FUNCTION', 'DUMP'],
      ['FUNCTION', 'RESTORE', D1_DUMP], ['FUNCTION', 'RESTORE', D1_DUMP, 'APPEND'], ['FUNCTION', 'RESTORE', D1_DUMP, 'REPLACE'],
      ['FUNCTION', 'RESTORE', D1_DUMP, 'BOGUS'], ['FUNCTION', 'RESTORE', D1_DUMP, 'FLUSH', 'x'], ['FUNCTION', 'RESTORE', 'garbage'],
      ['FUNCTION', 'RESTORE', corrupt], ['FUNCTION', 'RESTORE', D1_DUMP.subarray(0, 9)],
      ['FUNCTION', 'LOAD', lib('other', "redis.register_function('o', function() return 2 end)")],
      ['FUNCTION', 'RESTORE', D1_DUMP, 'FLUSH'], ['FCALL', 'o', '0'], ['FCALL', 'd1', '0'], ['FUNCTION', 'DUMP'],
      ['FUNCTION', 'FLUSH'], ['FUNCTION', 'RESTORE', D1_DUMP], ['FCALL', 'd1', '0'],
      ['FUNCTION', 'LOAD', lib('clash', "redis.register_function('d1', function() return 3 end)")],
      ['FUNCTION', 'FLUSH'], ['FUNCTION', 'LOAD', lib('clash', "redis.register_function('d1', function() return 3 end)")],
      ['FUNCTION', 'RESTORE', D1_DUMP], ['FUNCTION', 'RESTORE', D1_DUMP, 'REPLACE'], ['FCALL', 'd1', '0'],
      ['FUNCTION', 'HELP'],
    ]), []);
  });

  // One function per library and one library per listing: Redis lists both in its dictionaries' order.
  t.test('FUNCTION LIST', async (t) => {
    const maskId = (reply: string) => reply.replace(/\$2\r\nid\r\n:\d+\r\n/, '$2\r\nid\r\n:N\r\n');
    t.same(await run([
      ['FUNCTION', 'LOAD', lib('lib3', "redis.register_function{function_name='f3', callback=function() return 3 end, flags={'no-writes', 'allow-oom'}, description='three'}")],
      ['FUNCTION', 'LIST'], ['FUNCTION', 'LIST', 'WITHCODE'], ['FUNCTION', 'LIST', 'LIBRARYNAME', 'li*'], ['FUNCTION', 'LIST', 'WITHCODE', 'LIBRARYNAME', '*3'],
      ['FUNCTION', 'LOAD', lib('other', "redis.register_function('f4', function() return 4 end)")],
      ['FUNCTION', 'LIST', 'LIBRARYNAME', 'oth*'], ['FUNCTION', 'LIST', 'LIBRARYNAME', 'lib3', 'WITHCODE'], ['FUNCTION', 'STATS'],
      { cmd: ['HELLO', '3'], map: maskId }, ['FUNCTION', 'LIST', 'LIBRARYNAME', 'lib3'], ['FUNCTION', 'STATS'], { cmd: ['HELLO', '2'], map: maskId },
    ]), []);
  });
}

t.test('weft alone: libraries reach every thread and the replica', async (t) => {
  const clients = Array.from({ length: 4 }, () => new Redis({ port: weft.port, host: '127.0.0.1', maxRetriesPerRequest: 1 }));
  t.teardown(() => clients.forEach((c) => c.disconnect()));
  await clients[0].call('FUNCTION', 'FLUSH');
  // Loaded before the replica attaches: it comes with the full synchronisation.
  await clients[0].call('FUNCTION', 'LOAD', lib('early', "redis.register_function{function_name='early', callback=function() return 'e' end, flags={'no-writes'}}"));
  const r = await RawClient.connect(replica.port);
  t.teardown(() => r.close());
  await r.command('FUNCTION', 'LOAD', lib('stale', "redis.register_function('stale', function() return 's' end)"));
  await r.command('REPLICAOF', '127.0.0.1', String(weft.port));
  await waitFor('the replica linked', 20000, async () => (await r.command('INFO', 'replication')).toString().includes('master_link_status:up'));
  t.equal((await r.command('FCALL_RO', 'early', '0')).toString(), '$1\r\ne\r\n', 'the full synchronisation brought the library');
  t.equal((await r.command('FCALL_RO', 'stale', '0')).toString(), '-ERR Function not found\r\n', "the replica's own libraries were replaced");
  t.equal(await clients[1].call('FUNCTION', 'LOAD', lib('shared', "redis.register_function{function_name='who', callback=function(keys, args) return 'w:' .. args[1] end, flags={'no-writes'}}")), 'shared');
  t.same(await Promise.all(clients.map((c, i) => c.call('FCALL', 'who', '0', String(i)))), ['w:0', 'w:1', 'w:2', 'w:3']);
  await clients[2].call('FUNCTION', 'LOAD', 'REPLACE', lib('shared', "redis.register_function{function_name='who', callback=function(keys, args) return 'v2:' .. args[1] end, flags={'no-writes'}}"));
  t.same(await Promise.all(clients.map((c, i) => c.call('FCALL', 'who', '0', String(i)))), ['v2:0', 'v2:1', 'v2:2', 'v2:3']);
  t.equal((await clients[0].call('WAIT', '1', '5000')), 1);
  t.equal((await r.command('FCALL_RO', 'who', '0', 'r')).toString(), '$4\r\nv2:r\r\n', 'the replica has the library');
  // FUNCTION FLUSH then RESTORE of a DUMP: both reach the replica too.
  const dump = await clients[1].callBuffer('FUNCTION', 'DUMP') as Buffer;
  await clients[2].call('FUNCTION', 'FLUSH');
  t.equal(await clients[3].call('FUNCTION', 'RESTORE', dump), 'OK');
  t.equal(await clients[0].call('WAIT', '1', '5000'), 1);
  t.equal((await r.command('FCALL_RO', 'who', '0', 'r')).toString(), '$4\r\nv2:r\r\n', 'the replica has the restored library');
  t.equal((await r.command('FCALL_RO', 'early', '0')).toString(), '$1\r\ne\r\n');
  await clients[3].call('FUNCTION', 'DELETE', 'shared');
  await clients[0].call('WAIT', '1', '5000');
  for (const c of clients) await t.rejects(c.call('FCALL', 'who', '0', 'x'), /Function not found/);
  t.equal((await r.command('FCALL_RO', 'who', '0', 'r')).toString(), '-ERR Function not found\r\n');
});
