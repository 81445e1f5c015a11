/**
 * The list family (src/commands/lists.ts, list-ops.ts over
 * src/store/quicklist.ts) against Redis 7.0.15, byte for byte: every
 * command, option and error reply, RESP2 and RESP3, lists of many quicklist
 * nodes under several list-max-listpack-size settings with elements of
 * every length class, edits in the middle of multi-node lists, the command
 * metadata, and a seeded randomized run of all list commands.
 */
import t from 'tap';
import { RawClient, requireRedisTools, startWeft } from './helpers/servers.js';
import { waitFor } from './helpers/cluster.js';
import { replicationInfo } from './helpers/replication.js';
import { connectPair, diffScript, startPair, type Step } from './helpers/differential.js';
import { prngInt } from './helpers/prng.js';
import { Shard } from '../src/store/shard.js';
import {
  qlCount, qlCursor, qlDeleteAtCursor, qlDeleteRange, qlInit, qlInsertAtCursor, qlNext, qlPrev, qlPush, qlReplaceAtCursor, qlSeek,
  qlVerify,
} from '../src/store/quicklist.js';
import { elem, readForward } from '../src/store/packed.js';
import { CommandContext } from '../src/commands/context.js';
import { commandTable } from '../src/commands/command-table.js';
import { ReplyWriter } from '../src/protocol/reply-writer.js';
import { Keyspace, allocateKeyspace } from '../src/store/keyspace.js';
import { defaultCollectionLimits, ReplyMode, type ClientState, type ServerServices } from '../src/commands/client-state.js';
import { setArgs } from './helpers/in-process.js';

const LIST_COMMANDS = [
  'lpush', 'rpush', 'lpushx', 'rpushx', 'lpop', 'rpop', 'llen', 'lindex', 'lset', 'lrange', 'ltrim', 'lrem', 'linsert', 'lpos',
  'lmove', 'rpoplpush', 'lmpop',
];

/** A deterministic element of `len` bytes, distinct per tag. */
const big = (tag: string, len: number): string => (tag + ':').padEnd(len, tag.slice(0, 1) || 'x');

