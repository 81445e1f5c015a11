/**
 * HSCAN / SSCAN / ZSCAN's shared machinery: Redis's parseScanCursorOrReply
 * and scanGenericCommand (db.c) for a collection object.
 *
 * Redis's order of checks, which callers must keep:
 *   1. the cursor (argument 2) is parsed first: `ERR invalid cursor`;
 *   2. the key is looked up: missing → the empty scan `[ "0", [] ]`
 *      (replyEmptyScan), wrong type → WRONGTYPE;
 *   3. only then the options (MATCH pattern, COUNT n) are parsed: COUNT must
 *      be an integer (`value is not an integer or out of range`) and >= 1
 *      (`syntax error`); an unknown option or a missing value is a syntax error.
 *
 * Compact encodings (listpack, intset) return every element in one reply
 * with cursor 0, whatever the cursor and COUNT. Hashtables (arena-dict)
 * advance dictScan's reverse-binary cursor until COUNT elements were
 * gathered (before MATCH filtering, as Redis counts them) or ten times COUNT
 * buckets were visited; for pairs (hash field/value, zset member/score)
 * Redis doubles COUNT first, and weft does the same arithmetic.
 *
 * API (one scan at a time per thread; nothing here allocates per element):
 *
 *   scanCursorArg(c, i = 2): number
 *       The cursor's dictScan value (its low 32 bits: dictScan ignores the
 *       bits above the table mask), or -1 after replying `invalid cursor`.
 *   replyEmptyScan(c): void
 *       The reply for a missing key.
 *   beginCollectionScan(c, from = 3, pairs = false): CollectionScanResult | null
 *       Parses `[MATCH pattern] [COUNT count]` from argument `from`; null
 *       after replying the error. `pairs`: each member is followed by a value.
 *   res.add(src, start, len): boolean
 *       Offers a member (field); returns false when MATCH filters it out.
 *       For pairs, call res.addValue / res.addValueText only when add
 *       returned true.
 *   res.addText(text): boolean            a member given as latin1 text (intset ints)
 *   res.addValue(src, start, len): void   the value of the member just added
 *   res.addValueText(text): void          the same, as latin1 text (zset scores)
 *   res.scanDict(a, h, cursor, visit): number
 *       Runs dictScan steps over the dict header at `h` from `cursor`,
 *       calling visit(entry) per entry (visit calls res.add...); returns the
 *       next cursor (0: done). The visitor must not allocate in the arena.
 *   res.reply(c, cursor): void
 *       Writes `[cursor, [elements...]]` (the same in RESP2 and RESP3).
 */
import type { CommandContext } from './context.js';
import { INVALID_CURSOR, NOT_INTEGER, SYNTAX } from './errors.js';
import { globMatch, isMatchAll } from './glob.js';
import { parseScanCursor } from './numbers.js';
import { dictScan } from '../store/arena-dict.js';
import type { ShardArena } from '../store/shard-arena.js';

/** COUNT's default (scanGenericCommand). */
const DEFAULT_COUNT = 10;
/** Buckets visited per requested element before a call gives up (maxiterations = count * 10). */
const ITERATIONS_PER_ELEMENT = 10;
const LOW_32_BITS = 0xffffffffn;
const EMPTY_SCAN = Buffer.from('*2\r\n$1\r\n0\r\n*0\r\n', 'latin1');

/**
 * parseScanCursorOrReply: strtoul in base 10 over the whole text (a sign
 * allowed, negative values wrap modulo 2^64, no leading space, no trailing
 * bytes, at most 2^64 - 1; an empty text is 0). Returns the low 32 bits, or
 * -1 after replying `invalid cursor`.
 */
export function scanCursorArg(c: CommandContext, i = 2): number {
  const cursor = parseScanCursor(c.buf, c.argStart[i], c.argLen[i]);
  return cursor === null ? invalidCursor(c) : Number(cursor & LOW_32_BITS);
}

function invalidCursor(c: CommandContext): number {
  c.out.error(INVALID_CURSOR);
  return -1;
}

/** shared.emptyscan: the reply of HSCAN/SSCAN/ZSCAN on a missing key. */
export function replyEmptyScan(c: CommandContext): void {
  c.out.raw(EMPTY_SCAN);
}

