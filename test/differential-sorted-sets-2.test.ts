/**
 * The sorted-set family against Redis 7.0.15, second part: the algebra
 * (ZUNION, ZINTER, ZDIFF, ZINTERCARD and the STORE forms, with plain sets
 * as inputs), ZRANDMEMBER (its shapes, counts and members: the picks
 * themselves are random), ZSCAN (one reply for a listpack; a full iteration
 * compared as a set of pairs for a skiplist, whose order is hash order), and
 * a seeded randomized model test of thousands of commands, every reply
 * compared (set WEFT_ZSET_SEED to replay a failure).
 */
import t from 'tap';
import { RawClient, requireRedisTools } from './helpers/servers.js';
import { connectPair, diffScript, parseResp, startPair, type Step } from './helpers/differential.js';
import { prng } from './helpers/prng.js';

/** Sources of every kind: listpack and skiplist zsets, intset and hashtable sets, a string. */
function algebraSources(): Step[] {
  const big: string[] = [];
  for (let i = 0; i < 140; i++) big.push(String(i % 7), `m${i}`);
  return [
    ['ZADD', 'za', '1', 'a', '2', 'b', '3', 'c', '4', 'd'],
    ['ZADD', 'zb', '10', 'b', '20', 'c', '30', 'x', 'inf', 'y'],
    ['ZADD', 'zc', '0.1', 'a', '0.2', 'b', '0.3', 'c', '-inf', 'y'],
    ['ZADD', 'zbig', ...big, '5', 'a', '6', 'b'],
    ['SADD', 'si', '1', '2', '3', '10'],
    ['SADD', 'sh', 'a', 'c', 'x', '1'],
    ['ZADD', 'zn', '1', '1', '2', '2', '5', '01'],
    ['SET', 'str', 'v'],
  ];
}

