/**
 * The string family (Redis's t_string.c): GET/SET and variants, counters,
 * APPEND, ranges, and the multi-key MGET/MSET/MSETNX.
 */
import { EventClass } from './keyspace-events.js';
import { arg, block, defineCommand, hasArg, keyArg, oneOf, tokenArg, type CommandSpec } from './command-spec.js';
import type { CommandContext } from './context.js';
import { ValueType, E_ENCODING, ENC_RAW } from '../store/layout.js';
import { invalidExpire, NOT_FLOAT, NOT_INTEGER, OVERFLOW, STRING_TOO_LONG, SYNTAX, wrongArity } from './errors.js';
import { copyIntoShard, ENC_NOT_INT, prepareString, storeInteger, storeString } from './string-values.js';
import {
  addLongDoubles, bytesToInteger, formatLongDoubleHuman, parseBigInt64, parseLongDouble, secondsOverflow, INT64_MAX, INT64_MIN,
  type LongDouble,
} from './numbers.js';

const group = 'string';

/** Replies the current key's string value, nil when missing; false on WRONGTYPE. */
function replyValue(c: CommandContext, e: number): boolean {
  if (e === 0) {
    c.out.nullBulk();
    return true;
  }
  if (c.typeOf(e) !== ValueType.String) {
    c.wrongType();
    return false;
  }
  const s = c.shard;
  c.out.bulkBytes(s.u8, s.valueStart(e), s.valueLength(e), s.dv);
  return true;
}

function get(c: CommandContext): void {
  c.openKey(1);
  replyValue(c, c.findRead());
}

const enum SetFlags {
  NX = 1,
  XX = 2,
  GET = 4,
  KEEPTTL = 8,
  EX = 16,
  PX = 32,
  EXAT = 64,
  PXAT = 128,
  PERSIST = 256,
}
const EXPIRE_FLAGS = SetFlags.EX | SetFlags.PX | SetFlags.EXAT | SetFlags.PXAT;

interface ExpireArgs {
  flags: number;
  /** The argument holding the EX/PX/EXAT/PXAT time, or -1. */
  expireArg: number;
}

const parsed: ExpireArgs = { flags: 0, expireArg: -1 };

/**
 * parseExtendedStringArgumentsOrReply for SET (forSet) and GETEX: returns
 * null after replying a syntax error. Like Redis, an expire option excludes
 * the other expire options but may repeat itself (the last time wins).
 */
function parseExtendedArgs(c: CommandContext, from: number, forSet: boolean): ExpireArgs | null {
  let flags = 0;
  let expireArg = -1;
  for (let i = from; i < c.argc; i++) {
    const hasNext = i + 1 < c.argc;
    const noTtlChoice = !(flags & (SetFlags.KEEPTTL | SetFlags.PERSIST));
    if (forSet && c.argIs(i, 'nx') && !(flags & SetFlags.XX)) flags |= SetFlags.NX;
    else if (forSet && c.argIs(i, 'xx') && !(flags & SetFlags.NX)) flags |= SetFlags.XX;
    else if (forSet && c.argIs(i, 'get')) flags |= SetFlags.GET;
    else if (forSet && c.argIs(i, 'keepttl') && !(flags & (EXPIRE_FLAGS | SetFlags.PERSIST))) flags |= SetFlags.KEEPTTL;
    else if (!forSet && c.argIs(i, 'persist') && !(flags & (EXPIRE_FLAGS | SetFlags.KEEPTTL))) flags |= SetFlags.PERSIST;
    else if (hasNext && noTtlChoice && c.argIs(i, 'ex') && !(flags & (EXPIRE_FLAGS & ~SetFlags.EX))) {
      flags |= SetFlags.EX;
      expireArg = ++i;
    } else if (hasNext && noTtlChoice && c.argIs(i, 'px') && !(flags & (EXPIRE_FLAGS & ~SetFlags.PX))) {
      flags |= SetFlags.PX;
      expireArg = ++i;
    } else if (hasNext && noTtlChoice && c.argIs(i, 'exat') && !(flags & (EXPIRE_FLAGS & ~SetFlags.EXAT))) {
      flags |= SetFlags.EXAT;
      expireArg = ++i;
    } else if (hasNext && noTtlChoice && c.argIs(i, 'pxat') && !(flags & (EXPIRE_FLAGS & ~SetFlags.PXAT))) {
      flags |= SetFlags.PXAT;
      expireArg = ++i;
    } else {
      c.out.error(SYNTAX);
      return null;
    }
  }
  parsed.flags = flags;
  parsed.expireArg = expireArg;
  return parsed;
}

