/**
 * The slot table workers route by must name the right node after the
 * topology changes: a forgotten node's slot-table index may be reused, but
 * never while another live node still holds it (a MOVED to the wrong node
 * would follow otherwise).
 */
import t from 'tap';
import { bulk, startNode, waitFor } from './helpers/cluster.js';

t.test('after FORGET and a new MEET, MOVED still names each slot\'s owner', async (t) => {
  // Node a routes; without full coverage required its state turns ok with just the two assigned slots.
  const [a, b, c, d] = await Promise.all([0, 1, 2, 3].map((i) => startNode(t, 'weft', i === 0 ? { extra: ['--cluster-require-full-coverage', 'no'] } : {})));
  const meet = async (n: typeof b) => t.equal((await a.client.command('CLUSTER', 'MEET', '127.0.0.1', String(n.port), String(n.cport))).toString(), '+OK\r\n');
  const knows = (ids: string[], not: string[] = []) => waitFor(`node ${a.port} to know ${ids.length} nodes`, 20000, async () => {
    const text = bulk(await a.client.command('CLUSTER', 'NODES'));
    if (/handshake/.test(text) || !ids.every((id) => text.includes(id)) || not.some((id) => text.includes(id))) return text;
    return true;
  });
  await meet(b);
  await meet(c);
  await knows([a.id, b.id, c.id]);
  t.equal((await a.client.command('CLUSTER', 'FORGET', b.id)).toString(), '+OK\r\n');
  await meet(d);
  await knows([a.id, c.id, d.id], [b.id]);
  // The slots of two keys go to c and d: one index reused after the FORGET, one newly taken.
  const slotOf = async (key: string) => Number(/^:(\d+)/.exec((await a.client.command('CLUSTER', 'KEYSLOT', key)).toString())![1]);
  const [sc, sd] = [await slotOf('key-for-c'), await slotOf('key-for-d')];
  t.not(sc, sd);
  t.equal((await a.client.command('CLUSTER', 'SETSLOT', String(sc), 'NODE', c.id)).toString(), '+OK\r\n');
  t.equal((await a.client.command('CLUSTER', 'SETSLOT', String(sd), 'NODE', d.id)).toString(), '+OK\r\n');
  await waitFor(`cluster_state:ok on ${a.port}`, 20000, async () => {
    const info = bulk(await a.client.command('CLUSTER', 'INFO'));
    return /cluster_state:ok/.test(info) || info;
  });
  t.equal((await a.client.command('GET', 'key-for-c')).toString(), `-MOVED ${sc} 127.0.0.1:${c.port}\r\n`);
  t.equal((await a.client.command('GET', 'key-for-d')).toString(), `-MOVED ${sd} 127.0.0.1:${d.port}\r\n`);
});
