/**
 * The batch prefetch (src/server/batch-prefetch.ts) and the store's bucket
 * hint it reads: the hint names the bucket a lookup walks, the commands it
 * parses ahead (names and first keys' hashes included) are what a parser and
 * keyAt find one by one, the pass touches
 * the entries of a pipelined read's keys, and neither throws on reads it
 * cannot make sense of (one command, partial commands, garbage, a store
 * overwritten with noise), since it runs without locks beside other writers.
 */
import t from 'tap';
import { allocateKeyspace, Keyspace } from '../src/store/keyspace.js';
import { hashBytes, keyHash, keyHashSlot, slotAndHash } from '../src/store/key-hash.js';
import type { PresetKey } from '../src/commands/context.js';
import { commandTable } from '../src/commands/command-table.js';
import { BatchPrefetch } from '../src/server/batch-prefetch.js';
import { TestStore } from './helpers/store.js';
import { encodeCommand } from './helpers/servers.js';
import { ParseStatus, RespParser } from '../src/protocol/resp-parser.js';
import { prngInt } from './helpers/prng.js';
import { E_NEXT } from '../src/store/layout.js';

const limits = { protoMaxBulkLen: 512 << 20, authRequired: false };

function filled(keys: number): { ks: Keyspace; names: string[] } {
  const ks = new Keyspace(allocateKeyspace(4, 2));
  const names: string[] = [];
  for (let i = 0; i < keys; i++) {
    const name = `key:${i}`;
    const slot = keyHashSlot(Buffer.from(name), 0, name.length);
    new TestStore({ databases: 4, shardBits: 2 }, ks.shards[slot & ks.shardMask]).set(0, name, `value ${i}`);
    names.push(name);
  }
  return { ks, names };
}

t.test('the bucket hint is where lookup finds the key', async (t) => {
  const { ks, names } = filled(2000);
  for (const name of names) {
    const k = Buffer.from(name);
    const slot = keyHashSlot(k, 0, k.length);
    const shard = ks.shards[slot & ks.shardMask];
    const hash = hashBytes(k, 0, k.length);
    const e = shard.lookup(0, slot >> ks.shardBits, k, 0, k.length, hash);
    let walk = shard.u32[shard.bucketHint(0, slot >> ks.shardBits, hash) >>> 2];
    while (walk !== 0 && walk !== e) walk = shard.u32[(walk + E_NEXT) >>> 2];
    if (e === 0 || walk !== e) {
      t.fail(`${name}: not in its hinted bucket`);
      return;
    }
  }
  t.pass('every key sits in its hinted bucket');
  t.equal(ks.shards[0].bucketHint(1, 0, 12345), 0, 'an empty database has no bucket');
});

t.test('a pipelined read touches its keys; odd reads are ignored without throwing', async (t) => {
  const { ks, names } = filled(500);
  const prefetch = new BatchPrefetch(ks, commandTable());
  const pipeline = Buffer.concat(names.slice(0, 40).map((n, i) => encodeCommand(i % 3 === 0 ? ['SET', n, 'x'] : ['GET', n])));
  prefetch.run(pipeline, 0, pipeline.length, 0, limits);
  t.not(prefetch.sink, 0, 'entries were read');
  const odd = [
    encodeCommand(['GET', 'key:1']),
    Buffer.concat([encodeCommand(['PING']), encodeCommand(['PUBLISH', 'ch', 'm']), encodeCommand(['MULTI']), encodeCommand(['EXEC'])]),
    Buffer.concat([encodeCommand(['GET', 'key:1']), Buffer.from('*2\r\n$3\r\nGET\r\n$5\r\nke')]),
    Buffer.from('*3\r\n$3\r\nSET\r\n$-5\r\nx\r\n*1\r\n$4\r\nPING\r\n'),
    Buffer.from('GET a b c\r\nGET d\r\n'),
  ];
  for (const buf of odd) prefetch.run(buf, 0, buf.length, 0, limits);
  prefetch.run(pipeline, 0, pipeline.length, 3, limits);
  t.pass('no read made it throw');
});

