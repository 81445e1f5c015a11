/**
 * The node's function libraries (FUNCTION LOAD), in one growable
 * SharedArrayBuffer every worker thread reads: the code of every library,
 * in load order, rewritten whole by each change under a spin lock, with a
 * generation bumped last. A thread compares the generation before it runs
 * or lists a function and, when it moved, loads the libraries afresh into
 * its own Lua state: changes are rare, calls are many.
 *
 * A change is made under the lock from the check to the write (exists?
 * loads? names free?), so two FUNCTION LOADs on two threads cannot both
 * take one name.
 */

import { lockWord, unlockWord } from './shared-spin-lock.js';

const LOCK_WORD = 0;
const GENERATION_WORD = 1;
const USED_WORD = 2;
const COUNT_WORD = 3;
const HEADER_BYTES = 16;
const INITIAL_BYTES = 16 << 10;
const MAX_BYTES = 64 << 20;

export function allocateFunctionStore(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(INITIAL_BYTES, { maxByteLength: MAX_BYTES });
  new Int32Array(sab)[USED_WORD] = HEADER_BYTES;
  return sab;
}

export class FunctionStore {
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(readonly sab: SharedArrayBuffer) {
    this.words = new Int32Array(sab);
    this.bytes = new Uint8Array(sab);
  }

  get generation(): number {
    return Atomics.load(this.words, GENERATION_WORD);
  }

  /** Every library's code, in load order. */
  codes(): Buffer[] {
    const used = Atomics.load(this.words, USED_WORD);
    const view = new DataView(this.sab);
    const out: Buffer[] = [];
    for (let p = HEADER_BYTES; p < used;) {
      const length = view.getUint32(p, true);
      out.push(Buffer.from(this.bytes.subarray(p + 4, p + 4 + length)));
      p += (4 + length + 3) & ~3;
    }
    return out;
  }

  /**
   * Runs `change` under the lock with the current codes; when it returns a
   * new list, that list is written and the generation bumped. Returns what
   * `change` returned.
   */
  update<T>(change: (codes: Buffer[]) => { codes: Buffer[] | null; result: T }): T {
    this.lock();
    try {
      const { codes, result } = change(this.codes());
      if (codes !== null) this.write(codes);
      return result;
    } finally {
      this.unlock();
    }
  }

  private write(codes: Buffer[]): void {
    let size = HEADER_BYTES;
    for (const c of codes) size += (4 + c.length + 3) & ~3;
    if (size > MAX_BYTES) throw new Error('function libraries exceed the store');
    if (size > this.sab.byteLength) this.sab.grow(Math.min(MAX_BYTES, Math.max(size, this.sab.byteLength * 2)));
    const view = new DataView(this.sab);
    let p = HEADER_BYTES;
    for (const c of codes) {
      view.setUint32(p, c.length, true);
      this.bytes.set(c, p + 4);
      p += (4 + c.length + 3) & ~3;
    }
    Atomics.store(this.words, USED_WORD, p);
    Atomics.store(this.words, COUNT_WORD, codes.length);
    Atomics.add(this.words, GENERATION_WORD, 1);
  }

  private lock(): void {
    lockWord(this.words, LOCK_WORD);
  }

  private unlock(): void {
    unlockWord(this.words, LOCK_WORD);
  }
}
