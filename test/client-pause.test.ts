/**
 * CLIENT PAUSE and CLIENT UNPAUSE (src/server/client-pause.ts) as Redis 7.0
 * runs them: replies and errors byte for byte against redis-server; which
 * commands wait under WRITE and ALL, on every worker thread, in pipeline
 * order; an UNPAUSE that ends a WRITE pause early (an ALL pause holds the
 * UNPAUSE too, as in Redis); a pause only growing; and the dataset held
 * still: a key whose TTL passes during the pause reads as missing but is
 * not deleted until the pause ends, on weft as on redis-server.
 */
import t from 'tap';
import { RawClient, requireRedisTools } from './helpers/servers.js';
import { connectPair, diffScript, startPair, type Step } from './helpers/differential.js';

const text = (b: Buffer) => b.toString('latin1');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long a command takes to be answered. */
async function timed(c: RawClient, ...args: string[]): Promise<{ reply: string; ms: number }> {
  const start = Date.now();
  const reply = text(await c.command(...args));
  return { reply, ms: Date.now() - start };
}

if (requireRedisTools(t)) {
  const pair = await startPair(t, [], { threads: 2 });
  const [w, r] = await connectPair(t, pair);
  const clients: RawClient[] = [];
  t.teardown(() => clients.forEach((c) => c.close()));
  const threadOf = async (c: RawClient) => /io-thread=(\d+)/.exec(text(await c.command('CLIENT', 'INFO')))![1];
  /** n connections to weft, each on another worker thread than the one before it. */
  const weftClients = async (n: number) => {
    const out: RawClient[] = [];
    let previous = '';
    while (out.length < n) {
      const c = await RawClient.connect(pair.weft.port);
      clients.push(c);
      const thread = await threadOf(c);
      if (thread === previous) continue;
      previous = thread;
      out.push(c);
    }
    return out;
  };

  t.test('replies and errors as redis-server', async (t) => {
    const steps: Step[] = [
      ['CLIENT', 'PAUSE'], ['CLIENT', 'PAUSE', 'abc'], ['CLIENT', 'PAUSE', '-1'], ['CLIENT', 'PAUSE', '1.5'],
      ['CLIENT', 'PAUSE', '10', 'foo'], ['CLIENT', 'PAUSE', 'abc', 'foo'], ['CLIENT', 'PAUSE', '10', 'all', 'x'],
      ['CLIENT', 'PAUSE', '99999999999999999999'], ['CLIENT', 'UNPAUSE', 'x'], ['CLIENT', 'PAUSE', '0'], ['PING'],
      ['CLIENT', 'PAUSE', '9223372036854775807'], ['PING'], ['CLIENT', 'PAUSE', '1', 'write'], ['CLIENT', 'PAUSE', '1', 'ALL'],
      ['CLIENT', 'UNPAUSE'], ['SET', 'k', 'v'], ['GET', 'k'],
    ];
    t.same(await diffScript(w, r, steps), []);
  });

  t.test('WRITE holds writes on every thread, in pipeline order, while reads go on', async (t) => {
    const [a, b, admin] = await weftClients(3);
    t.equal(text(await admin.command('CLIENT', 'PAUSE', '400', 'WRITE')), '+OK\r\n');
    const read = await timed(a, 'GET', 'k');
    t.ok(read.ms < 200, `a read is not held (${read.ms} ms)`);
    const start = Date.now();
    const replies = await b.pipeline([['GET', 'k'], ['SET', 'k', 'v2'], ['GET', 'k'], ['PING']]);
    const ms = Date.now() - start;
    t.same(replies.map(text), ['$1\r\nv\r\n', '+OK\r\n', '$2\r\nv2\r\n', '+PONG\r\n'], 'replies in order');
    t.ok(ms >= 300, `the write and what followed it waited for the pause (${ms} ms)`);
    const after = await timed(a, 'SET', 'k', 'v3');
    t.ok(after.ms < 200, `writes run again once it ended (${after.ms} ms)`);
  });

  t.test('CLIENT UNPAUSE ends a WRITE pause at once; under ALL it waits like any command', async (t) => {
    const [a, b, admin] = await weftClients(3);
    await admin.command('CLIENT', 'PAUSE', '20000', 'WRITE');
    const held = timed(a, 'INCR', 'counter');
    await sleep(150);
    const unpause = await timed(b, 'CLIENT', 'UNPAUSE');
    t.ok(unpause.ms < 200, `UNPAUSE is not a write (${unpause.ms} ms)`);
    const write = await held;
    t.equal(write.reply, ':1\r\n');
    t.ok(write.ms < 2000, `the held write ran right after the UNPAUSE (${write.ms} ms)`);
    await admin.command('CLIENT', 'PAUSE', '500', 'ALL');
    const ping = await timed(a, 'PING');
    const unpauseAll = await timed(b, 'CLIENT', 'UNPAUSE');
    t.ok(ping.ms >= 350, `ALL holds a PING (${ping.ms} ms)`);
    t.ok(unpauseAll.ms < 1000, `and the UNPAUSE sent after it ran when the pause ended (${unpauseAll.ms} ms)`);
  });

  t.test('a pause only grows: the later end and the stronger type win', async (t) => {
    const [a, admin] = await weftClients(2);
    await admin.command('CLIENT', 'PAUSE', '600', 'WRITE');
    await admin.command('CLIENT', 'PAUSE', '1', 'ALL');
    const start = Date.now();
    const get = await timed(a, 'GET', 'k');
    t.ok(get.ms >= 400, `ALL now, until the WRITE pause's end (${get.ms} ms)`);
    t.ok(Date.now() - start < 3000);
  });

  t.test('expiry holds still during a pause, as on redis-server', async (t) => {
    const run = async (c: RawClient) => {
      const out: string[] = [];
      await c.command('FLUSHALL');
      await c.command('SET', 'ttl', 'v', 'PX', '100');
      await c.command('CLIENT', 'PAUSE', '700', 'WRITE');
      await sleep(300);
      for (const cmd of [['GET', 'ttl'], ['EXISTS', 'ttl'], ['DBSIZE']]) out.push(text(await c.command(...cmd)));
      await sleep(600);
      for (const cmd of [['GET', 'ttl'], ['DBSIZE']]) out.push(text(await c.command(...cmd)));
      return out;
    };
    const [weft, redis] = await Promise.all([run(w), run(r)]);
    t.same(weft, redis);
    t.same(weft, ['$-1\r\n', ':0\r\n', ':1\r\n', '$-1\r\n', ':0\r\n'], 'missing but kept while paused, deleted after');
  });
}
