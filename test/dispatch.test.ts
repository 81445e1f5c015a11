import t from 'tap';
import { setArgs } from './helpers/in-process.js';
import { CommandTable } from '../src/commands/command-table.js';
import { defineCommand } from '../src/commands/command-spec.js';
import { CommandContext } from '../src/commands/context.js';
import { processCommand, type DispatchHooks } from '../src/commands/dispatch.js';
import { ReplyWriter } from '../src/protocol/reply-writer.js';
import { Keyspace, allocateKeyspace } from '../src/store/keyspace.js';
import { ReplyMode, type ClientState, type ServerServices } from '../src/commands/client-state.js';

function setup() {
  const ks = new Keyspace(allocateKeyspace(1, 2));
  const out = new ReplyWriter();
  const c = new CommandContext(out, ks);
  const client = { id: 1, db: 0, resp: 2, authenticated: true, replyMode: ReplyMode.On, lastCommand: '' } as unknown as ClientState;
  const stats = { commands: 0, keyspaceHits: 0, keyspaceMisses: 0, rejectedCalls: 0, failedCalls: 0 };
  c.client = client;
  c.server = { stats, keyspaceEvents: 0, watches: { any: false } } as unknown as ServerServices;
  const errors: string[] = [];
  const hooks: DispatchHooks = { ensureMemory: () => true, onHandlerError: (spec, err) => errors.push(`${spec.name}: ${(err as Error).message}`) };
  const run = (table: CommandTable, ...args: string[]) => {
    setArgs(c, args);
    processCommand(c, hooks, table);
    return out.take().toString();
  };
  return { c, ks, run, errors, stats };
}

t.test('a handler that throws answers an error, releases its locks and is logged', async (t) => {
  const { ks, run, errors, stats } = setup();
  const table = new CommandTable([
    defineCommand({ name: 'boom', arity: 2, flags: ['write'], keys: [1, 1, 1], group: 'test', summary: 'throws', handler: (c) => {
      c.openKey(1);
      c.out.integer(1); // a partial reply must not reach the client
      throw new Error('kaboom');
    } }),
    defineCommand({ name: 'ok', arity: 1, group: 'test', summary: 'ok', handler: (c) => c.out.ok() }),
  ]);
  t.equal(run(table, 'boom', 'key'), "-ERR internal error in 'boom': kaboom\r\n");
  t.same(errors, ['boom: kaboom']);
  t.equal(stats.failedCalls, 1);
  for (const s of ks.shards) t.equal(Atomics.load(new Int32Array(s.sab, 0, 1), 0), 0, `shard ${s.index} unlocked`);
  t.equal(run(table, 'ok'), '+OK\r\n', 'the next command is served');
});

t.test('unknown commands, arity and unknown subcommands use Redis wording', async (t) => {
  const { run } = setup();
  const table = new CommandTable([
    defineCommand({ name: 'one', arity: 2, group: 'test', summary: 'x', handler: (c) => c.out.ok() }),
    defineCommand({ name: 'box', arity: -2, group: 'test', summary: 'x', subcommands: [
      defineCommand({ name: 'inner', arity: 2, group: 'test', summary: 'x', handler: (c) => c.out.ok() }),
    ] }),
  ]);
  t.equal(run(table, 'nope', 'a', 'b'), "-ERR unknown command 'nope', with args beginning with: 'a' 'b' \r\n");
  t.equal(run(table, 'ONE'), "-ERR wrong number of arguments for 'one' command\r\n");
  t.equal(run(table, 'box', 'what'), "-ERR unknown subcommand 'what'. Try BOX HELP.\r\n");
  t.equal(run(table, 'box', 'inner', 'x'), "-ERR wrong number of arguments for 'box|inner' command\r\n");
  t.equal(run(table, 'BOX', 'INNER'), '+OK\r\n');
});
