/**
 * SORT and SORT_RO (Redis 7.0's sort.c: sortCommandGeneric,
 * lookupKeyByPattern, sortCompare, sortGetKeys and sortROGetKeys).
 *
 * What Redis does and weft keeps:
 * - Options parse left to right: ASC, DESC, ALPHA, LIMIT offset count, BY
 *   pattern, GET pattern (repeatable), STORE destination (SORT only). A
 *   later BY replaces an earlier one, but a BY without '*' sets "don't
 *   sort" for good. In cluster mode a BY with '*' and any GET are refused,
 *   as 7.0 refuses them, whatever the pattern's hash tag.
 * - Errors in the options come before the key is read; then a key that is
 *   not a list, set or sorted set is WRONGTYPE, and a missing key sorts as
 *   an empty list. A sorted set is converted to its skiplist encoding first,
 *   as Redis converts it, for good.
 * - "Don't sort" keeps a list's or sorted set's own order (reversed by
 *   DESC, LIMIT applied while reading), and a set's iteration order, except
 *   that a STORE of a set is sorted ALPHA so the stored list is the same
 *   everywhere it is replicated.
 * - Numeric sorting reads each weight with strtod (BY's value, or the
 *   element); an unreadable one fails the whole command after the sort
 *   ("One or more scores can't be converted into double"); a missing BY key
 *   weighs 0; equal weights order by the elements' bytes. ALPHA compares
 *   with strcoll (the C locale: bytes up to the first NUL) when replying,
 *   and by binary comparison when storing, so a stored result does not
 *   depend on a locale; a missing ALPHA BY value sorts first.
 * - Patterns: "#" is the element itself; otherwise the first '*' is
 *   replaced by the element, and "->field" after it reads a hash field. A
 *   pattern without '*', a missing key or one of the wrong type gives nil
 *   (an empty string in a stored list).
 * - STORE replaces the destination with a list of the results (dropping
 *   its TTL) or deletes it when there are none, replies the count, and
 *   propagates as the SORT itself, as Redis does.
 *
 * Locks: the keys a pattern names can be in any shard, so a SORT that reads
 * through patterns locks every shard (one fixed order); otherwise only the
 * sorted key's shard and the destination's.
 */
import type { CommandContext } from './context.js';
import {
  arg, block, defineCommand, keyArg, oneOf, rangeKeys, tokenArg, unknownKeys, type CommandArgDoc, type CommandSpec, type KeyRef,
} from './command-spec.js';
import { NOT_INTEGER, SYNTAX } from './errors.js';
import { E_TYPE, ValueType } from '../store/layout.js';
import type { Shard } from '../store/shard.js';
import { keyHash, slotAndHash } from '../store/key-hash.js';
import { compareBytes } from '../store/packed.js';
import { qlPush, qlVisitRange } from '../store/quicklist.js';
import { setForEach, setSize } from '../store/set-value.js';
import { hashGet, hashValue } from '../store/hash-type.js';
import { isSkiplist, zsetConvertToSkiplist, zsetLength } from '../store/zset-value.js';
import { zc, zcLoad, zcNext, zcOpen, zcPrev, zcSeekRank } from '../store/zset-cursor.js';
import { listHeader, listLength, opCreateList } from './list-ops.js';
import { parseSortWeight } from './zset-scores.js';
import { signalKeyAsReady } from './blocking.js';

const BY_DENIED_IN_CLUSTER = 'BY option of SORT denied in Cluster mode.';
const GET_DENIED_IN_CLUSTER = 'GET option of SORT denied in Cluster mode.';
const NOT_DOUBLE = "One or more scores can't be converted into double";

const STAR = 42;
const HASH = 35;
const DASH = 45;
const GREATER = 62;

/** One element to sort: its bytes, its numeric weight, its ALPHA BY value (null when missing). */
interface SortItem {
  element: Buffer;
  weight: number;
  byValue: Buffer | null;
}

