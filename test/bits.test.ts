/**
 * The bitmap commands (src/commands/bits.ts) against Redis 7.0.15, byte for
 * byte: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO,
 * their argument errors in Redis's order, proto-max-bulk-len limits, and a
 * seeded random sweep. WRONGTYPE is checked in process against a planted
 * non-string key while weft has no other value types.
 */
import t from 'tap';
import { compareScripts, requireRedisTools, type ScriptStep } from './helpers/servers.js';
import { inProcess, lines, wrongTypeFixture } from './helpers/in-process.js';
import { prngInt } from './helpers/prng.js';
import { connectPair, startPair } from './helpers/differential.js';

const hex = (h: string) => Buffer.from(h, 'hex');
// Skips without the Redis tools locally, fails without them under CI.
if (requireRedisTools(t)) {
  t.test('WRONGTYPE and its place among the argument errors', async (t) => {
    const { r, weft } = await wrongTypeFixture(t);
    const steps = lines(`
      SETBIT l 1 1
      SETBIT l -1 1
      SETBIT l 1 2
      GETBIT l 1
      GETBIT l x
      BITCOUNT l
      BITCOUNT l 0
      BITCOUNT l x y z
      BITPOS l 1
      BITPOS l 2
      BITPOS l 1 x
      BITOP AND d s l
      BITOP AND d l s
      BITOP NOT d l
      BITOP FOO d l
      BITOP OR l s
      GET l
      BITFIELD l
      BITFIELD l GET u8 0
      BITFIELD l SET u8 0 1
      BITFIELD l GET u64 0
      BITFIELD l INCRBY u8 0 x
      BITFIELD_RO l GET u8 0
      BITFIELD_RO l SET u8 0 1`);
    const diffs: { step: string; weft: string; redis: string }[] = [];
    let wrongType = 0;
    for (const step of steps) {
      const [w, rr] = [weft.run(...(step as string[])), (await r.command(...step)).toString('latin1')];
      if (w !== rr) diffs.push({ step: step.join(' '), weft: w, redis: rr });
      if (w.startsWith('-WRONGTYPE')) wrongType++;
    }
    t.same(diffs, []);
    t.equal(wrongType, 10, 'the planted key is seen as the wrong type');
  });

  const [w, r] = await connectPair(t, await startPair(t));
  const run = async (steps: ScriptStep[]) => {
    await compareScripts(w, r, [['FLUSHALL']]);
    return compareScripts(w, r, steps);
  };

  t.test('SETBIT and GETBIT', async (t) => {
    t.same(await run([
      ...lines(`
        SETBIT b 7 1
        SETBIT b 7 1
        SETBIT b 7 0
        GET b
        SETBIT b 100 1
        GET b
        STRLEN b
        SETBIT b -1 1
        SETBIT b abc 1
        SETBIT b 01 1
        SETBIT b #1 1
        SETBIT b 1 2
        SETBIT b 1 -1
        SETBIT b 1 -0
        SETBIT b 1 x
        SETBIT b x x
        SETBIT b 4294967296 1
        SETBIT b 9223372036854775807 1
        SETBIT b 9223372036854775808 1
        SETBIT b 1
        GETBIT b 7
        GETBIT b 100
        GETBIT b 101
        GETBIT b 100000
        GETBIT missing 0
        GETBIT b -1
        GETBIT b x
        GETBIT b 4294967296
        GETBIT missing 4294967296
        SET n 1234
        GETBIT n 2
        GETBIT n 3
        OBJECT ENCODING n
        SETBIT n 0 1
        GET n
        OBJECT ENCODING n
        SET n2 12
        SETBIT n2 3 1
        OBJECT ENCODING n2
        GETBIT e 0
        SET t v EX 100
        SETBIT t 50 1
        TTL t
        GET t`),
      ['SET', 'e', ''],
      ['GETBIT', 'e', '0'],
      ['SETBIT', ' 1', '1', '1'],
      ['SETBIT', 'k', ' 1', '1'],
    ]), []);
  });

  t.test('offsets at the proto-max-bulk-len limit', async (t) => {
    t.same(await run(lines(`
      CONFIG SET proto-max-bulk-len 1mb
      SETBIT p 8388608 1
      GETBIT p 8388608
      SETBIT p 8388607 1
      STRLEN p
      BITFIELD p SET i64 8388607 1
      STRLEN p
      BITFIELD p SET i8 #1048576 1
      BITFIELD p GET i64 #131071 SET i64 #131071 -1
      BITFIELD p GET i64 #131072
      BITCOUNT p
      BITPOS p 1 0 -1 BIT
      BITPOS p 0 -3
      BITOP NOT q p
      BITCOUNT q
      BITCOUNT q -2 -1
      CONFIG SET proto-max-bulk-len 512mb
      DEL p q`)), []);
  });

  t.test('BITCOUNT with BYTE and BIT ranges', async (t) => {
    t.same(await run([
      ['SET', 'f', hex('fff0')],
      ['SET', 'ones', hex('ff'.repeat(37))],
      ...lines(`
        SET s foobar
        BITCOUNT s
        BITCOUNT s 0 0
        BITCOUNT s 1 1
        BITCOUNT s 1 -1
        BITCOUNT s -2 -1
        BITCOUNT s -1 -2
        BITCOUNT s -100 100
        BITCOUNT s 5 30 bit
        BITCOUNT s 5 30 BIT
        BITCOUNT s 5 30 BYTE
        BITCOUNT s 0 -1 bit
        BITCOUNT s -5 -1 bit
        BITCOUNT s 3 3 bit
        BITCOUNT s 1 4 bit
        BITCOUNT s 9 14 bit
        BITCOUNT s 0 47 bit
        BITCOUNT s 0 48 bit
        BITCOUNT s 40 1000 bit
        BITCOUNT s 9223372036854775807 -9223372036854775808
        BITCOUNT s -9223372036854775808 9223372036854775807 bit
        BITCOUNT ones
        BITCOUNT ones 1 -2
        BITCOUNT ones 3 290 BIT
        BITCOUNT f 4 11 BIT
        BITCOUNT s 1
        BITCOUNT s 0 1 foo
        BITCOUNT s -1 -5 foo
        BITCOUNT s a 1
        BITCOUNT s 1 a
        BITCOUNT s 0 1 bit x
        BITCOUNT missing
        BITCOUNT missing 0 1 foo
        BITCOUNT missing a
        SET n 255
        BITCOUNT n`),
      ['SET', 'e', ''],
      ...lines(`
        BITCOUNT e
        BITCOUNT e 0 -1
        BITCOUNT e 0 -1 bit`),
    ]), []);
  });

  t.test('BITPOS with BYTE and BIT ranges', async (t) => {
    t.same(await run([
      ['SET', 'f', hex('fff0')],
      ['SET', 'ones', hex('ff'.repeat(10))],
      ['SET', 'zeros', hex('00'.repeat(9) + '01')],
      ['SET', 'long', Buffer.concat([Buffer.alloc(1000), hex('08'), Buffer.alloc(3, 0xff)])],
      ...lines(`
        BITPOS f 0
        BITPOS f 1
        BITPOS f 0 1
        BITPOS f 0 0 0
        BITPOS f 0 2
        BITPOS f 1 2
        BITPOS f 0 0 -1
        BITPOS f 0 0 11 bit
        BITPOS f 0 0 12 bit
        BITPOS f 0 3 11 BIT
        BITPOS f 1 12 15 bit
        BITPOS f 1 7 -1 bit
        BITPOS f 0 -3 -1 byte
        BITPOS f 2
        BITPOS f -1
        BITPOS f x
        BITPOS f 0 x
        BITPOS f 0 0 x
        BITPOS f 0 0 1 x
        BITPOS f 0 0 1 bit x
        BITPOS f 1 5 bit
        BITPOS missing 0
        BITPOS missing 1
        BITPOS missing 1 0 1 foo
        BITPOS missing 3
        BITPOS ones 0
        BITPOS ones 0 2
        BITPOS ones 0 2 -1
        BITPOS ones 0 3 77 bit
        BITPOS ones 0 5 -1 bit
        BITPOS zeros 1
        BITPOS zeros 1 0 8
        BITPOS zeros 1 0 78 bit
        BITPOS zeros 1 0 79 bit
        BITPOS zeros 0 79 79 bit
        BITPOS zeros 1 79 79 bit
        BITPOS zeros 1 -1 -1 bit
        BITPOS zeros 0 5
        BITPOS long 1
        BITPOS long 1 3
        BITPOS long 1 3 -5
        BITPOS long 1 8003 8100 bit
        BITPOS long 0 1001
        BITPOS long 0 1001 -1
        BITPOS long 0 8012 -1 bit
        SET n 12
        BITPOS n 0
        BITPOS n 1 1`),
      ['SET', 'e', ''],
      ...lines(`
        BITPOS e 0
        BITPOS e 1
        BITPOS e 0 0
        BITPOS e 0 0 -1 bit`),
    ]), []);
  });

  t.test('BITOP', async (t) => {
    t.same(await run([
      ['SET', 'big', Buffer.alloc(1000, 'z')],
      ['SET', 'e', ''],
      ...lines(`
        SET a foobar
        SET b abcdef
        SET c x
        BITOP AND d a b
        GET d
        BITOP or d a b c
        GET d
        BITOP XOR d a c missing
        GET d
        BITOP and d a missing
        GET d
        BITOP and d c a
        GET d
        BITOP NOT d a
        GET d
        OBJECT ENCODING d
        BITOP NOT d a b
        BITOP NOT d
        BITOP foo d a
        BITOP an d a
        BITOP and d
        BITOP and d missing missing2
        EXISTS d
        SET d x EX 100
        BITOP not d missing
        EXISTS d
        SET d x EX 100
        BITOP or d a
        TTL d
        GET d
        BITOP xor a a b
        GET a
        BITOP not a a
        GET a
        BITOP and a a a
        GET a
        BITOP or d e
        EXISTS d
        BITOP or d e c
        GET d
        BITOP xor d big a c
        GET d
        BITOP not d big
        BITCOUNT d
        BITOP and d big big
        BITCOUNT d
        SET n 12345
        BITOP or d n c
        GET d
        OBJECT ENCODING d`),
    ]), []);
  });

  t.test('BITFIELD and BITFIELD_RO', async (t) => {
    t.same(await run([
      ...lines(`
        BITFIELD k
        BITFIELD k GET u8 0
        EXISTS k
        BITFIELD k SET u8 0 255
        BITFIELD k GET u8 0 GET i8 0 GET u4 0 GET i4 4 GET u1 7 get i1 7
        BITFIELD k SET i8 0 -1 SET u8 8 -1
        BITFIELD k SET i8 0 200 SET u8 8 300
        BITFIELD k OVERFLOW SAT SET i8 0 200 SET u8 8 300 SET u8 16 -1 SET i8 24 -200
        BITFIELD k OVERFLOW FAIL SET i8 0 200 SET u8 8 300 SET u8 16 -1 SET i8 24 -100
        GET k
        BITFIELD c INCRBY u2 100 1 OVERFLOW SAT INCRBY u2 102 1
        BITFIELD c INCRBY u2 100 1 OVERFLOW SAT INCRBY u2 102 1
        BITFIELD c INCRBY u2 100 1 OVERFLOW SAT INCRBY u2 102 1
        BITFIELD c INCRBY u2 100 1 OVERFLOW SAT INCRBY u2 102 1
        BITFIELD c OVERFLOW FAIL INCRBY u2 100 1 INCRBY u2 100 -1 INCRBY u2 100 -5
        BITFIELD c OVERFLOW SAT INCRBY u2 100 -10 INCRBY i5 100 -100 INCRBY i5 100 1000
        BITFIELD c OVERFLOW WRAP INCRBY i5 100 -100 INCRBY i5 100 1000 INCRBY u5 100 -1000
        GET c
        BITFIELD c GET i64 0 GET u63 1 GET i64 5 GET i64 50
        BITFIELD w SET i64 0 -9223372036854775808 GET i64 0 GET u63 0 GET u63 1
        BITFIELD w INCRBY i64 0 -1
        BITFIELD w OVERFLOW SAT INCRBY i64 0 -1 INCRBY i64 0 9223372036854775807 INCRBY i64 0 1
        BITFIELD w OVERFLOW FAIL INCRBY i64 0 1 INCRBY i64 0 -9223372036854775808
        BITFIELD w INCRBY i64 0 1 INCRBY i64 0 -9223372036854775808
        BITFIELD w SET u63 3 -1 GET u63 3 OVERFLOW SAT SET u63 3 -5 OVERFLOW FAIL SET u63 3 -5
        BITFIELD w INCRBY u63 3 9223372036854775807 INCRBY u63 3 -9223372036854775808
        BITFIELD w OVERFLOW SAT INCRBY u63 3 9223372036854775807 INCRBY u63 3 -9223372036854775808
        BITFIELD w SET i33 7 -4294967296 GET i33 7 GET u33 7 INCRBY i33 7 1 SET u47 11 140737488355327 GET u47 11
        BITFIELD w SET i48 17 -1 GET u48 17 GET i49 16 GET u49 16 GET i53 13
        BITFIELD w SET u8 #2 171 GET u8 16 GET u8 #2 SET i16 #0 -2
        GET w
        OBJECT ENCODING w
        BITFIELD x GET I8 0
        BITFIELD x GET u64 0
        BITFIELD x GET i65 0
        BITFIELD x GET i0 0
        BITFIELD x GET u 0
        BITFIELD x GET i-1 0
        BITFIELD x GET i08 0
        BITFIELD x GET i8 #
        BITFIELD x GET i8 #-1
        BITFIELD x GET i8 #x
        BITFIELD x GET i8 -1
        BITFIELD x GET i8 4294967296
        BITFIELD x GET i8 4294967295
        BITFIELD x GET i8 #536870912
        BITFIELD x GET i8 #536870911
        BITFIELD x GET i8 #2305843009213693952
        BITFIELD x GET i64 #144115188075855872
        BITFIELD x GET i64 #288230376151711745
        BITFIELD x GET i7 #1317624576693539401
        BITFIELD x GET i8 #9223372036854775807
        BITFIELD x GET i8 #9223372036854775808
        BITFIELD x SET i8 0
        BITFIELD x SET i8 0 x
        BITFIELD x SET i8 0 9223372036854775808
        BITFIELD x INCRBY i8 0 1.5
        BITFIELD x GET i8
        BITFIELD x FOO i8 0
        BITFIELD x OVERFLOW
        BITFIELD x OVERFLOW bad GET i8 0
        BITFIELD x overflow sat
        BITFIELD x get i8 0 SET i9 0
        BITFIELD x GET i8 #2305843009213693952 SET i8 #2305843009213693952 1
        BITFIELD x SET i64 #288230376151711745 7
        GET x
        BITFIELD_RO x GET i8 0 GET u4 #1
        BITFIELD_RO x
        BITFIELD_RO missing GET i8 0
        BITFIELD_RO x SET i8 0 1
        BITFIELD_RO x INCRBY i8 0 1
        BITFIELD_RO x OVERFLOW FAIL GET i8 0
        BITFIELD_RO x INCRBY i8 0 bad
        BITFIELD_RO x SET q8 0 1
        BITFIELD y OVERFLOW FAIL INCRBY u2 0 10
        GET y
        BITFIELD y OVERFLOW FAIL INCRBY u2 100 10 GET u8 0
        STRLEN y
        SET n 123
        BITFIELD n GET u8 0 INCRBY u8 8 1
        GET n
        SET t v EX 100
        BITFIELD t SET u8 100 1
        TTL t`),
      ['BITFIELD', 'x', 'GET', '', '0'],
      ['BITFIELD', 'x', 'GET', hex('693800'), '0'],
      ['BITFIELD', 'x', 'GET', hex('69380078'), '0'],
    ]), []);
  });

  t.test('RESP3 replies', async (t) => {
    await compareScripts(w, r, [['HELLO', '3']]);
    t.teardown(() => compareScripts(w, r, [['HELLO', '2']]).then(() => undefined));
    t.same(await run(lines(`
      BITFIELD y OVERFLOW FAIL INCRBY u2 0 10 GET u2 0
      BITFIELD y GET i8 0
      SETBIT y 3 1
      BITCOUNT y
      BITPOS y 1`)), []);
  });

  t.test('command metadata', async (t) => {
    t.same(await run(lines(`
      COMMAND INFO setbit getbit bitcount bitpos bitop bitfield bitfield_ro
      COMMAND DOCS setbit
      COMMAND DOCS getbit
      COMMAND DOCS bitcount
      COMMAND DOCS bitpos
      COMMAND DOCS bitop
      COMMAND DOCS bitfield
      COMMAND DOCS bitfield_ro
      COMMAND GETKEYSANDFLAGS bitfield k get u8 0
      COMMAND GETKEYSANDFLAGS bitfield k get u8 0 set u8 0 1
      COMMAND GETKEYSANDFLAGS bitfield k foo
      COMMAND GETKEYSANDFLAGS bitfield k overflow
      COMMAND GETKEYSANDFLAGS bitfield k overflow sat get i8 1
      COMMAND GETKEYSANDFLAGS bitfield k
      COMMAND GETKEYSANDFLAGS bitfield_ro k get i8 1
      COMMAND GETKEYSANDFLAGS bitop and d a b
      COMMAND GETKEYSANDFLAGS bitop and d
      COMMAND GETKEYSANDFLAGS setbit a 1 1
      COMMAND GETKEYSANDFLAGS bitpos a 1`)), []);
  });

  t.test('a seeded random sweep', async (t) => {
    const rand = prngInt(20240601);
    const pick = <T>(xs: T[]): T => xs[rand(xs.length)];
    const num = (lo: number, hi: number) => String(lo + rand(hi - lo + 1));
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => pick([0, 0xff, rand(256)])));
    const steps: ScriptStep[] = [];
    for (let k = 0; k < 250; k++) {
      const v = bytes(rand(13));
      const n = v.length;
      steps.push(['SET', 's', v]);
      const bit = num(0, 1);
      steps.push(pick<ScriptStep>([
        ['BITCOUNT', 's', num(-n - 3, n + 3), num(-n - 3, n + 3)],
        ['BITCOUNT', 's', num(-8 * n - 3, 8 * n + 3), num(-8 * n - 3, 8 * n + 3), 'BIT'],
        ['BITPOS', 's', bit],
        ['BITPOS', 's', bit, num(-n - 3, n + 3)],
        ['BITPOS', 's', bit, num(-n - 3, n + 3), num(-n - 3, n + 3)],
        ['BITPOS', 's', bit, num(-8 * n - 3, 8 * n + 3), num(-8 * n - 3, 8 * n + 3), 'BIT'],
      ]));
    }
    for (let k = 0; k < 300; k++) {
      const ops: string[] = [];
      for (let o = rand(5) + 1; o > 0; o--) {
        const kind = pick(['GET', 'SET', 'INCRBY', 'OVERFLOW']);
        if (kind === 'OVERFLOW') {
          ops.push(kind, pick(['WRAP', 'SAT', 'FAIL']));
          continue;
        }
        const signed = rand(2) === 0;
        const bits = 1 + rand(signed ? 64 : 63);
        ops.push(kind, (signed ? 'i' : 'u') + bits, rand(5) === 0 ? `#${rand(6)}` : num(0, 100));
        if (kind !== 'GET') {
          const big = BigInt.asIntN(64, (BigInt(rand(2 ** 30)) << 34n) ^ BigInt(rand(2 ** 30)));
          ops.push(pick([num(-300, 300), big.toString(), String(BigInt(rand(2 ** 20)) - (1n << BigInt(bits - 1)))]));
        }
      }
      steps.push(['BITFIELD', 'bf', ...ops]);
      if (rand(5) === 0) steps.push(['GET', 'bf']);
      if (rand(20) === 0) steps.push(['DEL', 'bf']);
    }
    for (let k = 0; k < 150; k++) {
      const op = pick(['AND', 'OR', 'XOR', 'NOT']);
      const keys = Array.from({ length: op === 'NOT' ? 1 : 1 + rand(4) }, () => `o${rand(6)}`);
      if (rand(3) === 0) steps.push(['SET', pick(keys), bytes(rand(7))]);
      steps.push(['BITOP', op, `o${rand(7)}`, ...keys], ['GET', `o${rand(7)}`]);
    }
    for (let k = 0; k < 150; k++) {
      const key = `sb${k % 3}`;
      steps.push(['SETBIT', key, num(0, 200), num(0, 1)], ['GETBIT', key, num(0, 200)]);
      if (rand(4) === 0) steps.push(['GET', key]);
    }
    t.same(await run(steps), []);
  });
}