/** The absolute unix ms of the parsed expire option (-1 without one), or null after replying an error. */
function parsedExpireTime(c: CommandContext, args: ExpireArgs): number | null {
  if (args.expireArg < 0) return -1;
  const f = args.flags;
  return expireTime(c, args.expireArg, (f & (SetFlags.EX | SetFlags.EXAT)) !== 0, (f & (SetFlags.EX | SetFlags.PX)) !== 0);
}

/** getExpireMillisecondsOrReply: validates and converts to absolute unix ms. */
export function expireTime(c: CommandContext, i: number, seconds: boolean, relative: boolean): number | null {
  let v = c.argInt(i);
  if (v === null) {
    c.out.error(NOT_INTEGER);
    return null;
  }
  if (v <= 0 || (seconds && secondsOverflow(c.buf, c.argStart[i], c.argLen[i]))) {
    c.out.error(invalidExpire(c.spec.fullName ?? c.spec.name));
    return null;
  }
  if (seconds) v *= 1000;
  if (relative) v += c.now;
  if (v <= 0 || v > 9223372036854775807) {
    c.out.error(invalidExpire(c.spec.fullName ?? c.spec.name));
    return null;
  }
  return v;
}

function set(c: CommandContext): void {
  const args = parseExtendedArgs(c, 3, true);
  if (args === null) return;
  const when = parsedExpireTime(c, args);
  if (when === null) return;
  setGeneric(c, args.flags, when);
}

/** setGenericCommand: the value is argument 2. */
function setGeneric(c: CommandContext, flags: number, when: number): void {
  c.openKey(1);
  let e = c.findWrite();
  if (flags & SetFlags.GET) {
    if (e !== 0) c.server.stats.keyspaceHits++;
    else c.server.stats.keyspaceMisses++;
    if (!replyValue(c, e)) return;
  }
  if ((flags & SetFlags.NX && e !== 0) || (flags & SetFlags.XX && e === 0)) {
    if (!(flags & SetFlags.GET)) c.out.nullBulk();
    return;
  }
  e = storeString(c, e, c.buf, c.argStart[2], c.argLen[2], (flags & SetFlags.KEEPTTL) !== 0, when >= 0);
  c.keyEvent(EventClass.String, 'set', 1);
  if (when >= 0) {
    c.keyEvent(EventClass.Generic, 'expire', 1);
    c.shard.setExpire(c.db, e, when);
    // Redis 7 propagates relative expiries as SET key value PXAT <unix ms>.
    c.propagateAs = ['SET', c.argBuffer(1), c.argBuffer(2), 'PXAT', when];
  }
  if (!(flags & SetFlags.GET)) c.out.ok();
}

function setnx(c: CommandContext): void {
  c.openKey(1);
  const e = c.findWrite();
  if (e !== 0) {
    c.out.integer(0);
    return;
  }
  storeString(c, 0, c.buf, c.argStart[2], c.argLen[2], false);
  c.out.integer(1);
}

/** SETEX key seconds value / PSETEX key ms value. */
function setexGeneric(seconds: boolean) {
  return (c: CommandContext): void => {
    const when = expireTime(c, 2, seconds, true);
    if (when === null) return;
    c.openKey(1);
    const e = storeString(c, c.findWrite(), c.buf, c.argStart[3], c.argLen[3], false, true);
    c.keyEvent(EventClass.String, 'set', 1);
    c.keyEvent(EventClass.Generic, 'expire', 1);
    c.shard.setExpire(c.db, e, when);
    c.propagateAs = ['SET', c.argBuffer(1), c.argBuffer(3), 'PXAT', when];
    c.out.ok();
  };
}

