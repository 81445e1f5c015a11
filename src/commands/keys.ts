/**
 * The keyspace family (Redis's db.c and expire.c): DEL/UNLINK, EXISTS,
 * TYPE, TOUCH, the EXPIRE and TTL families, PERSIST, KEYS, SCAN, RANDOMKEY,
 * RENAME/RENAMENX, COPY and OBJECT.
 */
import { touchKey } from './watched-keys.js';
import { EventClass } from './keyspace-events.js';
import { arg, defineCommand, keyArg, oneOf, rangeKeys, tokenArg, type CommandSpec } from './command-spec.js';
import type { CommandContext } from './context.js';
import { DB_RANGE, invalidExpire, NO_SUCH_KEY, NOT_INTEGER, SYNTAX } from './errors.js';
import { replyHelp } from './help-reply.js';
import { E_ENCODING, ENC_RAW, ValueType } from '../store/layout.js';
import { AccessPolicy } from '../store/keyspace.js';
import { bytesToInteger, NOT_INT32, secondsOverflow } from './numbers.js';
import { copyEntry } from './key-copy.js';
import { ENCODING_NAMES } from '../store/collection-layout.js';
import { ENC_INT_PRIVATE, ENC_NOT_INT } from './string-values.js';

const group = 'generic';
/** TYPE's names, indexed by the store's ValueType. */
export const TYPE_NAMES = ['string', 'list', 'set', 'zset', 'hash'];

/**
 * DEL and UNLINK. UNLINK (and DEL with lazyfree-lazy-user-del) only
 * detaches a big collection; the shard's owner frees its blocks in the
 * background, a step at a time (Redis's dbAsyncDelete).
 */
function delGeneric(lazy: boolean) {
  return (c: CommandContext): void => {
    c.lockKeyRange(1, c.argc - 1, 1);
    let deleted = 0;
    for (let i = 1; i < c.argc; i++) {
      c.selectKey(i);
      const e = c.findWrite();
      if (e === 0) continue;
      if (c.typeOf(e) !== ValueType.String && (lazy || c.server.configGet('lazyfree-lazy-user-del') === 'yes')) {
        c.shard.removeLazily(c.db, e);
      } else {
        c.shard.remove(c.db, e);
      }
      c.keyModified(i);
      deleted++;
    }
    c.dirty += deleted;
    c.out.integer(deleted);
  };
}

/**
 * EXISTS and TOUCH count the keys that exist, with hit/miss stats; TOUCH
 * also updates their access clock (lookupKeyRead), EXISTS does not
 * (LOOKUP_NOTOUCH).
 */
function countExisting(touchClock: boolean) {
  return (c: CommandContext): void => {
    c.lockKeyRange(1, c.argc - 1, 1);
    let n = 0;
    for (let i = 1; i < c.argc; i++) {
      c.selectKey(i);
      if ((touchClock ? c.findRead() : findNoTouch(c)) !== 0) n++;
    }
    c.out.integer(n);
  };
}

/**
 * lookupKeyReadWithFlags(LOOKUP_NOTOUCH), as TYPE, OBJECT and the TTL family
 * look keys up: a keyspace hit or miss is counted, the access clock (LRU
 * idle time, LFU counter) is left alone.
 */
function findNoTouch(c: CommandContext, notify = true): number {
  const e = c.findQuiet();
  if (e === 0) c.keyMissed(notify);
  else c.server.stats.keyspaceHits++;
  return e;
}

function type(c: CommandContext): void {
  c.openKey(1);
  const e = findNoTouch(c);
  c.out.simple(e === 0 ? 'none' : TYPE_NAMES[c.typeOf(e)]);
}

const enum ExpireFlag {
  NX = 1,
  XX = 2,
  GT = 4,
  LT = 8,
}

