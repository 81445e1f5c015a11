/**
 * The declarative description of a command, as Redis's command table
 * (commands.def / COMMAND INFO): name, arity, flags, key positions, ACL
 * categories and documentation. Routing, COMMAND INFO/DOCS/GETKEYS and ACL
 * categories all read these entries.
 */
import type { CommandContext } from './context.js';
import type { KeyEvent } from './keyspace-events.js';

/**
 * A handler replies through the context. One that must wait on other threads
 * (CLIENT LIST, SHUTDOWN...) reads its arguments first, then returns a promise
 * of the function that writes its reply once the connection is current again.
 */
export type Handler = (c: CommandContext) => void | Promise<ReplyFunction>;
export type ReplyFunction = (c: CommandContext) => void;

/** Redis command flags (COMMAND INFO element 3), lowercase as Redis prints them. */
export type CommandFlag =
  | 'write' | 'readonly' | 'denyoom' | 'module' | 'admin' | 'pubsub' | 'noscript' | 'blocking' | 'loading' | 'stale'
  | 'skip_monitor' | 'skip_slowlog' | 'asking' | 'fast' | 'no_auth' | 'may_replicate' | 'no_mandatory_keys'
  | 'no_async_loading' | 'no_multi' | 'movablekeys' | 'allow_busy';

/** Key-spec flags (COMMAND INFO key specifications). */
export type KeySpecFlag = 'RO' | 'RW' | 'OW' | 'RM' | 'ACCESS' | 'UPDATE' | 'INSERT' | 'DELETE' | 'NOT_KEY' | 'INCOMPLETE' | 'VARIABLE_FLAGS';

/**
 * One key specification, as Redis 7's keySpec: where the search for keys
 * begins and how the keys are found from there.
 *
 * begin_search is "index" (`index` > 0), "keyword" (`keyword` set: the keys
 * follow that token, searched from `startFrom`, backwards when negative) or
 * "unknown" (`index` 0 and no keyword).
 * find_keys is "range" (`lastKey` relative to the first key, -1 for the last
 * argument; `keyStep`; `limit`), "keynum" (`keyNumIdx` set: the count is at
 * first + keyNumIdx, the keys start at first + `firstKey`, every `keyStep`)
 * or "unknown" (`findUnknown`).
 */
export interface KeySpec {
  flags: KeySpecFlag[];
  notes?: string;
  index: number;
  keyword?: string;
  startFrom?: number;
  lastKey: number;
  keyStep: number;
  limit: number;
  keyNumIdx?: number;
  firstKey?: number;
  findUnknown?: boolean;
}

/** A range key spec: the keys from argument `index`, up to `lastKey` after it (-1: to the end), every `keyStep`. */
export function rangeKeys(flags: KeySpecFlag[], index: number, lastKey = 0, keyStep = 1, limit = 0): KeySpec {
  return { flags, index, lastKey, keyStep, limit };
}

/** A keyword key spec: the keys follow `keyword` (searched from `startFrom`), found as a range. */
export function keywordKeys(flags: KeySpecFlag[], keyword: string, startFrom: number, lastKey = 0, keyStep = 1, limit = 0): KeySpec {
  return { flags, index: 0, keyword, startFrom, lastKey, keyStep, limit };
}

/** A keynum key spec (EVAL, ZUNIONSTORE...): a count argument then that many keys. */
export function keyNumKeys(flags: KeySpecFlag[], index: number, keyNumIdx: number, firstKey: number, keyStep = 1): KeySpec {
  return { flags, index, lastKey: 0, keyStep, limit: 0, keyNumIdx, firstKey };
}

/** A key spec Redis cannot describe (SORT's BY/GET/STORE keys): begin_search and find_keys "unknown". */
export function unknownKeys(flags: KeySpecFlag[], notes?: string): KeySpec {
  const k: KeySpec = { flags, index: 0, lastKey: 0, keyStep: 0, limit: 0, findUnknown: true };
  if (notes !== undefined) k.notes = notes;
  return k;
}

export type ArgType = 'string' | 'integer' | 'double' | 'key' | 'pattern' | 'unix-time' | 'pure-token' | 'oneof' | 'block';
export type ArgFlag = 'optional' | 'multiple' | 'multiple_token';

