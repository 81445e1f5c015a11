/**
 * Blocking list and sorted-set commands across worker threads (src/commands/blocking.ts):
 * served by a push on another thread in FIFO order, exactly once, with
 * Redis's replies for timeouts, CLIENT UNBLOCK and the immediate path, and
 * no element lost or delivered twice under concurrent pushers and poppers.
 */
import t from 'tap';
import { RawClient, startWeft } from './helpers/servers.js';

const weft = await startWeft([], { threads: 2 });
t.teardown(() => weft.stop());
const clients: RawClient[] = [];
t.teardown(() => clients.forEach((c) => c.close()));
const connect = async () => {
  const c = await RawClient.connect(weft.port);
  clients.push(c);
  return c;
};
const text = (b: Buffer) => b.toString('latin1');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function blockedCount(c: RawClient): Promise<number> {
  return Number(/blocked_clients:(\d+)/.exec(text(await c.command('INFO', 'clients')))![1]);
}

/** Waits until INFO counts at least n blocked clients (the rows of other threads are published every cron tick). */
async function waitBlocked(c: RawClient, n: number): Promise<void> {
  for (let i = 0; i < 300 && (await blockedCount(c)) < n; i++) await sleep(10);
  t.ok((await blockedCount(c)) >= n, `${n} clients blocked`);
}

async function waitUnblocked(c: RawClient): Promise<void> {
  for (let i = 0; i < 300 && (await blockedCount(c)) !== 0; i++) await sleep(10);
  t.equal(await blockedCount(c), 0, 'no client blocked');
}

t.test('BLPOP waiters on two threads are served in arrival order by one push', async (t) => {
  const admin = await connect();
  const a = await connect();
  const b = await connect();
  a.write('*4\r\n$5\r\nBLPOP\r\n$2\r\nq1\r\n$2\r\nq2\r\n$1\r\n5\r\n');
  await waitBlocked(admin, 1);
  b.write('*3\r\n$5\r\nBLPOP\r\n$2\r\nq2\r\n$1\r\n5\r\n');
  await waitBlocked(admin, 2);
  t.equal(text(await admin.command('RPUSH', 'q2', 'x', 'y', 'z')), ':3\r\n', 'the pusher sees the length before serving');
  t.equal(text(await a.reply()), '*2\r\n$2\r\nq2\r\n$1\r\nx\r\n');
  t.equal(text(await b.reply()), '*2\r\n$2\r\nq2\r\n$1\r\ny\r\n');
  t.equal(text(await admin.command('LRANGE', 'q2', '0', '-1')), '*1\r\n$1\r\nz\r\n', 'served inside the push');
  await waitUnblocked(admin);
});