function algebraSteps(): Step[] {
  const steps: Step[] = algebraSources();
  const inputs = [['za'], ['za', 'zb'], ['zb', 'za'], ['za', 'zb', 'zc'], ['zc', 'zb', 'za'], ['za', 'missing'], ['missing', 'za'],
    ['za', 'si'], ['si', 'sh'], ['sh', 'za', 'zb'], ['zn', 'si'], ['si', 'zn'], ['zbig', 'za', 'sh'], ['za', 'za'], ['zbig', 'zbig', 'zc']];
  for (const keys of inputs) {
    const n = String(keys.length);
    const ones = keys.map(() => '1');
    const weights = keys.map((_, i) => ['2', '0.5', '-1'][i % 3]);
    steps.push(['ZUNION', n, ...keys], ['ZUNION', n, ...keys, 'WITHSCORES'], ['ZINTER', n, ...keys, 'WITHSCORES'],
      ['ZDIFF', n, ...keys, 'WITHSCORES'], ['ZINTERCARD', n, ...keys], ['ZINTERCARD', n, ...keys, 'LIMIT', '1'],
      ['ZUNION', n, ...keys, 'WEIGHTS', ...weights, 'WITHSCORES'], ['ZINTER', n, ...keys, 'WEIGHTS', ...weights, 'AGGREGATE', 'MAX', 'WITHSCORES'],
      ['ZUNION', n, ...keys, 'AGGREGATE', 'MIN', 'WITHSCORES'], ['ZUNION', n, ...keys, 'WEIGHTS', ...ones, 'AGGREGATE', 'sum', 'WITHSCORES'],
      ['ZUNIONSTORE', 'd', n, ...keys, 'WEIGHTS', ...weights], ['ZRANGE', 'd', '0', '-1', 'WITHSCORES'], ['OBJECT', 'ENCODING', 'd'],
      ['ZINTERSTORE', 'd', n, ...keys, 'AGGREGATE', 'MIN'], ['ZRANGE', 'd', '0', '-1', 'WITHSCORES'], ['EXISTS', 'd'],
      ['ZDIFFSTORE', 'd', n, ...keys], ['ZRANGE', 'd', '0', '-1', 'WITHSCORES'], ['EXISTS', 'd']);
  }
  steps.push(
    // inf * 0 is NaN, counted as 0; inf + -inf sums to 0.
    ['ZUNION', '2', 'zb', 'zc', 'WITHSCORES'],
    ['ZUNION', '2', 'zb', 'zc', 'WEIGHTS', '0', '1', 'WITHSCORES'],
    ['ZINTER', '2', 'zb', 'zc', 'WEIGHTS', 'inf', '0', 'WITHSCORES'],
    ['ZINTER', '2', 'zb', 'zc', 'WEIGHTS', '1', '-1', 'AGGREGATE', 'MAX', 'WITHSCORES'],
    ['ZUNION', '3', 'za', 'zc', 'zc', 'WEIGHTS', '0.1', '0.2', '0.7', 'WITHSCORES'],
    ['ZUNION', '3', 'zc', 'za', 'zc', 'WEIGHTS', '0.7', '0.1', '0.2', 'WITHSCORES'],
    ['ZUNION', '2', 'za', 'zb', 'WEIGHTS', '0x10', '1e1', 'WITHSCORES'],
    ['ZUNION', '2', 'za', 'zb', 'WEIGHTS', '1'],
    ['ZUNION', '2', 'za', 'zb', 'WEIGHTS', '1', 'x'],
    ['ZUNION', '2', 'za', 'zb', 'WEIGHTS', '1', 'nan'],
    ['ZUNION', '2', 'za', 'zb', 'AGGREGATE', 'avg'],
    ['ZUNION', '2', 'za', 'zb', 'AGGREGATE'],
    ['ZUNION', '2', 'za', 'zb', 'WITHSCORES', 'WITHSCORES'],
    ['ZUNION', '2', 'za', 'zb', 'FOO'],
    ['ZUNION', '2', 'za', 'str', 'WEIGHTS', 'x', 'y'],
    ['ZUNION', '2', 'str', 'missing'],
    ['ZUNION', '2', 'missing', 'str'],
    ['ZUNION', '0', 'za'],
    ['ZUNION', '-1', 'za'],
    ['ZUNION', 'x', 'za'],
    ['ZUNION', '3', 'za', 'zb'],
    ['ZUNION', '1'],
    ['ZINTER', '0', 'za'],
    ['ZDIFF', '0', 'za'],
    ['ZDIFF', '2', 'za', 'zb', 'WEIGHTS', '1', '1'],
    ['ZDIFF', '2', 'za', 'zb', 'AGGREGATE', 'SUM'],
    ['ZDIFF', '1', 'za', 'WITHSCORES'],
    ['ZINTERCARD', '0', 'za'],
    ['ZINTERCARD', '3', 'za', 'zb'],
    ['ZINTERCARD', 'x', 'za'],
    ['ZINTERCARD', '2', 'za', 'zb', 'LIMIT', '-1'],
    ['ZINTERCARD', '2', 'za', 'zb', 'LIMIT', 'x'],
    ['ZINTERCARD', '2', 'za', 'zb', 'LIMIT', '0'],
    ['ZINTERCARD', '2', 'za', 'zb', 'LIMIT'],
    ['ZINTERCARD', '2', 'za', 'zb', 'WITHSCORES'],
    ['ZINTERCARD', '2', 'za', 'zb', 'WEIGHTS', '1', '1'],
    ['ZINTERCARD', '2', 'za', 'str'],
    ['ZUNIONSTORE', 'd', '2', 'za', 'zb', 'WITHSCORES'],
    ['ZUNIONSTORE', 'd', '0', 'za'],
    ['ZUNIONSTORE', 'd', '2', 'za'],
    ['ZUNIONSTORE', 'd', '2', 'za', 'str'],
    ['ZINTERSTORE', 'd', '2', 'za', 'zb', 'WEIGHTS', '1'],
    ['ZDIFFSTORE', 'd', '2', 'za', 'zb', 'WEIGHTS', '1', '1'],
    ['SET', 'sd', 'v', 'EX', '100'],
    ['ZUNIONSTORE', 'sd', '1', 'za'],
    ['TYPE', 'sd'],
    ['TTL', 'sd'],
    ['ZINTERSTORE', 'sd', '2', 'za', 'missing'],
    ['EXISTS', 'sd'],
    ['ZUNIONSTORE', 'za', '2', 'za', 'zb'],
    ['ZRANGE', 'za', '0', '-1', 'WITHSCORES'],
    ['ZUNIONSTORE', 'big', '2', 'zbig', 'za'],
    ['OBJECT', 'ENCODING', 'big'],
    ['ZDIFFSTORE', 'small', '2', 'zbig', 'zb'],
    ['OBJECT', 'ENCODING', 'small'],
    ['ZCARD', 'small'],
    ['ZINTERSTORE', 'tiny', '2', 'zbig', 'za'],
    ['OBJECT', 'ENCODING', 'tiny'],
    ['ZUNION'],
    ['ZUNIONSTORE', 'd', '1'],
  );
  return steps;
}

