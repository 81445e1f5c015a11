/**
 * The hash family (Redis 7.0's t_hash.c): hsetCommand (HSET, HMSET),
 * hsetnxCommand, hgetCommand, hmgetCommand, hdelCommand, hlenCommand,
 * hstrlenCommand, hexistsCommand, hincrbyCommand, hincrbyfloatCommand and
 * genericHgetallCommand (HKEYS, HVALS, HGETALL); HRANDFIELD and HSCAN are
 * in hash-random.ts. The handlers parse and reply; the data work is in the
 * `op*` functions here over src/store/hash-type.ts (both encodings) and
 * src/store/hash-listpack.ts.
 *
 * Redis's order of checks is kept: HSET's pair count before the key's type,
 * HINCRBY's increment before the lookup, and the listpack → hashtable
 * conversion (hashTypeTryConversion) before the first field is written.
 */
import { arg, block, defineCommand, keyArg, tokenArg, type CommandSpec } from './command-spec.js';
import type { CommandContext } from './context.js';
import { SlotTables } from '../store/slot-tables.js';
import { E_ENCODING, E_VALLEN, ValueType } from '../store/layout.js';
import { CollectionEncoding, LP_COUNT } from '../store/collection-layout.js';
import { LP_EMPTY_BYTES } from '../store/hash-listpack.js';
import { packedSize } from '../store/packed.js';
import {
  hashChange, hashConvert, hashDelete, hashForEach, hashGet, hashLength, hashSet, hashValue, isListpack,
} from '../store/hash-type.js';
import { NOT_FLOAT, NOT_INTEGER, OVERFLOW, wrongArity } from './errors.js';
import {
  addLongDoubles, bytesToInteger, formatLongDoubleHuman, parseBigInt64, parseLongDouble, INT64_MAX, INT64_MIN,
  type LongDouble,
} from './numbers.js';
import { hrandfield, hscan, openHash } from './hash-random.js';

const group = 'hash';

export const HASH_NOT_INTEGER = 'hash value is not an integer';
export const HASH_NOT_FLOAT = 'hash value is not a float';
export const INCR_NAN_OR_INF = 'value is NaN or Infinity';
export const RESULT_NAN_OR_INF = 'increment would produce NaN or Infinity';
/** listpack.c's LISTPACK_MAX_SAFETY_SIZE: a listpack about to pass it converts (lpSafeToAdd). */
const LISTPACK_MAX_SAFETY_SIZE = 1 << 30;
const SAFE = Number.MAX_SAFE_INTEGER;
const LD_ZERO: LongDouble = { neg: false, m: 0n, e: 0, inf: false };

/**
 * createHashObject + dbAdd: inserts the current key (known absent) as an
 * empty listpack hash with room for `room` more payload bytes; the caller
 * writes at least one pair (opDeleteIfEmpty otherwise).
 */
export function opCreateHash(c: CommandContext, room: number): number {
  const pad = SlotTables.collectionPad(c.argLen[c.keyArg]);
  const e = c.insertKey(ValueType.Hash, pad + LP_EMPTY_BYTES + room);
  const s = c.shard;
  s.u32[(e + E_VALLEN) >>> 2] = pad + LP_EMPTY_BYTES;
  s.u8[e + E_ENCODING] = CollectionEncoding.Listpack;
  s.u32[(s.collectionStart(e) + LP_COUNT) >>> 2] = 0;
  return e;
}

/** Removes the hash `e` when it holds nothing (a failed first write); returns whether it did. */
export function opDeleteIfEmpty(c: CommandContext, e: number): boolean {
  if (hashLength(c.shard, e) !== 0) return false;
  c.shard.remove(c.db, e);
  return true;
}

/**
 * hashTypeTryConversion over arguments first..last: a listpack hash becomes
 * a hashtable when one of them is longer than hash-max-listpack-value, or
 * when adding them all could pass the listpack size cap. Returns the entry.
 */
export function opTryConversion(c: CommandContext, e: number, first: number, last: number): number {
  const s = c.shard;
  if (!isListpack(s, e)) return e;
  const maxValue = c.server.limits.hashMaxListpackValue;
  let sum = 0;
  for (let i = first; i <= last; i++) {
    const len = c.argLen[i];
    if (len > maxValue) return hashConvert(s, c.db, e);
    sum += len;
  }
  return s.collectionBytes(e) + sum > LISTPACK_MAX_SAFETY_SIZE ? hashConvert(s, c.db, e) : e;
}

