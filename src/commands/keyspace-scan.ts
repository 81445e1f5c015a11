/**
 * Walking the keyspace (Redis's db.c): KEYS, SCAN and RANDOMKEY. Shards are
 * locked one at a time (SCAN: one slot table per lock), so a walk never
 * stalls the whole keyspace at once.
 */
import { arg, defineCommand, type CommandSpec } from './command-spec.js';
import type { CommandContext } from './context.js';
import { INVALID_CURSOR, NOT_INTEGER, SYNTAX } from './errors.js';
import { parseScanCursor } from './numbers.js';
import { globMatch, isMatchAll } from './glob.js';
import { TYPE_NAMES } from './keys.js';
import { E_KEYLEN, E_TYPE } from '../store/layout.js';

const group = 'generic';

function keys(c: CommandContext): void {
  const p = c.buf;
  const ps = c.argStart[1];
  const pe = ps + c.argLen[1];
  const all = isMatchAll(p, ps, pe);
  const found: Buffer[] = [];
  const db = c.ks.dbMap[c.client.db];
  for (const shard of c.ks.shards) {
    shard.lock();
    try {
      for (let si = 0; si < shard.slotsPerShard; si++) {
        if (shard.slotKeys(db, si) === 0) continue;
        shard.forEachInSlot(db, si, (e) => {
          if (shard.isExpired(e, c.now)) return;
          const ks = shard.keyStart(e);
          const kl = shard.u32[(e + E_KEYLEN) >>> 2];
          if (all || globMatch(p, ps, pe, shard.u8, ks, ks + kl)) found.push(Buffer.from(shard.u8.subarray(ks, ks + kl)));
        });
      }
    } finally {
      shard.unlock();
    }
  }
  c.out.arrayHeader(found.length);
  for (const k of found) c.out.bulkBytes(k, 0, k.length);
}

const SLOT_BITS = 14;
const SLOTS = 1 << SLOT_BITS;

/**
 * SCAN: the cursor holds the slot in its low 14 bits and that slot table's
 * reverse-binary bucket cursor above, so every key present for the whole
 * iteration is returned at least once (Redis's dictScan guarantee), slot by
 * slot.
 */
function scan(c: CommandContext): void {
  const parsed = parseScanCursor(c.buf, c.argStart[1], c.argLen[1]);
  if (parsed === null) {
    c.out.error(INVALID_CURSOR);
    return;
  }
  // A cursor weft never handed out (beyond 2^53) restarts the scan.
  const cursor = parsed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(parsed) : Number.MAX_SAFE_INTEGER;
  // weft's cursors stay below 2^46 (a 32-bit bucket cursor above the 14 slot
  // bits); one beyond lies past the last bucket, where Redis's scan ends too.
  const pastTheEnd = cursor >= SLOTS * 2 ** 32;
  let count = 10;
  let pattern = -1;
  let typeFilter = -1;
  for (let i = 2; i < c.argc; i++) {
    const more = c.argc - i - 1;
    if (c.argIs(i, 'count') && more >= 1) {
      const n = c.argInt(i + 1);
      if (n === null) {
        c.out.error(NOT_INTEGER);
        return;
      }
      if (n < 1) {
        c.out.error(SYNTAX);
        return;
      }
      count = n;
      i++;
    } else if (c.argIs(i, 'match') && more >= 1) {
      pattern = ++i;
    } else if (c.argIs(i, 'type') && more >= 1) {
      const name = c.argString(++i).toLowerCase();
      typeFilter = TYPE_NAMES.indexOf(name);
      // Redis accepts unknown type names and simply matches nothing.
      if (typeFilter < 0) typeFilter = 255;
    } else {
      c.out.error(SYNTAX);
      return;
    }
  }
  let slot = pastTheEnd ? SLOTS : cursor % SLOTS;
  let bucket = pastTheEnd ? 0 : Math.floor(cursor / SLOTS) >>> 0;
  const db = c.ks.dbMap[c.client.db];
  const names: Buffer[] = [];
  let budget = count * 10;
  const p = c.buf;
  const ps = pattern >= 0 ? c.argStart[pattern] : 0;
  const pe = pattern >= 0 ? ps + c.argLen[pattern] : 0;
  const matchAll = pattern < 0 || isMatchAll(p, ps, pe);
  while (slot < SLOTS && names.length < count && budget > 0) {
    const shard = c.ks.shardOf(slot);
    const si = c.ks.slotIndex(slot);
    // Empty slots cost nothing: like dictScan on an empty dict, a scan of
    // a sparse or empty database ends (cursor 0) in one call.
    if (shard.slotKeys(db, si) === 0) {
      slot++;
      bucket = 0;
      continue;
    }
    shard.lock();
    try {
      const expired: number[] = [];
      do {
        bucket = shard.scanSlot(db, si, bucket, (e) => {
          if (shard.isExpired(e, c.now)) {
            expired.push(e);
            return;
          }
          if (typeFilter >= 0 && shard.u8[e + E_TYPE] !== typeFilter) return;
          const ks = shard.keyStart(e);
          const kl = shard.u32[(e + E_KEYLEN) >>> 2];
          if (matchAll || globMatch(p, ps, pe, shard.u8, ks, ks + kl)) names.push(Buffer.from(shard.u8.subarray(ks, ks + kl)));
        });
        budget--;
      } while (bucket !== 0 && names.length < count && budget > 0);
      // Like Redis's SCAN, keys found expired on the way are deleted.
      for (const e of expired) {
        if (!shard.keepsExpired() && shard.locate(db, e)) shard.expireEntry(db, e);
      }
    } finally {
      shard.unlock();
    }
    if (bucket === 0) slot++;
  }
  const next = slot >= SLOTS ? 0 : bucket * SLOTS + slot;
  c.out.arrayHeader(2);
  c.out.bulkString(String(next));
  c.out.arrayHeader(names.length);
  for (const k of names) c.out.bulkBytes(k, 0, k.length);
}

