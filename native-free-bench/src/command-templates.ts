/**
 * Request templates: each command the benchmark sends (the default SET/GET
 * workload or a --command) is split into arguments once and pre-encoded as
 * RESP, so that a request is written straight into a connection's write
 * buffer: constant bytes copied, the key's digits and the value's bytes
 * written in place, no Buffer or string per request.
 *
 * --command follows memtier: the text is split like redis-cli/sdssplitargs
 * (quotes and escapes), `__key__` stands for a generated key (with text
 * around it, as memtier's key affixes) and `__data__` for a generated value;
 * the row of the results table is the first word, lower-cased and
 * capitalised, plus "s" (memtier's run_stats: "Sets", "Incrs", "Lpushs").
 */
import type { BenchConfig } from './config.js';
import type { KeyPattern } from './key-patterns.js';

export const KEY_PLACEHOLDER = '__key__';
export const DATA_PLACEHOLDER = '__data__';

const enum PartKind {
  Const,
  Key,
  Data,
  Expiry,
}

interface ConstPart {
  kind: PartKind.Const;
  /** One or more whole arguments, already RESP-encoded ($len, bytes, CRLF). */
  bytes: Buffer;
}

interface KeyPart {
  kind: PartKind.Key;
  /** Template text before __key__, then --key-prefix. */
  before: Buffer;
  /** Template text after __key__. */
  after: Buffer;
}

type Part = ConstPart | KeyPart | { kind: PartKind.Data } | { kind: PartKind.Expiry };

export interface CommandTemplate {
  /** The command's first word, upper-cased (memtier's command_name). */
  name: string;
  parts: Part[];
  /** The first key argument (the routing key in cluster mode), or null for a keyless command. */
  routingKey: KeyPart | null;
  /** Bytes of everything but keys, values and the expiry. */
  constBytes: number;
  keyParts: number;
  dataParts: number;
  /** The most bytes one request can take (set by buildWorkload from the largest value size). */
  maxBytes: number;
}

/** The results-table row of a command: memtier capitalises the lower-cased name and appends "s". */
export function rowName(commandName: string): string {
  const lower = commandName.toLowerCase();
  return lower.charAt(0).toUpperCase() + lower.slice(1) + 's';
}

/**
 * Splits a command line into arguments as redis-cli (sdssplitargs) does:
 * blanks separate arguments; "double quotes" take \n \r \t \b \a \\ \" and
 * \xHH escapes; 'single quotes' take \'; a closing quote must end the argument.
 */
export function splitArgs(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && /\s/.test(line[i])) i++;
    if (i >= n) return args;
    let cur = '';
    let inDouble = false;
    let inSingle = false;
    for (;;) {
      const c = line[i];
      if (inDouble) {
        if (i >= n) throw new Error(`unbalanced quotes in ${JSON.stringify(line)}`);
        if (c === '\\' && line[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < n) {
          i++;
          const e = line[i];
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (c === '"') {
          if (i + 1 < n && !/\s/.test(line[i + 1])) throw new Error(`closing quote must be followed by a space in ${JSON.stringify(line)}`);
          inDouble = false;
          i++;
          break;
        } else {
          cur += c;
        }
      } else if (inSingle) {
        if (i >= n) throw new Error(`unbalanced quotes in ${JSON.stringify(line)}`);
        if (c === '\\' && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (c === "'") {
          if (i + 1 < n && !/\s/.test(line[i + 1])) throw new Error(`closing quote must be followed by a space in ${JSON.stringify(line)}`);
          inSingle = false;
          i++;
          break;
        } else {
          cur += c;
        }
      } else {
        if (i >= n || /\s/.test(c)) break;
        if (c === '"') inDouble = true;
        else if (c === "'") inSingle = true;
        else cur += c;
      }
      i++;
    }
    args.push(cur);
  }
}

function bulk(arg: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`$${arg.length}\r\n`), arg, Buffer.from('\r\n')]);
}

/**
 * Builds a template from arguments. `__data__` must be a whole argument;
 * `__key__` may have text around it; `__expiry__` (internal, for SETEX) is
 * the --expiry-range seconds.
 */