/** getsetCommand: getGenericCommand reads the old value (lookupKeyRead), then setKey. */
function getset(c: CommandContext): void {
  c.openKey(1);
  const e = c.findRead();
  if (!replyValue(c, e)) return;
  storeString(c, e, c.buf, c.argStart[2], c.argLen[2], false);
}

function getdel(c: CommandContext): void {
  c.openKey(1);
  const e = c.findRead();
  if (!replyValue(c, e) || e === 0) return;
  c.shard.remove(c.db, e);
  c.propagateAs = ['DEL', c.argBuffer(1)];
  c.dirty++;
}

function getex(c: CommandContext): void {
  const args = parseExtendedArgs(c, 2, false);
  if (args === null) return;
  c.openKey(1);
  let e = c.findRead();
  if (e === 0) {
    c.out.nullBulk();
    return;
  }
  if (c.typeOf(e) !== ValueType.String) {
    c.wrongType();
    return;
  }
  // Redis validates the time only once it has found the key.
  const when = parsedExpireTime(c, args);
  if (when === null) return;
  replyValue(c, e);
  // getexCommand propagates PEXPIREAT with the absolute time, DEL when it is past, or PERSIST.
  if (when >= 0) {
    if (when <= c.now) {
      c.shard.remove(c.db, e);
      c.propagateAs = ['DEL', c.argBuffer(1)];
      c.keyEvent(EventClass.Generic, 'del', 1);
    } else {
      e = c.shard.setExpire(c.db, e, when);
      c.propagateAs = ['PEXPIREAT', c.argBuffer(1), when];
      c.keyEvent(EventClass.Generic, 'expire', 1);
    }
    c.dirty++;
  } else if (args.flags & SetFlags.PERSIST) {
    if (c.shard.persist(c.db, e)) {
      c.propagateAs = ['PERSIST', c.argBuffer(1)];
      c.keyEvent(EventClass.Generic, 'persist', 1);
      c.dirty++;
    }
  }
}

function mget(c: CommandContext): void {
  c.lockKeyRange(1, c.argc - 1, 1);
  c.out.arrayHeader(c.argc - 1);
  for (let i = 1; i < c.argc; i++) {
    c.selectKey(i);
    const e = c.findRead();
    if (e === 0 || c.typeOf(e) !== ValueType.String) c.out.nullBulk();
    else c.out.bulkBytes(c.shard.u8, c.shard.valueStart(e), c.shard.valueLength(e), c.shard.dv);
  }
}

function msetGeneric(nx: boolean) {
  return (c: CommandContext): void => {
    if (c.argc % 2 === 0) {
      c.out.error(wrongArity(c.spec.name));
      return;
    }
    c.lockKeyRange(1, c.argc - 2, 2);
    if (nx) {
      for (let i = 1; i < c.argc; i += 2) {
        c.selectKey(i);
        if (c.findWrite() !== 0) {
          c.out.integer(0);
          return;
        }
      }
    }
    for (let i = 1; i < c.argc; i += 2) {
      c.selectKey(i);
      storeString(c, c.findWrite(), c.buf, c.argStart[i + 1], c.argLen[i + 1], false);
    }
    if (nx) c.out.integer(1);
    else c.out.ok();
  };
}

function strlen(c: CommandContext): void {
  c.openKey(1);
  const e = c.findRead();
  if (e === 0) c.out.integer(0);
  else if (c.typeOf(e) !== ValueType.String) c.wrongType();
  else c.out.integer(c.shard.valueLength(e));
}

const SAFE = Number.MAX_SAFE_INTEGER;
const LD_ZERO: LongDouble = { neg: false, m: 0n, e: 0, inf: false };