if (requireRedisTools(t)) {
  const pair = await startPair(t);
  const [w, r] = await connectPair(t, pair);
  const run = async (steps: Step[]) => {
    await diffScript(w, r, [['HELLO', '2'], ['FLUSHALL'], ['CONFIG', 'SET', 'list-max-listpack-size', '-2']]);
    return diffScript(w, r, steps);
  };
  // HELLO's reply carries the connection id and server details: only the protocol switch matters here.
  const ignore = (): string => '';
  const hello3: Step = { cmd: ['HELLO', '3'], map: ignore };
  const whole = (key: string): Step[] => [['LLEN', key], ['LRANGE', key, '0', '-1'], ['OBJECT', 'ENCODING', key], ['TYPE', key]];

  t.test('LPUSH RPUSH LPUSHX RPUSHX', async (t) => {
    t.same(await run([
      ['LPUSH', 'l', 'a'],
      ['LPUSH', 'l', 'b', 'c', 'd'],
      ['RPUSH', 'l', 'e', 'f'],
      ...whole('l'),
      ['LPUSHX', 'l', 'x', 'y'],
      ['RPUSHX', 'l', 'z'],
      ['LPUSHX', 'missing', 'x'],
      ['RPUSHX', 'missing', 'x', 'y'],
      ['EXISTS', 'missing'],
      ['SET', 's', 'v'],
      ['LPUSH', 's', 'x'],
      ['RPUSH', 's', 'x'],
      ['LPUSHX', 's', 'x'],
      ['RPUSHX', 's', 'x'],
      ['LPUSH', 'l'],
      ['RPUSH'],
      ['LPUSHX', 'l'],
      ['RPUSH', 'bin', Buffer.from([0, 1, 0xff, 13, 10, 0x80]), '', '12345', '-7', '007', '9223372036854775808'],
      ...whole('bin'),
      ['RPUSH', 'ttl', 'a'],
      ['EXPIRE', 'ttl', '1000'],
      ['RPUSH', 'ttl', 'b'],
      ['TTL', 'ttl'],
      ...whole('ttl'),
      ['lpush', 'lower', 'a'],
      ['LRANGE', 'lower', '0', '-1'],
    ]), []);
  });

  t.test('LPOP and RPOP with and without a count', async (t) => {
    t.same(await run([
      ['RPUSH', 'l', 'a', 'b', 'c', 'd', 'e', 'f', 'g'],
      ['LPOP', 'l'],
      ['RPOP', 'l'],
      ['LPOP', 'l', '2'],
      ['RPOP', 'l', '2'],
      ['LPOP', 'l', '0'],
      ['RPOP', 'l', '0'],
      ['LPOP', 'l', '-1'],
      ['LPOP', 'l', 'abc'],
      ['LPOP', 'l', '1.5'],
      ['LPOP', 'l', '9223372036854775807'],
      ['EXISTS', 'l'],
      ['RPUSH', 'l', 'a', 'b', 'c'],
      ['RPOP', 'l', '100'],
      ['EXISTS', 'l'],
      ['LPOP', 'missing'],
      ['RPOP', 'missing'],
      ['LPOP', 'missing', '0'],
      ['LPOP', 'missing', '3'],
      ['RPOP', 'missing', '-1'],
      ['LPOP', 'missing', 'x'],
      ['LPOP', 'l', '1', '2'],
      ['RPOP', 'l', '1', '2', '3'],
      ['SET', 's', 'v'],
      ['LPOP', 's'],
      ['RPOP', 's', '1'],
      ['LPOP', 's', '0'],
      ['LPOP', 's', '-1'],
      ['RPUSH', 'one', 'x'],
      ['RPOP', 'one'],
      ['EXISTS', 'one'],
      ['RPUSH', 'one', 'x'],
      ['LPOP', 'one', '1'],
      ['EXISTS', 'one'],
      hello3,
      ['LPOP', 'missing'],
      ['LPOP', 'missing', '1'],
      ['RPOP', 'missing', '0'],
      ['RPUSH', 'l', 'a', 'b'],
      ['LPOP', 'l', '0'],
      ['RPOP', 'l', '5'],
    ]), []);
  });

  t.test('LLEN LINDEX LSET LRANGE LTRIM', async (t) => {
    t.same(await run([
      ['RPUSH', 'l', 'a', 'b', 'c', 'd', 'e'],
      ['LLEN', 'l'],
      ['LLEN', 'missing'],
      ...['0', '1', '4', '5', '-1', '-5', '-6', '100', '-100', '9223372036854775807', '-9223372036854775808'].map((i): Step => ['LINDEX', 'l', i]),
      ['LINDEX', 'l', 'x'],
      ['LINDEX', 'missing', 'x'],
      ['LINDEX', 'missing', '0'],
      ['LSET', 'l', '0', 'A'],
      ['LSET', 'l', '-1', 'E'],
      ['LSET', 'l', '2', big('c', 300)],
      ['LSET', 'l', '2', 'C'],
      ['LSET', 'l', '5', 'x'],
      ['LSET', 'l', '-6', 'x'],
      ['LSET', 'l', 'x', 'x'],
      ['LSET', 'missing', '0', 'x'],
      ['LSET', 'missing', 'x', 'x'],
      ...whole('l'),
      ...[['0', '-1'], ['1', '2'], ['-2', '-1'], ['-100', '100'], ['3', '1'], ['5', '10'], ['-1', '-2'], ['0', '0'],
        ['-9223372036854775808', '9223372036854775807'], ['4', '-1'], ['2', '-4']].map(([a, b]): Step => ['LRANGE', 'l', a, b]),
      ['LRANGE', 'l', 'x', '1'],
      ['LRANGE', 'l', '0', '1.0'],
      ['LRANGE', 'missing', '0', '-1'],
      ['LRANGE', 'missing', 'x', '-1'],
      ['SET', 's', 'v'],
      ['LLEN', 's'],
      ['LINDEX', 's', '0'],
      ['LINDEX', 's', 'x'],
      ['LSET', 's', '0', 'x'],
      ['LRANGE', 's', '0', '-1'],
      ['LRANGE', 's', 'x', '-1'],
      ['LTRIM', 's', '0', '1'],
      ['LTRIM', 's', 'x', '1'],
      ['LTRIM', 'missing', '0', '1'],
      ['LTRIM', 'l', '1', '-2'],
      ...whole('l'),
      ['LTRIM', 'l', '0', '100'],
      ['LTRIM', 'l', '-100', '-1'],
      ...whole('l'),
      ['LTRIM', 'l', '1', '1'],
      ...whole('l'),
      ['LTRIM', 'l', '2', '1'],
      ['EXISTS', 'l'],
      ['RPUSH', 'l', 'a', 'b'],
      ['LTRIM', 'l', '5', '10'],
      ['EXISTS', 'l'],
      ['RPUSH', 'l', 'a', 'b'],
      ['LTRIM', 'l', '-1', '-2'],
      ['EXISTS', 'l'],
      ['LTRIM', 'l', '0'],
      hello3,
      ['LINDEX', 'missing', '0'],
      ['LRANGE', 'missing', '0', '-1'],
      ['RPUSH', 'l', 'a'],
      ['LINDEX', 'l', '3'],
    ]), []);
  });

  t.test('LREM LINSERT', async (t) => {
    t.same(await run([
      ['RPUSH', 'l', 'a', 'b', 'a', 'c', 'a', 'b', 'a'],
      ['LREM', 'l', '1', 'a'],
      ...whole('l'),
      ['LREM', 'l', '-1', 'a'],
      ...whole('l'),
      ['LREM', 'l', '0', 'b'],
      ...whole('l'),
      ['LREM', 'l', '5', 'zz'],
      ['LREM', 'l', '-9223372036854775808', 'a'],
      ...whole('l'),
      ['RPUSH', 'm', 'x', 'x', 'x'],
      ['LREM', 'm', '0', 'x'],
      ['EXISTS', 'm'],
      ['RPUSH', 'm', 'x', 'y', 'x', 'x', 'y'],
      ['LREM', 'm', '-2', 'x'],
      ...whole('m'),
      ['LREM', 'm', '2', 'y'],
      ...whole('m'),
      ['LREM', 'm', 'x', 'x'],
      ['LREM', 'missing', 'x', 'x'],
      ['LREM', 'missing', '1', 'x'],
      ['SET', 's', 'v'],
      ['LREM', 's', '1', 'x'],
      ['LREM', 's', 'x', 'x'],
      ['DEL', 'l'],
      ['RPUSH', 'l', 'a', 'b', 'c', 'b'],
      ['LINSERT', 'l', 'BEFORE', 'b', 'x'],
      ['LINSERT', 'l', 'after', 'b', 'y'],
      ['LINSERT', 'l', 'After', 'c', 'z'],
      ['LINSERT', 'l', 'before', 'a', 'first'],
      ['LINSERT', 'l', 'AFTER', 'b', 'last-b?'],
      ['LINSERT', 'l', 'BEFORE', 'nope', 'x'],
      ['LINSERT', 'l', 'MIDDLE', 'b', 'x'],
      ['LINSERT', 'missing', 'MIDDLE', 'b', 'x'],
      ['LINSERT', 'missing', 'BEFORE', 'b', 'x'],
      ['EXISTS', 'missing'],
      ['LINSERT', 's', 'BEFORE', 'b', 'x'],
      ['LINSERT', 's', 'x', 'b', 'x'],
      ['LINSERT', 'l', 'BEFORE', 'b'],
      ...whole('l'),
      ['RPUSH', 'last', 'a', 'b'],
      ['LINSERT', 'last', 'AFTER', 'b', 'c'],
      ['LINSERT', 'last', 'BEFORE', 'a', ''],
      ['LINSERT', 'last', 'AFTER', '', big('x', 200)],
      ...whole('last'),
    ]), []);
  });

  t.test('LPOS with RANK, COUNT and MAXLEN', async (t) => {
    const opts: string[][] = [
      [], ['RANK', '1'], ['RANK', '2'], ['RANK', '-1'], ['RANK', '-2'], ['RANK', '10'], ['RANK', '-10'], ['COUNT', '0'], ['COUNT', '1'],
      ['COUNT', '2'], ['COUNT', '10'], ['RANK', '2', 'COUNT', '2'], ['RANK', '-2', 'COUNT', '0'], ['MAXLEN', '3'], ['MAXLEN', '0'],
      ['MAXLEN', '1', 'COUNT', '0'], ['RANK', '-1', 'MAXLEN', '2', 'COUNT', '0'], ['RANK', '3', 'MAXLEN', '5'], ['rank', '1', 'count', '1', 'maxlen', '100'],
      ['RANK', '1', 'RANK', '-1'], ['COUNT', '1', 'COUNT', '0'], ['RANK', '-9223372036854775808'], ['RANK', '-9223372036854775808', 'COUNT', '1'],
      ['RANK', '-9223372036854775807', 'COUNT', '1'], ['RANK', '9223372036854775807'], ['COUNT', '9223372036854775807'],
      ['RANK', '-9223372036854775808', 'MAXLEN', '3', 'COUNT', '0'],
    ];
    const errors: string[][] = [
      ['RANK', '0'], ['RANK', 'x'], ['RANK'], ['COUNT', '-1'], ['COUNT', 'x'], ['MAXLEN', '-1'], ['MAXLEN', 'x'], ['FOO', '1'], ['COUNT'],
      ['RANK', '1', 'COUNT'], ['RANK', '-9223372036854775809'], ['RANK', '0', 'COUNT', '-1'],
    ];
    t.same(await run([
      ['RPUSH', 'l', 'a', 'b', 'c', 'a', 'b', 'a', 'c', 'a'],
      ...opts.map((o): Step => ['LPOS', 'l', 'a', ...o]),
      ...opts.map((o): Step => ['LPOS', 'l', 'c', ...o]),
      ...opts.map((o): Step => ['LPOS', 'l', 'zz', ...o]),
      ...opts.map((o): Step => ['LPOS', 'missing', 'a', ...o]),
      ...errors.map((o): Step => ['LPOS', 'l', 'a', ...o]),
      ...errors.map((o): Step => ['LPOS', 'missing', 'a', ...o]),
      ['SET', 's', 'v'],
      ['LPOS', 's', 'a'],
      ['LPOS', 's', 'a', 'COUNT', '1'],
      ['LPOS', 's', 'a', 'RANK', '0'],
      ['LPOS', 'l'],
      hello3,
      ['LPOS', 'missing', 'a'],
      ['LPOS', 'missing', 'a', 'COUNT', '0'],
      ['LPOS', 'l', 'zz'],
      ['LPOS', 'l', 'a', 'COUNT', '0'],
    ]), []);
  });

  t.test('LMOVE RPOPLPUSH LMPOP', async (t) => {
    const sides = [['LEFT', 'LEFT'], ['LEFT', 'RIGHT'], ['RIGHT', 'LEFT'], ['RIGHT', 'RIGHT'], ['left', 'right']];
    t.same(await run([
      ['RPUSH', 'src', 'a', 'b', 'c', 'd', 'e', 'f'],
      ...sides.flatMap(([from, to]): Step[] => [['LMOVE', 'src', 'dst', from, to], ...whole('src'), ...whole('dst')]),
      ['LMOVE', 'src', 'dst', 'UP', 'LEFT'],
      ['LMOVE', 'src', 'dst', 'LEFT', 'DOWN'],
      ['LMOVE', 'missing', 'dst', 'UP', 'LEFT'],
      ['LMOVE', 'missing', 'dst', 'LEFT', 'LEFT'],
      ['SET', 's', 'v'],
      ['LMOVE', 'missing', 's', 'LEFT', 'LEFT'],
      ['LMOVE', 's', 'dst', 'LEFT', 'LEFT'],
      ['LMOVE', 'src', 's', 'LEFT', 'LEFT'],
      ...whole('src'),
      ['RPOPLPUSH', 'src', 's'],
      ['RPOPLPUSH', 's', 'dst'],
      ['RPOPLPUSH', 'missing', 's'],
      ['RPOPLPUSH', 'dst', 'src'],
      ...whole('src'),
      ...whole('dst'),
      // A rotation: source and destination are the same key, also with one element.
      ['DEL', 'rot'],
      ['RPUSH', 'rot', '1', '2', '3'],
      ['RPOPLPUSH', 'rot', 'rot'],
      ['LMOVE', 'rot', 'rot', 'LEFT', 'RIGHT'],
      ['LMOVE', 'rot', 'rot', 'LEFT', 'LEFT'],
      ...whole('rot'),
      ['DEL', 'rot'],
      ['RPUSH', 'rot', 'only'],
      ['LMOVE', 'rot', 'rot', 'RIGHT', 'LEFT'],
      ['RPOPLPUSH', 'rot', 'rot'],
      ...whole('rot'),
      // Emptying the source deletes it; a new destination is a list.
      ['RPUSH', 'last', 'x'],
      ['LMOVE', 'last', 'fresh', 'RIGHT', 'LEFT'],
      ['EXISTS', 'last'],
      ...whole('fresh'),
      ['RPUSH', 'ttl', 'a', 'b'],
      ['EXPIRE', 'ttl', '1000'],
      ['RPOPLPUSH', 'fresh', 'ttl'],
      ['TTL', 'ttl'],
      ['RPOPLPUSH', 'ttl', 'other'],
      ['TTL', 'ttl'],
      ['TTL', 'other'],
      // Elements of several sizes through the move buffer, a huge one in the middle.
      ['RPUSH', 'sizes', big('a', 300_000), big('b', 1_200_000), big('c', 300_000), 'd'],
      ['LMOVE', 'sizes', 'sizes2', 'RIGHT', 'LEFT'],
      ['LMOVE', 'sizes', 'sizes2', 'RIGHT', 'LEFT'],
      ['LMOVE', 'sizes', 'sizes2', 'RIGHT', 'LEFT'],
      ['RPOPLPUSH', 'sizes', 'sizes2'],
      ['LRANGE', 'sizes2', '0', '-1'],
      ['EXISTS', 'sizes'],
      // LMPOP
      ['DEL', 'a', 'b', 'c'],
      ['RPUSH', 'b', '1', '2', '3', '4', '5'],
      ['RPUSH', 'c', 'x'],
      ['LMPOP', '1', 'a', 'LEFT'],
      ['LMPOP', '2', 'a', 'b', 'LEFT'],
      ['LMPOP', '2', 'a', 'b', 'RIGHT'],
      ['LMPOP', '3', 'a', 'b', 'c', 'left', 'COUNT', '2'],
      ['LMPOP', '3', 'a', 'b', 'c', 'right', 'count', '10'],
      ['EXISTS', 'b'],
      ['LMPOP', '3', 'a', 'b', 'c', 'LEFT', 'COUNT', '1'],
      ['LMPOP', '3', 'a', 'b', 'c', 'LEFT'],
      ['RPUSH', 'c', 'x', 'y'],
      ['LMPOP', '2', 's', 'c', 'LEFT'],
      ['LMPOP', '2', 'c', 's', 'LEFT'],
      ['LMPOP', '2', 'missing', 's', 'LEFT'],
      ['LMPOP', '0', 'c', 'LEFT'],
      ['LMPOP', '-1', 'c', 'LEFT'],
      ['LMPOP', 'x', 'c', 'LEFT'],
      ['LMPOP', '2', 'c', 'LEFT'],
      ['LMPOP', '5', 'c', 'LEFT'],
      ['LMPOP', '1', 'c', 'MIDDLE'],
      ['LMPOP', '1', 'c', 'LEFT', 'COUNT'],
      ['LMPOP', '1', 'c', 'LEFT', 'COUNT', '0'],
      ['LMPOP', '1', 'c', 'LEFT', 'COUNT', '-1'],
      ['LMPOP', '1', 'c', 'LEFT', 'COUNT', 'x'],
      ['LMPOP', '1', 'c', 'LEFT', 'COUNT', '1', 'COUNT', '1'],
      ['LMPOP', '1', 'c', 'LEFT', 'FOO'],
      ['LMPOP', '1', 'c', 'LEFT', 'COUNT', '9223372036854775807'],
      ['LMPOP', '1', 'c'],
      ['LMPOP', '1', 'c', 'LEFT', 'COUNT', '1', 'extra'],
      hello3,
      ['LMPOP', '1', 'missing', 'LEFT'],
      ['RPUSH', 'c', 'x', 'y'],
      ['LMPOP', '1', 'c', 'RIGHT', 'COUNT', '5'],
      ['LMOVE', 'missing', 'x', 'LEFT', 'LEFT'],
      ['RPOPLPUSH', 'missing', 'x'],
    ]), []);
  });

  t.test('multi-node lists under several list-max-listpack-size settings', async (t) => {
    const diffs = [];
    // Element length classes: short, over 127 bytes (long length header), over 8 KB (a node of its own at -2).
    const sizes = [3, 200, 9000, 70000];
    for (const fill of ['-2', '4', '-1', '1', '0', '-5', '-6', '100', '-2']) {
      const steps: Step[] = [['CONFIG', 'SET', 'list-max-ziplist-size', fill], ['CONFIG', 'GET', 'list-max-listpack-size']];
      for (const size of sizes) {
        const n = size > 10000 ? 12 : size > 1000 ? 40 : 3000;
        const key = `l:${size}`;
        const elements = Array.from({ length: n }, (_, i) => (size < 10 ? String(i) : big(String(i), size)));
        steps.push(['RPUSH', key, ...elements.slice(0, n / 2)], ['LPUSH', key, ...elements.slice(n / 2)]);
        steps.push(['LLEN', key], ['OBJECT', 'ENCODING', key]);
        for (const i of [0, 1, n / 4, n / 2 - 1, n / 2, n / 2 + 1, n - 2, n - 1, -1, -n, -Math.floor(n / 3)]) steps.push(['LINDEX', key, String(i)]);
        const third = Math.floor(n / 3);
        steps.push(['LRANGE', key, '0', '-1'], ['LRANGE', key, String(third), String(third + 50)], ['LRANGE', key, '-60', '-30']);
        // Edits in the middle.
        const mid = elements[n / 4];
        steps.push(['LINSERT', key, 'BEFORE', mid, 'before-mid'], ['LINSERT', key, 'AFTER', mid, big('after-mid', size)]);
        steps.push(['LSET', key, String(n / 2), big('set-mid', size * 2)], ['LSET', key, String(n / 2 + 3), 's']);
        steps.push(['LSET', key, '-5', big('near-tail', 150)], ['LSET', key, '3', big('near-head', 9000)]);
        steps.push(['LPOS', key, mid], ['LPOS', key, 'before-mid', 'RANK', '-1'], ['LPOS', key, elements[n - 1], 'COUNT', '0']);
        steps.push(['LREM', key, '0', mid], ['LREM', key, '1', 's'], ['LREM', key, '-1', elements[3]]);
        for (let i = 0; i < 5; i++) steps.push(['LINSERT', key, 'AFTER', elements[(n / 2 + 10 + i) % n], `ins-${i}`]);
        steps.push(['LRANGE', key, '0', '-1'], ['LLEN', key]);
        // Pops over node boundaries, then trims into the middle of nodes.
        steps.push(['LPOP', key, String(Math.floor(n / 7))], ['RPOP', key, String(Math.floor(n / 9))], ['LPOP', key], ['RPOP', key]);
        steps.push(['LMOVE', key, `${key}:moved`, 'LEFT', 'RIGHT'], ['RPOPLPUSH', key, key]);
        steps.push(['LMPOP', '2', 'nothing', key, 'RIGHT', 'COUNT', String(Math.floor(n / 11))]);
        steps.push(['LTRIM', key, String(Math.floor(n / 13)), String(-Math.floor(n / 17))], ['LRANGE', key, '0', '-1']);
        steps.push(['LREM', key, '-3', elements[n - 7]], ['LTRIM', key, '1', '-2'], ['LRANGE', key, '0', '-1'], ['LLEN', key]);
        // Empty it element by element from both ends.
        steps.push(['LPOP', key, '100000'], ['EXISTS', key], ['DEL', `${key}:moved`]);
      }
      diffs.push(...await run(steps));
    }
    t.same(diffs, []);
  });

  t.test('COMMAND INFO, DOCS and GETKEYS of the list commands', async (t) => {
    t.same(await run([
      ...LIST_COMMANDS.map((name): Step => ['COMMAND', 'INFO', name]),
      ...LIST_COMMANDS.map((name): Step => ['COMMAND', 'DOCS', name]),
      ['COMMAND', 'GETKEYS', 'LMPOP', '2', 'a', 'b', 'LEFT'],
      ['COMMAND', 'GETKEYS', 'LMPOP', '5', 'a', 'LEFT'],
      ['COMMAND', 'GETKEYS', 'LMPOP', '0', 'a', 'LEFT'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'LMPOP', '2', 'a', 'b', 'LEFT', 'COUNT', '3'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'LMOVE', 'a', 'b', 'LEFT', 'RIGHT'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'RPOPLPUSH', 'a', 'b'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'LPUSH', 'a', 'x'],
    ]), []);
  });

  t.test('seeded randomized run of all list commands', async (t) => {
    const seed = Number(process.env.LIST_SEED ?? Date.now() % 1_000_000);
    const rnd = prngInt(seed);
    const pick = <T>(xs: T[]): T => xs[rnd(xs.length)];
    const keys = ['k0', 'k1', 'k2', 'k3', 's'];
    const pool = ['a', 'b', 'c', '1', '22', '', '-3', big('long', 140), 'a'];
    const element = (): string => (rnd(200) === 0 ? big(`huge${rnd(5)}`, 9000) : rnd(10) === 0 ? `e${rnd(1000)}` : pick(pool));
    const index = (): string => String(pick([0, 1, 2, -1, -2, 5, -5, 50, -50, rnd(30) - 15]));
    const side = (): string => pick(['LEFT', 'RIGHT']);
    const gen: (() => Step)[] = [
      () => ['LPUSH', pick(keys), ...Array.from({ length: 1 + rnd(rnd(4) === 0 ? 60 : 4) }, element)],
      () => ['RPUSH', pick(keys), ...Array.from({ length: 1 + rnd(rnd(4) === 0 ? 60 : 4) }, element)],
      () => [pick(['LPUSHX', 'RPUSHX']), pick(keys), element(), element()],
      () => [pick(['LPOP', 'RPOP']), pick(keys)],
      () => [pick(['LPOP', 'RPOP']), pick(keys), String(rnd(8) - 1)],
      () => ['LLEN', pick(keys)],
      () => ['LINDEX', pick(keys), index()],
      () => ['LSET', pick(keys), index(), element()],
      () => ['LRANGE', pick(keys), index(), index()],
      () => ['LTRIM', pick(keys), index(), rnd(3) === 0 ? index() : '-1'],
      () => ['LREM', pick(keys), String(rnd(7) - 3), element()],
      () => ['LINSERT', pick(keys), pick(['BEFORE', 'AFTER']), element(), element()],
      () => ['LPOS', pick(keys), element(), ...(rnd(2) ? ['RANK', String(pick([1, 2, -1, -2, 3]))] : []),
        ...(rnd(2) ? ['COUNT', String(rnd(4))] : []), ...(rnd(3) === 0 ? ['MAXLEN', String(rnd(10))] : [])],
      () => ['LMOVE', pick(keys), pick(keys), side(), side()],
      () => ['RPOPLPUSH', pick(keys), pick(keys)],
      () => ['LMPOP', '2', pick(keys), pick(keys), side(), ...(rnd(2) ? ['COUNT', String(1 + rnd(5))] : [])],
      () => ['CONFIG', 'SET', 'list-max-listpack-size', pick(['-2', '-1', '1', '2', '3', '5', '0'])],
      () => ({ cmd: ['HELLO', pick(['2', '3'])], map: ignore }),
    ];
    const steps: Step[] = [['SET', 's', 'string']];
    for (let i = 0; i < 6000; i++) {
      steps.push(gen[rnd(gen.length)]());
      if (i % 500 === 499) for (const k of keys) steps.push(['LRANGE', k, '0', '-1'], ['TYPE', k]);
    }
    for (const k of keys) steps.push(['LRANGE', k, '0', '-1'], ['TYPE', k]);
    const diffs = await run(steps);
    t.same(diffs.slice(0, 5), [], `seed ${seed} (rerun with LIST_SEED=${seed})`);
  });
}

