/**
 * Busy scripts across worker threads (src/scripting/busy-script.ts): a
 * script looping on one thread, past busy-reply-threshold, makes clients on
 * the other thread get Redis's BUSY (a command arriving then, and one that
 * was already waiting for a shard lock the script holds); SCRIPT KILL stops
 * it with Redis's error, FUNCTION KILL a looping function, the wrong kill
 * command gets BUSY, an idle node NOTBUSY, and a script that wrote is
 * UNKILLABLE until SHUTDOWN NOSAVE ends the node. Replies as redis-server
 * 7.0.15 gives them.
 */
import t from 'tap';
import { RawClient, startWeft } from './helpers/servers.js';

const text = (b: Buffer) => b.toString('latin1');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BUSY = '-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n';
const BUSY_FUNCTION = '-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n';
const LOOP = 'local i = 0 while true do i = i + 1 end';

/** Two connections on different worker threads. */
async function pairOnTwoThreads(port: number): Promise<[RawClient, RawClient, RawClient[]]> {
  const all: RawClient[] = [];
  const byThread = new Map<string, RawClient>();
  while (byThread.size < 2 && all.length < 8) {
    const c = await RawClient.connect(port);
    all.push(c);
    const thread = /io-thread=(\d+)/.exec(text(await c.command('CLIENT', 'INFO')))?.[1] ?? '?';
    if (!byThread.has(thread)) byThread.set(thread, c);
  }
  const [a, b] = [...byThread.values()];
  return [a, b, all];
}

t.test('BUSY, SCRIPT KILL and FUNCTION KILL across threads', async (t) => {
  const weft = await startWeft([], { threads: 2 });
  t.teardown(() => weft.stop());
  const [a, b, all] = await pairOnTwoThreads(weft.port);
  t.teardown(() => all.forEach((c) => c.close()));
  t.equal(text(await b.command('SCRIPT', 'KILL')), '-NOTBUSY No scripts in execution right now.\r\n');
  t.equal(text(await b.command('CONFIG', 'SET', 'busy-reply-threshold', '300')), '+OK\r\n');
  t.equal(text(await b.command('CONFIG', 'GET', 'lua-time-limit')), '*2\r\n$14\r\nlua-time-limit\r\n$3\r\n300\r\n');

  const looping = a.command('EVAL', LOOP, '0');
  await sleep(50);
  // Before the threshold this GET waits for the shard lock the script holds; past it, the wait gives up.
  const waiting = b.command('GET', 'x');
  t.equal(text(await waiting), BUSY, 'a command waiting for a lock the script holds gets BUSY');
  t.equal(text(await b.command('PING')), BUSY);
  t.equal(text(await b.command('FUNCTION', 'KILL')), BUSY, 'the wrong kill command');
  t.equal(text(await b.command('FUNCTION', 'STATS')), BUSY, 'FUNCTION STATS while an EVAL runs');
  t.equal(text(await b.command('SCRIPT', 'KILL')), '+OK\r\n');
  t.match(text(await looping), /^-ERR Script killed by user with SCRIPT KILL\.\.\. script: [0-9a-f]{40}, on @user_script:1\.\r\n$/);
  t.equal(text(await b.command('PING')), '+PONG\r\n');
  t.equal(text(await a.command('SET', 'x', '1')), '+OK\r\n', 'the script thread serves again');

  // pcall cannot swallow the kill.
  const swallowing = a.command('EVAL', `while true do pcall(function() ${LOOP} end) end`, '0');
  await sleep(400);
  t.equal(text(await b.command('SCRIPT', 'KILL')), '+OK\r\n');
  t.match(text(await swallowing), /^-ERR Script killed by user with SCRIPT KILL\.\.\./);

  t.equal(text(await b.command('FUNCTION', 'LOAD', `#!lua name=loop\nredis.register_function('spin', function() ${LOOP} end)`)), '$4\r\nloop\r\n');
  const spinning = a.command('FCALL', 'spin', '0');
  await sleep(400);
  t.equal(text(await b.command('PING')), BUSY_FUNCTION);
  t.match(text(await b.command('FUNCTION', 'STATS')),
    /^\*4\r\n\$14\r\nrunning_script\r\n\*6\r\n\$4\r\nname\r\n\$4\r\nspin\r\n\$7\r\ncommand\r\n\*3\r\n\$5\r\nFCALL\r\n\$4\r\nspin\r\n\$1\r\n0\r\n\$11\r\nduration_ms\r\n:\d+\r\n\$7\r\nengines\r\n/,
    'FUNCTION STATS shows the running function, as Redis does');
  t.equal(text(await b.command('SCRIPT', 'KILL')), BUSY_FUNCTION);
  t.equal(text(await b.command('FUNCTION', 'KILL')), '+OK\r\n');
  t.equal(text(await spinning), '-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.\r\n');
});

t.test('a script that wrote is UNKILLABLE; SHUTDOWN NOSAVE still ends the node', async (t) => {
  const weft = await startWeft([], { threads: 2 });
  t.teardown(() => weft.stop());
  const [a, b, all] = await pairOnTwoThreads(weft.port);
  t.teardown(() => all.forEach((c) => c.close()));
  await b.command('CONFIG', 'SET', 'busy-reply-threshold', '100');
  void a.command('EVAL', `redis.call('set', 'w', '1') ${LOOP}`, '0').catch(() => undefined);
  await sleep(300);
  t.equal(text(await b.command('SCRIPT', 'KILL')),
    '-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n');
  await b.command('SHUTDOWN', 'NOSAVE').catch(() => undefined);
  const deadline = Date.now() + 10000;
  while (weft.proc.exitCode === null && Date.now() < deadline) await sleep(50);
  t.not(weft.proc.exitCode, null, 'the node exited');
});
