/**
 * Score parsing and output (src/commands/zset-scores.ts) as Redis 7.0.15
 * does them: a table of replies taken from redis-server 7.0.15 (ZADD,
 * ZSCORE, ZCOUNT, ZLEXCOUNT), then, where gcc is available, seeded random
 * sweeps against glibc itself: a small C program runs Redis's string2d
 * (util.c) and one side of zslParseRange (t_zset.c) over strtod, and
 * printf("%.17g"), and the results must match bit for bit and byte for byte.
 */
import t from 'tap';
import type { Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LEX_MAX,
  LEX_MIN,
  LEX_VALUE,
  formatScore,
  parseLexRangeItem,
  parseRangeScore,
  parseScoreStrict,
  type LexRangeItem,
  type RangeScore,
} from '../src/commands/zset-scores.js';
import { prng, prngInt } from './helpers/prng.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');
const strict = (s: string) => parseScoreStrict(bytes(s), 0, s.length);
const range = (s: string) => parseRangeScore(bytes(s), 0, s.length);
const lex = (s: string) => parseLexRangeItem(bytes(s), 0, s.length);

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
function bitsOf(v: number): string {
  f64[0] = v;
  return u64[0].toString(16).padStart(16, '0');
}
function fromBits(b: bigint): number {
  u64[0] = b;
  return f64[0];
}

t.test('strict scores: ZADD replies from redis-server 7.0.15', async (t) => {
  // [argument, ZSCORE reply after ZADD, or null for "value is not a valid float"]
  const cases: [string, string | null][] = [
    ['1e-400', null], ['1e-310', '9.9999999999999694e-311'], ['2e-324', null], ['3e-324', '4.9406564584124654e-324'],
    ['1 ', null], [' 1', null], ['', null], [' ', null], ['\t1', null], ['1\t', null], ['1\0', null],
    ['0x1p3', '8'], ['0x1.8p1', '3'], ['0X1P3', '8'], ['0x.8', '0.5'], ['0x', null], ['0x1p', null],
    ['0x1p-1074', '4.9406564584124654e-324'], ['0x1.8p-1074', '9.8813129168249309e-324'], ['0x1p-1075', null],
    ['0x1p1024', null], ['0x1.fffffffffffff8p1023', null],
    ['inf', 'inf'], ['+INF', 'inf'], ['-Infinity', '-inf'], ['infinity', 'inf'], ['infinityx', null],
    ['nan', null], ['-nan', null], ['1e400', null], ['1e308', '1e+308'],
    ['1.', '1'], ['.5', '0.5'], ['.', null], ['1e', null], ['1e+', null], ['1_0', null],
    ['1.1', '1.1000000000000001'], ['0.00001', '1.0000000000000001e-05'], ['1e20', '1e+20'],
    ['00012', '12'], ['+.5e-3', '0.00050000000000000001'], ['0.0e-999999', '0'],
    ['123456789012345678', '1.2345678901234568e+17'], ['0.1', '0.10000000000000001'],
  ];
  for (const [arg, reply] of cases) {
    const v = strict(arg);
    t.equal(v === null ? null : formatScore(v), reply, JSON.stringify(arg));
  }
  // A skiplist keeps -0, and ZSCORE / ZINCRBY print it so.
  t.equal(formatScore(strict('-0') as number), '-0');
  t.equal(parseScoreStrict(bytes('xx2.5yy'), 2, 3), 2.5);
});

t.test('range scores: ZCOUNT replies from redis-server 7.0.15', async (t) => {
  // [argument, [value, exclusive] or null for "min or max is not a float"]
  const cases: [string, [number, boolean] | null][] = [
    ['', [0, false]], [' 1', [1, false]], ['1 ', null], ['(', [0, true]], ['( 1', [1, true]], ['(1', [1, true]],
    [' (1', null], ['inf', [Infinity, false]], ['-inf', [-Infinity, false]], ['1e400', [Infinity, false]],
    ['-1e400', [-Infinity, false]], ['nan', null], ['(nan', null], ['1\0abc', [1, false]], ['\0', [0, false]],
    ['(\0x', [0, true]], ['infinityx', null], ['0x1p0', [1, false]], ['0x', null], ['  ', null], ['(  ', null],
    ['1e-400', [0, false]], ['+1', [1, false]], ['\t\n\v\f\r1', [1, false]], ['(-inf', [-Infinity, true]],
    ['((1', null], ['1e', null],
  ];
  for (const [arg, expected] of cases) {
    const r = range(arg);
    t.same(r === null ? null : [r.value, r.exclusive], expected, JSON.stringify(arg));
  }
  const out: RangeScore = { value: 9, exclusive: false };
  t.equal(parseRangeScore(bytes('(2'), 0, 2, out), out);
  t.same(out, { value: 2, exclusive: true });
});