t.test('quicklist structure under random edits, in process against an array model', (t) => {
  const seed = Number(process.env.QUICKLIST_SEED ?? Date.now() % 1_000_000);
  const rnd = prngInt(seed);
  const geometry = { databases: 1, shardBits: 0 };
  const a = new Shard(Shard.allocate(geometry), 0, geometry);
  const h = a.alloc(16);
  qlInit(a, h);
  const model: Buffer[] = [];
  let fill = -2;
  let n = 0;
  const element = (): Buffer => {
    const kind = rnd(100);
    const len = kind < 70 ? rnd(6) : kind < 95 ? 100 + rnd(100) : kind < 99 ? 8000 + rnd(1000) : 70000;
    return Buffer.alloc(len, `${n++ % 251}`);
  };
  const at = (i: number): Buffer => {
    readForward(a.u8, qlCursor.pos);
    return Buffer.from(a.u8.subarray(elem.start, elem.start + elem.len));
  };
  const problems: string[] = [];
  const check = (step: number): void => {
    const broken = qlVerify(a, h);
    if (broken !== null) problems.push(`step ${step}: ${broken}`);
    if (qlCount(a, h) !== model.length) problems.push(`step ${step}: length ${qlCount(a, h)} vs ${model.length}`);
    if (model.length === 0) return;
    qlSeek(a, h, 0);
    for (let i = 0; i < model.length; i++) {
      if (!at(i).equals(model[i])) problems.push(`step ${step}: element ${i} differs forwards`);
      if (qlNext(a) !== (i < model.length - 1)) problems.push(`step ${step}: forward walk ends at ${i}`);
    }
    qlSeek(a, h, -1);
    for (let i = model.length - 1; i >= 0; i--) {
      if (!at(i).equals(model[i])) problems.push(`step ${step}: element ${i} differs backwards`);
      if (qlPrev(a) !== i > 0) problems.push(`step ${step}: backward walk ends at ${i}`);
    }
  };
  for (let step = 0; step < 6000 && problems.length === 0; step++) {
    const op = rnd(11);
    const len = model.length;
    const index = len === 0 ? 0 : rnd(len);
    if (op <= 2 || len === 0) {
      const head = rnd(2) === 0;
      const count = 1 + rnd(rnd(5) === 0 ? 200 : 3);
      for (let i = 0; i < count; i++) {
        const e = element();
        qlPush(a, h, e, 0, e.length, head, fill);
        if (head) model.unshift(e);
        else model.push(e);
      }
    } else if (op === 3) {
      const start = rnd(len + 5) - (rnd(2) ? len : 0);
      const count = rnd(rnd(4) === 0 ? len + 2 : 10);
      const from = start < 0 ? Math.max(0, start + len) : start;
      const deleted = qlDeleteRange(a, h, start, count);
      const expected = model.splice(from, Math.max(0, count)).length;
      if (deleted !== expected) problems.push(`step ${step}: qlDeleteRange(${start}, ${count}) deleted ${deleted}, expected ${expected}`);
    } else if (op === 4) {
      const e = element();
      const after = rnd(2) === 0;
      qlSeek(a, h, index);
      qlInsertAtCursor(a, h, e, 0, e.length, after, fill);
      model.splice(after ? index + 1 : index, 0, e);
    } else if (op === 5) {
      const e = element();
      qlSeek(a, h, index);
      qlReplaceAtCursor(a, h, e, 0, e.length);
      model[index] = e;
    } else if (op === 6) {
      const backward = rnd(2) === 0;
      qlSeek(a, h, index);
      const more = qlDeleteAtCursor(a, h, backward);
      model.splice(index, 1);
      const expected = backward ? index > 0 : index < model.length;
      const then = backward ? index - 1 : index;
      if (more !== expected) problems.push(`step ${step}: qlDeleteAtCursor(${backward}) said ${more} at ${index} of ${len}`);
      else if (more && !at(then).equals(model[then])) problems.push(`step ${step}: cursor after a delete is not on the element ${backward ? 'before' : 'after'}`);
    } else if (op === 7) {
      fill = [-2, -1, 1, 2, 4, 0, -5, 3, 128][rnd(9)];
    } else if (op === 8) {
      // A run of pops at one end: node data drifts inside its block.
      const head = rnd(2) === 0;
      for (let i = Math.min(len, 1 + rnd(40)); i > 0; i--) {
        qlSeek(a, h, head ? 0 : -1);
        qlDeleteAtCursor(a, h);
        if (head) model.shift();
        else model.pop();
      }
    } else {
      qlSeek(a, h, index - (rnd(2) ? len : 0));
      if (!at(index).equals(model[index])) problems.push(`step ${step}: qlSeek(${index}) reads another element`);
    }
    if (step % 50 === 0) check(step);
  }
  check(-1);
  t.same(problems.slice(0, 5), [], `seed ${seed} (rerun with QUICKLIST_SEED=${seed})`);
  t.end();
});

