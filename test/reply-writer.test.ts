/**
 * ReplyWriter: the exact bytes of every reply type in RESP2 and RESP3, and
 * buffer growth, take() and rollback.
 */
import t from 'tap';
import { ReplyWriter } from '../src/protocol/reply-writer.js';

function written(resp: 2 | 3, write: (w: ReplyWriter) => void): string {
  const w = new ReplyWriter();
  w.resp = resp;
  write(w);
  return w.take().toString('latin1');
}

t.test('integers', async (t) => {
  const values = [0, 1, 9, 10, 11, 99, 100, -1, -9, -10, -123456789, 2147483647, -2147483648, 4294967296,
    999999999999999, 1e15, 1e15 + 1, -1e15, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 2 ** 62, -(2 ** 63)];
  for (const n of values) {
    t.equal(written(2, (w) => w.integer(n)), `:${BigInt(n)}\r\n`, String(n));
  }
  t.equal(written(2, (w) => w.integer(-0)), ':0\r\n', 'negative zero is 0');
  // Every decimal width on both sides of each power of ten.
  const wrong: number[] = [];
  for (let p = 1; p <= 1e16; p *= 10) {
    for (const n of [p - 1, p, p + 1, -(p - 1), -p, 2147483647 - p, 2147483648 + p]) {
      if (written(2, (w) => w.integer(n)) !== `:${BigInt(n)}\r\n`) wrong.push(n);
    }
  }
  t.same(wrong, [], 'every width');
  t.equal(written(3, (w) => w.bigInteger(2n ** 63n - 1n)), ':9223372036854775807\r\n');
  t.equal(written(3, (w) => w.bigInteger(-(2n ** 63n))), ':-9223372036854775808\r\n');
  t.equal(written(2, (w) => w.bulkInteger(-42)), '$3\r\n-42\r\n');
});

t.test('nulls, booleans and headers in RESP2 and RESP3', async (t) => {
  t.equal(written(2, (w) => w.nullBulk()), '$-1\r\n');
  t.equal(written(3, (w) => w.nullBulk()), '_\r\n');
  t.equal(written(2, (w) => w.nullArray()), '*-1\r\n');
  t.equal(written(3, (w) => w.nullArray()), '_\r\n');
  t.equal(written(2, (w) => w.boolean(true)), ':1\r\n');
  t.equal(written(2, (w) => w.boolean(false)), ':0\r\n');
  t.equal(written(3, (w) => w.boolean(true)), '#t\r\n');
  t.equal(written(3, (w) => w.boolean(false)), '#f\r\n');
  t.equal(written(2, (w) => w.arrayHeader(0)), '*0\r\n');
  t.equal(written(3, (w) => w.arrayHeader(12345)), '*12345\r\n');
  t.equal(written(2, (w) => w.setHeader(3)), '*3\r\n');
  t.equal(written(3, (w) => w.setHeader(3)), '~3\r\n');
  t.equal(written(2, (w) => w.pushHeader(3)), '*3\r\n');
  t.equal(written(3, (w) => w.pushHeader(3)), '>3\r\n');
});

t.test('maps', async (t) => {
  const map = (w: ReplyWriter) => {
    w.mapHeader(2);
    w.bulkString('a');
    w.integer(1);
    w.bulkString('b');
    w.nullBulk();
  };
  t.equal(written(2, map), '*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$-1\r\n', 'RESP2: a flat array of 2n');
  t.equal(written(3, map), '%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n', 'RESP3: a map of n pairs');
  t.equal(written(3, (w) => w.mapHeader(0)), '%0\r\n');
  t.equal(written(2, (w) => w.mapHeader(0)), '*0\r\n');
});

t.test('doubles', async (t) => {
  t.equal(written(3, (w) => w.double(1.5, '1.5')), ',1.5\r\n');
  t.equal(written(3, (w) => w.double(-0.25, '-0.25')), ',-0.25\r\n');
  t.equal(written(3, (w) => w.double(Infinity, 'inf')), ',inf\r\n');
  t.equal(written(3, (w) => w.double(-Infinity, '-inf')), ',-inf\r\n');
  t.equal(written(3, (w) => w.double(NaN, 'nan')), ',nan\r\n');
  t.equal(written(3, (w) => w.double(Infinity, 'Infinity')), ',inf\r\n', 'RESP3 spells infinities as Redis does whatever the text');
  t.equal(written(2, (w) => w.double(1.5, '1.5')), '$3\r\n1.5\r\n', 'RESP2: a bulk string of the text');
  t.equal(written(2, (w) => w.double(-Infinity, '-inf')), '$4\r\n-inf\r\n');
  t.equal(written(2, (w) => w.double(3, '3')), '$1\r\n3\r\n');
});