/** expireGenericCommand: `basetime` is now for relative forms, 0 for absolute ones. */
function expireGeneric(seconds: boolean, relative: boolean) {
  return (c: CommandContext): void => {
    let flags = 0;
    for (let i = 3; i < c.argc; i++) {
      if (c.argIs(i, 'nx')) flags |= ExpireFlag.NX;
      else if (c.argIs(i, 'xx')) flags |= ExpireFlag.XX;
      else if (c.argIs(i, 'gt')) flags |= ExpireFlag.GT;
      else if (c.argIs(i, 'lt')) flags |= ExpireFlag.LT;
      else {
        c.out.error(`Unsupported option ${c.argLatin1(i)}`);
        return;
      }
    }
    if (flags & ExpireFlag.NX && flags & (ExpireFlag.XX | ExpireFlag.GT | ExpireFlag.LT)) {
      c.out.error('NX and XX, GT or LT options at the same time are not compatible');
      return;
    }
    if (flags & ExpireFlag.GT && flags & ExpireFlag.LT) {
      c.out.error('GT and LT options at the same time are not compatible');
      return;
    }
    let when = c.argInt(2);
    if (when === null) {
      c.out.error(NOT_INTEGER);
      return;
    }
    if (seconds) {
      if (secondsOverflow(c.buf, c.argStart[2], c.argLen[2])) {
        c.out.error(invalidExpire(c.spec.name));
        return;
      }
      when *= 1000;
    }
    const base = relative ? c.now : 0;
    if (when > 9223372036854775807 - base) {
      c.out.error(invalidExpire(c.spec.name));
      return;
    }
    when += base;
    c.openKey(1);
    let e = c.findWrite();
    if (e === 0) {
      c.out.integer(0);
      return;
    }
    if (flags) {
      const current = c.shard.expireAt(e);
      if ((flags & ExpireFlag.NX && current !== -1) || (flags & ExpireFlag.XX && current === -1) ||
        (flags & ExpireFlag.GT && (when <= current || current === -1)) ||
        (flags & ExpireFlag.LT && current !== -1 && when >= current)) {
        c.out.integer(0);
        return;
      }
    }
    // Replicas get the absolute time, or the deletion when it is already past (expireGenericCommand).
    if (when <= c.now) {
      c.shard.remove(c.db, e);
      c.propagateAs = ['DEL', c.argBuffer(1)];
    } else {
      e = c.shard.setExpire(c.db, e, when);
      c.propagateAs = ['PEXPIREAT', c.argBuffer(1), when];
    }
    c.dirty++;
    c.out.integer(1);
  };
}

/** TTL / PTTL / EXPIRETIME / PEXPIRETIME. */
function ttlGeneric(ms: boolean, absolute: boolean) {
  return (c: CommandContext): void => {
    c.openKey(1);
    const e = findNoTouch(c);
    if (e === 0) {
      c.out.integer(-2);
      return;
    }
    const expire = c.shard.expireAt(e);
    if (expire === -1) {
      c.out.integer(-1);
      return;
    }
    // Redis rounds seconds to the nearest one, EXPIRETIME included: (ms + 500) / 1000.
    const ttl = absolute ? expire : Math.max(0, expire - c.now);
    c.out.integer(ms ? ttl : Math.trunc((ttl + 500) / 1000));
  };
}

function persist(c: CommandContext): void {
  c.openKey(1);
  const e = c.findWrite();
  if (e !== 0 && c.shard.persist(c.db, e)) {
    c.dirty++;
    c.out.integer(1);
  } else {
    c.out.integer(0);
  }
}

/** RENAME / RENAMENX. */
function renameGeneric(nx: boolean) {
  return (c: CommandContext): void => {
    c.lockKeysAt([1, 2]);
    c.selectKey(1);
    const e = c.findWrite();
    if (e === 0) {
      c.out.error(NO_SUCH_KEY);
      return;
    }
    if (c.argsEqual(1, 2)) {
      if (nx) c.out.integer(0);
      else c.out.ok();
      return;
    }
    const src = { shard: c.shard, db: c.db };
    c.selectKey(2);
    const d = c.findWrite();
    if (d !== 0) {
      if (nx) {
        c.out.integer(0);
        return;
      }
      c.shard.remove(c.db, d);
    }
    copyEntry(c, src.shard, e, c.db, true);
    // The source entry did not move: find it again to unlink it.
    if (src.shard.locate(src.db, e)) src.shard.remove(src.db, e);
    c.dirty++;
    c.keyEvent(EventClass.Generic, 'rename_from', 1);
    c.keyEvent(EventClass.Generic, 'rename_to', 2);
    if (nx) c.out.integer(1);
    else c.out.ok();
  };
}