t.test('what each command marks dirty and propagates (data-types.md section 5)', (t) => {
  const c = new CommandContext(new ReplyWriter(), new Keyspace(allocateKeyspace(16, 2)));
  c.client = { id: 1, db: 0, resp: 2, authenticated: true, replyMode: ReplyMode.On, lastCommand: '' } as unknown as ClientState;
  const stats = { commands: 0, keyspaceHits: 0, keyspaceMisses: 0, rejectedCalls: 0, failedCalls: 0 };
  c.server = { stats, limits: defaultCollectionLimits(), keyspaceEvents: 0, watches: { any: false }, configGet: () => undefined } as unknown as ServerServices;
  /** [dirty, the effect form or 'as received' (null)] after running a command, as the dispatcher would. */
  const effect = (...args: string[]): [number, string | null] => {
    setArgs(c, args);
    c.spec = commandTable().top.findByName(args[0].toLowerCase())!;
    c.dirty = 0;
    c.propagateAs = null;
    try {
      c.spec.handler!(c);
    } finally {
      c.unlockAll();
    }
    c.out.take();
    const form = c.propagateAs as (string | Uint8Array | number)[] | null;
    return [c.dirty, form === null ? null : form.map((a) => (typeof a === 'number' ? String(a) : Buffer.from(a).toString('latin1'))).join(' ')];
  };
  t.same(effect('RPUSH', 'l', 'a', 'b', 'c', 'd', 'e'), [5, null]);
  t.same(effect('LPUSHX', 'missing', 'a'), [0, null], 'LPUSHX on a missing key changes nothing');
  t.same(effect('LPUSHX', 'l', 'x', 'y'), [2, null]);
  t.same(effect('LPOP', 'missing'), [0, null]);
  t.same(effect('LPOP', 'l', '0'), [0, null]);
  t.same(effect('LPOP', 'l'), [1, null]);
  t.same(effect('RPOP', 'l', '2'), [2, null]);
  t.same(effect('LSET', 'l', '0', 'z'), [1, null]);
  t.same(effect('LSET', 'l', '99', 'z'), [0, null]);
  t.same(effect('LINSERT', 'l', 'BEFORE', 'nope', 'x'), [0, null]);
  t.same(effect('LINSERT', 'l', 'BEFORE', 'a', 'x'), [1, null]);
  t.same(effect('LREM', 'l', '0', 'nope'), [0, null]);
  t.same(effect('LREM', 'l', '0', 'x'), [1, null]);
  t.same(effect('LTRIM', 'l', '0', '-1'), [0, null], 'LTRIM that removes nothing is not propagated');
  t.same(effect('RPUSH', 'l', '1', '2', '3'), [3, null]);
  t.same(effect('LTRIM', 'l', '1', '-2'), [2, null]);
  t.same(effect('LRANGE', 'l', '0', '-1'), [0, null]);
  t.same(effect('LPOS', 'l', 'a'), [0, null]);
  t.same(effect('LMOVE', 'missing', 'l', 'LEFT', 'LEFT'), [0, null]);
  t.same(effect('LMOVE', 'l', 'm', 'LEFT', 'RIGHT'), [1, null]);
  t.same(effect('RPOPLPUSH', 'l', 'l'), [1, null]);
  t.same(effect('LMPOP', '2', 'missing', 'l', 'RIGHT', 'COUNT', '100'), [4, 'RPOP l 4'], 'LMPOP propagates as RPOP key n, n clamped to the length');
  t.same(effect('RPUSH', 'l', 'a', 'b', 'c'), [3, null]);
  t.same(effect('LMPOP', '1', 'l', 'LEFT'), [1, 'LPOP l 1']);
  t.same(effect('LMPOP', '1', 'missing', 'LEFT'), [0, null]);
  t.end();
});

