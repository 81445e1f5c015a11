/**
 * client-output-buffer-limit (src/server/output-buffer-limits.ts): CONFIG
 * GET / SET with Redis's errors and partial updates, byte for byte against
 * redis-server; then a subscriber that never reads while 1,000,000 messages
 * are published is disconnected at the pubsub hard limit and logged as
 * Redis logs it, a subscriber that reads gets every message, the publisher
 * is unaffected, the soft limit closes a client after its seconds, and
 * CLIENT LIST shows real qbuf, omem and tot-mem.
 */
import t from 'tap';
import net from 'node:net';
import { RawClient, encodeCommand, requireRedisTools, startWeft } from './helpers/servers.js';
import { connectPair, diffScript, startPair } from './helpers/differential.js';
import { waitFor } from './helpers/cluster.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (requireRedisTools(t)) {
  t.test('CONFIG GET and SET, as redis-server', async (t) => {
    const pair = await startPair(t, ['--client-output-buffer-limit', 'pubsub 64mb 16mb 90'], { threads: 1 });
    const [w, r] = await connectPair(t, pair);
    const limit = 'client-output-buffer-limit';
    t.same(await diffScript(w, r, [
      ['CONFIG', 'GET', limit], ['CONFIG', 'SET', limit, 'pubsub 1mb 2mb'], ['CONFIG', 'SET', limit, 'foo 1 1 1'],
      ['CONFIG', 'SET', limit, 'pubsub 1x 1 1'], ['CONFIG', 'SET', limit, 'master 1 1 1'], ['CONFIG', 'SET', limit, 'replica 1gb 1 -1'],
      ['CONFIG', 'SET', limit, 'pubsub 1mb 512kb 10'], ['CONFIG', 'GET', limit], ['CONFIG', 'SET', limit, 'replica 1GB 2k 5 normal 1 2 3'],
      ['CONFIG', 'GET', limit], ['CONFIG', 'SET', limit, ''], ['CONFIG', 'GET', limit], ['CONFIG', 'GET', 'client-output*'],
    ]), []);
  });
}

/** Publishes `count` messages on `channel` from one connection, pipelined in batches; resolves with the replies' bytes. */
async function publishMany(port: number, channel: string, count: number, payload: string): Promise<number> {
  const c = await RawClient.connect(port);
  try {
    const one = encodeCommand(['PUBLISH', channel, payload]);
    const batch = 2000;
    let replies = 0;
    for (let sent = 0; sent < count; sent += batch) {
      const n = Math.min(batch, count - sent);
      c.write(Buffer.concat(Array.from({ length: n }, () => one)));
      for (let i = 0; i < n; i++) {
        await c.reply(30000);
        replies++;
      }
    }
    return replies;
  } finally {
    c.close();
  }
}

t.test('a subscriber that never reads is dropped at the pubsub hard limit; the others are not', async (t) => {
  const server = await startWeft([], { threads: 2 });
  t.teardown(() => server.stop());
  const control = await RawClient.connect(server.port);
  t.teardown(() => control.close());
  // MEMORY PURGE first: V8 collects garbage only when it allocates, and an idle thread keeps it.
  const usedMemory = async () => {
    await control.command('MEMORY', 'PURGE');
    return Number(/used_memory:(\d+)/.exec((await control.command('INFO', 'memory')).toString())![1]);
  };
  const before = await usedMemory();

  // The stalled subscriber: subscribes, then never reads again.
  const stalled = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => stalled.once('connect', r));
  stalled.write(encodeCommand(['SUBSCRIBE', 'firehose']));
  await new Promise((r) => stalled.once('data', r));
  stalled.pause();
  stalled.on('error', () => {});
  t.teardown(() => stalled.destroy());

  // The reading subscriber counts every message.
  const reader = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => reader.once('connect', r));
  let messages = -1;
  reader.on('data', (d: Buffer) => {
    for (let i = 0; i < d.length; i++) if (d[i] === 42 /* '*' */) messages++;
  });
  reader.write(encodeCommand(['SUBSCRIBE', 'firehose']));
  t.teardown(() => reader.destroy());
  await waitFor('both subscribed', 5000, async () => ((await control.command('PUBSUB', 'NUMSUB', 'firehose')).toString().endsWith(':2\r\n') ? true : 'not yet'));

  const total = 1_000_000;
  const replies = await publishMany(server.port, 'firehose', total, 'm'.repeat(40));
  t.equal(replies, total, 'the publisher got every reply');
  // A paused socket hears of the close only once it reads: the server's side tells.
  const subscribers = async () => (await control.command('PUBSUB', 'NUMSUB', 'firehose')).toString().slice(-4);
  await waitFor('the stalled subscriber disconnected', 30000, async () => ((await subscribers()) === ':1\r\n' ? true : 'still connected'));
  t.match(server.output(), /Client id=\d+ addr=127\.0\.0\.1:\d+ .*class=pubsub scheduled to be closed ASAP for overcoming of output buffer limits\./);
  await waitFor('the reading subscriber got every message', 30000, async () => (messages === total ? true : `${messages}`));
  t.equal(await subscribers(), ':1\r\n', 'only the reader is left');
  // The stalled client's queued output is gone with it.
  await waitFor('memory back near where it was', 20000, async () => {
    const now = await usedMemory();
    return now < before + 16 * 1024 * 1024 ? true : `${now - before} bytes above`;
  });
});

