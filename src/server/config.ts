/**
 * Server configuration with Redis's names, syntax and errors: redis.conf
 * files, `--name value` arguments (appended to the file text as Redis's
 * loadServerConfig does), CONFIG GET/SET/REWRITE. Each thread holds a copy;
 * CONFIG SET is applied on one thread and broadcast to the others.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REDIS_DIRECTIVES } from './redis-directives.js';
import { updateBufferLimits } from './output-buffer-limits.js';
import { formatEventClasses, INVALID_EVENT_CLASS, parseEventClasses } from '../commands/keyspace-events.js';
import { globMatch } from '../commands/glob.js';

import { REDIS_VERSION } from '../commands/server-info.js';

export const REDIS_COMPAT_VERSION = REDIS_VERSION;

type Kind = 'bool' | 'int' | 'memory' | 'enum' | 'string' | 'save' | 'list' | 'obuf' | 'events';

interface ConfigDef {
  name: string;
  aliases?: string[];
  kind: Kind;
  default: string;
  min?: number;
  max?: number;
  values?: string[];
  /** Accepted range is [min, max], but the value in force is clamped to this one (Redis's hz). */
  clamp?: [number, number];
  mutable: boolean;
  /** Accepted for compatibility: stored and shown, but without effect yet (logged at start). */
  notHonoured?: (value: string) => boolean;
}

const POLICIES = ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction'];

