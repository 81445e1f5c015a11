/**
 * EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (Redis 7.0's eval.c): the
 * commands parse and reply; the thread's ScriptRunner (scripting/) compiles,
 * caches and runs. Their flags and key specs are Redis's: the declared keys
 * route in cluster mode like any command's (numkeys 0: any node), EVAL is
 * may_replicate (its effects replicate, never itself), the _RO variants are
 * readonly and refuse writes inside.
 *
 * The engine loads on a thread's first scripting command: processCommand
 * holds the command until it has (as a paused client is held), so the
 * handlers here always find it.
 */
import type { CommandContext } from './context.js';
import { arg, defineCommand, keyArg, keyNumKeys, numkeysGetKeys, type CommandSpec } from './command-spec.js';
import { replyHelp } from './help-reply.js';
import { NOT_INTEGER } from './errors.js';
import type { ScriptRunner } from '../scripting/script-runner.js';
import { sha1hex } from '../scripting/script-store.js';
import { ScriptKind } from '../scripting/busy-script.js';

const group = 'scripting';
const categories = ['slow', 'scripting'];

const NOSCRIPT = '-NOSCRIPT No matching script. Please use EVAL.';
const NEGATIVE_KEYS = "Number of keys can't be negative";
const TOO_MANY_KEYS = "Number of keys can't be greater than number of args";
const FLUSH_OPTION = 'SCRIPT FLUSH only support SYNC|ASYNC option';

export function runner(c: CommandContext): ScriptRunner {
  const r = c.server.scripting.runner;
  if (r === null) throw new Error('scripting engine not loaded');
  return r;
}

/**
 * evalGenericCommand's (and fcallCommandGeneric's) numkeys check: the
 * count, or null after replying; `notInteger` is the command's error for a
 * count that is not an integer.
 */
export function numkeys(c: CommandContext, notInteger = NOT_INTEGER): number | null {
  const n = c.argInt(2);
  if (n === null) {
    c.out.error(notInteger);
    return null;
  }
  if (n > c.argc - 3) {
    c.out.error(TOO_MANY_KEYS);
    return null;
  }
  if (n < 0) {
    c.out.error(NEGATIVE_KEYS);
    return null;
  }
  return n;
}

function evalBody(c: CommandContext, readOnly: boolean): void {
  const keys = numkeys(c);
  if (keys === null) return;
  const scripts = runner(c);
  const script = scripts.load(c.argCopy(1));
  if (typeof script === 'string') {
    c.out.error(script);
    return;
  }
  scripts.run(c, script, keys, readOnly);
}

function evalSha(c: CommandContext, readOnly: boolean): void {
  const keys = numkeys(c);
  if (keys === null) return;
  const scripts = runner(c);
  const script = scripts.find(c.argLatin1(1));
  if (script === null) {
    c.out.error(NOSCRIPT);
    return;
  }
  scripts.run(c, script, keys, readOnly);
}

function scriptLoad(c: CommandContext): void {
  const body = c.argCopy(2);
  const sha = sha1hex(body);
  const script = runner(c).load(body, sha);
  if (typeof script === 'string') c.out.error(script);
  else c.out.bulkString(sha);
}

function scriptExists(c: CommandContext): void {
  const scripts = runner(c);
  c.out.arrayHeader(c.argc - 2);
  for (let i = 2; i < c.argc; i++) c.out.integer(scripts.find(c.argLatin1(i)) === null ? 0 : 1);
}

/** SCRIPT FLUSH's and FUNCTION FLUSH's one optional argument: whether it is absent, SYNC or ASYNC. */
export function flushModeValid(c: CommandContext): boolean {
  return c.argc === 2 || (c.argc === 3 && (c.argIs(2, 'sync') || c.argIs(2, 'async')));
}

function scriptFlush(c: CommandContext): void {
  if (!flushModeValid(c)) {
    c.out.error(FLUSH_OPTION);
    return;
  }
  runner(c).flush();
  c.out.ok();
}

function scriptKill(c: CommandContext): void {
  const refused = c.server.scripting.busy.kill(ScriptKind.Eval);
  if (refused !== null) c.out.error(refused);
  else c.out.ok();
}

function scriptHelp(c: CommandContext): void {
  replyHelp(c, [
    'SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
    'EXISTS <sha1> [<sha1> ...]',
    '    Return information about the existence of the scripts in the script cache.',
    'FLUSH [ASYNC|SYNC]',
    '    Flush the Lua scripts cache. Very dangerous on replicas.',
    '    When called without the optional mode argument, the behavior is determined by the',
    '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
    '    * ASYNC: Asynchronously flush the scripts cache.',
    '    * SYNC: Synchronously flush the scripts cache.',
    'KILL',
    '    Kill the currently executing Lua script.',
    'LOAD <script>',
    '    Load a script into the scripts cache without executing it.',
  ]);
}