export function buildTemplate(args: string[], keyPrefix: string, maxData: number): CommandTemplate {
  if (args.length === 0) throw new Error('empty command');
  const parts: Part[] = [];
  let pendingConst: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  let constBytes = 0;
  let keyParts = 0;
  let dataParts = 0;
  let routingKey: KeyPart | null = null;
  const flushConst = () => {
    if (pendingConst.length === 0) return;
    const bytes = Buffer.concat(pendingConst);
    constBytes += bytes.length;
    parts.push({ kind: PartKind.Const, bytes });
    pendingConst = [];
  };
  for (const arg of args) {
    const keyAt = arg.indexOf(KEY_PLACEHOLDER);
    if (arg === DATA_PLACEHOLDER) {
      flushConst();
      parts.push({ kind: PartKind.Data });
      dataParts++;
    } else if (arg === '__expiry__') {
      flushConst();
      parts.push({ kind: PartKind.Expiry });
    } else if (keyAt >= 0) {
      flushConst();
      const part: KeyPart = {
        kind: PartKind.Key,
        before: Buffer.from(arg.slice(0, keyAt) + keyPrefix),
        after: Buffer.from(arg.slice(keyAt + KEY_PLACEHOLDER.length)),
      };
      parts.push(part);
      routingKey ??= part;
      keyParts++;
    } else {
      pendingConst.push(bulk(Buffer.from(arg)));
    }
  }
  flushConst();
  const t: CommandTemplate = { name: args[0].toUpperCase(), parts, routingKey, constBytes, keyParts, dataParts, maxBytes: 0 };
  t.maxBytes = maxRequestBytes(t, maxData);
  return t;
}

/** Number of decimal digits of a non-negative integer. */
function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** Writes the decimal digits of a non-negative integer at pos; returns the end. */
function writeUint(buf: Buffer, pos: number, n: number): number {
  const end = pos + digits(n);
  let p = end;
  do {
    const q = Math.floor(n / 10);
    buf[--p] = 48 + (n - q * 10);
    n = q;
  } while (n > 0);
  return end;
}

function writeBytes(buf: Buffer, pos: number, src: Buffer): number {
  const n = src.length;
  if (n < 32) {
    for (let i = 0; i < n; i++) buf[pos + i] = src[i];
  } else {
    src.copy(buf, pos);
  }
  return pos + n;
}

/** Writes "$<n>\r\n" at pos; returns the end. */
function writeBulkHeader(buf: Buffer, pos: number, n: number): number {
  buf[pos] = 0x24;
  pos = writeUint(buf, pos + 1, n);
  buf[pos] = 13;
  buf[pos + 1] = 10;
  return pos + 2;
}

/** Writes the bytes of key `index` of this key argument at pos (no RESP framing); returns the end. */
export function writeKeyBytes(part: KeyPart, buf: Buffer, pos: number, index: number): number {
  pos = writeBytes(buf, pos, part.before);
  pos = writeUint(buf, pos, index);
  return writeBytes(buf, pos, part.after);
}

/** Where a request gets its generated arguments from (the client's key source and value sizes). */
export interface ArgumentSource {
  /** The index of the next key after the first one (memtier draws a new key per __key__). */
  nextKeyIndex(): number;
  /** The size of the next value. */
  nextDataSize(): number;
}

/** The most bytes a request of this template can take with values of at most maxData bytes. */
export function maxRequestBytes(t: CommandTemplate, maxData: number): number {
  let n = t.constBytes + t.dataParts * (maxData + 16) + 32;
  for (const p of t.parts) if (p.kind === PartKind.Key) n += p.before.length + p.after.length + 40;
  return n;
}

/**
 * Writes one request at pos and returns its end. The first key argument gets
 * `firstKey` (already drawn, to route the request); later ones draw from
 * `src`; values are memtier's default data, 'x' repeated.
 */
export function writeRequest(t: CommandTemplate, buf: Buffer, pos: number, firstKey: number, expiry: number, src: ArgumentSource): number {
  let firstDone = false;
  const parts = t.parts;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    switch (p.kind) {
      case PartKind.Const:
        pos = writeBytes(buf, pos, p.bytes);
        break;
      case PartKind.Key: {
        const index = firstDone ? src.nextKeyIndex() : firstKey;
        firstDone = true;
        pos = writeBulkHeader(buf, pos, p.before.length + digits(index) + p.after.length);
        pos = writeKeyBytes(p, buf, pos, index);
        buf[pos] = 13;
        buf[pos + 1] = 10;
        pos += 2;
        break;
      }
      case PartKind.Data: {
        const size = src.nextDataSize();
        pos = writeBulkHeader(buf, pos, size);
        buf.fill(0x78, pos, pos + size);
        pos += size;
        buf[pos] = 13;
        buf[pos + 1] = 10;
        pos += 2;
        break;
      }
      case PartKind.Expiry:
        pos = writeBulkHeader(buf, pos, digits(expiry));
        pos = writeUint(buf, pos, expiry);
        buf[pos] = 13;
        buf[pos + 1] = 10;
        pos += 2;
        break;
    }
  }
  return pos;
}