t.test('immediate path, errors and timeouts as Redis', async (t) => {
  const c = await connect();
  await c.command('RPUSH', 'l', 'a', 'b');
  t.equal(text(await c.command('BRPOP', 'missing', 'l', '1')), '*2\r\n$1\r\nl\r\n$1\r\nb\r\n');
  await c.command('SET', 's', 'v');
  t.equal(text(await c.command('BLPOP', 's', '1')), '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
  t.equal(text(await c.command('BLPOP', 'x', '-1')), '-ERR timeout is negative\r\n');
  t.equal(text(await c.command('BLPOP', 'x', 'abc')), '-ERR timeout is not a float or out of range\r\n');
  const started = Date.now();
  t.equal(text(await c.command('BLPOP', 'x', '0.2')), '*-1\r\n', 'a timeout replies a null array');
  t.ok(Date.now() - started >= 190, 'waited for the timeout');
  t.equal(text(await c.command('BLMOVE', 'x', 'y', 'LEFT', 'RIGHT', '0.1')), '*-1\r\n', 'BLMOVE times out with a null array too');
  t.equal(text(await c.command('BLMPOP', '0.1', '2', 'l', 'x', 'LEFT', 'COUNT', '5')), '*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n');
});

t.test('BLMOVE and BLMPOP are served by a push', async (t) => {
  const admin = await connect();
  const m = await connect();
  m.write('*6\r\n$6\r\nBLMOVE\r\n$3\r\nsrc\r\n$3\r\ndst\r\n$5\r\nRIGHT\r\n$4\r\nLEFT\r\n$1\r\n5\r\n');
  await waitBlocked(admin, 1);
  await admin.command('LPUSH', 'src', 'p', 'q');
  t.equal(text(await m.reply()), '$1\r\np\r\n');
  t.equal(text(await admin.command('LRANGE', 'dst', '0', '-1')), '*1\r\n$1\r\np\r\n');
  t.equal(text(await admin.command('LRANGE', 'src', '0', '-1')), '*1\r\n$1\r\nq\r\n');
  const p = await connect();
  p.write('*7\r\n$6\r\nBLMPOP\r\n$1\r\n5\r\n$1\r\n1\r\n$2\r\nmp\r\n$5\r\nRIGHT\r\n$5\r\nCOUNT\r\n$1\r\n2\r\n');
  await waitBlocked(admin, 1);
  await admin.command('RPUSH', 'mp', '1', '2', '3');
  t.equal(text(await p.reply()), '*2\r\n$2\r\nmp\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n');
});

t.test('BZPOPMIN, BZPOPMAX and BZMPOP: immediate, served by ZADD, skipping waiters of another type', async (t) => {
  const admin = await connect();
  await admin.command('ZADD', 'zi', '1', 'a', '2', 'b');
  t.equal(text(await admin.command('BZPOPMAX', 'nokey', 'zi', '1')), '*3\r\n$2\r\nzi\r\n$1\r\nb\r\n$1\r\n2\r\n');
  t.equal(text(await admin.command('BZMPOP', '1', '2', 'nokey', 'zi', 'MIN', 'COUNT', '5')),
    '*2\r\n$2\r\nzi\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n');
  t.equal(text(await admin.command('BZPOPMIN', 'zi', '0.1')), '*-1\r\n');
  await admin.command('SET', 'str', 'v');
  t.equal(text(await admin.command('BZPOPMIN', 'str', '1')), '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
  const lister = await connect();
  lister.write('*3\r\n$5\r\nBLPOP\r\n$2\r\nzk\r\n$1\r\n5\r\n');
  await waitBlocked(admin, 1);
  const z = await connect();
  z.write('*3\r\n$8\r\nBZPOPMIN\r\n$2\r\nzk\r\n$1\r\n5\r\n');
  await waitBlocked(admin, 2);
  const m = await connect();
  m.write('*7\r\n$6\r\nBZMPOP\r\n$1\r\n5\r\n$1\r\n1\r\n$2\r\nzk\r\n$3\r\nMAX\r\n$5\r\nCOUNT\r\n$1\r\n2\r\n');
  await waitBlocked(admin, 3);
  t.equal(text(await admin.command('ZADD', 'zk', '1', 'x', '2', 'y', '3', 'z', '4', 'w')), ':4\r\n');
  t.equal(text(await z.reply()), '*3\r\n$2\r\nzk\r\n$1\r\nx\r\n$1\r\n1\r\n', 'the list waiter is skipped');
  t.equal(text(await m.reply()), '*2\r\n$2\r\nzk\r\n*2\r\n*2\r\n$1\r\nw\r\n$1\r\n4\r\n*2\r\n$1\r\nz\r\n$1\r\n3\r\n');
  t.equal(text(await admin.command('ZRANGE', 'zk', '0', '-1')), '*1\r\n$1\r\ny\r\n');
  await admin.command('DEL', 'zk');
  await admin.command('RPUSH', 'zk', 'l');
  t.equal(text(await lister.reply()), '*2\r\n$2\r\nzk\r\n$1\r\nl\r\n', 'the list waiter still waited for a list');
});

t.test('CLIENT UNBLOCK, with TIMEOUT and ERROR', async (t) => {
  const admin = await connect();
  const c = await connect();
  const id = text(await c.command('CLIENT', 'ID')).slice(1).trim();
  c.write('*3\r\n$5\r\nBLPOP\r\n$2\r\nub\r\n$1\r\n0\r\n');
  await waitBlocked(admin, 1);
  t.equal(text(await admin.command('CLIENT', 'UNBLOCK', id)), ':1\r\n');
  t.equal(text(await c.reply()), '*-1\r\n');
  t.equal(text(await admin.command('CLIENT', 'UNBLOCK', id)), ':0\r\n', 'no longer blocked');
  c.write('*3\r\n$5\r\nBLPOP\r\n$2\r\nub\r\n$1\r\n0\r\n');
  await waitBlocked(admin, 1);
  t.equal(text(await admin.command('CLIENT', 'UNBLOCK', id, 'ERROR')), ':1\r\n');
  t.equal(text(await c.reply()), '-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n');
  await admin.command('LPUSH', 'ub', 'kept');
  t.equal(text(await admin.command('LLEN', 'ub')), ':1\r\n', 'an unblocked client takes nothing');
});

t.test('a disconnected waiter never swallows an element', async (t) => {
  const admin = await connect();
  const gone = await RawClient.connect(weft.port);
  gone.write('*3\r\n$5\r\nBLPOP\r\n$2\r\ndc\r\n$1\r\n0\r\n');
  await waitBlocked(admin, 1);
  gone.close();
  await waitUnblocked(admin);
  await admin.command('RPUSH', 'dc', 'v');
  t.equal(text(await admin.command('LLEN', 'dc')), ':1\r\n');
});

t.test('concurrent poppers and pushers: every element delivered exactly once', async (t) => {
  const poppers = await Promise.all(Array.from({ length: 8 }, connect));
  const pushers = await Promise.all(Array.from({ length: 4 }, connect));
  const perPusher = 250;
  const total = perPusher * pushers.length;
  const received: string[] = [];
  const popLoops = poppers.map(async (c) => {
    for (;;) {
      const r = text(await c.command('BLPOP', 'cq', '1'));
      if (r === '*-1\r\n') return;
      received.push(r.split('\r\n')[4]);
    }
  });
  await Promise.all(pushers.map(async (c, p) => {
    for (let i = 0; i < perPusher; i++) await c.command('RPUSH', 'cq', `${p}:${i}`);
  }));
  await Promise.all(popLoops);
  t.equal(received.length, total, 'nothing lost');
  t.equal(new Set(received).size, total, 'nothing delivered twice');
  t.equal(text(await pushers[0].command('EXISTS', 'cq')), ':0\r\n');
});

t.test('a BLMOVE waiter is served even when the destination shard is busy at the push', async (t) => {
  // A connection on one thread holds the destination's shard (a long SORT of a list hash-tagged to the
  // destination's slot) while a push on the other thread finds the waiter: the pusher may not wait for
  // that lock under its own, so it must serve the waiter right after releasing them.
  const byThread = new Map<string, RawClient>();
  while (byThread.size < 2) {
    const c = await connect();
    byThread.set(/io-thread=(\d+)/.exec(text(await c.command('CLIENT', 'INFO')))![1], c);
  }
  const [holder, pusher] = [...byThread.values()];
  for (let i = 0; i < 20; i++) {
    await holder.command('RPUSH', '{busy-dst}big', ...Array.from({ length: 5000 }, (_, j) => String((i * 7919 + j * 104729) % 1000003)));
  }
  const waiter = await connect();
  const reply = waiter.command('BLMOVE', 'busy-src', 'busy-dst', 'LEFT', 'RIGHT', '0');
  await waitBlocked(pusher, 1);
  const sorting = holder.command('SORT', '{busy-dst}big', 'LIMIT', '0', '1');
  await sleep(5);
  await pusher.command('RPUSH', 'busy-src', 'element');
  await sorting;
  const got = await Promise.race([reply, sleep(5000).then(() => null)]);
  t.equal(got === null ? 'still blocked' : text(got), '$7\r\nelement\r\n', 'the waiter was served');
  t.equal(text(await pusher.command('LRANGE', 'busy-dst', '0', '-1')), '*1\r\n$7\r\nelement\r\n');
  t.equal(text(await pusher.command('EXISTS', 'busy-src')), ':0\r\n');
  await pusher.command('DEL', '{busy-dst}big');
});

t.test('waiters served by one push on their own thread each get their own reply, and only it', async (t) => {
  // Both replies are written in the same turn of the pusher's event loop: each must reach its own socket.
  const byThread = new Map<string, RawClient[]>();
  for (;;) {
    const c = await connect();
    const thread = /io-thread=(\d+)/.exec(text(await c.command('CLIENT', 'INFO')))![1];
    const list = byThread.get(thread) ?? [];
    list.push(c);
    byThread.set(thread, list);
    if (list.length === 3) break;
  }
  const [a, b, admin] = [...byThread.values()].find((l) => l.length === 3)!;
  const ra = a.command('BLPOP', 'same-thread', '5');
  await waitBlocked(admin, 1);
  const rb = b.command('BLPOP', 'same-thread', '5');
  await waitBlocked(admin, 2);
  await admin.command('RPUSH', 'same-thread', 'x', 'y');
  t.equal(text(await ra), '*2\r\n$11\r\nsame-thread\r\n$1\r\nx\r\n');
  t.equal(text(await rb), '*2\r\n$11\r\nsame-thread\r\n$1\r\ny\r\n');
  t.equal(text(await a.command('PING')), '+PONG\r\n', 'nothing else reached the first waiter');
  t.equal(text(await b.command('PING')), '+PONG\r\n');
});
