/**
 * Server commands (Redis's server.c, config.c, db.c, debug.c): INFO,
 * CONFIG, DBSIZE, TIME, FLUSHALL/FLUSHDB, SWAPDB, SHUTDOWN, MEMORY, DEBUG.
 */
import { arg, block, defineCommand, keyArg, oneOf, tokenArg, type CommandSpec, type ReplyFunction } from './command-spec.js';
import type { CommandContext } from './context.js';
import { DB_RANGE, NOT_INTEGER, SYNTAX } from './errors.js';
import { replyHelp } from './help-reply.js';
import { E_ENCODING, E_TYPE, ValueType } from '../store/layout.js';
import { externalBytes } from '../store/collections.js';
import { signalFlushed } from './watched-keys.js';

/** MEMORY USAGE's default sample of a collection's elements (OBJ_COMPUTE_SIZE_DEF_SAMPLES); 0 means all. */
const MEMORY_USAGE_SAMPLES = 5;

const group = 'server';

/** INFO: answered at once unless the replication section is wanted (a script can call INFO server, say). */
function info(c: CommandContext): void | Promise<(c: CommandContext) => void> {
  const sections: string[] = [];
  for (let i = 1; i < c.argc; i++) sections.push(c.argString(i).toLowerCase());
  const text = c.server.info(sections, c.client);
  if (typeof text === 'string') {
    c.out.verbatim(text);
    return;
  }
  return text.then((t) => (cc: CommandContext) => cc.out.verbatim(t));
}

/**
 * CONFIG GET: a name without glob characters is looked up directly and
 * echoed as the client typed it (Redis adds the argument itself to its
 * reply dict); patterns list the matching names. A config appears once.
 */
