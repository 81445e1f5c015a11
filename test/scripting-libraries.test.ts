/**
 * Libraries whose features are Lua scripts, against weft, standalone (two
 * worker threads) and on a 3+3 cluster, each checked by its own results:
 * redlock (acquire, a second acquire refused while held, extend, release,
 * the lock key's value and TTL), rate-limiter-flexible's Redis limiter
 * (points consumed, the refusal past the limit with its wait, reward and
 * penalty, block and delete) and an ioredis defineCommand script.
 */
import t, { type Test } from 'tap';
import { Cluster, Redis } from 'ioredis';
import Redlock from 'redlock';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { startWeft } from './helpers/servers.js';
import { startReplicatedCluster } from './helpers/cluster.js';

type Client = Redis | Cluster;

async function redlockChecks(t: Test, client: Client, prefix: string): Promise<void> {
  const redlock = new Redlock([client as Redis], { retryCount: 2, retryDelay: 50, retryJitter: 10, automaticExtensionThreshold: 100 });
  const resource = `${prefix}locks:order-1`;
  const lock = await redlock.acquire([resource], 5000);
  t.equal(await client.get(resource), lock.value, 'the lock key holds the lock value');
  const ttl = await client.pttl(resource);
  t.ok(ttl > 4000 && ttl <= 5000, `TTL ${ttl} ms`);
  await t.rejects(redlock.acquire([resource], 5000), 'a second acquire fails while the lock is held');
  const extended = await lock.extend(20000);
  t.ok((await client.pttl(resource)) > 15000, 'extend set the new TTL');
  await extended.release();
  t.equal(await client.get(resource), null, 'release deleted the key');
  // Released with a stale value: nothing to delete, the key of another holder stays.
  const again = await redlock.acquire([resource], 5000);
  await client.set(resource, 'someone-else');
  await t.rejects(again.release(), 'a release of a lock held by someone else fails');
  t.equal(await client.get(resource), 'someone-else');
  await client.del(resource);
}

/** ioredis defineCommand: a capped counter, its script sent with EVALSHA (EVAL the first time). */
async function defineCommandChecks(t: Test, client: Client, key: string): Promise<void> {
  client.defineCommand('incrCapped', { numberOfKeys: 1, lua: "local v = redis.call('incr', KEYS[1]); " +
    "if v > tonumber(ARGV[1]) then redis.call('set', KEYS[1], ARGV[1]); return tonumber(ARGV[1]) end; return v" });
  await client.del(key);
  const capped = client as unknown as { incrCapped(k: string, cap: number): Promise<number> };
  const got: number[] = [];
  for (let i = 0; i < 5; i++) got.push(await capped.incrCapped(key, 3));
  t.same(got, [1, 2, 3, 3, 3]);
}

async function limiterChecks(t: Test, client: Client, prefix: string): Promise<void> {
  const limiter = new RateLimiterRedis({ storeClient: client, points: 5, duration: 10, keyPrefix: `${prefix}rl` });
  await limiter.delete('user-1');
  const left: number[] = [];
  for (let i = 0; i < 5; i++) left.push((await limiter.consume('user-1')).remainingPoints);
  t.same(left, [4, 3, 2, 1, 0]);
  const refused = await limiter.consume('user-1').then(() => null, (e: unknown) => e);
  t.ok(refused instanceof RateLimiterRes, 'the sixth point is refused');
  const res = refused as RateLimiterRes;
  t.equal(res.remainingPoints, 0);
  t.ok(res.msBeforeNext > 0 && res.msBeforeNext <= 10000, `msBeforeNext ${res.msBeforeNext}`);
  t.equal(res.consumedPoints, 6);
  await limiter.reward('user-1', 2);
  t.equal((await limiter.get('user-1'))!.consumedPoints, 4, 'reward gave two points back');
  await limiter.penalty('user-1', 1);
  t.equal((await limiter.get('user-1'))!.consumedPoints, 5);
  await limiter.block('user-2', 30);
  const blocked = await limiter.get('user-2');
  t.ok(blocked !== null && blocked.msBeforeNext > 20000, 'block holds for its duration');
  t.equal(await limiter.delete('user-1'), true);
  t.equal(await limiter.get('user-1'), null);
}

t.test('standalone weft, two worker threads', async (t) => {
  const weft = await startWeft([], { threads: 2 });
  t.teardown(() => weft.stop());
  const client = new Redis({ port: weft.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  t.teardown(() => client.disconnect());
  await t.test('redlock', (t) => redlockChecks(t, client, ''));
  await t.test('rate-limiter-flexible', (t) => limiterChecks(t, client, ''));
  await t.test('ioredis defineCommand', (t) => defineCommandChecks(t, client, 'capped'));
});

t.test('a 3+3 weft cluster', async (t) => {
  const c = await startReplicatedCluster(t, 'weft', 3);
  const client = new Cluster(c.masters.map((n) => ({ host: '127.0.0.1', port: n.port })), { redisOptions: { maxRetriesPerRequest: 2 } });
  t.teardown(() => client.disconnect());
  await t.test('redlock', (t) => redlockChecks(t, client, '{cluster}'));
  await t.test('rate-limiter-flexible', (t) => limiterChecks(t, client, 'cl'));
  await t.test('ioredis defineCommand', (t) => defineCommandChecks(t, client, '{capped}n'));
});