/** The parsed options (sortCommandGeneric's locals). */
interface SortOptions {
  desc: boolean;
  alpha: boolean;
  dontSort: boolean;
  limitStart: number;
  limitCount: number;
  /** Argument positions: the BY pattern, the destination (-1 when absent), the GET patterns. */
  sortBy: number;
  store: number;
  gets: number[];
}

/** Parses the options from argument 2 on; null after replying the error. */
function parseOptions(c: CommandContext, readonly: boolean): SortOptions | null {
  const o: SortOptions = { desc: false, alpha: false, dontSort: false, limitStart: 0, limitCount: -1, sortBy: -1, store: -1, gets: [] };
  const cluster = c.server.cluster !== null;
  for (let j = 2; j < c.argc; j++) {
    const left = c.argc - j - 1;
    if (c.argIs(j, 'asc')) {
      o.desc = false;
    } else if (c.argIs(j, 'desc')) {
      o.desc = true;
    } else if (c.argIs(j, 'alpha')) {
      o.alpha = true;
    } else if (c.argIs(j, 'limit') && left >= 2) {
      const start = c.argInt(j + 1);
      const count = start === null ? null : c.argInt(j + 2);
      if (start === null || count === null) {
        c.out.error(NOT_INTEGER);
        return null;
      }
      o.limitStart = start;
      o.limitCount = count;
      j += 2;
    } else if (!readonly && c.argIs(j, 'store') && left >= 1) {
      o.store = ++j;
    } else if (c.argIs(j, 'by') && left >= 1) {
      o.sortBy = ++j;
      if (indexOfStar(c.buf, c.argStart[j], c.argLen[j]) < 0) {
        o.dontSort = true;
      } else if (cluster) {
        c.out.error(BY_DENIED_IN_CLUSTER);
        return null;
      }
    } else if (c.argIs(j, 'get') && left >= 1) {
      if (cluster) {
        c.out.error(GET_DENIED_IN_CLUSTER);
        return null;
      }
      o.gets.push(++j);
    } else {
      c.out.error(SYNTAX);
      return null;
    }
  }
  return o;
}

/** strchr(pattern, '*'): the offset of the first '*' before any NUL, or -1. */
function indexOfStar(buf: Uint8Array, start: number, len: number): number {
  for (let i = 0; i < len; i++) {
    const b = buf[start + i];
    if (b === STAR) return i;
    if (b === 0) return -1;
  }
  return -1;
}

function sortGeneric(c: CommandContext, readonly: boolean): void {
  const o = parseOptions(c, readonly);
  if (o === null) return;
  if (o.gets.length > 0 || (o.sortBy >= 0 && !o.dontSort)) c.lockAllShards();
  else c.lockKeysAt(o.store >= 0 ? [1, o.store] : [1]);
  c.selectKey(1);
  let e = o.store >= 0 ? c.findWrite() : c.findRead();
  let type = e === 0 ? ValueType.List : c.typeOf(e);
  if (type !== ValueType.List && type !== ValueType.Set && type !== ValueType.ZSet) {
    c.wrongType();
    return;
  }
  // Sorting a set into a stored list: ALPHA, so every replica stores the same list.
  if (o.dontSort && type === ValueType.Set && o.store >= 0) {
    o.dontSort = false;
    o.alpha = true;
    o.sortBy = -1;
  }
  if (type === ValueType.ZSet && !isSkiplist(c.shard, e)) e = zsetConvertToSkiplist(c.shard, c.db, e);
  const length = e === 0 ? 0 : type === ValueType.List ? listLength(c, e) : type === ValueType.Set ? setSize(c.shard, e) : zsetLength(c.shard, e);
  // LIMIT's sanity checks, as Redis clamps them to the object's size.
  let start = Math.min(Math.max(o.limitStart, 0), length);
  const count = Math.min(Math.max(o.limitCount, -1), length);
  let end = count < 0 ? length - 1 : start + count - 1;
  if (start >= length) {
    start = length - 1;
    end = length - 2;
  }
  if (end >= length) end = length - 1;

  let items: SortItem[];
  if (e === 0) {
    items = [];
  } else if (o.dontSort && type !== ValueType.Set) {
    // The object's own order, only the range asked for: the output starts at 0.
    items = loadRange(c, e, type, start, end, o.desc);
    end -= start;
    start = 0;
  } else {
    items = loadAll(c, e, type);
  }
  if (!o.dontSort) {
    if (!weigh(c, o, items)) {
      c.out.error(NOT_DOUBLE);
      return;
    }
    items.sort(comparator(o));
  }
  if (o.store < 0) replySorted(c, o, items, start, end);
  else storeSorted(c, o, items, start, end);
}