t.test('a store full of noise (a concurrent writer mid-change) only gives useless hints', async (t) => {
  const { ks, names } = filled(200);
  const random = prngInt(7);
  for (const shard of ks.shards) {
    for (let i = 0; i < shard.u32.length; i += 1 + random(7)) shard.u32[i] = random(0x100000000);
  }
  const prefetch = new BatchPrefetch(ks, commandTable());
  const pipeline = Buffer.concat(names.map((n) => encodeCommand(['GET', n])));
  for (let db = 0; db < 4; db++) prefetch.run(pipeline, 0, pipeline.length, db, limits);
  t.pass('no throw');
});

t.test('commands parsed ahead are what the parser finds one by one (seeded random pipelines)', async (t) => {
  const { ks } = filled(10);
  const prefetch = new BatchPrefetch(ks, commandTable());
  const random = prngInt(11);
  const words = ['GET', 'SET', 'PING', 'PUBLISH', 'MGET', 'HSET', 'incr', 'x', '', 'key:1', 'a b', 'é'];
  const preset: PresetKey = { buf: null, start: 0, length: 0, slot: 0, hash: 0 };
  let presets = 0;
  for (let round = 0; round < 300; round++) {
    const parts: Buffer[] = [];
    const count = 1 + random(100);
    for (let i = 0; i < count; i++) {
      const roll = random(20);
      if (roll === 0) parts.push(Buffer.from('*0\r\n'));
      else if (roll === 1) parts.push(Buffer.from('PING\r\n'));
      else parts.push(encodeCommand(Array.from({ length: 1 + random(5) }, () => words[random(words.length)])));
    }
    const whole = Buffer.concat(parts);
    // Cut anywhere: the last command may be partial.
    const end = random(3) === 0 ? random(whole.length + 1) : whole.length;
    const parsed = prefetch.run(whole, 0, end, 0, limits);
    const expected = new RespParser();
    const loaded = new RespParser();
    let pos = 0;
    for (let i = 0; i < parsed; i++) {
      let r = expected.parse(whole, pos, end, limits);
      while (r.status === ParseStatus.Empty) r = expected.parse(whole, r.pos, end, limits);
      const at = prefetch.load(i, loaded);
      const args = (p: RespParser) => Array.from({ length: p.argc }, (_, k) => whole.subarray(p.argStart[k], p.argStart[k] + p.argLen[k]).toString('latin1'));
      if (r.status !== ParseStatus.Command || at !== r.pos || args(loaded).join('|') !== args(expected).join('|')) {
        t.fail(`round ${round}, command ${i}: ${JSON.stringify(args(loaded))} ending at ${at}, parser: ${JSON.stringify(args(expected))} at ${r.pos}`);
        return;
      }
      prefetch.presetKey(i, whole, preset);
      if (preset.buf !== null) {
        const slot = slotAndHash(whole, preset.start, preset.length);
        if (preset.start !== loaded.argStart[1] || preset.length !== loaded.argLen[1] || slot !== preset.slot || keyHash.value !== preset.hash) {
          t.fail(`round ${round}, command ${i}: the key hashed ahead is not argument 1's hash`);
          return;
        }
        presets++;
      }
      pos = r.pos;
    }
  }
  t.ok(presets > 1000, `keys hashed ahead checked (${presets})`);
  t.pass('300 pipelines agree');
});

t.test('inline commands are left to the connection: parsing them ahead would unescape them twice', async (t) => {
  const { ks } = filled(10);
  const prefetch = new BatchPrefetch(ks, commandTable());
  const inline = Buffer.from('SET k "a\\x41\\"b"\r\n');
  const read = Buffer.concat([encodeCommand(['GET', 'key:1']), encodeCommand(['GET', 'key:2']), inline, encodeCommand(['GET', 'key:3'])]);
  const before = Buffer.from(read);
  t.equal(prefetch.run(read, 0, read.length, 0, limits), 2, 'the two commands before the inline one');
  t.same(read, before, 'the inline command untouched');
  t.equal(prefetch.run(inline, 0, inline.length, 0, limits), 0, 'a read starting inline is not parsed ahead');
});
