/**
 * The hash family (src/commands/hashes.ts, hash-random.ts, the shared
 * collection-scan.ts) against Redis 7.0.15: every command, option and error
 * reply, the listpack → hashtable conversions at their thresholds (default
 * and changed config, also through the hash-max-ziplist-* aliases), HSCAN
 * over big hashes with a complete-iteration check, HRANDFIELD's reply
 * shapes and sampling, and a seeded randomized model test.
 *
 * Listpack hashes keep insertion order in both servers, so their replies
 * are compared byte for byte; hashtable order differs (another hash
 * function), so those replies are compared as multisets.
 */
import t from 'tap';
import { requireRedisTools, type RawClient } from './helpers/servers.js';
import { connectPair, diffScript, maskIntegerAfter, parseResp, startPair, type Resp, type Step } from './helpers/differential.js';
import { prng } from './helpers/prng.js';

/** Map: a reply's shape only (types and lengths; bulk payloads dropped), for random picks. */
function shape(reply: string): string {
  const walk = (r: Resp): string => (r.items.length ? `${r.type}${r.items.length}[${r.items.map(walk).join(',')}]` : r.type === '$' ? '$' : r.raw);
  return walk(parseResp(reply));
}

/** Map: an HSCAN reply with its element pairs sorted (hashtable order differs between servers). */
function sortedScan(reply: string): string {
  const p = parseResp(reply);
  if (p.type !== '*' || p.items.length !== 2) return reply;
  const els = p.items[1].items;
  const pairs: string[] = [];
  for (let i = 0; i + 1 < els.length; i += 2) pairs.push(els[i].raw + els[i + 1].raw);
  return `${p.items[0].raw}${pairs.length}:${pairs.sort().join('')}`;
}

