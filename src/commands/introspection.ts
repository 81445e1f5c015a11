/**
 * The COMMAND container (Redis's server.c commandCommand and friends): every
 * reply is generated from the CommandSpec table, in the shapes Redis 7.0
 * sends. Where Redis walks its command dict (whose order depends on a random
 * hash seed), weft walks the table in declaration order.
 */
import {
  arg, defineCommand, oneOf, type CommandArgDoc, type CommandFlag, type CommandSpec, type KeyRef, type KeySpec, type KeySpecFlag,
} from './command-spec.js';
import { commandTable } from './command-table.js';
import { CommandContext } from './context.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { SYNTAX } from './errors.js';
import { globMatch } from './glob.js';
import { replyHelp } from './help-reply.js';

const group = 'server';

/** ACL categories in the order of Redis's ACLCommandCategories table, which orders COMMAND INFO's set. */
const ACL_CATEGORIES = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo', 'stream',
  'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting',
];

/** Command flags in addReplyFlagsForCommand's order; may_replicate is hidden on purpose there too. */
const COMMAND_FLAGS: CommandFlag[] = [
  'write', 'readonly', 'denyoom', 'module', 'admin', 'pubsub', 'noscript', 'blocking', 'loading', 'stale', 'skip_monitor',
  'skip_slowlog', 'asking', 'fast', 'no_auth', 'no_mandatory_keys', 'no_async_loading', 'no_multi', 'movablekeys', 'allow_busy',
];

/** Key-spec flags in addReplyFlagsForKeyArgs's order, with the names it prints. */
const KEY_FLAGS: [KeySpecFlag, string][] = [
  ['RO', 'RO'], ['RW', 'RW'], ['OW', 'OW'], ['RM', 'RM'], ['ACCESS', 'access'], ['UPDATE', 'update'], ['INSERT', 'insert'],
  ['DELETE', 'delete'], ['NOT_KEY', 'not_key'], ['INCOMPLETE', 'incomplete'], ['VARIABLE_FLAGS', 'variable_flags'],
];

const ARG_FLAGS = ['optional', 'multiple', 'multiple_token'];

function statusSet(out: ReplyWriter, items: string[]): void {
  out.setHeader(items.length);
  for (const s of items) out.simple(s);
}

function orderedCategories(spec: CommandSpec): string[] {
  const rank = (c: string) => {
    const i = ACL_CATEGORIES.indexOf(c);
    return i < 0 ? ACL_CATEGORIES.length : i;
  };
  return [...spec.categories].sort((a, b) => rank(a) - rank(b)).map((c) => '@' + c);
}

function replyKeyFlags(out: ReplyWriter, flags: KeySpecFlag[]): void {
  statusSet(out, KEY_FLAGS.filter(([f]) => flags.includes(f)).map(([, name]) => name));
}

function replyKeySpec(out: ReplyWriter, k: KeySpec): void {
  out.mapHeader(k.notes !== undefined ? 4 : 3);
  if (k.notes !== undefined) {
    out.bulkString('notes');
    out.bulkString(k.notes);
  }
  out.bulkString('flags');
  replyKeyFlags(out, k.flags);
  out.bulkString('begin_search');
  out.mapHeader(2);
  out.bulkString('type');
  if (k.keyword !== undefined) {
    out.bulkString('keyword');
    out.bulkString('spec');
    out.mapHeader(2);
    out.bulkString('keyword');
    out.bulkString(k.keyword);
    out.bulkString('startfrom');
    out.integer(k.startFrom ?? 1);
  } else if (k.index > 0) {
    out.bulkString('index');
    out.bulkString('spec');
    out.mapHeader(1);
    out.bulkString('index');
    out.integer(k.index);
  } else {
    out.bulkString('unknown');
    out.bulkString('spec');
    out.mapHeader(0);
  }
  out.bulkString('find_keys');
  out.mapHeader(2);
  out.bulkString('type');
  if (k.findUnknown) {
    out.bulkString('unknown');
    out.bulkString('spec');
    out.mapHeader(0);
  } else if (k.keyNumIdx !== undefined) {
    out.bulkString('keynum');
    out.bulkString('spec');
    out.mapHeader(3);
    out.bulkString('keynumidx');
    out.integer(k.keyNumIdx);
    out.bulkString('firstkey');
    out.integer(k.firstKey ?? 1);
    out.bulkString('keystep');
    out.integer(k.keyStep);
  } else {
    out.bulkString('range');
    out.bulkString('spec');
    out.mapHeader(3);
    out.bulkString('lastkey');
    out.integer(k.lastKey);
    out.bulkString('keystep');
    out.integer(k.keyStep);
    out.bulkString('limit');
    out.integer(k.limit);
  }
}