t.test('lex range items: ZLEXCOUNT replies from redis-server 7.0.15', async (t) => {
  t.equal(lex(''), null);
  t.equal(lex('-x'), null);
  t.equal(lex('+a'), null);
  t.equal(lex('a'), null);
  t.same(lex('-'), { kind: LEX_MIN, exclusive: true, start: 0, len: 0 });
  t.same(lex('+'), { kind: LEX_MAX, exclusive: true, start: 0, len: 0 });
  t.same(lex('+\0x'), { kind: LEX_MAX, exclusive: true, start: 0, len: 0 }, 'Redis tests c[1] for NUL');
  t.same(lex('['), { kind: LEX_VALUE, exclusive: false, start: 1, len: 0 });
  t.same(lex('(abc'), { kind: LEX_VALUE, exclusive: true, start: 1, len: 3 });
  const out: LexRangeItem = { kind: LEX_MIN, exclusive: false, start: 0, len: 0 };
  t.equal(parseLexRangeItem(bytes('zz[ab'), 2, 3, out), out);
  t.same(out, { kind: LEX_VALUE, exclusive: false, start: 3, len: 2 });
});

t.test('formatScore: %.17g', async (t) => {
  const cases: [number, string][] = [
    [1.1, '1.1000000000000001'], [3, '3'], [1e20, '1e+20'], [0.0001, '0.0001'], [0.00001, '1.0000000000000001e-05'],
    [-0, '-0'], [0, '0'], [Infinity, 'inf'], [-Infinity, '-inf'], [-2.5, '-2.5'], [1e16, '10000000000000000'],
    [1e17, '1e+17'], [2 ** 53, '9007199254740992'], [2 ** 56, '72057594037927936'], [2 ** -25, '2.9802322387695312e-08'],
    [5e-324, '4.9406564584124654e-324'], [1.7976931348623157e308, '1.7976931348623157e+308'], [123.456, '123.456'],
    [0.1 + 0.2, '0.30000000000000004'], [-1e-5, '-1.0000000000000001e-05'],
  ];
  for (const [v, text] of cases) t.equal(formatScore(v), text, String(v));
});

// ---- against glibc ----

const C_SOURCE = String.raw`
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* util.c string2d, Redis 7.0.15. */
static int string2d(const char *s, size_t slen, double *dp) {
    errno = 0;
    char *eptr;
    *dp = strtod(s, &eptr);
    if (slen == 0 || isspace(((const char*)s)[0]) || (size_t)(eptr-(char*)s) != slen ||
        (errno == ERANGE && (*dp == HUGE_VAL || *dp == -HUGE_VAL || fpclassify(*dp) == FP_ZERO)) ||
        isnan(*dp))
        return 0;
    return 1;
}

/* One side of t_zset.c zslParseRange. */
static int parseSide(const char *p, double *v, int *ex) {
    char *eptr;
    *ex = 0;
    if (p[0] == '(') { *v = strtod(p+1, &eptr); *ex = 1; }
    else *v = strtod(p, &eptr);
    return !(eptr[0] != '\0' || isnan(*v));
}

static int unhex(const char *h, char *out) {
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) { unsigned x; sscanf(h + 2*i, "%2x", &x); out[i] = (char)x; }
    out[n] = '\0';
    return (int)n;
}

static char line[1 << 16], buf[1 << 15];

int main(void) {
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        double d; uint64_t b; int ex;
        if (line[0] == 'g') {
            b = strtoull(line + 2, NULL, 16); memcpy(&d, &b, 8);
            printf("%.17g\n", d);
        } else if (line[0] == 's') {
            int n = unhex(line + 2, buf);
            if (string2d(buf, n, &d)) { memcpy(&b, &d, 8); printf("%016llx\n", (unsigned long long)b); }
            else printf("err\n");
        } else {
            unhex(line + 2, buf);
            if (parseSide(buf, &d, &ex)) { memcpy(&b, &d, 8); printf("%d %016llx\n", ex, (unsigned long long)b); }
            else printf("err\n");
        }
    }
    return 0;
}
`;

