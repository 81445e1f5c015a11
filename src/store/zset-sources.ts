/**
 * The inputs of the sorted-set algebra (t_zset.c's zsetopsrc and the zui*
 * iterator functions): a sorted set of either encoding, or a plain set
 * (intset or hashtable) whose members all score 1. Read only; the inputs
 * may live in different shards, all locked by the command.
 *
 * Ported: zuiLength (sourceLength), zuiFind (sourceFind, the set branch as
 * setTypeIsMember: a canonical integer is searched in an intset, anything
 * else is not a member of one), and zuiInitIterator/zuiNext
 * (sourceForEach).
 */
import type { Shard } from './shard.js';
import { E_ENCODING, E_TYPE, ValueType } from './layout.js';
import { CollectionEncoding, LP_FIRST, ZS_LIST } from './collection-layout.js';
import { DE_KEY, DE_KEYLEN, dictFind, dictForEach, dictSize, hashOf } from './arena-dict.js';
import { intsetCount, intsetFind, intsetFormat, intValue, parseCanonicalInt64 } from './intset.js';
import { nodeRef, nodeScore, zslFirst, zslNext } from './skiplist.js';
import { zlpAt, zlpEnd, zlpRead } from './zset-listpack.js';
import { isSkiplist, zsetLength, zsetScore, zv } from './zset-value.js';

/** One input: its shard and entry (null/0 for a missing key) and its weight. */
export interface ZSource {
  s: Shard | null;
  e: number;
  weight: number;
}

/** A member's bytes and score, as sourceForEach hands them out. */
export type MemberVisitor = (u8: Uint8Array, start: number, len: number, score: number) => boolean | void;

/** The score zuiFind found. */
export const sourceFound = { score: 0 };

/** Room for an intset integer's decimal text. */
const intText = new Uint8Array(20);

function isSet(s: Shard, e: number): boolean {
  return s.u8[e + E_TYPE] === ValueType.Set;
}

function isIntset(s: Shard, e: number): boolean {
  return s.u8[e + E_ENCODING] === CollectionEncoding.Intset;
}

/** zuiLength: members of the input (0 for a missing key). */
export function sourceLength(src: ZSource): number {
  const s = src.s;
  if (s === null) return 0;
  if (!isSet(s, src.e)) return zsetLength(s, src.e);
  const v = s.collectionStart(src.e);
  return isIntset(s, src.e) ? intsetCount(s.u8, v) : dictSize(s, v);
}

/** zuiFind: whether the member is in the input; its score (1 for a set) goes to sourceFound.score. */
export function sourceFind(src: ZSource, u8: Uint8Array, start: number, len: number): boolean {
  const s = src.s;
  if (s === null) return false;
  const e = src.e;
  if (!isSet(s, e)) {
    if (!zsetScore(s, e, u8, start, len)) return false;
    sourceFound.score = zv.score;
    return true;
  }
  const v = s.collectionStart(e);
  sourceFound.score = 1;
  if (isIntset(s, e)) return parseCanonicalInt64(u8, start, len) && intsetFind(s.u8, v, intValue.hi, intValue.lo) >= 0;
  return dictFind(s, v, u8, start, len, hashOf(u8, start, len)) !== 0;
}

/**
 * Calls visit for every member of the input with its score (1 for a set);
 * the visitor may look members up in other inputs, and stops the walk by
 * returning false. The bytes it gets are valid during the call only.
 */
export function sourceForEach(src: ZSource, visit: MemberVisitor): void {
  const s = src.s;
  if (s === null) return;
  const e = src.e;
  const v = s.collectionStart(e);
  if (!isSet(s, e)) {
    if (isSkiplist(s, e)) {
      for (let node = zslFirst(s, v + ZS_LIST); node !== 0;) {
        const next = zslNext(s, node);
        const ref = nodeRef(s, node);
        if (visit(s.u8, ref + DE_KEY, s.u32[(ref + DE_KEYLEN) >>> 2], nodeScore(s, node)) === false) return;
        node = next;
      }
      return;
    }
    const end = zlpEnd(s, e);
    for (let p = v + LP_FIRST; p < end;) {
      zlpRead(s.u8, p);
      p = zlpAt.next;
      if (visit(s.u8, zlpAt.member, zlpAt.len, zlpAt.score) === false) return;
    }
    return;
  }
  if (isIntset(s, e)) {
    const n = intsetCount(s.u8, v);
    for (let i = 0; i < n; i++) {
      const len = intsetFormat(s.u8, v, i, intText, 0);
      if (visit(intText, 0, len, 1) === false) return;
    }
    return;
  }
  let stopped = false;
  dictForEach(s, v, (de) => {
    if (!stopped && visit(s.u8, de + DE_KEY, s.u32[(de + DE_KEYLEN) >>> 2], 1) === false) stopped = true;
  });
}