/** incrDecrCommand: add `delta` (argument `deltaArg`, negated when `negate`). */
function incrBy(c: CommandContext, fixedDelta: number, deltaArg: number, negate: boolean): void {
  let delta = fixedDelta;
  let bigDelta: bigint | null = null;
  if (deltaArg > 0) {
    const d = c.argInt(deltaArg);
    if (d === null) {
      c.out.error(NOT_INTEGER);
      return;
    }
    if (Math.abs(d) > SAFE) bigDelta = parseBigInt64(c.buf, c.argStart[deltaArg], c.argLen[deltaArg]);
    if (negate) {
      if (bigDelta === INT64_MIN || (bigDelta === null && d <= -9223372036854775808)) {
        c.out.error('decrement would overflow');
        return;
      }
      delta = -d;
      if (bigDelta !== null) bigDelta = -bigDelta;
    } else {
      delta = d;
    }
  }
  c.openKey(1);
  const e = c.findWrite();
  let current = 0;
  let bigCurrent: bigint | null = null;
  if (e !== 0) {
    if (c.typeOf(e) !== ValueType.String) {
      c.wrongType();
      return;
    }
    const s = c.shard;
    const v = bytesToInteger(s.u8, s.valueStart(e), s.valueLength(e));
    if (v === null) {
      c.out.error(NOT_INTEGER);
      return;
    }
    current = v;
    if (Math.abs(v) > SAFE) bigCurrent = parseBigInt64(s.u8, s.valueStart(e), s.valueLength(e));
  }
  if (bigCurrent === null && bigDelta === null && Math.abs(current + delta) <= SAFE) {
    const result = current + delta;
    storeInteger(c, e, result, true);
    c.out.integer(result);
    return;
  }
  const result = (bigCurrent ?? BigInt(current)) + (bigDelta ?? BigInt(delta));
  if (result > INT64_MAX || result < INT64_MIN) {
    c.out.error(OVERFLOW);
    return;
  }
  storeInteger(c, e, result, true);
  c.out.bigInteger(result);
}

/** incrbyfloatCommand: the current value, then the increment, as long doubles (x87 on Redis's x86-64 builds). */
function incrbyfloat(c: CommandContext): void {
  c.openKey(1);
  const e = c.findWrite();
  let current: LongDouble = LD_ZERO;
  if (e !== 0) {
    if (c.typeOf(e) !== ValueType.String) {
      c.wrongType();
      return;
    }
    const s = c.shard;
    const v = parseLongDouble(s.u8, s.valueStart(e), s.valueLength(e));
    if (v === null) {
      c.out.error(NOT_FLOAT);
      return;
    }
    current = v;
  }
  const incr = parseLongDouble(c.buf, c.argStart[2], c.argLen[2]);
  if (incr === null) {
    c.out.error(NOT_FLOAT);
    return;
  }
  const sum = addLongDoubles(current, incr);
  if (sum.inf) {
    c.out.error('increment would produce NaN or Infinity');
    return;
  }
  const bytes = Buffer.from(formatLongDoubleHuman(sum), 'latin1');
  const stored = storeString(c, e, bytes, 0, bytes.length, true);
  // createStringObjectFromLongDouble makes a plain string object: never int-encoded, even for "3".
  c.shard.u8[stored + E_ENCODING] = ENC_NOT_INT;
  // The float result, not the increment, so that replicas cannot round differently (incrbyfloatCommand).
  c.propagateAs = ['SET', c.argBuffer(1), bytes, 'KEEPTTL'];
  c.out.bulkBytes(bytes, 0, bytes.length);
}

function append(c: CommandContext): void {
  c.openKey(1);
  let e = c.findWrite();
  const addLen = c.argLen[2];
  if (e === 0) {
    storeString(c, 0, c.buf, c.argStart[2], addLen, false);
    c.out.integer(addLen);
    return;
  }
  if (c.typeOf(e) !== ValueType.String) {
    c.wrongType();
    return;
  }
  const s = c.shard;
  const old = s.valueLength(e);
  if (old + addLen > Number(c.server.configGet('proto-max-bulk-len'))) {
    c.out.error(STRING_TOO_LONG);
    return;
  }
  e = prepareString(c, e, old + addLen, true, old);
  copyIntoShard(s, s.valueStart(e) + old, c.buf, c.argStart[2], addLen);
  s.u8[e + E_ENCODING] = ENC_RAW;
  c.out.integer(old + addLen);
}