const item = (u8: Uint8Array, start: number, len: number): SortItem =>
  ({ element: Buffer.from(u8.subarray(start, start + len)), weight: 0, byValue: null });

/** Elements start..end of a list or sorted set in its own order (from the tail when `desc`). */
function loadRange(c: CommandContext, e: number, type: number, start: number, end: number, desc: boolean): SortItem[] {
  const items: SortItem[] = [];
  const n = end - start + 1;
  if (n <= 0) return items;
  if (type === ValueType.List) {
    const length = listLength(c, e);
    qlVisitRange(c.shard, listHeader(c, e), desc ? length - start - 1 : start, n, desc, (u8, s, len) => {
      items.push(item(u8, s, len));
    });
    return items;
  }
  const length = zsetLength(c.shard, e);
  zcOpen(c.shard, e);
  zcSeekRank(desc ? length - 1 - start : start);
  for (let i = 0; i < n; i++) {
    zcLoad();
    items.push(item(c.shard.u8, zc.member, zc.len));
    if (desc) zcPrev();
    else zcNext();
  }
  return items;
}

/** Every element, in the object's iteration order. */
function loadAll(c: CommandContext, e: number, type: number): SortItem[] {
  const items: SortItem[] = [];
  if (type === ValueType.List) {
    const length = listLength(c, e);
    qlVisitRange(c.shard, listHeader(c, e), 0, length, false, (u8, s, len) => {
      items.push(item(u8, s, len));
    });
  } else if (type === ValueType.Set) {
    setForEach(c.shard, e, (u8, s, len) => {
      items.push(item(u8, s, len));
    });
  } else {
    const length = zsetLength(c.shard, e);
    zcOpen(c.shard, e);
    zcSeekRank(0);
    for (let i = 0; i < length; i++) {
      zcLoad();
      items.push(item(c.shard.u8, zc.member, zc.len));
      zcNext();
    }
  }
  return items;
}

/** Loads each item's weight (numeric) or BY value (ALPHA); false when a weight is not a double. */
function weigh(c: CommandContext, o: SortOptions, items: SortItem[]): boolean {
  let convertible = true;
  for (const x of items) {
    let by: Buffer | null = x.element;
    if (o.sortBy >= 0) {
      by = lookupByPattern(c, o.sortBy, x.element);
      if (by === null) continue;
    }
    if (o.alpha) {
      if (o.sortBy >= 0) x.byValue = by;
    } else {
      const w = parseSortWeight(by, 0, by.length);
      if (w === null) convertible = false;
      else x.weight = w;
    }
  }
  return convertible;
}

/** sortCompare for the options: DESC reverses every comparison, ties included. */
function comparator(o: SortOptions): (a: SortItem, b: SortItem) => number {
  const sign = o.desc ? -1 : 1;
  const binary = o.store >= 0;
  if (!o.alpha) {
    return (a, b) => sign * (a.weight > b.weight ? 1 : a.weight < b.weight ? -1 : compareBuffers(a.element, b.element));
  }
  if (o.sortBy >= 0) {
    return (a, b) => {
      const x = a.byValue;
      const y = b.byValue;
      if (x === null || y === null) return sign * (x === y ? 0 : x === null ? -1 : 1);
      return sign * (binary ? compareBuffers(x, y) : collate(x, y));
    };
  }
  return (a, b) => sign * (binary ? compareBuffers(a.element, b.element) : collate(a.element, b.element));
}

function compareBuffers(a: Buffer, b: Buffer): number {
  return compareBytes(a, 0, a.length, b, 0, b.length);
}

