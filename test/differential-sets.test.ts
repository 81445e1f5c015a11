/**
 * The set family (src/commands/sets.ts, set-algebra.ts over
 * src/store/set-value.ts) against Redis 7.0.15: every command, option and
 * error reply in RESP2 and RESP3, OBJECT ENCODING on both sides of the
 * intset limits (default and CONFIG SET), canonical and non-canonical
 * integers and the int64 extremes, the encodings *STORE and SPOP pick, both
 * SDIFF algorithms, big sets walked completely with SSCAN, the command
 * metadata, propagation to a replica, and a seeded randomized run.
 *
 * Replies in hash order are compared as multisets; intset replies (sorted)
 * byte for byte. SPOP and SRANDMEMBER are checked by shape, count,
 * membership and distinctness, each server against its own set.
 */
import t from 'tap';
import { RawClient, requireRedisTools, startWeft } from './helpers/servers.js';
import { connectPair, diffScript, parseResp, startPair, type Step } from './helpers/differential.js';
import { prngInt } from './helpers/prng.js';
import { sleep, waitFor } from './helpers/cluster.js';

const SET_COMMANDS = [
  'sadd', 'srem', 'scard', 'sismember', 'smismember', 'smembers', 'smove', 'spop', 'srandmember', 'sinter', 'sintercard',
  'sinterstore', 'sunion', 'sunionstore', 'sdiff', 'sdiffstore', 'sscan',
];

/** "from".."to" as decimal strings. */
const range = (from: number, to: number, step = 1): string[] => {
  const out: string[] = [];
  for (let i = from; i <= to; i += step) out.push(String(i));
  return out;
};
const unordered = (cmd: string[]): Step => ({ cmd, unordered: true });
const text = (b: Buffer): string => b.toString('latin1');
/** Map: a scan reply with its elements sorted (a hashtable's order differs between the servers). */
const sortedScan = (reply: string): string => {
  const p = parseResp(reply);
  return p.type === '*' && p.items.length === 2 ? p.items[0].raw + p.items[1].items.map((i) => i.raw).sort().join('') : reply;
};

/** The members of a SMEMBERS-like reply, or null when it is not an aggregate. */
function membersOf(reply: Buffer): string[] | null {
  const p = parseResp(text(reply));
  return '*~'.includes(p.type) ? p.items.map((i) => i.text) : null;
}

/**
 * Runs a random-output command (SPOP / SRANDMEMBER) on one server and
 * checks it against the set before (and after, for SPOP). Returns the
 * reply's shape (what both servers must agree on) and what was wrong.
 */
async function randomOutcome(c: RawClient, cmd: string[]): Promise<{ shape: string; problems: string[] }> {
  const key = cmd[1];
  const isPop = cmd[0].toUpperCase() === 'SPOP';
  const before = membersOf(await c.command('SMEMBERS', key));
  const raw = text(await c.command(...cmd));
  const p = parseResp(raw);
  const problems: string[] = [];
  const picked = p.type === '$' && raw !== '$-1\r\n' ? [p.text] : '*~'.includes(p.type) ? p.items.map((i) => i.text) : [];
  const shape = picked.length === 0 ? raw : p.type === '$' ? '$member' : `${p.type}${p.items.length}`;
  if (before !== null) {
    const have = new Set(before);
    for (const m of picked) if (!have.has(m)) problems.push(`${JSON.stringify(m)} is not a member`);
    const count = cmd.length > 2 ? Number(cmd[2]) : 1;
    if ((isPop || count > 0) && new Set(picked).size !== picked.length) problems.push(`repeated members in ${raw.slice(0, 80)}`);
    if (isPop) {
      const after = membersOf(await c.command('SMEMBERS', key)) ?? [];
      const expected = before.filter((m) => !picked.includes(m)).sort();
      if (JSON.stringify(after.sort()) !== JSON.stringify(expected)) problems.push(`after ${cmd.join(' ')} the set holds ${after.length}, expected ${expected.length}`);
    }
  }
  return { shape, problems };
}

