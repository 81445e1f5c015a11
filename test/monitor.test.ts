/**
 * MONITOR (src/server/monitor-feed.ts) against redis-server 7.0.15: the
 * same commands are sent to both, and what a MONITOR client receives is
 * compared line by line, timestamps and client ports masked: quoting of
 * every byte, redacted AUTH and HELLO credentials, admin commands and
 * refused commands left out, SELECT's new db, a monitor's own commands
 * after their replies, a monitor kept from the keyspace, RESET ending it.
 * On weft the monitor and the client are on different worker threads in one
 * run and on the same thread in the other.
 */
import t from 'tap';
import { RawClient, encodeCommand, requireRedisTools } from './helpers/servers.js';
import { startPair } from './helpers/differential.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything a socket receives, as latin1 text. */
async function connect(port: number): Promise<{ c: RawClient; text: () => string }> {
  const c = await RawClient.connect(port);
  let got = '';
  c.socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
  return { c, text: () => got };
}

const threadOf = async (c: RawClient) => /io-thread=(\d+)/.exec((await c.command('CLIENT', 'INFO')).toString())![1];

/** Timestamps and the client's port out of a monitor's stream. */
function masked(stream: string): string {
  return stream.replace(/^\+\d+\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\]/gm, '+<time> [$1 <client>]');
}

const CLIENT_COMMANDS: (string | Buffer)[][] = [
  ['SET', 'k', 'v'], ['GET', 'k'], ['AUTH', 'pw'], ['AUTH', 'user', 'pw'], ['HELLO', '2', 'AUTH', 'u', 'p'], ['HELLO', '2', 'SETNAME', 'n'],
  ['ECHO', Buffer.from([0x61, 0x22, 0x62, 0x5c, 0x63, 0x0a, 0x0d, 0x09, 0x07, 0x08, 0x01, 0xff, 0x7f, 0x20])], ['SELECT', '3'],
  ['INCR', 'n'], ['CONFIG', 'GET', 'port'], ['CLIENT', 'LIST'], ['CLIENT', 'SETNAME', 'x'], ['NOSUCH'], ['GET'], ['SET', 'x', '123'],
  ['INFO', 'server'], ['LPUSH', 'l', 'a', 'b'], ['HSET', 'h', 'f', 'v'], ['DEL', 'l', 'h'], ['PING'], ['SELECT', '0'],
];

if (requireRedisTools(t)) {
  const pair = await startPair(t, [], { threads: 2 });

  /** Runs the script with a monitor attached; the monitor on the client's thread or not (weft). */
  const run = async (port: number, sameThread: boolean | null) => {
    const monitor = await connect(port);
    let client = await RawClient.connect(port);
    if (sameThread !== null) {
      const want = await threadOf(monitor.c);
      for (let i = 0; i < 10 && ((await threadOf(client)) === want) !== sameThread; i++) {
        client.close();
        client = await RawClient.connect(port);
      }
      t.equal((await threadOf(client)) === want, sameThread, sameThread ? 'client on the monitor\'s thread' : 'client on another thread');
    }
    // What the monitor received before MONITOR (its CLIENT INFO) is not part of the comparison.
    const before = monitor.text().length;
    monitor.c.write(encodeCommand(['MONITOR']));
    await sleep(100);
    for (const cmd of CLIENT_COMMANDS) await client.command(...cmd);
    await sleep(150);
    // The monitor's own commands: refused keyspace commands, a PING shown after its reply, RESET ending it.
    monitor.c.write(Buffer.concat([encodeCommand(['GET', 'k']), encodeCommand(['PING']), encodeCommand(['SET', 'a', 'b']),
      encodeCommand(['MONITOR']), encodeCommand(['RESET'])]));
    await sleep(150);
    monitor.c.write(encodeCommand(['GET', 'k']));
    await client.command('SET', 'after', 'reset');
    await sleep(150);
    client.close();
    monitor.c.close();
    return masked(monitor.text().slice(before));
  };

  t.test('what a monitor sees, as on redis-server (client on another thread)', async (t) => {
    const [weft, redis] = [await run(pair.weft.port, false), await run(pair.redis.port, null)];
    t.equal(weft, redis);
    t.match(weft, /"AUTH" "\(redacted\)" "\(redacted\)"/);
  });

  t.test('the same with the client on the monitor\'s thread', async (t) => {
    const [weft, redis] = [await run(pair.weft.port, true), await run(pair.redis.port, null)];
    t.equal(weft, redis);
  });

  t.test('CLIENT LIST flags a monitor O', async (t) => {
    const monitor = await connect(pair.weft.port);
    monitor.c.write(encodeCommand(['MONITOR']));
    await sleep(100);
    const other = await RawClient.connect(pair.weft.port);
    t.teardown(() => {
      other.close();
      monitor.c.close();
    });
    t.match((await other.command('CLIENT', 'LIST')).toString(), /flags=O /);
  });
}
