/**
 * A 3-master weft cluster with real clients and tools: ioredis `Cluster` and
 * node-redis `createCluster` run a workload over all slots (hash tags,
 * multi-key commands, expiries), every key is then read back with a plain
 * connection from the node that owns its slot, and a wrong node answers
 * `-MOVED`; redis-benchmark --cluster runs against it. Then the cluster's
 * redirections (MOVED, CROSSSLOT, CLUSTERDOWN, ASK, ASKING, TRYAGAIN during
 * a slot migration) are compared byte for byte with a real 3-master Redis
 * 7.0.15 cluster laid out the same way, after replacing each cluster's node
 * ids and ports with placeholders.
 */
import t from 'tap';
import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { requireRedisTools, type RawClient } from './helpers/servers.js';
import { parseResp, type Resp } from './helpers/differential.js';
import { bulk, clusterInfo, formCluster, pipeline, runTool, sleep, startNode, waitFor, waitStateOk, type Node } from './helpers/cluster.js';

/** slot -> index of the node serving it, from CLUSTER SLOTS as a plain client reads it. */
async function slotOwners(c: RawClient, nodes: Node[]): Promise<Int8Array> {
  const owners = new Int8Array(16384).fill(-1);
  const reply = parseResp((await c.command('CLUSTER', 'SLOTS')).toString('latin1'));
  for (const range of reply.items) {
    const [start, end, master] = range.items;
    const port = Number(master.items[1].text);
    const index = nodes.findIndex((n) => n.port === port);
    if (master.items[0].text !== '127.0.0.1' || index < 0) throw new Error(`CLUSTER SLOTS names an unknown node: ${master.raw}`);
    if (master.items[2].text !== nodes[index].id) throw new Error(`CLUSTER SLOTS id ${master.items[2].text} is not ${nodes[index].id}`);
    for (let s = Number(start.text); s <= Number(end.text); s++) owners[s] = index;
  }
  return owners;
}

/** What a key should hold after the workload: its value (null: absent) and whether it has a TTL. */
interface Expected {
  value: string | null;
  ttl: boolean;
}

