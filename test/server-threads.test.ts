import t from 'tap';
import { RawClient, startWeft } from './helpers/servers.js';

const int = (b: Buffer) => Number(/^:(-?\d+)/.exec(b.toString())![1]);

/** MEMORY STATS as a name -> number record (RESP2 flat array of name, integer). */
async function memoryStats(c: RawClient): Promise<Record<string, number>> {
  const text = (await c.command('MEMORY', 'STATS')).toString();
  const parts = text.split('\r\n');
  const out: Record<string, number> = {};
  for (let i = 1; i < parts.length - 1; i++) {
    if (parts[i].startsWith('$') && parts[i + 2]?.startsWith(':')) out[parts[i + 1]] = Number(parts[i + 2].slice(1));
  }
  return out;
}

t.test('connections on different workers hammering the same keys get exact results', async (t) => {
  const weft = await startWeft([], { threads: 2 });
  t.teardown(() => weft.stop());
  const clients = await Promise.all(Array.from({ length: 20 }, () => RawClient.connect(weft.port)));
  t.teardown(() => clients.forEach((c) => c.close()));
  const rounds = 500;
  const incr = '*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n';
  const append = '*3\r\n$6\r\nAPPEND\r\n$3\r\nlog\r\n$2\r\nab\r\n';
  const setdel = '*3\r\n$3\r\nSET\r\n$4\r\nflip\r\n$1\r\nx\r\n*2\r\n$3\r\nDEL\r\n$4\r\nflip\r\n';
  const expiring = '*5\r\n$3\r\nSET\r\n$3\r\ntmp\r\n$1\r\nv\r\n$2\r\nPX\r\n$1\r\n1\r\n';
  await Promise.all(clients.map(async (c) => {
    c.write((incr + append + setdel + expiring).repeat(rounds));
    for (let i = 0; i < rounds * 5; i++) await c.reply();
  }));
  const c = clients[0];
  t.equal((await c.command('GET', 'counter')).toString().split('\r\n')[1], String(20 * rounds), 'INCR total exact');
  t.equal(int(await c.command('STRLEN', 'log')), 20 * rounds * 2, 'APPEND length exact');
  t.equal(int(await c.command('EXISTS', 'flip')), 0, 'every SET was followed by its DEL');
  await new Promise((r) => setTimeout(r, 20));
  t.equal((await c.command('GET', 'tmp')).toString(), '$-1\r\n', 'expired');
  t.equal(int(await c.command('DBSIZE')), 2, 'counter and log are the only keys');
});

t.test('two million keys do not grow the V8 heap of any thread', async (t) => {
  const weft = await startWeft([], { threads: 2 });
  t.teardown(() => weft.stop());
  const clients = await Promise.all([0, 1].map(() => RawClient.connect(weft.port)));
  t.teardown(() => clients.forEach((c) => c.close()));
  await new Promise((r) => setTimeout(r, 300));
  const before = await memoryStats(clients[0]);
  const total = 2_000_000;
  const batch = 20000;
  // Both connections (one per worker) load half the keys each, pipelined.
  await Promise.all(clients.map(async (c, w) => {
    for (let base = w * (total / 2); base < (w + 1) * (total / 2); base += batch) {
      const parts: string[] = [];
      for (let i = base; i < base + batch; i++) {
        const key = `key:${i}`;
        parts.push(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$32\r\n${'v'.repeat(22)}${String(i).padStart(10, '0')}\r\n`);
      }
      c.write(parts.join(''));
      for (let i = 0; i < batch; i++) await c.reply();
    }
  }));
  t.equal(int(await clients[0].command('DBSIZE')), total);
  await new Promise((r) => setTimeout(r, 300));
  const after = await memoryStats(clients[1]);
  t.ok(after['dataset.bytes'] > total * 64, `the store holds the data: ${after['dataset.bytes']} bytes`);
  for (const name of Object.keys(before).filter((k) => k.startsWith('thread.'))) {
    const grown = after[name] - before[name];
    t.ok(grown < 24 * 1024 * 1024, `${name} grew by ${(grown / 1048576).toFixed(1)} MiB while the dataset grew by ${(after['dataset.bytes'] / 1048576).toFixed(0)} MiB`);
  }
  t.equal((await clients[0].command('GET', 'key:1999999')).toString(), '$32\r\nvvvvvvvvvvvvvvvvvvvvvv0001999999\r\n');
});
