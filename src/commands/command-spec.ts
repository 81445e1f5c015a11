/**
 * The declarative description of a command, as Redis's command table
 * (commands.def / COMMAND INFO): name, arity, flags, key positions, ACL
 * categories and documentation. Routing, COMMAND INFO/DOCS/GETKEYS and ACL
 * categories all read these entries.
 */
import type { CommandContext } from './context.js';

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

export interface KeySpec {
  flags: KeySpecFlag[];
  /** begin_search index (1-based argument position). */
  index: number;
  /** find_keys range: last key relative to the first (-1: the last argument), step, limit. */
  lastKey: number;
  keyStep: number;
  limit: number;
}

export interface CommandDoc {
  summary: string;
  since: string;
  group: string;
  complexity?: string;
  /** Argument descriptions for COMMAND DOCS: name, type, optional token / flags. */
  arguments?: CommandArgDoc[];
}

export interface CommandArgDoc {
  name: string;
  type: 'string' | 'integer' | 'double' | 'key' | 'pattern' | 'unix-time' | 'pure-token' | 'oneof' | 'block';
  token?: string;
  flags?: ('optional' | 'multiple' | 'multiple_token')[];
  keySpecIndex?: number;
  arguments?: CommandArgDoc[];
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
  doc: CommandDoc;
  handler?: Handler;
  subcommands?: CommandSpec[];
  /** Keys found by a function when positions cannot say (e.g. after a numkeys argument). */
  getKeys?: (c: CommandContext) => number[];
  /** Set by the table: "client|list" for subcommands. */
  fullName?: string;
  parent?: CommandSpec;
}

export interface DefineOptions {
  name: string;
  arity: number;
  flags?: CommandFlag[];
  keys?: [first: number, last: number, step: number];
  keyFlags?: KeySpecFlag[];
  categories?: string[];
  summary: string;
  since?: string;
  group: string;
  complexity?: string;
  arguments?: CommandArgDoc[];
  handler?: Handler;
  subcommands?: CommandSpec[];
  getKeys?: (c: CommandContext) => number[];
  /** Several key specs (e.g. SMOVE-like source and destination); overrides keyFlags. */
  keySpecs?: KeySpec[];
}

/**
 * Builds a CommandSpec; ACL categories follow Redis's rules: "write"/"read",
 * "fast"/"slow" and "dangerous"/"admin" derive from the flags, as
 * setImplicitACLCategories does in server.c.
 */
export function defineCommand(o: DefineOptions): CommandSpec {
  const flags = o.flags ?? [];
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
  const [firstKey, lastKey, keyStep] = o.keys ?? [0, 0, 0];
  const keySpecs: KeySpec[] = o.keySpecs ?? (firstKey > 0
    ? [{ flags: o.keyFlags ?? (flags.includes('write') ? ['RW', 'UPDATE'] : ['RO', 'ACCESS']), index: firstKey,
      lastKey: lastKey < 0 ? lastKey : lastKey - firstKey, keyStep, limit: 0 }]
    : []);
  return {
    name: o.name.toLowerCase(),
    arity: o.arity,
    flags,
    firstKey,
    lastKey,
    keyStep,
    categories,
    keySpecs,
    doc: { summary: o.summary, since: o.since ?? '1.0.0', group: o.group, complexity: o.complexity, arguments: o.arguments },
    handler: o.handler,
    subcommands: o.subcommands,
    getKeys: o.getKeys,
  };
}
