/**
 * The command table: every family's CommandSpecs, indexed for an
 * allocation-free, case-insensitive lookup from the request bytes.
 */
import type { CommandSpec } from './command-spec.js';
import { stringCommands } from './strings.js';
import { bitCommands } from './bits.js';
import { lcsCommands } from './lcs.js';
import { keyCommands } from './keys.js';
import { keyspaceScanCommands } from './keyspace-scan.js';
import { connectionCommands } from './connection.js';
import { serverCommands } from './server-admin.js';
import { introspectionCommands } from './introspection.js';
import { clusterCommands } from './cluster.js';
import { replicationCommands } from './replication.js';
import { listCommands } from './lists.js';
import { blockingListCommands } from './blocking-lists.js';
import { hashCommands } from './hashes.js';
import { setCommands } from './sets.js';
import { sortedSetCommands } from './sorted-sets.js';
import { blockingSortedSetCommands } from './blocking-sorted-sets.js';
import { sortCommands } from './sort.js';
import { pubsubCommands } from './pubsub.js';
import { transactionCommands } from './transactions.js';
import { scriptingCommands } from './scripting.js';
import { functionCommands } from './functions.js';
import { declaredEvent } from './keyspace-events.js';

function lowerHash(buf: Uint8Array, start: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) {
    let ch = buf[start + i];
    if (ch >= 65 && ch <= 90) ch += 32;
    h = Math.imul(h ^ ch, 0x01000193);
  }
  return h >>> 0;
}

function equalsLower(buf: Uint8Array, start: number, len: number, name: string): boolean {
  if (len !== name.length) return false;
  for (let i = 0; i < len; i++) {
    let ch = buf[start + i];
    if (ch >= 65 && ch <= 90) ch += 32;
    if (ch !== name.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Command names by their case-folded hash, in an open-addressing table of
 * typed arrays (linear probing, at most a quarter full): a lookup is one
 * hash over the name's bytes and, nearly always, one probe and one compare.
 */
export class CommandIndex {
  readonly specs: CommandSpec[];
  private readonly mask: number;
  private readonly hashes: Uint32Array;
  /** Index into `specs` plus one; 0 is an empty slot. */
  private readonly entries: Uint16Array;

  constructor(specs: CommandSpec[]) {
    this.specs = specs;
    let size = 16;
    while (size < specs.length * 4) size *= 2;
    this.mask = size - 1;
    this.hashes = new Uint32Array(size);
    this.entries = new Uint16Array(size);
    specs.forEach((s, index) => {
      const b = Buffer.from(s.name);
      const h = lowerHash(b, 0, b.length);
      let i = h & this.mask;
      while (this.entries[i] !== 0) i = (i + 1) & this.mask;
      this.hashes[i] = h;
      this.entries[i] = index + 1;
    });
  }

  find(buf: Uint8Array, start: number, len: number): CommandSpec | undefined {
    const h = lowerHash(buf, start, len);
    const entries = this.entries;
    for (let i = h & this.mask; entries[i] !== 0; i = (i + 1) & this.mask) {
      if (this.hashes[i] === h) {
        const spec = this.specs[entries[i] - 1];
        if (equalsLower(buf, start, len, spec.name)) return spec;
      }
    }
    return undefined;
  }

  findByName(name: string): CommandSpec | undefined {
    const b = Buffer.from(name);
    return this.find(b, 0, b.length);
  }
}

export class CommandTable {
  readonly top: CommandIndex;
  private readonly subIndexes = new Map<CommandSpec, CommandIndex>();

  constructor(specs: CommandSpec[]) {
    this.top = new CommandIndex(specs);
    for (const s of specs) {
      s.fullName = s.name;
      s.keyspaceEvent = declaredEvent(s);
      if (s.subcommands) {
        for (const sub of s.subcommands) {
          sub.parent = s;
          sub.fullName = `${s.name}|${sub.name}`;
        }
        this.subIndexes.set(s, new CommandIndex(s.subcommands));
      }
    }
  }

  subcommand(parent: CommandSpec, buf: Uint8Array, start: number, len: number): CommandSpec | undefined {
    return this.subIndexes.get(parent)?.find(buf, start, len);
  }

  /** Every top-level command (subcommands hang off their containers), for COMMAND, COUNT and LIST. */
  get all(): CommandSpec[] {
    return this.top.specs;
  }
}

let table: CommandTable | undefined;

export function commandTable(): CommandTable {
  table ??= new CommandTable([
    ...stringCommands,
    ...bitCommands,
    ...lcsCommands,
    ...keyCommands,
    ...keyspaceScanCommands,
    ...connectionCommands,
    ...serverCommands,
    ...introspectionCommands,
    ...clusterCommands,
    ...replicationCommands,
    ...listCommands,
    ...blockingListCommands,
    ...hashCommands,
    ...setCommands,
    ...sortedSetCommands,
    ...blockingSortedSetCommands,
    ...sortCommands,
    ...pubsubCommands,
    ...transactionCommands,
    ...scriptingCommands,
    ...functionCommands,
  ]);
  return table;
}
