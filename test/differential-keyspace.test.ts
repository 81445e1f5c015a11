/**
 * The keyspace family (src/commands/keys.ts) against Redis 7.0.15: DEL and
 * friends, the EXPIRE and TTL families with NX/XX/GT/LT, KEYS glob
 * patterns, complete SCAN iterations, RENAME/COPY and OBJECT, compared byte
 * for byte (KEYS and SCAN as sets: their order follows each server's hash
 * tables).
 */
import t from 'tap';
import { requireRedisTools, type RawClient } from './helpers/servers.js';
import { connectPair, diffScript, parseResp, startPair, type Step } from './helpers/differential.js';

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** Runs SCAN from cursor 0 to the end; returns the sorted keys seen (duplicates allowed by SCAN are removed) or the error. */
async function scanAll(c: RawClient, opts: string[]): Promise<string[] | string> {
  const seen = new Set<string>();
  let cursor = '0';
  for (let calls = 0; calls < 100000; calls++) {
    const reply = parseResp((await c.command('SCAN', cursor, ...opts)).toString('latin1'));
    if (reply.type === '-') return reply.text;
    cursor = reply.items[0].text;
    for (const k of reply.items[1].items) seen.add(k.text);
    if (cursor === '0') return [...seen].sort();
  }
  throw new Error('SCAN did not finish');
}

