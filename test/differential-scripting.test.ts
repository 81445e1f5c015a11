/**
 * Scripting (src/scripting/, src/commands/scripting.ts) against
 * redis-server 7.0.15, byte for byte: EVAL, EVALSHA, the _RO variants and
 * SCRIPT's replies and errors; a corpus of scripts covering the conversions
 * both ways (RESP2 and RESP3), redis.call / redis.pcall and error tables,
 * the script-layer errors, read-only globals and library tables, removed
 * functions, bytecode, math.random's sequence, bit and cjson. Then on weft
 * alone: EVALSHA on every worker thread after one SCRIPT LOAD, SCRIPT FLUSH
 * reaching every thread, scripts atomic across threads, ioredis
 * defineCommand.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { requireRedisTools, startWeft } from './helpers/servers.js';
import { connectPair, diffScript, startPair, type Step } from './helpers/differential.js';

/** Scripts run with EVAL (no keys) on both servers. */
const CORPUS: string[] = [
  // Lua -> RESP
  'return 1', 'return -3.99', 'return 3.99', 'return 2^53', 'return 1e20', 'return -0.5', "return 'x'", 'return true',
  'return false', 'return nil', 'return {}', 'return {1,2,3.7,"a",nil,5}', 'return {1,{2,{3,{}}}}', 'return _G',
  "return {ok='fine'}", "return {ok='a\\r\\nb'}", "return {err='bar'}", "return {err='bar baz'}", "return {err=''}",
  "return {ok='a',err='b'}", 'return {ok=1}', 'return {err=1}', 'return {double=1.5}', "return {big_number='123'}",
  'return {map={a=1}}', "return {set={a=true}}", "return {1,2,{err='x y'}}", 'return redis.error_reply',
  "return redis.error_reply('bar baz')", "return redis.error_reply('bar')", "return redis.error_reply('-x y')",
  "local r = redis.error_reply('-x y'); return r.err", "return redis.status_reply('a b')", 'return redis.status_reply(1, 2)',
  "return {verbatim_string={format='txt', string='hi'}}",
  // RESP -> Lua
  "redis.call('set','k','v'); return redis.call('get','k')", "return redis.call('get','nokey')",
  "return type(redis.call('get','nokey'))", "return redis.call('ping')", "return redis.call('ping').ok",
  "redis.call('rpush','l','a','b'); return redis.call('lrange','l',0,-1)", "return redis.call('incrby','n',5)",
  "return type(redis.call('incr','n'))", "return redis.call('hgetall','nokey')", "return redis.call('exists','k','nokey')",
  "return redis.call('object','help')[1]",
  // RESP3 inside a script
  "redis.setresp(3); return redis.call('get','nokey')", "redis.setresp(3); return type(redis.call('get','nokey'))",
  "redis.setresp(3); redis.call('hset','h','f','v'); return redis.call('hgetall','h')",
  "redis.setresp(3); redis.call('hset','h','f','v'); return redis.call('hgetall','h').map.f",
  "redis.setresp(3); redis.call('sadd','s','m'); return redis.call('smembers','s').set.m",
  "redis.setresp(3); redis.call('zadd','z','1.5','m'); return redis.call('zscore','z','m').double",
  "redis.setresp(3); return {double=1.5}", 'redis.setresp(3); return true', 'redis.setresp(3); return false',
  'return redis.setresp(4)', 'return redis.setresp()',
  // redis.call / pcall errors
  "return redis.call('incr', 'x', 'y')", "return redis.pcall('nosuch')", "return redis.call('nosuch')",
  "return redis.call('set','a')", "return redis.call('subscribe','a')", 'return redis.call()', 'return redis.call({})',
  "redis.call('set','t','a'); return redis.call('lpush','t','a')", "redis.call('set','t','a'); return redis.pcall('lpush','t','a')",
  "redis.call('set','t','a'); local ok, e = pcall(redis.call, 'lpush', 't', 'a'); return {tostring(ok), e}",
  "local r = redis.pcall('set'); return r.err", "local ok, e = pcall(error, {err='x'}); return type(e)",
  "return redis.call('get', 1.5)", "redis.call('set', 'num', 0.1); return redis.call('get', 'num')",
  "redis.call('set', 'num', 3.0); return redis.call('get', 'num')", "return redis.call('eval', 'return 1', 0)",
  "return redis.call('multi')", "return redis.call('blpop', 'l', 0)", "return redis.call('config', 'get', 'maxmemory')",
  "return redis.call('client', 'id')", "return type(redis.call('info', 'server'))", "return redis.call('dbsize')",
  "return redis.call('command', 'count') > 0",
  // Script errors
  'return x', 'x = 1', 'return 1 +', "error('boom')", "error({err='MYERR bad'})", "error({err='bar'})", 'error(nil)',
  'error(12)', "local x = nil; return x.y", "return string.rep('x', 3) .. nil",
  // Read-only tables and the sandbox
  "rawset(_G, 'x', 1)", 'setmetatable(_G, nil)', 'string.x = 1', 'redis.call = 1', "cjson.encode = 1", 'math.pi = 3',
  "local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return t",
  "local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t",
  'return print', 'return os', 'return io', 'return debug', 'return require', 'return setfenv', 'return newproxy',
  'return loadfile', 'return dofile', 'return module', 'return type(getmetatable(_G))',
  "local mt = getmetatable('') mt.__index = {} return 1", "getmetatable('').__index.upper = nil return 1", "return ('x'):upper()",
  "return type(getmetatable(''))", 'table.insert(_G, 1) return 1', 'table.remove(string) return 1', 'table.sort(redis) return 1',
  "local t = {3, 1, 2} table.sort(t) table.insert(t, 4) table.insert(t, 1, 0) return {table.remove(t), table.remove(t, 1), t[1], t[3]}",
  'return select(\'#\', table.remove({}))', 'return table.insert(nil, 1)', 'return table.insert()', 'return table.insert({})',
  "return table.insert({}, 'x', 1)", 'return table.insert({}, 1, 2, 3)', "local t = {} table.insert(t, '2', 'b') return t", "local t = setmetatable({}, {__index = _G}) return t.redis ~= nil",
  'return loadstring(string.dump(function() return 1 end))', "return type(loadstring('return 1'))",
  "return loadstring('return 1')()", 'return _VERSION', 'return coroutine and 1', 'return gcinfo and 1',
  'return unpack({1,2})', 'return select(2, 1, 2, 3)', "return rawget(_G, 'redis') ~= nil",
  "local t = {} rawset(t, 'a', 1) return t.a", "return ('abc'):upper()", 'return tostring(6/2)',
  "return string.format('%d', 3.5)", "return string.format('%.3f', 1/3)", "return tostring(0.1)",
  "return string.format('%d %i', 1.7e12, -1.7e12)", "return string.format('[%5d|%-5d|%05d|%+d|% d|%.3d]', 42, 42, 42, 42, 42, 7)",
  "return string.format('%x %X %#x %o %#o %u', 2^40, 255, 255, 8, 8, 2^33)", "return string.format('%x', -1)",
  "return string.format('%s=%q %5.1f %g %e %c%%', 'k', 'a\\nb', 3.14159, 1e20, 12345.678, 65)",
  "return string.format('%d', 'x')", "return string.format('%d')", "return string.format('%y', 1)", "return string.format('%123d', 1)",
  "return string.format('%------d', 1)", "return string.format('%s', {})", "return string.format('%5s|%-5s|%.2s', 'ab', 'ab', 'abc')",
  "return string.format('%d', 2^63)", "return string.format('%d', 0/0)", "return string.format(12)", "return ('%d'):format(2^40)",
  // redis.* helpers
  "return redis.sha1hex('')", "return redis.sha1hex('hello')", 'return redis.sha1hex()', 'return redis.REDIS_VERSION',
  'return redis.REDIS_VERSION_NUM', 'return redis.replicate_commands()', 'return redis.set_repl(redis.REPL_ALL)',
  'return redis.set_repl(99)', 'return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}',
  "return redis.log(redis.LOG_DEBUG, 'hello')", "return redis.log('x', 'y')", 'return redis.log(1)',
  "return redis.acl_check_cmd('get', 'k')", "return redis.acl_check_cmd('nosuch')", 'return redis.breakpoint()',
  // math.random: Redis's generator, in sequence
  'return math.random(100)', 'return math.random(10, 20)', 'return math.floor(math.random() * 1000000)',
  'math.randomseed(7); return math.random(1000)', 'return math.random(0)',
  // bit
  'return bit.band(0xff, 0x0f)', 'return bit.bor(1, 2, 4)', 'return bit.bxor(5, 3)', 'return bit.bnot(0)',
  'return bit.lshift(1, 31)', 'return bit.rshift(-1, 28)', 'return bit.arshift(-256, 4)', 'return bit.tohex(255)',
  'return bit.tohex(-1, -4)', 'return bit.tobit(2^32 + 5)', 'return bit.rol(0x12345678, 8)', 'return bit.bswap(0x12345678)',
  "return bit.band('x')",
  // cjson
  "return cjson.encode({a=1})", 'return cjson.encode({1,2,3})', "return cjson.encode('a\"b/c\\\\d\\n')",
  'return cjson.encode({})', 'return cjson.encode(3.14159265358979)', 'return cjson.encode(1e300)',
  'return cjson.encode({[1]=1,[5]=5})', 'return cjson.encode({[1]=1,[20]=5})', 'return cjson.encode(true)',
  'return cjson.encode(cjson.null)', 'return cjson.encode(function() end)', 'return cjson.encode(1/0)',
  "return cjson.decode('[1,2,3]')", "return cjson.decode('{\"a\":[1,2,{\"b\":\"c\"}]}').a[3].b",
  "return cjson.decode('\"\\\\u00e9\\\\n\"')", "return type(cjson.decode('null'))", "return cjson.decode('')",
  "return cjson.decode('[1,2')", "return cjson.decode('{1:2}')", "return cjson.decode('[1] x')", "return cjson.decode('tru')",
  "return cjson.decode('12.5e1')",
  // cmsgpack
  "return cmsgpack.pack(1, -1, 127, 128, -32, -33, 200, -200, 70000, -70000, 5000000000, -5000000000, 1.5, 0.1, 'abc', true, false, nil)",
  'return cmsgpack.pack({1,2,3})', "return cmsgpack.pack({a=1})", "return cmsgpack.pack(string.rep('x', 40))",
  "return cmsgpack.pack(string.rep('x', 300))", 'return cmsgpack.pack(2^40, -2^40, 2^63)', 'return cmsgpack.pack({1,nil,3})',
  'return cmsgpack.pack(function() end)', 'return cmsgpack.pack()',
  "local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)",
  "return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1,2}, 2.5))}", "local t = cmsgpack.unpack(cmsgpack.pack({a={b={c='d'}}})) return t.a.b.c",
  'return cmsgpack.unpack(string.char(0xc1))', 'return cmsgpack.unpack(string.char(0xcd, 1))',
  'return {cmsgpack.unpack_one(cmsgpack.pack(1, 2))}', 'return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 1)}',
  'return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}', 'return {cmsgpack.unpack(string.char(0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0))}',
  "return cmsgpack.unpack(cmsgpack.pack(string.rep('y', 70000))) == string.rep('y', 70000)",
  // struct
  "return struct.pack('>I2', 258)", "return struct.pack('<i4', -2)", "return struct.pack('bBhHlLT', -1, 255, -2, 65535, -3, 7, 9)",
  "return struct.pack('!4 b i4', 1, 2)", "return struct.pack('!b d', 1, 1.5)", "return struct.pack('s c3 x', 'ab', 'xyz')",
  "return struct.pack('c0', 'hello')", "return struct.pack('>f d', 0.5, -2.25)", "return struct.pack('i40', 1)",
  "return struct.pack('q', 1)", "return struct.pack('!3 b', 1)", "return struct.pack('c5', 'ab')", "return struct.pack('i', 'x')",
  "return {struct.unpack('>I2 <i4', string.char(1, 2, 254, 255, 255, 255))}", "return {struct.unpack('bBhH', string.char(255, 255, 254, 255, 1, 0))}",
  "return {struct.unpack('s c2', 'ab' .. string.char(0) .. 'xy')}", "return {struct.unpack('b c0', string.char(3) .. 'abcd')}",
  "return {struct.unpack('d', struct.pack('d', 0.1))}", "return {struct.unpack('i4', 'ab')}", "return {struct.unpack('s', 'abc')}",
  "return {struct.unpack('b', 'abc', 2)}", "return {struct.unpack('b', 'abc', 0)}", "return {struct.unpack('c0', 'abc')}",
  "return struct.size('!4 b i4 d')", "return struct.size('bhl')", "return struct.size('s')", "return struct.size('c0')",
  "return struct.size('c10')", "return tostring(struct.unpack('>L', string.rep(string.char(255), 8)))",
];

