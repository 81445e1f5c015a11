import t from 'tap';
import { RawClient, startWeft } from './helpers/servers.js';

t.test('weft answers PING and SET/GET', async (t) => {
  const weft = await startWeft();
  t.teardown(() => weft.stop());
  const c = await RawClient.connect(weft.port);
  t.teardown(() => c.close());
  t.equal((await c.command('PING')).toString(), '+PONG\r\n');
  t.equal((await c.command('SET', 'k', 'v')).toString(), '+OK\r\n');
  t.equal((await c.command('GET', 'k')).toString(), '$1\r\nv\r\n');
});