/** One COMMAND INFO entry (addReplyCommandInfo): a 10-element array, or nil for an unknown name. */
export function replyInfo(out: ReplyWriter, spec: CommandSpec | undefined): void {
  if (spec === undefined) {
    out.nullBulk();
    return;
  }
  out.arrayHeader(10);
  out.bulkString(spec.fullName ?? spec.name);
  out.integer(spec.arity);
  statusSet(out, COMMAND_FLAGS.filter((f) => spec.flags.includes(f)));
  out.integer(spec.firstKey);
  out.integer(spec.lastKey);
  out.integer(spec.keyStep);
  statusSet(out, orderedCategories(spec));
  out.setHeader(spec.tips.length);
  for (const t of spec.tips) out.bulkString(t);
  out.setHeader(spec.keySpecs.length);
  for (const k of spec.keySpecs) replyKeySpec(out, k);
  if (spec.subcommands) {
    out.arrayHeader(spec.subcommands.length);
    for (const s of spec.subcommands) replyInfo(out, s);
  } else {
    out.setHeader(0);
  }
}

function replyArgs(out: ReplyWriter, args: CommandArgDoc[]): void {
  out.arrayHeader(args.length);
  for (const a of args) {
    const nested = a.type === 'oneof' || a.type === 'block';
    const fields = 2 + (a.keySpecIndex !== undefined ? 1 : 0) + (a.token !== undefined ? 1 : 0) + (a.summary !== undefined ? 1 : 0)
      + (a.since !== undefined ? 1 : 0) + (a.deprecatedSince !== undefined ? 1 : 0) + (a.flags?.length ? 1 : 0) + (nested ? 1 : 0);
    out.mapHeader(fields);
    out.bulkString('name');
    out.bulkString(a.name);
    out.bulkString('type');
    out.bulkString(a.type);
    const text = (key: string, value: string | undefined) => {
      if (value === undefined) return;
      out.bulkString(key);
      out.bulkString(value);
    };
    if (a.keySpecIndex !== undefined) {
      out.bulkString('key_spec_index');
      out.integer(a.keySpecIndex);
    }
    text('token', a.token);
    text('summary', a.summary);
    text('since', a.since);
    text('deprecated_since', a.deprecatedSince);
    if (a.flags?.length) {
      out.bulkString('flags');
      statusSet(out, ARG_FLAGS.filter((f) => a.flags!.includes(f as never)));
    }
    if (nested) {
      out.bulkString('arguments');
      replyArgs(out, a.arguments ?? []);
    }
  }
}

/** One COMMAND DOCS value (addReplyCommandDocs): a map whose optional fields appear only when set. */
export function replyDocs(out: ReplyWriter, spec: CommandSpec): void {
  const d = spec.doc;
  const fields = 3 + (d.complexity !== undefined ? 1 : 0) + (d.docFlags?.length ? 1 : 0) + (d.deprecatedSince !== undefined ? 1 : 0)
    + (d.replacedBy !== undefined ? 1 : 0) + (d.history?.length ? 1 : 0) + (d.arguments?.length ? 1 : 0) + (spec.subcommands ? 1 : 0);
  const text = (key: string, value: string | undefined) => {
    if (value === undefined) return;
    out.bulkString(key);
    out.bulkString(value);
  };
  out.mapHeader(fields);
  text('summary', d.summary);
  text('since', d.since);
  text('group', d.group);
  text('complexity', d.complexity);
  if (d.docFlags?.length) {
    out.bulkString('doc_flags');
    statusSet(out, d.docFlags);
  }
  text('deprecated_since', d.deprecatedSince);
  text('replaced_by', d.replacedBy);
  if (d.history?.length) {
    out.bulkString('history');
    out.setHeader(d.history.length);
    for (const [version, change] of d.history) {
      out.arrayHeader(2);
      out.bulkString(version);
      out.bulkString(change);
    }
  }
  if (d.arguments?.length) {
    out.bulkString('arguments');
    replyArgs(out, d.arguments);
  }
  if (spec.subcommands) {
    out.bulkString('subcommands');
    out.mapHeader(spec.subcommands.length);
    for (const s of spec.subcommands) {
      out.bulkString(s.fullName ?? s.name);
      replyDocs(out, s);
    }
  }
}

