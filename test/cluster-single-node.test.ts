/**
 * Cluster mode on one node against Redis 7.0.15, byte for byte: weft and
 * redis-server both run with cluster-enabled as single-node clusters and get
 * the same CLUSTER subcommands (every error branch of clusterCommand that a
 * lone node can reach), the key commands once all slots are served
 * (CROSSSLOT, CLUSTERDOWN, TRYAGAIN), and the cluster-disabled errors.
 * Node ids, ports and bus ports legitimately differ: replies are compared
 * after replacing each server's own values with placeholders. The nodes.conf
 * file is compared the same way, and a restarted weft node must come back
 * with its id, epochs and slots.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, RawClient, requireRedisTools, startRedis, startWeft, tempDir, type ServerHandle } from './helpers/servers.js';
import { parseResp, type Resp } from './helpers/differential.js';

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** One running single-node cluster: its server, client connection, directory, bus port and current node id. */
interface Node {
  server: ServerHandle;
  client: RawClient;
  dir: string;
  cport: number;
  id: string;
}

/**
 * A step: the command, where "$ME" stands for the server's own node id (and
 * "$UPPERME" for it uppercased). HELLO steps are sent but not compared: the
 * client ids in their replies differ.
 */
type Step = string[];

function bulkText(reply: Buffer): string {
  const r = parseResp(reply.toString('latin1'));
  if (r.type === '-') throw new Error(r.text);
  return r.text;
}

/** Replaces a node's own id, port and bus port in a text with placeholders. */
function masked(n: Node, text: string): string {
  return text.split(n.id).join('<ID>').split(n.id.toUpperCase()).join('<UPPERID>').split(String(n.cport)).join('<CPORT>').split(String(n.server.port)).join('<PORT>');
}

/** Writes a reply back as RESP with the node's identity masked (bulk lengths recomputed). */
function normalise(n: Node, r: Resp): string {
  if ('$=!'.includes(r.type) && r.text !== '-1') {
    const body = masked(n, r.text);
    return `${r.type}${Buffer.byteLength(body, 'latin1')}\r\n${body}\r\n`;
  }
  if ('*~>%|'.includes(r.type) && !r.text.startsWith('-')) return `${r.type}${r.text}\r\n` + r.items.map((i) => normalise(n, i)).join('');
  return `${r.type}${masked(n, r.text)}\r\n`;
}

async function send(n: Node, step: Step): Promise<string> {
  const args = step.map((a) => a.replace('$UPPERME', n.id.toUpperCase()).replace('$ME', n.id));
  const reply = await n.client.command(...args);
  // CLUSTER RESET HARD gives the node a new id.
  if (/^cluster$/i.test(step[0]) && /^reset$/i.test(step[1] ?? '')) n.id = bulkText(await n.client.command('CLUSTER', 'MYID'));
  return normalise(n, parseResp(reply.toString('latin1')));
}

/** Runs the steps on both nodes in lockstep; returns the steps whose normalised replies differ. */
async function diff(w: Node, r: Node, steps: Step[]): Promise<{ step: string; weft: string; redis: string }[]> {
  const out = [];
  for (const step of steps) {
    const [a, b] = await Promise.all([send(w, step), send(r, step)]);
    if (step[0] === 'HELLO') continue;
    if (a !== b) out.push({ step: step.join(' '), weft: JSON.stringify(a), redis: JSON.stringify(b) });
  }
  return out;
}

/** Polls CLUSTER INFO until it matches (the state changes on the servers' own timers). */
async function waitInfo(n: Node, re: RegExp, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = bulkText(await n.client.command('CLUSTER', 'INFO'));
    if (re.test(info)) return;
    if (Date.now() > deadline) throw new Error(`CLUSTER INFO never matched ${re}:\n${info}`);
    await sleep(100);
  }
}

/** Starts a single-node cluster (weft or Redis) in `dir` with its own free bus port; stopped in teardown. */
async function startNode(t: Test, kind: 'weft' | 'redis', dir: string, extra: string[] = []): Promise<Node> {
  // An explicit bus port: port + 10000 may lie beyond 65535 for an ephemeral port.
  const cport = await freePort();
  const args = ['--cluster-enabled', 'yes', '--dir', dir, '--cluster-port', String(cport), ...extra];
  const server = await (kind === 'weft' ? startWeft(args) : startRedis(args));
  t.teardown(() => server.stop());
  const client = await RawClient.connect(server.port);
  t.teardown(() => client.close());
  const n: Node = { server, client, dir, cport, id: '' };
  n.id = bulkText(await client.command('CLUSTER', 'MYID'));
  return n;
}

