/**
 * The sorted-set family (src/commands/sorted-sets.ts and zset-*.ts)
 * against Redis 7.0.15, byte for byte: ZADD and its options, ZINCRBY, ZREM,
 * the score, rank and count queries, the ranges, removals and pops, every
 * error reply, RESP3 shapes, score formatting, and OBJECT ENCODING around
 * the listpack -> skiplist thresholds. The core suite runs once with the
 * default limits (small sets are listpacks) and once after CONFIG SET
 * zset-max-ziplist-entries 0 (every set a skiplist). COMMAND INFO and DOCS
 * of every sorted-set command are compared too. Algebra, ZRANDMEMBER, ZSCAN
 * and the randomized model test are in differential-sorted-sets-2.test.ts.
 */
import t from 'tap';
import { requireRedisTools } from './helpers/servers.js';
import { connectPair, diffScript, startPair, type Step } from './helpers/differential.js';

const ZSET_COMMANDS = [
  'zadd', 'zincrby', 'zrem', 'zcard', 'zscore', 'zmscore', 'zrank', 'zrevrank', 'zcount', 'zlexcount', 'zrange', 'zrangestore',
  'zrevrange', 'zrangebyscore', 'zrevrangebyscore', 'zrangebylex', 'zrevrangebylex', 'zremrangebyrank', 'zremrangebyscore',
  'zremrangebylex', 'zpopmin', 'zpopmax', 'zmpop', 'zrandmember', 'zscan', 'zunion', 'zinter', 'zdiff', 'zintercard', 'zunionstore',
  'zinterstore', 'zdiffstore',
];

/** HELLO's reply carries ids and versions that differ: only its success is compared. */
const hello = (v: string): Step => ({ cmd: ['HELLO', v], map: (r) => r.slice(0, 1) });