const DEFS: ConfigDef[] = [
  { name: 'port', kind: 'int', default: '6379', min: 0, max: 65535, mutable: false },
  { name: 'bind', kind: 'list', default: '* -::*', mutable: false },
  { name: 'dir', kind: 'string', default: '', mutable: true },
  { name: 'requirepass', kind: 'string', default: '', mutable: true },
  { name: 'maxmemory', kind: 'memory', default: '0', mutable: true },
  { name: 'maxmemory-policy', kind: 'enum', default: 'noeviction', values: POLICIES, mutable: true },
  { name: 'maxmemory-samples', kind: 'int', default: '5', min: 1, max: 2147483647, mutable: true },
  { name: 'maxmemory-eviction-tenacity', kind: 'int', default: '10', min: 0, max: 100, mutable: true },
  { name: 'lfu-log-factor', kind: 'int', default: '10', min: 0, max: 2147483647, mutable: true },
  { name: 'lfu-decay-time', kind: 'int', default: '1', min: 0, max: 2147483647, mutable: true },
  { name: 'maxclients', kind: 'int', default: '10000', min: 1, max: 4294967295, mutable: true },
  { name: 'timeout', kind: 'int', default: '0', min: 0, max: 2147483647, mutable: true },
  { name: 'loglevel', kind: 'enum', default: 'notice', values: ['debug', 'verbose', 'notice', 'warning'], mutable: true },
  { name: 'logfile', kind: 'string', default: '', mutable: false },
  { name: 'pidfile', kind: 'string', default: '', mutable: false },
  { name: 'daemonize', kind: 'bool', default: 'no', mutable: false },
  { name: 'always-show-logo', kind: 'bool', default: 'no', mutable: false },
  // Redis accepts up to LONG_MAX; weft's request offsets are 32-bit, so 2 GiB is its ceiling.
  { name: 'proto-max-bulk-len', kind: 'memory', default: '536870912', min: 1048576, max: 2147483647, mutable: true },
  { name: 'client-output-buffer-limit', kind: 'obuf', default: 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60',
    mutable: true },
  { name: 'notify-keyspace-events', kind: 'events', default: '', mutable: true },
  { name: 'tracking-table-max-keys', kind: 'int', default: '1000000', min: 0, max: 9223372036854775807, mutable: true },
  { name: 'client-query-buffer-limit', kind: 'memory', default: '1073741824', min: 1048576, max: 2147483647, mutable: true },
  { name: 'databases', kind: 'int', default: '16', min: 1, max: 32, mutable: false },
  { name: 'hz', kind: 'int', default: '10', min: 0, max: 2147483647, clamp: [1, 500], mutable: true },
  { name: 'enable-debug-command', kind: 'enum', default: 'no', values: ['no', 'yes', 'local'], mutable: false },
  { name: 'threads', aliases: ['io-threads'], kind: 'int', default: String(os.availableParallelism()), min: 1, max: 128, mutable: false },
  { name: 'shards', kind: 'int', default: '16', min: 1, max: 32, mutable: false },
  { name: 'busy-reply-threshold', aliases: ['lua-time-limit'], kind: 'int', default: '5000', min: 0, max: 9223372036854775807, mutable: true },
  { name: 'tcp-backlog', kind: 'int', default: '511', min: 0, max: 2147483647, mutable: false },
  { name: 'tcp-keepalive', kind: 'int', default: '300', min: 0, max: 2147483647, mutable: true },
  { name: 'protected-mode', kind: 'bool', default: 'yes', mutable: true },
  { name: 'save', kind: 'save', default: '3600 1 300 100 60 10000', mutable: true, notHonoured: (v) => v !== '' },
  { name: 'appendonly', kind: 'bool', default: 'no', mutable: true, notHonoured: (v) => v === 'yes' },
  { name: 'appendfilename', kind: 'string', default: 'appendonly.aof', mutable: false },
  { name: 'appendfsync', kind: 'enum', default: 'everysec', values: ['always', 'everysec', 'no'], mutable: true },
  { name: 'dbfilename', kind: 'string', default: 'dump.rdb', mutable: true },
  { name: 'lazyfree-lazy-eviction', kind: 'bool', default: 'no', mutable: true },
  { name: 'lazyfree-lazy-expire', kind: 'bool', default: 'no', mutable: true },
  { name: 'lazyfree-lazy-server-del', kind: 'bool', default: 'no', mutable: true },
  { name: 'lazyfree-lazy-user-del', kind: 'bool', default: 'no', mutable: true },
  { name: 'lazyfree-lazy-user-flush', kind: 'bool', default: 'no', mutable: true },
  // Collection encodings (Redis 7.0's ADVANCED CONFIG; the *-ziplist-* names are its aliases).
  { name: 'hash-max-listpack-entries', aliases: ['hash-max-ziplist-entries'], kind: 'int', default: '512', min: 0, max: 9223372036854775807, mutable: true },
  { name: 'hash-max-listpack-value', aliases: ['hash-max-ziplist-value'], kind: 'int', default: '64', min: 0, max: 9223372036854775807, mutable: true },
  { name: 'set-max-intset-entries', kind: 'int', default: '512', min: 0, max: 9223372036854775807, mutable: true },
  { name: 'zset-max-listpack-entries', aliases: ['zset-max-ziplist-entries'], kind: 'int', default: '128', min: 0, max: 9223372036854775807, mutable: true },
  { name: 'zset-max-listpack-value', aliases: ['zset-max-ziplist-value'], kind: 'int', default: '64', min: 0, max: 9223372036854775807, mutable: true },
  { name: 'list-max-listpack-size', aliases: ['list-max-ziplist-size'], kind: 'int', default: '-2', min: -2147483648, max: 2147483647, mutable: true },
  { name: 'list-compress-depth', kind: 'int', default: '0', min: 0, max: 2147483647, mutable: true, notHonoured: (v) => v !== '0' },
  { name: 'active-expire-effort', kind: 'int', default: '1', min: 1, max: 10, mutable: true },
  // Replication (redis.conf's REPLICATION section; Redis's defaults).
  { name: 'replicaof', aliases: ['slaveof'], kind: 'string', default: '', mutable: false },
  { name: 'masterauth', kind: 'string', default: '', mutable: true },
  { name: 'masteruser', kind: 'string', default: '', mutable: true },
  { name: 'replica-read-only', aliases: ['slave-read-only'], kind: 'bool', default: 'yes', mutable: true },
  { name: 'replica-serve-stale-data', aliases: ['slave-serve-stale-data'], kind: 'bool', default: 'yes', mutable: true },
  { name: 'replica-priority', aliases: ['slave-priority'], kind: 'int', default: '100', min: 0, max: 2147483647, mutable: true },
  { name: 'replica-announced', kind: 'bool', default: 'yes', mutable: true },
  { name: 'repl-backlog-size', kind: 'memory', default: '1048576', mutable: true },
  { name: 'repl-backlog-ttl', kind: 'int', default: '3600', min: 0, max: 2147483647, mutable: true },
  { name: 'repl-timeout', kind: 'int', default: '60', min: 1, max: 2147483647, mutable: true },
  { name: 'repl-ping-replica-period', aliases: ['repl-ping-slave-period'], kind: 'int', default: '10', min: 1, max: 2147483647, mutable: true },
  // Cluster mode (redis.conf's CLUSTER section; Redis's defaults).
  { name: 'cluster-enabled', kind: 'bool', default: 'no', mutable: false },
  { name: 'cluster-config-file', kind: 'string', default: 'nodes.conf', mutable: false },
  { name: 'cluster-node-timeout', kind: 'int', default: '15000', min: 0, max: 2147483647, mutable: true },
  { name: 'cluster-port', kind: 'int', default: '0', min: 0, max: 65535, mutable: false },
  { name: 'cluster-announce-ip', kind: 'string', default: '', mutable: true },
  { name: 'cluster-announce-hostname', kind: 'string', default: '', mutable: true },
  { name: 'cluster-announce-port', kind: 'int', default: '0', min: 0, max: 65535, mutable: true },
  { name: 'cluster-announce-bus-port', kind: 'int', default: '0', min: 0, max: 65535, mutable: true },
  { name: 'cluster-require-full-coverage', kind: 'bool', default: 'yes', mutable: true },
  { name: 'cluster-allow-reads-when-down', kind: 'bool', default: 'no', mutable: true },
  { name: 'cluster-allow-pubsubshard-when-down', kind: 'bool', default: 'yes', mutable: true },
  { name: 'cluster-replica-validity-factor', aliases: ['cluster-slave-validity-factor'], kind: 'int', default: '10', min: 0, max: 2147483647, mutable: true },
  { name: 'cluster-migration-barrier', kind: 'int', default: '1', min: 0, max: 2147483647, mutable: true },
  { name: 'cluster-allow-replica-migration', kind: 'bool', default: 'yes', mutable: true },
  { name: 'cluster-replica-no-failover', aliases: ['cluster-slave-no-failover'], kind: 'bool', default: 'no', mutable: true },
  { name: 'cluster-preferred-endpoint-type', kind: 'enum', default: 'ip', values: ['ip', 'hostname', 'unknown-endpoint'], mutable: true },
  { name: 'cluster-link-sendbuf-limit', kind: 'memory', default: '0', mutable: true },
];