/** lookupCommandBySds: "name" or "container|sub", case-insensitive. */
function lookupByName(name: string): CommandSpec | undefined {
  const table = commandTable();
  const parts = name.split('|');
  if (parts.length > 2) return undefined;
  const base = table.top.findByName(parts[0]);
  if (parts.length === 1 || base === undefined) return base;
  if (!base.subcommands) return undefined;
  const sub = Buffer.from(parts[1]);
  return table.subcommand(base, sub, 0, sub.length);
}

/** COMMAND with no subcommand: the INFO entry of every command (subcommands nested in their containers). */
function commandAll(c: CommandContext): void {
  const specs = commandTable().all;
  c.out.arrayHeader(specs.length);
  for (const s of specs) replyInfo(c.out, s);
}

/** COMMAND INFO [name...]: one entry per name, nil for an unknown one; no name: every command. */
function commandInfo(c: CommandContext): void {
  if (c.argc === 2) {
    commandAll(c);
    return;
  }
  c.out.arrayHeader(c.argc - 2);
  for (let i = 2; i < c.argc; i++) replyInfo(c.out, lookupByName(c.argString(i)));
}

/** COMMAND DOCS [name...]: a map of the commands found; unknown names are left out, as in Redis. */
function commandDocs(c: CommandContext): void {
  let found = commandTable().all;
  if (c.argc > 2) {
    found = [];
    for (let i = 2; i < c.argc; i++) {
      const s = lookupByName(c.argString(i));
      if (s) found.push(s);
    }
  }
  c.out.mapHeader(found.length);
  for (const s of found) {
    c.out.bulkString(s.fullName ?? s.name);
    replyDocs(c.out, s);
  }
}

/** COMMAND COUNT: top-level commands only, as dictSize(server.commands). */
function commandCount(c: CommandContext): void {
  c.out.integer(commandTable().all.length);
}

/** COMMAND LIST [FILTERBY MODULE name|ACLCAT cat|PATTERN pattern]: commands then their subcommands. */
function commandList(c: CommandContext): void {
  let accept: ((s: CommandSpec) => boolean) | undefined;
  for (let i = 2; i < c.argc; i++) {
    // Like Redis, FILTERBY must be followed by exactly a type and its argument.
    if (!c.argIs(i, 'filterby') || c.argc - 1 - i !== 2) {
      c.out.error(SYNTAX);
      return;
    }
    const value = c.argBuffer(i + 2);
    if (c.argIs(i + 1, 'module')) {
      // weft loads no modules: no command belongs to one.
      accept = () => false;
    } else if (c.argIs(i + 1, 'aclcat')) {
      const cat = value.toString('latin1').toLowerCase();
      accept = ACL_CATEGORIES.includes(cat) ? (s) => s.categories.includes(cat) : () => false;
    } else if (c.argIs(i + 1, 'pattern')) {
      accept = (s) => {
        const name = Buffer.from(s.fullName ?? s.name);
        return globMatch(value, 0, value.length, name, 0, name.length, true);
      };
    } else {
      c.out.error(SYNTAX);
      return;
    }
    i += 2;
  }
  const names: string[] = [];
  const walk = (specs: CommandSpec[]) => {
    for (const s of specs) {
      if (!accept || accept(s)) names.push(s.fullName ?? s.name);
      if (s.subcommands) walk(s.subcommands);
    }
  };
  walk(commandTable().all);
  c.out.arrayHeader(names.length);
  for (const n of names) c.out.bulkString(n);
}

/** A key spec that is not NOT_KEY: what doesCommandHaveKeys looks for. */
const realKey = (k: KeySpec) => !k.flags.includes('NOT_KEY');

/**
 * getKeysUsingKeySpecs: the keys of every spec in order; null when a spec
 * does not fit the arguments (Redis then falls back to the command's own
 * key finder).
 */