/** ZADD, ZINCRBY, ZREM and the point queries, under whatever encoding the limits give. */
function pointSteps(): Step[] {
  return [
    ['ZADD', 'z', '1', 'a'],
    ['ZADD', 'z', '2', 'b', '3', 'c', '1', 'a'],
    ['ZADD', 'z', 'NX', '10', 'a', '4', 'd'],
    ['ZADD', 'z', 'XX', '10', 'a', '5', 'e'],
    ['ZADD', 'z', 'XX', 'CH', '11', 'a', '5', 'e', '11', 'b'],
    ['ZADD', 'z', 'CH', '11', 'a', '12', 'b', '6', 'f'],
    ['ZADD', 'z', 'GT', 'CH', '1', 'a', '20', 'b', '7', 'g'],
    ['ZADD', 'z', 'LT', 'CH', '1', 'a', '30', 'b', '8', 'h'],
    ['ZADD', 'z', 'XX', 'GT', '100', 'c', '100', 'zz'],
    ['ZADD', 'z', 'xx', 'lt', 'ch', '2', 'c'],
    ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
    ['ZADD', 'z', 'INCR', '5', 'a'],
    ['ZADD', 'z', 'INCR', 'NX', '5', 'a'],
    ['ZADD', 'z', 'INCR', 'NX', '5', 'new'],
    ['ZADD', 'z', 'INCR', 'XX', '5', 'missing'],
    ['ZADD', 'z', 'INCR', 'GT', '-1', 'a'],
    ['ZADD', 'z', 'INCR', 'LT', '-1', 'a'],
    ['ZADD', 'z', 'INCR', 'GT', '0', 'a'],
    ['ZADD', 'z', 'INCR', '0', 'a'],
    ['ZADD', 'z', 'INCR', 'CH', '1', 'a'],
    ['ZADD', 'z', 'NX', 'XX', '1', 'a'],
    ['ZADD', 'z', 'NX', 'GT', '1', 'a'],
    ['ZADD', 'z', 'NX', 'LT', '1', 'a'],
    ['ZADD', 'z', 'GT', 'LT', '1', 'a'],
    ['ZADD', 'z', 'XX', 'NX', 'GT', '1', 'a'],
    ['ZADD', 'z', 'INCR', '1', 'a', '2', 'b'],
    ['ZADD', 'z', 'NX', 'XX', 'INCR', '1', 'a', '2', 'b'],
    ['ZADD', 'z', '1'],
    ['ZADD', 'z', '1', 'a', '2'],
    ['ZADD', 'z', 'NX'],
    ['ZADD', 'z', 'CH', 'INCR'],
    ['ZADD', 'z', 'abc', 'a'],
    ['ZADD', 'z', '1', 'a', 'abc', 'b'],
    ['ZADD', 'z', 'nan', 'a'],
    ['ZADD', 'z', '', 'a'],
    ['ZADD', 'z', ' 1', 'a'],
    ['ZADD', 'z', '1 ', 'a'],
    ['ZADD', 'z', '1e400', 'a'],
    ['ZADD', 'z', '0x10', 'hex', '-Infinity', 'ninf', '+inf', 'pinf', '1e-310', 'tiny', '.5', 'half', '5.', 'five'],
    ['ZADD', 'z', 'inf', 'a'],
    ['ZADD', 'z', 'INCR', '-inf', 'a'],
    ['ZINCRBY', 'z', '-inf', 'a'],
    ['ZSCORE', 'z', 'a'],
    ['ZINCRBY', 'z', '1', 'a'],
    ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
    ['ZCARD', 'z'],
    ['ZINCRBY', 'z', '2.5', 'b'],
    ['ZINCRBY', 'z', '2.5', 'brand-new'],
    ['ZINCRBY', 'z', 'abc', 'b'],
    ['ZINCRBY', 'z', 'NX', 'b'],
    ['ZINCRBY', 'z', 'XX', 'b'],
    ['ZINCRBY', 'fresh', '3', 'x'],
    ['ZRANGE', 'fresh', '0', '-1', 'WITHSCORES'],
    ['ZINCRBY', 'z', '1'],
    ['ZREM', 'z', 'a', 'nothere', 'b', 'b'],
    ['ZREM', 'z', 'nothere'],
    ['ZREM', 'missing', 'a'],
    ['ZREM', 'fresh', 'x'],
    ['EXISTS', 'fresh'],
    ['ZADD', 'two', '1', 'x', '2', 'y'],
    ['ZREM', 'two', 'x', 'y', 'z'],
    ['EXISTS', 'two'],
    ['ZCARD', 'z'],
    ['ZCARD', 'missing'],
    ['ZSCORE', 'z', 'c'],
    ['ZSCORE', 'z', 'nothere'],
    ['ZSCORE', 'missing', 'a'],
    ['ZMSCORE', 'z', 'c', 'nothere', 'd', 'hex', 'tiny'],
    ['ZMSCORE', 'missing', 'a', 'b'],
    ['ZRANK', 'z', 'c'],
    ['ZRANK', 'z', 'hex'],
    ['ZREVRANK', 'z', 'hex'],
    ['ZRANK', 'z', 'nothere'],
    ['ZREVRANK', 'missing', 'a'],
    ['ZRANK', 'z', 'ninf'],
    ['ZREVRANK', 'z', 'ninf'],
    ['ZRANK', 'z', 'a', 'WITHSCORE'],
    ['SET', 'str', 'v'],
    ['ZADD', 'str', '1', 'a'],
    ['ZINCRBY', 'str', '1', 'a'],
    ['ZREM', 'str', 'a'],
    ['ZCARD', 'str'],
    ['ZSCORE', 'str', 'a'],
    ['ZMSCORE', 'str', 'a'],
    ['ZRANK', 'str', 'a'],
    ['ZREVRANK', 'str', 'a'],
    ['ZADD', 'str', 'XX', '1', 'a'],
    ['ZADD', 'str', 'abc', 'a'],
    ['ZADD', 'str', 'NX', 'XX', '1', 'a'],
    ['ZADD'],
    ['ZADD', 'z'],
    ['ZADD', 'z', '1'],
    ['ZINCRBY', 'z', '1'],
    ['ZREM', 'z'],
    ['ZCARD'],
    ['ZCARD', 'a', 'b'],
    ['ZSCORE', 'z'],
    ['ZMSCORE', 'z'],
    ['ZRANK', 'z'],
    ['ZADD', 'bin', '1', Buffer.from([0, 0xff, 13, 10]), '1', Buffer.from([0]), '1', Buffer.from([0, 0])],
    ['ZRANGE', 'bin', '0', '-1', 'WITHSCORES'],
    ['ZSCORE', 'bin', Buffer.from([0, 0xff, 13, 10])],
    ['ZADD', 'empty', '1', ''],
    ['ZRANGE', 'empty', '0', '-1', 'WITHSCORES'],
    ['ZSCORE', 'empty', ''],
  ];
}

