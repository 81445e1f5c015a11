/**
 * Sorted-set algebra (t_zset.c zunionInterDiffGenericCommand, zdiff,
 * zunionInterAggregate): ZUNION, ZINTER, ZDIFF, ZINTERCARD and the STORE
 * forms. Plain sets are accepted as inputs, every member scoring 1.
 *
 * As in Redis: every input is looked up and type-checked before the options
 * are parsed; union and intersection visit the inputs from the smallest
 * (a stable sort, as glibc's qsort is a merge sort), which also fixes the
 * order a SUM adds up in; the difference keeps the first input first. A
 * weighted score that is NaN (inf * 0) counts as 0, and so does a SUM of
 * inf and -inf. STORE results start as listpacks when small enough.
 */
import type { CommandContext } from './context.js';
import { NOT_INTEGER, SYNTAX, WRONGTYPE } from './errors.js';
import { parseScoreStrict } from './zset-scores.js';
import { compareEntries, replyEntries, storeZsetResult, type ZEntry } from './zset-common.js';
import { ValueType } from '../store/layout.js';
import { sourceFind, sourceForEach, sourceFound, sourceLength, type ZSource } from '../store/zset-sources.js';

const WEIGHT_NOT_FLOAT = 'weight value is not a float';
const LIMIT_NEGATIVE = "LIMIT can't be negative";

const enum Op {
  Union,
  Inter,
  Diff,
}

const enum Aggregate {
  Sum,
  Min,
  Max,
}

/** zunionInterAggregate. */
function aggregate(target: number, value: number, how: Aggregate): number {
  if (how === Aggregate.Sum) {
    const sum = target + value;
    return sum !== sum ? 0 : sum;
  }
  if (how === Aggregate.Min) return value < target ? value : target;
  return value > target ? value : target;
}

function latin1(u8: Uint8Array, start: number, len: number): string {
  return Buffer.from(u8.buffer, u8.byteOffset + start, len).toString('latin1');
}

/** weight * score, a NaN (inf * 0) counting as 0. */
function weighted(weight: number, score: number): number {
  const v = weight * score;
  return v !== v ? 0 : v;
}

function union(srcs: ZSource[], how: Aggregate): ZEntry[] {
  const acc = new Map<string, number>();
  for (const src of srcs) {
    if (sourceLength(src) === 0) continue;
    sourceForEach(src, (u8, start, len, score) => {
      const value = weighted(src.weight, score);
      const m = latin1(u8, start, len);
      const prev = acc.get(m);
      acc.set(m, prev === undefined ? value : aggregate(prev, value, how));
    });
  }
  const out: ZEntry[] = [];
  for (const [m, s] of acc) out.push({ m, s });
  return out;
}

/** The intersection's members (or, with `cardinality`, only their count, stopping at `limit` when not 0). */
function inter(srcs: ZSource[], how: Aggregate, cardinality: boolean, limit: number): { entries: ZEntry[]; count: number } {
  const entries: ZEntry[] = [];
  let count = 0;
  const first = srcs[0];
  if (sourceLength(first) === 0) return { entries, count };
  sourceForEach(first, (u8, start, len, score) => {
    let total = weighted(first.weight, score);
    let j = 1;
    for (; j < srcs.length; j++) {
      const other = srcs[j];
      let value: number;
      // The same key twice: Redis does not look into the set it is walking.
      if (other.s === first.s && other.e === first.e) value = score * other.weight;
      else if (sourceFind(other, u8, start, len)) value = sourceFound.score * other.weight;
      else break;
      total = aggregate(total, value, how);
    }
    if (j < srcs.length) return true;
    count++;
    if (cardinality) return limit === 0 || count < limit;
    entries.push({ m: latin1(u8, start, len), s: total });
    return true;
  });
  return { entries, count };
}

/** zdiff: the first input's members found in no other input, with their own scores. */
function diff(srcs: ZSource[]): ZEntry[] {
  const out: ZEntry[] = [];
  const first = srcs[0];
  sourceForEach(first, (u8, start, len, score) => {
    for (let j = 1; j < srcs.length; j++) {
      const other = srcs[j];
      if ((other.s === first.s && other.e === first.e) || sourceFind(other, u8, start, len)) return;
    }
    out.push({ m: latin1(u8, start, len), s: score });
  });
  return out;
}