/** A map for replies that hold random members of a known zset: shape, count, membership, scores and distinctness. */
function randomShape(scores: Map<string, string>, distinct: boolean, withScores: boolean): (reply: string) => string {
  return (reply) => {
    const p = parseResp(reply);
    if (p.type === '$') return scores.has(p.text) ? '$member' : reply;
    if (p.type !== '*') return reply;
    const nested = p.items.length > 0 && p.items[0].type === '*';
    const pairs: [string, string | null][] = [];
    if (nested) for (const it of p.items) pairs.push([it.items[0].text, it.items[1].text]);
    else if (withScores) for (let i = 0; i + 1 < p.items.length; i += 2) pairs.push([p.items[i].text, p.items[i + 1].text]);
    else for (const it of p.items) pairs.push([it.text, null]);
    const ok = pairs.every(([m, sc]) => scores.has(m) && (sc === null || scores.get(m) === sc));
    const unique = new Set(pairs.map((x) => x[0])).size === pairs.length;
    return `*${p.items.length} nested=${nested} ok=${ok} distinct=${distinct ? unique : '-'}`;
  };
}

function randomMemberSteps(skiplist: boolean): Step[] {
  const scores = new Map<string, string>([['a', '1'], ['b', '2.5'], ['c', '3'], ['d', '-1'], ['e', 'inf']]);
  const fill: Step = ['ZADD', 'rz', ...[...scores].flatMap(([m, s]) => [s, m])];
  const shape = (cmd: string[], distinct: boolean): Step => ({ cmd, map: randomShape(scores, distinct, cmd.length === 4) });
  const steps: Step[] = skiplist ? [['CONFIG', 'SET', 'zset-max-ziplist-entries', '0'], fill] : [fill];
  for (const resp of ['2', '3']) {
    steps.push({ cmd: ['HELLO', resp], map: (r) => r.slice(0, 1) });
    steps.push(shape(['ZRANDMEMBER', 'rz'], false));
    for (const n of ['1', '2', '4', '-1', '-3', '-20']) {
      steps.push(shape(['ZRANDMEMBER', 'rz', n], !n.startsWith('-')), shape(['ZRANDMEMBER', 'rz', n, 'WITHSCORES'], !n.startsWith('-')));
    }
    // Counts at or past the size return the whole set, from the highest score down.
    steps.push(['ZRANDMEMBER', 'rz', '5'], ['ZRANDMEMBER', 'rz', '6', 'WITHSCORES'], ['ZRANDMEMBER', 'rz', '100', 'withscores'],
      ['ZRANDMEMBER', 'rz', '0'], ['ZRANDMEMBER', 'rz', '0', 'WITHSCORES'], ['ZRANDMEMBER', 'missing'], ['ZRANDMEMBER', 'missing', '5'],
      ['ZRANDMEMBER', 'missing', '-5', 'WITHSCORES'], ['ZRANDMEMBER', 'missing', '0']);
  }
  const wide = new Map<string, string>();
  for (let i = 0; i < 40; i++) wide.set(`w${i}`, String(i));
  steps.push(['ZADD', 'rw', ...[...wide].flatMap(([m, sc]) => [sc, m])]);
  for (const n of ['5', '13', '14', '39', '-50']) {
    steps.push({ cmd: ['ZRANDMEMBER', 'rw', n, 'WITHSCORES'], map: randomShape(wide, !n.startsWith('-'), true) },
      { cmd: ['ZRANDMEMBER', 'rw', n], map: randomShape(wide, !n.startsWith('-'), false) });
  }
  steps.push(
    ['SET', 'str', 'v'],
    ['ZRANDMEMBER', 'str'],
    ['ZRANDMEMBER', 'str', '1'],
    ['ZRANDMEMBER', 'rz', 'x'],
    ['ZRANDMEMBER', 'rz', '1.5'],
    ['ZRANDMEMBER', 'rz', '1', 'FOO'],
    ['ZRANDMEMBER', 'rz', 'x', 'FOO'],
    ['ZRANDMEMBER', 'rz', '1', 'WITHSCORES', 'x'],
    ['ZRANDMEMBER', 'rz', '-9223372036854775808'],
    ['ZRANDMEMBER', 'rz', '-9223372036854775808', 'WITHSCORES'],
    ['ZRANDMEMBER', 'rz', '9223372036854775808'],
    ['ZRANDMEMBER', 'rz', '9223372036854775807', 'WITHSCORES'],
    ['ZRANDMEMBER', 'rz', '4611686018427387904', 'WITHSCORES'],
    ['ZRANDMEMBER', 'rz', '-4611686018427387904', 'WITHSCORES'],
    ['ZRANDMEMBER', 'rz', '4611686018427387903', 'WITHSCORES'],
    ['ZRANDMEMBER', 'missing', '4611686018427387904', 'WITHSCORES'],
    ['ZRANDMEMBER'],
  );
  return steps;
}