function keysFromSpecs(spec: CommandSpec, c: CommandContext): KeyRef[] | null {
  const argc = c.argc;
  const keys: KeyRef[] = [];
  for (const k of spec.keySpecs) {
    if (!realKey(k)) continue;
    let first = 0;
    if (k.keyword !== undefined) {
      const from = k.startFrom ?? 1;
      const start = from > 0 ? from : argc + from;
      const end = from > 0 ? argc - 1 : 1;
      for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (c.argIs(i, k.keyword.toLowerCase())) {
          first = i + 1;
          break;
        }
      }
      if (first === 0) continue;
    } else if (k.index > 0) {
      first = k.index;
    } else {
      return null;
    }
    let last: number;
    if (k.findUnknown) return null;
    if (k.keyNumIdx !== undefined) {
      if (first + k.keyNumIdx >= argc) return null;
      const n = c.argInt(first + k.keyNumIdx);
      if (n === null || n < 0) return null;
      first += k.firstKey ?? 1;
      last = first + n - 1;
    } else if (k.lastKey >= 0) {
      last = first + k.lastKey;
    } else if (k.limit === 0) {
      last = argc + k.lastKey;
    } else {
      last = first + (Math.floor((argc - first) / k.limit) + k.lastKey);
    }
    // Out of bounds (an empty keynum range included): a syntax error the command will report.
    if (last >= argc || last < first || first >= argc) return null;
    for (let i = first; i <= last && i < argc; i += k.keyStep) keys.push({ pos: i, flags: k.flags });
    // An incomplete spec leaves the rest to the command's own key finder.
    if (k.flags.includes('INCOMPLETE')) return null;
  }
  return keys;
}

/** getKeysFromCommandWithSpecs: key specs unless their flags vary with the arguments, then the command's key finder. */
export function findKeys(spec: CommandSpec, c: CommandContext): KeyRef[] | null {
  const variable = spec.keySpecs.some((k) => k.flags.includes('VARIABLE_FLAGS'));
  if (spec.keySpecs.some(realKey) && !variable) {
    const keys = keysFromSpecs(spec, c);
    if (keys !== null) return keys;
  }
  if (spec.getKeysAndFlags) return spec.getKeysAndFlags(c);
  if (spec.getKeys) {
    // A finder of positions only: the flags are those of the first key spec.
    const flags = spec.keySpecs[0]?.flags.filter((f) => f !== 'VARIABLE_FLAGS') ?? [];
    return spec.getKeys(c).map((pos) => ({ pos, flags }));
  }
  // No finder for flags that vary: the declared specs still say where the keys are.
  if (!variable) return null;
  return keysFromSpecs(spec, c)?.map((k) => ({ pos: k.pos, flags: k.flags.filter((f) => f !== 'VARIABLE_FLAGS') })) ?? null;
}

/**
 * The key argument positions of the command in c, into `out`: the legacy
 * (first, last, step) triple, or the key finder for movable keys. Returns
 * how many (cluster routing and EXEC's locks read them).
 */
export function keyPositions(c: CommandContext, spec: CommandSpec, out: number[]): number {
  out.length = 0;
  if (spec.movableKeys) {
    for (const k of findKeys(spec, c) ?? []) out.push(k.pos);
    return out.length;
  }
  if (spec.firstKey <= 0) return 0;
  const last = spec.lastKey < 0 ? c.argc + spec.lastKey : spec.lastKey;
  for (let i = spec.firstKey; i <= last && i < c.argc; i += spec.keyStep) out.push(i);
  return out.length;
}