/** Ties broken by member bytes; the same score updated in place or moved. */
function orderSteps(): Step[] {
  return [
    ['ZADD', 'o', '0', 'b', '0', 'a', '0', 'ab', '0', 'A', '0', '', '-0', 'c', '0', 'aa'],
    ['ZRANGE', 'o', '0', '-1', 'WITHSCORES'],
    ['ZADD', 'o', '-0', 'a'],
    ['ZSCORE', 'o', 'a'],
    ['ZSCORE', 'o', 'c'],
    ['ZADD', 'o', '1', 'b', '-1', 'ab', '0.5', 'aa'],
    ['ZRANGE', 'o', '0', '-1', 'WITHSCORES'],
    ['ZINCRBY', 'o', '-2', 'b'],
    ['ZINCRBY', 'o', '3', 'ab'],
    ['ZRANGE', 'o', '0', '-1', 'WITHSCORES'],
    ['ZRANK', 'o', 'ab'],
    ['ZREVRANK', 'o', 'b'],
  ];
}

/** Rank, score and lex ranges, with every option and error. */
function rangeSteps(): Step[] {
  const steps: Step[] = [
    ['ZADD', 'r', '1', 'a', '2', 'b', '3', 'c', '4', 'd', '5', 'e', '6', 'f', '7', 'g'],
    ['ZADD', 'lex', '0', 'alpha', '0', 'bar', '0', 'baz', '0', 'foo', '0', 'zap', '0', 'zip', '0', ''],
  ];
  for (const [a, b] of [['0', '-1'], ['2', '4'], ['-3', '-1'], ['5', '100'], ['3', '2'], ['-100', '1'], ['7', '10'], ['-1', '-100'],
    ['0', '0'], ['-100', '-100']]) {
    steps.push(['ZRANGE', 'r', a, b], ['ZRANGE', 'r', a, b, 'WITHSCORES'], ['ZRANGE', 'r', a, b, 'REV'], ['ZREVRANGE', 'r', a, b, 'WITHSCORES']);
  }
  for (const [min, max] of [['-inf', '+inf'], ['2', '4'], ['(2', '4'], ['2', '(4'], ['(2', '(4'], ['(4', '(4'], ['4', '4'], ['5', '2'],
    ['-inf', '(1'], ['(7', 'inf'], ['1e0', '0x4'], [' 2', '4'], ['', '3'], ['1e400', 'inf'], ['-1e400', '3']]) {
    steps.push(['ZRANGEBYSCORE', 'r', min, max], ['ZRANGEBYSCORE', 'r', min, max, 'WITHSCORES'],
      ['ZREVRANGEBYSCORE', 'r', max, min, 'WITHSCORES'], ['ZRANGE', 'r', min, max, 'BYSCORE'], ['ZRANGE', 'r', max, min, 'BYSCORE', 'REV'],
      ['ZCOUNT', 'r', min, max]);
  }
  for (const [off, cnt] of [['0', '2'], ['1', '2'], ['2', '-1'], ['-1', '2'], ['0', '0'], ['6', '5'], ['7', '1'], ['100', '1'],
    ['1', '-5'], ['9223372036854775807', '1']]) {
    steps.push(['ZRANGEBYSCORE', 'r', '-inf', '+inf', 'LIMIT', off, cnt], ['ZREVRANGEBYSCORE', 'r', '+inf', '-inf', 'WITHSCORES', 'LIMIT', off, cnt],
      ['ZRANGE', 'r', '(1', '6', 'BYSCORE', 'LIMIT', off, cnt], ['ZRANGEBYLEX', 'lex', '-', '+', 'LIMIT', off, cnt],
      ['ZREVRANGEBYLEX', 'lex', '+', '-', 'LIMIT', off, cnt], ['ZRANGE', 'lex', '+', '[b', 'BYLEX', 'REV', 'LIMIT', off, cnt]);
  }
  for (const [min, max] of [['-', '+'], ['[bar', '[foo'], ['(bar', '(foo'], ['[b', '(c'], ['(zip', '+'], ['-', '[alpha'], ['-', '(alpha'],
    ['+', '-'], ['[foo', '[bar'], ['[foo', '[foo'], ['(foo', '[foo'], ['-', '-'], ['+', '+'], ['[', '[bar'], ['(', '+'],
    ['-', '[']]) {
    steps.push(['ZRANGEBYLEX', 'lex', min, max], ['ZREVRANGEBYLEX', 'lex', max, min], ['ZRANGE', 'lex', min, max, 'BYLEX'],
      ['ZRANGE', 'lex', max, min, 'BYLEX', 'REV'], ['ZLEXCOUNT', 'lex', min, max]);
  }
  steps.push(
    ['ZRANGE', 'r', '0', '-1', 'LIMIT', '0', '1'],
    ['ZRANGE', 'r', '0', '-1', 'LIMIT', '0', '-1'],
    ['ZRANGE', 'r', '0', '-1', 'LIMIT', '1', '-1'],
    ['ZRANGE', 'lex', '-', '+', 'BYLEX', 'WITHSCORES'],
    ['ZRANGEBYLEX', 'lex', '-', '+', 'WITHSCORES'],
    ['ZRANGE', 'r', '0', '-1', 'BYSCORE', 'BYLEX'],
    ['ZRANGE', 'r', '0', '-1', 'BYSCORE', 'BYSCORE'],
    ['ZRANGE', 'r', '0', '-1', 'REV', 'REV'],
    ['ZRANGE', 'r', '0', '-1', 'WITHSCORES', 'WITHSCORES'],
    ['ZRANGE', 'r', '0', '-1', 'LIMIT', '0'],
    ['ZRANGE', 'r', '0', '-1', 'LIMIT'],
    ['ZRANGE', 'r', '0', '-1', 'BYSCORE', 'LIMIT', 'x', '1'],
    ['ZRANGE', 'r', '0', '-1', 'BYSCORE', 'LIMIT', '0', '1.5'],
    ['ZRANGE', 'r', '0', '-1', 'FOO'],
    ['ZRANGE', 'r', 'a', '-1'],
    ['ZRANGE', 'r', '0', '1.5'],
    ['ZRANGE', 'r', 'a', 'b', 'BYSCORE'],
    ['ZRANGE', 'r', '(', '1', 'BYSCORE'],
    ['ZRANGE', 'r', '1', 'nan', 'BYSCORE'],
    ['ZRANGE', 'r', 'a', 'b', 'BYLEX'],
    ['ZRANGE', 'r', '-x', '+', 'BYLEX'],
    ['ZRANGE', 'r', '', '+', 'BYLEX'],
    ['ZRANGEBYSCORE', 'r', '0', '10', 'REV'],
    ['ZRANGEBYSCORE', 'r', '0', '10', 'BYSCORE'],
    ['ZRANGEBYSCORE', 'r', '0', '10', 'WITHSCORES', 'LIMIT', '1'],
    ['ZREVRANGE', 'r', '0', '-1', 'LIMIT', '0', '1'],
    ['ZREVRANGE', 'r', '0', '-1', 'BYSCORE'],
    ['ZRANGEBYLEX', 'lex', '-', '+', 'BYLEX'],
    ['ZRANGEBYLEX', 'lex', 'a', '+'],
    ['ZCOUNT', 'r', 'x', '1'],
    ['ZCOUNT', 'r', '1'],
    ['ZLEXCOUNT', 'lex', 'x', '+'],
    ['ZCOUNT', 'missing', '0', '1'],
    ['ZCOUNT', 'missing', 'x', '1'],
    ['ZLEXCOUNT', 'missing', '-', '+'],
    ['ZRANGE', 'missing', '0', '-1'],
    ['ZRANGE', 'missing', 'a', '-1'],
    ['ZRANGEBYSCORE', 'missing', '0', '1'],
    ['ZRANGEBYLEX', 'missing', '-', '+'],
    ['SET', 'str', 'v'],
    ['ZRANGE', 'str', '0', '-1'],
    ['ZRANGE', 'str', 'a', '-1'],
    ['ZRANGEBYSCORE', 'str', '0', '1'],
    ['ZRANGEBYLEX', 'str', '-', '+'],
    ['ZCOUNT', 'str', '0', '1'],
    ['ZLEXCOUNT', 'str', '-', '+'],
    ['ZRANGE', 'r', '0'],
    ['ZREVRANGE', 'r', '0'],
    ['ZRANGEBYSCORE', 'r', '0'],
    ['ZRANGEBYLEX', 'r', '-'],
  );
  return steps;
}