/** The inputs from argument `first` on, type-checked; null after replying WRONGTYPE. */
function lookupSources(c: CommandContext, first: number, n: number, write: boolean): ZSource[] | null {
  const srcs: ZSource[] = [];
  for (let j = first; j < first + n; j++) {
    c.selectKey(j);
    const e = write ? c.findWrite() : c.findRead();
    if (e !== 0 && c.typeOf(e) !== ValueType.ZSet && c.typeOf(e) !== ValueType.Set) {
      c.out.error(WRONGTYPE);
      return null;
    }
    srcs.push({ s: e === 0 ? null : c.shard, e, weight: 1 });
  }
  return srcs;
}

interface AlgebraOptions {
  how: Aggregate;
  withScores: boolean;
  limit: number;
}

/** The options after the keys; null after replying an error. */
function parseOptions(c: CommandContext, j: number, srcs: ZSource[], op: Op, store: boolean, cardinality: boolean): AlgebraOptions | null {
  const o: AlgebraOptions = { how: Aggregate.Sum, withScores: false, limit: 0 };
  const weighable = op !== Op.Diff && !cardinality;
  while (j < c.argc) {
    const remaining = c.argc - j;
    if (weighable && remaining >= srcs.length + 1 && c.argIs(j, 'weights')) {
      j++;
      for (const src of srcs) {
        const w = parseScoreStrict(c.buf, c.argStart[j], c.argLen[j++]);
        if (w === null) return fail(c, WEIGHT_NOT_FLOAT);
        src.weight = w;
      }
    } else if (weighable && remaining >= 2 && c.argIs(j, 'aggregate')) {
      j++;
      if (c.argIs(j, 'sum')) o.how = Aggregate.Sum;
      else if (c.argIs(j, 'min')) o.how = Aggregate.Min;
      else if (c.argIs(j, 'max')) o.how = Aggregate.Max;
      else return fail(c, SYNTAX);
      j++;
    } else if (!store && !cardinality && c.argIs(j, 'withscores')) {
      j++;
      o.withScores = true;
    } else if (cardinality && remaining >= 2 && c.argIs(j, 'limit')) {
      const n = c.argInt(j + 1);
      if (n === null || n < 0) return fail(c, LIMIT_NEGATIVE);
      o.limit = n;
      j += 2;
    } else {
      return fail(c, SYNTAX);
    }
  }
  return o;
}

function fail(c: CommandContext, message: string): null {
  c.out.error(message);
  return null;
}

/**
 * zunionInterDiffGenericCommand: numkeys at `numkeysIdx`, the keys after it;
 * `store`: the destination is argument 1; `cardinality`: ZINTERCARD.
 */
function zsetOperation(c: CommandContext, numkeysIdx: number, op: Op, store: boolean, cardinality: boolean): void {
  const setnum = c.argInt(numkeysIdx);
  if (setnum === null) return void c.out.error(NOT_INTEGER);
  if (setnum < 1) return void c.out.error(`at least 1 input key is needed for '${c.spec.fullName ?? c.spec.name}' command`);
  if (setnum > c.argc - (numkeysIdx + 1)) return void c.out.error(SYNTAX);
  const first = numkeysIdx + 1;
  c.lockKeyRange(first, first + setnum - 1, 1);
  if (store) c.lockKeysAt([1]);
  const srcs = lookupSources(c, first, setnum, store);
  if (srcs === null) return;
  const o = parseOptions(c, first + setnum, srcs, op, store, cardinality);
  if (o === null) return;
  if (op !== Op.Diff) {
    const lengths = new Map(srcs.map((s) => [s, sourceLength(s)]));
    srcs.sort((a, b) => lengths.get(a)! - lengths.get(b)!);
  }
  let entries: ZEntry[];
  if (op === Op.Inter) {
    const r = inter(srcs, o.how, cardinality, o.limit);
    if (cardinality) return void c.out.integer(r.count);
    entries = r.entries;
  } else {
    entries = op === Op.Union ? union(srcs, o.how) : diff(srcs);
  }
  entries.sort(compareEntries);
  if (store) storeZsetResult(c, 1, entries);
  else replyEntries(c, entries, o.withScores);
}

export const zunion = (c: CommandContext): void => zsetOperation(c, 1, Op.Union, false, false);
export const zinter = (c: CommandContext): void => zsetOperation(c, 1, Op.Inter, false, false);
export const zdiff = (c: CommandContext): void => zsetOperation(c, 1, Op.Diff, false, false);
export const zintercard = (c: CommandContext): void => zsetOperation(c, 1, Op.Inter, false, true);
export const zunionstore = (c: CommandContext): void => zsetOperation(c, 2, Op.Union, true, false);
export const zinterstore = (c: CommandContext): void => zsetOperation(c, 2, Op.Inter, true, false);
export const zdiffstore = (c: CommandContext): void => zsetOperation(c, 2, Op.Diff, true, false);