function randomkey(c: CommandContext): void {
  const db = c.ks.dbMap[c.client.db];
  const shards = c.ks.shards;
  for (let attempt = 0; attempt < 100; attempt++) {
    let total = 0;
    for (const s of shards) total += s.dbKeys(db);
    if (total === 0) break;
    let r = Math.floor(Math.random() * total);
    let shard = shards[0];
    for (const s of shards) {
      const n = s.dbKeys(db);
      if (r < n) {
        shard = s;
        break;
      }
      r -= n;
    }
    shard.lock();
    try {
      const e = shard.randomEntry(db);
      if (e === 0) continue;
      if (shard.isExpired(e, c.now) && !shard.keepsExpired()) {
        if (shard.locate(db, e)) shard.expireEntry(db, e);
        continue;
      }
      const ks = shard.keyStart(e);
      c.out.bulkBytes(shard.u8, ks, shard.u32[(e + E_KEYLEN) >>> 2]);
      return;
    } finally {
      shard.unlock();
    }
  }
  c.out.nullBulk();
}

export const keyspaceScanCommands: CommandSpec[] = [
  defineCommand({ name: 'keys', arity: 2, flags: ['readonly'], categories: ['keyspace', 'dangerous'],
    tips: ['request_policy:all_shards', 'nondeterministic_output_order'], group,
    summary: 'Find all keys matching the given pattern',
    complexity: 'O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.',
    arguments: [arg('pattern', 'pattern')], handler: keys }),
  defineCommand({ name: 'scan', arity: -2, flags: ['readonly'], categories: ['keyspace'],
    tips: ['nondeterministic_output', 'request_policy:special'], group, since: '2.8.0',
    summary: 'Incrementally iterate the keys space',
    complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.',
    history: [['6.0.0', 'Added the `TYPE` subcommand.']],
    arguments: [arg('cursor', 'integer'), arg('pattern', 'pattern', { token: 'MATCH', optional: true }), arg('count', 'integer', { token: 'COUNT', optional: true }), arg('type', 'string', { token: 'TYPE', optional: true, since: '6.0.0' })],
    handler: scan }),
  defineCommand({ name: 'randomkey', arity: 1, flags: ['readonly'], categories: ['keyspace'],
    tips: ['request_policy:all_shards', 'nondeterministic_output'], group, summary: 'Return a random key from the keyspace',
    complexity: 'O(1)', handler: randomkey }),
];
