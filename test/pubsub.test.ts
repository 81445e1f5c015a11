/**
 * Pub/sub (src/commands/pubsub.ts, src/server/pubsub-local.ts and
 * pubsub-registry.ts) against redis-server 7.0.15: SUBSCRIBE, UNSUBSCRIBE,
 * PSUBSCRIBE, PUNSUBSCRIBE and their counts, the RESP2 subscribed context
 * (its error, PING's [pong, ...]), RESP3 pushes (a publisher subscribed to
 * its own channel gets the push before PUBLISH's reply), RESET, PUBLISH's
 * receiver counts and PUBSUB's introspection, byte for byte. Then across
 * worker threads: subscribers and publishers on different threads, every
 * message delivered once to each, all subscribers seeing one order; and
 * ioredis and node-redis subscribing and publishing.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { RawClient, encodeCommand, requireRedisTools, startWeft } from './helpers/servers.js';
import { replicationInfo } from './helpers/replication.js';
import { connectPair, diffScript, startPair, type Step } from './helpers/differential.js';
import { formCluster, startNode, waitFor } from './helpers/cluster.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw connection collecting everything it receives. */
async function listener(port: number): Promise<{ c: RawClient; text: () => string }> {
  const c = await RawClient.connect(port);
  let got = '';
  c.socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
  return { c, text: () => got };
}

