/**
 * The sorted-set skiplist in a shard's arena (skiplist.ts), against a sorted
 * array model: inserts, deletes, score updates and range deletes in random
 * order, with ranks, nodes by rank, first and last nodes of score and lex
 * ranges, spans, backward links and levels checked along the way, and the
 * arena's live bytes back to where they started once everything is released.
 */
import t from 'tap';
import { Shard } from '../src/store/shard.js';
import { DE_KEY, DE_KEYLEN } from '../src/store/arena-dict.js';
import {
  LEX_BYTES, LEX_MINUS_INFINITY, LEX_PLUS_INFINITY, SKIPLIST_HEADER_BYTES, ZSKIPLIST_MAXLEVEL,
  nodeForward, nodeLevel, nodeRef, nodeScore, nodeSpan,
  zslCreate, zslDelete, zslDeleteRangeByLex, zslDeleteRangeByRank, zslDeleteRangeByScore,
  zslFirst, zslFirstInLexRange, zslFirstInRange, zslGetRank, zslHeaderNode, zslInsert, zslLast,
  zslLastInLexRange, zslLastInRange, zslLength, zslLevel, zslNext, zslNodeByRank, zslPrev,
  zslRandomLevel, zslRelease, zslUpdateScore,
  type LexInfinity, type LexRange, type ScoreRange,
} from '../src/store/skiplist.js';
import { prng } from './helpers/prng.js';

const GEOMETRY = { databases: 1, shardBits: 0 };
/** A small first buffer, so the arena grows (and its views are replaced) during the runs. */
const INITIAL_BYTES = 1 << 16;

interface Item {
  bytes: Buffer;
  score: number;
  ref: number;
  node: number;
}

/** The skiplist order: score (-0 equal to 0), then memcmp with the shorter prefix first. */
function compareItems(x: { score: number; bytes: Buffer }, y: { score: number; bytes: Buffer }): number {
  if (x.score < y.score) return -1;
  if (x.score > y.score) return 1;
  return Buffer.compare(x.bytes, y.bytes);
}

/** A dict-entry-shaped block holding the member bytes (length at DE_KEYLEN, bytes at DE_KEY). */
function newRef(a: Shard, bytes: Buffer): number {
  const ref = a.alloc(DE_KEY + bytes.length);
  a.u32[(ref + DE_KEYLEN) >>> 2] = bytes.length;
  a.u8.set(bytes, ref + DE_KEY);
  return ref;
}

function freeRef(a: Shard, ref: number): void {
  a.free(ref, DE_KEY + a.u32[(ref + DE_KEYLEN) >>> 2]);
}

function memberOf(a: Shard, ref: number): Buffer {
  const start = ref + DE_KEY;
  return Buffer.from(a.u8.subarray(start, start + a.u32[(ref + DE_KEYLEN) >>> 2]));
}

/** Every invariant of the list against the model; returns the first problem found, or null. */
function structureProblem(a: Shard, h: number, items: Item[]): string | null {
  const length = zslLength(a, h);
  if (length !== items.length) return `length ${length}, model ${items.length}`;
  const level = zslLevel(a, h);
  if (level < 1 || level > ZSKIPLIST_MAXLEVEL) return `level ${level}`;
  const header = zslHeaderNode(a, h);
  if (nodeLevel(a, header) !== ZSKIPLIST_MAXLEVEL) return 'header node level';
  for (let i = level; i < ZSKIPLIST_MAXLEVEL; i++) if (nodeForward(a, header, i) !== 0) return `header link above level at ${i}`;
  if (length > 0 && nodeForward(a, header, level - 1) === 0) return 'level not lowered';
  if (length === 0 && level !== 1) return 'empty list above level 1';
  const rankOf = new Map<number, number>();
  let x = zslFirst(a, h);
  let previous = 0;
  const countAbove = new Array<number>(ZSKIPLIST_MAXLEVEL).fill(0);
  for (let k = 0; k < items.length; k++, previous = x, x = zslNext(a, x)) {
    const item = items[k];
    if (x !== item.node) return `rank ${k + 1}: node ${x}, model ${item.node}`;
    if (nodeRef(a, x) !== item.ref || !Object.is(nodeScore(a, x), item.score)) return `rank ${k + 1}: ref or score`;
    if (zslPrev(a, x) !== previous) return `rank ${k + 1}: backward ${zslPrev(a, x)}, expected ${previous}`;
    const l = nodeLevel(a, x);
    if (l < 1 || l > level) return `rank ${k + 1}: level ${l} of ${level}`;
    for (let i = 0; i < l; i++) countAbove[i]++;
    rankOf.set(x, k + 1);
  }
  if (x !== 0) return 'level 0 goes on past the model';
  if (zslLast(a, h) !== previous) return `tail ${zslLast(a, h)}, expected ${previous}`;
  for (let i = 0; i < level; i++) {
    let at = header;
    let traversed = 0;
    let visited = 0;
    for (;;) {
      const f = nodeForward(a, at, i);
      const span = nodeSpan(a, at, i);
      if (f === 0) {
        if (span !== length - traversed) return `level ${i}: final span ${span}, expected ${length - traversed}`;
        break;
      }
      traversed += span;
      if (rankOf.get(f) !== traversed) return `level ${i}: span sum ${traversed} at rank ${rankOf.get(f)}`;
      if (nodeLevel(a, f) <= i) return `level ${i}: node of level ${nodeLevel(a, f)}`;
      visited++;
      at = f;
    }
    if (visited !== countAbove[i]) return `level ${i}: ${visited} nodes linked, ${countAbove[i]} tall enough`;
  }
  return null;
}