/** Compiles the C oracle; null when gcc is missing. */
function buildOracle(t: Test): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'zset-scores-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'oracle.c'), C_SOURCE);
  const exe = join(dir, 'oracle');
  const r = spawnSync('gcc', ['-O1', '-o', exe, join(dir, 'oracle.c'), '-lm'], { encoding: 'latin1' });
  if (r.error || r.status !== 0) return null;
  return exe;
}

function runOracle(exe: string, lines: string[]): string[] {
  const r = spawnSync(exe, { input: lines.join('\n') + '\n', encoding: 'latin1', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`oracle failed: ${r.stderr}`);
  return r.stdout.split('\n').slice(0, lines.length);
}

/** A random double over every exponent (no NaN). */
function randomBits(rand: (n: number) => number): number {
  for (;;) {
    const v = fromBits((BigInt(rand(2 ** 32)) << 32n) | BigInt(rand(2 ** 32)));
    if (v === v) return v;
  }
}

/** Doubles that stress %.17g: random bits, ties, integers around 2^53 and 10^17, powers of ten, subnormals. */
function formatSamples(seed: number, count: number): number[] {
  const rand = prngInt(seed);
  const next = prng(seed + 1);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    switch (i % 8) {
      case 0:
      case 1:
        out.push(randomBits(rand));
        break;
      case 2:
        out.push(((rand(2 ** 30) * 2 + 1) / 2 ** (rand(30) + 1)) * (rand(2) ? 1 : -1));
        break;
      case 3:
        out.push((2 ** 53 + rand(2 ** 20)) * 2 ** rand(20));
        break;
      case 4:
        out.push(Number(`${rand(10) + 1}e${rand(60) - 30}`) * (1 + (rand(3) - 1) * Number.EPSILON));
        break;
      case 5:
        out.push(next() * 10 ** (rand(40) - 20));
        break;
      case 6:
        out.push(fromBits(BigInt(rand(2 ** 32)) * BigInt(rand(2 ** 20) + 1)));
        break;
      default:
        out.push(Math.round(next() * 2 ** rand(64)) * (rand(2) ? 1 : -1));
    }
  }
  return out.concat([2 ** -25, 3 * 2 ** -25, 2 ** -24, 0.5, -0, 0, 1e16, 1e17, 99999999999999999, 1e-4, 1e-5]);
}

/** Exact decimal text of a finite double (BigInt arithmetic). */
function exactDecimal(v: number): string {
  f64[0] = v;
  const raw = u64[0];
  const expField = Number((raw >> 52n) & 0x7ffn);
  let m = raw & ((1n << 52n) - 1n);
  let e = expField - 1075;
  if (expField === 0) e = -1074;
  else m |= 1n << 52n;
  return midpointText(m * 2n, e - 1, v < 0);
}

/** Decimal text of m * 2^e exactly. */
function midpointText(m: bigint, e: number, negative: boolean): string {
  const sign = negative ? '-' : '';
  if (e >= 0) return sign + (m << BigInt(e)).toString();
  const digits = (m * 5n ** BigInt(-e)).toString().padStart(-e + 1, '0');
  return `${sign}${digits.slice(0, digits.length + e)}.${digits.slice(digits.length + e)}`;
}

/** The hexadecimal float text of a double, as "%a" writes it (normal values). */
function hexFloat(v: number, rand: (n: number) => number): string {
  f64[0] = Math.abs(v);
  const raw = u64[0];
  const expField = Number(raw >> 52n);
  const frac = (raw & ((1n << 52n) - 1n)).toString(16).padStart(13, '0');
  const lead = expField === 0 ? '0' : '1';
  const exp = expField === 0 ? -1022 : expField - 1023;
  const text = `${v < 0 ? '-' : ''}0x${lead}.${frac}p${exp}`;
  return rand(2) ? text.toUpperCase() : text;
}

