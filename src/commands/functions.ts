/**
 * FCALL, FCALL_RO and FUNCTION (Redis 7.0's functions.c): the commands parse
 * and reply; the thread's FunctionEngine (scripting/function-engine.ts)
 * holds the libraries, and the ScriptRunner runs a function as it runs a
 * script, with every shard locked. FUNCTION LOAD, DELETE and FLUSH are
 * write commands: they reach replicas verbatim, as Redis sends them.
 * FUNCTION LIST lists libraries in load order (Redis lists them in its
 * dictionary's order, which it does not define).
 */
import type { CommandContext } from './context.js';
import { arg, defineCommand, keyArg, keyNumKeys, numkeysGetKeys, type CommandSpec } from './command-spec.js';
import { replyHelp } from './help-reply.js';
import { subcommandSyntax } from './errors.js';
import { flushModeValid, numkeys, runner } from './scripting.js';
import { globMatch } from './glob.js';
import { FLAG_NAMES } from '../scripting/script-flags.js';
import { createDumpPayload, verifyDumpPayload } from '../rdb/dump-payload.js';
import { encodeString, RdbReader } from '../rdb/rdb-strings.js';
import { RdbFormatError } from '../rdb/rdb-errors.js';
import { ScriptKind } from '../scripting/busy-script.js';

const group = 'scripting';
const categories = ['slow', 'scripting'];
const FLUSH_OPTION = 'FUNCTION FLUSH only supports SYNC|ASYNC option';
const BAD_NUMKEYS = 'Bad number of keys provided';

function fcall(c: CommandContext, readOnly: boolean): void {
  const n = numkeys(c, BAD_NUMKEYS);
  if (n === null) return;
  if (!runner(c).runFunction(c, c.argLatin1(1), n, readOnly)) c.out.error('Function not found');
}

function functionLoad(c: CommandContext): void {
  // Options, then the code last (arity -3: there is always one).
  let replace = false;
  for (let i = 2; i < c.argc - 1; i++) {
    if (c.argIs(i, 'replace')) replace = true;
    else {
      c.out.error(`Unknown option given: ${c.argLatin1(i)}`);
      return;
    }
  }
  const result = runner(c).functions.load(c.argCopy(c.argc - 1), replace);
  if ('error' in result) {
    c.out.error(result.error);
    return;
  }
  c.dirty++;
  c.out.bulkString(result.name);
}

function functionDelete(c: CommandContext): void {
  if (!runner(c).functions.delete(c.argLatin1(2))) {
    c.out.error('Library not found');
    return;
  }
  c.dirty++;
  c.out.ok();
}

function functionFlush(c: CommandContext): void {
  if (!flushModeValid(c)) {
    c.out.error(FLUSH_OPTION);
    return;
  }
  runner(c).functions.flush();
  c.dirty++;
  c.out.ok();
}

function functionList(c: CommandContext): void {
  let pattern: Buffer | null = null;
  let withCode = false;
  for (let i = 2; i < c.argc; i++) {
    if (c.argIs(i, 'withcode') && !withCode) {
      withCode = true;
    } else if (c.argIs(i, 'libraryname') && pattern === null && i + 1 < c.argc) {
      pattern = c.argCopy(++i);
    } else {
      c.out.error(`Unknown argument ${c.argLatin1(i)}`);
      return;
    }
  }
  const engine = runner(c).functions;
  engine.current();
  const libraries = engine.libraries.filter((l) => pattern === null || globMatch(pattern, 0, pattern.length, Buffer.from(l.name), 0, l.name.length));
  const out = c.out;
  out.arrayHeader(libraries.length);
  for (const library of libraries) {
    out.mapHeader(withCode ? 4 : 3);
    out.bulkString('library_name');
    out.bulkString(library.name);
    out.bulkString('engine');
    out.bulkString('LUA');
    out.bulkString('functions');
    out.arrayHeader(library.functions.length);
    for (const f of library.functions) {
      out.mapHeader(3);
      out.bulkString('name');
      out.bulkString(f.name);
      out.bulkString('description');
      if (f.description === null) out.nullBulk();
      else out.bulkString(f.description);
      out.bulkString('flags');
      const flags = FLAG_NAMES.filter(([, flag]) => (f.flags & flag) !== 0);
      out.setHeader(flags.length);
      for (const [name] of flags) out.simple(name);
    }
    if (withCode) {
      out.bulkString('library_code');
      out.bulkBytes(library.code, 0, library.code.length);
    }
  }
}

/** RDB_OPCODE_FUNCTION2: a library's code follows, as an RDB string. */
const RDB_OPCODE_FUNCTION2 = 245;
/** RDB_OPCODE_FUNCTION: the format of Redis 7.0's release candidates. */
const RDB_OPCODE_FUNCTION_PRE_GA = 246;
const BAD_PAYLOAD = 'DUMP payload version or checksum are wrong';
const BAD_POLICY = 'Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.';