/** ZSCAN of a listpack: everything in one reply with cursor 0, whatever COUNT says. */
function zscanListpackSteps(): Step[] {
  return [
    ['ZADD', 'sz', '1', 'a', '2.5', 'b', '-0', 'c', 'inf', 'd', '1e20', 'key:1', '3', 'key:2'],
    ['ZSCAN', 'sz', '0'],
    ['ZSCAN', 'sz', '0', 'COUNT', '1'],
    ['ZSCAN', 'sz', '17', 'MATCH', 'key:*'],
    ['ZSCAN', 'sz', '0', 'MATCH', 'nothing*', 'COUNT', '2'],
    ['ZSCAN', 'missing', '0'],
    ['ZSCAN', 'missing', 'x'],
    ['ZSCAN', 'sz', 'x'],
    ['ZSCAN', 'sz', '-1'],
    ['ZSCAN', 'sz', '0', 'COUNT', '0'],
    ['ZSCAN', 'sz', '0', 'COUNT', 'x'],
    ['ZSCAN', 'sz', '0', 'MATCH'],
    ['ZSCAN', 'sz', '0', 'FOO', 'bar'],
    ['SET', 'str', 'v'],
    ['ZSCAN', 'str', '0'],
    ['ZSCAN', 'str', 'x'],
    ['ZSCAN', 'sz'],
    { cmd: ['HELLO', '3'], map: (r) => r.slice(0, 1) },
    ['ZSCAN', 'sz', '0'],
    { cmd: ['HELLO', '2'], map: (r) => r.slice(0, 1) },
  ];
}

/** Every [member, score] pair a full ZSCAN iteration returns, sorted, and whether it ended at cursor 0. */
async function scanAll(c: RawClient, key: string, extra: string[]): Promise<string> {
  let cursor = '0';
  const pairs = new Set<string>();
  let calls = 0;
  do {
    const p = parseResp((await c.command('ZSCAN', key, cursor, ...extra)).toString('latin1'));
    if (p.type !== '*') return p.raw;
    cursor = p.items[0].text;
    const items = p.items[1].items;
    for (let i = 0; i < items.length; i += 2) pairs.add(`${items[i].text}=${items[i + 1].text}`);
  } while (cursor !== '0' && ++calls < 10000);
  return [...pairs].sort().join(',');
}

// ---- the randomized model test ----