if (requireRedisTools(t)) {
  const pair = await startPair(t);
  const [w, r] = await connectPair(t, pair);
  const reset: Step[] = [['HELLO', '2'], ['FLUSHALL'], ['CONFIG', 'SET', 'set-max-intset-entries', '512']];
  const run = async (steps: Step[]) => {
    await diffScript(w, r, reset);
    return diffScript(w, r, steps);
  };
  const ignore = (): string => '';
  const hello3: Step = { cmd: ['HELLO', '3'], map: ignore };
  const hello2: Step = { cmd: ['HELLO', '2'], map: ignore };
  /** SPOP / SRANDMEMBER on both servers: same shape, no problem on either. */
  const random = async (cmd: string[]): Promise<string[]> => {
    const [a, b] = await Promise.all([randomOutcome(w, cmd), randomOutcome(r, cmd)]);
    const out = [...a.problems.map((p) => `weft: ${p}`), ...b.problems.map((p) => `redis: ${p}`)];
    if (a.shape !== b.shape) out.push(`${cmd.join(' ')}: weft ${JSON.stringify(a.shape)} vs redis ${JSON.stringify(b.shape)}`);
    return out;
  };
  /** Makes the key hold the same members on both servers again (after SPOP), from Redis's copy. */
  const resync = async (key: string): Promise<void> => {
    const members = membersOf(await r.command('SMEMBERS', key)) ?? [];
    const steps: Step[] = [['DEL', key]];
    if (members.length > 0) steps.push(['SADD', key, ...members]);
    await diffScript(w, r, steps);
  };
  const whole = (key: string, intset: boolean): Step[] => [
    intset ? ['SMEMBERS', key] : unordered(['SMEMBERS', key]), ['SCARD', key], ['OBJECT', 'ENCODING', key], ['TYPE', key],
  ];

  t.test('SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS', async (t) => {
    t.same(await run([
      ['SCARD', 'k'], ['SMEMBERS', 'k'], ['SISMEMBER', 'k', 'a'], ['SMISMEMBER', 'k', 'a', 'b'], ['SREM', 'k', 'a'], ['EXISTS', 'k'],
      ['SADD', 'k', 'a', 'b', 'a', 'c'], ['SADD', 'k', 'a'], ['SADD', 'k', 'd', 'a'], ...whole('k', false),
      ['SISMEMBER', 'k', 'a'], ['SISMEMBER', 'k', 'z'], ['SMISMEMBER', 'k', 'a', 'z', 'c', 'a'],
      ['SREM', 'k', 'a', 'z', 'a'], ['SREM', 'k', 'zz'], ...whole('k', false),
      ['SREM', 'k', 'b', 'c', 'd', 'e'], ['EXISTS', 'k'], ['TYPE', 'k'],
      ['SADD', 'bin', Buffer.from([0, 255, 13, 10]), '', Buffer.from('é')], ...whole('bin', false),
      ['SISMEMBER', 'bin', ''], ['SISMEMBER', 'bin', Buffer.from([0, 255, 13, 10])], ['SREM', 'bin', ''], ['SCARD', 'bin'],
      ['SET', 'str', 'v'], ['SADD', 'str', 'a'], ['SREM', 'str', 'a'], ['SCARD', 'str'], ['SISMEMBER', 'str', 'a'],
      ['SMISMEMBER', 'str', 'a'], ['SMEMBERS', 'str'], ['LPUSH', 'list', 'a'], ['SADD', 'list', 'a'],
      ['SADD', 'k'], ['SREM', 'k'], ['SCARD'], ['SCARD', 'k', 'x'], ['SISMEMBER', 'k'], ['SMISMEMBER', 'k'], ['SMEMBERS'],
      ['SADD', 'n', '3', '1', '2'], ['SMEMBERS', 'n'],
      hello3, ['SMEMBERS', 'n'], ['SMEMBERS', 'missing'], ['SMISMEMBER', 'n', '1', '9'], ['SMISMEMBER', 'missing', '1'],
      ['SCARD', 'n'], ['SISMEMBER', 'n', '1'], hello2,
    ]), []);
  });

  t.test('intset encoding: canonical integers, int64 extremes, widths and limits', async (t) => {
    t.same(await run([
      ['SADD', 'a', '5'], ['OBJECT', 'ENCODING', 'a'], ['SADD', 'b', 'x'], ['OBJECT', 'ENCODING', 'b'],
      ['SADD', 'c', '1', 'x'], ['OBJECT', 'ENCODING', 'c'], ['SADD', 'd', 'x', '1'], ['OBJECT', 'ENCODING', 'd'],
      // Widths 16, 32 and 64 bits, upgraded in place, members kept sorted.
      ['SADD', 'w', '3', '-2', '0', '32767', '-32768'], ...whole('w', true),
      ['SADD', 'w', '32768', '-32769', '2147483647', '-2147483648'], ...whole('w', true),
      ['SADD', 'w', '2147483648', '-2147483649', '9223372036854775807', '-9223372036854775808', '4294967296'], ...whole('w', true),
      ['SISMEMBER', 'w', '9223372036854775807'], ['SISMEMBER', 'w', '-9223372036854775808'], ['SISMEMBER', 'w', '9223372036854775806'],
      ['SISMEMBER', 'w', '9223372036854775808'], ['SISMEMBER', 'w', '32767'], ['SMISMEMBER', 'w', '0', '-0', '+0', '00', '3', '03'],
      ['SREM', 'w', '9223372036854775807', '-32768', '1'], ...whole('w', true),
      ['SREM', 'w', '-9223372036854775808', '2147483648', '-2147483649', '4294967296'], ...whole('w', true),
      // Beyond int64, and texts that are not canonical: each converts.
      ...['9223372036854775808', '-9223372036854775809', '01', '+1', '-0', '00', ' 1', '1 ', '1.0', '0x1', '1e3', '', '-',
        '12345678901234567890', '-01'].flatMap((m, i): Step[] => [
        ['SADD', `x${i}`, '7', '-7'], ['SADD', `x${i}`, m], ...whole(`x${i}`, false), ['SISMEMBER', `x${i}`, m], ['SISMEMBER', `x${i}`, '7'],
      ]),
      ['SADD', 'y', '-0'], ['OBJECT', 'ENCODING', 'y'], ['SADD', 'z', '18446744073709551616'], ['OBJECT', 'ENCODING', 'z'],
      // SREM never converts back.
      ['SADD', 'back', '1', '2', 'x'], ['SREM', 'back', 'x'], ...whole('back', false), ['SADD', 'back', '3'], ['OBJECT', 'ENCODING', 'back'],
    ]), []);
    const big = range(1, 512);
    t.same(await run([
      ['SADD', 'full', ...big], ...whole('full', true), ['SADD', 'full', '512'], ['OBJECT', 'ENCODING', 'full'],
      ['SADD', 'full', '513'], ...whole('full', false),
      ['SADD', 'over', ...range(1, 600)], ...whole('over', false),
      ['SADD', 'step', ...range(1, 511)], ['SADD', 'step', '600', '601'], ...whole('step', false),
      ['CONFIG', 'SET', 'set-max-intset-entries', '4'], ['CONFIG', 'GET', 'set-max-intset-entries'],
      ['SADD', 'four', '1', '2', '3', '4'], ...whole('four', true), ['SADD', 'four', '4'], ['OBJECT', 'ENCODING', 'four'],
      ['SADD', 'four', '5'], ...whole('four', false),
      // An intset over a lowered limit stays until a new member arrives.
      ['SADD', 'ten', '1'], ['CONFIG', 'SET', 'set-max-intset-entries', '512'], ['SADD', 'ten', ...range(2, 10)],
      ['CONFIG', 'SET', 'set-max-intset-entries', '4'], ['SADD', 'ten', '3'], ['SREM', 'ten', '1'], ...whole('ten', true),
      ['SADD', 'ten', '11'], ...whole('ten', false),
      ['CONFIG', 'SET', 'set-max-intset-entries', '1'], ['SADD', 'one', '1'], ['OBJECT', 'ENCODING', 'one'], ['SADD', 'one', '2'],
      ['OBJECT', 'ENCODING', 'one'],
      ['CONFIG', 'SET', 'set-max-intset-entries', '0'], ['SADD', 'zero', '1'], ...whole('zero', false),
      ['CONFIG', 'SET', 'set-max-intset-entries', '2000'], ['SADD', 'many', ...range(1, 1500)], ...whole('many', true),
      ['SMOVE', 'many', 'dest', '1500'], ['OBJECT', 'ENCODING', 'dest'],
    ]), []);
  });

  t.test('SMOVE', async (t) => {
    t.same(await run([
      ['SMOVE', 'nosrc', 'dst', 'a'], ['EXISTS', 'dst'], ['SET', 'str', 'v'], ['SMOVE', 'nosrc', 'str', 'a'],
      ['SADD', 'src', 'a', 'b', '1'], ['SMOVE', 'src', 'str', 'a'], ['SMOVE', 'str', 'src', 'a'], ['SMOVE', 'src', 'dst', 'zz'],
      ['EXISTS', 'dst'], ['SMOVE', 'src', 'src', 'a'], ['SMOVE', 'src', 'src', 'zz'], ...whole('src', false),
      ['SMOVE', 'src', 'dst', 'a'], ...whole('src', false), ...whole('dst', false),
      ['SMOVE', 'src', 'i', '1'], ...whole('i', true), ['SMOVE', 'src', 'dst', 'b'], ['EXISTS', 'src'], ...whole('dst', false),
      ['SADD', 'src', 'a'], ['SMOVE', 'src', 'dst', 'a'], ['EXISTS', 'src'], ...whole('dst', false),
      ['SADD', 'n1', '1', '2', '3'], ['SADD', 'n2', '2', '4'], ['SMOVE', 'n1', 'n2', '2'], ...whole('n1', true), ...whole('n2', true),
      ['SMOVE', 'n1', 'n2', '01'], ['SADD', 'n1', 'x'], ['SMOVE', 'n1', 'n2', 'x'], ...whole('n2', false),
      ['SADD', 'h', 'x', '5'], ['SMOVE', 'h', 'n1', '5'], ...whole('n1', false),
      ['SADD', 'e', 'x'], ['EXPIRE', 'e', '100'], ['SMOVE', 'e', 'f', 'x'], ['EXISTS', 'e'], ['TTL', 'f'],
      ['SMOVE', 'a'], ['SMOVE', 'a', 'b', 'c', 'd'],
    ]), []);
  });

  t.test('SINTER SINTERCARD SINTERSTORE', async (t) => {
    t.same(await run([
      ['SADD', 'i1', ...range(1, 20)], ['SADD', 'i2', ...range(0, 30, 2)], ['SADD', 'i3', ...range(0, 40, 3)],
      ['SADD', 'h1', ...range(1, 20), 'a', 'b'], ['SADD', 'h2', 'a', 'b', 'c', '4', '6'], ['SET', 'str', 'v'],
      ['SINTER', 'i1'], ['SINTER', 'i1', 'i2'], ['SINTER', 'i1', 'i2', 'i3'], ['SINTER', 'i3', 'i2', 'i1'], ['SINTER', 'i1', 'i1'],
      ['SINTER', 'i1', 'h1'], unordered(['SINTER', 'h1', 'h2']), unordered(['SINTER', 'h2', 'i1']), unordered(['SINTER', 'h1', 'h1']),
      ['SINTER', 'i1', 'missing'], ['SINTER', 'missing', 'i1'], ['SINTER', 'missing', 'str'], ['SINTER', 'i1', 'str'],
      ['SINTER', 'str'], ['SINTER'],
      ['SINTERCARD', '1', 'i1'], ['SINTERCARD', '2', 'i1', 'i2'], ['SINTERCARD', '3', 'i1', 'i2', 'i3'], ['SINTERCARD', '2', 'h1', 'h2'],
      ['SINTERCARD', '2', 'i1', 'i2', 'LIMIT', '0'], ['SINTERCARD', '2', 'i1', 'i2', 'LIMIT', '3'], ['SINTERCARD', '2', 'i1', 'i2', 'limit', '300'],
      ['SINTERCARD', '1', 'i1', 'LIMIT', '1', 'LIMIT', '5'], ['SINTERCARD', '2', 'i1', 'missing'], ['SINTERCARD', '2', 'missing', 'str'],
      ['SINTERCARD', '0', 'i1'], ['SINTERCARD', '-1', 'i1'], ['SINTERCARD', 'x', 'i1'], ['SINTERCARD', '9223372036854775808', 'i1'],
      ['SINTERCARD', '3', 'i1', 'i2'], ['SINTERCARD', '1', 'i1', 'LIMIT', '-1'], ['SINTERCARD', '1', 'i1', 'LIMIT', 'x'],
      ['SINTERCARD', '1', 'i1', 'LIMIT'], ['SINTERCARD', '1', 'i1', 'extra'], ['SINTERCARD', '1', 'str'], ['SINTERCARD', '1'],
      ['SINTERSTORE', 'd', 'i1', 'i2'], ...whole('d', true), ['SINTERSTORE', 'd', 'h1', 'h2'], ...whole('d', false),
      ['SINTERSTORE', 'd', 'h1', 'i1'], ...whole('d', true), ['SINTERSTORE', 'd', 'i1', 'missing'], ['EXISTS', 'd'],
      ['SINTERSTORE', 'd', 'i1', 'h2'], ['SET', 'd', 'x', 'EX', '100'], ['SINTERSTORE', 'd', 'i1', 'i3'], ...whole('d', true), ['TTL', 'd'],
      ['SINTERSTORE', 'i1', 'i1', 'i2'], ...whole('i1', true), ['SINTERSTORE', 'd', 'i2', 'h2'], ['SINTERSTORE', 'd', 'h2', 'str'],
      ['TYPE', 'd'], ['SINTERSTORE', 'd', 'i2', 'h2', 'missing'], ['EXISTS', 'd'], ['SINTERSTORE', 'd'],
      ['SADD', 'e1', 'x'], ['SADD', 'e2', 'y'], ['SET', 'd', 'v'], ['SINTERSTORE', 'd', 'e1', 'e2'], ['EXISTS', 'd'],
      ['CONFIG', 'SET', 'set-max-intset-entries', '4'], ['SINTERSTORE', 'd', 'h1', 'i2'], ...whole('d', false),
      ['SINTERSTORE', 'd', 'h2', 'i2'], ...whole('d', true),
      hello3, ['SINTER', 'i2', 'i3'], ['SINTER', 'missing', 'i2'], ['SINTERCARD', '1', 'i2'], hello2,
    ]), []);
  });

  t.test('SUNION SDIFF and their STORE forms, both SDIFF algorithms', async (t) => {
    t.same(await run([
      ['SADD', 'i1', ...range(1, 10)], ['SADD', 'i2', ...range(5, 15)], ['SADD', 'h1', 'a', 'b', '3', '11'], ['SADD', 'h2', 'b', 'c'],
      ['SADD', 'hi', '100', '200', 'x'], ['SREM', 'hi', 'x'], ['SET', 'str', 'v'],
      ['SUNION', 'i1'], ['SUNION', 'i1', 'i2'], ['SUNION', 'i2', 'i1', 'missing'], ['SUNION', 'missing'], ['SUNION', 'hi'],
      ['SUNION', 'hi', 'i1'], unordered(['SUNION', 'h1', 'h2']), unordered(['SUNION', 'i1', 'h1']), ['SUNION', 'i1', 'i1'],
      ['SUNION', 'missing', 'str'], ['SUNION', 'str', 'i1'], ['SUNION'],
      ['SDIFF', 'i1'], ['SDIFF', 'i1', 'i2'], ['SDIFF', 'i2', 'i1'], ['SDIFF', 'i1', 'missing', 'i2'], ['SDIFF', 'missing', 'i1'],
      ['SDIFF', 'i1', 'i1'], ['SDIFF', 'i1', 'h1'], unordered(['SDIFF', 'h1', 'h2']), unordered(['SDIFF', 'h1', 'i1', 'h2']),
      ['SDIFF', 'hi', 'i1'], ['SDIFF', 'missing', 'str'], ['SDIFF', 'i1', 'str'], ['SDIFF', 'h1', 'h1'],
      ['SUNIONSTORE', 'd', 'i1', 'i2'], ...whole('d', true), ['SUNIONSTORE', 'd', 'h1', 'i1'], ...whole('d', false),
      ['SUNIONSTORE', 'd', 'hi'], ...whole('d', true), ['SUNIONSTORE', 'd', 'missing'], ['EXISTS', 'd'],
      ['SET', 'd', 'v', 'EX', '100'], ['SUNIONSTORE', 'd', 'i1'], ['TTL', 'd'], ['SUNIONSTORE', 'i1', 'i1', 'i2'], ...whole('i1', true),
      ['SUNIONSTORE', 'd', 'str'], ['SUNIONSTORE', 'd', 'missing', 'str'], ['SUNIONSTORE', 'd'],
      ['SDIFFSTORE', 'd', 'i2', 'h1'], ...whole('d', true), ['SDIFFSTORE', 'd', 'h1', 'i2'], ...whole('d', false),
      ['SDIFFSTORE', 'd', 'i2', 'i2'], ['EXISTS', 'd'], ['SDIFFSTORE', 'd', 'missing', 'i2'], ['SDIFFSTORE', 'd', 'str', 'i2'],
      ['SDIFFSTORE', 'h1', 'h1', 'h2'], ...whole('h1', false),
      hello3, ['SUNION', 'i2', 'hi'], ['SUNION', 'missing'], ['SDIFF', 'i2', 'hi'], ['SDIFF', 'missing'], hello2,
    ]), []);
    // Algorithm 2 (first set copied, the others subtracted) turns the temporary
    // set into a hashtable when the first set is over the limit; algorithm 1 does not.
    t.same(await run([
      ['CONFIG', 'SET', 'set-max-intset-entries', '8'], ['SADD', 'a', ...range(1, 20)], ['OBJECT', 'ENCODING', 'a'],
      ...range(0, 4).map((i): Step => ['SADD', `s${i}`, ...range(1 + i * 3, 3 + i * 3)]),
      ['SDIFFSTORE', 'algo2', 'a', 's0', 's1', 's2', 's3', 's4'], ...whole('algo2', false),
      ['SADD', 'b', ...range(1, 12)], ['SDIFFSTORE', 'algo1', 'a', 'b'], ...whole('algo1', true),
      ['SDIFF', 'a', 'b'], unordered(['SDIFF', 'a', 's0', 's1', 's2', 's3', 's4']),
      ['SDIFFSTORE', 'empty2', 'a', 's0', 's1', 's2', 's3', 's4', 'a'], ['EXISTS', 'empty2'],
      ['SUNIONSTORE', 'u', 's0', 's1'], ...whole('u', true), ['SUNIONSTORE', 'u', 's0', 's1', 's2'], ...whole('u', false),
    ]), []);
  });

  t.test('SPOP and SRANDMEMBER', async (t) => {
    t.same(await run([
      ['SPOP', 'missing'], ['SPOP', 'missing', '3'], ['SPOP', 'missing', '0'], ['SRANDMEMBER', 'missing'], ['SRANDMEMBER', 'missing', '5'],
      ['SRANDMEMBER', 'missing', '-5'], ['SRANDMEMBER', 'missing', '0'], ['SET', 'str', 'v'], ['SPOP', 'str'], ['SPOP', 'str', '0'],
      ['SPOP', 'str', '2'], ['SRANDMEMBER', 'str'], ['SRANDMEMBER', 'str', '0'], ['SRANDMEMBER', 'str', '-1'],
      ['SADD', 'i', ...range(1, 10)], ['SADD', 'h', 'a', 'b', 'c', '1'],
      ['SPOP', 'i', '-1'], ['SPOP', 'i', 'x'], ['SPOP', 'i', '1.5'], ['SPOP', 'i', '9223372036854775808'], ['SPOP', 'missing', '-1'],
      ['SPOP', 'i', '1', '2'], ['SRANDMEMBER', 'i', '1', '2'], ['SRANDMEMBER', 'i', 'x'], ['SRANDMEMBER', 'missing', 'x'],
      ['SRANDMEMBER', 'i', '-9223372036854775808'], ['SRANDMEMBER', 'missing', '-9223372036854775808'],
      ['SRANDMEMBER', 'i', '9223372036854775808'], ['SPOP'], ['SRANDMEMBER'],
      ['SPOP', 'i', '0'], ['SRANDMEMBER', 'i', '0'], ['SRANDMEMBER', 'i', '10'], ['SRANDMEMBER', 'i', '11'],
      ['SRANDMEMBER', 'i', '9223372036854775807'], unordered(['SRANDMEMBER', 'h', '4']), unordered(['SRANDMEMBER', 'h', '100']),
      ['SADD', 'one', 'x'], ['SPOP', 'one'], ['EXISTS', 'one'], ['SADD', 'one', '7'], ['SRANDMEMBER', 'one'], ['SRANDMEMBER', 'one', '-3'],
      ['SPOP', 'one', '1'], ['EXISTS', 'one'],
      // A count reaching the size returns the set as SUNION would and deletes the key.
      ['SPOP', 'i', '10'], ['EXISTS', 'i'], unordered(['SPOP', 'h', '4']), ['EXISTS', 'h'],
      ['SADD', 'hi', '3', '1', 'x', '2'], ['SREM', 'hi', 'x'], ['SPOP', 'hi', '50'],
      ['SADD', 'ttl', '1', '2', '3'], ['EXPIRE', 'ttl', '100'], ['SPOP', 'ttl', '3'], ['EXISTS', 'ttl'],
      hello3, ['SPOP', 'missing'], ['SPOP', 'missing', '2'], ['SRANDMEMBER', 'missing'], ['SRANDMEMBER', 'missing', '2'],
      ['SADD', 'r3', '1', '2'], ['SRANDMEMBER', 'r3', '5'], ['SPOP', 'r3', '5'], hello2,
    ]), []);
    const problems: string[] = [];
    await run([['SADD', 'i', ...range(1, 30)], ['SADD', 'h', ...range(1, 30).map((n) => `m${n}`)], ['SADD', 'x', '-5', '5', 'five']]);
    for (const key of ['i', 'h', 'x']) {
      for (const count of ['1', '2', '3', '7', '10', '25', '-1', '-3', '-40', '29', '30', '31']) problems.push(...await random(['SRANDMEMBER', key, count]));
      problems.push(...await random(['SRANDMEMBER', key]));
    }
    for (const cmd of [['SPOP', 'i'], ['SPOP', 'i', '2'], ['SPOP', 'i', '20'], ['SPOP', 'h', '1'], ['SPOP', 'h', '27'], ['SPOP', 'x', '2'], ['SPOP', 'h']]) {
      problems.push(...await random(cmd));
      await resync(cmd[1]);
    }
    problems.push(...await random(['SPOP', 'x']), ...await random(['SPOP', 'x', '1']));
    // Keep-the-rest (CASE 3) rebuilds the set with a fresh encoding and keeps the TTL; popping one by one (CASE 2) keeps the encoding.
    await diffScript(w, r, [
      ['SADD', 'hx', ...range(1, 20), 'x'], ['SREM', 'hx', 'x'], ['EXPIRE', 'hx', '1000'], ['SADD', 'hy', ...range(1, 20), 'x'], ['SREM', 'hy', 'x'],
      ['SADD', 'iz', ...range(1, 20)], ['SADD', 'sz', ...range(1, 20).map((n) => `m${n}`)], ['SADD', 'mix', ...range(1, 20), 'x'],
    ]);
    for (const cmd of [['SPOP', 'hx', '18'], ['SPOP', 'hy', '2'], ['SPOP', 'iz', '19'], ['SPOP', 'sz', '19'], ['SPOP', 'mix', '20']]) {
      problems.push(...await random(cmd));
    }
    const after = await diffScript(w, r, [
      ['OBJECT', 'ENCODING', 'hx'], ['SCARD', 'hx'], { cmd: ['TTL', 'hx'], near: 1 }, ['OBJECT', 'ENCODING', 'hy'], ['SCARD', 'hy'],
      ['OBJECT', 'ENCODING', 'iz'], ['SCARD', 'iz'], ['OBJECT', 'ENCODING', 'sz'], ['SCARD', 'sz'], ['SCARD', 'mix'],
    ]);
    problems.push(...after.map((d) => JSON.stringify(d)));
    await diffScript(w, r, [hello3]);
    await resync('i');
    problems.push(...await random(['SPOP', 'i', '3']), ...await random(['SRANDMEMBER', 'i', '3']), ...await random(['SPOP', 'i']));
    await diffScript(w, r, [hello2]);
    t.same(problems, []);
  });

  t.test('SRANDMEMBER picks are near uniform (chi-square, as set.tcl)', async (t) => {
    await run([['SADD', 'i', ...range(0, 9)], ['SADD', 'h', ...range(0, 9).map((n) => `m${n}`)]]);
    for (const key of ['i', 'h']) {
      const picks = membersOf(await w.command('SRANDMEMBER', key, '-1000'))!;
      const counts = new Map<string, number>();
      for (const m of picks) counts.set(m, (counts.get(m) ?? 0) + 1);
      let chi = 0;
      for (const n of counts.values()) chi += (n - 100) ** 2 / 100;
      t.equal(counts.size, 10, `${key}: every member drawn`);
      t.ok(chi < 40, `${key}: chi-square ${chi.toFixed(1)} < 40`);
    }
  });

  t.test('SSCAN', async (t) => {
    t.same(await run([
      ['SSCAN', 'missing', '0'], ['SSCAN', 'missing', 'x'], ['SSCAN', 'missing', '0', 'COUNT', '0'], ['SET', 'str', 'v'],
      ['SSCAN', 'str', '0'], ['SSCAN', 'str', 'x'], ['SADD', 'i', ...range(1, 100)], ['SSCAN', 'i', '0'], ['SSCAN', 'i', '55', 'COUNT', '2'],
      ['SSCAN', 'i', '0', 'MATCH', '*5*'], ['SSCAN', 'i', '0', 'match', '1?', 'count', '1'], ['SSCAN', 'i', '0', 'COUNT', '0'],
      ['SSCAN', 'i', '0', 'COUNT', 'x'], ['SSCAN', 'i', '0', 'COUNT', '-1'], ['SSCAN', 'i', '0', 'MATCH'], ['SSCAN', 'i', '0', 'foo', 'bar'],
      ['SSCAN', 'i', '-1'], ['SSCAN', 'i', '18446744073709551616'], ['SSCAN', 'i', '1x'], ['SSCAN', 'i'],
      ['SADD', 'h', 'a', 'b'], { cmd: ['SSCAN', 'h', '0', 'COUNT', '100'], map: sortedScan }, ['SSCAN', 'h', '0', 'MATCH', 'a'],
      hello3, ['SSCAN', 'i', '0', 'MATCH', '9*'], ['SSCAN', 'missing', '0'], hello2,
    ]), []);
    // A few thousand members through SSCAN: every member comes back, on each server, with small and big COUNTs.
    const members = [...range(1, 2500).map((n) => `member:${n}`), ...range(-500, 500)];
    await run([['SADD', 'big', ...members], ['SADD', 'bigint', ...range(1, 3000)]]);
    for (const [c, name] of [[w, 'weft'], [r, 'redis']] as const) {
      for (const [key, count] of [['big', '7'], ['big', '500'], ['bigint', '10']]) {
        const seen = new Set<string>();
        let cursor = '0';
        let calls = 0;
        do {
          const p = parseResp(text(await c.command('SSCAN', key, cursor, 'COUNT', count)));
          cursor = p.items[0].text;
          for (const i of p.items[1].items) seen.add(i.text);
          calls++;
        } while (cursor !== '0' && calls < 100000);
        const expected = key === 'big' ? members : range(1, 3000);
        t.equal(seen.size, expected.length, `${name} ${key} COUNT ${count}: ${seen.size} distinct members in ${calls} calls`);
        t.ok(expected.every((m) => seen.has(m)), `${name} ${key} COUNT ${count}: every member returned`);
      }
    }
    // Members present for the whole scan are returned while others come and go (the table grows and shrinks).
    const stay = range(1, 300).map((n) => `stay${n}`);
    await w.command('SADD', 'moving', ...stay);
    const seen = new Set<string>();
    let cursor = '0';
    let step = 0;
    do {
      const p = parseResp(text(await w.command('SSCAN', 'moving', cursor, 'COUNT', '5')));
      cursor = p.items[0].text;
      for (const i of p.items[1].items) seen.add(i.text);
      step++;
      if (step % 3 === 0) await w.command('SADD', 'moving', ...range(step * 100, step * 100 + 99).map((n) => `tmp${n}`));
      if (step % 3 === 2) await w.command('SREM', 'moving', ...range((step - 1) * 100, (step - 1) * 100 + 99).map((n) => `tmp${n}`));
    } while (cursor !== '0' && step < 10000);
    t.ok(stay.every((m) => seen.has(m)), `every member present throughout was returned (${step} calls)`);
  });

  t.test('COMMAND INFO, DOCS and GETKEYS of the set commands', async (t) => {
    t.same(await run([
      ...SET_COMMANDS.map((name): Step => ['COMMAND', 'INFO', name]),
      ...SET_COMMANDS.map((name): Step => ['COMMAND', 'DOCS', name]),
      ['COMMAND', 'GETKEYS', 'SINTERCARD', '2', 'a', 'b', 'LIMIT', '1'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'SINTERCARD', '3', 'a', 'b', 'c'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'SMOVE', 'a', 'b', 'm'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'SINTERSTORE', 'd', 'a', 'b'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'SUNIONSTORE', 'd', 'a', 'b'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'SDIFF', 'a', 'b', 'c'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'SSCAN', 'a', '0'],
    ]), []);
  });

  t.test('seeded randomized run of all set commands', async (t) => {
    const seed = Number(process.env.SET_SEED ?? Date.now() % 1_000_000);
    const rnd = prngInt(seed);
    const pick = <T>(xs: T[]): T => xs[rnd(xs.length)];
    const keys = ['k0', 'k1', 'k2', 'k3', 's'];
    const pool = ['a', 'b', 'c', '', '0', '1', '2', '-1', '42', '01', '+1', '-0', '1.5', '65536', '-40000', '4294967296',
      '9223372036854775807', '-9223372036854775808', '9223372036854775808', 'x'.repeat(70)];
    const memberOf = (): string => (rnd(3) === 0 ? pick(pool) : rnd(2) === 0 ? String(rnd(60) - 10) : `m${rnd(40)}`);
    const members = (): string[] => {
      const n = rnd(8) === 0 ? 5 + rnd(40) : 1 + rnd(4);
      return Array.from({ length: n }, () => (rnd(4) === 0 ? memberOf() : String(rnd(80))));
    };
    const someKeys = (): string[] => Array.from({ length: 1 + rnd(3) }, () => pick(keys));
    type ModelStep = Step | { random: string[] } | { members: string };
    const gen: (() => ModelStep)[] = [
      () => ['SADD', pick(keys), ...members()],
      () => ['SADD', pick(keys), ...members()],
      () => ['SREM', pick(keys), ...members()],
      () => ['SCARD', pick(keys)],
      () => ['SISMEMBER', pick(keys), memberOf()],
      () => ['SMISMEMBER', pick(keys), memberOf(), memberOf(), memberOf()],
      () => ({ members: pick(keys) }),
      () => ['SMOVE', pick(keys), pick(keys), memberOf()],
      () => unordered(['SINTER', ...someKeys()]),
      () => ['SINTERCARD', '2', pick(keys), pick(keys), ...(rnd(2) ? ['LIMIT', String(rnd(5))] : [])],
      () => ['SINTERSTORE', pick(keys), ...someKeys()],
      () => unordered(['SUNION', ...someKeys()]),
      () => ['SUNIONSTORE', pick(keys), ...someKeys()],
      () => unordered(['SDIFF', ...someKeys()]),
      () => ['SDIFFSTORE', pick(keys), ...someKeys()],
      () => ({ random: ['SRANDMEMBER', pick(keys), ...(rnd(3) ? [String(rnd(12) - 4)] : [])] }),
      () => ({ random: ['SPOP', pick(keys), ...(rnd(2) ? [String(rnd(10))] : [])] }),
      () => ['CONFIG', 'SET', 'set-max-intset-entries', pick(['0', '1', '4', '16', '64', '512'])],
      () => ({ cmd: ['HELLO', pick(['2', '3'])], map: ignore }),
    ];
    /** The keys a write step changes (their encoding is compared right after it). */
    const written = (cmd: string[]): string[] => {
      const name = cmd[0];
      if (name === 'SADD' || name === 'SREM' || name.endsWith('STORE')) return [cmd[1]];
      return name === 'SMOVE' ? [cmd[1], cmd[2]] : [];
    };
    await diffScript(w, r, reset);
    const diffs: string[] = [];
    let batch: Step[] = [['SET', 's', 'string']];
    const flush = async () => {
      for (const d of await diffScript(w, r, batch)) diffs.push(JSON.stringify(d));
      batch = [];
    };
    /** SMEMBERS compared exactly when Redis holds an intset (sorted), as a multiset otherwise. */
    const membersStep = async (key: string) => {
      await flush();
      const encoding = text(await r.command('OBJECT', 'ENCODING', key));
      batch.push(encoding.includes('intset') ? ['SMEMBERS', key] : unordered(['SMEMBERS', key]), ['OBJECT', 'ENCODING', key]);
    };
    for (let i = 0; i < 4000 && diffs.length < 5; i++) {
      const step = gen[rnd(gen.length)]();
      if ('random' in step) {
        await flush();
        diffs.push(...await random(step.random));
        if (step.random[0] === 'SPOP') await resync(step.random[1]);
      } else if ('members' in step) {
        await membersStep(step.members);
      } else {
        batch.push(step);
        const cmd = Array.isArray(step) ? step : step.cmd;
        for (const k of written(cmd as string[])) batch.push(['OBJECT', 'ENCODING', k]);
      }
      if (i % 500 === 499) for (const k of keys) await membersStep(k);
    }
    for (const k of keys) await membersStep(k);
    await flush();
    t.same(diffs.slice(0, 5), [], `seed ${seed} (rerun with SET_SEED=${seed})`);
  });
}