/** hashTypeSet of field argument `f` to `val[vs, vs+vl)`; returns the entry (hashChange.updated: the field existed). */
export function opSet(c: CommandContext, e: number, f: number, val: Uint8Array, vs: number, vl: number): number {
  const l = c.server.limits;
  return hashSet(c.shard, c.db, e, c.buf, c.argStart[f], c.argLen[f], val, vs, vl,
    l.hashMaxListpackEntries, l.hashMaxListpackValue);
}

/** Sets the pairs of arguments from 2 on (HSET/HMSET) in a new or existing hash; returns the fields created. */
function opSetPairs(c: CommandContext, e: number): number {
  const created = e === 0;
  if (created) e = opCreateHash(c, packedSize(c.argLen[2]) + packedSize(c.argLen[3]));
  let added = 0;
  try {
    e = opTryConversion(c, e, 2, c.argc - 1);
    for (let i = 2; i < c.argc; i += 2) {
      e = opSet(c, e, i, c.buf, c.argStart[i + 1], c.argLen[i + 1]);
      if (!hashChange.updated) added++;
    }
  } catch (err) {
    if (created) opDeleteIfEmpty(c, e);
    throw err;
  }
  return added;
}

/** hsetCommand: HSET replies the fields created, HMSET OK. */
function hsetGeneric(isHmset: boolean) {
  return (c: CommandContext): void => {
    if (c.argc % 2 === 1) {
      c.out.error(wrongArity(c.spec.name));
      return;
    }
    const e = openHash(c, false);
    if (e < 0) return;
    const added = opSetPairs(c, e);
    c.dirty += (c.argc - 2) / 2;
    if (isHmset) c.out.ok();
    else c.out.integer(added);
  };
}

function hsetnx(c: CommandContext): void {
  let e = openHash(c, false);
  if (e < 0) return;
  const s = c.shard;
  if (e !== 0 && hashGet(s, e, c.buf, c.argStart[2], c.argLen[2])) {
    c.out.integer(0);
    return;
  }
  const created = e === 0;
  if (created) e = opCreateHash(c, packedSize(c.argLen[2]) + packedSize(c.argLen[3]));
  try {
    e = opTryConversion(c, e, 2, 3);
    opSet(c, e, 2, c.buf, c.argStart[3], c.argLen[3]);
  } catch (err) {
    if (created) opDeleteIfEmpty(c, e);
    throw err;
  }
  c.dirty++;
  c.out.integer(1);
}

function hget(c: CommandContext): void {
  const e = openHash(c, true);
  if (e < 0) return;
  const s = c.shard;
  if (e !== 0 && hashGet(s, e, c.buf, c.argStart[2], c.argLen[2])) c.out.bulkBytes(s.u8, hashValue.start, hashValue.len, s.dv);
  else c.out.nullBulk();
}

function hmget(c: CommandContext): void {
  const e = openHash(c, true);
  if (e < 0) return;
  const s = c.shard;
  c.out.arrayHeader(c.argc - 2);
  for (let i = 2; i < c.argc; i++) {
    if (e !== 0 && hashGet(s, e, c.buf, c.argStart[i], c.argLen[i])) c.out.bulkBytes(s.u8, hashValue.start, hashValue.len, s.dv);
    else c.out.nullBulk();
  }
}

function hlen(c: CommandContext): void {
  const e = openHash(c, true);
  if (e >= 0) c.out.integer(e === 0 ? 0 : hashLength(c.shard, e));
}

function hstrlen(c: CommandContext): void {
  const e = openHash(c, true);
  if (e < 0) return;
  c.out.integer(e !== 0 && hashGet(c.shard, e, c.buf, c.argStart[2], c.argLen[2]) ? hashValue.len : 0);
}

function hexists(c: CommandContext): void {
  const e = openHash(c, true);
  if (e < 0) return;
  c.out.integer(e !== 0 && hashGet(c.shard, e, c.buf, c.argStart[2], c.argLen[2]) ? 1 : 0);
}

