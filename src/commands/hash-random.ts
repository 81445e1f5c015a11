/**
 * HRANDFIELD and HSCAN (Redis 7.0's t_hash.c hrandfieldCommand,
 * hrandfieldWithCountCommand, hscanCommand; db.c scanGenericCommand through
 * collection-scan.ts).
 *
 * HRANDFIELD follows Redis's cases and reply shapes:
 * - no count: one field (a null when the key is missing);
 * - negative count, or count 1: |count| picks with replacement, in random
 *   order (listpack: uniform by index, lpRandomPairs; hashtable:
 *   dictGetFairRandomKey);
 * - count >= size: the whole hash in its natural order;
 * - listpack: distinct picks in listpack order (lpRandomPairsUnique's
 *   selection sampling);
 * - hashtable, count * 3 > size: every entry, then random ones removed;
 * - hashtable otherwise: random picks, duplicates skipped.
 * WITHVALUES: a flat array in RESP2, [field, value] pairs in RESP3. The
 * count is parsed before the lookup: -LONG_MAX..LONG_MAX, and with
 * WITHVALUES within ±LONG_MAX/2.
 */
import type { CommandContext } from './context.js';
import { NOT_INTEGER, SYNTAX } from './errors.js';
import { parseBigInt64 } from './numbers.js';
import { ValueType } from '../store/layout.js';
import { beginCollectionScan, replyEmptyScan, scanCursorArg } from './collection-scan.js';
import type { SlotTables } from '../store/slot-tables.js';
import { DE_AUX, DE_KEY, DE_KEYLEN, dictForEach, dictRandom } from '../store/arena-dict.js';
import { elem, readForward } from '../store/packed.js';
import { lpHashIndex } from '../store/hash-listpack.js';
import { hashForEach, hashLength, isListpack } from '../store/hash-type.js';

/** getRangeLongFromObjectOrReply's text for HRANDFIELD's count (-LONG_MAX..LONG_MAX). */
export const COUNT_RANGE = 'value is out of range, value must between -9223372036854775807 and 9223372036854775807';
/** The WITHVALUES bound (±LONG_MAX/2) error. */
export const VALUE_OUT_OF_RANGE = 'value is out of range';
const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;
/** HRANDFIELD_SUB_STRATEGY_MUL: copy-and-remove when count * 3 > size. */
const SUB_STRATEGY_MUL = 3;
const SAFE = Number.MAX_SAFE_INTEGER;

/** The hash at argument 1 (lookupKeyRead/Write + checkType): its entry, 0 when missing, -1 after WRONGTYPE. */
export function openHash(c: CommandContext, forRead: boolean): number {
  c.openKey(1);
  const e = forRead ? c.findRead() : c.findWrite();
  if (e !== 0 && c.typeOf(e) !== ValueType.Hash) {
    c.wrongType();
    return -1;
  }
  return e;
}

/** Field offsets of the listpack being sampled, reused between commands. */
let lpIndex: Int32Array = new Int32Array(64);

/** Replies the pair whose field header is at `p` in a listpack. */
function replyListpackPair(c: CommandContext, u8: Uint8Array, p: number, withValues: boolean, nested: boolean): void {
  const vp = readForward(u8, p);
  if (nested) c.out.arrayHeader(2);
  c.out.bulkBytes(u8, elem.start, elem.len);
  if (withValues) {
    readForward(u8, vp);
    c.out.bulkBytes(u8, elem.start, elem.len);
  }
}

/** Replies the pair of dict entry `de`. */
function replyDictPair(c: CommandContext, s: SlotTables, de: number, withValues: boolean, nested: boolean): void {
  const kl = s.u32[(de + DE_KEYLEN) >>> 2];
  if (nested) c.out.arrayHeader(2);
  c.out.bulkBytes(s.u8, de + DE_KEY, kl);
  if (withValues) c.out.bulkBytes(s.u8, de + DE_KEY + kl, s.u32[(de + DE_AUX) >>> 2]);
}

/** CASE 1: `count` picks with replacement. */
function replyWithReplacement(c: CommandContext, e: number, count: number, withValues: boolean, nested: boolean): void {
  const s = c.shard;
  if (isListpack(s, e)) {
    const n = hashLength(s, e);
    lpIndex = lpHashIndex(s, e, lpIndex);
    for (let i = 0; i < count; i++) {
      replyListpackPair(c, s.u8, lpIndex[Math.floor(Math.random() * n)], withValues, nested);
    }
    return;
  }
  const h = s.collectionStart(e);
  for (let i = 0; i < count; i++) replyDictPair(c, s, dictRandom(s, h), withValues, nested);
}

/** CASE 2.5: distinct listpack picks in listpack order (selection sampling, as lpRandomPairsUnique). */
function replyListpackUnique(c: CommandContext, e: number, count: number, withValues: boolean, nested: boolean): void {
  const s = c.shard;
  const n = hashLength(s, e);
  lpIndex = lpHashIndex(s, e, lpIndex);
  let remaining = count;
  for (let i = 0; i < n && remaining > 0; i++) {
    if (Math.random() * (n - i) < remaining) {
      replyListpackPair(c, s.u8, lpIndex[i], withValues, nested);
      remaining--;
    }
  }
}

