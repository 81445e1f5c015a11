/**
 * The spin lock of the scripting stores in shared memory (script-store.ts,
 * function-store.ts): one Int32 word, taken by compare-and-swap, then by
 * short waits. Only worker threads take it (the main thread may not wait).
 */
const SPIN_LIMIT = 64;
const WAIT_MS = 1;

export function lockWord(words: Int32Array, index: number): void {
  for (let spin = 0; ; spin++) {
    if (Atomics.compareExchange(words, index, 0, 1) === 0) return;
    if (spin >= SPIN_LIMIT) Atomics.wait(words, index, 1, WAIT_MS);
  }
}

export function unlockWord(words: Int32Array, index: number): void {
  Atomics.store(words, index, 0);
  Atomics.notify(words, index, 1);
}