t.test('the soft limit closes a client that stays above it; CLIENT LIST shows its output', async (t) => {
  const server = await startWeft(['--client-output-buffer-limit', 'pubsub 0 64kb 4'], { threads: 1 });
  t.teardown(() => server.stop());
  const control = await RawClient.connect(server.port);
  t.teardown(() => control.close());
  const stalled = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => stalled.once('connect', r));
  stalled.write(encodeCommand(['SUBSCRIBE', 'slow']));
  await new Promise((r) => stalled.once('data', r));
  stalled.pause();
  stalled.on('error', () => {});
  t.teardown(() => stalled.destroy());
  const connected = async () => (await control.command('PUBSUB', 'NUMSUB', 'slow')).toString().endsWith(':1\r\n');
  // Enough to fill the kernel's buffers and keep well over 64 KB queued in the server.
  await publishMany(server.port, 'slow', 60_000, 'x'.repeat(100));
  const list = (await control.command('CLIENT', 'LIST')).toString();
  const line = list.split('\n').find((l) => l.includes('sub=1'));
  t.ok(line, 'the subscriber is listed');
  const omem = Number(/ omem=(\d+)/.exec(line!)![1]);
  t.ok(omem > 64 * 1024, `omem shows its queued output (${omem})`);
  t.equal(Number(/ tot-mem=(\d+)/.exec(line!)![1]) >= omem, true, 'tot-mem includes it');
  t.ok(await connected(), 'not closed at once: the soft limit gives it its seconds');
  // A message more after the seconds: the limit is checked when output is added, as in Redis.
  await sleep(4200);
  await publishMany(server.port, 'slow', 1000, 'x'.repeat(100));
  await waitFor('closed after its soft seconds', 10000, async () => (!(await connected()) ? true : 'still connected'));
  t.match(server.output(), /class=pubsub scheduled to be closed ASAP for overcoming of output buffer limits\./);
});

t.test('replies leave once per turn, big output at once: order kept, a client that stops reading stops being read', async (t) => {
  const server = await startWeft([], { threads: 1 });
  t.teardown(() => server.stop());
  const control = await RawClient.connect(server.port);
  t.teardown(() => control.close());
  const big = 'v'.repeat(100 * 1024);
  await control.command('SET', 'big', big);
  // One pipeline of small and big replies (several MB within one turn of the server's loop).
  const cmds: string[][] = [];
  for (let i = 0; i < 200; i++) cmds.push(i % 3 === 0 ? ['GET', 'big'] : ['ECHO', `small-${i}`]);
  const replies = await control.pipeline(cmds, 20000);
  const wrong = replies.filter((r, i) => r.toString() !== (i % 3 === 0 ? `$${big.length}\r\n${big}\r\n` : `$${`small-${i}`.length}\r\nsmall-${i}\r\n`));
  t.equal(wrong.length, 0, 'every reply whole and in order');

  // A client that sends a pipeline of many reads' worth and reads nothing: once the socket holds more
  // than it takes, the client's input is paused (deferred writes keep that backpressure: big output is
  // written within the turn), so the server holds about a read's replies, not all of them.
  const value = 'w'.repeat(1024);
  await control.command('SET', 'kb', value);
  const stalled = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => stalled.once('connect', r));
  stalled.on('error', () => {});
  t.teardown(() => stalled.destroy());
  stalled.pause();
  const gets = 20000;
  stalled.write(Buffer.concat(Array.from({ length: gets }, () => encodeCommand(['GET', 'kb']))));
  await sleep(500);
  const line = (await control.command('CLIENT', 'LIST')).toString().split('\n').find((l) => / cmd=get /.test(l) && / qbuf=[1-9]/.test(l));
  t.ok(line, 'the stalled client is listed with unread input');
  const omem = Number(/ omem=(\d+)/.exec(line!)![1]);
  t.ok(omem < (gets * value.length) / 4, `its queued output is a read's worth (omem ${omem}), not all ${gets} replies`);
  t.equal((await control.command('PING')).toString(), '+PONG\r\n', 'the server serves others meanwhile');
});