/** strcoll in the C locale: unsigned bytes up to the first NUL (or the end). */
function collate(a: Buffer, b: Buffer): number {
  for (let i = 0; ; i++) {
    const x = i < a.length ? a[i] : 0;
    const y = i < b.length ? b[i] : 0;
    if (x !== y) return x < y ? -1 : 1;
    if (x === 0) return 0;
  }
}

/**
 * lookupKeyByPattern: the string value (or hash field) the pattern at
 * argument `p` names for `element`, or null. The caller holds every shard.
 */
function lookupByPattern(c: CommandContext, p: number, element: Buffer): Buffer | null {
  const buf = c.buf;
  const ps = c.argStart[p];
  const pl = c.argLen[p];
  if (pl === 1 && buf[ps] === HASH) return element;
  const star = indexOfStar(buf, ps, pl);
  if (star < 0) return null;
  // "->field" after the '*' (strstr stops at a NUL; the field runs to the pattern's end).
  let arrow = -1;
  for (let i = star + 1; i + 1 < pl && buf[ps + i] !== 0; i++) {
    if (buf[ps + i] === DASH && buf[ps + i + 1] === GREATER) {
      arrow = i;
      break;
    }
  }
  const field = arrow >= 0 && arrow + 2 < pl && buf[ps + arrow + 2] !== 0 ? arrow : -1;
  const postfixEnd = field >= 0 ? field : pl;
  const key = Buffer.concat([buf.subarray(ps, ps + star), element, buf.subarray(ps + star + 1, ps + postfixEnd)]);
  const { shard, e } = findKey(c, key);
  if (e === 0) return null;
  const type = shard.u8[e + E_TYPE];
  if (field >= 0) {
    if (type !== ValueType.Hash) return null;
    if (!hashGet(shard, e, buf, ps + field + 2, pl - field - 2)) return null;
    return Buffer.from(shard.u8.subarray(hashValue.start, hashValue.start + hashValue.len));
  }
  if (type !== ValueType.String) return null;
  const vs = shard.valueStart(e);
  return Buffer.from(shard.u8.subarray(vs, vs + shard.valueLength(e)));
}

/** lookupKeyRead of a key built from a pattern (lazy expiry, keyspace hits and misses). */
function findKey(c: CommandContext, key: Buffer): { shard: Shard; e: number } {
  const slot = slotAndHash(key, 0, key.length);
  const shard = c.ks.shards[slot & c.ks.shardMask];
  const e = shard.find(c.db, slot >> c.ks.shardBits, key, 0, key.length, keyHash.value, c.now);
  if (e === 0) {
    c.server.stats.keyspaceMisses++;
  } else {
    c.server.stats.keyspaceHits++;
    c.ks.touch(shard, e, c.now);
  }
  return { shard, e };
}

/** Writes items start..end (with their GET values) as the reply. */
function replySorted(c: CommandContext, o: SortOptions, items: SortItem[], start: number, end: number): void {
  const out = c.out;
  const n = Math.max(end - start + 1, 0);
  out.arrayHeader(o.gets.length > 0 ? n * o.gets.length : n);
  for (let j = start; j <= end; j++) {
    const element = items[j].element;
    if (o.gets.length === 0) out.bulkBytes(element, 0, element.length);
    for (const g of o.gets) {
      const v = lookupByPattern(c, g, element);
      if (v === null) out.nullBulk();
      else out.bulkBytes(v, 0, v.length);
    }
  }
}

const EMPTY = Buffer.alloc(0);