function scratchDir(t: Test): string {
  const dir = tempDir('weft-cluster-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const NO_SUCH_ID = '0123456789abcdef0123456789abcdef01234567';

// Skips without the Redis tools locally, fails without them under CI.
if (requireRedisTools(t)) {
  t.test('a single-node cluster answers as Redis does', async (t) => {
    const [w, r] = await Promise.all([startNode(t, 'weft', scratchDir(t)), startNode(t, 'redis', scratchDir(t))]);
    // Until the 2 s writable delay has passed, clusterUpdateState has not run and
    // cluster_size keeps clusterInit's 1; wait for both to be past it.
    await Promise.all([w, r].map((n) => waitInfo(n, /cluster_size:0/)));

    t.test('an empty node', async (t) => {
      t.same(await diff(w, r, [
        ['CLUSTER', 'INFO'], ['CLUSTER', 'NODES'], ['CLUSTER', 'SLOTS'], ['CLUSTER', 'SHARDS'], ['CLUSTER', 'MYID'],
        ['CLUSTER', 'LINKS'], ['CLUSTER', 'HELP'], ['CLUSTER'], ['CLUSTER', 'nosuch'], ['CLUSTER', 'info', 'x'],
        ['HELLO', '3'], ['CLUSTER', 'INFO'], ['CLUSTER', 'NODES'], ['CLUSTER', 'SLOTS'], ['CLUSTER', 'SHARDS'], ['HELLO', '2'],
        ['SET', 'foo', 'bar'], ['GET', 'foo'], ['MSET', 'a', '1', 'b', '2'], ['PING'], ['DBSIZE'],
        ['SELECT', '1'], ['SELECT', '16'], ['SELECT', 'x'], ['SELECT', '0'],
      ]), []);
    });

    t.test('ADDSLOTS, DELSLOTS and their RANGE forms', async (t) => {
      t.same(await diff(w, r, [
        ['CLUSTER', 'ADDSLOTS'], ['CLUSTER', 'ADDSLOTS', '1', '2', '3'], ['CLUSTER', 'ADDSLOTS', '3'],
        ['CLUSTER', 'ADDSLOTS', '5', '5'], ['CLUSTER', 'ADDSLOTS', '16384'], ['CLUSTER', 'ADDSLOTS', '-1'],
        ['CLUSTER', 'ADDSLOTS', 'abc'], ['CLUSTER', 'ADDSLOTS', '1.5'], ['CLUSTER', 'ADDSLOTS', '007'], ['CLUSTER', 'ADDSLOTS', '+8'],
        ['CLUSTER', 'ADDSLOTS', ' 7'], ['CLUSTER', 'ADDSLOTS', '10', 'abc'], ['CLUSTER', 'ADDSLOTS', '20', '3'],
        ['CLUSTER', 'DELSLOTS'], ['CLUSTER', 'DELSLOTS', '100'], ['CLUSTER', 'DELSLOTS', '1', '1'], ['CLUSTER', 'DELSLOTS', '16384'],
        ['CLUSTER', 'DELSLOTS', 'x'], ['CLUSTER', 'DELSLOTS', '1', '2'],
        ['CLUSTER', 'ADDSLOTSRANGE', '1'], ['CLUSTER', 'ADDSLOTSRANGE', '1', '2', '3'], ['CLUSTER', 'ADDSLOTSRANGE', '5', '4'],
        ['CLUSTER', 'ADDSLOTSRANGE', '10', '20'], ['CLUSTER', 'ADDSLOTSRANGE', '15', '25'], ['CLUSTER', 'ADDSLOTSRANGE', '30', '40', '35', '45'],
        ['CLUSTER', 'ADDSLOTSRANGE', '0', '16384'], ['CLUSTER', 'ADDSLOTSRANGE', '-1', '5'], ['CLUSTER', 'ADDSLOTSRANGE', 'a', '5'],
        ['CLUSTER', 'ADDSLOTSRANGE', '50', 'b'], ['CLUSTER', 'ADDSLOTSRANGE', '60', '60'], ['CLUSTER', 'ADDSLOTSRANGE', '70', '72', '74', '75'],
        ['CLUSTER', 'DELSLOTSRANGE', '1'], ['CLUSTER', 'DELSLOTSRANGE', '1', '2', '3'], ['CLUSTER', 'DELSLOTSRANGE', '5', '4'],
        ['CLUSTER', 'DELSLOTSRANGE', '10', '25'], ['CLUSTER', 'DELSLOTSRANGE', '10', '12'], ['CLUSTER', 'DELSLOTSRANGE', '30', '40', '40', '41'],
        ['CLUSTER', 'DELSLOTSRANGE', '0', '16384'], ['CLUSTER', 'DELSLOTSRANGE', '60', '60'], ['CLUSTER', 'DELSLOTSRANGE', '14', '12'],
        ['CLUSTER', 'INFO'], ['CLUSTER', 'NODES'], ['CLUSTER', 'SLOTS'], ['CLUSTER', 'SHARDS'],
        ['HELLO', '3'], ['CLUSTER', 'SLOTS'], ['CLUSTER', 'SHARDS'], ['HELLO', '2'],
      ]), []);
      // nodes.conf holds the same lines as CLUSTER NODES, and the file follows every change.
      t.equal(masked(w, fs.readFileSync(path.join(w.dir, 'nodes.conf'), 'latin1')),
        masked(r, fs.readFileSync(path.join(r.dir, 'nodes.conf'), 'latin1')), 'nodes.conf');
    });

    t.test('SETSLOT, FORGET, REPLICATE, COUNT-FAILURE-REPORTS, MEET and FAILOVER errors', async (t) => {
      t.same(await diff(w, r, [
        ['CLUSTER', 'SETSLOT'], ['CLUSTER', 'SETSLOT', '1'], ['CLUSTER', 'SETSLOT', '16384', 'STABLE'], ['CLUSTER', 'SETSLOT', 'x', 'stable'],
        ['CLUSTER', 'SETSLOT', '1', 'bad'], ['CLUSTER', 'SETSLOT', '1', 'bad', 'x'], ['CLUSTER', 'SETSLOT', '1', 'stable', 'x'],
        ['CLUSTER', 'SETSLOT', '1', 'STABLE'], ['CLUSTER', 'SETSLOT', '5000', 'MIGRATING'], ['CLUSTER', 'SETSLOT', '5000', 'node', 'a', 'b'],
        ['CLUSTER', 'SETSLOT', '5000', 'MIGRATING', NO_SUCH_ID], ['CLUSTER', 'SETSLOT', '5000', 'MIGRATING', '$ME'],
        ['CLUSTER', 'SETSLOT', '3', 'MIGRATING', NO_SUCH_ID], ['CLUSTER', 'SETSLOT', '3', 'IMPORTING', NO_SUCH_ID],
        ['CLUSTER', 'SETSLOT', '3', 'IMPORTING', '$ME'], ['CLUSTER', 'SETSLOT', '5000', 'IMPORTING', NO_SUCH_ID],
        ['CLUSTER', 'SETSLOT', '5000', 'NODE', NO_SUCH_ID], ['CLUSTER', 'SETSLOT', '5000', 'NODE', '$UPPERME'],
        ['CLUSTER', 'SETSLOT', '3', 'MIGRATING', '$ME'], ['CLUSTER', 'SETSLOT', '5000', 'IMPORTING', '$ME'], ['CLUSTER', 'NODES'],
        ['CLUSTER', 'SETSLOT', '3', 'STABLE'], ['CLUSTER', 'SETSLOT', '5000', 'STABLE'], ['CLUSTER', 'NODES'],
        // The importing node takes the slot with a new epoch, without agreement.
        ['CLUSTER', 'SETSLOT', '5001', 'IMPORTING', '$ME'], ['CLUSTER', 'SETSLOT', '5001', 'NODE', '$ME'], ['CLUSTER', 'NODES'], ['CLUSTER', 'INFO'],
        ['CLUSTER', 'FORGET', '$ME'], ['CLUSTER', 'FORGET', '$UPPERME'], ['CLUSTER', 'FORGET', NO_SUCH_ID], ['CLUSTER', 'FORGET', 'abc'],
        ['CLUSTER', 'REPLICATE', '$ME'], ['CLUSTER', 'REPLICATE', NO_SUCH_ID], ['CLUSTER', 'REPLICATE', 'abc'],
        ['CLUSTER', 'COUNT-FAILURE-REPORTS', NO_SUCH_ID], ['CLUSTER', 'COUNT-FAILURE-REPORTS', '$ME'],
        ['CLUSTER', 'REPLICAS', NO_SUCH_ID], ['CLUSTER', 'REPLICAS', '$ME'], ['CLUSTER', 'SLAVES', NO_SUCH_ID], ['CLUSTER', 'SLAVES', '$ME'],
        ['CLUSTER', 'MEET', '127.0.0.1'], ['CLUSTER', 'MEET', '127.0.0.1', 'x'], ['CLUSTER', 'MEET', '127.0.0.1', '007'],
        ['CLUSTER', 'MEET', '127.0.0.1', '99999'], ['CLUSTER', 'MEET', '127.0.0.1', '0'], ['CLUSTER', 'MEET', '127.0.0.1', '-1'],
        ['CLUSTER', 'MEET', '127.0.0.1', '7000', 'x'], ['CLUSTER', 'MEET', '127.0.0.1', '7000', '99999'],
        ['CLUSTER', 'MEET', '127.0.0.1', '7000', '1', '2'], ['CLUSTER', 'meet', 'nohost', '7000'],
        ['CLUSTER', 'FAILOVER'], ['CLUSTER', 'FAILOVER', 'FORCE'], ['CLUSTER', 'FAILOVER', 'takeover'], ['CLUSTER', 'FAILOVER', 'bad'],
        ['CLUSTER', 'FailOver', 'takeover', 'x'],
        ['CLUSTER', 'SAVECONFIG'], ['CLUSTER', 'SAVECONFIG', 'x'], ['CLUSTER', 'NODES'],
      ]), []);
    });

    t.test('SET-CONFIG-EPOCH, BUMPEPOCH and RESET', async (t) => {
      t.same(await diff(w, r, [
        ['CLUSTER', 'RESET', 'bad'], ['CLUSTER', 'RESET', 'hard', 'extra'], ['CLUSTER', 'RESET', 'SOFT'], ['CLUSTER', 'INFO'],
        ['CLUSTER', 'RESET', 'HARD'], ['CLUSTER', 'INFO'], ['CLUSTER', 'NODES'],
        ['CLUSTER', 'SET-CONFIG-EPOCH', '-1'], ['CLUSTER', 'SET-CONFIG-EPOCH', 'abc'], ['CLUSTER', 'SET-CONFIG-EPOCH', '1.5'],
        ['CLUSTER', 'SET-CONFIG-EPOCH', '007'], ['CLUSTER', 'SET-CONFIG-EPOCH', '-0'], ['CLUSTER', 'SET-CONFIG-EPOCH', '99999999999999999999'],
        ['CLUSTER', 'SET-CONFIG-EPOCH', '5'], ['CLUSTER', 'SET-CONFIG-EPOCH', '7'], ['CLUSTER', 'INFO'], ['CLUSTER', 'NODES'],
        ['CLUSTER', 'BUMPEPOCH'], ['CLUSTER', 'BUMPEPOCH', 'x'], ['CLUSTER', 'ADDSLOTS', '9'], ['CLUSTER', 'RESET'], ['CLUSTER', 'INFO'],
        ['CLUSTER', 'SET-CONFIG-EPOCH', '6'], ['CLUSTER', 'RESET', 'hard'], ['CLUSTER', 'BUMPEPOCH'], ['CLUSTER', 'BUMPEPOCH'],
        ['CLUSTER', 'INFO'], ['CLUSTER', 'NODES'], ['CLUSTER', 'RESET', 'HARD'], ['CLUSTER', 'INFO'],
      ]), []);
      t.equal(masked(w, fs.readFileSync(path.join(w.dir, 'nodes.conf'), 'latin1')),
        masked(r, fs.readFileSync(path.join(r.dir, 'nodes.conf'), 'latin1')), 'nodes.conf after RESET HARD');
    });

    t.test('KEYSLOT, COUNTKEYSINSLOT and GETKEYSINSLOT arguments', async (t) => {
      t.same(await diff(w, r, [
        ['CLUSTER', 'KEYSLOT', 'foo'], ['CLUSTER', 'KEYSLOT', '{user1}.a'], ['CLUSTER', 'KEYSLOT', ''], ['CLUSTER', 'KEYSLOT', '{}a'],
        ['CLUSTER', 'KEYSLOT', 'a{}b{c}'], ['CLUSTER', 'KEYSLOT', 'a{b'], ['CLUSTER', 'KEYSLOT', 'a{b}{c}'], ['CLUSTER', 'KEYSLOT', 'x', 'y'],
        ['CLUSTER', 'COUNTKEYSINSLOT', 'x'], ['CLUSTER', 'COUNTKEYSINSLOT', '-1'], ['CLUSTER', 'COUNTKEYSINSLOT', '16384'],
        ['CLUSTER', 'COUNTKEYSINSLOT', '007'], ['CLUSTER', 'COUNTKEYSINSLOT', '0'], ['CLUSTER', 'COUNTKEYSINSLOT', '16383'],
        ['CLUSTER', 'GETKEYSINSLOT', '0', 'x'], ['CLUSTER', 'GETKEYSINSLOT', 'x', '1'], ['CLUSTER', 'GETKEYSINSLOT', '0', '-1'],
        ['CLUSTER', 'GETKEYSINSLOT', '-1', '1'], ['CLUSTER', 'GETKEYSINSLOT', '16384', '1'], ['CLUSTER', 'GETKEYSINSLOT', '0', '0'],
        ['CLUSTER', 'GETKEYSINSLOT', '0', '10'], ['CLUSTER', 'GETKEYSINSLOT', '0'],
      ]), []);
    });

    t.test('key commands once every slot is served', async (t) => {
      t.same(await diff(w, r, [['CLUSTER', 'ADDSLOTSRANGE', '0', '16383'], ['CLUSTER', 'INFO'], ['GET', 'foo']]), []);
      // A master that has just left a minority (no slot-serving master known)
      // waits the rejoin delay before it turns ok (clusterUpdateState).
      await Promise.all([w, r].map((n) => waitInfo(n, /cluster_state:ok/)));
      const foo = '12182';
      const tag = '15891';
      t.same(await diff(w, r, [
        ['CLUSTER', 'INFO'], ['SET', 'foo', 'bar'], ['SET', '{foo}x', '1'], ['SET', '{foo}y', '2'], ['SET', 'bar', '1'],
        ['MSET', 'a', '1', 'b', '2'], ['MSET', '{t}a', '1', '{t}b', '2'], ['MSETNX', 'a', '1', 'b', '2'], ['MGET', '{t}a', '{t}b'],
        ['MGET', '{t}a', '{t}b', 'x'], ['DEL', 'a', 'b'], ['EXISTS', 'foo', 'bar'], ['EXISTS', 'foo', '{foo}x'], ['RENAME', 'foo', 'bar'],
        ['RENAME', '{t}a', '{t}c'], ['COPY', '{t}b', '{t}d'], ['COPY', '{t}b', 'x'], ['DEL', '{t}d', '{t}d'],
        // One database in cluster mode: SWAPDB and COPY ... DB n are refused.
        ['SWAPDB', '0', '1'], ['COPY', '{t}b', '{t}e', 'DB', '1'], ['COPY', '{t}b', '{t}e', 'DB', '0'], ['DEL', '{t}e'],
        // SORT: a BY pattern with '*' and any GET are refused in cluster mode, whatever their hash tag.
        ['RPUSH', '{t}l', '3', '1', '2'], ['SORT', '{t}l'], ['SORT', '{t}l', 'BY', 'w_*'], ['SORT', '{t}l', 'BY', '{t}w_*'],
        ['SORT', '{t}l', 'GET', '#'], ['SORT_RO', '{t}l', 'GET', '{t}x'], ['SORT', '{t}l', 'BY', 'nosort', 'DESC'],
        ['SORT', '{t}l', 'LIMIT', '0', '1', 'STORE', '{t}d'], ['LRANGE', '{t}d', '0', '-1'], ['SORT', '{t}l', 'STORE', 'd'],
        ['SORT', 'd', 'STORE', '{t}d'], ['DEL', '{t}l', '{t}d'],
        ['CLUSTER', 'COUNTKEYSINSLOT', foo],
      ]), []);
      // GETKEYSINSLOT's order is the table's (Redis: newest first; both tip nondeterministic_output):
      // the same keys, and a count that cuts the list gives that many of them.
      const keysIn = async (n: Node, count: string) => parseResp((await n.client.command('CLUSTER', 'GETKEYSINSLOT', foo, count)).toString('latin1')).items.map((i) => i.text);
      const [weftKeys, redisKeys] = [await keysIn(w, '10'), await keysIn(r, '10')];
      t.same([...weftKeys].sort(), [...redisKeys].sort(), 'GETKEYSINSLOT: the slot\'s keys');
      const firstTwo = await keysIn(w, '2');
      t.equal(firstTwo.length, 2);
      t.ok(firstTwo.every((k) => redisKeys.includes(k)), 'GETKEYSINSLOT with a smaller count: keys of the slot');
      t.same(await diff(w, r, [
        ['CLUSTER', 'FLUSHSLOTS'], ['CLUSTER', 'RESET'], ['CLUSTER', 'RESET', 'HARD'], ['CLUSTER', 'FLUSHSLOTS', 'x'],
        ['ASKING'], ['GET', 'foo'], ['READONLY'], ['GET', 'foo'], ['READWRITE'], ['SET', 'foo', 'bar'],
        ['ASKING', 'x'], ['READONLY', 'x'], ['READWRITE', 'x'],
        // Transactions: each queued command is routed alone, EXEC over all of them together.
        ['MULTI'], ['SET', '{t}a', '1'], ['GET', '{t}b'], ['EXEC'], ['MULTI'], ['SET', 'foo', '1'], ['SET', 'bar', '2'], ['EXEC'],
        ['EXEC'], ['WATCH', 'foo', 'bar'], ['WATCH', '{t}a', '{t}b'], ['MULTI'], ['GET', '{t}a'], ['EXEC'], ['UNWATCH'],
        ['MULTI'], ['MGET', 'foo', 'bar'], ['EXEC'], ['MULTI'], ['FLUSHALL'], ['DISCARD'],
        // Not serving the first key's slot is reported before CROSSSLOT.
        ['CLUSTER', 'DELSLOTS', foo], ['CLUSTER', 'INFO'], ['GET', 'foo'], ['SET', 'foo', '1'], ['MSET', 'foo', '1', 'bar', '2'],
        ['MSET', 'bar', '1', 'foo', '2'], ['GET', 'bar'], ['SET', 'bar', '2'], ['PING'], ['DBSIZE'],
        ['MULTI'], ['SET', 'foo', '1'], ['GET', 'bar'], ['EXEC'], ['MULTI'], ['GET', 'bar'], ['EXEC'],
        ['CONFIG', 'SET', 'cluster-allow-reads-when-down', 'yes'], ['GET', 'foo'], ['GET', 'bar'], ['SET', 'bar', '2'],
        ['MGET', '{t}c', '{t}b'], ['EXISTS', 'bar'], ['DEL', 'bar'], ['INCR', 'bar'], ['TTL', 'bar'],
        ['CONFIG', 'SET', 'cluster-allow-reads-when-down', 'no'], ['GET', 'bar'], ['CLUSTER', 'ADDSLOTS', foo],
      ]), []);
      await Promise.all([w, r].map((n) => waitInfo(n, /cluster_state:ok/)));
      t.same(await diff(w, r, [
        ['CLUSTER', 'INFO'], ['GET', 'bar'], ['GET', 'foo'],
        // A slot migrating to this node itself: ASK would name myself, so the
        // command runs here; a partly missing multi-key request is TRYAGAIN.
        ['CLUSTER', 'SETSLOT', tag, 'MIGRATING', '$ME'], ['CLUSTER', 'NODES'], ['GET', '{t}b'], ['GET', '{t}zz'],
        ['MGET', '{t}b', '{t}zz'], ['MGET', '{t}zz', '{t}zz'], ['SET', '{t}zz', '1'], ['CLUSTER', 'SETSLOT', tag, 'STABLE'],
        ['GET', '{t}zz'], ['CLUSTER', 'DELSLOTS', tag], ['CLUSTER', 'SETSLOT', tag, 'IMPORTING', '$ME'], ['ASKING'], ['GET', '{t}b'],
        ['ASKING'], ['MULTI'], ['GET', '{t}b'], ['EXEC'], ['GET', '{t}b'], ['MULTI'], ['GET', '{t}b'], ['EXEC'],
        ['CLUSTER', 'SETSLOT', tag, 'NODE', '$ME'], ['CLUSTER', 'NODES'], ['CLUSTER', 'INFO'], ['GET', '{t}b'],
        ['FLUSHALL'], ['CLUSTER', 'COUNTKEYSINSLOT', foo], ['CLUSTER', 'FLUSHSLOTS'], ['CLUSTER', 'INFO'], ['CLUSTER', 'SLOTS'],
        ['GET', 'foo'],
      ]), []);
      t.equal(masked(w, fs.readFileSync(path.join(w.dir, 'nodes.conf'), 'latin1')),
        masked(r, fs.readFileSync(path.join(r.dir, 'nodes.conf'), 'latin1')), 'nodes.conf');
    });

    t.test('pipelined commands are routed by their own keys\' slots', async (t) => {
      // Half the slots served, without full coverage: a key's slot decides between its reply and
      // "Hash slot not served", for each command of a pipeline the batch parsed and hashed ahead.
      for (const n of [w, r]) {
        await n.client.command('CONFIG', 'SET', 'cluster-require-full-coverage', 'no');
        await n.client.command('CLUSTER', 'ADDSLOTSRANGE', '0', '8191');
      }
      await Promise.all([w, r].map((n) => waitInfo(n, /cluster_state:ok/)));
      let seed = 1208;
      const next = (k: number) => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return (seed >>> 8) % k;
      };
      const cmds: string[][] = [];
      for (let i = 0; i < 400; i++) {
        const key = next(4) === 0 ? `{tag${next(50)}}k${next(1000)}` : `key:${next(100000)}`;
        const kind = next(5);
        if (kind === 0) cmds.push(['MSET', key, 'v', `key:${next(100000)}`, 'w']);
        else if (kind === 1) cmds.push(['GET', key]);
        else if (kind === 2) cmds.push(['INCR', key]);
        else cmds.push(['SET', key, `v${i}`]);
      }
      const [a, b] = await Promise.all([w, r].map(async (n) => (await n.client.pipeline(cmds)).map((reply) => normalise(n, parseResp(reply.toString('latin1'))))));
      const differ = cmds.map((cmd, i) => ({ cmd: cmd.join(' '), weft: a[i], redis: b[i] })).filter((d) => d.weft !== d.redis);
      t.same(differ, []);
      for (const n of [w, r]) await n.client.command('CLUSTER', 'FLUSHSLOTS');
    });
  });

  t.test('with cluster mode off, CLUSTER, ASKING, READONLY and READWRITE say so', async (t) => {
    const [weft, redis] = await Promise.all([startWeft(), startRedis()]);
    t.teardown(() => Promise.all([weft.stop(), redis.stop()]).then(() => undefined));
    const [wc, rc] = await Promise.all([RawClient.connect(weft.port), RawClient.connect(redis.port)]);
    t.teardown(() => [wc, rc].forEach((c) => c.close()));
    const steps: Step[] = [
      ['CLUSTER', 'INFO'], ['CLUSTER', 'HELP'], ['CLUSTER', 'NODES'], ['CLUSTER', 'SLOTS'], ['CLUSTER', 'SHARDS'], ['CLUSTER', 'MYID'],
      ['CLUSTER', 'LINKS'], ['CLUSTER', 'KEYSLOT', 'foo'], ['CLUSTER', 'COUNTKEYSINSLOT', '1'], ['CLUSTER', 'GETKEYSINSLOT', '1', '1'],
      ['CLUSTER', 'ADDSLOTS', '1'], ['CLUSTER', 'ADDSLOTSRANGE', '1', '2'], ['CLUSTER', 'DELSLOTS', '1'], ['CLUSTER', 'FLUSHSLOTS'],
      ['CLUSTER', 'SETSLOT', '1', 'STABLE'], ['CLUSTER', 'MEET', '127.0.0.1', '7000'], ['CLUSTER', 'RESET'], ['CLUSTER', 'FAILOVER', 'bad'],
      ['CLUSTER', 'BUMPEPOCH'], ['CLUSTER', 'SET-CONFIG-EPOCH', '1'], ['CLUSTER', 'SAVECONFIG'], ['CLUSTER', 'FORGET', NO_SUCH_ID],
      ['CLUSTER', 'REPLICATE', NO_SUCH_ID], ['CLUSTER', 'REPLICAS', NO_SUCH_ID], ['CLUSTER', 'COUNT-FAILURE-REPORTS', NO_SUCH_ID],
      ['CLUSTER', 'nosuch'], ['CLUSTER', 'ADDSLOTS'], ['ASKING'], ['READONLY'], ['READWRITE'], ['ASKING', 'x'],
      ['SELECT', '1'], ['SET', 'foo', 'bar'], ['MSET', 'a', '1', 'b', '2'],
    ];
    const diffs = [];
    for (const step of steps) {
      const [a, b] = await Promise.all([wc.command(...step), rc.command(...step)]);
      if (!a.equals(b)) diffs.push({ step: step.join(' '), weft: a.toString('latin1'), redis: b.toString('latin1') });
    }
    t.same(diffs, []);
  });

  t.test('a restarted node keeps its id, epochs, slots and open slots', async (t) => {
    const dirs = { weft: scratchDir(t), redis: scratchDir(t) };
    const setup: Step[] = [
      ['CLUSTER', 'SET-CONFIG-EPOCH', '7'], ['CLUSTER', 'ADDSLOTSRANGE', '0', '5000', '6000', '6001'], ['CLUSTER', 'ADDSLOTS', '9000'],
      ['CLUSTER', 'SETSLOT', '100', 'MIGRATING', '$ME'], ['CLUSTER', 'SETSLOT', '7000', 'IMPORTING', '$ME'], ['CLUSTER', 'BUMPEPOCH'],
    ];
    const check: Step[] = [['CLUSTER', 'MYID'], ['CLUSTER', 'NODES'], ['CLUSTER', 'SLOTS']];
    const [w, r] = await Promise.all([startNode(t, 'weft', dirs.weft), startNode(t, 'redis', dirs.redis)]);
    t.same(await diff(w, r, setup), []);
    const before = await Promise.all(check.map((s) => send(w, s)));
    const info = async (n: Node) => bulkText(await n.client.command('CLUSTER', 'INFO')).split('\r\n').filter((l) => /epoch|slots_assigned/.test(l));
    const infoBefore = await info(w);
    const conf = fs.readFileSync(path.join(dirs.weft, 'nodes.conf'), 'latin1');
    t.match(conf, new RegExp(`^${w.id} :${w.server.port}@${w.cport} myself,master - 0 0 7 connected 0-5000 6000-6001 9000 ` +
      `\\[100->-${w.id}\\] \\[7000-<-${w.id}\\]\nvars currentEpoch 7 lastVoteEpoch 0\n$`), 'nodes.conf is written');
    await Promise.all([w.server.stop(), r.server.stop()]);
    w.client.close();
    r.client.close();

    const [w2, r2] = await Promise.all([startNode(t, 'weft', dirs.weft), startNode(t, 'redis', dirs.redis)]);
    t.equal(w2.id, w.id, 'same node id');
    t.same(await Promise.all(check.map((s) => send(w2, s))), before, 'same id, epoch, slots and open slots');
    t.same(await info(w2), infoBefore, 'same epochs');
    t.same(await diff(w2, r2, [...check, ['CLUSTER', 'INFO']]), [], 'as Redis reloads its nodes.conf');
  });

  t.test('a corrupt nodes.conf stops start-up with a clear message', async (t) => {
    const corrupt = [
      'garbage\n',
      'vars currentEpoch 0 lastVoteEpoch 0\n',
      `${NO_SUCH_ID} :7000@17000 myself,master - 0 0 zero connected\n`,
      `${NO_SUCH_ID} :7000@17000 myself,master - 0 0 0 connected 0-16384\n`,
      `${NO_SUCH_ID} :7000@17000 myself,bogus - 0 0 0 connected\n`,
    ];
    for (const text of corrupt) {
      const dir = scratchDir(t);
      fs.writeFileSync(path.join(dir, 'nodes.conf'), text);
      await t.rejects(startWeft(['--cluster-enabled', 'yes', '--dir', dir]),
        /exited with [1-9]\d* before it was ready:[^]*Unrecoverable error: corrupted cluster config file/, JSON.stringify(text));
    }
    // Redis refuses the first two the same way (the others make it panic or misread them).
    for (const text of corrupt.slice(0, 2)) {
      const dir = scratchDir(t);
      fs.writeFileSync(path.join(dir, 'nodes.conf'), text);
      await t.rejects(startRedis(['--cluster-enabled', 'yes', '--dir', dir]), /Unrecoverable error: corrupted cluster config file/);
    }
  });
}
