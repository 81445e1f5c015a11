/**
 * Connection and server commands (src/commands/connection.ts and
 * server-admin.ts) and the request layer against Redis 7.0.15: PING, ECHO,
 * SELECT, HELLO and RESP3 replies, AUTH (with and without requirepass),
 * RESET, the CLIENT subcommands, DBSIZE, FLUSHDB, SWAPDB, CONFIG errors,
 * unknown commands, inline commands and protocol errors sent as raw bytes,
 * where the reply and whether the connection closes must both match.
 */
import t from 'tap';
import net from 'node:net';
import { encodeCommand, requireRedisTools, RawClient, startWeft } from './helpers/servers.js';
import {
  anyInteger, connectPair, diffRaw, diffScript, maskIntegerAfter, pipelined, startPair, type Pair, type Step,
} from './helpers/differential.js';

/** weft and Redis number their client ids independently: HELLO's "id" field is masked (only there). */
const helloId = maskIntegerAfter('id');

if (requireRedisTools(t)) {
  const pair = await startPair(t);
  const [w, r] = await connectPair(t, pair);
  const run = async (steps: Step[]) => {
    await diffScript(w, r, [['RESET'], ['FLUSHALL']]);
    return diffScript(w, r, steps);
  };

  t.test('PING ECHO SELECT', async (t) => {
    t.same(await run([
      ['PING'],
      ['ping', 'hello'],
      ['PING', ''],
      ['PING', 'a', 'b'],
      ['ECHO', 'hello world'],
      ['ECHO', Buffer.from([0, 0xff, 13, 10])],
      ['ECHO', ''],
      ['ECHO'],
      ['ECHO', 'a', 'b'],
      ['SELECT', '15'],
      ['SET', 'k', 'in15'],
      ['SELECT', '16'],
      ['SELECT', '-1'],
      ['SELECT', 'abc'],
      ['SELECT', '1.0'],
      ['SELECT', '2147483648'],
      ['SELECT', '-2147483649'],
      ['SELECT', '9223372036854775807'],
      ['GET', 'k'],
      ['SELECT', '0'],
      ['GET', 'k'],
      ['SELECT'],
      ['SELECT', '1', '2'],
    ]), []);
  });

  t.test('HELLO and RESP3 replies', async (t) => {
    t.same(await run([
      { cmd: ['HELLO'], map: helloId },
      { cmd: ['HELLO', '2'], map: helloId },
      ['HELLO', '1'],
      ['HELLO', '4'],
      ['HELLO', 'abc'],
      ['HELLO', '-1'],
      ['HELLO', '3', 'FOO'],
      ['HELLO', '3', 'AUTH', 'default'],
      ['HELLO', '3', 'SETNAME'],
      ['HELLO', '3', 'SETNAME', 'bad name'],
      ['HELLO', '3', 'AUTH', 'nobody', 'pw'],
      ['PING'],
      { cmd: ['HELLO', '3', 'SETNAME', 'conn1'], map: helloId },
      ['CLIENT', 'GETNAME'],
      ['PING'],
      ['PING', 'x'],
      ['GET', 'missing'],
      ['SET', 'k', 'v'],
      ['SET', 'k', 'v', 'GET'],
      ['SET', 'k2', 'v', 'NX', 'GET'],
      ['SET', 'k', 'v', 'NX'],
      ['MGET', 'k', 'missing'],
      ['INCR', 'n'],
      ['INCRBYFLOAT', 'f', '1.5'],
      ['OBJECT', 'ENCODING', 'missing'],
      ['DEL', 'k', 'k2', 'n', 'f'],
      ['RANDOMKEY'],
      ['GETEX', 'missing'],
      ['GETDEL', 'missing'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['CONFIG', 'GET', 'nomatch*'],
      // Redis lists several configs in its dict's (seeded hash) order.
      { cmd: ['CONFIG', 'GET', 'maxmemory', 'maxmemory-policy'], unorderedPairs: true },
      ['SCAN', '0'],
      ['KEYS', '*'],
      ['CLIENT', 'SETNAME', ''],
      ['CLIENT', 'GETNAME'],
      ['FOO'],
      ['GET'],
      { cmd: ['HELLO', '3', 'AUTH', 'default', 'anything'], map: helloId },
      { cmd: ['HELLO'], map: helloId },
      { cmd: ['HELLO', '2'], map: helloId },
      ['GET', 'missing'],
      ['CONFIG', 'GET', 'maxmemory'],
    ]), []);
  });

  t.test('AUTH without a configured password', async (t) => {
    t.same(await run([
      ['AUTH', 'foo'],
      ['AUTH', 'default', 'foo'],
      ['AUTH', 'default', ''],
      ['AUTH', 'nobody', 'foo'],
      ['AUTH', 'a', 'b', 'c'],
      ['AUTH'],
      ['PING'],
    ]), []);
  });

  t.test('RESET', async (t) => {
    t.same(await run([
      { cmd: ['HELLO', '3', 'SETNAME', 'x'], map: helloId },
      ['SELECT', '5'],
      ['SET', 'k', 'in5'],
      ['CLIENT', 'NO-EVICT', 'on'],
      ['RESET'],
      ['GET', 'missing'],
      ['GET', 'k'],
      ['CLIENT', 'GETNAME'],
      ['RESET', 'x'],
      ['reset'],
    ]), []);
  });

  t.test('CLIENT subcommands', async (t) => {
    t.same(await run([
      { cmd: ['CLIENT', 'ID'], map: anyInteger },
      ['CLIENT', 'ID', 'x'],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME', 'myname'],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME', 'has space'],
      ['CLIENT', 'SETNAME', 'new\nline'],
      ['CLIENT', 'SETNAME', Buffer.from([0xc3, 0xa9])],
      ['CLIENT', 'SETNAME', '~!@#$%^&*()_+'],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME', ''],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME'],
      ['CLIENT', 'SETNAME', 'a', 'b'],
      ['CLIENT', 'GETNAME', 'x'],
      ['CLIENT', 'NO-EVICT', 'ON'],
      ['CLIENT', 'NO-EVICT', 'off'],
      ['CLIENT', 'NO-EVICT', 'maybe'],
      ['CLIENT', 'NO-EVICT'],
      ['CLIENT', 'REPLY', 'ON'],
      ['CLIENT', 'REPLY', 'maybe'],
      ['CLIENT', 'REPLY'],
      ['CLIENT', 'KILL', '1.2.3.4:5'],
      ['CLIENT', 'KILL', 'ADDR', '1.2.3.4:5'],
      ['CLIENT', 'KILL', 'LADDR', '1.2.3.4:5'],
      ['CLIENT', 'KILL', 'ID', '0'],
      ['CLIENT', 'KILL', 'ID', 'abc'],
      ['CLIENT', 'KILL', 'ID', '999999'],
      ['CLIENT', 'KILL', 'TYPE', 'foo'],
      ['CLIENT', 'KILL', 'TYPE', 'master'],
      ['CLIENT', 'KILL', 'USER', 'nobody'],
      ['CLIENT', 'KILL', 'SKIPME', 'maybe'],
      ['CLIENT', 'KILL', 'SKIPME', 'yes'],
      ['CLIENT', 'KILL', 'MAXAGE', '100'],
      ['CLIENT', 'KILL', 'FOO', 'bar'],
      ['CLIENT', 'KILL', 'ID'],
      ['CLIENT', 'KILL', 'ID', '5', 'TYPE'],
      ['CLIENT', 'KILL'],
      ['CLIENT', 'LIST', 'TYPE', 'foo'],
      ['CLIENT', 'LIST', 'TYPE', 'pubsub'],
      ['CLIENT', 'LIST', 'TYPE', 'master'],
      ['CLIENT', 'LIST', 'ID', 'abc'],
      ['CLIENT', 'LIST', 'ID', '0'],
      ['CLIENT', 'LIST', 'ID', '-5', '999999'],
      ['CLIENT', 'LIST', 'ID'],
      ['CLIENT', 'LIST', 'FOO'],
      ['CLIENT', 'LIST', 'TYPE', 'normal', 'ID', '1'],
      ['CLIENT', 'INFO', 'x'],
      ['CLIENT'],
      ['CLIENT', 'FOO'],
      ['client', 'foo', 'bar'],
    ]), []);
  });

  t.test('CLIENT REPLY OFF and SKIP suppress replies, errors included', async (t) => {
    await run([['SET', 'a', '1']]);
    const scripts: string[][][] = [
      [['CLIENT', 'REPLY', 'OFF'], ['SET', 'a', '2'], ['GET', 'a'], ['FOO'], ['GET'], ['CLIENT', 'REPLY', 'ON'], ['GET', 'a']],
      [['CLIENT', 'REPLY', 'SKIP'], ['GET', 'a'], ['GET', 'a']],
      [['CLIENT', 'REPLY', 'SKIP'], ['FOO'], ['GET', 'a']],
      [['CLIENT', 'REPLY', 'SKIP'], ['CLIENT', 'REPLY', 'SKIP'], ['GET', 'a'], ['GET', 'a']],
      [['CLIENT', 'REPLY', 'SKIP'], ['CLIENT', 'REPLY', 'ON'], ['GET', 'a']],
      [['CLIENT', 'REPLY', 'OFF'], ['CLIENT', 'REPLY', 'SKIP'], ['GET', 'a'], ['CLIENT', 'REPLY', 'ON'], ['GET', 'a']],
      [['CLIENT', 'REPLY', 'OFF'], ['CLIENT', 'REPLY', 'FOO'], ['CLIENT', 'REPLY', 'ON']],
    ];
    for (const s of scripts) {
      const [a, b] = await Promise.all([pipelined(w, s), pipelined(r, s)]);
      t.equal(a, b, s.map((c) => c.join(' ')).join('; '));
    }
  });

  t.test('a long pipeline in one write, large values included', async (t) => {
    await run([]);
    const big = Buffer.alloc(200_000, 'b');
    const cmds: (string | Buffer)[][] = [];
    for (let i = 0; i < 3000; i++) {
      cmds.push(['SET', `p:${i}`, `v${i}`], ['INCR', 'counter'], ['GET', `p:${i >> 1}`], ['APPEND', 'log', `${i},`]);
      if (i % 500 === 0) cmds.push(['SET', `big:${i}`, big], ['STRLEN', `big:${i}`], ['GETRANGE', `big:${i}`, '-3', '-1'], ['FOO', `${i}`], ['GET']);
    }
    cmds.push(['DBSIZE'], ['STRLEN', 'log'], ['MGET', 'p:0', 'p:2999', 'big:0']);
    const [a, b] = await Promise.all([pipelined(w, cmds), pipelined(r, cmds)]);
    t.equal(a.length, b.length, 'same number of reply bytes');
    t.ok(a === b, 'identical reply bytes');
  });

  t.test('DBSIZE FLUSHDB FLUSHALL SWAPDB', async (t) => {
    t.same(await run([
      ['DBSIZE'],
      ['MSET', 'a', '1', 'b', '2'],
      ['DBSIZE'],
      ['SELECT', '1'],
      ['SET', 'c', '3'],
      ['DBSIZE'],
      ['SWAPDB', '0', '1'],
      ['DBSIZE'],
      ['GET', 'a'],
      ['SELECT', '0'],
      ['GET', 'c'],
      ['SWAPDB', '0', '0'],
      ['SWAPDB', '0', '16'],
      ['SWAPDB', '-1', '0'],
      ['SWAPDB', 'abc', '0'],
      ['SWAPDB', '0', 'abc'],
      ['SWAPDB', '2147483648', '0'],
      ['SWAPDB', '0', '2147483648'],
      ['SWAPDB', 'x', 'y'],
      ['SWAPDB', '0'],
      ['SWAPDB', '1', '0'],
      ['FLUSHDB', 'FOO'],
      ['FLUSHDB', 'ASYNC', 'SYNC'],
      ['FLUSHDB', 'async'],
      ['DBSIZE'],
      ['SELECT', '1'],
      ['DBSIZE'],
      ['FLUSHDB', 'SYNC'],
      ['DBSIZE'],
      ['SELECT', '0'],
      ['MSET', 'a', '1', 'b', '2'],
      ['FLUSHDB'],
      ['DBSIZE'],
      ['SET', 'x', '1'],
      ['FLUSHALL', 'FOO'],
      ['FLUSHALL', 'SYNC'],
      ['DBSIZE'],
      ['DBSIZE', 'x'],
    ]), []);
  });

  t.test('CONFIG GET and SET errors', async (t) => {
    t.same(await run([
      ['CONFIG', 'GET', 'maxmemory'],
      ['CONFIG', 'GET', 'MAXMEMORY'],
      ['CONFIG', 'GET', 'maxmemory-policy'],
      ['CONFIG', 'GET', 'databases'],
      ['CONFIG', 'GET', 'appendonly'],
      ['CONFIG', 'GET', 'nosuchthing'],
      ['CONFIG', 'GET', '[z-a]'],
      ['CONFIG', 'GET', 'maxmemory-p?licy'],
      ['CONFIG', 'GET', 'MAXMEMORY-[PQ]OLICY'],
      ['CONFIG', 'GET', 'maxmemory', 'maxmemory'],
      ['CONFIG', 'GET', 'maxmemory', 'MAXMEMORY'],
      { cmd: ['CONFIG', 'GET', 'MAXMEMORY-policy', 'maxmemory-samples', 'maxmemory-policy'], unorderedPairs: true },
      { cmd: ['CONFIG', 'GET', 'maxmemory-p*', 'maxmemory-samples'], unorderedPairs: true },
      ['CONFIG', 'GET'],
      ['CONFIG', 'SET', 'maxmemory', '1mb'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['CONFIG', 'SET', 'maxmemory', '0'],
      ['CONFIG', 'SET', 'nosuch', '1'],
      ['CONFIG', 'SET', 'maxmemory', 'abc'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'bogus'],
      ['CONFIG', 'SET', 'daemonize', 'yes'],
      ['CONFIG', 'SET', 'databases', '4'],
      ['CONFIG', 'SET', 'timeout', '-1'],
      ['CONFIG', 'SET', 'hz', 'abc'],
      ['CONFIG', 'SET', 'appendonly', 'maybe'],
      ['CONFIG', 'SET', 'loglevel', 'foo'],
      ['CONFIG', 'SET', 'maxmemory', '1', 'maxmemory', '2'],
      ['CONFIG', 'SET', 'maxmemory', '1', 'MAXMEMORY', '2'],
      ['CONFIG', 'SET', 'maxmemory', '1', 'nosuch', '2'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'ALLKEYS-LRU', 'maxmemory-samples', '7'],
      ['CONFIG', 'GET', 'maxmemory-policy'],
      ['CONFIG', 'GET', 'maxmemory-samples'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction', 'maxmemory-samples', '5'],
      ['CONFIG', 'SET', 'maxmemory'],
      ['CONFIG', 'SET', 'maxmemory', '1', 'hz'],
      ['CONFIG', 'SET'],
      ['CONFIG', 'RESETSTAT'],
      ['CONFIG', 'RESETSTAT', 'x'],
      ['CONFIG', 'HELP'],
      ['CONFIG', 'FOO'],
      ['CONFIG'],
    ]), []);
  });

  // These come from the config table in src/server/config.ts (outside this
  // suite's files): maxclients' upper bound is 4294967295 in Redis, a bound of
  // LLONG_MAX is printed through a double, and Redis accepts any hz and clamps
  // it to 500 instead of refusing it.
  t.test('CONFIG SET bounds of the config table', async (t) => {
    t.same(await run([
      ['CONFIG', 'SET', 'maxclients', '0'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '100'],
      ['CONFIG', 'SET', 'hz', '600'],
      ['CONFIG', 'GET', 'hz'],
      ['CONFIG', 'SET', 'hz', '10'],
    ]), []);
  });

  t.test('SHUTDOWN flag combinations Redis refuses (the servers stay up)', async (t) => {
    t.same(await run([
      ['SHUTDOWN', 'NOSAVE', 'SAVE'], ['SHUTDOWN', 'ABORT', 'NOSAVE'], ['SHUTDOWN', 'ABORT', 'NOW'], ['SHUTDOWN', 'BOGUS'],
      ['SHUTDOWN', 'ABORT'], ['PING'],
    ]), []);
  });

  t.test('unknown commands and subcommands, arity errors', async (t) => {
    t.same(await run([
      ['FOO'],
      ['foo', 'bar', 'baz'],
      ['FOO', 'x'.repeat(200)],
      ['FOO', 'a'.repeat(100), 'b'.repeat(100), 'c'],
      ['F'.repeat(200)],
      ['FOO', 'line\r\nbreak'],
      ['FOO', '', ''],
      [''],
      ['', 'x'],
      ['CLIENT', 'x'.repeat(200)],
      ['OBJECT', 'nope', 'k'],
      ['CONFIG', 'nope'],
      ['GET'],
      ['CLIENT', 'SETNAME'],
      ['CONFIG', 'GET'],
      ['OBJECT', 'ENCODING'],
      ['EXPIRE', 'k', '10', 'caf\u00e9'],
      ['HELLO', '3', 'caf\u00e9'],
      ['CLIENT', 'KILL', 'TYPE', 'caf\u00e9'],
      ['CLIENT', 'KILL', 'USER', 'caf\u00e9'],
    ]), []);
  });

  // Redis copies argument bytes into error texts as they are. weft's error
  // writer (src/protocol/reply-writer.ts) encodes its text as UTF-8, and the
  // unknown-command texts (src/commands/dispatch.ts) are decoded as latin1
  // first, so bytes >= 0x80 come back changed.
  t.test('non-ASCII bytes in error replies', async (t) => {
    t.same(await run([
      ['FOO', Buffer.from([0xe9, 0xff])],
      ['FOO', 'caf\u00e9'],
      ['caf\u00e9'],
      [Buffer.from([0xe9])],
      ['CLIENT', 'caf\u00e9'],
      ['EXPIRE', 'k', '10', Buffer.from([0xe9])],
      ['HELLO', '3', Buffer.from([0xe9])],
    ]), []);
  });

  t.test('inline commands', async (t) => {
    t.same(await diffRaw(pair, [
      { name: 'PING', bytes: 'PING\r\n' },
      { name: 'LF only', bytes: 'PING\nECHO hi\n' },
      { name: 'spaces', bytes: '   ECHO    a   b  \r\n' },
      { name: 'ECHO', bytes: 'ECHO hello\r\n' },
      { name: 'quotes and escapes', bytes: 'SET "a b" "c\\x41\\n\\t\\"q"\r\nGET "a b"\r\nDEL "a b"\r\n' },
      { name: 'single quotes', bytes: "ECHO 'it\\'s' 'a\\nb'\r\n" },
      { name: 'empty lines are ignored', bytes: '\r\n\r\n   \r\nPING\r\n' },
      { name: 'unknown inline', bytes: 'FOO bar\r\n' },
      { name: 'inline then multibulk', bytes: `PING\r\n${encodeCommand(['ECHO', 'x']).toString()}PING\r\n` },
      { name: 'unbalanced double quote', bytes: 'PING\r\nECHO "abc\r\nPING\r\n' },
      { name: 'unbalanced single quote', bytes: "ECHO 'abc\r\n" },
      { name: 'closing quote not followed by space', bytes: 'ECHO "a"b\r\n' },
      { name: 'empty quoted argument', bytes: 'ECHO ""\r\n' },
      { name: 'inline QUIT', bytes: 'QUIT\r\nPING\r\n' },
      { name: 'too big inline request', bytes: 'ECHO ' + 'a'.repeat(70000) },
      { name: 'long inline line with newline', bytes: ['ECHO ' + 'a'.repeat(60000), 'b'.repeat(3000) + '\r\n'] },
    ]), []);
  });

  t.test('protocol errors reply then close the connection', async (t) => {
    t.same(await diffRaw(pair, [
      { name: 'bad multibulk count', bytes: '*abc\r\n' },
      { name: 'empty multibulk count', bytes: '*\r\n' },
      { name: 'multibulk count too big', bytes: '*2147483648\r\n' },
      { name: 'negative multibulk count is ignored', bytes: '*-5\r\nPING\r\n' },
      { name: 'zero multibulk count is ignored', bytes: '*0\r\nPING\r\n' },
      { name: 'expected $', bytes: '*1\r\n+PING\r\n' },
      { name: 'expected $ after a good argument', bytes: '*2\r\n$4\r\nECHO\r\n:5\r\n' },
      { name: 'bad bulk length', bytes: '*1\r\n$abc\r\n' },
      { name: 'negative bulk length', bytes: '*1\r\n$-1\r\n' },
      { name: 'bulk length with space', bytes: '*1\r\n$ 3\r\n' },
      { name: 'bulk length beyond proto-max-bulk-len', bytes: '*1\r\n$536870913\r\n' },
      { name: 'too big mbulk count string', bytes: '*' + '1'.repeat(70000) },
      { name: 'too big bulk count string', bytes: '*1\r\n$' + '1'.repeat(70000) },
      { name: 'commands before the error are answered', bytes: 'PING\r\n*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n' },
      { name: 'bytes after a bulk are not checked', bytes: '*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n' },
      { name: 'short bulk length', bytes: '*1\r\n$3\r\nPING\r\n' },
      { name: 'incomplete command waits', bytes: '*2\r\n$4\r\nECHO\r\n$5\r\nhel' },
      { name: 'LF without CR in multibulk waits', bytes: '*1\n$4\nPING\n' },
      { name: 'split over writes', bytes: ['*2\r\n$4\r\nEC', 'HO\r\n$5\r\nhel', 'lo\r\n', '*1\r', '\n$4\r\nPING\r\n'] },
      { name: 'QUIT closes after its reply', bytes: '*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n' },
      { name: 'QUIT with arguments', bytes: 'QUIT now\r\nPING\r\n' },
    ]), []);
  });

  t.test('after a protocol error the connection is closed for good, even while the client keeps sending', async (t) => {
    // A client that does not end its side when the server does (allowHalfOpen): Redis frees the client and
    // closes its socket, so the client's next writes fail; a half-closed socket would keep taking them.
    const outcome = async (port: number) => {
      const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      let got = '';
      let failed = false;
      s.on('data', (d) => (got += d.toString('latin1')));
      s.on('error', () => (failed = true));
      await new Promise((r) => s.once('connect', r));
      s.write('*1\r\n$-5\r\n');
      const writer = setInterval(() => s.destroyed || s.write('PING\r\n'), 5);
      for (let i = 0; i < 200 && !s.destroyed; i++) await new Promise((r) => setTimeout(r, 10));
      clearInterval(writer);
      const result = { got, closed: s.destroyed, writeFailed: failed };
      s.destroy();
      return result;
    };
    const [weft, redis] = await Promise.all([outcome(pair.weft.port), outcome(pair.redis.port)]);
    t.same(weft, redis);
    t.same(weft, { got: '-ERR Protocol error: invalid bulk length\r\n', closed: true, writeFailed: true });
  });

  t.test('with requirepass', async (t) => {
    const locked: Pair = await startPair(t, ['--requirepass', 'secret']);
    const [lw, lr] = await connectPair(t, locked);
    t.same(await diffScript(lw, lr, [
      ['GET', 'k'],
      ['PING'],
      ['FOO'],
      ['GET'],
      ['CLIENT', 'ID'],
      ['HELLO', '3'],
      ['HELLO'],
      ['HELLO', '3', 'AUTH', 'default', 'wrong'],
      ['HELLO', '3', 'AUTH', 'nobody', 'secret'],
      ['AUTH', 'wrong'],
      ['AUTH', 'default', 'wrong'],
      ['AUTH', 'nobody', 'secret'],
      ['AUTH', 'a', 'b', 'c'],
      ['AUTH', 'secret'],
      ['GET', 'k'],
      ['RESET'],
      ['GET', 'k'],
      ['AUTH', 'default', 'secret'],
      ['SET', 'k', 'v'],
      ['RESET'],
      { cmd: ['HELLO', '3', 'AUTH', 'default', 'secret', 'SETNAME', 'me'], map: helloId },
      ['CLIENT', 'GETNAME'],
      ['GET', 'k'],
    ]), []);
    t.same(await diffRaw(locked, [
      { name: 'QUIT before AUTH', bytes: 'QUIT\r\n' },
      { name: 'unauthenticated multibulk length', bytes: '*11\r\n' },
      { name: 'ten arguments are fine', bytes: encodeCommand(['AUTH', ...Array(9).fill('x')]) },
      { name: 'unauthenticated bulk length', bytes: '*2\r\n$4\r\nAUTH\r\n$16385\r\n' },
      { name: 'bulk of 16384 is fine', bytes: encodeCommand(['AUTH', 'x'.repeat(16384)]) },
      { name: 'after AUTH the limits go', bytes: Buffer.concat([encodeCommand(['AUTH', 'secret']), encodeCommand(['ECHO', 'y'.repeat(20000)]), encodeCommand(Array(12).fill('PING'))]) },
      { name: 'inline AUTH', bytes: 'AUTH secret\r\nPING\r\n' },
    ]), []);
  });

  t.test('CLIENT HELP', async (t) => {
    t.same(await run([['CLIENT', 'HELP']]), []);
  });

  // CLIENT SETINFO arrived in Redis 7.2 (Redis 7.0.15 answers "unknown
  // subcommand"); clients such as node-redis v5 send it on connect, so weft
  // implements it, with the replies Redis 7.2 documents.
  t.test('CLIENT SETINFO (Redis 7.2)', async (t) => {
    const weft = await startWeft();
    t.teardown(() => weft.stop());
    const c = await RawClient.connect(weft.port);
    t.teardown(() => c.close());
    const expected: [string[], string][] = [
      [['CLIENT', 'SETINFO', 'lib-name', 'mylib'], '+OK\r\n'],
      [['CLIENT', 'SETINFO', 'LIB-VER', '1.0'], '+OK\r\n'],
      [['CLIENT', 'SETINFO', 'lib-name', 'bad name'], '-ERR lib-name cannot contain spaces, newlines or special characters.\r\n'],
      [['CLIENT', 'SETINFO', 'foo', 'x'], "-ERR Unrecognized option 'foo'\r\n"],
      [['CLIENT', 'SETINFO', 'lib-name'], "-ERR wrong number of arguments for 'client|setinfo' command\r\n"],
    ];
    for (const [cmd, reply] of expected) t.equal((await c.command(...cmd)).toString(), reply, cmd.join(' '));
    t.match((await c.command('CLIENT', 'INFO')).toString(), /lib-name=mylib lib-ver=1\.0/);
  });
}