const SCORE_POOL = [-Infinity, -1e300, -2.5, -1, -0, 0, 0.5, 1, 1, 2, 3.75, 7, 1e300, Infinity];

function scoreInRange(score: number, r: ScoreRange): boolean {
  return (r.minex ? score > r.min : score >= r.min) && (r.maxex ? score < r.max : score <= r.max);
}

/** Member against a lex bound, as sdscmplex orders them. */
function compareToBound(bytes: Buffer, bound: Uint8Array, infinity: LexInfinity): number {
  return infinity !== LEX_BYTES ? -infinity : Buffer.compare(bytes, bound);
}

function lexInRange(bytes: Buffer, r: LexRange): boolean {
  const lo = compareToBound(bytes, r.min, r.minInfinity);
  const hi = compareToBound(bytes, r.max, r.maxInfinity);
  return (r.minex ? lo > 0 : lo >= 0) && (r.maxex ? hi < 0 : hi <= 0);
}

interface RunOptions {
  seed: number;
  operations: number;
  /** Every score is 0 or -0: lex ranges are meaningful (ZRANGEBYLEX's contract). */
  lexMode: boolean;
}

/** One randomized run against the model; returns the failures (at most a few described). */
function modelRun(options: RunOptions): { failures: string[]; checks: number; longest: number; highest: number } {
  const random = prng(options.seed);
  const int = (n: number) => Math.floor(random() * n);
  const a = new Shard(Shard.allocate(GEOMETRY, INITIAL_BYTES), 0, GEOMETRY);
  const startLive = a.liveBytes;
  const h = a.alloc(SKIPLIST_HEADER_BYTES);
  zslCreate(a, h);
  const items: Item[] = [];
  const byMember = new Map<string, Item>();
  /** Blocks the removal callbacks allocate, so the arena grows in the middle of range deletes. */
  const ballast: { block: number; size: number }[] = [];
  const failures: string[] = [];
  let checks = 0;
  let op = 0;
  let longest = 0;
  let highest = 0;
  const expect = (ok: boolean, what: () => string) => {
    checks++;
    if (!ok && failures.length < 10) failures.push(`op ${op}: ${what()}`);
  };

  const alphabet = [0x00, 0x61, 0x62, 0x63, 0xff];
  const randomMember = (): Buffer => {
    if (random() < 0.03) return Buffer.alloc(60 + int(40), alphabet[int(alphabet.length)]);
    const bytes = Buffer.alloc(random() < 0.01 ? 0 : 1 + int(8));
    for (let i = 0; i < bytes.length; i++) bytes[i] = alphabet[int(alphabet.length)];
    return bytes;
  };
  const randomScore = (): number => {
    if (options.lexMode) return random() < 0.5 ? 0 : -0;
    return random() < 0.6 ? SCORE_POOL[int(SCORE_POOL.length)] : int(201) - 100 + (random() < 0.3 ? 0.25 : 0);
  };
  const randomScoreRange = (): ScoreRange => {
    const min = randomScore();
    const max = random() < 0.8 ? Math.max(min, randomScore()) : randomScore();
    return { min, max, minex: random() < 0.3, maxex: random() < 0.3 };
  };
  const randomBound = (): { bytes: Buffer; infinity: LexInfinity } => {
    const r = random();
    if (r < 0.1) return { bytes: Buffer.alloc(0), infinity: LEX_MINUS_INFINITY };
    if (r < 0.2) return { bytes: Buffer.alloc(0), infinity: LEX_PLUS_INFINITY };
    return { bytes: randomMember(), infinity: LEX_BYTES };
  };
  const randomLexRange = (): LexRange => {
    let lo = randomBound();
    let hi = randomBound();
    if (lo.infinity === LEX_BYTES && hi.infinity === LEX_BYTES && random() < 0.8 && Buffer.compare(lo.bytes, hi.bytes) > 0) [lo, hi] = [hi, lo];
    return { min: lo.bytes, minInfinity: lo.infinity, minex: random() < 0.3, max: hi.bytes, maxInfinity: hi.infinity, maxex: random() < 0.3 };
  };
  const insertionRandom = () => (random() < 0.01 ? () => 0 : random);

  const removeFromModel = (item: Item) => {
    items.splice(items.indexOf(item), 1);
    byMember.delete(item.bytes.toString('latin1'));
  };
  /** The range-delete callback: records the node, frees its member, sometimes allocates. */
  const removedNodes: number[] = [];
  const onRemove = (node: number) => {
    removedNodes.push(node);
    freeRef(a, nodeRef(a, node));
    if (random() < 0.05) {
      const size = 8192 * (1 + int(4));
      ballast.push({ block: a.alloc(size), size });
    }
  };
  const checkRangeDelete = (expected: Item[], removed: number, what: string) => {
    expect(removed === expected.length, () => `${what}: removed ${removed}, model ${expected.length}`);
    expect(removedNodes.length === expected.length && expected.every((it, k) => removedNodes[k] === it.node), () => `${what}: removed the wrong nodes`);
    for (const it of expected) removeFromModel(it);
    removedNodes.length = 0;
  };

  for (op = 0; op < options.operations; op++) {
    // The list grows for the first 60% of the run, then shrinks slowly.
    const growing = op < options.operations * 0.6;
    const insertUpTo = growing ? 0.75 : 0.3;
    const deleteUpTo = insertUpTo + (growing ? 0.08 : 0.2);
    const updateUpTo = deleteUpTo + (growing ? 0.13 : 0.4);
    const r = random();
    if (r < insertUpTo) {
      const bytes = randomMember();
      const key = bytes.toString('latin1');
      if (byMember.has(key)) continue;
      const score = randomScore();
      const ref = newRef(a, bytes);
      const node = zslInsert(a, h, score, ref, insertionRandom());
      const item = { bytes, score, ref, node };
      const at = items.findIndex((it) => compareItems(item, it) < 0);
      items.splice(at < 0 ? items.length : at, 0, item);
      byMember.set(key, item);
    } else if (r < deleteUpTo && items.length > 0) {
      const item = items[int(items.length)];
      // A different block with the same bytes: the match is on the member, not the ref.
      const probe = random() < 0.5 ? newRef(a, item.bytes) : item.ref;
      const wrongScore = item.score === 1 ? 2 : 1;
      expect(!zslDelete(a, h, wrongScore, probe), () => 'deleted with the wrong score');
      expect(zslDelete(a, h, item.score, probe), () => 'delete of a present member failed');
      if (probe !== item.ref) freeRef(a, probe);
      freeRef(a, item.ref);
      removeFromModel(item);
    } else if (r < updateUpTo && items.length > 0) {
      const item = items[int(items.length)];
      const newScore = random() < 0.3 && !options.lexMode ? item.score + random() * 1e-9 : randomScore();
      const node = zslUpdateScore(a, h, item.node, newScore);
      expect(node === item.node, () => 'the updated node moved to another block');
      expect(Object.is(nodeScore(a, node), newScore), () => 'score not updated');
      items.splice(items.indexOf(item), 1);
      item.score = newScore;
      item.node = node;
      const at = items.findIndex((it) => compareItems(item, it) < 0);
      items.splice(at < 0 ? items.length : at, 0, item);
    } else if (r < updateUpTo + 0.04 && items.length > 0) {
      // Mostly narrow ranges, between members a few ranks apart; now and then a random one.
      const kind = int(3);
      const low = items[int(items.length)];
      const high = items[Math.min(items.length - 1, items.indexOf(low) + int(6))];
      const narrow = random() < 0.98;
      if (kind === 0 && !options.lexMode) {
        const range = narrow ? { min: low.score, max: high.score, minex: random() < 0.3, maxex: random() < 0.3 } : randomScoreRange();
        const expected = items.filter((it) => scoreInRange(it.score, range));
        checkRangeDelete(expected, zslDeleteRangeByScore(a, h, range, onRemove), 'score range delete');
      } else if (kind === 1 && options.lexMode) {
        const range: LexRange = narrow
          ? { min: low.bytes, minInfinity: LEX_BYTES, minex: random() < 0.3, max: high.bytes, maxInfinity: LEX_BYTES, maxex: random() < 0.3 }
          : randomLexRange();
        const expected = items.filter((it) => lexInRange(it.bytes, range));
        checkRangeDelete(expected, zslDeleteRangeByLex(a, h, range, onRemove), 'lex range delete');
      } else {
        const start = 1 + int(items.length);
        const end = start + int(6) + (random() < 0.005 ? items.length : 0);
        const expected = items.slice(start - 1, end);
        checkRangeDelete(expected, zslDeleteRangeByRank(a, h, start, end, onRemove), 'rank range delete');
      }
    }
    spotChecks();
    longest = Math.max(longest, items.length);
    highest = Math.max(highest, zslLevel(a, h));
    if (op % 250 === 0 || op === options.operations - 1) {
      const problem = structureProblem(a, h, items);
      expect(problem === null, () => `structure: ${problem}`);
    }
  }

  function spotChecks(): void {
    if (items.length > 0) {
      const k = int(items.length);
      const item = items[k];
      expect(zslGetRank(a, h, item.score, item.ref) === k + 1, () => `rank of rank ${k + 1}: ${zslGetRank(a, h, item.score, item.ref)}`);
      expect(zslNodeByRank(a, h, k + 1) === item.node, () => `node by rank ${k + 1}`);
      expect(zslGetRank(a, h, item.score === 7 ? 8 : 7, item.ref) === 0, () => 'rank with the wrong score');
    }
    expect(zslNodeByRank(a, h, 0) === 0 && zslNodeByRank(a, h, items.length + 1) === 0, () => 'node by rank out of range');
    const absent = randomMember();
    if (!byMember.has(absent.toString('latin1'))) {
      const ref = newRef(a, absent);
      expect(zslGetRank(a, h, randomScore(), ref) === 0, () => 'rank of an absent member');
      freeRef(a, ref);
    }
    if (options.lexMode) {
      const range = randomLexRange();
      const inside = items.filter((it) => lexInRange(it.bytes, range));
      expect(zslFirstInLexRange(a, h, range) === (inside[0]?.node ?? 0), () => 'first in lex range');
      expect(zslLastInLexRange(a, h, range) === (inside.at(-1)?.node ?? 0), () => 'last in lex range');
    } else {
      const range = randomScoreRange();
      const inside = items.filter((it) => scoreInRange(it.score, range));
      expect(zslFirstInRange(a, h, range) === (inside[0]?.node ?? 0), () => `first in score range ${JSON.stringify(range)}`);
      expect(zslLastInRange(a, h, range) === (inside.at(-1)?.node ?? 0), () => `last in score range ${JSON.stringify(range)}`);
    }
  }

  // Lazy release, a few nodes at a time, freeing each member as Redis frees the dict entry.
  const members = items.map((it) => it.bytes);
  let released = 0;
  let calls = 0;
  while (zslHeaderNode(a, h) !== 0) {
    const before = zslLength(a, h);
    const freed = zslRelease(a, h, 1 + int(50), (node) => {
      const bytes = memberOf(a, nodeRef(a, node));
      expect(bytes.equals(members[released]), () => `release order at ${released}`);
      released++;
      freeRef(a, nodeRef(a, node));
    });
    expect(zslLength(a, h) === before - freed, () => 'length during release');
    if (++calls > 1e6) break;
  }
  expect(released === items.length, () => `released ${released} of ${items.length}`);
  expect(zslRelease(a, h, 10, () => {}) === 0, () => 'release after the end');
  for (const { block, size } of ballast) a.free(block, size);
  a.free(h, SKIPLIST_HEADER_BYTES);
  expect(a.liveBytes === startLive, () => `live bytes ${a.liveBytes}, started at ${startLive}`);
  expect(a.arenaBytes > INITIAL_BYTES, () => 'the arena never grew');
  return { failures, checks, longest, highest };
}