function getrange(c: CommandContext): void {
  let start = c.argInt(2);
  let end = c.argInt(3);
  if (start === null || end === null) {
    c.out.error(NOT_INTEGER);
    return;
  }
  c.openKey(1);
  const e = c.findRead();
  if (e === 0) {
    c.out.bulkBytes(c.buf, 0, 0);
    return;
  }
  if (c.typeOf(e) !== ValueType.String) {
    c.wrongType();
    return;
  }
  const s = c.shard;
  const len = s.valueLength(e);
  if (start < 0 && end < 0 && start > end) {
    c.out.bulkBytes(c.buf, 0, 0);
    return;
  }
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) c.out.bulkBytes(c.buf, 0, 0);
  else c.out.bulkBytes(s.u8, s.valueStart(e) + start, end - start + 1, s.dv);
}

function setrange(c: CommandContext): void {
  const offset = c.argInt(2);
  if (offset === null) {
    c.out.error(NOT_INTEGER);
    return;
  }
  if (offset < 0) {
    c.out.error('offset is out of range');
    return;
  }
  const valueLen = c.argLen[3];
  c.openKey(1);
  let e = c.findWrite();
  if (e !== 0 && c.typeOf(e) !== ValueType.String) {
    c.wrongType();
    return;
  }
  const s = c.shard;
  const old = e === 0 ? 0 : s.valueLength(e);
  if (valueLen === 0) {
    c.out.integer(old);
    return;
  }
  if (offset + valueLen > Number(c.server.configGet('proto-max-bulk-len'))) {
    c.out.error(STRING_TOO_LONG);
    return;
  }
  const newLen = Math.max(old, offset + valueLen);
  e = prepareString(c, e, newLen, true, old);
  const v = s.valueStart(e);
  if (offset > old) s.u8.fill(0, v + old, v + offset);
  copyIntoShard(s, v + offset, c.buf, c.argStart[3], valueLen);
  s.u8[e + E_ENCODING] = ENC_RAW;
  c.out.integer(newLen);
}

const key1: [number, number, number] = [1, 1, 1];