/** ZRANGESTORE, the ZREMRANGEBY* commands, the pops and ZMPOP. */
function writeRangeSteps(): Step[] {
  const fill: Step = ['ZADD', 'r', '1', 'a', '2', 'b', '3', 'c', '4', 'd', '5', 'e', '6', 'f', '7', 'g'];
  return [
    fill,
    ['ZRANGESTORE', 'dst', 'r', '1', '3'],
    ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
    ['ZRANGESTORE', 'dst', 'r', '(2', '+inf', 'BYSCORE', 'REV'],
    ['ZRANGESTORE', 'dst', 'r', '+inf', '(2', 'BYSCORE', 'REV', 'LIMIT', '1', '2'],
    ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
    ['ZRANGESTORE', 'dst', 'r', '[b', '[d', 'BYLEX'],
    ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
    ['ZRANGESTORE', 'dst', 'r', '0', '-1', 'REV'],
    ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
    ['SET', 'sdst', 'x', 'EX', '100'],
    ['ZRANGESTORE', 'sdst', 'r', '0', '0'],
    ['TYPE', 'sdst'],
    ['TTL', 'sdst'],
    ['ZRANGESTORE', 'dst', 'r', '5', '1'],
    ['EXISTS', 'dst'],
    ['ZRANGESTORE', 'dst', 'r', '0', '-1', 'BYSCORE', 'LIMIT', '-1', '2'],
    ['ZRANGESTORE', 'dst', 'missing', '0', '-1'],
    ['SET', 'str', 'v'],
    ['ZRANGESTORE', 'dst', 'r', '0', '1'],
    ['ZRANGESTORE', 'dst', 'str', '0', '-1'],
    ['EXISTS', 'dst'],
    ['ZRANGESTORE', 'dst', 'r', '0', '-1', 'WITHSCORES'],
    ['ZRANGESTORE', 'dst', 'r', '0', '-1', 'LIMIT', '0', '1'],
    ['ZRANGESTORE', 'dst', 'r', '0'],
    ['ZRANGESTORE', 'r', 'r', '2', '3'],
    ['ZRANGE', 'r', '0', '-1', 'WITHSCORES'],
    fill,
    ['ZREMRANGEBYRANK', 'r', '1', '2'],
    ['ZREMRANGEBYRANK', 'r', '-2', '-1'],
    ['ZREMRANGEBYRANK', 'r', '5', '10'],
    ['ZREMRANGEBYRANK', 'r', '2', '1'],
    ['ZRANGE', 'r', '0', '-1', 'WITHSCORES'],
    ['ZREMRANGEBYRANK', 'r', '0', '-1'],
    ['EXISTS', 'r'],
    fill,
    ['ZREMRANGEBYSCORE', 'r', '(2', '4'],
    ['ZREMRANGEBYSCORE', 'r', '10', '20'],
    ['ZREMRANGEBYSCORE', 'r', '5', '1'],
    ['ZRANGE', 'r', '0', '-1', 'WITHSCORES'],
    ['ZREMRANGEBYSCORE', 'r', '-inf', '+inf'],
    ['EXISTS', 'r'],
    ['ZADD', 'lex', '0', 'alpha', '0', 'bar', '0', 'baz', '0', 'foo', '0', 'zap', '0', 'zip'],
    ['ZREMRANGEBYLEX', 'lex', '[bar', '(foo'],
    ['ZREMRANGEBYLEX', 'lex', '(zip', '+'],
    ['ZRANGE', 'lex', '0', '-1'],
    ['ZREMRANGEBYLEX', 'lex', '-', '+'],
    ['EXISTS', 'lex'],
    ['ZREMRANGEBYRANK', 'missing', '0', '1'],
    ['ZREMRANGEBYRANK', 'missing', 'x', '1'],
    ['ZREMRANGEBYSCORE', 'missing', 'x', '1'],
    ['ZREMRANGEBYLEX', 'missing', 'x', '+'],
    ['ZREMRANGEBYRANK', 'str', '0', '1'],
    ['ZREMRANGEBYSCORE', 'str', '0', '1'],
    ['ZREMRANGEBYLEX', 'str', '-', '+'],
    ['ZREMRANGEBYRANK', 'str', 'x', '1'],
    ['ZREMRANGEBYRANK', 'r', '0'],
    fill,
    ['ZPOPMIN', 'r'],
    ['ZPOPMAX', 'r'],
    ['ZPOPMIN', 'r', '2'],
    ['ZPOPMAX', 'r', '0'],
    ['ZPOPMIN', 'r', '-1'],
    ['ZPOPMIN', 'r', 'x'],
    ['ZPOPMIN', 'r', '1', '2'],
    ['ZPOPMAX', 'r', '100'],
    ['EXISTS', 'r'],
    ['ZPOPMIN', 'missing'],
    ['ZPOPMIN', 'missing', '0'],
    ['ZPOPMIN', 'missing', '-1'],
    ['ZPOPMAX', 'str'],
    ['ZPOPMAX', 'str', '0'],
    fill,
    ['ZMPOP', '1', 'r', 'MIN'],
    ['ZMPOP', '2', 'missing', 'r', 'max', 'COUNT', '2'],
    ['ZMPOP', '2', 'missing', 'missing2', 'MIN'],
    ['ZMPOP', '2', 'missing', 'str', 'MIN'],
    ['ZMPOP', '2', 'r', 'str', 'MIN', 'COUNT', '10'],
    ['EXISTS', 'r'],
    ['ZMPOP', '0', 'r', 'MIN'],
    ['ZMPOP', '-1', 'r', 'MIN'],
    ['ZMPOP', 'x', 'r', 'MIN'],
    ['ZMPOP', '2', 'r', 'MIN'],
    ['ZMPOP', '1', 'r', 'MID'],
    ['ZMPOP', '1', 'r', 'MIN', 'COUNT'],
    ['ZMPOP', '1', 'r', 'MIN', 'COUNT', '0'],
    ['ZMPOP', '1', 'r', 'MIN', 'COUNT', '-1'],
    ['ZMPOP', '1', 'r', 'MIN', 'COUNT', 'x'],
    ['ZMPOP', '1', 'r', 'MIN', 'COUNT', '1', 'COUNT', '1'],
    ['ZMPOP', '1', 'r', 'MIN', 'FOO'],
    ['ZMPOP', '9223372036854775807', 'r', 'MIN'],
    ['ZMPOP', '1', 'r'],
  ];
}