/** hdelCommand: deletes the fields in order; the key goes with its last field. */
function hdel(c: CommandContext): void {
  let e = openHash(c, false);
  if (e < 0) return;
  if (e === 0) {
    c.out.integer(0);
    return;
  }
  const s = c.shard;
  let deleted = 0;
  for (let i = 2; i < c.argc; i++) {
    e = hashDelete(s, c.db, e, c.buf, c.argStart[i], c.argLen[i]);
    if (!hashChange.deleted) continue;
    deleted++;
    if (hashLength(s, e) === 0) {
      s.remove(c.db, e);
      break;
    }
  }
  c.dirty += deleted;
  c.out.integer(deleted);
}

/** Text of a new value (HINCRBY*), reused between commands. */
let scratch = Buffer.allocUnsafe(64);

function scratchText(text: string): number {
  if (text.length > scratch.length) scratch = Buffer.allocUnsafe(text.length * 2);
  return scratch.write(text, 0, 'latin1');
}

/** Writes `scratch[0, len)` as the value of field argument 2, creating the hash when `e` is 0. */
function opSetScratch(c: CommandContext, e: number, len: number): void {
  const created = e === 0;
  if (created) e = opCreateHash(c, packedSize(c.argLen[2]) + packedSize(len));
  try {
    opSet(c, e, 2, scratch, 0, len);
  } catch (err) {
    if (created) opDeleteIfEmpty(c, e);
    throw err;
  }
}

/** The increment argument of HINCRBY as an exact bigint when beyond 2^53, else null. */
function bigArg(c: CommandContext, i: number, n: number): bigint | null {
  return Math.abs(n) > SAFE ? parseBigInt64(c.buf, c.argStart[i], c.argLen[i]) : null;
}

function hincrby(c: CommandContext): void {
  const incr = c.argInt(3);
  if (incr === null) {
    c.out.error(NOT_INTEGER);
    return;
  }
  const e = openHash(c, false);
  if (e < 0) return;
  const s = c.shard;
  let current = 0;
  let bigCurrent: bigint | null = null;
  if (e !== 0 && hashGet(s, e, c.buf, c.argStart[2], c.argLen[2])) {
    const v = bytesToInteger(s.u8, hashValue.start, hashValue.len);
    if (v === null) {
      c.out.error(HASH_NOT_INTEGER);
      return;
    }
    current = v;
    if (Math.abs(v) > SAFE) bigCurrent = parseBigInt64(s.u8, hashValue.start, hashValue.len);
  }
  const bigIncr = bigArg(c, 3, incr);
  let result: number | bigint;
  if (bigCurrent === null && bigIncr === null && Math.abs(current + incr) <= SAFE) {
    result = current + incr;
  } else {
    result = (bigCurrent ?? BigInt(current)) + (bigIncr ?? BigInt(incr));
    if (result > INT64_MAX || result < INT64_MIN) {
      c.out.error(OVERFLOW);
      return;
    }
  }
  opSetScratch(c, e, scratchText(String(result)));
  c.dirty++;
  if (typeof result === 'number') c.out.integer(result);
  else c.out.bigInteger(result);
}

/** hincrbyfloatCommand: long double arithmetic; replicated as HSET key field <result>. */
function hincrbyfloat(c: CommandContext): void {
  const incr = parseLongDouble(c.buf, c.argStart[3], c.argLen[3]);
  if (incr === null) {
    c.out.error(NOT_FLOAT);
    return;
  }
  if (incr.inf) {
    c.out.error(INCR_NAN_OR_INF);
    return;
  }
  const e = openHash(c, false);
  if (e < 0) return;
  const s = c.shard;
  let current = LD_ZERO;
  if (e !== 0 && hashGet(s, e, c.buf, c.argStart[2], c.argLen[2])) {
    const v = parseLongDouble(s.u8, hashValue.start, hashValue.len);
    if (v === null) {
      c.out.error(HASH_NOT_FLOAT);
      return;
    }
    current = v;
  }
  const sum = addLongDoubles(current, incr);
  if (sum.inf) {
    c.out.error(RESULT_NAN_OR_INF);
    return;
  }
  const len = scratchText(formatLongDoubleHuman(sum));
  opSetScratch(c, e, len);
  c.dirty++;
  const result = Buffer.from(scratch.subarray(0, len));
  c.propagateAs = ['HSET', c.argBuffer(1), c.argBuffer(2), result];
  c.out.bulkBytes(result, 0, len);
}

