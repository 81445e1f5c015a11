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