/** Texts for strtod: number-shaped ones (round trips, midpoints, hex, extremes) and random junk. */
function parseSamples(seed: number, count: number): string[] {
  const rand = prngInt(seed);
  const junk = '0123456789.eE+-xXpPaAfFinINtyY( \t\0';
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const v = randomBits(rand);
    const finite = Number.isFinite(v) ? v : 1.5;
    switch (i % 10) {
      case 0:
        out.push(String(v));
        break;
      case 1:
        out.push(finite.toExponential(rand(25)));
        break;
      case 2: {
        // Halfway between two neighbours, and a hair either side of it.
        const mid = exactDecimal(finite).replace(/0+$/, '');
        const bump = rand(3);
        out.push(bump === 0 ? mid : bump === 1 ? mid + '0000000000001' : mid.replace(/5$/, '49999999999'));
        break;
      }
      case 3:
        out.push(hexFloat(finite, rand));
        break;
      case 4:
        out.push(`${rand(10)}.${rand(1e6)}e${rand(2) ? '-' : '+'}${300 + rand(30)}`);
        break;
      case 5:
        out.push(`${rand(2) ? '-' : ''}0x${rand(2 ** 30).toString(16)}.${rand(2 ** 20).toString(16)}p${rand(2300) - 1150}`);
        break;
      case 6:
        out.push((rand(2) ? ' ' : '') + String(rand(1e6) / 2 ** rand(12)) + (rand(4) === 0 ? ' ' : ''));
        break;
      case 7:
        out.push('0.' + '0'.repeat(rand(400)) + String(rand(1e9)) + 'e' + String(rand(700) - 100));
        break;
      default: {
        let s = '';
        const len = rand(12);
        for (let k = 0; k < len; k++) s += junk[rand(junk.length)];
        out.push(s);
      }
    }
  }
  const fixed = ['inf', '-INFINITY', 'Infinity', 'infinit', 'nan', 'nan(abc)', 'NaN(', '1e-400', '2.4703282292062328e-324',
    '2.4703282292062327e-324', '2.4703282292062327208828439643411068618252990130716238221279284125033775364e-324',
    '1.7976931348623158e308', '1.7976931348623157e308', '1.797693134862315807937289714053e308', '0x1.fffffffffffffp1023',
    '0x1.fffffffffffff7ffffp1023', '0x0.0000000000001p-1022', '0x0.00000000000008p-1022', '0x0.00000000000008000001p-1022',
    '9007199254740993', '9007199254740993.0000000001', '1' + '0'.repeat(400), '0.' + '0'.repeat(330) + '1', '(', '(1', '( inf'];
  return out.concat(fixed);
}

const oracle = buildOracle(t);
t.test('against glibc (gcc-built oracle)', { skip: oracle === null ? 'gcc is not available' : false }, async (t) => {
  const exe = oracle as string;

  t.test('formatScore matches printf("%.17g")', async (t) => {
    const values = formatSamples(0x517e, 6000);
    const expected = runOracle(exe, values.map((v) => `g ${bitsOf(v)}`));
    const diffs = values.map((v, i) => [bitsOf(v), formatScore(v), expected[i]]).filter(([, a, b]) => a !== b);
    t.same(diffs.slice(0, 10), []);
  });

  t.test('parseScoreStrict matches string2d', async (t) => {
    const texts = parseSamples(0x2d2d, 6000);
    const expected = runOracle(exe, texts.map((s) => `s ${bytes(s).toString('hex')}`));
    const diffs = texts
      .map((s, i) => {
        const v = strict(s);
        return [JSON.stringify(s), v === null ? 'err' : bitsOf(v), expected[i]];
      })
      .filter(([, a, b]) => a !== b);
    t.same(diffs.slice(0, 10), []);
  });

  t.test('parseRangeScore matches zslParseRange', async (t) => {
    const texts = parseSamples(0x3a3a, 6000).map((s, i) => (i % 3 === 0 ? '(' + s : s));
    const expected = runOracle(exe, texts.map((s) => `r ${bytes(s).toString('hex')}`));
    const diffs = texts
      .map((s, i) => {
        const r = range(s);
        return [JSON.stringify(s), r === null ? 'err' : `${r.exclusive ? 1 : 0} ${bitsOf(r.value)}`, expected[i]];
      })
      .filter(([, a, b]) => a !== b);
    t.same(diffs.slice(0, 10), []);
  });
});
