/**
 * Running weft's command handlers in process, without a server: for cases a
 * real server cannot reach yet (a key of a type weft does not have), and
 * compact script notation for the differential tests.
 */
import { CommandContext } from '../../src/commands/context.js';
import { commandTable } from '../../src/commands/command-table.js';
import { ReplyWriter } from '../../src/protocol/reply-writer.js';
import { Keyspace, allocateKeyspace } from '../../src/store/keyspace.js';
import { E_TYPE, ValueType } from '../../src/store/layout.js';
import { defaultCollectionLimits, ReplyMode, type ClientState, type ServerServices } from '../../src/commands/client-state.js';
import type { Test } from 'tap';
import { RawClient, startRedis, type ScriptStep } from './servers.js';

/** Steps written one per line, arguments separated by single spaces. */
export const lines = (text: string): ScriptStep[] => text.trim().split('\n').map((l) => l.trim().split(' '));


/** Points the context's arguments at `args` (latin1 bytes), as the parser would. */
export function setArgs(c: CommandContext, args: string[]): void {
  const parts = args.map((a) => Buffer.from(a, 'latin1'));
  c.buf = Buffer.concat(parts);
  c.argc = parts.length;
  c.argStart = new Int32Array(parts.length);
  c.argLen = new Int32Array(parts.length);
  let p = 0;
  parts.forEach((b, i) => {
    c.argStart[i] = p;
    c.argLen[i] = b.length;
    p += b.length;
  });
}

/** Runs commands through weft's handlers in process (locks released after each). */
export function inProcess() {
  const c = new CommandContext(new ReplyWriter(), new Keyspace(allocateKeyspace(16, 2)));
  c.client = { id: 1, db: 0, resp: 2, authenticated: true, replyMode: ReplyMode.On, lastCommand: '' } as unknown as ClientState;
  const stats = { commands: 0, keyspaceHits: 0, keyspaceMisses: 0, rejectedCalls: 0, failedCalls: 0 };
  c.server = { stats, limits: defaultCollectionLimits(), keyspaceEvents: 0, watches: { any: false }, configGet: (name: string) => (name === 'proto-max-bulk-len' ? '536870912' : undefined) } as unknown as ServerServices;
  const run = (...args: string[]): string => {
    setArgs(c, args);
    c.spec = commandTable().top.findByName(args[0].toLowerCase())!;
    try {
      c.spec.handler!(c);
    } finally {
      c.unlockAll();
    }
    return c.out.take().toString('latin1');
  };
  /** Makes `key` a string, then relabels it as a list. */
  const plantList = (key: string) => {
    run('SET', key, 'x');
    c.openKey(1);
    c.shard.u8[c.findQuiet() + E_TYPE] = ValueType.List;
    c.unlockAll();
  };
  return { run, plantList };
}

/**
 * For WRONGTYPE checks while weft has only strings: a real Redis with a list
 * 'l' and a string 's', and weft in process with 's' and a string relabelled
 * as the list 'l'.
 */
export async function wrongTypeFixture(t: Test): Promise<{ r: RawClient; weft: ReturnType<typeof inProcess> }> {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const r = await RawClient.connect(redis.port);
  t.teardown(() => r.close());
  const weft = inProcess();
  weft.plantList('l');
  weft.run('SET', 's', 'abc');
  await r.command('LPUSH', 'l', 'x');
  await r.command('SET', 's', 'abc');
  return { r, weft };
}