/** STORE: the destination becomes a list of the results (GET values, "" for a missing one), or goes when empty. */
function storeSorted(c: CommandContext, o: SortOptions, items: SortItem[], start: number, end: number): void {
  const values: Buffer[] = [];
  for (let j = start; j <= end; j++) {
    const element = items[j].element;
    if (o.gets.length === 0) values.push(element);
    for (const g of o.gets) values.push(lookupByPattern(c, g, element) ?? EMPTY);
  }
  c.selectKey(o.store);
  let e = c.findWrite();
  const existed = e !== 0;
  if (existed) c.shard.remove(c.db, e);
  if (values.length === 0) {
    if (existed) c.dirty++;
    c.out.integer(0);
    return;
  }
  e = opCreateList(c);
  const s = c.shard;
  const h = s.collectionStart(e);
  const fill = c.server.limits.listMaxListpackSize;
  for (const v of values) qlPush(s, h, v, 0, v.length, false, fill);
  c.dirty += values.length;
  if (!existed) signalKeyAsReady(c, o.store);
  c.out.integer(values.length);
}

export const sortCommand = (c: CommandContext): void => sortGeneric(c, false);
export const sortReadonlyCommand = (c: CommandContext): void => sortGeneric(c, true);

/** Options that take arguments, as sortGetKeys skips them. */
const SKIP_ARGS: [string, number][] = [['limit', 2], ['get', 1], ['by', 1]];

/** sortGetKeys: the sorted key, then the destination of the last STORE. */
function sortKeys(c: CommandContext): KeyRef[] {
  const keys: KeyRef[] = [{ pos: 1, flags: ['RO', 'ACCESS'] }];
  let store = -1;
  for (let i = 2; i < c.argc; i++) {
    const skip = SKIP_ARGS.find(([word]) => c.argIs(i, word));
    if (skip !== undefined) i += skip[1];
    else if (c.argIs(i, 'store') && i + 1 < c.argc) store = i + 1;
  }
  if (store >= 0) keys.push({ pos: store, flags: ['OW', 'UPDATE'] });
  return keys;
}

const group = 'generic';
const categories = ['set', 'sortedset', 'list', 'dangerous'];
const complexity = 'O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).';
const PATTERN_NOTES = "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort";
const STORE_NOTES = "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array";

function sortArguments(store: boolean): CommandArgDoc[] {
  const args: CommandArgDoc[] = [
    keyArg('key', 0),
    { ...arg('pattern', 'pattern', { token: 'BY', optional: true }), keySpecIndex: 1 },
    block('offset_count', [arg('offset', 'integer'), arg('count', 'integer')], { token: 'LIMIT', optional: true }),
    { ...arg('pattern', 'pattern', { token: 'GET', optional: true, multiple: true, multipleToken: true }), keySpecIndex: 1 },
    oneOf('order', [tokenArg('asc', 'ASC'), tokenArg('desc', 'DESC')], { optional: true }),
    tokenArg('sorting', 'ALPHA', { optional: true }),
  ];
  if (store) args.push(keyArg('destination', 2, { token: 'STORE', optional: true }));
  return args;
}

const specs: CommandSpec[] = [
  defineCommand({ name: 'sort', arity: -2, flags: ['write', 'denyoom', 'movablekeys'], keys: [1, 1, 1],
    keySpecs: [rangeKeys(['RO', 'ACCESS'], 1), unknownKeys(['RO', 'ACCESS'], PATTERN_NOTES), unknownKeys(['OW', 'UPDATE'], STORE_NOTES)],
    categories, group, summary: 'Sort the elements in a list, set or sorted set', complexity,
    arguments: sortArguments(true), getKeysAndFlags: sortKeys, handler: sortCommand }),
  defineCommand({ name: 'sort_ro', arity: -2, flags: ['readonly', 'movablekeys'], keys: [1, 1, 1],
    keySpecs: [rangeKeys(['RO', 'ACCESS'], 1), unknownKeys(['RO', 'ACCESS'], PATTERN_NOTES)],
    categories, group, since: '7.0.0', summary: 'Sort the elements in a list, set or sorted set. Read-only variant of SORT.',
    complexity, arguments: sortArguments(false), getKeysAndFlags: () => [{ pos: 1, flags: ['RO', 'ACCESS'] }],
    handler: sortReadonlyCommand }),
];

// SORT ... BY/GET reads keys anywhere and STORE writes a second key: a write that may lock several shards.
specs[0].spansShards = true;

export const sortCommands: CommandSpec[] = specs;