function copy(c: CommandContext): void {
  let targetDb = c.client.db;
  let replace = false;
  for (let i = 3; i < c.argc; i++) {
    if (c.argIs(i, 'replace')) replace = true;
    else if (c.argIs(i, 'db') && i + 1 < c.argc) {
      const n = c.argInt(++i);
      if (n === null) {
        c.out.error(NOT_INTEGER);
        return;
      }
      if (n < -2147483648 || n > 2147483647) {
        c.out.error(NOT_INT32);
        return;
      }
      if (n < 0 || n >= c.ks.databases) {
        c.out.error(DB_RANGE);
        return;
      }
      targetDb = n;
    } else {
      c.out.error(SYNTAX);
      return;
    }
  }
  if (c.server.cluster !== null && targetDb !== 0) {
    c.out.error('Copying to another database is not allowed in cluster mode');
    return;
  }
  if (targetDb === c.client.db && c.argsEqual(1, 2)) {
    c.out.error('source and destination objects are the same');
    return;
  }
  c.lockKeysAt([1, 2]);
  c.selectKey(1);
  // The source is read (lookupKeyRead), the destination looked up for writing.
  const e = c.findRead();
  if (e === 0) {
    c.out.integer(0);
    return;
  }
  const srcShard = c.shard;
  c.selectKey(2);
  c.db = c.ks.dbMap[targetDb];
  const d = c.findWrite();
  if (d !== 0) {
    if (!replace) {
      c.out.integer(0);
      return;
    }
    c.shard.remove(c.db, d);
  }
  const n = copyEntry(c, srcShard, e, c.db);
  if (c.typeOf(n) === ValueType.String && c.shard.u8[n + E_ENCODING] === 0) c.shard.u8[n + E_ENCODING] = ENC_INT_PRIVATE;
  c.dirty++;
  c.keyEvent(EventClass.Generic, 'copy_to', 2, false, targetDb);
  if (targetDb !== c.client.db) {
    // The destination lives in another database than the client's: its watchers and trackers are told here.
    c.modifiedKeys = [];
    if (c.server.watches.any) touchKey(c.ks, c.server.watches, c.db, c.argBuffer(2));
    if (c.server.tracking.active) c.server.tracking.invalidate(c, c.buf, c.argStart[2], c.argLen[2]);
  }
  c.out.integer(1);
}

/**
 * OBJECT ENCODING of a string, as Redis picks int / embstr / raw. The
 * E_ENCODING byte says how the value was made: 0 as tryObjectEncoding
 * would encode it, ENC_RAW modified in place, ENC_NOT_INT never int-encoded,
 * ENC_INT_PRIVATE a copy (int when it is an integer, unshared).
 */
function stringEncoding(c: CommandContext, e: number): string {
  const s = c.shard;
  if (s.u8[e + E_ENCODING] === ENC_RAW) return 'raw';
  const len = s.valueLength(e);
  if (s.u8[e + E_ENCODING] !== ENC_NOT_INT && len <= 20 && bytesToInteger(s.u8, s.valueStart(e), len) !== null) return 'int';
  return len <= 44 ? 'embstr' : 'raw';
}