const text = (b: Buffer) => b.toString('latin1');
/** HELLO with the client id masked. */
const hello = (v: string): Step => ({ cmd: ['HELLO', v], map: maskIntegerAfter('id') });
const fields = (n: number, prefix = 'f', value = (i: number) => `v${i}`): string[] => {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${prefix}${i}`, value(i));
  return out;
};

/** Runs a full HSCAN iteration; returns the field → value pairs seen (with repeats) and the calls made. */
async function scanAll(c: RawClient, key: string, extra: string[] = []): Promise<{ pairs: [string, string][]; calls: number }> {
  let cursor = '0';
  const pairs: [string, string][] = [];
  let calls = 0;
  do {
    const r = parseResp(text(await c.command('HSCAN', key, cursor, ...extra)));
    cursor = r.items[0].text;
    const els = r.items[1].items;
    for (let i = 0; i < els.length; i += 2) pairs.push([els[i].text, els[i + 1].text]);
    calls++;
  } while (cursor !== '0' && calls < 100000);
  return { pairs, calls };
}

if (requireRedisTools(t)) {
  const pair = await startPair(t);
  const [w, r] = await connectPair(t, pair);
  const run = async (steps: Step[]) => {
    await diffScript(w, r, [['HELLO', '2'], ['FLUSHALL'], ['CONFIG', 'SET', 'hash-max-listpack-entries', '512'],
      ['CONFIG', 'SET', 'hash-max-listpack-value', '64']]);
    return diffScript(w, r, steps);
  };
  const both = (...cmd: string[]) => Promise.all([w.command(...cmd), r.command(...cmd)]);

  t.test('HSET, HMSET, HSETNX, HGET, HMGET, HLEN, HSTRLEN, HEXISTS, HDEL', async (t) => {
    t.same(await run([
      ['HSET', 'h', 'f', 'v'],
      ['HSET', 'h', 'f', 'v2', 'g', 'w'],
      ['HSET', 'h', 'd', '1', 'd', '2', 'e', '3'],
      ['HGETALL', 'h'],
      ['HGET', 'h', 'f'], ['HGET', 'h', 'd'], ['HGET', 'h', 'nope'], ['HGET', 'missing', 'f'],
      ['HMGET', 'h', 'f', 'nope', 'g', 'f'], ['HMGET', 'missing', 'a', 'b'],
      ['HLEN', 'h'], ['HLEN', 'missing'],
      ['HSTRLEN', 'h', 'f'], ['HSTRLEN', 'h', 'nope'], ['HSTRLEN', 'missing', 'f'],
      ['HEXISTS', 'h', 'f'], ['HEXISTS', 'h', 'nope'], ['HEXISTS', 'missing', 'f'],
      ['HSET', 'h', 'a', '1', 'b'], ['HSET', 'h', 'a'], ['HSET', 'h'], ['HMSET', 'h', 'a', '1', 'b'], ['HMSET', 'h', 'a'],
      ['HMSET', 'h', 'a', '1', 'b', '2'], ['HMSET', 'h', 'a', '11'], ['HGETALL', 'h'],
      ['HSETNX', 'h', 'f', 'x'], ['HSETNX', 'h', 'new', 'x'], ['HGET', 'h', 'new'], ['HSETNX', 'n2', 'f', 'v'], ['HGETALL', 'n2'],
      ['HSETNX', 'h', 'f'], ['HSETNX', 'h', 'f', 'v', 'x'],
      ['HSET', 'h', '', ''], ['HGET', 'h', ''], ['HSTRLEN', 'h', ''], ['HEXISTS', 'h', ''],
      ['HSET', 'h', Buffer.from([0, 1, 0xff, 13, 10]), Buffer.from([0x80, 0, 10])], ['HGET', 'h', Buffer.from([0, 1, 0xff, 13, 10])],
      ['HSET', 'h', 'long', 'x'.repeat(200)], ['HSET', 'h', 'long', 'y'], ['HGET', 'h', 'long'], ['HSET', 'h', 'long', 'z'.repeat(130)],
      ['HGET', 'h', 'long'], ['HSTRLEN', 'h', 'long'],
      { cmd: ['HGETALL', 'h'], unorderedPairs: true }, ['OBJECT', 'ENCODING', 'h'], ['TYPE', 'h'], ['HLEN', 'h'],
      ['HDEL', 'h', 'f', 'g', 'nope', 'f'], ['HDEL', 'missing', 'f'], ['HDEL', 'h'], ['HLEN', 'h'], { cmd: ['HGETALL', 'h'], unorderedPairs: true },
      ['HDEL', 'n2', 'f', 'g'], ['EXISTS', 'n2'],
      ['HSET', 'd', 'a', '1', 'b', '2'], ['HDEL', 'd', 'a', 'b', 'c'], ['EXISTS', 'd'],
      ['HSET', 'd', 'a', '1', 'b', '2'], ['HDEL', 'd', 'b', 'x', 'a'], ['EXISTS', 'd'],
    ]), []);
  });

  t.test('WRONGTYPE and argument checks before the type', async (t) => {
    t.same(await run([
      ['SET', 's', 'x'],
      ['HSET', 's', 'f', 'v'], ['HSET', 's', 'f', 'v', 'x'], ['HMSET', 's', 'f', 'v'], ['HSETNX', 's', 'f', 'v'],
      ['HGET', 's', 'f'], ['HMGET', 's', 'f'], ['HLEN', 's'], ['HSTRLEN', 's', 'f'], ['HEXISTS', 's', 'f'],
      ['HDEL', 's', 'f'], ['HINCRBY', 's', 'f', '1'], ['HINCRBY', 's', 'f', 'x'], ['HINCRBYFLOAT', 's', 'f', '1'],
      ['HINCRBYFLOAT', 's', 'f', 'x'], ['HINCRBYFLOAT', 's', 'f', 'inf'],
      ['HKEYS', 's'], ['HVALS', 's'], ['HGETALL', 's'],
      ['HRANDFIELD', 's'], ['HRANDFIELD', 's', '1'], ['HRANDFIELD', 's', '0'], ['HRANDFIELD', 's', 'x'], ['HRANDFIELD', 's', '1', 'bad'],
      ['HSCAN', 's', '0'], ['HSCAN', 's', 'x'], ['HSCAN', 's', '0', 'COUNT', '0'],
      ['LPUSH', 'l', 'a'], ['HGET', 'l', 'a'], ['HSET', 'l', 'a', 'b'], ['GET', 's'],
    ]), []);
  });

  t.test('HINCRBY and HINCRBYFLOAT', async (t) => {
    t.same(await run([
      ['HINCRBY', 'h', 'n', '1'], ['HINCRBY', 'h', 'n', '-5'], ['HINCRBY', 'h', 'n', '0'], ['HGET', 'h', 'n'],
      ['HINCRBY', 'new', 'n', '7'], ['HGETALL', 'new'],
      ['HINCRBY', 'h', 'n', 'x'], ['HINCRBY', 'h', 'n', '1.5'], ['HINCRBY', 'h', 'n', ''], ['HINCRBY', 'h', 'n', ' 1'],
      ['HINCRBY', 'h', 'n', '9223372036854775808'], ['HINCRBY', 'nokey', 'n', 'x'], ['EXISTS', 'nokey'],
      ['HSET', 'h', 'big', '9223372036854775806'], ['HINCRBY', 'h', 'big', '1'], ['HINCRBY', 'h', 'big', '1'], ['HGET', 'h', 'big'],
      ['HSET', 'h', 'small', '-9223372036854775807'], ['HINCRBY', 'h', 'small', '-1'], ['HINCRBY', 'h', 'small', '-1'],
      ['HINCRBY', 'h', 'z', '-9223372036854775808'], ['HINCRBY', 'h', 'z', '-1'], ['HINCRBY', 'h', 'z', '9223372036854775807'],
      ['HINCRBY', 'h', 'y', '9007199254740993'], ['HINCRBY', 'h', 'y', '9007199254740993'], ['HINCRBY', 'h', 'y', '-18014398509481987'],
      ['HSET', 'h', 's', 'abc', 'sp', ' 1', 'lz', '01', 'fl', '1.5', 'huge', '99999999999999999999'],
      ['HINCRBY', 'h', 's', '1'], ['HINCRBY', 'h', 'sp', '1'], ['HINCRBY', 'h', 'lz', '1'], ['HINCRBY', 'h', 'fl', '1'],
      ['HINCRBY', 'h', 'huge', '1'],
      ['HINCRBYFLOAT', 'h', 'x', '0.1'], ['HINCRBYFLOAT', 'h', 'x', '0.2'], ['HGET', 'h', 'x'],
      ['HINCRBYFLOAT', 'h', 'x', '-0.3'], ['HINCRBYFLOAT', 'h', 'x', '-0'], ['HINCRBYFLOAT', 'h', 'x', '1e5'],
      ['HINCRBYFLOAT', 'h', 'x', '0x10'], ['HINCRBYFLOAT', 'h', 'x', '1.23456789012345678901234567890'],
      ['HINCRBYFLOAT', 'h', 'n', '2.5'], ['HINCRBYFLOAT', 'h', 'lz', '1'], ['HINCRBYFLOAT', 'h', 'fl', '1'],
      ['HINCRBYFLOAT', 'h', 'sp', '1'], ['HINCRBYFLOAT', 'h', 's', '1'], ['HINCRBYFLOAT', 'h', 'huge', '1'],
      ['HINCRBYFLOAT', 'h', 'x', 'inf'], ['HINCRBYFLOAT', 'h', 'x', '-Infinity'], ['HINCRBYFLOAT', 'h', 'x', 'nan'],
      ['HINCRBYFLOAT', 'h', 'x', 'abc'], ['HINCRBYFLOAT', 'h', 'x', ' 1'], ['HINCRBYFLOAT', 'h', 'x', ''],
      ['HINCRBYFLOAT', 'h', 'x', '1e5000'], ['HINCRBYFLOAT', 'nokey', 'x', 'inf'], ['EXISTS', 'nokey'],
      ['HSET', 'h', 'inf', 'inf', 'nan', 'nan'], ['HINCRBYFLOAT', 'h', 'inf', '1'], ['HINCRBYFLOAT', 'h', 'nan', '1'],
      ['HINCRBYFLOAT', 'h', 'edge', '1e4932'], ['HINCRBYFLOAT', 'h', 'edge', '1e4932'], ['HGET', 'h', 'edge'],
      ['HINCRBYFLOAT', 'h', 'tiny', '1e-20'], ['HINCRBYFLOAT', 'h', 'e400', '1e400'], ['HSTRLEN', 'h', 'e400'],
      ['HINCRBYFLOAT', 'f2', 'a', '10.5'], ['HINCRBYFLOAT', 'f2', 'a', '0.1'],
      ['HGETALL', 'f2'], ['OBJECT', 'ENCODING', 'h'], ['HLEN', 'h'],
    ]), []);
  });

  t.test('HKEYS, HVALS, HGETALL in RESP2 and RESP3', async (t) => {
    const steps = (): Step[] => [
      ['HKEYS', 'missing'], ['HVALS', 'missing'], ['HGETALL', 'missing'],
      ['HKEYS', 'h'], ['HVALS', 'h'], ['HGETALL', 'h'],
      { cmd: ['HKEYS', 'big'], unordered: true }, { cmd: ['HVALS', 'big'], unordered: true },
      { cmd: ['HGETALL', 'big'], unorderedPairs: true }, ['HLEN', 'big'],
      ['HRANDFIELD', 'missing'], ['HRANDFIELD', 'missing', '3'], ['HRANDFIELD', 'missing', '-3', 'WITHVALUES'],
      ['HRANDFIELD', 'h', '100'], ['HRANDFIELD', 'h', '100', 'WITHVALUES'], ['HRANDFIELD', 'h', '3', 'withvalues'],
      { cmd: ['HRANDFIELD', 'big', '1000', 'WITHVALUES'], map: (x) => sortedResp3Pairs(x) },
      { cmd: ['HRANDFIELD', 'h', '-5', 'WITHVALUES'], map: shape }, { cmd: ['HRANDFIELD', 'h', '2', 'WITHVALUES'], map: shape },
      { cmd: ['HRANDFIELD', 'big', '5', 'WITHVALUES'], map: shape }, { cmd: ['HRANDFIELD', 'big', '-5', 'WITHVALUES'], map: shape },
      ['HRANDFIELD', 'h', '0', 'WITHVALUES'],
    ];
    const setup: Step[] = [['HSET', 'h', 'a', '1', 'b', '2', 'c', '3'], ['HSET', 'big', ...fields(600)]];
    t.same(await run([...setup, ...steps()]), []);
    t.same(await run([hello('3'), ...setup, ...steps(), hello('2')]), []);
  });

  t.test('encodings: listpack -> hashtable at the thresholds (default config)', async (t) => {
    const v64 = 'x'.repeat(64);
    const v65 = 'x'.repeat(65);
    t.same(await run([
      ['HSET', 'h', ...fields(512)], ['OBJECT', 'ENCODING', 'h'], ['HSET', 'h', 'f0', 'again'], ['OBJECT', 'ENCODING', 'h'],
      ['HSET', 'h', 'extra', '1'], ['OBJECT', 'ENCODING', 'h'], ['HLEN', 'h'], ['HGET', 'h', 'f0'], ['HGET', 'h', 'f511'],
      ['HSET', 'one', ...fields(513)], ['OBJECT', 'ENCODING', 'one'],
      ['HSET', 'v', 'f', v64], ['OBJECT', 'ENCODING', 'v'], ['HSET', 'v', v64, 'x'], ['OBJECT', 'ENCODING', 'v'],
      ['HSET', 'v', 'g', v65], ['OBJECT', 'ENCODING', 'v'], ['HLEN', 'v'], { cmd: ['HGETALL', 'v'], unorderedPairs: true },
      ['HSET', 'fl', v65, 'x'], ['OBJECT', 'ENCODING', 'fl'],
      ['HSET', 'nx', 'f', 'v'], ['HSETNX', 'nx', 'f', v65], ['OBJECT', 'ENCODING', 'nx'],
      ['HSETNX', 'nx', 'g', v65], ['OBJECT', 'ENCODING', 'nx'], ['HSETNX', 'nx2', 'g', v65], ['OBJECT', 'ENCODING', 'nx2'],
      ['HSET', 'many', 'a', '1', 'b', v65, 'c', '3'], ['OBJECT', 'ENCODING', 'many'],
      ['HINCRBY', 'ib', 'f', '1'], ['OBJECT', 'ENCODING', 'ib'], ['HINCRBY', 'ib', v65, '1'], ['OBJECT', 'ENCODING', 'ib'],
      ['HINCRBYFLOAT', 'if', 'f', '1e60'], ['OBJECT', 'ENCODING', 'if'], ['HINCRBYFLOAT', 'if', 'f', '1e70'], ['OBJECT', 'ENCODING', 'if'],
      ['HGET', 'if', 'f'],
      ['HDEL', 'h', ...fields(512).filter((_, i) => i % 2 === 0)], ['OBJECT', 'ENCODING', 'h'], ['HGETALL', 'h'],
      ['DEL', 'v'], ['HSET', 'v', 'a', '1'], ['OBJECT', 'ENCODING', 'v'],
    ]), []);
  });

  t.test('encodings with changed config and the ziplist aliases', async (t) => {
    t.same(await run([
      ['CONFIG', 'SET', 'hash-max-ziplist-entries', '4'], ['CONFIG', 'SET', 'hash-max-ziplist-value', '8'],
      ['CONFIG', 'GET', 'hash-max-listpack-entries'], ['CONFIG', 'GET', 'hash-max-listpack-value'],
      ['CONFIG', 'GET', 'hash-max-ziplist-entries'], ['CONFIG', 'GET', 'hash-max-ziplist-value'],
      ['HSET', 'h', ...fields(4)], ['OBJECT', 'ENCODING', 'h'], ['HSET', 'h', 'f4', 'v'], ['OBJECT', 'ENCODING', 'h'],
      ['HSET', 'v', 'f', '12345678'], ['OBJECT', 'ENCODING', 'v'], ['HSET', 'v', 'f', '123456789'], ['OBJECT', 'ENCODING', 'v'],
      ['HSET', 'mid', ...fields(7)], ['OBJECT', 'ENCODING', 'mid'], { cmd: ['HGETALL', 'mid'], unorderedPairs: true },
      ['HINCRBYFLOAT', 'fl', 'f', '1.5'], ['OBJECT', 'ENCODING', 'fl'], ['HINCRBYFLOAT', 'fl', 'f', '0.0001'],
      ['OBJECT', 'ENCODING', 'fl'], ['HGET', 'fl', 'f'],
      ['HINCRBY', 'ib', 'f', '99999999'], ['OBJECT', 'ENCODING', 'ib'], ['HINCRBY', 'ib', 'f', '1'], ['OBJECT', 'ENCODING', 'ib'],
      ['CONFIG', 'SET', 'hash-max-listpack-entries', '0'], ['HSET', 'zero', 'a', 'b'], ['OBJECT', 'ENCODING', 'zero'],
      ['HSETNX', 'zero2', 'a', 'b'], ['OBJECT', 'ENCODING', 'zero2'], ['HINCRBY', 'zero3', 'a', '1'], ['OBJECT', 'ENCODING', 'zero3'],
      ['CONFIG', 'SET', 'hash-max-listpack-entries', '3'], ['CONFIG', 'SET', 'hash-max-listpack-value', '0'],
      ['HSET', 'e', '', ''], ['OBJECT', 'ENCODING', 'e'], ['HSET', 'e', 'a', ''], ['OBJECT', 'ENCODING', 'e'],
      ['CONFIG', 'SET', 'hash-max-listpack-value', '64'], ['HSET', 'back', ...fields(3)], ['OBJECT', 'ENCODING', 'back'],
      ['HSET', 'back', 'x', '1'], ['HDEL', 'back', 'f0', 'f1', 'f2'], ['OBJECT', 'ENCODING', 'back'], ['HGETALL', 'back'],
      ['CONFIG', 'SET', 'hash-max-listpack-entries', '512'],
    ]), []);
  });

  t.test('HRANDFIELD: errors, counts, shapes', async (t) => {
    const common = (k: string): Step[] => [
      ['HRANDFIELD', k, 'x'], ['HRANDFIELD', k, '1.5'], ['HRANDFIELD', k, '-9223372036854775808'],
      ['HRANDFIELD', k, '-9223372036854775809'], ['HRANDFIELD', k, '9223372036854775808'],
      ['HRANDFIELD', k, '-9223372036854775808', 'WITHVALUES'], ['HRANDFIELD', k, '1', 'WITHVALUES', 'x'],
      ['HRANDFIELD', k, '1', 'x'], ['HRANDFIELD', k, 'x', 'x'],
      ['HRANDFIELD', k, '4611686018427387904', 'WITHVALUES'], ['HRANDFIELD', k, '-4611686018427387904', 'WITHVALUES'],
      ['HRANDFIELD', k, '4611686018427387904', 'x'], ['HRANDFIELD', k, '0'], ['HRANDFIELD', k, '0', 'WITHVALUES'],
      { cmd: ['HRANDFIELD', k], map: shape }, { cmd: ['HRANDFIELD', k, '1'], map: shape }, { cmd: ['HRANDFIELD', k, '-1'], map: shape },
      { cmd: ['HRANDFIELD', k, '1', 'WITHVALUES'], map: shape }, { cmd: ['HRANDFIELD', k, '-7', 'WITHVALUES'], map: shape },
      { cmd: ['HRANDFIELD', k, '-7'], map: shape }, { cmd: ['HRANDFIELD', k, '3'], map: shape },
      { cmd: ['HRANDFIELD', k, '3', 'WITHVALUES'], map: shape }, { cmd: ['HRANDFIELD', k, '2', 'WITHVALUES'], map: shape },
    ];
    t.same(await run([
      ['HRANDFIELD', 'missing', '-9223372036854775808'], ['HRANDFIELD', 'missing', '1', 'x'], ['HRANDFIELD', 'missing', 'x'],
      ['HRANDFIELD', 'missing'], ['HRANDFIELD', 'missing', '0'], ['HRANDFIELD', 'missing', '-5', 'WITHVALUES'],
      ['HSET', 'small', ...fields(5)], ['HSET', 'big', ...fields(700)],
      ...common('small'), ...common('big'),
      ['HRANDFIELD', 'small', '5'], ['HRANDFIELD', 'small', '9223372036854775807'], ['HRANDFIELD', 'small', '6', 'WITHVALUES'],
      ['HRANDFIELD', 'small', '4611686018427387903', 'WITHVALUES'],
      { cmd: ['HRANDFIELD', 'big', '700'], unordered: true }, { cmd: ['HRANDFIELD', 'big', '701', 'WITHVALUES'], unorderedPairs: true },
      hello('3'), ...common('small'), ...common('big'), ['HRANDFIELD', 'small', '5', 'WITHVALUES'], hello('2'),
    ]), []);
  });

  t.test('HRANDFIELD picks: membership, distinctness, fairness', async (t) => {
    await run([['HSET', 'lp', ...fields(10)], ['HSET', 'ht', ...fields(10)], ['CONFIG', 'SET', 'hash-max-listpack-entries', '0'],
      ['HSET', 'ht2', ...fields(10)], ['HSET', 'ht3', ...fields(300)], ['CONFIG', 'SET', 'hash-max-listpack-entries', '512']]);
    t.equal(text(await w.command('OBJECT', 'ENCODING', 'ht2')), '$9\r\nhashtable\r\n');
    const picks = async (...cmd: string[]) => parseResp(text(await w.command(...cmd))).items.map((i) => i.text);
    for (const key of ['lp', 'ht2', 'ht3']) {
      const n = key === 'ht3' ? 300 : 10;
      for (const count of [1, 2, 5, 8, 9, 10, 99, 150, 290]) {
        if (count > n) continue;
        const got = await picks('HRANDFIELD', key, String(count), 'WITHVALUES');
        t.equal(got.length, count * 2, `${key} ${count} length`);
        const seen = new Set<string>();
        const wrong: string[] = [];
        for (let i = 0; i < got.length; i += 2) {
          if (got[i + 1] !== `v${got[i].slice(1)}`) wrong.push(`${got[i]}=${got[i + 1]}`);
          seen.add(got[i]);
        }
        t.same(wrong, [], `${key} ${count}: values belong to their fields`);
        t.equal(seen.size, count, `${key} ${count}: distinct fields`);
      }
      // Chi-square over 10 fields with 1000 picks, as Redis's hash.tcl (threshold 40).
      if (n === 10) {
        for (const cmd of [['HRANDFIELD', key, '-1000'], ['HRANDFIELD', key, '-1000', 'WITHVALUES']]) {
          const got = await picks(...cmd);
          const step = cmd.length === 4 ? 2 : 1;
          const counts = new Map<string, number>();
          for (let i = 0; i < got.length; i += step) counts.set(got[i], (counts.get(got[i]) ?? 0) + 1);
          t.equal(got.length, 1000 * step);
          let chi = 0;
          for (let i = 0; i < 10; i++) chi += ((counts.get(`f${i}`) ?? 0) - 100) ** 2 / 100;
          t.ok(chi < 40, `${key} ${cmd.join(' ')} chi-square ${chi.toFixed(1)}`);
        }
        // Repeated small positive counts cover every field (lpRandomPairsUnique / dict paths).
        const hits = new Map<string, number>();
        for (let i = 0; i < 300; i++) for (const f of await picks('HRANDFIELD', key, '3')) hits.set(f, (hits.get(f) ?? 0) + 1);
        let chi = 0;
        for (let i = 0; i < 10; i++) chi += ((hits.get(`f${i}`) ?? 0) - 90) ** 2 / 90;
        t.ok(chi < 40, `${key} HRANDFIELD 3 chi-square ${chi.toFixed(1)}`);
      }
    }
  });

  t.test('HSCAN: cursors, options, errors, listpack replies', async (t) => {
    t.same(await run([
      ['HSCAN', 'missing', '0'], ['HSCAN', 'missing', 'x'], ['HSCAN', 'missing', '0', 'COUNT', '0'], ['HSCAN', 'missing', '0', 'bad'],
      ['HSET', 'h', 'foo', '1', 'bar', '2', 'fab', '3', 'baz', '4', '1', 'one'],
      ['HSCAN', 'h', '0'], ['HSCAN', 'h', ''], ['HSCAN', 'h', '+0'], ['HSCAN', 'h', '-1'], ['HSCAN', 'h', '12345'],
      ['HSCAN', 'h', '18446744073709551615'], ['HSCAN', 'h', '18446744073709551616'], ['HSCAN', 'h', '-18446744073709551615'],
      ['HSCAN', 'h', '-18446744073709551616'], ['HSCAN', 'h', '99999999999999999999999'],
      ['HSCAN', 'h', 'x'], ['HSCAN', 'h', '-'], ['HSCAN', 'h', '+'], ['HSCAN', 'h', ' 1'], ['HSCAN', 'h', '1 '], ['HSCAN', 'h', '0x1'],
      ['HSCAN', 'h', '1.5'], ['HSCAN', 'h', 'x', 'COUNT', '0'],
      ['HSCAN', 'h', '0', 'MATCH', 'f*'], ['HSCAN', 'h', '0', 'match', '*a*', 'count', '1'], ['HSCAN', 'h', '0', 'MATCH', '*'],
      ['HSCAN', 'h', '0', 'MATCH', 'nothing'], ['HSCAN', 'h', '0', 'MATCH', 'b?[rz]'], ['HSCAN', 'h', '0', 'MATCH', '1'],
      ['HSCAN', 'h', '0', 'COUNT', '1'], ['HSCAN', 'h', '0', 'COUNT', '0'], ['HSCAN', 'h', '0', 'COUNT', '-1'],
      ['HSCAN', 'h', '0', 'COUNT', 'x'], ['HSCAN', 'h', '0', 'COUNT', '9223372036854775807'], ['HSCAN', 'h', '0', 'COUNT', '9223372036854775808'],
      ['HSCAN', 'h', '0', 'COUNT'], ['HSCAN', 'h', '0', 'MATCH'], ['HSCAN', 'h', '0', 'TYPE', 'string'], ['HSCAN', 'h', '0', 'x', 'y'],
      ['HSCAN', 'h', '0', 'MATCH', 'f*', 'MATCH', 'b*'], ['HSCAN', 'h', '0', 'COUNT', '5', 'COUNT', '0'],
      ['HSCAN', 'h', '0', 'COUNT', '0', 'MATCH'],
      hello('3'), ['HSCAN', 'h', '0'], ['HSCAN', 'missing', '0'], hello('2'),
    ]), []);
  });

  t.test('HSCAN over hashtables: complete iterations of big hashes', async (t) => {
    await run([['HSET', 'big', ...fields(2000)], ['HSET', 'ht', ...fields(600)]]);
    const [encW, encR] = await both('OBJECT', 'ENCODING', 'big');
    t.equal(text(encW), text(encR));
    for (const extra of [[], ['COUNT', '1'], ['COUNT', '100'], ['MATCH', 'f1*'], ['MATCH', '*7', 'COUNT', '50']]) {
      const [a, b] = await Promise.all([scanAll(w, 'big', extra), scanAll(r, 'big', extra)]);
      const norm = (p: [string, string][]) => [...new Set(p.map(([f, v]) => `${f}=${v}`))].sort();
      t.same(norm(a.pairs), norm(b.pairs), `HSCAN big ${extra.join(' ')}: same elements`);
      for (const [f, v] of a.pairs) if (v !== `v${f.slice(1)}`) t.fail(`wrong value ${f}=${v}`);
      if (extra.length === 0) t.ok(a.calls > 50 && a.calls < 1000, `default COUNT takes many calls (${a.calls})`);
    }
    // A big COUNT returns everything at once, cursor 0.
    t.same(await diffScript(w, r, [{ cmd: ['HSCAN', 'big', '0', 'COUNT', '5000'], map: sortedScan },
      { cmd: ['HSCAN', 'ht', '0', 'COUNT', '100000', 'MATCH', 'f5*'], map: sortedScan },
      { cmd: ['HSCAN', 'ht', '0', 'COUNT', '9223372036854775807'], map: sortedScan },
      { cmd: ['HSCAN', 'ht', '0', 'COUNT', '0'] }, { cmd: ['HSCAN', 'ht', 'x'] }]), []);
    // Fields present for the whole scan are returned while others come and go and the table resizes.
    let cursor = '0';
    const seen = new Set<string>();
    let round = 0;
    do {
      const reply = parseResp(text(await w.command('HSCAN', 'big', cursor, 'COUNT', '20')));
      cursor = reply.items[0].text;
      for (let i = 0; i < reply.items[1].items.length; i += 2) seen.add(reply.items[1].items[i].text);
      round++;
      if (round % 2 === 0) await w.command('HSET', 'big', ...fields(200, `tmp${round}_`));
      else if (round > 2) await w.command('HDEL', 'big', ...fields(200, `tmp${round - 1}_`).filter((_, i) => i % 2 === 0));
    } while (cursor !== '0');
    const missing: string[] = [];
    for (let i = 0; i < 2000; i++) if (!seen.has(`f${i}`)) missing.push(`f${i}`);
    t.same(missing, [], 'every field present throughout was returned');
    // Shrinking underneath a scan: delete most fields half way.
    cursor = '0';
    seen.clear();
    round = 0;
    do {
      const reply = parseResp(text(await w.command('HSCAN', 'ht', cursor)));
      cursor = reply.items[0].text;
      for (let i = 0; i < reply.items[1].items.length; i += 2) seen.add(reply.items[1].items[i].text);
      if (++round === 10) await w.command('HDEL', 'ht', ...fields(590).filter((_, i) => i % 2 === 0));
    } while (cursor !== '0');
    for (let i = 590; i < 600; i++) t.ok(seen.has(`f${i}`), `f${i} returned across the shrink`);
  });

  t.test('randomized model test against redis-server', async (t) => {
    const seed = Number(process.env.WEFT_SEED ?? Math.floor(Math.random() * 2 ** 31));
    t.comment(`seed ${seed} (WEFT_SEED=${seed} to replay)`);
    const rnd = prng(seed);
    const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
    const keys = ['k0', 'k1', 'k2', 'k3', 'str'];
    const field = () => `f${Math.floor(rnd() * (rnd() < 0.2 ? 40 : 12))}`;
    const value = () => pick([() => String(Math.floor(rnd() * 100) - 50), () => `v${Math.floor(rnd() * 1000)}`,
      () => 'x'.repeat(Math.floor(rnd() * 40)), () => (rnd() * 10).toFixed(3), () => '', () => '9223372036854775807'])();
    const gen = (): Step => {
      const k = pick(keys);
      const r = rnd();
      if (r < 0.25) {
        const n = 1 + Math.floor(rnd() * 4);
        const args: string[] = [];
        for (let i = 0; i < n; i++) args.push(field(), value());
        return [pick(['HSET', 'HSET', 'HMSET']), k, ...args];
      }
      if (r < 0.32) return ['HSETNX', k, field(), value()];
      if (r < 0.42) return ['HGET', k, field()];
      if (r < 0.47) return ['HMGET', k, field(), field(), field()];
      if (r < 0.57) {
        const n = 1 + Math.floor(rnd() * 3);
        return ['HDEL', k, ...Array.from({ length: n }, field)];
      }
      if (r < 0.6) return ['HLEN', k];
      if (r < 0.63) return ['HSTRLEN', k, field()];
      if (r < 0.66) return ['HEXISTS', k, field()];
      if (r < 0.72) return ['HINCRBY', k, field(), String(Math.floor(rnd() * 2000) - 1000)];
      if (r < 0.77) return ['HINCRBYFLOAT', k, field(), pick(['0.1', '-2.5', '1e3', '3', '0.3333333333333333333'])];
      if (r < 0.8) return { cmd: ['HKEYS', k], unordered: true };
      if (r < 0.83) return { cmd: ['HVALS', k], unordered: true };
      if (r < 0.87) return { cmd: ['HGETALL', k], unorderedPairs: true };
      if (r < 0.9) return ['OBJECT', 'ENCODING', k];
      if (r < 0.92) return { cmd: ['HRANDFIELD', k, '1000', 'WITHVALUES'], map: sortedResp3Pairs };
      if (r < 0.94) return { cmd: ['HRANDFIELD', k, String(Math.floor(rnd() * 9) - 4)], map: shape };
      if (r < 0.96) return { cmd: ['HSCAN', k, '0', 'COUNT', '1000'], map: sortedScan };
      if (r < 0.97) return { cmd: ['HSCAN', k, '0', 'MATCH', pick(['f1*', '*2', 'f?']), 'COUNT', '1000'], map: sortedScan };
      if (r < 0.98) return ['EXISTS', k];
      if (r < 0.99) return ['DEL', k];
      return ['SET', 'str', 'x'];
    };
    await run([['CONFIG', 'SET', 'hash-max-listpack-entries', '16'], ['CONFIG', 'SET', 'hash-max-listpack-value', '24'],
      ['SET', 'str', 'x']]);
    const encodings = new Set<string>();
    for (let phase = 0; phase < 8; phase++) {
      let diffs: Awaited<ReturnType<typeof diffScript>> = [];
      // The encodings are sampled (on weft only: OBJECT ENCODING changes nothing) every 100 steps.
      for (let chunk = 0; chunk < 10 && diffs.length === 0; chunk++) {
        const steps: Step[] = phase === 4 && chunk === 0 ? [hello('3')] : [];
        for (let i = 0; i < 100; i++) steps.push(gen());
        diffs = await diffScript(w, r, steps);
        for (const k of keys.slice(0, 4)) encodings.add(text(await w.command('OBJECT', 'ENCODING', k)));
      }
      t.same(diffs.slice(0, 5), [], `seed ${seed}, phase ${phase}`);
      if (diffs.length) break;
    }
    await diffScript(w, r, [hello('2')]);
    t.ok(encodings.has('$8\r\nlistpack\r\n') && encodings.has('$9\r\nhashtable\r\n'), 'both encodings were exercised');
    await diffScript(w, r, [['CONFIG', 'SET', 'hash-max-listpack-entries', '512'], ['CONFIG', 'SET', 'hash-max-listpack-value', '64']]);
  });
}

/** Map: an HRANDFIELD WITHVALUES reply covering the whole hash, pairs sorted (RESP2 flat or RESP3 nested). */
function sortedResp3Pairs(reply: string): string {
  const p = parseResp(reply);
  if (p.type !== '*') return reply;
  if (p.items.length && p.items[0].type === '*') return `*${p.items.map((i) => i.raw).sort().join('')}`;
  const pairs: string[] = [];
  for (let i = 0; i + 1 < p.items.length; i += 2) pairs.push(p.items[i].raw + p.items[i + 1].raw);
  return `*${pairs.sort().join('')}`;
}
