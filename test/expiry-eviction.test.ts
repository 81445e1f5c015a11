import t from 'tap';
import { RawClient, startWeft } from './helpers/servers.js';

const int = (b: Buffer) => Number(/^:(-?\d+)/.exec(b.toString())![1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function info(c: RawClient, section: string): Promise<Record<string, string>> {
  const text = (await c.command('INFO', section)).toString();
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('$')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

t.test('active expiry removes keys nobody reads; DEBUG SET-ACTIVE-EXPIRE 0 stops it', async (t) => {
  const weft = await startWeft(['--hz', '50', '--enable-debug-command', 'yes']);
  t.teardown(() => weft.stop());
  const c = await RawClient.connect(weft.port);
  t.teardown(() => c.close());
  for (let i = 0; i < 500; i++) c.write(`*5\r\n$3\r\nSET\r\n$${`k${i}`.length}\r\nk${i}\r\n$1\r\nv\r\n$2\r\nPX\r\n$3\r\n100\r\n`);
  for (let i = 0; i < 500; i++) await c.reply();
  await c.command('SET', 'forever', 'v');
  t.equal(int(await c.command('DBSIZE')), 501);
  let size = 501;
  for (let i = 0; i < 100 && size > 1; i++) {
    await sleep(50);
    size = int(await c.command('DBSIZE'));
  }
  t.equal(size, 1, 'only the key without a TTL is left, without any read');
  t.equal((await info(c, 'stats')).expired_keys, '500');

  t.equal((await c.command('DEBUG', 'SET-ACTIVE-EXPIRE', '0')).toString(), '+OK\r\n');
  await c.command('SET', 'soon', 'v', 'PX', '50');
  await sleep(400);
  t.equal(int(await c.command('DBSIZE')), 2, 'with active expiry off the expired key is still counted');
  t.equal((await c.command('GET', 'soon')).toString(), '$-1\r\n', 'but a read expires it lazily');
  t.equal(int(await c.command('DBSIZE')), 1);
});

t.test('maxmemory with allkeys-lru evicts old keys and keeps the dataset under the limit', async (t) => {
  const weft = await startWeft(['--maxmemory', '2mb', '--maxmemory-policy', 'allkeys-lru']);
  t.teardown(() => weft.stop());
  const c = await RawClient.connect(weft.port);
  t.teardown(() => c.close());
  const value = 'x'.repeat(100);
  for (let i = 0; i < 40000; i++) c.write(`*3\r\n$3\r\nSET\r\n$${`key:${i}`.length}\r\nkey:${i}\r\n$100\r\n${value}\r\n`);
  let notOk = 0;
  for (let i = 0; i < 40000; i++) if ((await c.reply()).toString() !== '+OK\r\n') notOk++;
  t.equal(notOk, 0, 'every SET succeeds: eviction makes room');
  const mem = await info(c, 'memory');
  t.ok(Number(mem.used_memory_dataset) <= 2 * 1024 * 1024 + 4096, `dataset ${mem.used_memory_dataset} stays under maxmemory`);
  const stats = await info(c, 'stats');
  t.ok(Number(stats.evicted_keys) > 10000, `evicted ${stats.evicted_keys} keys`);
  const size = int(await c.command('DBSIZE'));
  t.equal(size + Number(stats.evicted_keys), 40000, 'every key is either present or counted as evicted');
  t.equal((await c.command('GET', 'key:39999')).toString(), `$100\r\n${value}\r\n`, 'the newest key survives');
});

t.test('maxmemory with noeviction rejects writes with the OOM error but serves reads', async (t) => {
  const weft = await startWeft(['--maxmemory', '1mb']);
  t.teardown(() => weft.stop());
  const c = await RawClient.connect(weft.port);
  t.teardown(() => c.close());
  const value = 'y'.repeat(1000);
  let oom = '';
  for (let i = 0; i < 3000 && !oom; i++) {
    const r = (await c.command('SET', `k${i}`, value)).toString();
    if (r !== '+OK\r\n') oom = r;
  }
  t.equal(oom, "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
  t.equal((await c.command('GET', 'k0')).toString(), `$1000\r\n${value}\r\n`);
  t.equal(int(await c.command('DEL', 'k0', 'k1', 'k2')), 3, 'DEL is allowed over the limit');
});

t.test('volatile-ttl evicts the keys closest to expiring and never keys without a TTL', async (t) => {
  const weft = await startWeft(['--maxmemory', '1mb', '--maxmemory-policy', 'volatile-ttl']);
  t.teardown(() => weft.stop());
  const c = await RawClient.connect(weft.port);
  t.teardown(() => c.close());
  const value = 'z'.repeat(200);
  for (let i = 0; i < 2000; i++) await c.command('SET', `p${i}`, value);
  let rejected = 0;
  for (let i = 0; i < 3000; i++) {
    const r = (await c.command('SET', `v${i}`, value, 'EX', String(100000 + i))).toString();
    if (r !== '+OK\r\n') rejected++;
  }
  for (let i = 0; i < 2000; i += 97) t.equal((await c.command('EXISTS', `p${i}`)).toString(), ':1\r\n', `p${i} without TTL kept`);
  t.equal((await c.command('EXISTS', 'v2999')).toString(), ':1\r\n', 'the key with the furthest TTL is kept');
  t.ok(Number((await info(c, 'stats')).evicted_keys) > 0);
  t.equal(rejected, 0);
});