/** FUNCTION DUMP: every library, as Redis serialises them (an RDB payload with version and CRC-64). */
function functionDump(c: CommandContext): void {
  const parts: Buffer[] = [];
  for (const code of runner(c).functions.codes()) parts.push(Buffer.from([RDB_OPCODE_FUNCTION2]), encodeString(code));
  const payload = createDumpPayload(Buffer.concat(parts));
  c.out.bulkBytes(payload, 0, payload.length);
}

function functionRestore(c: CommandContext): void {
  let policy: 'flush' | 'append' | 'replace' = 'append';
  if (c.argc > 4) {
    c.out.error(subcommandSyntax(c.argLatin1(1), 'function'));
    return;
  }
  if (c.argc === 4) {
    if (c.argIs(3, 'flush')) policy = 'flush';
    else if (c.argIs(3, 'append')) policy = 'append';
    else if (c.argIs(3, 'replace')) policy = 'replace';
    else {
      c.out.error(BAD_POLICY);
      return;
    }
  }
  const body = verifyDumpPayload(c.argCopy(2));
  if (body === null) {
    c.out.error(BAD_PAYLOAD);
    return;
  }
  const codes: Buffer[] = [];
  const reader = new RdbReader(body);
  try {
    while (!reader.done) {
      const type = reader.byte();
      if (type === RDB_OPCODE_FUNCTION_PRE_GA) {
        c.out.error('Pre-GA function format not supported');
        return;
      }
      if (type !== RDB_OPCODE_FUNCTION2) {
        c.out.error('given type is not a function');
        return;
      }
      codes.push(reader.string());
    }
  } catch (err) {
    if (!(err instanceof RdbFormatError)) throw err;
    c.out.error('failed loading library code');
    return;
  }
  const error = runner(c).functions.restore(codes, policy);
  if (error !== null) {
    c.out.error(error);
    return;
  }
  c.dirty++;
  c.out.ok();
}

function functionKill(c: CommandContext): void {
  const refused = c.server.scripting.busy.kill(ScriptKind.Function);
  if (refused !== null) c.out.error(refused);
  else c.out.ok();
}

function functionStats(c: CommandContext): void {
  // Redis answers BUSY while an EVAL script runs (functionStatsCommand).
  const evalRunning = c.server.scripting.busy.runningEval();
  if (evalRunning !== null) {
    c.out.error(evalRunning);
    return;
  }
  const engine = runner(c).functions;
  engine.current();
  const out = c.out;
  out.mapHeader(2);
  out.bulkString('running_script');
  const running = c.server.scripting.busy.runningFunction();
  if (running === null) {
    out.nullBulk();
  } else {
    out.mapHeader(3);
    out.bulkString('name');
    out.bulkBytes(running.name, 0, running.name.length);
    out.bulkString('command');
    out.arrayHeader(running.command.length);
    for (const arg of running.command) out.bulkBytes(arg, 0, arg.length);
    out.bulkString('duration_ms');
    out.integer(running.durationMs);
  }
  out.bulkString('engines');
  out.mapHeader(1);
  out.bulkString('LUA');
  out.mapHeader(2);
  out.bulkString('libraries_count');
  out.integer(engine.libraries.length);
  out.bulkString('functions_count');
  out.integer(engine.libraries.reduce((n, l) => n + l.functions.length, 0));
}

function functionHelp(c: CommandContext): void {
  replyHelp(c, [
    'FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
    'LOAD [REPLACE] <FUNCTION CODE>',
    '    Create a new library with the given library name and code.',
    'DELETE <LIBRARY NAME>',
    '    Delete the given library.',
    'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
    '    Return general information on all the libraries:',
    '    * Library name',
    '    * The engine used to run the Library',
    '    * Library description',
    '    * Functions list',
    '    * Library code (if WITHCODE is given)',
    '    It also possible to get only function that matches a pattern using LIBRARYNAME argument.',
    'STATS',
    '    Return information about the current function running:',
    '    * Function name',
    '    * Command used to run the function',
    '    * Duration in MS that the function is running',
    '    If no function is running, return nil',
    '    In addition, returns a list of available engines.',
    'KILL',
    '    Kill the current running function.',
    'FLUSH [ASYNC|SYNC]',
    '    Delete all the libraries.',
    '    When called without the optional mode argument, the behavior is determined by the',
    '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
    '    * ASYNC: Asynchronously flush the libraries.',
    '    * SYNC: Synchronously flush the libraries.',
    'DUMP',
    '    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command',
    'RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]',
    '    Restore the libraries represented by the given payload, it is possible to give a restore policy to',
    '    control how to handle existing libraries (default APPEND):',
    '    * FLUSH: delete all existing libraries.',
    '    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.',
    '    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old',
    '      libraries with the new libraries (notice that even on this option there is a chance of failure',
    '      in case of functions name collision with another library).',
    'HELP',
    '    Prints this help.',
  ]);
}

const fcallArguments = [arg('function', 'string'), arg('numkeys', 'integer'), keyArg('key', 0, { optional: true, multiple: true }),
  arg('arg', 'string', { optional: true, multiple: true })];
const keysNote = 'We cannot tell how the keys will be used so we assume the worst, RW and UPDATE';