/** The whole core suite (each part starts from an empty database). */
function coreParts(): Step[][] {
  return [pointSteps(), orderSteps(), rangeSteps(), writeRangeSteps()];
}

/** RESP3 shapes of every reply kind. */
function resp3Steps(): Step[] {
  return [
    hello('3'),
    ['ZADD', 'z', '1.5', 'a', '2', 'b', 'inf', 'c', '-inf', 'd'],
    ['ZSCORE', 'z', 'a'],
    ['ZSCORE', 'z', 'c'],
    ['ZSCORE', 'z', 'nothere'],
    ['ZMSCORE', 'z', 'a', 'd', 'nothere'],
    ['ZINCRBY', 'z', '1', 'a'],
    ['ZADD', 'z', 'INCR', '1', 'b'],
    ['ZADD', 'z', 'INCR', 'XX', '1', 'nothere'],
    ['ZRANK', 'z', 'nothere'],
    ['ZRANGE', 'z', '0', '-1'],
    ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
    ['ZRANGE', 'z', '+inf', '-inf', 'BYSCORE', 'REV', 'WITHSCORES', 'LIMIT', '1', '2'],
    ['ZRANGEBYSCORE', 'z', '-inf', '+inf', 'WITHSCORES'],
    ['ZREVRANGE', 'z', '0', '1', 'WITHSCORES'],
    ['ZRANGE', 'missing', '0', '-1', 'WITHSCORES'],
    ['ZPOPMIN', 'z'],
    ['ZPOPMIN', 'z', '1'],
    ['ZPOPMAX', 'z', '5'],
    ['ZPOPMIN', 'missing'],
    ['ZPOPMIN', 'missing', '2'],
    ['ZADD', 'z', '1', 'a', '2', 'b'],
    ['ZPOPMAX', 'z', '0'],
    ['ZMPOP', '1', 'z', 'MIN'],
    ['ZMPOP', '1', 'z', 'MAX', 'COUNT', '3'],
    ['ZMPOP', '1', 'z', 'MIN'],
    hello('2'),
  ];
}