const enum Part {
  Keys = 1,
  Values = 2,
  Both = 3,
}

/** genericHgetallCommand: fields, values or both (a map), in the encoding's order. */
function hgetallGeneric(part: Part) {
  return (c: CommandContext): void => {
    const e = openHash(c, true);
    if (e < 0) return;
    const out = c.out;
    const n = e === 0 ? 0 : hashLength(c.shard, e);
    if (part === Part.Both) out.mapHeader(n);
    else out.arrayHeader(n);
    if (n === 0) return;
    const u8 = c.shard.u8;
    const view = c.shard.dv;
    hashForEach(c.shard, e, (fs, fl, vs, vl) => {
      if (part & Part.Keys) out.bulkBytes(u8, fs, fl, view);
      if (part & Part.Values) out.bulkBytes(u8, vs, vl, view);
    });
  };
}

const key1: [number, number, number] = [1, 1, 1];
const fieldValues = block('field_value', [arg('field', 'string'), arg('value', 'string')], { multiple: true });
const ON_SIZE = 'O(N) where N is the size of the hash.';

export const hashCommands: CommandSpec[] = [
  defineCommand({ name: 'hset', arity: -4, flags: ['write', 'denyoom', 'fast'], keys: key1, keyFlags: ['RW', 'UPDATE'],
    categories: ['hash'], group, since: '2.0.0', summary: 'Set the string value of a hash field',
    complexity: 'O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.',
    history: [['4.0.0', 'Accepts multiple `field` and `value` arguments.']],
    arguments: [keyArg('key', 0), fieldValues], handler: hsetGeneric(false) }),
  defineCommand({ name: 'hsetnx', arity: 4, flags: ['write', 'denyoom', 'fast'], keys: key1, keyFlags: ['RW', 'INSERT'],
    categories: ['hash'], group, since: '2.0.0', summary: 'Set the value of a hash field, only if the field does not exist',
    complexity: 'O(1)', arguments: [keyArg('key', 0), arg('field', 'string'), arg('value', 'string')], handler: hsetnx }),
  defineCommand({ name: 'hmset', arity: -4, flags: ['write', 'denyoom', 'fast'], keys: key1, keyFlags: ['RW', 'UPDATE'],
    categories: ['hash'], group, since: '2.0.0', summary: 'Set multiple hash fields to multiple values',
    complexity: 'O(N) where N is the number of fields being set.', docFlags: ['deprecated'], deprecatedSince: '4.0.0',
    replacedBy: '`HSET` with multiple field-value pairs', arguments: [keyArg('key', 0), fieldValues], handler: hsetGeneric(true) }),
  defineCommand({ name: 'hget', arity: 3, flags: ['readonly', 'fast'], keys: key1, keyFlags: ['RO', 'ACCESS'],
    categories: ['hash'], group, since: '2.0.0', summary: 'Get the value of a hash field', complexity: 'O(1)',
    arguments: [keyArg('key', 0), arg('field', 'string')], handler: hget }),
  defineCommand({ name: 'hmget', arity: -3, flags: ['readonly', 'fast'], keys: key1, keyFlags: ['RO', 'ACCESS'],
    categories: ['hash'], group, since: '2.0.0', summary: 'Get the values of all the given hash fields',
    complexity: 'O(N) where N is the number of fields being requested.',
    arguments: [keyArg('key', 0), arg('field', 'string', { multiple: true })], handler: hmget }),
  defineCommand({ name: 'hdel', arity: -3, flags: ['write', 'fast'], keys: key1, keyFlags: ['RW', 'DELETE'],
    categories: ['hash'], group, since: '2.0.0', summary: 'Delete one or more hash fields',
    complexity: 'O(N) where N is the number of fields to be removed.', history: [['2.4.0', 'Accepts multiple `field` arguments.']],
    arguments: [keyArg('key', 0), arg('field', 'string', { multiple: true })], handler: hdel }),
  defineCommand({ name: 'hlen', arity: 2, flags: ['readonly', 'fast'], keys: key1, keyFlags: ['RO'], categories: ['hash'],
    group, since: '2.0.0', summary: 'Get the number of fields in a hash', complexity: 'O(1)',
    arguments: [keyArg('key', 0)], handler: hlen }),
  defineCommand({ name: 'hstrlen', arity: 3, flags: ['readonly', 'fast'], keys: key1, keyFlags: ['RO'], categories: ['hash'],
    group, since: '3.2.0', summary: 'Get the length of the value of a hash field', complexity: 'O(1)',
    arguments: [keyArg('key', 0), arg('field', 'string')], handler: hstrlen }),
  defineCommand({ name: 'hexists', arity: 3, flags: ['readonly', 'fast'], keys: key1, keyFlags: ['RO'], categories: ['hash'],
    group, since: '2.0.0', summary: 'Determine if a hash field exists', complexity: 'O(1)',
    arguments: [keyArg('key', 0), arg('field', 'string')], handler: hexists }),
  defineCommand({ name: 'hincrby', arity: 4, flags: ['write', 'denyoom', 'fast'], keys: key1,
    keyFlags: ['RW', 'ACCESS', 'UPDATE'], categories: ['hash'], group, since: '2.0.0',
    summary: 'Increment the integer value of a hash field by the given number', complexity: 'O(1)',
    arguments: [keyArg('key', 0), arg('field', 'string'), arg('increment', 'integer')], handler: hincrby }),
  defineCommand({ name: 'hincrbyfloat', arity: 4, flags: ['write', 'denyoom', 'fast'], keys: key1,
    keyFlags: ['RW', 'ACCESS', 'UPDATE'], categories: ['hash'], group, since: '2.6.0',
    summary: 'Increment the float value of a hash field by the given amount', complexity: 'O(1)',
    arguments: [keyArg('key', 0), arg('field', 'string'), arg('increment', 'double')], handler: hincrbyfloat }),
  defineCommand({ name: 'hkeys', arity: 2, flags: ['readonly'], keys: key1, keyFlags: ['RO', 'ACCESS'], categories: ['hash'],
    tips: ['nondeterministic_output_order'], group, since: '2.0.0', summary: 'Get all the fields in a hash',
    complexity: ON_SIZE, arguments: [keyArg('key', 0)], handler: hgetallGeneric(Part.Keys) }),
  defineCommand({ name: 'hvals', arity: 2, flags: ['readonly'], keys: key1, keyFlags: ['RO', 'ACCESS'], categories: ['hash'],
    tips: ['nondeterministic_output_order'], group, since: '2.0.0', summary: 'Get all the values in a hash',
    complexity: ON_SIZE, arguments: [keyArg('key', 0)], handler: hgetallGeneric(Part.Values) }),
  defineCommand({ name: 'hgetall', arity: 2, flags: ['readonly'], keys: key1, keyFlags: ['RO', 'ACCESS'], categories: ['hash'],
    tips: ['nondeterministic_output_order'], group, since: '2.0.0', summary: 'Get all the fields and values in a hash',
    complexity: ON_SIZE, arguments: [keyArg('key', 0)], handler: hgetallGeneric(Part.Both) }),
  defineCommand({ name: 'hrandfield', arity: -2, flags: ['readonly'], keys: key1, keyFlags: ['RO', 'ACCESS'],
    categories: ['hash'], tips: ['nondeterministic_output'], group, since: '6.2.0',
    summary: 'Get one or multiple random fields from a hash', complexity: 'O(N) where N is the number of fields returned',
    arguments: [keyArg('key', 0), block('options', [arg('count', 'integer'), tokenArg('withvalues', 'WITHVALUES', { optional: true })], { optional: true })],
    handler: hrandfield }),
  defineCommand({ name: 'hscan', arity: -3, flags: ['readonly'], keys: key1, keyFlags: ['RO', 'ACCESS'], categories: ['hash'],
    tips: ['nondeterministic_output'], group, since: '2.8.0', summary: 'Incrementally iterate hash fields and associated values',
    complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..',
    arguments: [keyArg('key', 0), arg('cursor', 'integer'), arg('pattern', 'pattern', { token: 'MATCH', optional: true }),
      arg('count', 'integer', { token: 'COUNT', optional: true })],
    handler: hscan }),
];