t.test('verbatim strings', async (t) => {
  t.equal(written(3, (w) => w.verbatim('hello')), '=9\r\ntxt:hello\r\n');
  t.equal(written(3, (w) => w.verbatim('# x', 'mkd')), '=7\r\nmkd:# x\r\n');
  t.equal(written(3, (w) => w.verbatim('')), '=4\r\ntxt:\r\n');
  t.equal(written(2, (w) => w.verbatim('hello')), '$5\r\nhello\r\n', 'RESP2: a plain bulk string');
  const w = new ReplyWriter();
  w.resp = 3;
  w.verbatim('é\r\n');
  t.ok(w.take().equals(Buffer.from('=8\r\ntxt:é\r\n\r\n')), 'the length counts UTF-8 bytes and the body may hold CRLF');
});

t.test('bulk strings', async (t) => {
  t.equal(written(2, (w) => w.bulkString('')), '$0\r\n\r\n');
  const w = new ReplyWriter();
  w.bulkString('héllo');
  t.ok(w.take().equals(Buffer.from('$6\r\nhéllo\r\n')), 'UTF-8 byte length');

  const sab = new Uint8Array(new SharedArrayBuffer(16));
  sab.set([0, 13, 10, 255], 5);
  w.bulkBytes(sab, 5, 4);
  t.ok(w.take().equals(Buffer.from([0x24, 0x34, 13, 10, 0, 13, 10, 255, 13, 10])), 'bytes from shared memory, binary safe');

  w.bulkHeader(3);
  w.rawBytes(Buffer.from('xabcx'), 1, 3);
  w.endBulk();
  t.equal(w.take().toString(), '$3\r\nabc\r\n');
});

t.test('errors', async (t) => {
  t.equal(written(2, (w) => w.error('bad thing')), '-ERR bad thing\r\n');
  t.equal(written(3, (w) => w.error('-WRONGTYPE Operation against a key')), '-WRONGTYPE Operation against a key\r\n');
  t.equal(written(2, (w) => w.errorCode('NOSCRIPT No matching script')), '-NOSCRIPT No matching script\r\n');
  t.equal(written(2, (w) => w.error('')), '-ERR \r\n', 'an empty text still gets its code, as addReplyErrorLength');
  t.equal(written(2, (w) => w.error("unknown command 'a\r\nb'")), "-ERR unknown command 'a  b'\r\n",
    'CR and LF become spaces so the error stays one line');
  t.equal(written(2, (w) => w.error('x\ny\rz\n')), '-ERR x y z \r\n');
  t.equal(written(2, (w) => w.errorCode('MOVED 1 127.0.0.1:7000\n+OK')), '-MOVED 1 127.0.0.1:7000 +OK\r\n',
    'a code-carrying error cannot smuggle a second reply either');
  // Request bytes quoted in an error are decoded as latin1 and go back unchanged.
  const requestBytes = Buffer.from([0xc3, 0xa9, 0xff]);
  const w = new ReplyWriter();
  w.error(`unknown command '${requestBytes.toString('latin1')}'`);
  t.ok(w.take().equals(Buffer.concat([Buffer.from("-ERR unknown command '"), requestBytes, Buffer.from("'\r\n")])), 'request bytes round-trip');
});

t.test('simple strings', async (t) => {
  t.equal(written(2, (w) => w.ok()), '+OK\r\n');
  t.equal(written(3, (w) => w.simple('PONG')), '+PONG\r\n');
  t.equal(written(3, (w) => w.simple('')), '+\r\n');
});

