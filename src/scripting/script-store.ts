/**
 * The node's script cache (EVAL and SCRIPT LOAD bodies by SHA1), in one
 * growable SharedArrayBuffer that every worker thread reads without
 * messages: whichever thread a client's EVALSHA lands on finds a script that
 * any thread cached, the moment SCRIPT LOAD or EVAL has answered.
 *
 * The buffer is an append-only log of entries (body length, the 40-byte
 * lowercase hex SHA1, the body), written under a spin lock, its used length
 * published last with Atomics.store. A reader catches up by scanning what it
 * has not seen yet. SCRIPT FLUSH empties the log and bumps a generation
 * that readers compare on every lookup, then drop their compiled copies.
 * Redis keeps EVAL scripts until SCRIPT FLUSH (7.0 has no eviction); so does
 * this log, up to its reserved maximum, past which scripts still run but are
 * cached on their own thread only.
 */

import { lockWord, unlockWord } from './shared-spin-lock.js';

import crypto from 'node:crypto';

/** The lowercase hex SHA1 that names a script (EVAL, SCRIPT LOAD, redis.sha1hex). */
export function sha1hex(body: Uint8Array): string {
  return crypto.createHash('sha1').update(body).digest('hex');
}

const LOCK_WORD = 0;
const GENERATION_WORD = 1;
const USED_WORD = 2;
const COUNT_WORD = 3;
const HEADER_BYTES = 16;
const SHA_LENGTH = 40;
const ENTRY_HEADER_BYTES = 4 + SHA_LENGTH;
const INITIAL_BYTES = 64 << 10;
/** Address space reserved for the log (growable buffers reserve their maximum up front, uncommitted). */
const MAX_BYTES = 256 << 20;

export function allocateScriptStore(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(INITIAL_BYTES, { maxByteLength: MAX_BYTES });
  new Int32Array(sab)[USED_WORD] = HEADER_BYTES;
  return sab;
}

/** Where a script's body lies in the log. */
export interface StoredScript {
  start: number;
  length: number;
}

export class ScriptStore {
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  /** This thread's index of the log, up to `seen`, for generation `generation`. */
  private readonly index = new Map<string, StoredScript>();
  private seen = HEADER_BYTES;
  private generation = 0;

  constructor(readonly sab: SharedArrayBuffer) {
    // Length-tracking views: they follow the buffer as any thread grows it.
    this.words = new Int32Array(sab);
    this.bytes = new Uint8Array(sab);
  }

  /** Scripts cached on the node (INFO's number_of_cached_scripts). */
  get count(): number {
    return Atomics.load(this.words, COUNT_WORD);
  }

  /** Bytes of script bodies cached (INFO's used_memory_scripts_eval). */
  get bodyBytes(): number {
    return Atomics.load(this.words, USED_WORD) - HEADER_BYTES;
  }

  /** Whether SCRIPT FLUSH emptied the log since this thread last looked; the caller then drops its compiled scripts. */
  flushedSinceLastLook(): boolean {
    const g = Atomics.load(this.words, GENERATION_WORD);
    if (g === this.generation) return false;
    this.generation = g;
    this.index.clear();
    this.seen = HEADER_BYTES;
    return true;
  }

  /** The body stored under sha (lowercase hex), or undefined. */
  find(sha: string): StoredScript | undefined {
    return this.index.get(sha) ?? (this.catchUp() ? this.index.get(sha) : undefined);
  }

  /** A view of a stored body. */
  body(s: StoredScript): Uint8Array {
    return this.bytes.subarray(s.start, s.start + s.length);
  }

  /** Adds a body under its sha unless present; false when the log is full (the script is then this thread's alone). */
  add(sha: string, body: Uint8Array): boolean {
    this.lock();
    try {
      this.catchUp();
      if (this.index.has(sha)) return true;
      const used = this.words[USED_WORD];
      const size = (ENTRY_HEADER_BYTES + body.length + 3) & ~3;
      if (used + size > this.sab.byteLength) {
        const wanted = Math.max(used + size, this.sab.byteLength * 2);
        if (used + size > MAX_BYTES) return false;
        this.sab.grow(Math.min(wanted, MAX_BYTES));
      }
      new DataView(this.sab).setUint32(used, body.length, true);
      for (let i = 0; i < SHA_LENGTH; i++) this.bytes[used + 4 + i] = sha.charCodeAt(i);
      this.bytes.set(body, used + ENTRY_HEADER_BYTES);
      Atomics.add(this.words, COUNT_WORD, 1);
      Atomics.store(this.words, USED_WORD, used + size);
      this.catchUp();
      return true;
    } finally {
      this.unlock();
    }
  }

  /** SCRIPT FLUSH: empties the log for every thread. */
  flush(): void {
    this.lock();
    try {
      Atomics.store(this.words, USED_WORD, HEADER_BYTES);
      Atomics.store(this.words, COUNT_WORD, 0);
      Atomics.add(this.words, GENERATION_WORD, 1);
    } finally {
      this.unlock();
    }
  }

  /** Indexes the entries other threads appended; returns whether there were any. */
  private catchUp(): boolean {
    const used = Atomics.load(this.words, USED_WORD);
    if (used < this.seen) {
      // Flushed since: start over (the generation check drops compiled copies).
      this.index.clear();
      this.seen = HEADER_BYTES;
    }
    if (used === this.seen) return false;
    const view = new DataView(this.sab);
    let p = this.seen;
    while (p < used) {
      const length = view.getUint32(p, true);
      const sha = Buffer.from(this.bytes.buffer, p + 4, SHA_LENGTH).toString('latin1');
      this.index.set(sha, { start: p + ENTRY_HEADER_BYTES, length });
      p += (ENTRY_HEADER_BYTES + length + 3) & ~3;
    }
    this.seen = used;
    return true;
  }

  private lock(): void {
    lockWord(this.words, LOCK_WORD);
  }

  private unlock(): void {
    unlockWord(this.words, LOCK_WORD);
  }
}