/** One step of the request cycle: a template sent `count` times in a row (memtier's --ratio / --command-ratio). */
export interface WorkloadStep {
  template: CommandTemplate;
  /** Sent instead of `template` when --expiry-range draws a non-zero expiry (memtier's SETEX). */
  withExpiry: CommandTemplate | null;
  count: number;
  row: number;
  pattern: KeyPattern;
  /** The sequential key iterator of this step (S and P). */
  iterator: number;
  /** Whether replies count hits and misses (the default GET). */
  countsHits: boolean;
}

export interface Workload {
  steps: WorkloadStep[];
  /** Results-table rows, in order (before Totals). */
  rows: string[];
  /** Each row's command name, for the latency distribution (memtier prints SET, GET, or the command name). */
  labels: string[];
  /** Number of sequential key iterators. */
  iterators: number;
  /** The pattern that decides the P slice: the SET side, or the first --command. */
  slicePattern: KeyPattern;
}

export interface WorkloadOptions {
  keyPrefix: string;
  /** The largest value size (--data-size, or the top of --data-size-range). */
  maxData: number;
  setRatio: number;
  getRatio: number;
  setPattern: KeyPattern;
  getPattern: KeyPattern;
  expiry: boolean;
  commands: { text: string; ratio: number; keyPattern: KeyPattern }[];
}

/** The request cycle: memtier's SET×a then GET×b, or each --command its ratio times in order. */
export function buildWorkload(o: WorkloadOptions): Workload {
  if (o.commands.length === 0) {
    return {
      steps: [
        { template: buildTemplate(['SET', KEY_PLACEHOLDER, DATA_PLACEHOLDER], o.keyPrefix, o.maxData),
          withExpiry: o.expiry ? buildTemplate(['SETEX', KEY_PLACEHOLDER, '__expiry__', DATA_PLACEHOLDER], o.keyPrefix, o.maxData) : null,
          count: o.setRatio, row: 0, pattern: o.setPattern, iterator: 0, countsHits: false },
        { template: buildTemplate(['GET', KEY_PLACEHOLDER], o.keyPrefix, o.maxData), withExpiry: null,
          count: o.getRatio, row: 1, pattern: o.getPattern, iterator: 1, countsHits: true },
      ].filter((s) => s.count > 0),
      rows: ['Sets', 'Gets'],
      labels: ['SET', 'GET'],
      iterators: 2,
      slicePattern: o.setPattern,
    };
  }
  // Commands with the same first word share a row (memtier's default --command-stats-breakdown=command).
  const rows: string[] = [];
  const labels: string[] = [];
  const steps = o.commands.map((c, i): WorkloadStep => {
    const template = buildTemplate(splitArgs(c.text), o.keyPrefix, o.maxData);
    const name = rowName(template.name);
    let row = rows.indexOf(name);
    if (row < 0) {
      row = rows.push(name) - 1;
      labels.push(template.name);
    }
    return { template, withExpiry: null, count: c.ratio, row, pattern: c.keyPattern, iterator: i, countsHits: false };
  });
  return { steps: steps.filter((s) => s.count > 0), rows, labels, iterators: o.commands.length, slicePattern: o.commands[0].keyPattern };
}

/** The workload a configuration asks for. */
export function workloadFor(cfg: BenchConfig): Workload {
  return buildWorkload({
    keyPrefix: cfg.keyPrefix,
    maxData: cfg.dataSizeRange ? cfg.dataSizeRange.max : cfg.dataSize,
    setRatio: cfg.setRatio,
    getRatio: cfg.getRatio,
    setPattern: cfg.setPattern,
    getPattern: cfg.getPattern,
    expiry: cfg.expiryRange.max > 0,
    commands: cfg.commands,
  });
}