// Weft alone (the tests at the end), two worker threads: six connections land on both.
const weft = await startWeft([], { threads: 2 });
t.teardown(() => weft.stop());
const clients = Array.from({ length: 6 }, () => new Redis({ port: weft.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 }));
t.teardown(() => clients.forEach((c) => c.disconnect()));
await Promise.all(clients.map((c) => c.connect()));

if (requireRedisTools(t)) {
  const pair = await startPair(t, [], { threads: 1 });
  const [w, r] = await connectPair(t, pair);
  const reset = () => diffScript(w, r, [['HELLO', '2'], ['SELECT', '0'], ['FLUSHALL'], ['SCRIPT', 'FLUSH']]);

  t.test('the script corpus', async (t) => {
    await reset();
    for (const body of CORPUS) {
      t.same(await diffScript(w, r, [['EVAL', body, '0']]), [], body);
    }
  });

  t.test('the corpus through a RESP3 connection', async (t) => {
    await reset();
    await diffScript(w, r, [['HELLO', '3']]);
    for (const body of CORPUS.filter((b) => /setresp|return (true|false|nil|\{double|\{map|\{set|\{big|\{verbatim)/.test(b))) {
      t.same(await diffScript(w, r, [['EVAL', body, '0']]), [], body);
    }
    await diffScript(w, r, [['HELLO', '2']]);
  });

  t.test('EVAL, EVALSHA, the _RO variants and SCRIPT', async (t) => {
    await reset();
    const steps: Step[] = [
      ['EVAL', "return {KEYS[1], KEYS[2], ARGV[1], #KEYS, #ARGV}", '2', 'a', 'b', 'c'],
      ['EVAL', 'return 1', '-1'], ['EVAL', 'return 1', '2', 'a'], ['EVAL', 'return 1', 'abc'], ['EVAL', 'return 1'],
      ['EVAL', "KEYS[1] = 'z' return KEYS[1]", '1', 'a'],
      ['SCRIPT', 'LOAD', 'return 1'], ['SCRIPT', 'LOAD', 'return +'],
      ['EVALSHA', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', '0'], ['EVALSHA', 'E0E1F9FABFC9D4800C877A703B823AC0578FF8DB', '0'],
      ['EVALSHA', 'abc', '0'], ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '0'],
      ['SCRIPT', 'EXISTS', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', 'abc', 'E0E1F9FABFC9D4800C877A703B823AC0578FF8DB'],
      ['EVAL', "return redis.call('set', KEYS[1], ARGV[1])", '1', 'k', 'v'],
      ['EVALSHA', '8f2d8d1c7d2dd1b1aa35bd42e6e8b3c3bc5bdc1d', '0'],
      ['EVAL_RO', "return redis.call('get', KEYS[1])", '1', 'k'],
      ['EVAL_RO', "return redis.call('set', KEYS[1], 'x')", '1', 'k'],
      ['EVAL_RO', "return redis.pcall('del', KEYS[1])", '1', 'k'],
      ['EVAL_RO', "return redis.call('publish', 'ch', 'x')", '0'],
      ['SCRIPT', 'LOAD', "return redis.call('get', KEYS[1])"],
      ['EVALSHA_RO', 'fd758d1589d044dd850a6f05d52f2eefd27f033f', '1', 'k'],
      ['SCRIPT', 'FLUSH', 'bogus'], ['SCRIPT', 'FLUSH', 'ASYNC'], ['SCRIPT', 'EXISTS', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db'],
      ['EVALSHA', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', '0'], ['SCRIPT', 'FLUSH'], ['SCRIPT', 'FLUSH', 'SYNC'],
      ['SCRIPT'], ['SCRIPT', 'NOSUCH'], ['SCRIPT', 'LOAD'], ['SCRIPT', 'EXISTS'],
      ['MULTI'], ['EVAL', "return redis.call('incr', KEYS[1])", '1', 'm'], ['EVAL', "return redis.call('incr', KEYS[1])", '1', 'm'],
      ['EXEC'], ['GET', 'm'],
      ['EVAL', "redis.call('set', KEYS[1], 'x'); return redis.call('lpush', KEYS[1], 'y')", '1', 'partial'], ['GET', 'partial'],
      ['COMMAND', 'INFO', 'eval', 'evalsha_ro'], ['COMMAND', 'GETKEYS', 'EVAL', 'return 1', '2', 'a', 'b', 'c'],
    ];
    t.same(await diffScript(w, r, steps), []);
  });

  t.test('shebang flags', async (t) => {
    await reset();
    t.same(await diffScript(w, r, [
      ['EVAL', '#!lua\nreturn 1', '0'], ['EVAL', '#!lua\nreturn x', '0'], ['EVAL', '#!lua', '0'], ['EVAL', '#!python\nreturn 1', '0'],
      ['EVAL', '#!lua foo=bar\nreturn 1', '0'], ['EVAL', '#!lua flags=bogus\nreturn 1', '0'], ['EVAL', '#!lua flags=\nreturn 3', '0'],
      ['EVAL', '#!lua flags=no-writes,,allow-oom\nreturn 2', '0'], ['EVAL', '#!lua  flags=no-writes,allow-oom \nreturn 2', '0'],
      ['EVAL', "#!lua flags=no-writes\nreturn redis.call('set', 'x', 'y')", '0'],
      ['EVAL', "#!lua flags=no-writes\nreturn redis.call('get', 'x')", '0'],
      ['EVAL_RO', '#!lua\nreturn 1', '0'], ['EVAL_RO', '#!lua flags=no-writes\nreturn 1', '0'],
      ['SCRIPT', 'LOAD', '#!lua flags=bogus\nreturn 1'], ['SCRIPT', 'LOAD', '#!lua flags=no-writes\nreturn 1'],
      ['EVALSHA_RO', 'e6b3ef5a1e2b1b4e7dbb5c4e3d1c6a8d1a7f9b0c', '0'],
      ['EVAL', '#!lua flags=no-cluster\nreturn 1', '0'],
      ['SET', 'big', 'x'.repeat(4096)], ['CONFIG', 'SET', 'maxmemory', '1'],
      ['EVAL', '#!lua\nreturn 1', '0'], ['EVAL', "#!lua flags=allow-oom\nreturn redis.call('set', 'a', 'b')", '0'],
      ['EVAL', "#!lua flags=no-writes\nreturn redis.call('get', 'big') ~= nil", '0'],
      ['EVAL', "return redis.call('get', 'big') ~= nil", '0'], ['CONFIG', 'SET', 'maxmemory', '0'],
    ]), []);
  });

  t.test('OOM: refused before the first write, let finish after it', async (t) => {
    await reset();
    t.same(await diffScript(w, r, [
      ['SET', 'big', 'x'.repeat(4096)], ['CONFIG', 'SET', 'maxmemory', '1'],
      ['EVAL', "return redis.call('set', 'a', '1')", '0'], ['EVAL', "return redis.pcall('set', 'a', '1')", '0'],
      ['EVAL', "return redis.call('get', 'big') ~= nil", '0'],
      ['CONFIG', 'SET', 'maxmemory', '0'],
    ]), []);
  });
}


t.test('one SCRIPT LOAD serves EVALSHA on every thread; SCRIPT FLUSH reaches them all', async (t) => {
  const sha = await clients[0].script('LOAD', "return 'loaded:' .. ARGV[1]") as string;
  const replies = await Promise.all(clients.map((c, i) => c.evalsha(sha, 0, String(i))));
  t.same(replies, clients.map((_, i) => `loaded:${i}`));
  t.same(await clients[3].script('EXISTS', sha, 'nosuch'), [1, 0]);
  await clients[5].script('FLUSH');
  for (const c of clients) await t.rejects(c.evalsha(sha, 0, 'x'), /NOSCRIPT/);
  // EVAL caches too: another connection's EVALSHA finds it.
  await clients[1].eval('return 42', 0);
  for (const c of clients) t.equal(await c.evalsha('1fa00e76656cc152ad327c13fe365858fd7be306', 0), 42);
});

t.test('scripts are atomic across threads: a torn read-modify-write would lose increments', async (t) => {
  await clients[0].del('counter', 'log');
  const script = "local v = tonumber(redis.call('get', KEYS[1]) or '0'); redis.call('set', KEYS[1], v + 1); " +
    "redis.call('rpush', KEYS[2], v); return v";
  const per = 150;
  await Promise.all(clients.map(async (c) => {
    for (let i = 0; i < per; i++) await c.eval(script, 2, 'counter', 'log');
  }));
  t.equal(await clients[0].get('counter'), String(per * clients.length));
  const seen = (await clients[1].lrange('log', 0, -1)).map(Number);
  t.same(seen, Array.from({ length: per * clients.length }, (_, i) => i), 'every value read exactly once, in order');
});

t.test('a client blocked on a key is served by a script\'s push; a WATCH is dirtied by a script\'s write', async (t) => {
  await clients[0].del('queue', 'watched');
  const popped = clients[4].blpop('queue', 5);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(await clients[1].eval("return redis.call('rpush', KEYS[1], 'job-1', 'job-2')", 1, 'queue'), 2);
  t.same(await popped, ['queue', 'job-1']);
  t.same(await clients[2].lrange('queue', 0, -1), ['job-2']);
  await clients[3].watch('watched');
  await clients[5].eval("return redis.call('set', KEYS[1], 'x')", 1, 'watched');
  t.equal(await clients[3].multi().set('watched', 'y').exec(), null, 'EXEC aborted');
  t.equal(await clients[0].get('watched'), 'x');
});

t.test('ioredis defineCommand', async (t) => {
  const c = clients[2];
  c.defineCommand('incrCapped', { numberOfKeys: 1, lua: "local v = redis.call('incr', KEYS[1]); " +
    "if v > tonumber(ARGV[1]) then redis.call('set', KEYS[1], ARGV[1]); return tonumber(ARGV[1]) end; return v" });
  await c.del('capped');
  const got: number[] = [];
  for (let i = 0; i < 5; i++) got.push(await (c as unknown as { incrCapped(k: string, cap: number): Promise<number> }).incrCapped('capped', 3));
  t.same(got, [1, 2, 3, 3, 3]);
});