function configGet(c: CommandContext): void {
  const seen = new Set<string>();
  const pairs: [string, string][] = [];
  for (let i = 2; i < c.argc; i++) {
    const arg = c.argString(i);
    const exact = !/[[*?]/.test(arg);
    for (const [k, v] of c.server.configMatch(arg)) {
      if (!seen.has(k)) {
        seen.add(k);
        pairs.push([exact ? arg : k, v]);
      }
    }
  }
  c.out.mapHeader(pairs.length);
  for (const [k, v] of pairs) {
    c.out.bulkString(k);
    c.out.bulkString(v);
  }
}

function configSet(c: CommandContext): void {
  // An odd number of name/value arguments is a syntax error in Redis (arity covers the short forms).
  if ((c.argc - 2) % 2 !== 0) {
    c.out.error(SYNTAX);
    return;
  }
  const pairs: [string, string][] = [];
  const names = new Set<string>();
  for (let i = 2; i < c.argc; i += 2) {
    const name = c.argString(i).toLowerCase();
    if (names.has(name)) {
      c.out.error(`CONFIG SET failed (possibly related to argument '${c.argLatin1(i)}') - duplicate parameter`);
      return;
    }
    names.add(name);
    pairs.push([c.argString(i), c.argString(i + 1)]);
  }
  const err = c.server.configSet(pairs);
  if (err) c.out.error(err);
  else c.out.ok();
}

function configResetstat(c: CommandContext): void {
  c.server.resetStats();
  c.out.ok();
}

function configRewrite(c: CommandContext): void {
  const err = c.server.configRewrite();
  if (err) c.out.error(err);
  else c.out.ok();
}

const CONFIG_HELP = [
  'CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>',
  '    Set the configuration <directive> to <value>.',
  'RESETSTAT',
  '    Reset statistics reported by the INFO command.',
  'REWRITE',
  '    Rewrite the configuration file.',
  'HELP',
  '    Prints this help.',
];


/**
 * monitorCommand: from now on this connection is shown every command the
 * node runs (monitor-feed.ts). A replica connection, or a client already
 * monitoring, gets no reply, as in Redis.
 */
function monitor(c: CommandContext): void {
  if (c.client.isReplica || c.client.monitor === true) return;
  if (c.server.startMonitor(c.client)) c.out.ok();
}
function dbsize(c: CommandContext): void {
  c.out.integer(c.ks.keyCount(c.client.db));
}

function time(c: CommandContext): void {
  const micros = BigInt(Math.floor(performance.timeOrigin * 1000 + performance.now() * 1000));
  c.out.arrayHeader(2);
  c.out.bulkString(String(micros / 1000000n));
  c.out.bulkString(String(micros % 1000000n));
}

/** FLUSHALL / FLUSHDB [ASYNC|SYNC]: both run synchronously (an empty arena is O(1)). */
function flushOption(c: CommandContext): boolean {
  if (c.argc > 2 || (c.argc === 2 && !c.argIs(1, 'async') && !c.argIs(1, 'sync'))) {
    c.out.error(SYNTAX);
    return false;
  }
  return true;
}

function flushall(c: CommandContext): void {
  if (!flushOption(c)) return;
  c.lockAllShards();
  signalFlushed(c.ks, c.server.watches, -1, -1, c.now);
  if (c.server.tracking.active) c.server.tracking.flushed(c);
  for (const s of c.ks.shards) s.flushAll();
  // The dispatcher unlocks, after the flush is in the replication stream.
  c.dirty++;
  c.out.ok();
}

function flushdb(c: CommandContext): void {
  if (!flushOption(c)) return;
  c.lockAllShards();
  const db = c.ks.dbMap[c.client.db];
  signalFlushed(c.ks, c.server.watches, db, -1, c.now);
  // signalFlushedDb: any flush tells every tracking client, whatever database it read.
  if (c.server.tracking.active) c.server.tracking.flushed(c);
  for (const s of c.ks.shards) s.flushDb(db);
  c.dirty++;
  c.out.ok();
}

function swapdb(c: CommandContext): void {
  if (c.server.cluster !== null) {
    c.out.error('SWAPDB is not allowed in cluster mode');
    return;
  }
  // getIntFromObjectOrReply with a message: also for integers beyond a C int.
  const a = c.argInt(1);
  const b = c.argInt(2);
  if (a === null || a < -2147483648 || a > 2147483647) {
    c.out.error('invalid first DB index');
    return;
  }
  if (b === null || b < -2147483648 || b > 2147483647) {
    c.out.error('invalid second DB index');
    return;
  }
  if (a < 0 || a >= c.ks.databases || b < 0 || b >= c.ks.databases) {
    c.out.error(DB_RANGE);
    return;
  }
  // Under every shard lock, so that the swap takes its place in the replication stream.
  c.lockAllShards();
  if (a !== b) {
    signalFlushed(c.ks, c.server.watches, c.ks.dbMap[a], c.ks.dbMap[b], c.now);
    c.ks.swapDatabasesLocked(a, b);
  }
  c.dirty++;
  c.out.ok();
}

function shutdown(c: CommandContext): Promise<(c: CommandContext) => void> | void {
  let save = false;
  let nosave = false;
  let otherFlags = false;
  let abort = false;
  for (let i = 1; i < c.argc; i++) {
    if (c.argIs(i, 'nosave')) nosave = true;
    else if (c.argIs(i, 'save')) save = true;
    else if (c.argIs(i, 'now') || c.argIs(i, 'force')) otherFlags = true;
    else if (c.argIs(i, 'abort')) abort = true;
    else {
      c.out.error(SYNTAX);
      return;
    }
  }
  // shutdownCommand's illegal combinations: ABORT with anything, SAVE with NOSAVE.
  if ((abort && (save || nosave || otherFlags)) || (save && nosave)) {
    c.out.error(SYNTAX);
    return;
  }
  const mode = nosave ? 'nosave' : save ? 'save' : 'default';
  if (abort) {
    c.out.error('No shutdown in progress.');
    return;
  }
  return c.server.shutdown(mode, abort).then((err) => (cc: CommandContext) => {
    if (err) cc.out.error(err);
  });
}

/** MEMORY USAGE key [SAMPLES n]: the bytes of the entry's block plus its share of the slot table. */
function memoryUsage(c: CommandContext): void {
  let samples = MEMORY_USAGE_SAMPLES;
  if (c.argc === 5) {
    if (!c.argIs(3, 'samples')) {
      c.out.error(SYNTAX);
      return;
    }
    const n = c.argInt(4);
    if (n === null) {
      c.out.error(NOT_INTEGER);
      return;
    }
    if (n < 0) {
      c.out.error(SYNTAX);
      return;
    }
    samples = n;
  } else if (c.argc !== 3) {
    c.out.error(SYNTAX);
    return;
  }
  c.openKey(2);
  const e = c.findQuiet();
  if (e === 0) {
    c.out.nullBulk();
    return;
  }
  // The entry block (header, key, value or a collection's header), the bucket pointer that leads to it,
  // and a collection's outside blocks.
  const s = c.shard;
  const type = s.u8[e + E_TYPE];
  const outside = type === ValueType.String ? 0 : externalBytes(s, type, s.u8[e + E_ENCODING], s.collectionStart(e), samples);
  c.out.integer(s.blockSize(e) + 4 + outside);
}

function memoryStats(c: CommandContext): void {
  const dataset = c.ks.liveBytes();
  const keys = c.ks.shards.reduce((n, s) => n + s.keyCount, 0);
  const pairs: [string, number][] = [
    ['dataset.bytes', dataset],
    ['keys.count', keys],
    ['keys.bytes-per-key', keys ? Math.floor(dataset / keys) : 0],
    ['allocator.allocated', c.ks.arenaBytes()],
    ['allocator.reserved', c.ks.reservedBytes()],
    // weft's own: each worker thread's V8 heap, which the dataset must not grow.
    ...c.server.threadHeaps().map((bytes, i): [string, number] => [`thread.${i}.heap.used`, bytes]),
  ];
  c.out.mapHeader(pairs.length);
  for (const [k, v] of pairs) {
    c.out.bulkString(k);
    c.out.integer(v);
  }
}

const MEMORY_HELP = [
  'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'PURGE',
  '    Attempt to purge dirty pages for reclamation by the allocator.',
  'STATS',
  '    Return information about the memory usage of the server.',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
  'HELP',
  '    Prints this help.',
];

/**
 * MEMORY PURGE: Redis asks jemalloc to return dirty pages; weft's allocator
 * is V8's, so every worker thread collects its garbage (what a stalled
 * client's output or a burst of commands left behind).
 */
function memoryPurge(c: CommandContext): Promise<ReplyFunction> {
  return c.server.collectGarbage().then(() => (r: CommandContext) => r.out.ok());
}

/** Redis 7 protects DEBUG behind enable-debug-command (no, yes, or local: loopback clients only). */
function debugAllowed(c: CommandContext): boolean {
  const mode = c.server.configGet('enable-debug-command');
  if (mode === 'yes') return true;
  const address = c.client.address;
  return mode === 'local' && (address.startsWith('127.') || address.startsWith('::1') || address.startsWith('[::1]'));
}

function debug(c: CommandContext): void {
  if (!debugAllowed(c)) {
    c.out.error('DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.');
    return;
  }
  if (c.argIs(1, 'sleep') && c.argc === 3) {
    // strtod, as Redis reads it: text that is not a number sleeps 0 s.
    const parsed = parseFloat(c.argLatin1(2));
    const seconds = Number.isFinite(parsed) && parsed > 0 ? parsed : 0;
    // Like Redis, DEBUG SLEEP blocks the thread that runs it.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
    c.out.ok();
  } else if (c.argIs(1, 'set-active-expire') && c.argc === 3) {
    const v = c.argInt(2);
    if (v === null) {
      c.out.error(NOT_INTEGER);
      return;
    }
    c.server.setActiveExpire(v !== 0);
    c.out.ok();
  } else if (c.argIs(1, 'help')) {
    replyHelp(c, [
      'DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
      'SET-ACTIVE-EXPIRE <0|1>',
      '    Setting it to 0 disables expiring keys in background when they are not',
      '    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the',
      '    default.',
      'SLEEP <seconds>',
      '    Stop the server for <seconds>. Decimals allowed.',
      'HELP',
      '    Prints this help.',
    ]);
  } else {
    c.out.error(`Unknown subcommand or wrong number of arguments for '${c.argLatin1(1)}'. Try DEBUG HELP.`);
  }
}

/** FLUSHALL / FLUSHDB's optional mode argument. */
const flushMode = () => oneOf('async', [tokenArg('async', 'ASYNC', { since: '4.0.0' }), tokenArg('sync', 'SYNC', { since: '6.2.0' })],
  { optional: true });

export const serverCommands: CommandSpec[] = [
  defineCommand({ name: 'info', arity: -1, flags: ['loading', 'stale'], categories: ['dangerous'],
    tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'], group,
    summary: 'Get information and statistics about the server', complexity: 'O(1)',
    history: [['7.0.0', 'Added support for taking multiple section arguments.']],
    arguments: [arg('section', 'string', { optional: true, multiple: true })], handler: info }),
  defineCommand({ name: 'config', arity: -2, categories: [], group, since: '2.0.0',
    summary: 'A container for server configuration commands', complexity: 'Depends on subcommand.',
    subcommands: [
      defineCommand({ name: 'get', arity: -3, flags: ['admin', 'noscript', 'loading', 'stale'], group,
        since: '2.0.0', summary: 'Get the values of configuration parameters',
        complexity: 'O(N) when N is the number of configuration parameters provided',
        history: [['7.0.0', 'Added the ability to pass multiple pattern parameters in one call']],
        arguments: [block('parameter', [arg('parameter', 'string')], { multiple: true })], handler: configGet }),
      defineCommand({ name: 'set', arity: -4, flags: ['admin', 'noscript', 'loading', 'stale'],
        tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], group, since: '2.0.0',
        summary: 'Set configuration parameters to the given values',
        complexity: 'O(N) when N is the number of configuration parameters provided',
        history: [['7.0.0', 'Added the ability to set multiple parameters in one call.']],
        arguments: [block('parameter_value', [arg('parameter', 'string'), arg('value', 'string')], { multiple: true })], handler: configSet }),
      defineCommand({ name: 'resetstat', arity: 2, flags: ['admin', 'noscript', 'loading', 'stale'], group,
        since: '2.0.0', summary: 'Reset the stats returned by INFO', complexity: 'O(1)', handler: configResetstat }),
      defineCommand({ name: 'rewrite', arity: 2, flags: ['admin', 'noscript', 'loading', 'stale'], group,
        since: '2.8.0', summary: 'Rewrite the configuration file with the in memory configuration', complexity: 'O(1)', handler: configRewrite }),
      defineCommand({ name: 'help', arity: 2, flags: ['loading', 'stale'], group, since: '5.0.0',
        summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', handler: (c) => replyHelp(c, CONFIG_HELP) }),
    ] }),
  defineCommand({ name: 'monitor', arity: 1, flags: ['admin', 'noscript', 'loading', 'stale'], group,
    summary: 'Listen for all requests received by the server in real time', handler: monitor }),
  defineCommand({ name: 'dbsize', arity: 1, flags: ['readonly', 'fast'], categories: ['keyspace'],
    tips: ['request_policy:all_shards', 'response_policy:agg_sum'], group,
    summary: 'Return the number of keys in the selected database', complexity: 'O(1)', handler: dbsize }),
  defineCommand({ name: 'time', arity: 1, flags: ['loading', 'stale', 'fast'], tips: ['nondeterministic_output'],
    group, since: '2.6.0', summary: 'Return the current server time', complexity: 'O(1)', handler: time }),
  defineCommand({ name: 'flushall', arity: -1, flags: ['write'], categories: ['keyspace', 'dangerous'],
    tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], group, summary: 'Remove all keys from all databases',
    complexity: 'O(N) where N is the total number of keys in all databases',
    history: [['4.0.0', 'Added the `ASYNC` flushing mode modifier.'], ['6.2.0', 'Added the `SYNC` flushing mode modifier.']],
    arguments: [flushMode()], handler: flushall }),
  defineCommand({ name: 'flushdb', arity: -1, flags: ['write'], categories: ['keyspace', 'dangerous'],
    tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], group,
    summary: 'Remove all keys from the current database',
    complexity: 'O(N) where N is the number of keys in the selected database',
    history: [['4.0.0', 'Added the `ASYNC` flushing mode modifier.'], ['6.2.0', 'Added the `SYNC` flushing mode modifier.']],
    arguments: [flushMode()], handler: flushdb }),
  defineCommand({ name: 'swapdb', arity: 3, flags: ['write', 'fast'], categories: ['keyspace', 'dangerous'], group,
    since: '4.0.0', summary: 'Swaps two Redis databases',
    complexity: 'O(N) where N is the count of clients watching or blocking on keys from both databases.',
    arguments: [arg('index1', 'integer'), arg('index2', 'integer')], handler: swapdb }),
  defineCommand({ name: 'shutdown', arity: -1, flags: ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'], group,
    summary: 'Synchronously save the dataset to disk and then shut down the server',
    complexity: 'O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)',
    history: [['7.0.0', 'Added the `NOW`, `FORCE` and `ABORT` modifiers.']],
    arguments: [oneOf('nosave_save', [tokenArg('nosave', 'NOSAVE'), tokenArg('save', 'SAVE')], { optional: true }),
      tokenArg('now', 'NOW', { optional: true, since: '7.0.0' }), tokenArg('force', 'FORCE', { optional: true, since: '7.0.0' }),
      tokenArg('abort', 'ABORT', { optional: true, since: '7.0.0' })], handler: shutdown }),
  defineCommand({ name: 'memory', arity: -2, categories: [], group, since: '4.0.0',
    summary: 'A container for memory diagnostics commands', complexity: 'Depends on subcommand.',
    subcommands: [
      defineCommand({ name: 'usage', arity: -3, flags: ['readonly'], keys: [2, 2, 1], keyFlags: ['RO'], group,
        since: '4.0.0', summary: 'Estimate the memory usage of a key', complexity: 'O(N) where N is the number of samples.',
        arguments: [keyArg('key', 0), arg('count', 'integer', { token: 'SAMPLES', optional: true })], handler: memoryUsage }),
      defineCommand({ name: 'stats', arity: 2,
        tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'], group, since: '4.0.0',
        summary: 'Show memory usage details', complexity: 'O(1)', handler: memoryStats }),
      defineCommand({ name: 'purge', arity: 2, tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], group,
        since: '4.0.0', summary: 'Ask the allocator to release memory', complexity: 'Depends on how much memory is allocated, could be slow',
        handler: memoryPurge }),
      defineCommand({ name: 'help', arity: 2, flags: ['loading', 'stale'], group, since: '4.0.0',
        summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', handler: (c) => replyHelp(c, MEMORY_HELP) }),
    ] }),
  defineCommand({ name: 'debug', arity: -2, flags: ['admin', 'noscript', 'loading', 'stale'], group,
    summary: 'A container for debugging commands', complexity: 'Depends on subcommand.', docFlags: ['syscmd'], handler: debug }),
];