function objectGeneric(kind: 'encoding' | 'freq' | 'idletime' | 'refcount') {
  return (c: CommandContext): void => {
    c.openKey(2);
    // objectCommandLookup: LOOKUP_NONOTIFY.
    const e = findNoTouch(c, false);
    if (e === 0) {
      c.out.nullBulk();
      return;
    }
    const lfu = c.ks.policy === AccessPolicy.Lfu;
    switch (kind) {
      case 'encoding':
        c.out.bulkString(c.typeOf(e) === ValueType.String ? stringEncoding(c, e) : ENCODING_NAMES[c.shard.u8[e + E_ENCODING]]);
        break;
      case 'freq':
        if (!lfu) {
          c.out.error('An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.');
          return;
        }
        c.out.integer(c.ks.frequency(c.shard, e, c.now));
        break;
      case 'idletime':
        if (lfu) {
          c.out.error('An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.');
          return;
        }
        c.out.integer(c.ks.idleSeconds(c.shard, e, c.now));
        break;
      case 'refcount': {
        // Redis shares the integers 0..9999 (refcount INT_MAX) unless an LRU/LFU policy needs per-key clocks.
        const s = c.shard;
        const len = s.valueLength(e);
        const n = c.typeOf(e) === ValueType.String && s.u8[e + E_ENCODING] === 0 ? bytesToInteger(s.u8, s.valueStart(e), len) : null;
        const policy = c.server.configGet('maxmemory-policy') ?? '';
        const maxmemory = Number(c.server.configGet('maxmemory') ?? '0');
        const shared = n !== null && n >= 0 && n < 10000 && (maxmemory === 0 || !/-(lru|lfu)$/.test(policy));
        c.out.integer(shared ? 2147483647 : 1);
        break;
      }
    }
  };
}

const OBJECT_HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
  'HELP',
  '    Prints this help.',
];

const key1: [number, number, number] = [1, 1, 1];