const SCORES = ['0', '1', '2', '2.5', '-1', '-3.75', '1e20', '0.1', 'inf', '-inf', '-0', '7', '100', '0.30000000000000004', '3'];
const MEMBERS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'aa', 'ab', 'x', '1', '2', '10', ''];
const LEX_MEMBERS = ['a', 'b', 'c', 'd', 'aa', 'ab', 'abc', 'b1', 'zz', '', 'B', '0'];
const KEYS = ['k0', 'k1', 'k2', 'k3'];
const LEX_KEYS = ['l0', 'l1'];
const SET_KEYS = ['s0', 's1'];

/** A generator of random sorted-set commands (lex ranges only on sets whose scores are all 0, as Redis's contract wants). */
function commandGenerator(seed: number): () => string[] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(a: T[]): T => a[int(a.length)];
  const score = () => (rnd() < 0.7 ? pick(SCORES) : String(int(2000) / 8 - 100));
  const member = () => (rnd() < 0.5 ? pick(MEMBERS) : `w${int(400)}`);
  const rangeEnd = () => (rnd() < 0.3 ? '(' : '') + (rnd() < 0.7 ? pick(['-inf', '+inf', '0', '1', '2', '2.5', '-1', '100', '3', '1e20']) : String(int(300) - 100));
  const lexEnd = () => pick(['-', '+', '[a', '(a', '[ab', '(b', '[b1', '[zz', '(0', '[']);
  const index = () => String(rnd() < 0.5 ? int(12) - 6 : int(500) - 250);
  const keys = (pool: string[]) => {
    const n = 1 + int(3);
    return [String(n), ...Array.from({ length: n }, () => pick(pool))];
  };
  const maybeLimit = () => (rnd() < 0.4 ? ['LIMIT', String(int(5) - 1), String(int(6) - 2)] : []);
  const gens: (() => string[])[] = [
    () => {
      const opts = [...(rnd() < 0.2 ? [pick(['NX', 'XX'])] : []), ...(rnd() < 0.2 ? [pick(['GT', 'LT'])] : []), ...(rnd() < 0.2 ? ['CH'] : [])];
      const pairs = rnd() < 0.15 ? ['INCR', score(), member()] : Array.from({ length: 1 + int(rnd() < 0.1 ? 60 : 4) }, () => [score(), member()]).flat();
      return ['ZADD', pick(KEYS), ...opts, ...pairs];
    },
    () => ['ZADD', pick(LEX_KEYS), ...Array.from({ length: 1 + int(4) }, () => ['0', pick(LEX_MEMBERS)]).flat()],
    () => ['ZINCRBY', pick(KEYS), score(), member()],
    () => ['ZREM', pick([...KEYS, ...LEX_KEYS]), member(), pick(LEX_MEMBERS)],
    () => ['ZCARD', pick(KEYS)],
    () => ['ZSCORE', pick(KEYS), member()],
    () => ['ZMSCORE', pick(KEYS), member(), member()],
    () => [pick(['ZRANK', 'ZREVRANK']), pick([...KEYS, ...LEX_KEYS]), member()],
    () => ['ZCOUNT', pick(KEYS), rangeEnd(), rangeEnd()],
    () => ['ZLEXCOUNT', pick(LEX_KEYS), lexEnd(), lexEnd()],
    () => ['ZRANGE', pick([...KEYS, ...LEX_KEYS]), index(), index(), ...(rnd() < 0.5 ? ['REV'] : []), ...(rnd() < 0.5 ? ['WITHSCORES'] : [])],
    () => ['ZRANGE', pick(KEYS), rangeEnd(), rangeEnd(), 'BYSCORE', ...(rnd() < 0.5 ? ['REV'] : []), ...maybeLimit(), ...(rnd() < 0.5 ? ['WITHSCORES'] : [])],
    () => ['ZRANGE', pick(LEX_KEYS), lexEnd(), lexEnd(), 'BYLEX', ...(rnd() < 0.5 ? ['REV'] : []), ...maybeLimit()],
    () => [pick(['ZRANGEBYSCORE', 'ZREVRANGEBYSCORE']), pick(KEYS), rangeEnd(), rangeEnd(), 'WITHSCORES', ...maybeLimit()],
    () => [pick(['ZRANGEBYLEX', 'ZREVRANGEBYLEX']), pick(LEX_KEYS), lexEnd(), lexEnd(), ...maybeLimit()],
    () => ['ZRANGESTORE', pick(KEYS), pick(KEYS), rangeEnd(), rangeEnd(), 'BYSCORE', ...maybeLimit()],
    () => ['ZRANGESTORE', pick(LEX_KEYS), pick(LEX_KEYS), lexEnd(), lexEnd(), 'BYLEX', ...(rnd() < 0.5 ? ['REV'] : [])],
    () => ['ZRANGESTORE', pick(KEYS), pick(KEYS), index(), index()],
    () => ['ZREMRANGEBYRANK', pick([...KEYS, ...LEX_KEYS]), index(), index()],
    () => ['ZREMRANGEBYSCORE', pick(KEYS), rangeEnd(), rangeEnd()],
    () => ['ZREMRANGEBYLEX', pick(LEX_KEYS), lexEnd(), lexEnd()],
    () => [pick(['ZPOPMIN', 'ZPOPMAX']), pick([...KEYS, ...LEX_KEYS]), ...(rnd() < 0.5 ? [String(int(rnd() < 0.2 ? 40 : 4))] : [])],
    () => ['ZMPOP', ...keys([...KEYS, ...LEX_KEYS]), pick(['MIN', 'MAX']), ...(rnd() < 0.5 ? ['COUNT', String(1 + int(3))] : [])],
    () => {
      const k = keys([...KEYS, ...SET_KEYS]);
      const n = Number(k[0]);
      const opts = [...(rnd() < 0.4 ? ['WEIGHTS', ...Array.from({ length: n }, () => pick(['1', '2', '0.5', '-1', '0', 'inf']))] : []),
        ...(rnd() < 0.4 ? ['AGGREGATE', pick(['SUM', 'MIN', 'MAX'])] : [])];
      return rnd() < 0.5 ? [pick(['ZUNIONSTORE', 'ZINTERSTORE']), pick(KEYS), ...k, ...opts] : [pick(['ZUNION', 'ZINTER']), ...k, ...opts, 'WITHSCORES'];
    },
    () => (rnd() < 0.5 ? ['ZDIFFSTORE', pick(KEYS), ...keys([...KEYS, ...SET_KEYS])] : ['ZDIFF', ...keys([...KEYS, ...SET_KEYS]), 'WITHSCORES']),
    () => ['ZINTERCARD', ...keys([...KEYS, ...SET_KEYS]), ...(rnd() < 0.5 ? ['LIMIT', String(int(3))] : [])],
    () => ['SADD', pick(SET_KEYS), member(), pick(MEMBERS)],
    () => ['OBJECT', 'ENCODING', pick([...KEYS, ...LEX_KEYS])],
    () => ['CONFIG', 'SET', 'zset-max-ziplist-entries', pick(['0', '2', '5', '128', '128'])],
    () => ['DEL', pick([...KEYS, ...LEX_KEYS])],
  ];
  const weights = [10, 4, 3, 3, 1, 2, 1, 2, 2, 2, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1, 2, 2, 3, 2, 2, 1, 2, 1, 1];
  const total = weights.reduce((a, b) => a + b, 0);
  return () => {
    let r = int(total);
    for (let i = 0; i < gens.length; i++) {
      r -= weights[i];
      if (r < 0) return gens[i]();
    }
    return gens[0]();
  };
}