t.test('lists reach a weft replica: full sync of existing lists, then the write stream', async (t) => {
  const master = await startWeft([], { threads: 2 });
  t.teardown(() => master.stop());
  const m = await RawClient.connect(master.port);
  t.teardown(() => m.close());
  const keys = Array.from({ length: 40 }, (_, i) => `pre:${i}`);
  await m.pipeline([['CONFIG', 'SET', 'list-max-listpack-size', '5'],
    ...keys.map((k, i) => ['RPUSH', k, ...Array.from({ length: 50 + i * 20 }, (_, j) => (j % 7 === 0 ? big(`v${j}`, 300) : `v${j}`))])]);
  const replica = await startWeft(['--replicaof', `127.0.0.1 ${master.port}`], { threads: 1 });
  t.teardown(() => replica.stop());
  const rc = await RawClient.connect(replica.port);
  t.teardown(() => rc.close());
  await waitFor('the replica link', 20000, async () => ((await replicationInfo(rc)).master_link_status === 'up' ? true : 'down'));
  await m.pipeline([
    ['RPUSH', 'a', '1', '2', '3', '4', '5', '6'], ['LMPOP', '2', 'x', 'a', 'RIGHT', 'COUNT', '2'], ['LMOVE', 'a', 'b', 'LEFT', 'RIGHT'],
    ['RPOPLPUSH', 'a', 'a'], ['LINSERT', 'a', 'BEFORE', '3', 'ins'], ['LSET', 'a', '0', 'set'], ['LREM', 'pre:3', '0', 'v5'],
    ['LTRIM', 'pre:4', '10', '-10'], ['LPOP', 'pre:5', '30'], ['RPOP', 'pre:6'], ['LPUSHX', 'pre:7', 'x'], ['LMPOP', '1', 'pre:8', 'LEFT', 'COUNT', '1000'],
    ['LPUSH', 'c', 'x'], ['LPOP', 'c'],
  ]);
  t.equal((await m.command('WAIT', '1', '5000')).toString(), ':1\r\n');
  for (const k of [...keys, 'a', 'b', 'c']) {
    const [x, y] = [await m.command('LRANGE', k, '0', '-1'), await rc.command('LRANGE', k, '0', '-1')];
    if (!x.equals(y)) t.fail(`${k}: ${x.toString('latin1').slice(0, 80)} on the master, ${y.toString('latin1').slice(0, 80)} on the replica`);
  }
  t.equal((await rc.command('DBSIZE')).toString(), (await m.command('DBSIZE')).toString());
});