export const stringCommands: CommandSpec[] = [
  defineCommand({ name: 'get', arity: 2, flags: ['readonly', 'fast'], keys: key1, categories: ['string'], group,
    summary: 'Get the value of a key', complexity: 'O(1)', arguments: [keyArg('key', 0)], handler: get }),
  defineCommand({ name: 'set', arity: -3, flags: ['write', 'denyoom'], keys: key1,
    keyFlags: ['RW', 'ACCESS', 'UPDATE', 'VARIABLE_FLAGS'], keyNotes: 'RW and ACCESS due to the optional `GET` argument',
    categories: ['string'], group, summary: 'Set the string value of a key', complexity: 'O(1)',
    history: [['2.6.12', 'Added the `EX`, `PX`, `NX` and `XX` options.'], ['6.0.0', 'Added the `KEEPTTL` option.'], ['6.2.0', 'Added the `GET`, `EXAT` and `PXAT` option.'], ['7.0.0', 'Allowed the `NX` and `GET` options to be used together.']],
    arguments: [keyArg('key', 0), arg('value', 'string'),
      oneOf('condition', [tokenArg('nx', 'NX'), tokenArg('xx', 'XX')], { optional: true, since: '2.6.12' }),
      tokenArg('get', 'GET', { optional: true, since: '6.2.0' }),
      oneOf('expiration', [arg('seconds', 'integer', { token: 'EX', since: '2.6.12' }), arg('milliseconds', 'integer', { token: 'PX', since: '2.6.12' }),
        arg('unix-time-seconds', 'unix-time', { token: 'EXAT', since: '6.2.0' }),
        arg('unix-time-milliseconds', 'unix-time', { token: 'PXAT', since: '6.2.0' }), tokenArg('keepttl', 'KEEPTTL', { since: '6.0.0' })],
      { optional: true })],
    // setGetKeys: only GET makes the key read as well as overwritten.
    getKeysAndFlags: (c) => [{ pos: 1, flags: hasArg(c, 3, 'get') ? ['RW', 'ACCESS', 'UPDATE'] : ['OW', 'UPDATE'] }],
    handler: set }),
  defineCommand({ name: 'setnx', arity: 3, flags: ['write', 'denyoom', 'fast'], keys: key1, keyFlags: ['OW', 'INSERT'],
    categories: ['string'], group, summary: 'Set the value of a key, only if the key does not exist', complexity: 'O(1)',
    arguments: [keyArg('key', 0), arg('value', 'string')], handler: setnx }),
  defineCommand({ name: 'setex', arity: 4, flags: ['write', 'denyoom'], keys: key1, keyFlags: ['OW', 'UPDATE'],
    categories: ['string'], group, since: '2.0.0', summary: 'Set the value and expiration of a key', complexity: 'O(1)',
    arguments: [keyArg('key', 0), arg('seconds', 'integer'), arg('value', 'string')], handler: setexGeneric(true) }),
  defineCommand({ name: 'psetex', arity: 4, flags: ['write', 'denyoom'], keys: key1, keyFlags: ['OW', 'UPDATE'],
    categories: ['string'], group, since: '2.6.0', summary: 'Set the value and expiration in milliseconds of a key',
    complexity: 'O(1)', arguments: [keyArg('key', 0), arg('milliseconds', 'integer'), arg('value', 'string')], handler: setexGeneric(false) }),
  defineCommand({ name: 'getset', arity: 3, flags: ['write', 'denyoom', 'fast'], keys: key1,
    keyFlags: ['RW', 'ACCESS', 'UPDATE'], categories: ['string'], group,
    summary: 'Set the string value of a key and return its old value', complexity: 'O(1)', docFlags: ['deprecated'],
    deprecatedSince: '6.2.0', replacedBy: '`SET` with the `!GET` argument',
    arguments: [keyArg('key', 0), arg('value', 'string')], handler: getset }),
  defineCommand({ name: 'getdel', arity: 2, flags: ['write', 'fast'], keys: key1, keyFlags: ['RW', 'ACCESS', 'DELETE'],
    categories: ['string'], group, since: '6.2.0', summary: 'Get the value of a key and delete the key', complexity: 'O(1)',
    arguments: [keyArg('key', 0)], handler: getdel }),
  defineCommand({ name: 'getex', arity: -2, flags: ['write', 'fast'], keys: key1, keyFlags: ['RW', 'ACCESS', 'UPDATE'],
    keyNotes: 'RW and UPDATE because it changes the TTL', categories: ['string'], group, since: '6.2.0',
    summary: 'Get the value of a key and optionally set its expiration', complexity: 'O(1)',
    arguments: [keyArg('key', 0), oneOf('expiration', [arg('seconds', 'integer', { token: 'EX' }), arg('milliseconds', 'integer', { token: 'PX' }),
      arg('unix-time-seconds', 'unix-time', { token: 'EXAT' }), arg('unix-time-milliseconds', 'unix-time', { token: 'PXAT' }),
      tokenArg('persist', 'PERSIST')], { optional: true })], handler: getex }),
  defineCommand({ name: 'mget', arity: -2, flags: ['readonly', 'fast'], keys: [1, -1, 1], categories: ['string'],
    tips: ['request_policy:multi_shard'], group, summary: 'Get the values of all the given keys',
    complexity: 'O(N) where N is the number of keys to retrieve.', arguments: [keyArg('key', 0, { multiple: true })], handler: mget }),
  defineCommand({ name: 'mset', arity: -3, flags: ['write', 'denyoom'], keys: [1, -1, 2], keyFlags: ['OW', 'UPDATE'],
    categories: ['string'], tips: ['request_policy:multi_shard', 'response_policy:all_succeeded'], group, since: '1.0.1',
    summary: 'Set multiple keys to multiple values', complexity: 'O(N) where N is the number of keys to set.',
    arguments: [block('key_value', [keyArg('key', 0), arg('value', 'string')], { multiple: true })], handler: msetGeneric(false) }),
  defineCommand({ name: 'msetnx', arity: -3, flags: ['write', 'denyoom'], keys: [1, -1, 2], keyFlags: ['OW', 'INSERT'],
    categories: ['string'], tips: ['request_policy:multi_shard', 'response_policy:agg_min'], group, since: '1.0.1',
    summary: 'Set multiple keys to multiple values, only if none of the keys exist',
    complexity: 'O(N) where N is the number of keys to set.',
    arguments: [block('key_value', [keyArg('key', 0), arg('value', 'string')], { multiple: true })], handler: msetGeneric(true) }),
  defineCommand({ name: 'strlen', arity: 2, flags: ['readonly', 'fast'], keys: key1, keyFlags: ['RO'], categories: ['string'],
    group, since: '2.2.0', summary: 'Get the length of the value stored in a key', complexity: 'O(1)',
    arguments: [keyArg('key', 0)], handler: strlen }),
  defineCommand({ name: 'incr', arity: 2, flags: ['write', 'denyoom', 'fast'], keys: key1, keyFlags: ['RW', 'ACCESS', 'UPDATE'],
    categories: ['string'], group, summary: 'Increment the integer value of a key by one', complexity: 'O(1)',
    arguments: [keyArg('key', 0)], handler: (c) => incrBy(c, 1, 0, false) }),
  defineCommand({ name: 'decr', arity: 2, flags: ['write', 'denyoom', 'fast'], keys: key1, keyFlags: ['RW', 'ACCESS', 'UPDATE'],
    categories: ['string'], group, summary: 'Decrement the integer value of a key by one', complexity: 'O(1)',
    arguments: [keyArg('key', 0)], handler: (c) => incrBy(c, -1, 0, false) }),
  defineCommand({ name: 'incrby', arity: 3, flags: ['write', 'denyoom', 'fast'], keys: key1,
    keyFlags: ['RW', 'ACCESS', 'UPDATE'], categories: ['string'], group,
    summary: 'Increment the integer value of a key by the given amount', complexity: 'O(1)',
    arguments: [keyArg('key', 0), arg('increment', 'integer')], handler: (c) => incrBy(c, 0, 2, false) }),
  defineCommand({ name: 'decrby', arity: 3, flags: ['write', 'denyoom', 'fast'], keys: key1,
    keyFlags: ['RW', 'ACCESS', 'UPDATE'], categories: ['string'], group,
    summary: 'Decrement the integer value of a key by the given number', complexity: 'O(1)',
    arguments: [keyArg('key', 0), arg('decrement', 'integer')], handler: (c) => incrBy(c, 0, 2, true) }),
  defineCommand({ name: 'incrbyfloat', arity: 3, flags: ['write', 'denyoom', 'fast'], keys: key1,
    keyFlags: ['RW', 'ACCESS', 'UPDATE'], categories: ['string'], group, since: '2.6.0',
    summary: 'Increment the float value of a key by the given amount', complexity: 'O(1)',
    arguments: [keyArg('key', 0), arg('increment', 'double')], handler: incrbyfloat }),
  defineCommand({ name: 'append', arity: 3, flags: ['write', 'denyoom', 'fast'], keys: key1, keyFlags: ['RW', 'INSERT'],
    categories: ['string'], group, since: '2.0.0', summary: 'Append a value to a key',
    complexity: 'O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.',
    arguments: [keyArg('key', 0), arg('value', 'string')], handler: append }),
  defineCommand({ name: 'getrange', arity: 4, flags: ['readonly'], keys: key1, categories: ['string'], group, since: '2.4.0',
    summary: 'Get a substring of the string stored at a key',
    complexity: 'O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.',
    arguments: [keyArg('key', 0), arg('start', 'integer'), arg('end', 'integer')], handler: getrange }),
  defineCommand({ name: 'substr', arity: 4, flags: ['readonly'], keys: key1, categories: ['string'], group,
    summary: 'Get a substring of the string stored at a key',
    complexity: 'O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.',
    docFlags: ['deprecated'], deprecatedSince: '2.0.0', replacedBy: '`GETRANGE`',
    arguments: [keyArg('key', 0), arg('start', 'integer'), arg('end', 'integer')], handler: getrange }),
  defineCommand({ name: 'setrange', arity: 4, flags: ['write', 'denyoom'], keys: key1, categories: ['string'], group,
    since: '2.2.0', summary: 'Overwrite part of a string at key starting at the specified offset',
    complexity: 'O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.',
    arguments: [keyArg('key', 0), arg('offset', 'integer'), arg('value', 'string')], handler: setrange }),
];