export const functionCommands: CommandSpec[] = [
  defineCommand({ name: 'fcall', arity: -3, flags: ['noscript', 'skip_monitor', 'may_replicate', 'no_mandatory_keys', 'stale'],
    keySpecs: [{ ...keyNumKeys(['RW', 'ACCESS', 'UPDATE'], 2, 0, 1, 1), notes: keysNote }], categories, group, since: '7.0.0',
    summary: 'Invoke a function', complexity: 'Depends on the function that is executed.', arguments: fcallArguments,
    getKeys: numkeysGetKeys(2, false), runsScript: true, handler: (c) => fcall(c, false) }),
  defineCommand({ name: 'fcall_ro', arity: -3, flags: ['readonly', 'noscript', 'skip_monitor', 'no_mandatory_keys', 'stale'],
    keySpecs: [{ ...keyNumKeys(['RO', 'ACCESS'], 2, 0, 1, 1), notes: 'We cannot tell how the keys will be used so we assume the worst, RO and ACCESS' }],
    categories, group, since: '7.0.0', summary: 'Invoke a read-only function', complexity: 'Depends on the function that is executed.',
    arguments: fcallArguments, getKeys: numkeysGetKeys(2, false), runsScript: true, handler: (c) => fcall(c, true) }),
  defineCommand({ name: 'function', arity: -2, categories: [], group, since: '7.0.0',
    summary: 'A container for function commands', complexity: 'Depends on subcommand.',
    subcommands: [
      defineCommand({ name: 'delete', arity: 3, flags: ['noscript', 'write'], categories: ['write', 'slow', 'scripting'], group,
        since: '7.0.0', tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], summary: 'Delete a function by name',
        complexity: 'O(1)', arguments: [arg('library-name', 'string')], runsScript: true, handler: functionDelete }),
      defineCommand({ name: 'dump', arity: 2, flags: ['noscript'], categories, group, since: '7.0.0',
        summary: 'Dump all functions into a serialized binary payload', complexity: 'O(N) where N is the number of functions',
        runsScript: true, handler: functionDump }),
      defineCommand({ name: 'flush', arity: -2, flags: ['noscript', 'write'], categories: ['write', 'slow', 'scripting'], group,
        since: '7.0.0', tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], summary: 'Deleting all functions',
        complexity: 'O(N) where N is the number of functions deleted',
        arguments: [{ name: 'flush-type', type: 'oneof', flags: ['optional'], arguments: [
          { name: 'async', type: 'pure-token', token: 'ASYNC' }, { name: 'sync', type: 'pure-token', token: 'SYNC' }] }],
        runsScript: true, handler: functionFlush }),
      defineCommand({ name: 'help', arity: 2, flags: ['loading', 'stale'], categories, group, since: '7.0.0',
        summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', handler: functionHelp }),
      defineCommand({ name: 'kill', arity: 2, flags: ['noscript', 'allow_busy'], categories, group, since: '7.0.0',
        tips: ['request_policy:all_shards', 'response_policy:one_succeeded'],
        summary: 'Kill the function currently in execution.', complexity: 'O(1)', handler: functionKill }),
      defineCommand({ name: 'list', arity: -2, flags: ['noscript'], categories, group, since: '7.0.0',
        tips: ['nondeterministic_output_order'], summary: 'List information about all the functions',
        complexity: 'O(N) where N is the number of functions',
        arguments: [arg('library-name-pattern', 'string', { token: 'LIBRARYNAME', optional: true }),
          { name: 'withcode', type: 'pure-token', token: 'WITHCODE', flags: ['optional'] }], runsScript: true, handler: functionList }),
      defineCommand({ name: 'load', arity: -3, flags: ['noscript', 'write', 'denyoom'], categories: ['write', 'slow', 'scripting'], group,
        since: '7.0.0', tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], summary: 'Create a function with the given arguments (name, code, description)',
        complexity: 'O(1) (considering compilation time is redundant)',
        arguments: [{ name: 'replace', type: 'pure-token', token: 'REPLACE', flags: ['optional'] }, arg('function-code', 'string')],
        runsScript: true, handler: functionLoad }),
      defineCommand({ name: 'restore', arity: -3, flags: ['noscript', 'write', 'denyoom'], categories: ['write', 'slow', 'scripting'],
        group, since: '7.0.0', tips: ['request_policy:all_shards', 'response_policy:all_succeeded'],
        summary: 'Restore all the functions on the given payload', complexity: 'O(N) where N is the number of functions on the payload',
        arguments: [arg('serialized-value', 'string'), { name: 'policy', type: 'oneof', flags: ['optional'], arguments: [
          { name: 'flush', type: 'pure-token', token: 'FLUSH' }, { name: 'append', type: 'pure-token', token: 'APPEND' },
          { name: 'replace', type: 'pure-token', token: 'REPLACE' }] }],
        runsScript: true, handler: functionRestore }),
      defineCommand({ name: 'stats', arity: 2, flags: ['noscript', 'allow_busy'], categories, group, since: '7.0.0',
        tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'],
        summary: 'Return information about the function currently running (name, description, duration)', complexity: 'O(1)',
        runsScript: true, handler: functionStats }),
    ] }),
];