/** %.17g as Redis 7.0 prints it, through replies and through ZINCRBY's additions. */
function formatSteps(): Step[] {
  const values = ['1.1', '3', '1e20', '-0', '0', 'inf', '-inf', '0.1', '1e-5', '0.0001', '123456789012345678', '1e16', '1e17',
    '9007199254740993', '-1.5e-300', '4.9e-324', '1.7976931348623157e308', '0.30000000000000004', '2.5', '1e-4', '100', '1234.5678',
    '0x1p-1074', '3.14159265358979'];
  const steps: Step[] = [];
  values.forEach((v, i) => steps.push(['ZADD', 'f', v, `m${i}`]));
  steps.push(['ZRANGE', 'f', '0', '-1', 'WITHSCORES']);
  values.forEach((_, i) => steps.push(['ZSCORE', 'f', `m${i}`]));
  steps.push(
    ['ZINCRBY', 'g', '0.1', 'x'],
    ['ZINCRBY', 'g', '0.2', 'x'],
    ['ZSCORE', 'g', 'x'],
    ['ZINCRBY', 'g', '-0.30000000000000004', 'x'],
    ['ZINCRBY', 'g', '1e308', 'y'],
    ['ZINCRBY', 'g', '1e308', 'y'],
    ['ZINCRBY', 'g', '-inf', 'y'],
    ['ZINCRBY', 'g', 'inf', 'y'],
    ['ZADD', 'g', '-0', 'z'],
    ['ZADD', 'g', 'INCR', '-0', 'nz'],
    ['ZADD', 'g', 'INCR', '-0', 'nz'],
    ['ZINCRBY', 'g', '0', 'z'],
    ['ZINCRBY', 'g', '-0', 'z'],
    ['ZRANGE', 'g', '0', '-1', 'WITHSCORES'],
  );
  return steps;
}