/** Redis's documentation flags of a command (COMMAND DOCS doc_flags). */
export type DocFlag = 'deprecated' | 'syscmd';

export interface CommandDoc {
  summary: string;
  since: string;
  group: string;
  complexity?: string;
  docFlags?: DocFlag[];
  deprecatedSince?: string;
  replacedBy?: string;
  /** [version, what changed] pairs, oldest first. */
  history?: [string, string][];
  /** Argument descriptions for COMMAND DOCS. */
  arguments?: CommandArgDoc[];
}

export interface CommandArgDoc {
  name: string;
  type: ArgType;
  token?: string;
  summary?: string;
  since?: string;
  deprecatedSince?: string;
  flags?: ArgFlag[];
  keySpecIndex?: number;
  arguments?: CommandArgDoc[];
}

export interface ArgOptions {
  token?: string;
  optional?: boolean;
  multiple?: boolean;
  multipleToken?: boolean;
  since?: string;
  deprecatedSince?: string;
  summary?: string;
}

/** An argument's documentation (COMMAND DOCS "arguments" entry). */
export function arg(name: string, type: ArgType, o: ArgOptions = {}, args?: CommandArgDoc[]): CommandArgDoc {
  const flags: ArgFlag[] = [];
  if (o.optional) flags.push('optional');
  if (o.multiple) flags.push('multiple');
  if (o.multipleToken) flags.push('multiple_token');
  const a: CommandArgDoc = { name, type };
  if (o.token !== undefined) a.token = o.token;
  if (o.summary !== undefined) a.summary = o.summary;
  if (o.since !== undefined) a.since = o.since;
  if (o.deprecatedSince !== undefined) a.deprecatedSince = o.deprecatedSince;
  if (flags.length) a.flags = flags;
  if (args) a.arguments = args;
  return a;
}

/** A key argument, tied to its key spec. */
export function keyArg(name: string, keySpecIndex: number, o: ArgOptions = {}): CommandArgDoc {
  return { ...arg(name, 'key', o), keySpecIndex };
}

/** A pure token (e.g. NX): named `name`, written `token` on the command line. */
export function tokenArg(name: string, token: string, o: ArgOptions = {}): CommandArgDoc {
  return arg(name, 'pure-token', { ...o, token });
}

/** Exactly one of `args`. */
export function oneOf(name: string, args: CommandArgDoc[], o: ArgOptions = {}): CommandArgDoc {
  return arg(name, 'oneof', o, args);
}

/** A group of arguments given together. */
export function block(name: string, args: CommandArgDoc[], o: ArgOptions = {}): CommandArgDoc {
  return arg(name, 'block', o, args);
}

/** Whether a word (lowercase) is among the arguments from `from` on, as key finders scan for option tokens. */
export function hasArg(c: CommandContext, from: number, word: string): boolean {
  for (let i = from; i < c.argc; i++) if (c.argIs(i, word)) return true;
  return false;
}

/**
 * genericGetKeys for the numkeys commands (zunionInterDiffGetKeys,
 * zunionInterDiffStoreGetKeys, zmpopGetKeys, blmpopGetKeys...): no keys when numkeys cannot
 * be right; a destination at argument 1 comes last.
 */
export function numkeysGetKeys(numkeysIdx: number, store: boolean): (c: CommandContext) => number[] {
  return (c) => {
    const n = atoi(c.argLatin1(numkeysIdx));
    if (n < 1 || n > c.argc - numkeysIdx - 1) return [];
    const keys: number[] = [];
    for (let i = 0; i < n; i++) keys.push(numkeysIdx + 1 + i);
    if (store) keys.push(1);
    return keys;
  };
}

