/**
 * RespParser: multibulk and inline requests, arbitrary read boundaries,
 * pipelines, binary arguments, sdssplitargs quoting, and every protocol error
 * (texts checked against a real Redis 7 when redis-server is installed).
 */
import t from 'tap';
import { prng } from './helpers/prng.js';
import { ParseStatus, parseLongLong, PROTO_INLINE_MAX_SIZE, RespParser, type ParserLimits } from '../src/protocol/resp-parser.js';
import { ReplyWriter } from '../src/protocol/reply-writer.js';
import { encodeCommand, requireRedisTools, RawClient, startRedis } from './helpers/servers.js';

const DEFAULT_MAX_BULK = 512 * 1024 * 1024;

type Event =
  | { kind: 'command'; args: string[]; inline: boolean }
  | { kind: 'empty' }
  | { kind: 'error'; message: string };


/**
 * Feeds bytes to a parser the way a connection does: parse what is there,
 * keep the unparsed tail (and the partial command before it) in a fresh
 * buffer, rebase the parser, append the next read. Spare capacity is filled
 * with CR/LF/'*'/'$' garbage so a parser that looks past `end` or keeps
 * stale offsets produces wrong results instead of lucky ones.
 */
class Feeder {
  readonly parser = new RespParser();
  readonly events: Event[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private len = 0;
  private resumeAt = 0;
  private failed = false;

  constructor(readonly limits: ParserLimits = { protoMaxBulkLen: DEFAULT_MAX_BULK, authRequired: false }) {}

  feed(chunk: Uint8Array): void {
    if (this.failed) return;
    const next = garbageBuffer(this.len + chunk.length + 37);
    this.buf.copy(next, 0, 0, this.len);
    next.set(chunk, this.len);
    this.buf = next;
    this.len += chunk.length;
    let pos = this.resumeAt;
    for (;;) {
      const r = this.parser.parse(this.buf, pos, this.len, this.limits);
      pos = r.pos;
      if (r.status === ParseStatus.Incomplete) break;
      if (r.status === ParseStatus.Empty) {
        this.events.push({ kind: 'empty' });
        continue;
      }
      if (r.status === ParseStatus.ProtocolError) {
        this.events.push({ kind: 'error', message: this.parser.error });
        this.failed = true;
        return;
      }
      const args: string[] = [];
      for (let i = 0; i < this.parser.argc; i++) {
        const s = this.parser.argStart[i];
        args.push(this.buf.subarray(s, s + this.parser.argLen[i]).toString('latin1'));
      }
      this.events.push({ kind: 'command', args, inline: this.parser.inline });
    }
    const partial = this.parser.partialStart;
    const from = partial >= 0 ? partial : pos;
    const kept = garbageBuffer(this.len - from + 11);
    this.buf.copy(kept, 0, from, this.len);
    this.buf = kept;
    this.len -= from;
    this.resumeAt = pos - from;
    this.parser.rebase(from);
  }
}

function garbageBuffer(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  const junk = Buffer.from('\r\n*1\r\n$1\r\nX\r\n');
  for (let i = 0; i < n; i++) b[i] = junk[i % junk.length];
  return b;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function parseWhole(input: Uint8Array, limits?: ParserLimits): Event[] {
  const f = new Feeder(limits);
  f.feed(input);
  return f.events;
}

function parseInChunks(input: Uint8Array, sizes: () => number, limits?: ParserLimits): Event[] {
  const f = new Feeder(limits);
  for (let p = 0; p < input.length;) {
    const n = Math.max(1, Math.min(input.length - p, sizes()));
    f.feed(input.subarray(p, p + n));
    p += n;
  }
  return f.events;
}

const cmd = (...args: string[]): Event => ({ kind: 'command', args, inline: false });
const inl = (...args: string[]): Event => ({ kind: 'command', args, inline: true });

t.test('multibulk commands', async (t) => {
  t.same(parseWhole(bytes('*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n')), [cmd('SET', 'key', 'value')]);
  t.same(parseWhole(bytes('*2\r\n$3\r\nGET\r\n$0\r\n\r\n')), [cmd('GET', '')], 'empty bulk');
  t.same(parseWhole(bytes('*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING')), [cmd('PING')], 'the incomplete second command waits');
  // Like Redis, the two bytes after a bulk are skipped, not checked.
  t.same(parseWhole(bytes('*2\r\n$4\r\nECHO\r\n$1\r\nxYZ*1\r\n$4\r\nPING\r\n')), [cmd('ECHO', 'x'), cmd('PING')]);

  const manyArgs = Array.from({ length: 5000 }, (_, i) => `a${i}`);
  const events = parseWhole(encodeCommand(['RPUSH', ...manyArgs]));
  t.same(events, [cmd('RPUSH', ...manyArgs)], '5001 arguments grow the argument arrays');
});

t.test('binary-safe arguments', async (t) => {
  const all = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  const nasty = [all, bytes('\r\n'), bytes('*2\r\n$3\r\n'), bytes('\0\0\0'), Buffer.alloc(70000, 0x0d)];
  const events = parseWhole(encodeCommand(['SET', ...nasty]));
  t.equal(events.length, 1);
  const got = events[0];
  t.equal(got.kind, 'command');
  if (got.kind !== 'command') return;
  t.equal(got.args.length, 6);
  for (let i = 0; i < nasty.length; i++) t.ok(bytes(got.args[i + 1]).equals(nasty[i]), `argument ${i} byte for byte`);
});

t.test('empty commands: *0, *-1, blank inline lines', async (t) => {
  const p = new RespParser();
  const limits = { protoMaxBulkLen: DEFAULT_MAX_BULK, authRequired: false };
  for (const input of ['*0\r\n', '*-1\r\n', '\r\n', '\n', '   \r\n', ' \t \n']) {
    const b = bytes(input);
    const r = p.parse(b, 0, b.length, limits);
    t.equal(r.status, ParseStatus.Empty, JSON.stringify(input));
    t.equal(r.pos, b.length, `${JSON.stringify(input)} is consumed`);
    t.equal(p.partialStart, -1, `${JSON.stringify(input)} leaves no partial command`);
  }
  t.same(parseWhole(bytes('*0\r\n\r\n*1\r\n$4\r\nPING\r\n\nPING\r\n')),
    [{ kind: 'empty' }, { kind: 'empty' }, cmd('PING'), { kind: 'empty' }, inl('PING')]);
});

/** Inline lines and the arguments sdssplitargs makes of them (checked against Redis below). */
const INLINE_CASES: [string, string[]][] = [
  ['SET a b', ['SET', 'a', 'b']],
  ['  SET \t a   b  ', ['SET', 'a', 'b']],
  ['"a b" c', ['a b', 'c']],
  ['"\\x41\\x4a\\xfF\\n\\r\\t\\b\\a\\q\\"\\\\"', ['AJ\xff\n\r\t\b\x07q"\\']],
  ['"\\x4g" "\\x4"', ['x4g', 'x4']],
  ["'a\\'b' 'a\\nb' 'x\"y'", ["a'b", 'a\\nb', 'x"y']],
  ['ab"c d" x', ['abc d', 'x']],
  ["ab'c d' x", ['abc d', 'x']],
  ['"" \'\' x', ['', '', 'x']],
  ['a\x0bb', ['a\x0bb']],
  ['\x0b\x0cECHO\x0c x', ['ECHO\x0c', 'x']],
  ['"q"\x0bz', ['q', 'z']],
  ['a\rb', ['a', 'b']],
  ['caf\xe9 \xff\x80', ['caf\xe9', '\xff\x80']],
];

t.test('inline commands split as sdssplitargs', async (t) => {
  for (const [line, args] of INLINE_CASES) {
    t.same(parseWhole(bytes(line + '\r\n')), [inl(...args)], JSON.stringify(line));
    t.same(parseWhole(bytes(line + '\n')), [inl(...args)], `${JSON.stringify(line)} ended by LF alone`);
  }
  const long = 'x'.repeat(PROTO_INLINE_MAX_SIZE + 1000);
  t.same(parseWhole(bytes(`ECHO ${long}\r\n`)), [inl('ECHO', long)],
    'a line longer than 64 KiB is fine when its newline arrived with it (as in Redis)');
});

/** Inputs, the limits they run under, and the protocol error Redis 7 replies. */
const ERROR_CASES: { name: string; input: string; auth?: boolean; error: string }[] = [
  { name: 'non-numeric multibulk length', input: '*abc\r\n', error: 'Protocol error: invalid multibulk length' },
  { name: 'empty multibulk length', input: '*\r\n', error: 'Protocol error: invalid multibulk length' },
  { name: "'+' sign", input: '*+1\r\n', error: 'Protocol error: invalid multibulk length' },
  { name: 'leading zero', input: '*01\r\n', error: 'Protocol error: invalid multibulk length' },
  { name: 'multibulk length past INT_MAX', input: '*2147483648\r\n', error: 'Protocol error: invalid multibulk length' },
  { name: 'multibulk length below LLONG_MIN', input: '*-9223372036854775809\r\n', error: 'Protocol error: invalid multibulk length' },
  { name: 'multibulk length past LLONG_MAX', input: '*9223372036854775808\r\n', error: 'Protocol error: invalid multibulk length' },
  { name: 'simple string where a bulk belongs', input: '*1\r\n+PING\r\n', error: "Protocol error: expected '$', got '+'" },
  { name: 'CR where a bulk belongs', input: '*1\r\n\r\n', error: "Protocol error: expected '$', got '\r'" },
  { name: 'non-numeric bulk length', input: '*1\r\n$x\r\n', error: 'Protocol error: invalid bulk length' },
  { name: 'empty bulk length', input: '*1\r\n$\r\n', error: 'Protocol error: invalid bulk length' },
  { name: 'negative bulk length', input: '*1\r\n$-1\r\n', error: 'Protocol error: invalid bulk length' },
  { name: 'bulk length past proto-max-bulk-len', input: '*1\r\n$536870913\r\n', error: 'Protocol error: invalid bulk length' },
  { name: 'mbulk count string past 64 KiB', input: '*' + '1'.repeat(PROTO_INLINE_MAX_SIZE + 1), error: 'Protocol error: too big mbulk count string' },
  { name: 'bulk count string past 64 KiB', input: '*1\r\n$' + '1'.repeat(PROTO_INLINE_MAX_SIZE), error: 'Protocol error: too big bulk count string' },
  { name: 'inline request past 64 KiB', input: 'P'.repeat(PROTO_INLINE_MAX_SIZE + 1), error: 'Protocol error: too big inline request' },
  { name: 'unterminated double quote', input: 'SET "a b\r\n', error: 'Protocol error: unbalanced quotes in request' },
  { name: 'unterminated single quote', input: "SET 'a b\r\n", error: 'Protocol error: unbalanced quotes in request' },
  { name: 'escaped closing quote', input: 'SET "ab\\"\r\n', error: 'Protocol error: unbalanced quotes in request' },
  { name: 'trailing backslash in quotes', input: 'SET "ab\\\r\n', error: 'Protocol error: unbalanced quotes in request' },
  { name: 'closing double quote followed by a letter', input: 'ECHO "a"b\r\n', error: 'Protocol error: unbalanced quotes in request' },
  { name: 'closing single quote followed by a letter', input: "ECHO 'a'b\r\n", error: 'Protocol error: unbalanced quotes in request' },
  { name: 'quotes opened mid-argument', input: 'ECHO ab"c d"ef\r\n', error: 'Protocol error: unbalanced quotes in request' },
  { name: 'unauthenticated multibulk length', input: '*11\r\n', auth: true, error: 'Protocol error: unauthenticated multibulk length' },
  { name: 'unauthenticated bulk length', input: '*1\r\n$16385\r\n', auth: true, error: 'Protocol error: unauthenticated bulk length' },
  { name: 'invalid length wins over authentication', input: '*2147483648\r\n', auth: true, error: 'Protocol error: invalid multibulk length' },
  { name: 'invalid bulk length wins over authentication', input: '*1\r\n$536870913\r\n', auth: true, error: 'Protocol error: invalid bulk length' },
];

t.test('protocol errors', async (t) => {
  for (const c of ERROR_CASES) {
    const limits = { protoMaxBulkLen: DEFAULT_MAX_BULK, authRequired: c.auth === true };
    const events = parseWhole(bytes(c.input), limits);
    t.same(events, [{ kind: 'error', message: c.error }], c.name);
    // The error must not depend on how the bytes arrived, except for the
    // "too big" checks, which look at what is buffered when they run.
    if (!c.error.includes('too big')) {
      t.same(parseInChunks(bytes(c.input), () => 1, limits), events, `${c.name}, byte by byte`);
    }
  }
});

t.test('limits at their boundaries', async (t) => {
  const open = { protoMaxBulkLen: DEFAULT_MAX_BULK, authRequired: false };
  const auth = { protoMaxBulkLen: DEFAULT_MAX_BULK, authRequired: true };
  t.same(parseWhole(bytes('*2147483647\r\n'), open), [], 'INT_MAX arguments are accepted (and awaited)');
  t.same(parseWhole(bytes('*-9223372036854775808\r\n'), open), [{ kind: 'empty' }], 'LLONG_MIN is a valid (empty) length');
  t.same(parseWhole(bytes('*1\r\n$536870912\r\n'), open), [], 'a bulk of exactly proto-max-bulk-len is awaited');
  t.same(parseWhole(bytes('*10\r\n'), auth), [], 'ten arguments are allowed before AUTH');
  t.same(parseWhole(bytes('*1\r\n$16384\r\n'), auth), [], '16384-byte bulks are allowed before AUTH');
  t.same(parseWhole(bytes('*1\r\n$101\r\n'), { protoMaxBulkLen: 100, authRequired: false }),
    [{ kind: 'error', message: 'Protocol error: invalid bulk length' }], 'a lowered proto-max-bulk-len applies');
  t.same(parseWhole(bytes('*1\r\n$100\r\n'), { protoMaxBulkLen: 100, authRequired: false }), []);

  t.same(parseWhole(bytes('*' + '1'.repeat(PROTO_INLINE_MAX_SIZE - 1))), [], '64 KiB without CR is still awaited');
  t.same(parseWhole(bytes('P'.repeat(PROTO_INLINE_MAX_SIZE))), [], 'a 64 KiB inline prefix is still awaited');
  t.same(parseWhole(bytes('*1\r\n$' + '1'.repeat(PROTO_INLINE_MAX_SIZE - 1))), []);

  const p = new RespParser();
  const b = bytes('*1\r\n$100000\r\n' + 'x'.repeat(10));
  const r = p.parse(b, 0, b.length, open);
  t.equal(r.status, ParseStatus.Incomplete);
  t.equal(p.pendingBulkBytes, 100000 + 2 - 10, 'pendingBulkBytes tells how much of the bulk (and its CRLF) is missing');
  t.equal(p.partialStart, 0, 'the partial command starts where its header did');
});

t.test('parseLongLong follows string2ll', async (t) => {
  const ll = (s: string) => parseLongLong(bytes(s), 0, s.length);
  t.equal(ll('0'), 0);
  t.equal(ll('7'), 7);
  t.equal(ll('-7'), -7);
  t.equal(ll('2147483647'), 2147483647);
  t.equal(ll('9223372036854775807'), 9223372036854775807);
  t.equal(ll('-9223372036854775808'), -9223372036854775808);
  t.equal(ll('1000000000000000000'), 1e18);
  t.equal(ll('12345678901234567'), 12345678901234567, 'the nearest double past 2^53');
  t.equal(ll('-9007199254740993'), -9007199254740992, 'ties round to even');
  for (const bad of ['', '-', '-0', '00', '01', '+1', ' 1', '1 ', '1a', '0x10', '9223372036854775808',
    '-9223372036854775809', '9999999999999999999', '10000000000000000000', '-10000000000000000000',
    '123456789012345678901']) {
    t.equal(ll(bad), null, JSON.stringify(bad));
  }
});

/** Commands of every shape, back to back, for the chunking tests. */
function corpus(): Buffer {
  return Buffer.concat([
    encodeCommand(['SET', 'key', 'value']),
    bytes('PING\r\n'),
    bytes('*0\r\n'),
    encodeCommand(['SET', Buffer.from([0, 13, 10, 255, 42, 36]), Buffer.alloc(300, 0x0a)]),
    bytes('\r\n'),
    bytes('  ECHO "a\\x41 b" \'c\\\'d\'\n'),
    encodeCommand(['MSET', 'a', '1', 'b', '', 'c', '3']),
    bytes('*-1\r\n'),
    encodeCommand(['GET', 'x'.repeat(1000)]),
    bytes('GET k\r\n'),
  ]);
}

t.test('the same commands whatever the read boundaries', async (t) => {
  const input = corpus();
  const expected = parseWhole(input);
  t.equal(expected.filter((e) => e.kind === 'command').length, 7);
  t.equal(expected.filter((e) => e.kind === 'empty').length, 3);
  t.notOk(expected.some((e) => e.kind === 'error'));

  t.same(parseInChunks(input, () => 1), expected, 'byte by byte');
  let mismatches = 0;
  for (let cut = 1; cut < input.length; cut++) {
    const f = new Feeder();
    f.feed(input.subarray(0, cut));
    f.feed(input.subarray(cut));
    if (JSON.stringify(f.events) !== JSON.stringify(expected)) mismatches++;
  }
  t.equal(mismatches, 0, `split in two at each of ${input.length - 1} boundaries`);
  const random = prng(12345);
  for (let round = 0; round < 200; round++) {
    const maxChunk = 1 + Math.floor(random() * 64);
    t.same(parseInChunks(input, () => 1 + Math.floor(random() * maxChunk)), expected, `random chunks, round ${round}`);
  }
});

t.test('thousands of pipelined commands in one buffer', async (t) => {
  const parts: Buffer[] = [];
  const expected: Event[] = [];
  for (let i = 0; i < 20000; i++) {
    if (i % 5 === 4) {
      parts.push(bytes(`INCRBY counter:${i} ${i}\r\n`));
      expected.push(inl('INCRBY', `counter:${i}`, String(i)));
    } else {
      parts.push(encodeCommand(['SET', `key:${i}`, `value:${i}`]));
      expected.push(cmd('SET', `key:${i}`, `value:${i}`));
    }
  }
  const input = Buffer.concat(parts);
  t.same(parseWhole(input), expected, 'one read');
  const random = prng(99);
  t.same(parseInChunks(input, () => 1 + Math.floor(random() * 4096)), expected, 'socket-sized reads');
});

t.test('against a real Redis 7', async (t) => {
  if (!requireRedisTools(t)) return;
  const redis = await startRedis();
  t.teardown(() => redis.stop());

  /** What Redis answers to `input` before closing (or within 300 ms). */
  async function redisReply(input: Buffer): Promise<string> {
    const c = await RawClient.connect(redis.port);
    try {
      c.write(input);
      return await c.closedWith(1000);
    } finally {
      c.close();
    }
  }

  t.test('inline splitting', async (t) => {
    const c = await RawClient.connect(redis.port);
    t.teardown(() => c.close());
    for (const [line, args] of INLINE_CASES) {
      // RPUSH stores whatever arguments the inline line split into; LRANGE reads them back.
      c.write(bytes(`RPUSH inline-check ${line}\r\n`));
      const pushed = (await c.reply()).toString('latin1');
      t.equal(pushed, `:${args.length}\r\n`, `${JSON.stringify(line)}: argument count`);
      const items = (await c.command('LRANGE', 'inline-check', '0', '-1')).toString('latin1');
      const expected = `*${args.length}\r\n` + args.map((a) => `$${bytes(a).length}\r\n${a}\r\n`).join('');
      t.equal(items, expected, `${JSON.stringify(line)}: argument bytes`);
      await c.command('DEL', 'inline-check');
    }
  });

  t.test('protocol error replies byte for byte', async (t) => {
    const writer = new ReplyWriter();
    for (const c of ERROR_CASES.filter((e) => !e.auth)) {
      const ours = parseWhole(bytes(c.input));
      t.equal(ours.length, 1);
      const event = ours[0];
      if (event.kind !== 'error') {
        t.fail(`${c.name}: no protocol error`);
        continue;
      }
      writer.error(event.message);
      t.equal(writer.take().toString('latin1'), await redisReply(bytes(c.input)), c.name);
    }
    const setPass = await RawClient.connect(redis.port);
    t.equal((await setPass.command('CONFIG', 'SET', 'requirepass', 'sekrit')).toString(), '+OK\r\n');
    setPass.close();
    for (const c of ERROR_CASES.filter((e) => e.auth)) {
      const [event] = parseWhole(bytes(c.input), { protoMaxBulkLen: DEFAULT_MAX_BULK, authRequired: true });
      if (event?.kind !== 'error') {
        t.fail(`${c.name}: no protocol error`);
        continue;
      }
      writer.error(event.message);
      t.equal(writer.take().toString('latin1'), await redisReply(bytes(c.input)), c.name);
    }
  });
});