export const keyCommands: CommandSpec[] = [
  defineCommand({ name: 'del', arity: -2, flags: ['write'], keys: [1, -1, 1], keyFlags: ['RM', 'DELETE'], categories: ['keyspace'],
    tips: ['request_policy:multi_shard', 'response_policy:agg_sum'], group, summary: 'Delete a key',
    complexity: 'O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).',
    arguments: [keyArg('key', 0, { multiple: true })], handler: delGeneric(false) }),
  defineCommand({ name: 'unlink', arity: -2, flags: ['write', 'fast'], keys: [1, -1, 1], keyFlags: ['RM', 'DELETE'],
    categories: ['keyspace'], tips: ['request_policy:multi_shard', 'response_policy:agg_sum'], group, since: '4.0.0',
    summary: 'Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.',
    complexity: 'O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.',
    arguments: [keyArg('key', 0, { multiple: true })], handler: delGeneric(true) }),
  defineCommand({ name: 'exists', arity: -2, flags: ['readonly', 'fast'], keys: [1, -1, 1], keyFlags: ['RO'],
    categories: ['keyspace'], tips: ['request_policy:multi_shard', 'response_policy:agg_sum'], group,
    summary: 'Determine if a key exists', complexity: 'O(N) where N is the number of keys to check.',
    history: [['3.0.3', 'Accepts multiple `key` arguments.']], arguments: [keyArg('key', 0, { multiple: true })], handler: countExisting(false) }),
  defineCommand({ name: 'touch', arity: -2, flags: ['readonly', 'fast'], keys: [1, -1, 1], keyFlags: ['RO'],
    categories: ['keyspace'], tips: ['request_policy:multi_shard', 'response_policy:agg_sum'], group, since: '3.2.1',
    summary: 'Alters the last access time of a key(s). Returns the number of existing keys specified.',
    complexity: 'O(N) where N is the number of keys that will be touched.', arguments: [keyArg('key', 0, { multiple: true })], handler: countExisting(true) }),
  defineCommand({ name: 'type', arity: 2, flags: ['readonly', 'fast'], keys: key1, keyFlags: ['RO'], categories: ['keyspace'],
    group, summary: 'Determine the type stored at key', complexity: 'O(1)', arguments: [keyArg('key', 0)], handler: type }),
  defineCommand({ name: 'expire', arity: -3, flags: ['write', 'fast'], keys: key1, categories: ['keyspace'], group,
    summary: "Set a key's time to live in seconds", complexity: 'O(1)',
    history: [['7.0.0', 'Added options: `NX`, `XX`, `GT` and `LT`.']],
    arguments: [keyArg('key', 0), arg('seconds', 'integer'), oneOf('condition', [tokenArg('nx', 'NX'), tokenArg('xx', 'XX'), tokenArg('gt', 'GT'), tokenArg('lt', 'LT')], { optional: true, since: '7.0.0' })], handler: expireGeneric(true, true) }),
  defineCommand({ name: 'pexpire', arity: -3, flags: ['write', 'fast'], keys: key1, categories: ['keyspace'], group,
    since: '2.6.0', summary: "Set a key's time to live in milliseconds", complexity: 'O(1)',
    history: [['7.0.0', 'Added options: `NX`, `XX`, `GT` and `LT`.']],
    arguments: [keyArg('key', 0), arg('milliseconds', 'integer'), oneOf('condition', [tokenArg('nx', 'NX'), tokenArg('xx', 'XX'), tokenArg('gt', 'GT'), tokenArg('lt', 'LT')], { optional: true, since: '7.0.0' })], handler: expireGeneric(false, true) }),
  defineCommand({ name: 'expireat', arity: -3, flags: ['write', 'fast'], keys: key1, categories: ['keyspace'], group,
    since: '1.2.0', summary: 'Set the expiration for a key as a UNIX timestamp', complexity: 'O(1)',
    history: [['7.0.0', 'Added options: `NX`, `XX`, `GT` and `LT`.']],
    arguments: [keyArg('key', 0), arg('unix-time-seconds', 'unix-time'), oneOf('condition', [tokenArg('nx', 'NX'), tokenArg('xx', 'XX'), tokenArg('gt', 'GT'), tokenArg('lt', 'LT')], { optional: true, since: '7.0.0' })], handler: expireGeneric(true, false) }),
  defineCommand({ name: 'pexpireat', arity: -3, flags: ['write', 'fast'], keys: key1, categories: ['keyspace'], group,
    since: '2.6.0', summary: 'Set the expiration for a key as a UNIX timestamp specified in milliseconds', complexity: 'O(1)',
    history: [['7.0.0', 'Added options: `NX`, `XX`, `GT` and `LT`.']],
    arguments: [keyArg('key', 0), arg('unix-time-milliseconds', 'unix-time'), oneOf('condition', [tokenArg('nx', 'NX'), tokenArg('xx', 'XX'), tokenArg('gt', 'GT'), tokenArg('lt', 'LT')], { optional: true, since: '7.0.0' })], handler: expireGeneric(false, false) }),
  defineCommand({ name: 'ttl', arity: 2, flags: ['readonly', 'fast'], keys: key1, categories: ['keyspace'],
    tips: ['nondeterministic_output'], group, summary: 'Get the time to live for a key in seconds', complexity: 'O(1)',
    history: [['2.8.0', 'Added the -2 reply.']], arguments: [keyArg('key', 0)], handler: ttlGeneric(false, false) }),
  defineCommand({ name: 'pttl', arity: 2, flags: ['readonly', 'fast'], keys: key1, categories: ['keyspace'],
    tips: ['nondeterministic_output'], group, since: '2.6.0', summary: 'Get the time to live for a key in milliseconds',
    complexity: 'O(1)', history: [['2.8.0', 'Added the -2 reply.']], arguments: [keyArg('key', 0)], handler: ttlGeneric(true, false) }),
  defineCommand({ name: 'expiretime', arity: 2, flags: ['readonly', 'fast'], keys: key1, categories: ['keyspace'], group,
    since: '7.0.0', summary: 'Get the expiration Unix timestamp for a key', complexity: 'O(1)', arguments: [keyArg('key', 0)],
    handler: ttlGeneric(false, true) }),
  defineCommand({ name: 'pexpiretime', arity: 2, flags: ['readonly', 'fast'], keys: key1, categories: ['keyspace'], group,
    since: '7.0.0', summary: 'Get the expiration Unix timestamp for a key in milliseconds', complexity: 'O(1)',
    arguments: [keyArg('key', 0)], handler: ttlGeneric(true, true) }),
  defineCommand({ name: 'persist', arity: 2, flags: ['write', 'fast'], keys: key1, categories: ['keyspace'], group, since: '2.2.0',
    summary: 'Remove the expiration from a key', complexity: 'O(1)', arguments: [keyArg('key', 0)], handler: persist }),
  defineCommand({ name: 'rename', arity: 3, flags: ['write'],
    keySpecs: [rangeKeys(['RW', 'ACCESS', 'DELETE'], 1, 0, 1, 0), rangeKeys(['OW', 'UPDATE'], 2, 0, 1, 0)],
    categories: ['keyspace'], group, summary: 'Rename a key', complexity: 'O(1)',
    arguments: [keyArg('key', 0), keyArg('newkey', 1)], handler: renameGeneric(false) }),
  defineCommand({ name: 'renamenx', arity: 3, flags: ['write', 'fast'],
    keySpecs: [rangeKeys(['RW', 'ACCESS', 'DELETE'], 1, 0, 1, 0), rangeKeys(['OW', 'INSERT'], 2, 0, 1, 0)],
    categories: ['keyspace'], group, summary: 'Rename a key, only if the new key does not exist', complexity: 'O(1)',
    history: [['3.2.0', 'The command no longer returns an error when source and destination names are the same.']],
    arguments: [keyArg('key', 0), keyArg('newkey', 1)], handler: renameGeneric(true) }),
  defineCommand({ name: 'copy', arity: -3, flags: ['write', 'denyoom'],
    keySpecs: [rangeKeys(['RO', 'ACCESS'], 1, 0, 1, 0), rangeKeys(['OW', 'UPDATE'], 2, 0, 1, 0)], categories: ['keyspace'], group,
    since: '6.2.0', summary: 'Copy a key',
    complexity: 'O(N) worst case for collections, where N is the number of nested items. O(1) for string values.',
    arguments: [keyArg('source', 0), keyArg('destination', 1), arg('destination-db', 'integer', { token: 'DB', optional: true }), tokenArg('replace', 'REPLACE', { optional: true })],
    handler: copy }),
  defineCommand({ name: 'object', arity: -2, categories: [], group, since: '2.2.3',
    summary: 'A container for object introspection commands', complexity: 'Depends on subcommand.',
    subcommands: [
      defineCommand({ name: 'encoding', arity: 3, flags: ['readonly'], keys: [2, 2, 1], keyFlags: ['RO'], categories: ['keyspace'],
        tips: ['nondeterministic_output'], group, since: '2.2.3', summary: 'Inspect the internal encoding of a Redis object',
        complexity: 'O(1)', arguments: [keyArg('key', 0)], handler: objectGeneric('encoding') }),
      defineCommand({ name: 'freq', arity: 3, flags: ['readonly'], keys: [2, 2, 1], keyFlags: ['RO'], categories: ['keyspace'],
        tips: ['nondeterministic_output'], group, since: '4.0.0',
        summary: 'Get the logarithmic access frequency counter of a Redis object', complexity: 'O(1)', arguments: [keyArg('key', 0)],
        handler: objectGeneric('freq') }),
      defineCommand({ name: 'idletime', arity: 3, flags: ['readonly'], keys: [2, 2, 1], keyFlags: ['RO'], categories: ['keyspace'],
        tips: ['nondeterministic_output'], group, since: '2.2.3', summary: 'Get the time since a Redis object was last accessed',
        complexity: 'O(1)', arguments: [keyArg('key', 0)], handler: objectGeneric('idletime') }),
      defineCommand({ name: 'refcount', arity: 3, flags: ['readonly'], keys: [2, 2, 1], keyFlags: ['RO'], categories: ['keyspace'],
        tips: ['nondeterministic_output'], group, since: '2.2.3', summary: 'Get the number of references to the value of the key',
        complexity: 'O(1)', arguments: [keyArg('key', 0)], handler: objectGeneric('refcount') }),
      defineCommand({ name: 'help', arity: 2, flags: ['loading', 'stale'], categories: ['keyspace'], group, since: '6.2.0',
        summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', handler: (c) => replyHelp(c, OBJECT_HELP) }),
    ] }),
];