if (requireRedisTools(t)) {
  const pair = await startPair(t, [], { threads: 2 });
  const connections: RawClient[] = [];
  t.teardown(() => connections.forEach((c) => c.close()));

  t.test('subscribe, unsubscribe and the subscribed context, RESP2 and RESP3, as redis-server', async (t) => {
    // One reply per argument: the whole stream of each server is compared, HELLO's client id masked.
    const script: (string | Buffer)[][] = [
      ['SUBSCRIBE', 'a', 'b', 'a'], ['PSUBSCRIBE', 'h*llo', 'h?llo'], ['GET', 'x'], ['SET', 'x', '1'], ['CLIENT', 'ID'],
      // Unsubscribing from everything replies in the server's own order: it is only asked of one name here.
      ['PING'], ['PING', 'hi'], ['SUBSCRIBE', 'c'], ['UNSUBSCRIBE', 'a', 'nosuch', 'b'], ['UNSUBSCRIBE'], ['PUNSUBSCRIBE', 'h?llo'],
      ['PUNSUBSCRIBE'], ['UNSUBSCRIBE'], ['PUNSUBSCRIBE'], ['PUNSUBSCRIBE', 'x', 'y'], ['PING'], ['GET', 'x'],
      ['SUBSCRIBE', 'z'], ['HELLO', '3'], ['GET', 'x'], ['PING'], ['SUBSCRIBE', 'y'], ['UNSUBSCRIBE', 'y'], ['UNSUBSCRIBE'],
      ['PSUBSCRIBE', 'p*'], ['PUNSUBSCRIBE'], ['UNSUBSCRIBE'], ['HELLO', '2'],
      ['SUBSCRIBE', 'r'], ['RESET'], ['GET', 'x'], ['PUBSUB', 'NUMSUB', 'r'],
      ['SUBSCRIBE'], ['PSUBSCRIBE'], ['PUBLISH', 'a'], ['PUBSUB'], ['PUBSUB', 'NOSUCH'], ['PUBSUB', 'NUMPAT', 'x'], ['PUBSUB', 'HELP'],
      ['PUBSUB', 'SHARDCHANNELS'], ['PUBSUB', 'SHARDNUMSUB', 's1', 's2'], ['PUBSUB', 'NUMSUB'],
    ];
    const run = async (port: number) => {
      const s = await listener(port);
      connections.push(s.c);
      for (const cmd of script) {
        s.c.write(encodeCommand(cmd));
        await sleep(2);
      }
      await sleep(200);
      return s.text().replace(/\$2\r\nid\r\n:\d+\r\n/g, '$2\r\nid\r\n:<id>\r\n');
    };
    const [weft, redis] = await Promise.all([run(pair.weft.port), run(pair.redis.port)]);
    t.equal(weft, redis);
  });

  t.test('PUBLISH counts receivers; PUBSUB CHANNELS, NUMSUB and NUMPAT see every connection, as redis-server', async (t) => {
    const setup = async (port: number) => {
      const subs = await Promise.all([listener(port), listener(port), listener(port)]);
      subs.forEach((s) => connections.push(s.c));
      subs[0].c.write(encodeCommand(['SUBSCRIBE', 'news', 'sport']));
      subs[1].c.write(encodeCommand(['PSUBSCRIBE', 'n*']));
      subs[2].c.write(encodeCommand(['SUBSCRIBE', 'news']));
      subs[2].c.write(encodeCommand(['PSUBSCRIBE', '*']));
      await sleep(150);
      return subs;
    };
    const [ws, rs] = await Promise.all([setup(pair.weft.port), setup(pair.redis.port)]);
    const [w, r] = await connectPair(t, pair);
    t.same(await diffScript(w, r, [
      ['PUBLISH', 'news', 'one'], ['PUBLISH', 'sport', Buffer.from([0, 0xff, 0x0d, 0x0a])], ['PUBLISH', 'nobody', 'x'], ['PUBLISH', 'n', 'y'],
      { cmd: ['PUBSUB', 'CHANNELS'], unordered: true }, { cmd: ['PUBSUB', 'CHANNELS', 'n*'], unordered: true }, ['PUBSUB', 'CHANNELS', 'zz*'],
      ['PUBSUB', 'NUMSUB', 'news', 'sport', 'nobody'], ['PUBSUB', 'NUMPAT'], ['PSUBSCRIBE', 'n*'], ['PUBSUB', 'NUMPAT'], ['PUNSUBSCRIBE'],
    ]), []);
    await sleep(150);
    for (let i = 0; i < 3; i++) t.equal(ws[i].text(), rs[i].text(), `subscriber ${i} received the same bytes`);
    for (const s of [...ws, ...rs]) s.c.close();
    await waitFor('the closed subscribers gone from the registry', 5000, async () => {
      const reply = (await w.command('PUBSUB', 'NUMPAT')).toString();
      return reply === ':0\r\n' ? true : reply;
    });
    t.equal((await w.command('PUBSUB', 'NUMSUB', 'news')).toString(), '*2\r\n$4\r\nnews\r\n:0\r\n');
  });

  t.test('RESP3: a publisher subscribed to its own channel gets the push before the reply', async (t) => {
    const run = async (port: number) => {
      const s = await listener(port);
      connections.push(s.c);
      await s.c.command('HELLO', '3');
      const before = s.text().length;
      await s.c.command('SUBSCRIBE', 'self');
      s.c.write(encodeCommand(['PUBLISH', 'self', 'hi']));
      s.c.write(encodeCommand(['PING']));
      await sleep(150);
      return s.text().slice(before);
    };
    const [weft, redis] = await Promise.all([run(pair.weft.port), run(pair.redis.port)]);
    t.equal(weft, redis);
    t.match(weft, /^>3\r\n\$9\r\nsubscribe.*>3\r\n\$7\r\nmessage\r\n\$4\r\nself\r\n\$2\r\nhi\r\n:1\r\n\+PONG\r\n$/s);
  });

  t.test('across worker threads: every message once to each subscriber, one order for all', async (t) => {
    const subscribers = await Promise.all(Array.from({ length: 6 }, () => listener(pair.weft.port)));
    subscribers.forEach((s) => connections.push(s.c));
    const threads = new Set<string>();
    for (const s of subscribers) {
      threads.add(/io-thread=(\d+)/.exec((await s.c.command('CLIENT', 'INFO')).toString())![1]);
      await s.c.command('SUBSCRIBE', 'orders');
    }
    t.equal(threads.size, 2, 'subscribers on both threads');
    const start = subscribers.map((s) => s.text().length);
    const publishers = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect(pair.weft.port)));
    publishers.forEach((p) => connections.push(p));
    const perPublisher = 200;
    await Promise.all(publishers.map(async (p, i) => {
      for (let k = 0; k < perPublisher; k++) {
        const reply = (await p.command('PUBLISH', 'orders', `${i}:${k}`)).toString();
        if (reply !== ':6\r\n') throw new Error(`PUBLISH answered ${reply}`);
      }
    }));
    const total = perPublisher * publishers.length;
    const messagesOf = (text: string) => [...text.matchAll(/\$6\r\norders\r\n\$\d+\r\n(\d+:\d+)\r\n/g)].map((m) => m[1]);
    await waitFor('every message at every subscriber', 10000, async () => {
      const counts = subscribers.map((s, i) => messagesOf(s.text().slice(start[i])).length);
      return counts.every((n) => n === total) ? true : counts.join(',');
    });
    const orders = subscribers.map((s, i) => messagesOf(s.text().slice(start[i])));
    t.equal(new Set(orders[0]).size, total, 'nothing twice');
    t.ok(orders.every((o) => o.join() === orders[0].join()), 'every subscriber saw the same order');
    for (let i = 0; i < publishers.length; i++) {
      const own = orders[0].filter((m) => m.startsWith(`${i}:`)).map((m) => Number(m.split(':')[1]));
      t.same(own, own.slice().sort((a, b) => a - b), `publisher ${i}'s messages in its order`);
    }
  });

  t.test('a PUBLISH on another thread right after SUBSCRIBE\'s reply reaches the subscriber', async (t) => {
    const sub = await listener(pair.weft.port);
    connections.push(sub.c);
    const subThread = /io-thread=(\d+)/.exec((await sub.c.command('CLIENT', 'INFO')).toString())![1];
    let pub = await RawClient.connect(pair.weft.port);
    for (let i = 0; i < 10 && /io-thread=(\d+)/.exec((await pub.command('CLIENT', 'INFO')).toString())![1] === subThread; i++) {
      pub.close();
      pub = await RawClient.connect(pair.weft.port);
    }
    connections.push(pub);
    const counts: string[] = [];
    for (let i = 0; i < 200; i++) {
      // The subscriber's stream also holds the earlier messages: its confirmation is looked for in it.
      const confirmation = `$9\r\nsubscribe\r\n$${`race-${i}`.length}\r\nrace-${i}\r\n`;
      sub.c.write(encodeCommand(['SUBSCRIBE', `race-${i}`]));
      while (!sub.text().includes(confirmation)) await sleep(1);
      counts.push((await pub.command('PUBLISH', `race-${i}`, 'm')).toString());
    }
    t.same(counts.filter((n) => n !== ':1\r\n'), [], 'every PUBLISH counted its subscriber');
    await waitFor('every message delivered', 5000, async () => {
      const n = (sub.text().match(/\$7\r\nmessage\r\n/g) ?? []).length;
      return n === 200 ? true : `${n}`;
    });
  });

  t.test('messages too large for the ring keep their place in the order, on every thread', async (t) => {
    const subscribers = await Promise.all(Array.from({ length: 4 }, () => listener(pair.weft.port)));
    subscribers.forEach((s) => connections.push(s.c));
    const threads = new Set<string>();
    for (const s of subscribers) {
      threads.add(/io-thread=(\d+)/.exec((await s.c.command('CLIENT', 'INFO')).toString())![1]);
      await s.c.command('SUBSCRIBE', 'big');
    }
    t.equal(threads.size, 2, 'subscribers on both threads');
    const start = subscribers.map((s) => s.text().length);
    const publishers = await Promise.all([RawClient.connect(pair.weft.port), RawClient.connect(pair.weft.port)]);
    publishers.forEach((p) => connections.push(p));
    // 6 MB is beyond a quarter of the 16 MB ring: those messages travel apart.
    const huge = (i: number) => Buffer.alloc(6 << 20, 65 + i);
    const replies = await Promise.all(publishers.map(async (p, i) => {
      const out: string[] = [];
      out.push((await p.command('PUBLISH', 'big', `small-${i}-a`)).toString());
      out.push((await p.command('PUBLISH', 'big', huge(i))).toString());
      out.push((await p.command('PUBLISH', 'big', `small-${i}-b`)).toString());
      return out.join('');
    }));
    t.same(replies, [':4\r\n:4\r\n:4\r\n', ':4\r\n:4\r\n:4\r\n']);
    const messagesOf = (text: string) => [...text.matchAll(/\$3\r\nbig\r\n\$(\d+)\r\n/g)].map((m) => {
      const at = m.index! + m[0].length;
      return Number(m[1]) > 100 ? `huge-${text[at]}-${Number(m[1])}` : text.slice(at, at + Number(m[1]));
    });
    await waitFor('every message at every subscriber', 20000, async () => {
      const counts = subscribers.map((s, i) => messagesOf(s.text().slice(start[i])).length);
      return counts.every((n) => n === 6) ? true : counts.join(',');
    });
    const orders = subscribers.map((s, i) => messagesOf(s.text().slice(start[i])));
    t.ok(orders.every((o) => o.join() === orders[0].join()), `one order everywhere: ${orders[0].join()}`);
    for (const i of [0, 1]) {
      const own = orders[0].filter((m) => m.includes(`-${i}-`) || m.startsWith(`huge-${String.fromCharCode(65 + i)}`));
      t.same(own, [`small-${i}-a`, `huge-${String.fromCharCode(65 + i)}-${6 << 20}`, `small-${i}-b`], `publisher ${i}'s order`);
    }
    for (const s of subscribers) s.c.close();
  });

  t.test('ioredis and node-redis subscribe and publish', async (t) => {
    const sub = new Redis({ port: pair.weft.port, lazyConnect: true });
    const pub = new Redis({ port: pair.weft.port, lazyConnect: true });
    const nodeSub = createClient({ socket: { port: pair.weft.port, host: '127.0.0.1' } });
    const nodePub = createClient({ socket: { port: pair.weft.port, host: '127.0.0.1' } });
    t.teardown(async () => {
      sub.disconnect();
      pub.disconnect();
      await Promise.allSettled([nodeSub.quit(), nodePub.quit()]);
    });
    await Promise.all([sub.connect(), pub.connect(), nodeSub.connect(), nodePub.connect()]);
    const got: string[] = [];
    sub.on('message', (ch: string, msg: string) => got.push(`ioredis ${ch} ${msg}`));
    sub.on('pmessage', (p: string, ch: string, msg: string) => got.push(`ioredis ${p} ${ch} ${msg}`));
    await sub.subscribe('c1');
    await sub.psubscribe('c*');
    await nodeSub.subscribe('c1', (msg, ch) => got.push(`node-redis ${ch} ${msg}`));
    t.equal(await pub.publish('c1', 'hello'), 3);
    t.equal(await nodePub.publish('c2', 'world'), 1);
    await waitFor('the messages', 5000, async () => (got.length === 4 ? true : JSON.stringify(got)));
    t.same(got.sort(), ['ioredis c* c1 hello', 'ioredis c* c2 world', 'ioredis c1 hello', 'node-redis c1 hello']);
  });

  t.test('PUBLISH on a master reaches subscribers of its replica', async (t) => {
    const master = await startWeft([], { threads: 2 });
    t.teardown(() => master.stop());
    const replica = await startWeft(['--replicaof', `127.0.0.1 ${master.port}`], { threads: 2 });
    t.teardown(() => replica.stop());
    const [m, rc] = await Promise.all([RawClient.connect(master.port), RawClient.connect(replica.port)]);
    connections.push(m, rc);
    await waitFor('the replica linked', 20000, async () => {
      const info = await replicationInfo(rc);
      return info.master_link_status === 'up' ? true : JSON.stringify(info);
    });
    const sub = await listener(replica.port);
    connections.push(sub.c);
    await sub.c.command('SUBSCRIBE', 'events');
    t.equal((await m.command('PUBLISH', 'events', 'from-master')).toString(), ':0\r\n', 'no subscriber on the master itself');
    await waitFor('the message on the replica', 5000, async () =>
      (sub.text().includes('$11\r\nfrom-master\r\n') ? true : JSON.stringify(sub.text())));
  });

  t.test('in a cluster, PUBLISH on one node reaches the subscribers of every node (over the bus)', async (t) => {
    const nodes = await Promise.all([startNode(t, 'weft', { threads: 2 }), startNode(t, 'weft', { threads: 2 }), startNode(t, 'weft')]);
    await formCluster(nodes);
    const subs = await Promise.all(nodes.map((n) => listener(n.port)));
    subs.forEach((s) => connections.push(s.c));
    await Promise.all(subs.map((s, i) => s.c.command(i === 2 ? 'PSUBSCRIBE' : 'SUBSCRIBE', i === 2 ? 'cl*' : 'cluster-news')));
    t.equal((await nodes[0].client.command('PUBLISH', 'cluster-news', 'hello')).toString(), ':1\r\n', 'receivers on this node only');
    t.equal((await nodes[1].client.command('PUBLISH', 'cluster-news', 'again')).toString(), ':1\r\n');
    // Messages from different nodes keep no order between them (only per bus link, as in Redis).
    await waitFor('both messages on every node', 10000, async () => {
      const seen = subs.map((s) => (s.text().match(/hello|again/g) ?? []).sort().join(','));
      return seen.every((x) => x === 'again,hello') ? true : JSON.stringify(seen);
    });
  });
}