if (requireRedisTools(t)) {
  const pair = await startPair(t);
  const [w, r] = await connectPair(t, pair);
  const reset: Step[] = [['FLUSHALL'], ['CONFIG', 'SET', 'zset-max-listpack-entries', '128'], ['CONFIG', 'SET', 'zset-max-listpack-value', '64']];
  const run = async (steps: Step[]) => {
    await diffScript(w, r, reset);
    return diffScript(w, r, steps);
  };

  t.test('ZUNION, ZINTER, ZDIFF, ZINTERCARD and the STORE forms', async (t) => {
    t.same(await run(algebraSteps()), []);
    t.same(await run([['CONFIG', 'SET', 'zset-max-ziplist-entries', '0'], ...algebraSteps()]), []);
    t.same(await run([['CONFIG', 'SET', 'zset-max-ziplist-value', '0'], ['CONFIG', 'SET', 'set-max-intset-entries', '0'],
      ...algebraSteps(), ['CONFIG', 'SET', 'set-max-intset-entries', '512']]), []);
    t.same(await run([{ cmd: ['HELLO', '3'], map: (x) => x.slice(0, 1) }, ...algebraSources(), ['ZUNION', '2', 'za', 'zb', 'WITHSCORES'],
      ['ZINTER', '2', 'za', 'zb', 'WITHSCORES'], ['ZDIFF', '2', 'za', 'zb', 'WITHSCORES'], ['ZUNION', '2', 'za', 'zb'],
      { cmd: ['HELLO', '2'], map: (x) => x.slice(0, 1) }]), []);
  });

  t.test('ZRANDMEMBER shapes, counts and members', async (t) => {
    t.same(await run(randomMemberSteps(false)), []);
    t.same(await run(randomMemberSteps(true)), []);
  });

  t.test('ZRANDMEMBER picks uniformly (chi-square, as Redis\'s tests check)', async (t) => {
    for (const entries of ['128', '0']) {
      await w.command('FLUSHALL');
      await w.command('CONFIG', 'SET', 'zset-max-ziplist-entries', entries);
      await w.command('ZADD', 'u', ...Array.from({ length: 10 }, (_, i) => [String(i), `m${i}`]).flat());
      const counts = new Map<string, number>();
      const tally = (reply: Buffer) => {
        for (const item of parseResp(reply.toString('latin1')).items) counts.set(item.text, (counts.get(item.text) ?? 0) + 1);
      };
      tally(await w.command('ZRANDMEMBER', 'u', '-1000'));
      for (let i = 0; i < 250; i++) tally(await w.command('ZRANDMEMBER', 'u', '4'));
      const expected = 2000 / 10;
      let chi = 0;
      for (let i = 0; i < 10; i++) chi += ((counts.get(`m${i}`) ?? 0) - expected) ** 2 / expected;
      t.ok(chi < 40, `chi-square ${chi.toFixed(1)} with zset-max-ziplist-entries ${entries}`);
    }
  });

  t.test('ZSCAN', async (t) => {
    t.same(await run(zscanListpackSteps()), []);
    await run([['CONFIG', 'SET', 'zset-max-ziplist-entries', '0']]);
    const members: string[] = [];
    for (let i = 0; i < 300; i++) members.push(String(i % 13 === 0 ? -i : i / 8), `m${i}`);
    await diffScript(w, r, [['ZADD', 'big', ...members], ['ZADD', 'small', '1', 'a', '-0', 'b', '1.1', 'c']]);
    for (const [key, extra] of [['big', []], ['big', ['COUNT', '7']], ['big', ['MATCH', 'm1*', 'COUNT', '3']], ['small', []],
      ['big', ['COUNT', '1000']]] as [string, string[]][]) {
      const [a, b] = await Promise.all([scanAll(w, key, extra), scanAll(r, key, extra)]);
      t.equal(a, b, `ZSCAN ${key} ${extra.join(' ')}`);
    }
    // A big COUNT returns the whole skiplist in one call.
    const one = parseResp((await w.command('ZSCAN', 'big', '0', 'COUNT', '1000')).toString('latin1'));
    t.equal(one.items[0].text, '0');
    t.equal(one.items[1].items.length, 600);
  });

  t.test('seeded randomized model test against redis-server', async (t) => {
    const seed = Number(process.env.WEFT_ZSET_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const next = commandGenerator(seed);
    const steps: Step[] = [];
    for (let i = 0; i < 5000; i++) steps.push(next());
    const diffs = await run(steps);
    t.same(diffs.slice(0, 5), [], `seed ${seed} (replay with WEFT_ZSET_SEED=${seed})`);
  });
}
