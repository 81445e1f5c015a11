/**
 * LCS (src/commands/lcs.ts) against Redis 7.0.15, byte for byte: the plain,
 * LEN and IDX forms with MINMATCHLEN and WITHMATCHLEN, option errors in
 * Redis's order, the transient-memory limit, RESP3, metadata and a seeded
 * random sweep. A non-string key is checked in process against a planted
 * one while weft has no other value types.
 */
import t from 'tap';
import { compareScripts, requireRedisTools, type ScriptStep } from './helpers/servers.js';
import { inProcess, lines, wrongTypeFixture } from './helpers/in-process.js';
import { prngInt } from './helpers/prng.js';
import { connectPair, startPair } from './helpers/differential.js';


// Skips without the Redis tools locally, fails without them under CI.
if (requireRedisTools(t)) {
  t.test('a non-string key is refused before the options are parsed', async (t) => {
    const { r, weft } = await wrongTypeFixture(t);
    const steps = lines(`
      LCS l s
      LCS s l
      LCS l missing
      LCS missing l IDX
      LCS l s LEN IDX
      LCS l s foo
      LCS s missing foo
      LCS s missing LEN IDX`);
    const diffs: { step: string; weft: string; redis: string }[] = [];
    for (const step of steps) {
      const [w, rr] = [weft.run(...(step as string[])), (await r.command(...step)).toString('latin1')];
      if (w !== rr) diffs.push({ step: step.join(' '), weft: w, redis: rr });
    }
    t.same(diffs, []);
  });

  const [w, r] = await connectPair(t, await startPair(t));
  const run = async (steps: ScriptStep[]) => {
    await compareScripts(w, r, [['FLUSHALL']]);
    return compareScripts(w, r, steps);
  };

  t.test('LCS forms and options', async (t) => {
    t.same(await run([
      ...lines(`
        MSET key1 ohmytext key2 mynewtext
        LCS key1 key2
        LCS key1 key2 LEN
        LCS key1 key2 IDX
        LCS key1 key2 IDX MINMATCHLEN 4
        LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN
        LCS key1 key2 idx withmatchlen
        LCS key1 key2 withmatchlen
        LCS key1 key2 len withmatchlen
        LCS key1 key2 minmatchlen -5 idx
        LCS key1 key2 minmatchlen 100 idx
        LCS key1 key2 minmatchlen 100
        LCS key1 key2 IDX MINMATCHLEN 1 MINMATCHLEN 5
        LCS key1 key2 LEN IDX
        LCS key1 key2 IDX LEN
        LCS key1 key2 LEN LEN
        LCS key1 key2 foo
        LCS key1 key2 minmatchlen
        LCS key1 key2 minmatchlen x
        LCS key1 key2 minmatchlen 1.5 idx
        LCS key1 key2 LEN IDX foo
        LCS key1
        LCS key1 missing
        LCS missing missing2 IDX
        LCS missing missing2 LEN
        LCS missing missing2
        LCS missing key2 IDX WITHMATCHLEN
        LCS key1 key1 IDX WITHMATCHLEN
        LCS key1 key1
        MSET a ABCBDAB b BDCABA
        LCS a b
        LCS a b IDX WITHMATCHLEN
        LCS b a IDX WITHMATCHLEN
        MSET x aaaaaaaaaaabbbbbbbbbbcccccccccc y cccccbbbbbaaaaaxxaaaccccc
        LCS x y
        LCS x y IDX WITHMATCHLEN
        LCS x y IDX MINMATCHLEN 3 WITHMATCHLEN
        SET n1 1234567
        SET n2 7654321234
        LCS n1 n2 IDX WITHMATCHLEN`),
      ['SET', 'e', ''],
      ['LCS', 'e', 'key1'],
      ['LCS', 'e', 'key1', 'IDX'],
      ['MSET', 'bin1', Buffer.from('00ff00ff0102030400', 'hex'), 'bin2', Buffer.from('ff00010203000d0a', 'hex')],
      ['LCS', 'bin1', 'bin2'],
      ['LCS', 'bin1', 'bin2', 'IDX', 'WITHMATCHLEN'],
    ]), []);
  });

  t.test('the transient table is limited by proto-max-bulk-len', async (t) => {
    t.same(await run([
      ['SET', 'p', 'a'.repeat(600)],
      ['SET', 'q', 'a'.repeat(600)],
      ...lines(`
        LCS p q LEN
        CONFIG SET proto-max-bulk-len 1mb
        LCS p q LEN
        LCS p q foo
        LCS p missing LEN
        CONFIG SET proto-max-bulk-len 512mb`),
      ['SET', 'q', 'b'.repeat(300)],
      ['LCS', 'p', 'q', 'IDX'],
      ['LCS', 'p', 'q'],
    ]), []);
  });

  t.test('RESP3 replies', async (t) => {
    await compareScripts(w, r, [['HELLO', '3']]);
    t.teardown(() => compareScripts(w, r, [['HELLO', '2']]).then(() => undefined));
    t.same(await run(lines(`
      MSET key1 ohmytext key2 mynewtext
      LCS key1 key2 IDX WITHMATCHLEN
      LCS key1 key2 IDX MINMATCHLEN 9
      LCS key1 key2 LEN
      LCS key1 key2`)), []);
  });

  t.test('command metadata', async (t) => {
    t.same(await run(lines(`
      COMMAND INFO lcs
      COMMAND DOCS lcs
      COMMAND GETKEYSANDFLAGS lcs a b idx
      COMMAND GETKEYS lcs a b`)), []);
  });

  t.test('a seeded random sweep', async (t) => {
    const rand = prngInt(7031);
    const text = (alphabet: string) => Array.from({ length: rand(41) }, () => alphabet[rand(alphabet.length)]).join('');
    const steps: ScriptStep[] = [];
    for (let k = 0; k < 300; k++) {
      const alphabet = ['ab', 'abc', 'acgt'][rand(3)];
      steps.push(['MSET', 'a', text(alphabet), 'b', text(alphabet)]);
      const options = [[], ['LEN'], ['IDX'], ['IDX', 'WITHMATCHLEN'], ['IDX', 'MINMATCHLEN', String(rand(5)), 'WITHMATCHLEN']][rand(5)];
      steps.push(['LCS', 'a', 'b', ...options]);
    }
    t.same(await run(steps), []);
  });
}
