/**
 * A worker reads every connection into one receive buffer (src/server/worker.ts,
 * connection.ts): a command that outlives its read must not see the bytes of
 * the reads that follow. Commands held by CLIENT PAUSE, blocked pops, queued
 * MULTI commands and WATCHed keys, each from a read followed at once by other
 * connections' traffic on the same worker thread, keep their own arguments.
 */
import t from 'tap';
import { RawClient, encodeCommand, startWeft } from './helpers/servers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (b: Buffer) => b.toString('latin1');

const weft = await startWeft([], { threads: 1 });
t.teardown(() => weft.stop());
const conns: RawClient[] = [];
const connect = async () => {
  const c = await RawClient.connect(weft.port);
  conns.push(c);
  return c;
};
t.teardown(() => conns.forEach((c) => c.close()));

/** Other traffic on the same thread: reads that overwrite the receive buffer with other bytes. */
async function noise(c: RawClient, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const cmds = Array.from({ length: 20 }, (_, k) => ['ECHO', `noise-${i}-${k}-`.padEnd(200, 'z')]);
    await c.pipeline(cmds);
  }
}

t.test('writes held by CLIENT PAUSE run with their own bytes', async (t) => {
  const [admin, writer, other] = [await connect(), await connect(), await connect()];
  await admin.command('CLIENT', 'PAUSE', '300', 'WRITE');
  const values = Array.from({ length: 10 }, (_, i) => `value-${i}-`.padEnd(100, String(i)));
  writer.write(Buffer.concat(values.map((v, i) => encodeCommand(['SET', `held:${i}`, v]))));
  await sleep(20);
  await noise(other, 20);
  for (let i = 0; i < values.length; i++) t.equal(text(await writer.reply(5000)), '+OK\r\n');
  for (let i = 0; i < values.length; i++) t.equal(text(await other.command('GET', `held:${i}`)), `$${values[i].length}\r\n${values[i]}\r\n`);
});

t.test('blocked pops, queued transactions and watches keep their keys and values', async (t) => {
  const [blocker, queuer, other] = [await connect(), await connect(), await connect()];
  blocker.write(encodeCommand(['BLPOP', 'blocked-list-key', '5']));
  await queuer.command('WATCH', 'watched-key');
  await queuer.command('MULTI');
  queuer.write(Buffer.concat([encodeCommand(['SET', 'queued-key', 'queued-value']), encodeCommand(['RPUSH', 'queued-list', 'a', 'b'])]));
  await sleep(20);
  await noise(other, 20);
  t.equal(text(await queuer.reply()), '+QUEUED\r\n');
  t.equal(text(await queuer.reply()), '+QUEUED\r\n');
  await other.command('RPUSH', 'blocked-list-key', 'pushed');
  t.equal(text(await blocker.reply()), '*2\r\n$16\r\nblocked-list-key\r\n$6\r\npushed\r\n');
  t.equal(text(await queuer.command('EXEC')), '*2\r\n+OK\r\n:2\r\n');
  t.equal(text(await other.command('GET', 'queued-key')), '$12\r\nqueued-value\r\n');
  // The watch still names its key: a write to it fails the next transaction.
  await queuer.command('WATCH', 'watched-key');
  await noise(other, 5);
  await other.command('SET', 'watched-key', 'changed');
  await queuer.command('MULTI');
  await queuer.command('PING');
  t.equal(text(await queuer.command('EXEC')), '*-1\r\n');
});

t.test('pipelines split anywhere across reads, a big value among them, keep every byte', async (t) => {
  const [loader, other] = [await connect(), await connect()];
  let seed = 20261208;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const values: string[] = [];
  const cmds: string[][] = [];
  for (let i = 0; i < 3000; i++) {
    // Mostly short values, one of 1 MiB (a tail buffer grown for it, then let go) and a few of 100 KiB.
    const size = i === 1500 ? 1 << 20 : i % 500 === 7 ? 100 * 1024 : 1 + random(300);
    values.push(`${i}:`.padEnd(size, String.fromCharCode(97 + (i % 26))));
    cmds.push(['SET', `split-key-${i}`, values[i]]);
  }
  const bytes = Buffer.concat(cmds.map((c) => encodeCommand(c)));
  // Written in pieces of random size with other connections' reads in between: reads end inside
  // commands, inside lengths and inside values, and the tail is carried from read to read.
  for (let at = 0; at < bytes.length;) {
    const piece = 1 + random(at < 100000 ? 3000 : 200000);
    loader.write(bytes.subarray(at, at + piece));
    at += piece;
    if (random(4) === 0) await noise(other, 1);
    else await sleep(0);
  }
  let ok = 0;
  for (let i = 0; i < cmds.length; i++) if (text(await loader.reply(20000)) === '+OK\r\n') ok++;
  t.equal(ok, cmds.length, 'every SET answered +OK');
  const replies = await other.pipeline(values.map((_, i) => ['GET', `split-key-${i}`]), 20000);
  const wrong = replies.filter((r, i) => text(r) !== `$${values[i].length}\r\n${values[i]}\r\n`).length;
  t.equal(wrong, 0, 'every value reads back whole');
});