const evalArguments = [arg('script', 'string'), arg('numkeys', 'integer'), keyArg('key', 0, { optional: true, multiple: true }),
  arg('arg', 'string', { optional: true, multiple: true })];
const shaArguments = [arg('sha1', 'string'), arg('numkeys', 'integer'), keyArg('key', 0, { optional: true, multiple: true }),
  arg('arg', 'string', { optional: true, multiple: true })];
const keysNote = 'We cannot tell how the keys will be used so we assume the worst, RW and UPDATE';

export const scriptingCommands: CommandSpec[] = [
  defineCommand({ name: 'eval', arity: -3, flags: ['noscript', 'skip_monitor', 'may_replicate', 'no_mandatory_keys', 'stale'],
    keySpecs: [{ ...keyNumKeys(['RW', 'ACCESS', 'UPDATE'], 2, 0, 1, 1), notes: keysNote }], categories, group, since: '2.6.0',
    summary: 'Execute a Lua script server side', complexity: 'Depends on the script that is executed.',
    arguments: evalArguments, getKeys: numkeysGetKeys(2, false), runsScript: true, handler: (c) => evalBody(c, false) }),
  defineCommand({ name: 'evalsha', arity: -3, flags: ['noscript', 'skip_monitor', 'may_replicate', 'no_mandatory_keys', 'stale'],
    keySpecs: [keyNumKeys(['RW', 'ACCESS', 'UPDATE'], 2, 0, 1, 1)], categories, group, since: '2.6.0',
    summary: 'Execute a Lua script server side', complexity: 'Depends on the script that is executed.',
    arguments: shaArguments, getKeys: numkeysGetKeys(2, false), runsScript: true, handler: (c) => evalSha(c, false) }),
  defineCommand({ name: 'eval_ro', arity: -3, flags: ['readonly', 'noscript', 'skip_monitor', 'no_mandatory_keys', 'stale'],
    keySpecs: [{ ...keyNumKeys(['RO', 'ACCESS'], 2, 0, 1, 1), notes: 'We cannot tell how the keys will be used so we assume the worst, RO and ACCESS' }],
    categories, group, since: '7.0.0', summary: 'Execute a read-only Lua script server side',
    complexity: 'Depends on the script that is executed.', arguments: evalArguments, getKeys: numkeysGetKeys(2, false),
    runsScript: true, handler: (c) => evalBody(c, true) }),
  defineCommand({ name: 'evalsha_ro', arity: -3, flags: ['readonly', 'noscript', 'skip_monitor', 'no_mandatory_keys', 'stale'],
    keySpecs: [keyNumKeys(['RO', 'ACCESS'], 2, 0, 1, 1)], categories, group, since: '7.0.0',
    summary: 'Execute a read-only Lua script server side', complexity: 'Depends on the script that is executed.',
    arguments: shaArguments, getKeys: numkeysGetKeys(2, false), runsScript: true, handler: (c) => evalSha(c, true) }),
  defineCommand({ name: 'script', arity: -2, categories: [], group, since: '2.6.0',
    summary: 'A container for Lua scripts management commands', complexity: 'Depends on subcommand.',
    subcommands: [
      defineCommand({ name: 'exists', arity: -3, flags: ['noscript'], categories, group, since: '2.6.0',
        tips: ['request_policy:all_shards', 'response_policy:agg_logical_and'],
        summary: 'Check existence of scripts in the script cache.', complexity: 'O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).',
        arguments: [arg('sha1', 'string', { multiple: true })], runsScript: true, handler: scriptExists }),
      defineCommand({ name: 'flush', arity: -2, flags: ['noscript'], categories, group, since: '2.6.0',
        tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'],
        summary: 'Remove all the scripts from the script cache.', complexity: 'O(N) with N being the number of scripts in cache',
        history: [['6.2.0', 'Added the `ASYNC` and `SYNC` flushing mode modifiers.']],
        arguments: [{ name: 'flush-type', type: 'oneof', flags: ['optional'], since: '6.2.0', arguments: [
          { name: 'async', type: 'pure-token', token: 'ASYNC' }, { name: 'sync', type: 'pure-token', token: 'SYNC' }] }],
        runsScript: true, handler: scriptFlush }),
      defineCommand({ name: 'help', arity: 2, flags: ['loading', 'stale'], categories, group, since: '5.0.0',
        summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', handler: scriptHelp }),
      defineCommand({ name: 'kill', arity: 2, flags: ['noscript', 'allow_busy'], categories, group, since: '2.6.0',
        tips: ['request_policy:all_shards', 'response_policy:one_succeeded'],
        summary: 'Kill the script currently in execution.', complexity: 'O(1)', handler: scriptKill }),
      defineCommand({ name: 'load', arity: 3, flags: ['noscript', 'stale'], categories, group, since: '2.6.0',
        tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'],
        summary: 'Load the specified Lua script into the script cache.', complexity: 'O(N) with N being the length in bytes of the script body.',
        arguments: [arg('script', 'string')], runsScript: true, handler: scriptLoad }),
    ] }),
];