/** OBJECT ENCODING at the thresholds, with the default limits and changed ones (both names of each). */
function encodingSteps(): Step[] {
  const steps: Step[] = [];
  const enc = (k: string): Step => ['OBJECT', 'ENCODING', k];
  for (let i = 0; i < 128; i++) steps.push(['ZADD', 'big', String(i), `m${i}`]);
  steps.push(enc('big'), ['ZADD', 'big', '1', 'm1'], enc('big'), ['ZADD', 'big', '200', 'm200'], enc('big'),
    ['ZREM', 'big', 'm200', 'm1', 'm2'], enc('big'), ['ZCARD', 'big']);
  steps.push(['ZADD', 'long', '1', 'x'.repeat(64)], enc('long'), ['ZADD', 'long', '2', 'y'.repeat(65)], enc('long'),
    ['ZADD', 'first', '1', 'x'.repeat(65)], enc('first'), ['ZRANGE', 'first', '0', '-1']);
  steps.push(['CONFIG', 'SET', 'zset-max-listpack-entries', '3'], ['CONFIG', 'GET', 'zset-max-ziplist-entries'],
    ['ZADD', 'c', '1', 'a', '2', 'b', '3', 'c'], enc('c'), ['ZADD', 'c', '4', 'd'], enc('c'),
    ['ZADD', 'dup', '1', 'a', '1', 'a', '1', 'a', '1', 'a'], enc('dup'),
    ['ZADD', 'five', '1', 'a', '2', 'b', '3', 'c', '4', 'd', '5', 'e'], enc('five'), ['ZRANGE', 'five', '0', '-1', 'WITHSCORES'],
    ['CONFIG', 'SET', 'zset-max-ziplist-value', '4'], ['CONFIG', 'GET', 'zset-max-listpack-value'],
    ['ZADD', 'v', '1', 'abcd'], enc('v'), ['ZADD', 'v', '1', 'abcde'], enc('v'),
    ['ZINCRBY', 'w', '1', 'abcde'], enc('w'),
    ['CONFIG', 'SET', 'zset-max-ziplist-entries', '0'],
    ['ZADD', 'zero', '1', 'a'], enc('zero'), ['ZINCRBY', 'zero2', '1', 'a'], enc('zero2'),
    ['CONFIG', 'SET', 'zset-max-listpack-entries', '128'], ['CONFIG', 'SET', 'zset-max-listpack-value', '64'],
    // STORE results pick their encoding from the result.
    ['ZRANGESTORE', 'st', 'big', '0', '9'], enc('st'), ['ZRANGESTORE', 'st', 'big', '0', '-1'], enc('st'),
    ['ZRANGESTORE', 'st', 'big', '0', '200', 'BYSCORE', 'LIMIT', '0', '128'], enc('st'),
    ['ZRANGESTORE', 'st', 'big', '0', '200', 'BYSCORE', 'LIMIT', '0', '129'], enc('st'),
    ['ZRANGESTORE', 'st', 'long', '0', '-1'], enc('st'),
    ['ZRANGESTORE', 'st', 'long', '0', '0'], enc('st'),
    ['ZREMRANGEBYRANK', 'big', '0', '-10'], enc('big'), ['ZCARD', 'big'],
  );
  return steps;
}

/** Members past 127 bytes (the long length form of a packed element) in a listpack, and a TTL kept through growth and conversion. */
function longMemberSteps(): Step[] {
  const m = (c: string, n: number) => c.repeat(n);
  const steps: Step[] = [['CONFIG', 'SET', 'zset-max-listpack-value', '1000']];
  for (const key of ['lp', 'lp2']) {
    steps.push(['ZADD', key, '3', m('c', 200), '1', m('a', 130), '2', m('b', 127), '2', m('b', 128), '5', Buffer.alloc(300, 0x80), '4', 'd'],
      ['OBJECT', 'ENCODING', key], ['ZRANGE', key, '0', '-1', 'WITHSCORES'], ['ZREVRANGE', key, '0', '-1', 'WITHSCORES'],
      ['ZREVRANGEBYSCORE', key, '+inf', '-inf', 'WITHSCORES', 'LIMIT', '1', '3'], ['ZRANK', key, m('b', 128)], ['ZREVRANK', key, 'd'],
      ['ZSCORE', key, m('c', 200)], ['ZINCRBY', key, '10', m('a', 130)], ['ZRANGE', key, '-2', '-1'], ['ZPOPMAX', key, '2'],
      ['ZREMRANGEBYRANK', key, '1', '1'], ['ZRANGE', key, '0', '-1', 'WITHSCORES'], ['ZPOPMIN', key], ['ZRANGE', key, '0', '-1']);
    steps.push(['CONFIG', 'SET', 'zset-max-listpack-value', '100']);
  }
  steps.push(['ZADD', 'ttl', '1', 'a'], ['EXPIRE', 'ttl', '1000'], ['ZADD', 'ttl', '2', 'b', '3', m('x', 150)], ['OBJECT', 'ENCODING', 'ttl'],
    { cmd: ['TTL', 'ttl'], near: 1 }, ['ZADD', 'ttl2', '1', 'a'], ['PEXPIRE', 'ttl2', '1000000'], ['ZREM', 'ttl2', 'b'],
    ['ZADD', 'ttl2', '2', 'b'], { cmd: ['TTL', 'ttl2'], near: 1 }, ['ZREM', 'ttl2', 'a', 'b'], ['TTL', 'ttl2'],
    ['ZADD', 'gone', '1', 'a'], ['ZADD', 'gone2', '1', 'a'], ['PEXPIRE', 'gone', '1'], ['PEXPIRE', 'gone2', '1']);
  return steps;
}