/** CASES 3 and 4: `count` distinct picks from a hashtable hash of `size` fields. */
function replyDictUnique(c: CommandContext, e: number, count: number, size: number, withValues: boolean, nested: boolean): void {
  const s = c.shard;
  const h = s.collectionStart(e);
  if (count * SUB_STRATEGY_MUL > size) {
    const all: number[] = [];
    dictForEach(s, h, (de) => {
      all.push(de);
    });
    while (all.length > count) {
      const k = Math.floor(Math.random() * all.length);
      all[k] = all[all.length - 1];
      all.pop();
    }
    for (const de of all) replyDictPair(c, s, de, withValues, nested);
    return;
  }
  const picked = new Set<number>();
  while (picked.size < count) {
    const de = dictRandom(s, h);
    if (picked.has(de)) continue;
    picked.add(de);
    replyDictPair(c, s, de, withValues, nested);
  }
}

/** hrandfieldWithCountCommand. */
function hrandfieldWithCount(c: CommandContext, l: number, withValues: boolean): void {
  const e = openHash(c, true);
  if (e < 0) return;
  if (e === 0 || l === 0) {
    c.out.arrayHeader(0);
    return;
  }
  const s = c.shard;
  const size = hashLength(s, e);
  const count = Math.abs(l);
  const nested = withValues && c.out.resp === 3;
  const flat = withValues && !nested;
  if (l < 0 || count === 1) {
    c.out.arrayHeader(flat ? count * 2 : count);
    replyWithReplacement(c, e, count, withValues, nested);
    return;
  }
  const replySize = Math.min(count, size);
  c.out.arrayHeader(flat ? replySize * 2 : replySize);
  if (count >= size) {
    const u8 = s.u8;
    hashForEach(s, e, (fs, fl, vs, vl) => {
      if (nested) c.out.arrayHeader(2);
      c.out.bulkBytes(u8, fs, fl);
      if (withValues) c.out.bulkBytes(u8, vs, vl);
    });
  } else if (isListpack(s, e)) {
    replyListpackUnique(c, e, count, withValues, nested);
  } else {
    replyDictUnique(c, e, count, size, withValues, nested);
  }
}

/** The count argument exactly (bigint beyond 2^53), or null when it is not an integer. */
function countArg(c: CommandContext): { n: number; big: bigint } | null {
  const n = c.argInt(2);
  if (n === null) return null;
  const big = Math.abs(n) > SAFE ? parseBigInt64(c.buf, c.argStart[2], c.argLen[2])! : BigInt(n);
  return { n, big };
}

export function hrandfield(c: CommandContext): void {
  if (c.argc >= 3) {
    const count = countArg(c);
    if (count === null) {
      c.out.error(NOT_INTEGER);
      return;
    }
    if (count.big === LONG_MIN) {
      c.out.error(COUNT_RANGE);
      return;
    }
    if (c.argc > 4 || (c.argc === 4 && !c.argIs(3, 'withvalues'))) {
      c.out.error(SYNTAX);
      return;
    }
    const withValues = c.argc === 4;
    if (withValues && (count.big < -(LONG_MAX / 2n) || count.big > LONG_MAX / 2n)) {
      c.out.error(VALUE_OUT_OF_RANGE);
      return;
    }
    hrandfieldWithCount(c, count.n, withValues);
    return;
  }
  const e = openHash(c, true);
  if (e < 0) return;
  if (e === 0) {
    c.out.nullBulk();
    return;
  }
  replyWithReplacement(c, e, 1, false, false);
}

/** hscanCommand: the cursor, then the key, then the options (collection-scan.ts). */
export function hscan(c: CommandContext): void {
  const cursor = scanCursorArg(c, 2);
  if (cursor < 0) return;
  const e = openHash(c, true);
  if (e < 0) return;
  if (e === 0) {
    replyEmptyScan(c);
    return;
  }
  const res = beginCollectionScan(c, 3, true);
  if (res === null) return;
  const s = c.shard;
  if (isListpack(s, e)) {
    const u8 = s.u8;
    hashForEach(s, e, (fs, fl, vs, vl) => {
      if (res.add(u8, fs, fl)) res.addValue(u8, vs, vl);
    });
    res.reply(c, 0);
    return;
  }
  const next = res.scanDict(s, s.collectionStart(e), cursor, (de) => {
    const u8 = s.u8;
    const kl = s.u32[(de + DE_KEYLEN) >>> 2];
    if (res.add(u8, de + DE_KEY, kl)) res.addValue(u8, de + DE_KEY + kl, s.u32[(de + DE_AUX) >>> 2]);
  });
  res.reply(c, next);
}