/** C's signed 64-bit wrap-around, for COUNT * 2 and COUNT * 10 as Redis computes them in a long. */
function wrapLong(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

/** The elements of one scan reply, gathered until the reply is written. */
export class CollectionScanResult {
  private bytes: Buffer = Buffer.allocUnsafe(4096);
  private used = 0;
  /** Start and length in `bytes` of each kept element. */
  private spans = new Int32Array(256);
  private kept = 0;
  /** Elements offered, filtered or not (Redis's listLength(keys) before filtering). */
  private offered = 0;
  private pairs = false;
  private pattern: Uint8Array = new Uint8Array(0);
  private ps = 0;
  private pe = 0;
  private matchAll = true;
  /** Stop gathering once `offered` reaches this (Redis compares it unsigned: a wrapped count is no limit). */
  private limit = DEFAULT_COUNT;
  /** Extra dictScan steps allowed after the first one (maxiterations). */
  private maxIterations = DEFAULT_COUNT * ITERATIONS_PER_ELEMENT;

  /** Resets for a new scan; returns false after replying an option error. */
  begin(c: CommandContext, from: number, pairs: boolean): boolean {
    let count = BigInt(DEFAULT_COUNT);
    let matchArg = -1;
    for (let i = from; i < c.argc; i++) {
      const more = c.argc - i - 1;
      if (c.argIs(i, 'count') && more >= 1) {
        const n = c.argInt(i + 1);
        if (n === null) {
          c.out.error(NOT_INTEGER);
          return false;
        }
        if (n < 1) {
          c.out.error(SYNTAX);
          return false;
        }
        // Exact beyond 2^53: the wrapped products below depend on every bit.
        count = Number.isSafeInteger(n) ? BigInt(n) : BigInt(c.argLatin1(i + 1));
        i++;
      } else if (c.argIs(i, 'match') && more >= 1) {
        matchArg = ++i;
      } else {
        c.out.error(SYNTAX);
        return false;
      }
    }
    this.used = 0;
    this.kept = 0;
    this.offered = 0;
    this.pairs = pairs;
    if (pairs) count = wrapLong(count * 2n);
    const iterations = wrapLong(count * BigInt(ITERATIONS_PER_ELEMENT));
    // `maxiterations--` only stops the loop when it reaches exactly 0; a negative start never does in practice.
    this.maxIterations = iterations < 0n ? Infinity : Number(iterations);
    this.limit = count < 0n ? Infinity : Number(count);
    this.pattern = c.buf;
    if (matchArg >= 0) {
      this.ps = c.argStart[matchArg];
      this.pe = this.ps + c.argLen[matchArg];
      this.matchAll = isMatchAll(c.buf, this.ps, this.pe);
    } else {
      this.matchAll = true;
    }
    return true;
  }

  private keep(src: Uint8Array, start: number, len: number): void {
    if (this.used + len > this.bytes.length) {
      const next = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + len));
      this.bytes.copy(next, 0, 0, this.used);
      this.bytes = next;
    }
    if (this.kept * 2 + 2 > this.spans.length) {
      const next = new Int32Array(this.spans.length * 2);
      next.set(this.spans);
      this.spans = next;
    }
    if (len < 48) for (let i = 0; i < len; i++) this.bytes[this.used + i] = src[start + i];
    else this.bytes.set(src.subarray(start, start + len), this.used);
    this.spans[this.kept * 2] = this.used;
    this.spans[this.kept * 2 + 1] = len;
    this.used += len;
    this.kept++;
  }

  /** Offers a member; false when MATCH filters it out (then its value must not be added). */
  add(src: Uint8Array, start: number, len: number): boolean {
    this.offered += this.pairs ? 2 : 1;
    if (!this.matchAll && !globMatch(this.pattern, this.ps, this.pe, src, start, start + len)) return false;
    this.keep(src, start, len);
    return true;
  }

  /** Offers a member given as latin1 text (an intset integer's decimal form). */
  addText(text: string): boolean {
    const b = Buffer.from(text, 'latin1');
    return this.add(b, 0, b.length);
  }

  /** The value of the member just added (pairs only). */
  addValue(src: Uint8Array, start: number, len: number): void {
    this.keep(src, start, len);
  }

  addValueText(text: string): void {
    const b = Buffer.from(text, 'latin1');
    this.keep(b, 0, b.length);
  }

  /**
   * scanGenericCommand's loop over a hashtable: dictScan from `cursor` until
   * the scan ends, COUNT elements were offered, or maxiterations ran out.
   */
  scanDict(a: ShardArena, h: number, cursor: number, visit: (e: number) => void): number {
    let iterations = this.maxIterations;
    do {
      cursor = dictScan(a, h, cursor, visit);
    } while (cursor !== 0 && iterations-- !== 0 && this.offered < this.limit);
    return cursor;
  }

  /** Writes `[cursor, [elements...]]`. */
  reply(c: CommandContext, cursor: number): void {
    const out = c.out;
    out.arrayHeader(2);
    out.bulkString(String(cursor));
    out.arrayHeader(this.kept);
    const spans = this.spans;
    for (let i = 0; i < this.kept; i++) out.bulkBytes(this.bytes, spans[i * 2], spans[i * 2 + 1]);
  }
}

const shared = new CollectionScanResult();

/**
 * Parses the scan options from argument `from` (after the key lookup and
 * type check, as Redis does); returns the thread's result gatherer, or null
 * after replying an error.
 */
export function beginCollectionScan(c: CommandContext, from = 3, pairs = false): CollectionScanResult | null {
  return shared.begin(c, from, pairs) ? shared : null;
}