if (requireRedisTools(t)) {
  const pair = await startPair(t);
  const [w, r] = await connectPair(t, pair);
  const run = async (steps: Step[]) => {
    await diffScript(w, r, [['FLUSHALL'], ['CONFIG', 'SET', 'zset-max-listpack-entries', '128'], ['CONFIG', 'SET', 'zset-max-listpack-value', '64']]);
    return diffScript(w, r, steps);
  };
  const asSkiplist = async (steps: Step[]) => {
    await run([]);
    return diffScript(w, r, [['CONFIG', 'SET', 'zset-max-ziplist-entries', '0'], ...steps]);
  };

  t.test('core suite, listpack encoding', async (t) => {
    for (const part of coreParts()) t.same(await run(part), []);
    t.same(await run([['ZADD', 'k', '1', 'a'], ['OBJECT', 'ENCODING', 'k']]), []);
  });

  t.test('core suite, skiplist encoding (zset-max-ziplist-entries 0)', async (t) => {
    for (const part of coreParts()) t.same(await asSkiplist(part), []);
    t.same(await asSkiplist([['ZADD', 'k', '1', 'a'], ['OBJECT', 'ENCODING', 'k']]), []);
  });

  t.test('RESP3 reply shapes', async (t) => {
    t.same(await run(resp3Steps()), []);
    t.same(await asSkiplist(resp3Steps()), []);
  });

  t.test('score formatting (%.17g) and ZINCRBY arithmetic', async (t) => {
    t.same(await run(formatSteps()), []);
    t.same(await asSkiplist(formatSteps()), []);
  });

  t.test('OBJECT ENCODING around the thresholds', async (t) => {
    t.same(await run(encodingSteps()), []);
  });

  t.test('long members in a listpack, TTLs kept and lazily expired keys', async (t) => {
    t.same(await run(longMemberSteps()), []);
    await new Promise((resolve) => setTimeout(resolve, 20));
    t.same(await diffScript(w, r, [['ZCARD', 'gone'], ['ZADD', 'gone', 'XX', '1', 'a'], ['EXISTS', 'gone'], ['ZADD', 'gone2', '2', 'b'],
      ['ZRANGE', 'gone2', '0', '-1', 'WITHSCORES'], ['TTL', 'gone2']]), []);
  });

  t.test('COMMAND INFO and DOCS of the sorted-set commands', async (t) => {
    const steps: Step[] = [];
    for (const name of ZSET_COMMANDS) steps.push(['COMMAND', 'INFO', name], ['COMMAND', 'DOCS', name]);
    steps.push(['COMMAND', 'GETKEYS', 'ZUNIONSTORE', 'd', '2', 'a', 'b', 'WEIGHTS', '1', '2'],
      ['COMMAND', 'GETKEYS', 'ZUNION', '2', 'a', 'b'], ['COMMAND', 'GETKEYS', 'ZMPOP', '2', 'a', 'b', 'MIN'],
      ['COMMAND', 'GETKEYS', 'ZINTERCARD', '2', 'a', 'b', 'LIMIT', '1'], ['COMMAND', 'GETKEYS', 'ZRANGESTORE', 'd', 's', '0', '1'],
      ['COMMAND', 'GETKEYS', 'ZUNION', '3', 'a', 'b'], ['COMMAND', 'GETKEYS', 'ZUNION', 'x', 'a', 'b']);
    t.same(await run(steps), []);
  });
}