export class ConfigError extends Error {}

function parseMemory(text: string): number | null {
  const m = /^(-?\d+)(k|kb|m|mb|g|gb|b)?$/i.exec(text);
  if (!m) return null;
  const units: Record<string, number> = { '': 1, b: 1, k: 1000, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  return Number(m[1]) * units[(m[2] ?? '').toLowerCase()];
}

/** Validates and normalises a value (`current`: the value it replaces); throws ConfigError with Redis's wording. */
function normalise(def: ConfigDef, args: string[], current: string): string {
  const v = args.join(' ');
  switch (def.kind) {
    case 'events': {
      const flags = parseEventClasses(v);
      if (flags < 0) throw new ConfigError(INVALID_EVENT_CLASS);
      return formatEventClasses(flags);
    }
    case 'obuf': {
      const updated = updateBufferLimits(current, v);
      if (updated instanceof Error) throw new ConfigError(updated.message);
      return updated;
    }
    case 'bool': {
      const l = v.toLowerCase();
      if (args.length !== 1 || (l !== 'yes' && l !== 'no')) throw new ConfigError("argument must be 'yes' or 'no'");
      return l;
    }
    case 'int': {
      if (args.length !== 1 || !/^-?\d+$/.test(v)) throw new ConfigError("argument couldn't be parsed into an integer");
      const n = Number(v);
      if ((def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max)) {
        throw new ConfigError(`argument must be between ${def.min} and ${def.max} inclusive`);
      }
      if (def.clamp) return String(Math.min(def.clamp[1], Math.max(def.clamp[0], n)));
      return String(n);
    }
    case 'memory': {
      const n = args.length === 1 ? parseMemory(v) : null;
      if (n === null || n < 0) throw new ConfigError('argument must be a memory value');
      // Redis's bound is LONG_MAX; a value past weft's own ceiling names that one instead.
      if (def.min !== undefined && n < def.min) throw new ConfigError(`argument must be between ${def.min} and 9223372036854775807 inclusive`);
      if (def.max !== undefined && n > def.max) throw new ConfigError(`argument must be between ${def.min ?? 0} and ${def.max} inclusive`);
      return String(n);
    }
    case 'enum': {
      const l = v.toLowerCase();
      if (args.length !== 1 || !def.values!.includes(l)) {
        throw new ConfigError(`argument(s) must be one of the following: ${def.values!.join(', ')}`);
      }
      return l;
    }
    case 'save': {
      const parts = v.trim() === '' ? [] : v.trim().split(/\s+/);
      if (parts.length % 2 !== 0 || parts.some((p) => !/^\d+$/.test(p))) throw new ConfigError('Invalid save parameters');
      return parts.join(' ');
    }
    case 'list':
      return args.join(' ');
    default:
      return v;
  }
}

const BY_NAME = new Map<string, ConfigDef>();
for (const d of DEFS) {
  BY_NAME.set(d.name, d);
  for (const a of d.aliases ?? []) BY_NAME.set(a, d);
}

export interface LoadResult {
  config: Config;
  /** Redis directives weft accepts but does not implement (one warning each). */
  ignored: string[];
  /** Implemented directives whose value is accepted but not yet honoured. */
  notHonoured: string[];
}

export class Config {
  private readonly values = new Map<string, string>();
  configFile = '';
  /** Redis directives read from the file but not implemented by weft (kept for CONFIG REWRITE). */
  readonly foreign: string[] = [];

  constructor() {
    for (const d of DEFS) this.values.set(d.name, d.default);
    this.values.set('dir', process.cwd());
  }

  get(name: string): string | undefined {
    const def = BY_NAME.get(name.toLowerCase());
    return def ? this.values.get(def.name) : undefined;
  }

  number(name: string): number {
    return Number(this.get(name));
  }

  bool(name: string): boolean {
    return this.get(name) === 'yes';
  }

  /** Sets from already-validated text (used when applying a broadcast). */
  setRaw(name: string, value: string): void {
    this.values.set(name, value);
  }

  snapshot(): [string, string][] {
    return [...this.values.entries()];
  }

  static fromSnapshot(entries: [string, string][]): Config {
    const c = new Config();
    for (const [k, v] of entries) c.values.set(k, v);
    return c;
  }

  /** CONFIG GET's matching: Redis's glob, case-insensitive, on names and aliases. */
  match(pattern: string): [string, string][] {
    const p = Buffer.from(pattern, 'latin1');
    const out: [string, string][] = [];
    const seen = new Set<string>();
    for (const [alias, def] of BY_NAME) {
      const name = Buffer.from(alias, 'latin1');
      if (globMatch(p, 0, p.length, name, 0, name.length, true) && !seen.has(def.name)) {
        seen.add(def.name);
        out.push([alias, this.render(def)]);
      }
    }
    return out;
  }

  private render(def: ConfigDef): string {
    return this.values.get(def.name) ?? '';
  }

  /**
   * CONFIG SET of several pairs, all or nothing, with Redis 7's errors.
   * Returns the normalised values to broadcast.
   */
  trySet(pairs: [string, string][]): [string, string][] {
    const out: [string, string][] = [];
    for (const [name, value] of pairs) {
      const def = BY_NAME.get(name.toLowerCase());
      if (!def) throw new ConfigError(`Unknown option or number of arguments for CONFIG SET - '${name}'`);
      if (!def.mutable) throw new ConfigError(`CONFIG SET failed (possibly related to argument '${name}') - can't set immutable config`);
      try {
        const current = out.find(([n]) => n === def.name)?.[1] ?? this.values.get(def.name)!;
        out.push([def.name, normalise(def, [value], current)]);
      } catch (e) {
        throw new ConfigError(`CONFIG SET failed (possibly related to argument '${name}') - ${(e as Error).message}`);
      }
    }
    for (const [n, v] of out) this.values.set(n, v);
    return out;
  }

  /**
   * Parses redis.conf text plus command-line options as loadServerConfig:
   * the options are appended after a newline as `name "arg"...` lines.
   */
  static load(fileText: string, options: string[][]): LoadResult {
    const config = new Config();
    const ignored: string[] = [];
    const notHonoured: string[] = [];
    let text = fileText;
    for (const opt of options) text += '\n' + opt.map((a, i) => (i === 0 ? a : quoteRepr(a))).join(' ');
    const lines = text.split('\n');
    for (let n = 0; n < lines.length; n++) {
      const line = lines[n].trim();
      if (line === '' || line.startsWith('#')) continue;
      const argv = splitConfigArgs(line);
      const fail = (msg: string): never => {
        throw new ConfigError(
          `\n*** FATAL CONFIG FILE ERROR (Redis ${REDIS_COMPAT_VERSION}) ***\nReading the configuration file, at line ${n + 1}\n>>> '${line}'\n${msg}`,
        );
      };
      if (argv === null) fail('Unbalanced quotes in configuration line');
      const args = argv as string[];
      const name = args[0].toLowerCase();
      const def = BY_NAME.get(name);
      if (def) {
        if (args.length < 2 && def.kind !== 'save' && def.kind !== 'string') fail('wrong number of arguments');
        try {
          const v = normalise(def, args.slice(1), config.values.get(def.name)!);
          config.values.set(def.name, v);
          if (def.notHonoured?.(v) && !notHonoured.includes(def.name)) notHonoured.push(def.name);
        } catch (e) {
          fail((e as Error).message);
        }
      } else if (REDIS_DIRECTIVES.has(name)) {
        if (!ignored.includes(name)) ignored.push(name);
        config.foreign.push(line);
      } else {
        fail('Bad directive or wrong number of arguments');
      }
    }
    const dir = config.values.get('dir')!;
    config.values.set('dir', path.resolve(dir));
    return { config, ignored, notHonoured };
  }

  /** CONFIG REWRITE: rewrites the file with the current values, keeping foreign directives. */
  rewrite(): void {
    if (!this.configFile) throw new ConfigError('The server is running without a config file');
    const lines = ['# Generated by CONFIG REWRITE'];
    for (const d of DEFS) {
      const v = this.values.get(d.name)!;
      if (v === d.default && d.name !== 'port') continue;
      lines.push(`${d.name} ${d.kind === 'string' || v === '' ? quoteRepr(v) : v}`);
    }
    lines.push(...this.foreign);
    const tmp = `${this.configFile}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, lines.join('\n') + '\n');
    fs.renameSync(tmp, this.configFile);
  }
}

function quoteRepr(s: string): string {
  let out = '"';
  for (const ch of s) {
    if (ch === '\\' || ch === '"') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return out + '"';
}

/** sdssplitargs over a config line (strings), or null on unbalanced quotes. */
export function splitConfigArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++;
    if (i >= line.length) break;
    let cur = '';
    let inDq = false;
    let inSq = false;
    for (;;) {
      const ch = line[i];
      if (inDq) {
        if (i >= line.length) return null;
        if (ch === '\\' && line[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (ch === '\\' && i + 1 < line.length) {
          i++;
          const e = line[i];
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (ch === '"') {
          if (i + 1 < line.length && !/\s/.test(line[i + 1])) return null;
          i++;
          break;
        } else cur += ch;
      } else if (inSq) {
        if (i >= line.length) return null;
        if (ch === '\\' && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (ch === "'") {
          if (i + 1 < line.length && !/\s/.test(line[i + 1])) return null;
          i++;
          break;
        } else cur += ch;
      } else if (i >= line.length || /\s/.test(ch)) {
        break;
      } else if (ch === '"') inDq = true;
      else if (ch === "'") inSq = true;
      else cur += ch;
      i++;
    }
    out.push(cur);
  }
  return out;
}

/**
 * Splits argv as redis-server does: an optional config file first (or "-"
 * for stdin), then `--name value...` groups.
 */
export function parseCommandLine(argv: string[]): { file: string | null; options: string[][] } {
  let file: string | null = null;
  let i = 0;
  if (argv.length > 0 && !argv[0].startsWith('--')) {
    file = argv[0];
    i = 1;
  }
  const options: string[][] = [];
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--') && a.length > 2) options.push([a.slice(2)]);
    else if (options.length > 0) options[options.length - 1].push(a);
    else options.push([a]);
  }
  return { file, options };
}

/** The listen addresses of a `bind` value: '*' and '::*' mean any, a leading '-' marks one that may be unavailable. */
export function bindAddresses(bind: string): { host: string; optional: boolean }[] {
  return bind.split(/\s+/).filter(Boolean).map((a) => {
    const optional = a.startsWith('-');
    let host = optional ? a.slice(1) : a;
    if (host === '*') host = '0.0.0.0';
    if (host === '::*') host = '::';
    return { host, optional };
  });
}