t.test('set writes reach a replica in effect form (SPOP as SREM / DEL)', async (t) => {
  const master = await startWeft([], { threads: 2 });
  t.teardown(() => master.stop());
  const replica = await startWeft(['--replicaof', `127.0.0.1 ${master.port}`], { threads: 1 });
  t.teardown(() => replica.stop());
  const m = await RawClient.connect(master.port);
  const s = await RawClient.connect(replica.port);
  t.teardown(() => {
    m.close();
    s.close();
  });
  await waitFor('the replica link', 20000, async () => text(await s.command('INFO', 'replication')).includes('master_link_status:up') || 'down');
  const keys = ['i', 'h', 'hx', 'p1', 'p2', 'p3', 'all', 'd1', 'd2', 'd3', 'mv', 'mv2'];
  await m.pipeline([
    ['SADD', 'i', ...range(1, 50)], ['SADD', 'h', ...range(1, 50).map((n) => `m${n}`)], ['SADD', 'hx', ...range(1, 40), 'x'],
    ['SREM', 'hx', 'x'], ['EXPIRE', 'hx', '1000'], ['SPOP', 'i'], ['SPOP', 'h'], ['SPOP', 'i', '3'], ['SPOP', 'h', '4'], ['SPOP', 'hx', '38'],
    ['SADD', 'all', 'a', 'b'], ['SPOP', 'all', '5'], ['SADD', 'p1', ...range(1, 30)], ['SPOP', 'p1', '29'], ['SADD', 'p2', 'a', 'b', 'c'],
    ['SPOP', 'p2', '2'], ['SADD', 'p3', '1'], ['SPOP', 'p3'], ['SINTERSTORE', 'd1', 'i', 'h'], ['SUNIONSTORE', 'd2', 'i', 'hx'],
    ['SDIFFSTORE', 'd3', 'i', 'hx'], ['SADD', 'mv', 'a', 'b'], ['SMOVE', 'mv', 'mv2', 'a'], ['SREM', 'i', '1', '2', '3'],
  ]);
  t.equal(text(await m.command('WAIT', '1', '5000')), ':1\r\n');
  await sleep(50);
  for (const key of keys) {
    const [a, b] = [membersOf(await m.command('SMEMBERS', key))!.sort(), membersOf(await s.command('SMEMBERS', key))!.sort()];
    t.same(b, a, `${key}: the replica holds the master's members (${a.length})`);
    t.equal(text(await s.command('PEXPIRETIME', key)), text(await m.command('PEXPIRETIME', key)), `${key}: same expire time`);
  }
});