if (requireRedisTools(t)) {
  const pair = await startPair(t);
  const [w, r] = await connectPair(t, pair);
  const run = async (steps: Step[], flush = true) => {
    if (flush) await diffScript(w, r, [['SELECT', '0'], ['FLUSHALL']]);
    return diffScript(w, r, steps);
  };
  const soonSec = Math.floor(Date.now() / 1000) + 1000;
  const soonMs = Date.now() + 1_000_000;
  const ttl = (key: string): Step => ({ cmd: ['TTL', key], near: 1 });
  const pttl = (key: string): Step => ({ cmd: ['PTTL', key], near: 1500 });

  t.test('DEL UNLINK EXISTS TOUCH TYPE', async (t) => {
    t.same(await run([
      ['MSET', 'a', '1', 'b', '2', 'c', '3'],
      ['EXISTS', 'a'],
      ['EXISTS', 'a', 'b', 'nope'],
      ['EXISTS', 'a', 'a', 'a'],
      ['TOUCH', 'a', 'b', 'nope', 'a'],
      ['TYPE', 'a'],
      ['TYPE', 'nope'],
      ['DEL', 'a', 'a', 'nope'],
      ['DEL', 'a'],
      ['UNLINK', 'b', 'c', 'b'],
      ['EXISTS', 'a', 'b', 'c'],
      ['DEL'],
      ['UNLINK'],
      ['EXISTS'],
      ['TOUCH'],
      ['TYPE'],
      ['TYPE', 'a', 'b'],
    ]), []);
  });

  t.test('EXPIRE PEXPIRE EXPIREAT PEXPIREAT with NX XX GT LT', async (t) => {
    t.same(await run([
      ['EXPIRE', 'missing', '100'],
      ['SET', 'k', 'v'],
      ['EXPIRE', 'k', '100', 'XX'],
      ['EXPIRE', 'k', '100', 'GT'],
      ['TTL', 'k'],
      ['EXPIRE', 'k', '100', 'LT'],
      ttl('k'),
      ['EXPIRE', 'k', '200', 'NX'],
      ttl('k'),
      ['EXPIRE', 'k', '200', 'xx'],
      ttl('k'),
      ['EXPIRE', 'k', '300', 'GT'],
      ['EXPIRE', 'k', '250', 'GT'],
      ['EXPIRE', 'k', '400', 'gt'],
      ttl('k'),
      ['EXPIRE', 'k', '100', 'LT'],
      ['EXPIRE', 'k', '150', 'LT'],
      ['EXPIRE', 'k', '100', 'lt', 'XX'],
      ttl('k'),
      ['PERSIST', 'k'],
      ['PERSIST', 'k'],
      ['PERSIST', 'missing'],
      ['EXPIRE', 'k', '100', 'NX', 'XX'],
      ['EXPIRE', 'k', '100', 'NX', 'GT'],
      ['EXPIRE', 'k', '100', 'LT', 'NX'],
      ['EXPIRE', 'k', '100', 'GT', 'LT'],
      ['EXPIRE', 'k', '100', 'GT', 'GT'],
      ['EXPIRE', 'k', '100', 'FOO'],
      ['EXPIRE', 'k', 'abc', 'FOO'],
      ['EXPIRE', 'k', '100', 'NX', 'FOO', 'XX'],
      ['EXPIRE', 'k', 'abc'],
      ['EXPIRE', 'k', '1.5'],
      ['EXPIRE', 'k', ''],
      ['EXPIRE', 'k', '9223372036854775'],
      ['EXPIRE', 'k', '9223372036854776'],
      ['EXPIRE', 'k', '-9223372036854775'],
      ['EXPIRE', 'k', '-9223372036854776'],
      ['EXISTS', 'k'],
      ['SET', 'k', 'v'],
      ['PEXPIRE', 'k', '9223372036854775807'],
      ['PEXPIRE', 'k', '-9223372036854775808'],
      ['EXISTS', 'k'],
      ['SET', 'k', 'v'],
      ['EXPIRE', 'k', '100'],
      ['PEXPIRE', 'k', '50000', 'GT'],
      ['PEXPIRE', 'k', '200000', 'GT'],
      pttl('k'),
      ['EXPIREAT', 'k', String(soonSec)],
      ['EXPIRETIME', 'k'],
      ['PEXPIRETIME', 'k'],
      ['EXPIREAT', 'k', String(soonSec - 10), 'GT'],
      ['EXPIREAT', 'k', String(soonSec - 10), 'LT'],
      ['EXPIRETIME', 'k'],
      ['PEXPIREAT', 'k', String(soonMs)],
      ['PEXPIRETIME', 'k'],
      ['EXPIRETIME', 'k'],
      // EXPIRETIME rounds to the nearest second.
      ['PEXPIREAT', 'k', String(soonSec * 1000 + 499)],
      ['EXPIRETIME', 'k'],
      ['PEXPIREAT', 'k', String(soonSec * 1000 + 500)],
      ['EXPIRETIME', 'k'],
      ['PEXPIREAT', 'k', String(soonMs), 'NX'],
      ['PEXPIREAT', 'k', String(soonMs + 1), 'XX'],
      ['PEXPIRETIME', 'k'],
      ['EXPIREAT', 'k', '9223372036854776'],
      ['PEXPIREAT', 'k', 'x'],
      ['TTL', 'missing'],
      ['PTTL', 'missing'],
      ['EXPIRETIME', 'missing'],
      ['PEXPIRETIME', 'missing'],
      ['SET', 'n', 'v'],
      ['TTL', 'n'],
      ['PTTL', 'n'],
      ['EXPIRETIME', 'n'],
      ['PEXPIRETIME', 'n'],
      // An expire time in the past deletes the key and still answers 1.
      ['EXPIRE', 'n', '-1'],
      ['EXISTS', 'n'],
      ['SET', 'n', 'v'],
      ['EXPIRE', 'n', '0'],
      ['EXISTS', 'n'],
      ['SET', 'n', 'v'],
      ['PEXPIRE', 'n', '0'],
      ['EXISTS', 'n'],
      ['SET', 'n', 'v'],
      ['EXPIREAT', 'n', '1'],
      ['EXISTS', 'n'],
      ['SET', 'n', 'v'],
      ['PEXPIREAT', 'n', '1', 'LT'],
      ['EXISTS', 'n'],
      ['SET', 'n', 'v', 'EX', '100'],
      ['EXPIRE', 'n', '-5', 'GT'],
      ['EXPIRE', 'n', '-5', 'LT'],
      ['EXISTS', 'n'],
      ['EXPIRE', 'k'],
      ['EXPIRE'],
      ['PEXPIRE', 'k'],
      ['EXPIREAT', 'k'],
      ['PEXPIREAT', 'k'],
      ['TTL'],
      ['PTTL', 'a', 'b'],
      ['EXPIRETIME'],
      ['PEXPIRETIME', 'a', 'b'],
      ['PERSIST'],
      ['PERSIST', 'a', 'b'],
    ]), []);
  });

  t.test('keys expire lazily and writes over them start fresh', async (t) => {
    t.same(await run([
      ['PSETEX', 'gone', '1', 'v'],
      ['SET', 'stay', 'v', 'PX', '1'],
      ['MSET', 'x', '1', 'y', '2'],
      ['PEXPIRE', 'x', '1'],
    ]), []);
    await sleep(30);
    t.same(await run([
      ['GET', 'gone'],
      ['EXISTS', 'gone', 'stay', 'x', 'y'],
      ['TTL', 'stay'],
      ['SETNX', 'x', 'new'],
      ['TTL', 'x'],
      ['INCR', 'gone'],
      ['APPEND', 'stay', 'abc'],
      ['GET', 'stay'],
      ['DBSIZE'],
      { cmd: ['KEYS', '*'], unordered: true },
    ], false), []);
  });

  t.test('KEYS glob patterns', async (t) => {
    const keys = ['hello', 'hallo', 'hxllo', 'hllo', 'heeeello', 'Hello', 'a*b', 'a?b', 'a[b', 'a]b', 'a\\b', 'a-b', 'foo:1',
      'foo:2', 'foo:10', 'foo:bar:baz', 'bar', 'x', 'ab', 'abc', '^x', '\u00e9t\u00e9'];
    await run([['MSET', ...keys.flatMap((k) => [k, 'v'])], ['SET', '', 'empty'], ['SET', Buffer.from([0, 0xff, 0x80]), 'bin']]);
    const patterns = ['*', '**', '?', '??', '???', 'h?llo', 'h*llo', 'h[ae]llo', 'h[^e]llo', 'h[a-b]llo', 'h[b-a]llo', 'h[a-x]llo',
      'H*', '*o', '*o*', '*l*l*o', 'a\\*b', 'a\\?b', 'a*b', 'a?b', 'a[\\[]b', 'a\\[b', 'a[]]b', 'a\\\\b', 'a[\\\\]b', 'a\\', '\\',
      '[', '[a', 'a[', '*[', '[a-', '[a-]', '[-a]', 'a[-]b', '[]', '[]]', '[^]', '[^', 'foo:*', 'foo:?', 'foo:??', 'foo:*:*',
      'foo:[0-9]', 'foo:[0-9]*', '*:*', '', 'nomatch', '[^a-z]*', '^*', '\u00e9*', '*\\', 'a[b-]', 'h[e-e]llo', '[hH]ello',
      'h\\ello', '*a*b*c*d*e*'];
    const steps: Step[] = patterns.map((p) => ({ cmd: ['KEYS', p], unordered: true }));
    steps.push({ cmd: ['KEYS', Buffer.from([0, 0xff, 0x80])], unordered: true });
    steps.push({ cmd: ['KEYS', Buffer.from('*\x80')], unordered: true });
    steps.push(['KEYS'], ['KEYS', 'a', 'b']);
    t.same(await run(steps, false), []);
  });

  t.test('SCAN iterates every key once, with MATCH COUNT TYPE', async (t) => {
    const keys: string[] = [];
    for (let i = 0; i < 3000; i++) keys.push(`key:${i}`, i % 7 === 0 ? `other:${i}` : `val${i}`);
    await run([['MSET', ...keys], ['SET', 'lone', 'x']]);
    const variants: string[][] = [
      [], ['COUNT', '1'], ['COUNT', '7'], ['COUNT', '1000'], ['MATCH', 'key:1*'], ['MATCH', 'other:*', 'COUNT', '3'],
      ['MATCH', '*'], ['TYPE', 'string'], ['TYPE', 'STRING', 'MATCH', 'key:2??'], ['TYPE', 'list'], ['TYPE', 'bogus'],
      ['MATCH', 'nothing*', 'COUNT', '50'], ['count', '5', 'match', 'lone', 'type', 'String'],
      ['COUNT', '0'], ['COUNT', '-1'], ['COUNT', 'x'], ['COUNT'], ['MATCH'], ['TYPE'], ['FOO', 'bar'], ['COUNT', '5', 'MATCH'],
    ];
    const diffs: unknown[] = [];
    for (const v of variants) {
      const [a, b] = await Promise.all([scanAll(w, v), scanAll(r, v)]);
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        diffs.push({ opts: v.join(' '), weft: typeof a === 'string' ? a : `${a.length} keys`, redis: typeof b === 'string' ? b : `${b.length} keys` });
      }
    }
    t.same(diffs, []);
    // Cursor syntax (strtoul with base 10 in Redis): errors must match; accepted forms start a full scan.
    t.same(await run([
      ['SCAN', 'abc'],
      ['SCAN', '1x'],
      ['SCAN', ' 1'],
      ['SCAN', '0x10'],
      ['SCAN', '18446744073709551616'],
      ['SCAN', '99999999999999999999999'],
      ['SCAN', 'abc', 'COUNT', '0'],
      ['SCAN'],
    ], false), []);
    const full = ['COUNT', '100000'];
    for (const cursor of ['', '+0', '00']) {
      const [a, b] = await Promise.all([w.command('SCAN', cursor, ...full), r.command('SCAN', cursor, ...full)]);
      const pa = parseResp(a.toString('latin1'));
      const pb = parseResp(b.toString('latin1'));
      t.equal(pa.type, pb.type, `SCAN '${cursor}' reply type`);
      if (pa.type === '*' && pb.type === '*') {
        t.same(pa.items[1].items.map((i) => i.text).sort(), pb.items[1].items.map((i) => i.text).sort(), `SCAN '${cursor}' keys`);
      }
    }
    // A cursor past the end of the table (strtoul wraps -1 to 2^64-1): the scan ends, cursor 0.
    for (const cursor of ['-1', '18446744073709551615']) {
      const [a, b] = await Promise.all([w.command('SCAN', cursor), r.command('SCAN', cursor)]);
      t.equal(parseResp(a.toString('latin1')).items[0].text, '0', `weft ends SCAN ${cursor}`);
      t.equal(parseResp(b.toString('latin1')).items[0].text, '0', `redis ends SCAN ${cursor}`);
    }
  });

  t.test('RANDOMKEY', async (t) => {
    t.same(await run([
      ['RANDOMKEY'],
      ['SET', 'only', 'v'],
      ['RANDOMKEY'],
      ['RANDOMKEY', 'x'],
    ]), []);
    await run([['MSET', 'a', '1', 'b', '2', 'c', '3']], false);
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) seen.add(parseResp((await w.command('RANDOMKEY')).toString('latin1')).text);
    t.ok([...seen].every((k) => ['a', 'b', 'c', 'only'].includes(k)), 'RANDOMKEY returns existing keys');
    t.ok(seen.size >= 3, 'RANDOMKEY spreads over the keys');
  });

  t.test('RENAME RENAMENX', async (t) => {
    t.same(await run([
      ['RENAME', 'missing', 'x'],
      ['RENAME', 'missing', 'missing'],
      ['RENAMENX', 'missing', 'x'],
      ['SET', 'a', '1', 'EX', '100'],
      ['RENAME', 'a', 'a'],
      ['RENAMENX', 'a', 'a'],
      ['RENAME', 'a', 'b'],
      ['EXISTS', 'a'],
      ['GET', 'b'],
      ttl('b'),
      ['SET', 'c', '3'],
      ['RENAME', 'c', 'b'],
      ['GET', 'b'],
      ['TTL', 'b'],
      ['SET', 'd', '4', 'EX', '100'],
      ['RENAMENX', 'b', 'd'],
      ['RENAMENX', 'b', 'e'],
      ['MGET', 'b', 'd', 'e'],
      ['SET', 'raw', 'x'],
      ['APPEND', 'raw', 'y'],
      ['RENAME', 'raw', 'raw2'],
      ['OBJECT', 'ENCODING', 'raw2'],
      ['RENAME', 'a'],
      ['RENAMENX', 'a', 'b', 'c'],
    ]), []);
  });

  t.test('COPY with DB and REPLACE', async (t) => {
    t.same(await run([
      ['COPY', 'missing', 'x'],
      ['SET', 'a', 'va', 'EX', '100'],
      ['COPY', 'a', 'b'],
      ['GET', 'b'],
      ttl('b'),
      ['COPY', 'a', 'b'],
      ['SET', 'a', 'va2'],
      ['COPY', 'a', 'b', 'REPLACE'],
      ['GET', 'b'],
      ['TTL', 'b'],
      ['COPY', 'a', 'a'],
      ['COPY', 'a', 'a', 'REPLACE'],
      ['COPY', 'a', 'a', 'DB', '0'],
      ['COPY', 'a', 'a', 'DB', '1'],
      ['COPY', 'a', 'a', 'DB', '1'],
      ['COPY', 'a', 'a', 'DB', '1', 'REPLACE'],
      ['COPY', 'a', 'z', 'db', '2', 'replace'],
      ['COPY', 'a', 'b', 'DB', '16'],
      ['COPY', 'a', 'b', 'DB', '-1'],
      ['COPY', 'a', 'b', 'DB', 'abc'],
      ['COPY', 'a', 'b', 'DB', '2147483648'],
      ['COPY', 'a', 'b', 'DB', '4294967297'],
      ['COPY', 'a', 'b', 'DB'],
      ['COPY', 'a', 'b', 'FOO'],
      ['COPY', 'a', 'b', 'REPLACE', 'DB'],
      ['COPY', 'missing', 'missing'],
      ['COPY', 'missing', 'b', 'DB', '99'],
      ['SELECT', '1'],
      ['GET', 'a'],
      ['SELECT', '2'],
      ['GET', 'z'],
      ['COPY', 'z', 'a', 'DB', '0'],
      ['COPY', 'z', 'a', 'DB', '0', 'REPLACE'],
      ['SELECT', '0'],
      ['GET', 'a'],
      ['SET', 'n', '123'],
      ['COPY', 'n', 'n2'],
      ['OBJECT', 'ENCODING', 'n2'],
      // COPY duplicates the object: a shared small integer becomes a private one.
      ['OBJECT', 'REFCOUNT', 'n2'],
      ['OBJECT', 'REFCOUNT', 'n'],
      ['RENAME', 'n', 'n3'],
      ['OBJECT', 'REFCOUNT', 'n3'],
      ['SET', 'big', '123456'],
      ['COPY', 'big', 'big2'],
      ['OBJECT', 'REFCOUNT', 'big2'],
      ['COPY', 'n2', 'n4'],
      ['INCR', 'n4'],
      ['OBJECT', 'REFCOUNT', 'n4'],
      ['COPY', 'a'],
      ['COPY'],
    ]), []);
  });

  t.test('OBJECT ENCODING REFCOUNT FREQ IDLETIME HELP', async (t) => {
    t.same(await run([
      ['SET', 'int', '123'],
      ['SET', 'neg', '-123'],
      ['SET', 'zero', '0'],
      ['SET', 'lead', '0123'],
      ['SET', 'plus', '+1'],
      ['SET', 'max', '9223372036854775807'],
      ['SET', 'min', '-9223372036854775808'],
      ['SET', 'over', '12345678901234567890'],
      ['SET', 'str', 'abc'],
      ['SET', 'e44', 'x'.repeat(44)],
      ['SET', 'e45', 'x'.repeat(45)],
      ['SET', 'empty', ''],
      ['SET', 'flt', '1.5'],
      ...['int', 'neg', 'zero', 'lead', 'plus', 'max', 'min', 'over', 'str', 'e44', 'e45', 'empty', 'flt', 'missing']
        .flatMap((k): Step[] => [['OBJECT', 'ENCODING', k], ['OBJECT', 'REFCOUNT', k]]),
      ['APPEND', 'ap', '123'],
      ['OBJECT', 'ENCODING', 'ap'],
      ['APPEND', 'ap', '4'],
      ['OBJECT', 'ENCODING', 'ap'],
      ['OBJECT', 'REFCOUNT', 'ap'],
      ['APPEND', 'ap2', 'abc'],
      ['OBJECT', 'ENCODING', 'ap2'],
      ['SETRANGE', 'sr', '0', '12'],
      ['OBJECT', 'ENCODING', 'sr'],
      ['SET', 'sr2', 'hello'],
      ['SETRANGE', 'sr2', '0', 'j'],
      ['OBJECT', 'ENCODING', 'sr2'],
      ['INCR', 'ctr'],
      ['OBJECT', 'ENCODING', 'ctr'],
      ['OBJECT', 'REFCOUNT', 'ctr'],
      ['INCRBY', 'ctr', '100000'],
      ['OBJECT', 'ENCODING', 'ctr'],
      ['OBJECT', 'REFCOUNT', 'ctr'],
      ['INCRBYFLOAT', 'f', '3'],
      ['OBJECT', 'ENCODING', 'f'],
      ['OBJECT', 'REFCOUNT', 'f'],
      ['INCRBYFLOAT', 'f2', '1e40'],
      ['OBJECT', 'ENCODING', 'f2'],
      ['INCRBYFLOAT', 'f3', '1e50'],
      ['OBJECT', 'ENCODING', 'f3'],
      ['SET', 'f', '3'],
      ['OBJECT', 'ENCODING', 'f'],
      ['GETSET', 'gs', '77'],
      ['OBJECT', 'ENCODING', 'gs'],
      ['SETEX', 'sx', '100', '77'],
      ['OBJECT', 'ENCODING', 'sx'],
      ['MSET', 'ms', '77'],
      ['OBJECT', 'ENCODING', 'ms'],
      ['SET', 'sg', '77', 'GET'],
      ['OBJECT', 'ENCODING', 'sg'],
      ['OBJECT', 'FREQ', 'int'],
      { cmd: ['OBJECT', 'IDLETIME', 'int'], near: 1 },
      // Under an LFU policy a new key starts at LFU_INIT_VAL (5); the first access always counts.
      ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu'],
      ['SET', 'lfu', 'v'],
      ['OBJECT', 'FREQ', 'lfu'],
      ['GET', 'lfu'],
      ['OBJECT', 'FREQ', 'lfu'],
      ['OBJECT', 'IDLETIME', 'lfu'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'],
      ['OBJECT', 'IDLETIME', 'missing'],
      ['OBJECT', 'FREQ', 'missing'],
      ['OBJECT', 'HELP'],
      ['object', 'help'],
      ['OBJECT', 'HELP', 'x'],
      ['OBJECT'],
      ['OBJECT', 'ENCODING'],
      ['OBJECT', 'ENCODING', 'a', 'b'],
      ['OBJECT', 'FOO'],
      ['OBJECT', 'foo', 'bar'],
      ['OBJECT', 'REFCOUNT'],
    ]), []);
  });

  t.test('keyspace_hits and keyspace_misses count the same lookups', async (t) => {
    await run([['MSET', 'a', '1', 'b', '2', 's', 'str'], ['EXPIRE', 'b', '100']]);
    const counters = async (c: RawClient) => {
      const text = parseResp((await c.command('INFO', 'stats')).toString('latin1')).text;
      return [/keyspace_hits:(\d+)/, /keyspace_misses:(\d+)/].map((re) => Number(re.exec(text)![1]));
    };
    const steps: string[][] = [
      ['GET', 'a'], ['GET', 'nope'], ['MGET', 'a', 'nope', 'b'], ['EXISTS', 'a', 'nope'], ['TTL', 'b'], ['PTTL', 'nope'],
      ['EXPIRETIME', 'b'], ['TYPE', 'a'], ['TYPE', 'nope'], ['OBJECT', 'ENCODING', 'a'], ['OBJECT', 'REFCOUNT', 'nope'],
      ['STRLEN', 'a'], ['GETRANGE', 'a', '0', '1'], ['SUBSTR', 'nope', '0', '1'], ['SET', 'a', '5', 'GET'], ['SET', 'z', '1', 'GET'],
      ['GETSET', 'a', '6'], ['GETEX', 'a'], ['GETEX', 'nope', 'PERSIST'], ['GETDEL', 'z'], ['GETDEL', 'z'], ['TOUCH', 'a', 'nope'],
      ['INCR', 'a'], ['INCRBYFLOAT', 'f', '1'], ['APPEND', 's', 'x'], ['SETRANGE', 's', '0', 'y'], ['SETNX', 'a', '1'],
      ['MSETNX', 'q', '1'], ['DEL', 'q'], ['EXPIRE', 'a', '100'], ['PERSIST', 'a'], ['COPY', 'a', 'c'], ['COPY', 'nope', 'c'],
      ['RENAME', 'c', 'd'], ['RENAMENX', 'd', 'a'], ['KEYS', '*'], ['SCAN', '0'], ['RANDOMKEY'], ['DBSIZE'], ['SET', 'a', '1'],
    ];
    const diffs: unknown[] = [];
    for (const step of steps) {
      const [wb, rb] = await Promise.all([counters(w), counters(r)]);
      await Promise.all([w.command(...step), r.command(...step)]);
      const [wa, ra] = await Promise.all([counters(w), counters(r)]);
      const dw = [wa[0] - wb[0], wa[1] - wb[1]];
      const dr = [ra[0] - rb[0], ra[1] - rb[1]];
      if (dw[0] !== dr[0] || dw[1] !== dr[1]) diffs.push({ step: step.join(' '), weft: `hits+${dw[0]} misses+${dw[1]}`, redis: `hits+${dr[0]} misses+${dr[1]}` });
    }
    t.same(diffs, []);
  });

  t.test('TTL, TYPE and OBJECT do not reset the idle time; reads do', async (t) => {
    await run([['MSET', 'idle', 'v', 'read', 'v'], ['EXPIRE', 'idle', '100']]);
    await sleep(2500);
    t.same(await run([
      ttl('idle'),
      pttl('idle'),
      { cmd: ['EXPIRETIME', 'idle'], near: 1 },
      ['TYPE', 'idle'],
      ['OBJECT', 'ENCODING', 'idle'],
      { cmd: ['OBJECT', 'IDLETIME', 'idle'], near: 1 },
      ['GET', 'read'],
      { cmd: ['OBJECT', 'IDLETIME', 'read'], near: 1 },
    ], false), []);
  });

  t.test('commands follow SELECT', async (t) => {
    t.same(await run([
      ['SET', 'k', 'db0'],
      ['SELECT', '3'],
      ['EXISTS', 'k'],
      ['SET', 'k', 'db3', 'EX', '100'],
      ['KEYS', '*'],
      ['RENAME', 'k', 'k2'],
      ttl('k2'),
      ['SELECT', '0'],
      ['GET', 'k'],
      ['TTL', 'k'],
      ['DEL', 'k2'],
      ['SELECT', '3'],
      ['GET', 'k2'],
      ['DBSIZE'],
      ['SELECT', '0'],
    ]), []);
  });
}