// Skips without the Redis tools locally, fails without them under CI.
if (requireRedisTools(t)) {
  t.test('a 3-master weft cluster with ioredis, node-redis and redis-benchmark', async (t) => {
    // Two worker threads per node: routing runs on the workers, from the slot table the coordinator publishes.
    const nodes = await Promise.all([0, 1, 2].map(() => startNode(t, 'weft', { threads: 2 })));
    await formCluster(nodes);
    const owners = await slotOwners(nodes[0].client, nodes);
    t.equal(owners.indexOf(-1), -1, 'CLUSTER SLOTS covers every slot');

    t.test('client workloads land on the owning nodes', async (t) => {
      const expected = new Map<string, Expected>();
      const io = new Cluster([{ host: '127.0.0.1', port: nodes[0].port }], {
        enableAutoPipelining: true,
        // Its auto-pipeline refuses a cross-slot MGET itself: let that one reach the server.
        autoPipeliningIgnoredCommands: ['mget'],
        redisOptions: { maxRetriesPerRequest: 2 },
      });
      const nr = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${nodes[1].port}` }] });
      t.teardown(() => {
        io.disconnect();
        return nr.destroy();
      });
      nr.on('error', () => {});
      await nr.connect();

      // ioredis: 1500 plain keys (auto-pipelined per node), tagged groups with MSET/MGET/DEL, expiries.
      await Promise.all(Array.from({ length: 1500 }, (_, i) => io.set(`io:${i}`, `v${i}`)));
      for (let i = 0; i < 1500; i++) expected.set(`io:${i}`, { value: `v${i}`, ttl: false });
      const msets: string[] = [];
      for (let u = 0; u < 100; u++) {
        const tag = `{io-user:${u}}`;
        msets.push(await io.mset({ [`${tag}:name`]: `n${u}`, [`${tag}:mail`]: `m${u}`, [`${tag}:age`]: String(u) }));
        expected.set(`${tag}:name`, { value: `n${u}`, ttl: false });
        expected.set(`${tag}:mail`, { value: `m${u}`, ttl: false });
        expected.set(`${tag}:age`, { value: String(u), ttl: false });
      }
      t.same(msets, new Array(100).fill('OK'), 'ioredis MSET of tagged keys');
      const got = await Promise.all(Array.from({ length: 100 }, (_, u) => io.mget(`{io-user:${u}}:name`, `{io-user:${u}}:mail`, `{io-user:${u}}:none`)));
      t.same(got, Array.from({ length: 100 }, (_, u) => [`n${u}`, `m${u}`, null]), 'ioredis MGET of tagged keys');
      const deleted = await Promise.all(Array.from({ length: 50 }, (_, k) => io.del(`{io-user:${2 * k}}:age`, `{io-user:${2 * k}}:none`)));
      t.same(deleted, new Array(50).fill(1), 'ioredis DEL of tagged keys');
      for (let k = 0; k < 50; k++) expected.set(`{io-user:${2 * k}}:age`, { value: null, ttl: false });
      await Promise.all(Array.from({ length: 100 }, (_, i) => io.set(`io-exp:${i}`, 'e', 'EX', 1000)));
      await Promise.all(Array.from({ length: 30 }, (_, i) => io.set(`io-short:${i}`, 's', 'PX', 200)));
      for (let i = 0; i < 100; i++) expected.set(`io-exp:${i}`, { value: 'e', ttl: true });
      for (let i = 0; i < 30; i++) expected.set(`io-short:${i}`, { value: null, ttl: false });
      await t.rejects(io.mget('io:1', 'io:2'), /CROSSSLOT/, 'keys of two slots in one request');

      // node-redis: the same shapes through its own slot map.
      await Promise.all(Array.from({ length: 1500 }, (_, i) => nr.set(`nr:${i}`, `w${i}`)));
      for (let i = 0; i < 1500; i++) expected.set(`nr:${i}`, { value: `w${i}`, ttl: false });
      const nrMsets: string[] = [];
      for (let g = 0; g < 100; g++) {
        const tag = `{nr-order:${g}}`;
        nrMsets.push(await nr.mSet([[`${tag}:a`, `a${g}`], [`${tag}:b`, `b${g}`]]));
        expected.set(`${tag}:a`, { value: `a${g}`, ttl: false });
        expected.set(`${tag}:b`, { value: `b${g}`, ttl: false });
      }
      t.same(nrMsets, new Array(100).fill('OK'), 'node-redis MSET of tagged keys');
      const nrGot = await Promise.all(Array.from({ length: 100 }, (_, g) => nr.mGet([`{nr-order:${g}}:a`, `{nr-order:${g}}:b`, `{nr-order:${g}}:c`])));
      t.same(nrGot, Array.from({ length: 100 }, (_, g) => [`a${g}`, `b${g}`, null]), 'node-redis MGET of tagged keys');
      t.same(await Promise.all(Array.from({ length: 100 }, (_, g) => nr.del([`{nr-order:${g}}:b`, `{nr-order:${g}}:c`]))),
        new Array(100).fill(1), 'node-redis DEL of tagged keys');
      for (let g = 0; g < 100; g++) expected.set(`{nr-order:${g}}:b`, { value: null, ttl: false });
      t.same(await Promise.all(Array.from({ length: 100 }, (_, i) => nr.incrBy(`nr-count:${i}`, i + 1))), Array.from({ length: 100 }, (_, i) => i + 1), 'node-redis INCRBY');
      for (let i = 0; i < 100; i++) expected.set(`nr-count:${i}`, { value: String(i + 1), ttl: false });
      t.same(await Promise.all(Array.from({ length: 100 }, (_, i) => nr.expire(`nr-count:${i}`, 1000))), new Array(100).fill(1), 'node-redis EXPIRE');
      for (let i = 0; i < 100; i++) expected.set(`nr-count:${i}`, { value: String(i + 1), ttl: true });
      await t.rejects(nr.sendCommand('{x}', false, ['MGET', 'nr:1', 'nr:2']), /CROSSSLOT/, 'node-redis: keys of two slots in one request');
      await sleep(300);

      // Read every key back from its owner, with a plain connection.
      const keys = [...expected.keys()];
      const slots = (await pipeline(nodes[2].client, keys.map((k) => ['CLUSTER', 'KEYSLOT', k]))).map((r) => Number(/^:(\d+)\r\n$/.exec(r.toString())![1]));
      const byNode: string[][] = [[], [], []];
      keys.forEach((k, i) => byNode[owners[slots[i]]].push(k));
      t.ok(byNode.every((list) => list.length > 500), `keys spread over the 3 masters: ${byNode.map((l) => l.length)}`);
      const wrong: string[] = [];
      let present = 0;
      for (let n = 0; n < 3; n++) {
        const list = byNode[n];
        const values = await pipeline(nodes[n].client, list.map((k) => ['GET', k]));
        const ttls = await pipeline(nodes[n].client, list.map((k) => ['TTL', k]));
        list.forEach((k, i) => {
          const e = expected.get(k)!;
          const want = e.value === null ? '$-1\r\n' : `$${e.value.length}\r\n${e.value}\r\n`;
          if (values[i].toString() !== want) wrong.push(`${k} on ${nodes[n].port}: GET ${JSON.stringify(values[i].toString())}, want ${JSON.stringify(want)}`);
          const ttl = Number(ttls[i].toString().slice(1));
          const ttlOk = e.value === null ? ttl === -2 : e.ttl ? ttl > 900 && ttl <= 1000 : ttl === -1;
          if (!ttlOk) wrong.push(`${k} on ${nodes[n].port}: TTL ${ttl}`);
          if (e.value !== null) present++;
        });
      }
      t.same(wrong.slice(0, 20), [], 'every key holds its value and TTL on the node owning its slot');
      const sizes = await Promise.all(nodes.map(async (n) => Number((await n.client.command('DBSIZE')).toString().slice(1))));
      t.equal(sizes.reduce((a, b) => a + b, 0), present, `DBSIZE of the masters (${sizes}) adds up to the keys written`);

      // A plain connection to a node that does not own the slot is redirected, exactly as Redis words it.
      const moved: string[] = [];
      for (let n = 0; n < 3; n++) {
        const other = (n + 1) % 3;
        const list = byNode[n];
        const replies = await pipeline(nodes[other].client, list.map((k) => ['GET', k]));
        list.forEach((k, i) => {
          const want = `-MOVED ${slots[keys.indexOf(k)]} 127.0.0.1:${nodes[n].port}\r\n`;
          if (replies[i].toString() !== want) moved.push(`${k} on ${nodes[other].port}: ${JSON.stringify(replies[i].toString())}, want ${JSON.stringify(want)}`);
        });
      }
      t.same(moved.slice(0, 20), [], 'a wrong node answers -MOVED <slot> 127.0.0.1:<owner port>');
    });

    t.test('redis-benchmark --cluster', async (t) => {
      const r = await runTool('redis-benchmark', ['--cluster', '-p', String(nodes[0].port), '-t', 'set,get', '-n', '20000', '-c', '20', '-q'], 60000);
      t.equal(r.code, 0, 'redis-benchmark exits with 0');
      if (r.code !== 0) t.comment(r.out);
      t.notMatch(r.out, /Error/, 'no error in its output');
      t.match(r.out, /SET: [\d.]+ requests per second/);
      t.match(r.out, /GET: [\d.]+ requests per second/);
      t.match(r.out, /Cluster has 3 master nodes/);
    });

    t.test('a slot moved by hand: clients follow ASK, then MOVED, and gossip tells the third node', async (t) => {
      // A key of an empty slot of node 0 (weft has no MIGRATE yet, so only an empty slot can move).
      let key = '';
      let slot = -1;
      for (let i = 0; slot < 0; i++) {
        const s = Number((await nodes[0].client.command('CLUSTER', 'KEYSLOT', `mv:${i}`)).toString().slice(1));
        if (owners[s] === 0 && (await nodes[0].client.command('CLUSTER', 'COUNTKEYSINSLOT', String(s))).toString() === ':0\r\n') {
          key = `mv:${i}`;
          slot = s;
        }
      }
      const io = new Cluster([{ host: '127.0.0.1', port: nodes[2].port }], { redisOptions: { maxRetriesPerRequest: 2 } });
      const nr = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${nodes[2].port}` }] });
      t.teardown(() => {
        io.disconnect();
        return nr.destroy();
      });
      nr.on('error', () => {});
      await nr.connect();
      t.equal(await io.get(key), null, 'ioredis has its slot map');

      // redis-cli --cluster reshard's order: the target imports, then the source migrates.
      const cmd = async (n: Node, ...args: string[]) => (await n.client.command(...args)).toString();
      t.equal(await cmd(nodes[1], 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', nodes[0].id), '+OK\r\n');
      t.equal(await cmd(nodes[0], 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', nodes[1].id), '+OK\r\n');
      // New keys of a migrating slot are created on the target: the source answers ASK, the clients send ASKING there.
      t.equal(await io.set(key, 'from-ioredis'), 'OK');
      t.equal(await nr.set(`{${key}}:nr`, 'from-node-redis'), 'OK');
      t.equal(await cmd(nodes[0], 'GET', key), `-ASK ${slot} 127.0.0.1:${nodes[1].port}\r\n`);
      t.equal(await cmd(nodes[1], 'CLUSTER', 'COUNTKEYSINSLOT', String(slot)), ':2\r\n', 'both keys landed on the target');
      t.equal(await cmd(nodes[0], 'CLUSTER', 'COUNTKEYSINSLOT', String(slot)), ':0\r\n');
      t.equal(await io.get(key), 'from-ioredis', 'ioredis reads it through ASK');
      t.equal(await nr.get(`{${key}}:nr`), 'from-node-redis', 'node-redis reads it through ASK');

      // Closing: the target takes the slot (with a new config epoch), then the source; node 2 is not told.
      t.equal(await cmd(nodes[1], 'CLUSTER', 'SETSLOT', String(slot), 'NODE', nodes[1].id), '+OK\r\n');
      t.equal(await cmd(nodes[0], 'CLUSTER', 'SETSLOT', String(slot), 'NODE', nodes[1].id), '+OK\r\n');
      await waitFor(`node ${nodes[2].port} to learn from gossip that slot ${slot} moved to ${nodes[1].port}`, 10000, async () => {
        const r = await cmd(nodes[2], 'GET', key);
        return r === `-MOVED ${slot} 127.0.0.1:${nodes[1].port}\r\n` || r;
      });
      for (const n of nodes) {
        const o = await slotOwners(n.client, nodes);
        t.equal(o[slot], 1, `CLUSTER SLOTS of ${n.port} gives slot ${slot} to ${nodes[1].port}`);
      }
      t.equal(await cmd(nodes[0], 'GET', key), `-MOVED ${slot} 127.0.0.1:${nodes[1].port}\r\n`);
      t.equal(await io.get(key), 'from-ioredis', 'ioredis follows MOVED');
      t.equal(await nr.get(`{${key}}:nr`), 'from-node-redis', 'node-redis follows MOVED');
      await waitStateOk(nodes, 10000);
    });
  });

  t.test('redirections match a real Redis cluster byte for byte', async (t) => {
    const [weft, redis] = await Promise.all((['weft', 'redis'] as const).map(async (kind) => {
      const nodes = await Promise.all([0, 1, 2].map(() => startNode(t, kind)));
      await formCluster(nodes);
      return nodes;
    }));

    /** Replaces a cluster's node ids, ports and bus ports with placeholders (by node index). */
    const mask = (nodes: Node[], text: string): string => {
      nodes.forEach((n, i) => {
        text = text.split(n.id).join(`<ID${i}>`).split(String(n.cport)).join(`<CPORT${i}>`).split(String(n.port)).join(`<PORT${i}>`);
      });
      return text;
    };
    /** Writes a reply back as RESP with the cluster's identity masked (bulk lengths recomputed). */
    const normalise = (nodes: Node[], r: Resp): string => {
      if ('$=!'.includes(r.type) && r.text !== '-1') {
        const body = mask(nodes, r.text);
        return `${r.type}${Buffer.byteLength(body, 'latin1')}\r\n${body}\r\n`;
      }
      if ('*~>%|'.includes(r.type) && !r.text.startsWith('-')) return `${r.type}${r.text}\r\n` + r.items.map((i) => normalise(nodes, i)).join('');
      return `${r.type}${mask(nodes, r.text)}\r\n`;
    };
    /** A step: the index of the node to send it to, then the command; "$IDn" stands for node n's id. */
    type Step = [number, ...string[]];
    const send = async (nodes: Node[], [n, ...cmd]: Step): Promise<string> => {
      const args = cmd.map((a) => a.replace(/^\$ID(\d)$/, (_, i: string) => nodes[Number(i)].id));
      return normalise(nodes, parseResp((await nodes[n].client.command(...args)).toString('latin1')));
    };
    // weft's normalised replies, so the test can also check that the steps reached the cases they are about.
    let seen = '';
    const diff = async (steps: Step[]) => {
      const out = [];
      seen = '';
      for (const step of steps) {
        const [w, r] = await Promise.all([send(weft, step), send(redis, step)]);
        seen += w;
        if (w !== r) out.push({ step: step.join(' '), weft: JSON.stringify(w), redis: JSON.stringify(r) });
      }
      return out;
    };
    // Slots: foo, {foo}* 12182 (node 2); bar 5061, b 3300 (node 0); {8M}x 5461, z 8157 (node 1); a 15495 (node 2).
    const slot = '12182';

    t.same(await diff([
      [0, 'CLUSTER', 'KEYSLOT', 'foo'], [0, 'CLUSTER', 'KEYSLOT', '{8M}x'], [0, 'CLUSTER', 'KEYSLOT', 'z'], [0, 'CLUSTER', 'SLOTS'],
      [2, 'SET', '{foo}present', 'here'], [2, 'MSET', '{foo}1', '1', '{foo}2', '2'],
      [0, 'GET', 'foo'], [1, 'SET', 'foo', 'x'], [0, 'MSET', '{foo}1', '1', '{foo}2', '2'], [1, 'GET', 'bar'],
      [0, 'MGET', 'foo', 'bar'], [2, 'MSET', 'a', '1', 'b', '2'], [1, 'DEL', 'a', 'b'], [2, 'MGET', 'a', 'a'],
      [0, 'ASKING'], [0, 'GET', 'foo'], [0, 'READONLY'], [0, 'GET', 'foo'], [0, 'READWRITE'],
      [0, 'EXISTS', '{foo}present'], [2, 'EXISTS', '{foo}present', '{foo}1', 'foo'],
    ]), [], 'MOVED and CROSSSLOT');
    t.match(seen, '-MOVED 12182 127.0.0.1:<PORT2>\r\n');
    t.match(seen, "-CROSSSLOT Keys in request don't hash to the same slot\r\n");

    t.same(await diff([
      // Open the slot: node 0 imports it from node 2 (redis-cli --cluster reshard's order).
      [0, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', '$ID2'], [2, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', '$ID0'],
      // The source serves keys it still has, sends missing ones to the target, and a half-moved multi-key request must retry.
      [2, 'GET', 'foo'], [2, 'SET', 'foo', 'y'], [2, 'GET', '{foo}present'], [2, 'MGET', '{foo}present', '{foo}1'],
      [2, 'MGET', '{foo}present', 'foo'], [2, 'DEL', 'foo', '{foo}present'], [2, 'EXISTS', 'foo'],
      // The target serves the slot only right after ASKING, once.
      [0, 'GET', 'foo'], [0, 'ASKING'], [0, 'GET', 'foo'], [0, 'GET', 'foo'], [0, 'ASKING'], [0, 'SET', 'foo', 'moved'],
      [0, 'ASKING'], [0, 'GET', 'foo'], [0, 'ASKING'], [0, 'MGET', 'foo', '{foo}zz'], [0, 'ASKING'], [0, 'MGET', 'foo', 'foo'],
      [0, 'ASKING'], [0, 'MSET', 'foo', '1', '{foo}zz', '2'], [0, 'CLUSTER', 'COUNTKEYSINSLOT', slot],
      [2, 'CLUSTER', 'COUNTKEYSINSLOT', slot],
      // A third node knows nothing of the migration.
      [1, 'GET', 'foo'], [1, 'ASKING'], [1, 'GET', 'foo'], [0, 'CLUSTER', 'SLOTS'],
      // Closing it on both sides: the source serves the slot again, the target redirects.
      [2, 'CLUSTER', 'SETSLOT', slot, 'STABLE'], [0, 'CLUSTER', 'SETSLOT', slot, 'STABLE'],
      [2, 'GET', 'foo'], [2, 'GET', '{foo}present'], [0, 'ASKING'], [0, 'GET', 'foo'],
    ]), [], 'ASK, ASKING and TRYAGAIN while a slot migrates');
    t.match(seen, '-ASK 12182 127.0.0.1:<PORT0>\r\n');
    t.match(seen, '-TRYAGAIN Multiple keys request during rehashing of slot\r\n');
    t.match(seen, '$5\r\nmoved\r\n', 'the target served a key after ASKING');
    // GETKEYSINSLOT lists keys in hash-table order, which is the store's own: compare them as sets.
    const keysInSlot = async (n: Node) => parseResp((await n.client.command('CLUSTER', 'GETKEYSINSLOT', slot, '10')).toString('latin1')).items.map((i) => i.text).sort();
    t.same(await keysInSlot(weft[2]), await keysInSlot(redis[2]), 'the keys the source still holds');
    t.same(await keysInSlot(weft[0]), await keysInSlot(redis[0]), 'the keys the target imported');

    t.same(await diff([
      // A master that drops one of its slots sees the cluster down (cluster-require-full-coverage yes);
      // the others still route that slot to it.
      [1, 'CLUSTER', 'DELSLOTS', '5461'], [1, 'GET', '{8M}x'], [1, 'GET', 'z'], [1, 'GET', 'foo'], [1, 'SET', 'z', '1'],
      [0, 'GET', '{8M}x'], [2, 'GET', 'z'], [1, 'CONFIG', 'SET', 'cluster-require-full-coverage', 'no'],
    ]), [], 'CLUSTERDOWN with full coverage required');
    t.match(seen, '-CLUSTERDOWN The cluster is down\r\n');
    // Redis recomputes the state in its next clusterCron (100 ms) after CONFIG SET.
    await Promise.all([weft[1], redis[1]].map((n) => waitFor(`cluster_state:ok on ${n.kind} node ${n.port} after CONFIG SET cluster-require-full-coverage no`,
      10000, async () => {
        const info = await clusterInfo(n);
        return /cluster_state:ok/.test(info) || info;
      })));
    t.same(await diff([
      [1, 'GET', '{8M}x'], [1, 'SET', '{8M}x', '1'], [1, 'MGET', '{8M}x', '{8M}y'], [1, 'GET', 'z'], [1, 'MSET', 'z', '1', '{8M}x', '2'],
      [1, 'CLUSTER', 'ADDSLOTS', '5461'], [1, 'CONFIG', 'SET', 'cluster-require-full-coverage', 'yes'], [1, 'GET', '{8M}x'],
    ]), [], 'CLUSTERDOWN for one unserved slot');
    t.match(seen, '-CLUSTERDOWN Hash slot not served\r\n');
    t.same(bulk(await weft[1].client.command('CLUSTER', 'MYID')), weft[1].id);
  });
}