t.test('growth past the initial buffer, take and rollback', async (t) => {
  const w = new ReplyWriter();
  const expected: string[] = [];
  // Headers written right at the end of the buffer must trigger growth, not
  // be cut short: write enough varied replies to cross it many times.
  for (let i = 0; i < 50000; i++) {
    const n = (i * 7919) % 1000003 - 500000;
    w.integer(n);
    expected.push(`:${n}\r\n`);
    if (i % 1000 === 0) {
      w.bulkString('v'.repeat(i % 97));
      expected.push(`$${i % 97}\r\n${'v'.repeat(i % 97)}\r\n`);
    }
  }
  const big = Buffer.alloc(3 * 1024 * 1024, 0x61);
  w.bulkBytes(big, 0, big.length);
  expected.push(`$${big.length}\r\n${big.toString('latin1')}\r\n`);
  const out = w.take();
  t.equal(out.length, Buffer.byteLength(expected.join('')));
  t.ok(out.equals(Buffer.from(expected.join(''), 'latin1')), 'every reply intact and in order');
  t.equal(w.len, 0, 'take resets');
  t.ok(w.buf.length <= 16 * 64 * 1024, 'a buffer grown far past its minimum is given back after take');

  w.simple('kept');
  const mark = w.mark();
  w.arrayHeader(2);
  w.bulkString('half');
  w.rollback(mark);
  w.integer(7);
  t.equal(w.take().toString(), '+kept\r\n:7\r\n', 'rollback drops what followed the mark');
});

t.test('take() hands out views that later replies never overwrite; marks survive a move to a bigger buffer', async (t) => {
  const w = new ReplyWriter();
  const taken: [Buffer, string][] = [];
  for (let i = 0; i < 5000; i++) {
    w.bulkString(`value-${i}-`.padEnd(10 + (i % 50), 'x'));
    if (i % 7 === 0) w.integer(i);
    if (i % 3 === 0) {
      const b = w.take();
      taken.push([b, b.toString('latin1')]);
    }
  }
  // A reply bigger than the buffer: the pending bytes move, a mark taken before stays right.
  taken.push(((b) => [b, b.toString('latin1')])(w.take()) as [Buffer, string]);
  w.simple('before');
  const mark = w.mark();
  w.bulkBytes(Buffer.alloc(300 * 1024, 0x61), 0, 300 * 1024);
  w.rollback(mark);
  t.equal(w.take().toString('latin1'), '+before\r\n', 'rolled back to the mark after the move');
  t.same(taken.filter(([b, text]) => b.toString('latin1') !== text).length, 0, 'every taken view still holds its bytes');
  t.equal(w.pending, 0);
});

t.test('written(): a buffer is reused from its start only once every take of it was written', async (t) => {
  const w = new ReplyWriter();
  w.simple('one');
  const first = w.take();
  w.written(first);
  w.simple('two');
  const second = w.take();
  t.equal(second.buffer, first.buffer, 'the same buffer');
  t.equal(second.byteOffset, first.byteOffset, 'rewound to its start');
  t.equal(second.toString(), '+two\r\n');

  // A take still held by a socket (never confirmed): later takes never overwrite it.
  w.written(second);
  w.simple('held');
  const held = w.take();
  w.simple('next');
  const next = w.take();
  w.written(next);
  w.simple('after');
  const after = w.take();
  t.equal(held.toString(), '+held\r\n', 'the unconfirmed take keeps its bytes');
  t.ok(after.byteOffset > held.byteOffset, 'no rewind while a take is unconfirmed');

  // A confirmation for a buffer the writer has since replaced is ignored.
  const w2 = new ReplyWriter();
  w2.simple('old');
  const old = w2.take();
  w2.bulkBytes(Buffer.alloc(200 * 1024, 0x62), 0, 200 * 1024);
  const big = w2.take();
  w2.written(old);
  w2.simple('new');
  const fresh = w2.take();
  t.ok(fresh.buffer !== big.buffer || fresh.byteOffset >= big.byteOffset + big.length, 'the big reply is not overwritten');
  t.equal(big.length, 200 * 1024 + '$204800\r\n\r\n'.length);
  t.equal(old.toString(), '+old\r\n');
});

t.test('bulkBytes copies word by word from a DataView the same bytes as byte by byte', async (t) => {
  const src = new Uint8Array(new SharedArrayBuffer(4096));
  for (let i = 0; i < src.length; i++) src[i] = (i * 131 + 7) & 0xff;
  const view = new DataView(src.buffer);
  const wrong: string[] = [];
  for (let len = 0; len <= 300; len++) {
    for (const start of [0, 1, 3, 8, 1001]) {
      const w = new ReplyWriter();
      w.bulkBytes(src, start, len, view);
      const expected = Buffer.concat([Buffer.from(`$${len}\r\n`), Buffer.from(src.subarray(start, start + len)), Buffer.from('\r\n')]);
      if (!w.take().equals(expected)) wrong.push(`${start}+${len}`);
    }
  }
  t.same(wrong, []);
});