t.test('zslRandomLevel', async (t) => {
  t.equal(zslRandomLevel(() => 0), ZSKIPLIST_MAXLEVEL, 'capped at the maximum level');
  t.equal(zslRandomLevel(() => 0.25), 1, 'a draw of P or more stops');
  const random = prng(7);
  let sum = 0;
  const n = 100000;
  for (let i = 0; i < n; i++) sum += zslRandomLevel(random);
  t.ok(Math.abs(sum / n - 4 / 3) < 0.02, `mean level ${sum / n} is about 1 / (1 - P)`);
});

t.test('empty list and small cases', async (t) => {
  const a = new Shard(Shard.allocate(GEOMETRY), 0, GEOMETRY);
  const start = a.liveBytes;
  const h = a.alloc(SKIPLIST_HEADER_BYTES);
  zslCreate(a, h);
  t.equal(zslLength(a, h), 0);
  t.equal(zslFirst(a, h), 0);
  t.equal(zslLast(a, h), 0);
  t.equal(zslNodeByRank(a, h, 1), 0);
  t.equal(zslFirstInRange(a, h, { min: -Infinity, max: Infinity, minex: false, maxex: false }), 0);
  const all: LexRange = { min: Buffer.alloc(0), minInfinity: LEX_MINUS_INFINITY, minex: true, max: Buffer.alloc(0), maxInfinity: LEX_PLUS_INFINITY, maxex: true };
  t.equal(zslLastInLexRange(a, h, all), 0);
  const refB = newRef(a, Buffer.from('b'));
  const refA = newRef(a, Buffer.from('a'));
  const nodeB = zslInsert(a, h, 0, refB);
  const nodeA = zslInsert(a, h, -0, refA);
  t.equal(zslFirst(a, h), nodeA, '-0 and 0 tie; the member bytes order them');
  t.equal(zslLast(a, h), nodeB);
  t.equal(zslFirstInLexRange(a, h, all), nodeA);
  t.equal(zslLastInLexRange(a, h, all), nodeB);
  t.equal(zslFirstInRange(a, h, { min: 0, max: 0, minex: false, maxex: false }), nodeA);
  t.equal(zslFirstInRange(a, h, { min: 0, max: 0, minex: true, maxex: false }), 0, 'an empty interval');
  t.equal(zslUpdateScore(a, h, nodeA, 5), nodeA, 'the block is reused');
  t.equal(zslGetRank(a, h, 5, refA), 2);
  t.equal(zslUpdateScore(a, h, nodeA, 6), nodeA, 'in place');
  t.equal(zslGetRank(a, h, 6, refA), 2);
  t.equal(structureProblem(a, h, [
    { bytes: Buffer.from('b'), score: 0, ref: refB, node: nodeB },
    { bytes: Buffer.from('a'), score: 6, ref: refA, node: nodeA },
  ]), null);
  t.equal(zslRelease(a, h, 0, () => {}), 0, 'a zero budget frees nothing while nodes remain');
  t.not(zslHeaderNode(a, h), 0);
  t.equal(zslRelease(a, h, 10, (node) => freeRef(a, nodeRef(a, node))), 2);
  t.equal(zslHeaderNode(a, h), 0, 'the header node is freed with the last node');
  a.free(h, SKIPLIST_HEADER_BYTES);
  t.equal(a.liveBytes, start, 'every byte is back');
});

t.test('randomized model: scores', async (t) => {
  for (const seed of [1, 2, 3, 4]) {
    const { failures, checks, longest, highest } = modelRun({ seed, operations: 6000, lexMode: false });
    t.same(failures, [], `seed ${seed}: ${checks} checks, up to ${longest} members and level ${highest}`);
  }
});

t.test('randomized model: one score, lex ranges', async (t) => {
  for (const seed of [11, 12, 13]) {
    const { failures, checks, longest, highest } = modelRun({ seed, operations: 6000, lexMode: true });
    t.same(failures, [], `seed ${seed}: ${checks} checks, up to ${longest} members and level ${highest}`);
  }
});