/** C's atoi: leading space, a sign, then digits up to the first other byte (0 when none). */
function atoi(text: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

/** A key found by a command's own key finder, with its access flags (COMMAND GETKEYSANDFLAGS). */
export interface KeyRef {
  pos: number;
  flags: KeySpecFlag[];
}

export interface CommandSpec {
  /** Lowercase name ("get", or "list" for the subcommand CLIENT LIST). */
  name: string;
  /** Redis arity: exact count if positive, minimum count if negative (the name counts). */
  arity: number;
  flags: CommandFlag[];
  /** Legacy key positions: first, last (negative counts from the end), step. */
  firstKey: number;
  lastKey: number;
  keyStep: number;
  /** ACL categories without the '@' (e.g. "string", "fast"). */
  categories: string[];
  keySpecs: KeySpec[];
  /** Command tips (COMMAND INFO element 8), e.g. "nondeterministic_output". */
  tips: string[];
  doc: CommandDoc;
  handler?: Handler;
  subcommands?: CommandSpec[];
  /** Keys found by a function when positions cannot say (e.g. after a numkeys argument). */
  getKeys?: (c: CommandContext) => number[];
  /**
   * Keys and their flags found by a function, for commands whose key flags
   * depend on the arguments (VARIABLE_FLAGS, like SET with or without GET).
   */
  getKeysAndFlags?: (c: CommandContext) => KeyRef[];
  /** Set by the table: "client|list" for subcommands. */
  fullName?: string;
  /** Flags the dispatcher tests on every command, precomputed from `flags`. */
  noAuth: boolean;
  denyOom: boolean;
  isWrite: boolean;
  /** Flagged pubsub (routing treats SSUBSCRIBE, SUNSUBSCRIBE and SPUBLISH's channels as keys of their own kind). */
  isPubsub: boolean;
  /** A write that may lock several shards (keyless, like FLUSHALL, or with several keys): the snapshot gate applies. */
  spansShards: boolean;
  movableKeys: boolean;
  /** Runs a script or manages the script cache (needs the Lua engine, may write across shards). */
  runsScript: boolean;
  /** The keyspace event the command fires for the keys it changed (set by the table from keyspace-events.ts). */
  keyspaceEvent?: KeyEvent;
  /** Propagated to replicas although not a write (PUBLISH: Redis's forceCommandPropagation), when the handler sets c.dirty. */
  forcePropagation?: boolean;
  parent?: CommandSpec;
}

/** The documentation fields of a command, as given to defineCommand (`since` defaults to 1.0.0). */
export interface DefineOptions extends Omit<CommandDoc, 'since'> {
  since?: string;
  name: string;
  arity: number;
  flags?: CommandFlag[];
  /** Legacy key positions; when left out they are derived from keySpecs as Redis does. */
  keys?: [first: number, last: number, step: number];
  /** Flags of the key spec derived from `keys`. */
  keyFlags?: KeySpecFlag[];
  /** Notes of the key spec derived from `keys`. */
  keyNotes?: string;
  categories?: string[];
  tips?: string[];
  handler?: Handler;
  subcommands?: CommandSpec[];
  getKeys?: (c: CommandContext) => number[];
  getKeysAndFlags?: (c: CommandContext) => KeyRef[];
  /** Runs scripts (EVAL, SCRIPT LOAD...): processCommand holds it until the thread's Lua engine has loaded. */
  runsScript?: boolean;
  /** Several key specs (e.g. SMOVE-like source and destination); overrides keys/keyFlags. */
  keySpecs?: KeySpec[];
}

const isRange = (k: KeySpec) => k.index > 0 && k.keyword === undefined && k.keyNumIdx === undefined && !k.findUnknown;

/**
 * The legacy (first, last, step) triple and the movablekeys flag from the key
 * specs, as populateCommandLegacyRangeSpec does in Redis 7.0 (server.c): one
 * index/range spec is used as is; otherwise consecutive step-1 range specs
 * are merged, and anything else makes the keys movable.
 */
export function legacyKeyRange(specs: KeySpec[]): { first: number; last: number; step: number; movable: boolean } {
  if (specs.length === 0) return { first: 0, last: 0, step: 0, movable: false };
  const absolute = (k: KeySpec) => (k.lastKey >= 0 ? k.index + k.lastKey : k.lastKey);
  if (specs.length === 1 && isRange(specs[0])) {
    const k = specs[0];
    return { first: k.index, last: absolute(k), step: k.keyStep, movable: k.flags.includes('INCOMPLETE') };
  }
  let movable = false;
  let first = Infinity;
  // Compared as unsigned, as Redis does, so a negative (from the end) last key wins.
  let last = 0;
  let prevLast = 0;
  const unsigned = (n: number) => (n < 0 ? 2 ** 32 + n : n);
  for (const k of specs) {
    if (!isRange(k) || k.keyStep !== 1 || (prevLast !== 0 && prevLast !== k.index - 1)) {
      movable = true;
      continue;
    }
    if (k.flags.includes('INCOMPLETE')) movable = true;
    first = Math.min(first, k.index);
    const abs = absolute(k);
    if (unsigned(abs) > unsigned(last)) last = abs;
    prevLast = last;
  }
  if (first === Infinity) return { first: 0, last: 0, step: 0, movable: true };
  return { first, last, step: 1, movable };
}

/**
 * Builds a CommandSpec; ACL categories follow Redis's rules: "write"/"read",
 * "fast"/"slow" and "dangerous"/"admin" derive from the flags, as
 * setImplicitACLCategories does in server.c.
 */
export function defineCommand(o: DefineOptions): CommandSpec {
  const flags = [...(o.flags ?? [])];
  const categories = [...(o.categories ?? [])];
  const add = (c: string) => {
    if (!categories.includes(c)) categories.push(c);
  };
  if (flags.includes('write')) add('write');
  else if (flags.includes('readonly') && !categories.includes('scripting')) add('read');
  if (flags.includes('admin')) {
    add('admin');
    add('dangerous');
  }
  if (flags.includes('pubsub')) add('pubsub');
  if (flags.includes('fast')) add('fast');
  if (flags.includes('blocking')) add('blocking');
  if (!flags.includes('fast') && !categories.includes('fast')) add('slow');
  let keySpecs: KeySpec[] = o.keySpecs ?? [];
  if (o.keySpecs === undefined && o.keys && o.keys[0] > 0) {
    const [first, last, step] = o.keys;
    const spec = rangeKeys(o.keyFlags ?? (flags.includes('write') ? ['RW', 'UPDATE'] : ['RO', 'ACCESS']), first,
      last < 0 ? last : last - first, step);
    if (o.keyNotes !== undefined) spec.notes = o.keyNotes;
    keySpecs = [spec];
  }
  const legacy = legacyKeyRange(keySpecs);
  if (legacy.movable && !flags.includes('movablekeys')) flags.push('movablekeys');
  const [firstKey, lastKey, keyStep] = o.keys ?? [legacy.first, legacy.last, legacy.step];
  const doc: CommandDoc = { summary: o.summary, since: o.since ?? '1.0.0', group: o.group };
  if (o.complexity !== undefined) doc.complexity = o.complexity;
  if (o.docFlags) doc.docFlags = o.docFlags;
  if (o.deprecatedSince !== undefined) doc.deprecatedSince = o.deprecatedSince;
  if (o.replacedBy !== undefined) doc.replacedBy = o.replacedBy;
  if (o.history) doc.history = o.history;
  if (o.arguments) doc.arguments = o.arguments;
  return {
    name: o.name.toLowerCase(),
    arity: o.arity,
    flags,
    firstKey,
    lastKey,
    keyStep,
    categories,
    keySpecs,
    tips: o.tips ?? [],
    doc,
    handler: o.handler,
    noAuth: flags.includes('no_auth'),
    denyOom: flags.includes('denyoom'),
    isWrite: flags.includes('write'),
    isPubsub: flags.includes('pubsub'),
    spansShards: flags.includes('write') && (firstKey === 0 || lastKey !== firstKey),
    movableKeys: flags.includes('movablekeys'),
    runsScript: o.runsScript === true,
    subcommands: o.subcommands,
    getKeys: o.getKeys,
    getKeysAndFlags: o.getKeysAndFlags,
    // Every spec gets every field now, in one order, though the table and a few commands set them
    // later: specs of one shape keep the dispatcher's property loads monomorphic.
    fullName: o.name.toLowerCase(),
    keyspaceEvent: undefined,
    forcePropagation: false,
    parent: undefined,
  };
}