/** COMMAND GETKEYS / GETKEYSANDFLAGS (getKeysSubcommandImpl). */
function getKeysCommand(c: CommandContext, withFlags: boolean): void {
  const table = commandTable();
  let spec = table.top.find(c.buf, c.argStart[2], c.argLen[2]);
  if (spec?.subcommands && c.argc > 3) spec = table.subcommand(spec, c.buf, c.argStart[3], c.argLen[3]);
  if (spec === undefined) {
    c.out.error('Invalid command specified');
    return;
  }
  if (!spec.getKeys && !spec.getKeysAndFlags && !spec.keySpecs.some(realKey)) {
    c.out.error('The command has no key arguments');
    return;
  }
  const argc = c.argc - 2;
  if ((spec.arity > 0 && spec.arity !== argc) || argc < -spec.arity) {
    c.out.error('Invalid number of arguments specified for command');
    return;
  }
  // The inner command seen as its own request: argument 0 is its name.
  const inner = new CommandContext(c.out, c.ks);
  inner.buf = c.buf;
  inner.argc = argc;
  inner.argStart = c.argStart.subarray(2);
  inner.argLen = c.argLen.subarray(2);
  inner.client = c.client;
  inner.server = c.server;
  inner.now = c.now;
  const keys = findKeys(spec, inner);
  if (keys === null || keys.length === 0) {
    // Redis treats "no keys found" and "specs do not fit" alike here.
    if (spec.flags.includes('no_mandatory_keys')) c.out.arrayHeader(0);
    else c.out.error('Invalid arguments specified for command');
    return;
  }
  c.out.arrayHeader(keys.length);
  for (const k of keys) {
    if (withFlags) c.out.arrayHeader(2);
    c.out.bulkBytes(inner.buf, inner.argStart[k.pos], inner.argLen[k.pos]);
    if (withFlags) replyKeyFlags(c.out, k.flags);
  }
}

const COMMAND_HELP = [
  'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  '(no subcommand)',
  '    Return details about all Redis commands.',
  'COUNT',
  '    Return the total number of commands in this Redis server.',
  'LIST',
  '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'GETKEYS <full-command>',
  '    Return the keys from a full Redis command.',
  'GETKEYSANDFLAGS <full-command>',
  '    Return the keys and the access flags from a full Redis command.',
  'HELP',
  '    Prints this help.',
];

const flags: CommandFlag[] = ['loading', 'stale'];
const categories = ['connection'];
const commandName = () => arg('command-name', 'string', { optional: true, multiple: true });

export const introspectionCommands: CommandSpec[] = [
  defineCommand({ name: 'command', arity: -1, flags, categories, tips: ['nondeterministic_output_order'], group, since: '2.8.13',
    summary: 'Get array of Redis command details', complexity: 'O(N) where N is the total number of Redis commands',
    handler: commandAll,
    subcommands: [
      defineCommand({ name: 'help', arity: 2, flags, categories, group, since: '5.0.0',
        summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', handler: (c) => replyHelp(c, COMMAND_HELP) }),
      defineCommand({ name: 'count', arity: 2, flags, categories, group, since: '2.8.13',
        summary: 'Get total number of Redis commands', complexity: 'O(1)', handler: commandCount }),
      defineCommand({ name: 'getkeysandflags', arity: -4, flags, categories, group, since: '7.0.0',
        summary: 'Extract keys and access flags given a full Redis command',
        complexity: 'O(N) where N is the number of arguments to the command', handler: (c) => getKeysCommand(c, true) }),
      defineCommand({ name: 'docs', arity: -2, flags, categories, tips: ['nondeterministic_output_order'], group, since: '7.0.0',
        summary: 'Get array of specific Redis command documentation', complexity: 'O(N) where N is the number of commands to look up',
        arguments: [commandName()], handler: commandDocs }),
      defineCommand({ name: 'getkeys', arity: -4, flags, categories, group, since: '2.8.13',
        summary: 'Extract keys given a full Redis command', complexity: 'O(N) where N is the number of arguments to the command',
        handler: (c) => getKeysCommand(c, false) }),
      defineCommand({ name: 'list', arity: -2, flags, categories, tips: ['nondeterministic_output_order'], group, since: '7.0.0',
        summary: 'Get an array of Redis command names', complexity: 'O(N) where N is the total number of Redis commands',
        arguments: [oneOf('filterby', [
          arg('module-name', 'string', { token: 'MODULE' }),
          arg('category', 'string', { token: 'ACLCAT' }),
          arg('pattern', 'pattern', { token: 'PATTERN' }),
        ], { token: 'FILTERBY', optional: true })],
        handler: commandList }),
      defineCommand({ name: 'info', arity: -2, flags, categories, tips: ['nondeterministic_output_order'], group, since: '2.8.13',
        summary: 'Get array of specific Redis command details, or all when no argument is given.',
        complexity: 'O(N) where N is the number of commands to look up',
        history: [['7.0.0', 'Allowed to be called with no argument to get info on all commands.']],
        arguments: [commandName()], handler: commandInfo }),
    ] }),
];
