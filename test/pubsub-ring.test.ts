/**
 * The pub/sub ring (src/server/pubsub-ring.ts) on its own, with a small
 * capacity: entries read back in order by every interested reader, a reader
 * joining reads only what follows, wrap-around, a full ring refusing an
 * append until the slowest interested reader moved on (an uninterested one
 * never holds it back), and messages carried apart read in their place once
 * their bytes arrived.
 */
import t from 'tap';
import { allocatePubsubRing, PubsubRing, type RingEntry } from '../src/server/pubsub-ring.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');

const text = (bytes: Uint8Array, start: number, length: number) => Buffer.from(bytes.subarray(start, start + length)).toString('latin1');

function readAll(r: PubsubRing): string[] {
  const got: string[] = [];
  r.read((e) => got.push(`${text(e.bytes, e.channelStart, e.channelLength)}=${text(e.message, e.messageStart, e.messageLength)}`));
  return got;
}

t.test('order, joining readers, wrap-around and a full ring', async (t) => {
  const sab = allocatePubsubRing(3, 1024);
  const [a, b, c] = [0, 1, 2].map((w) => new PubsubRing(sab, 3, w));
  // c is never interested: it appends, and never holds the ring back.
  const coordinator = new PubsubRing(sab, 3, -1);
  a.setInterested(true);
  t.ok(coordinator.append(bytes('x'), bytes('before b'), false));
  b.setInterested(true);
  t.ok(c.append(bytes('ch'), bytes('one'), false));
  t.ok(a.append(bytes('ch'), bytes('two'), false));
  t.same(readAll(a), ['x=before b', 'ch=one', 'ch=two']);
  t.same(readAll(b), ['ch=one', 'ch=two'], 'a reader starts at the tail when it joins');
  // Fill: b stops reading; a keeps up. 64-byte entries in a 1 KiB ring.
  const payload = 'p'.repeat(64 - 12 - 2);
  let appended = 0;
  while (a.append(bytes('ch'), bytes(payload), false)) {
    appended++;
    readAll(a);
  }
  t.ok(appended >= 14 && appended <= 16, `about a ring's worth appended before b held it (${appended})`);
  t.equal(readAll(b).length, appended, 'b reads every one, across the wrap');
  t.ok(a.append(bytes('ch'), bytes('after'), false), 'room again once b moved on');
  b.setInterested(false);
  for (let i = 0; i < 100; i++) {
    t.ok(a.append(bytes('ch'), bytes(payload), false), 'an uninterested reader holds nothing back');
    readAll(a);
  }
  t.ok(!a.pending());
});

t.test('a message too large for the ring waits in its place for its bytes', async (t) => {
  const sab = allocatePubsubRing(2, 1024);
  const [a, b] = [0, 1].map((w) => new PubsubRing(sab, 2, w));
  a.setInterested(true);
  b.setInterested(true);
  t.ok(a.oversized(2, 300));
  t.notOk(a.oversized(2, 100));
  const id = a.blobId();
  t.ok(a.append(bytes('ch'), bytes('first'), false));
  t.ok(a.append(bytes('ch'), new Uint8Array(0), false, id));
  t.ok(a.append(bytes('ch'), bytes('third'), false));
  const got: string[] = [];
  const each = (e: RingEntry) => got.push(`${e.messageLength}:${text(e.message, e.messageStart, Math.min(5, e.messageLength))}`);
  t.equal(b.read(each), false, 'stops at the entry whose bytes have not come');
  t.same(got, ['5:first']);
  b.addBlob(id, bytes('B'.repeat(300)));
  t.equal(b.read(each), true);
  t.same(got, ['5:first', '300:BBBBB', '5:third']);
  t.not(a.blobId(), b.blobId(), 'ids differ between threads');
});
