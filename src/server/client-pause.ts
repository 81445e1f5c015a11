/**
 * CLIENT PAUSE / CLIENT UNPAUSE across worker threads (Redis 7.0's
 * pauseClients / unpauseClients / checkClientPauseTimeoutAndReturnIfPaused
 * in networking.c, and processCommand's blockPostponeClient).
 *
 * One node-wide pause, in a SharedArrayBuffer every worker reads: its type
 * (WRITE or ALL) and its end time. Invariants, as Redis keeps them:
 * - A pause only grows: a new CLIENT PAUSE keeps the later end and the
 *   stronger type of an active pause; an ended pause counts as none.
 * - While a pause is active, a client's command that it covers (every one
 *   under ALL; under WRITE the write and may-replicate ones) waits, after
 *   the other admission checks, and runs from scratch when the pause ends
 *   or CLIENT UNPAUSE is sent. Replicas and the master's stream never wait.
 * - The dataset holds still: no active expiry and no eviction while paused,
 *   and a key whose time has come reads as missing but is not deleted
 *   (so a replica's view stays the master's).
 * The end is a deadline, not a timer: a waiter sleeps until it (or until an
 * unpause or a new pause bumps the generation word), then checks again.
 */

import { FLAGS_BYTES, PAUSE_END_SLOT, PAUSE_GENERATION_WORD, PAUSE_LOCK_WORD, PAUSE_TYPE_WORD } from './shared-flags.js';

export const enum PauseType {
  None = 0,
  Write = 1,
  All = 2,
}

export class ClientPause {
  private readonly words: Int32Array;
  private readonly times: Float64Array;

  constructor(flags: SharedArrayBuffer) {
    this.words = new Int32Array(flags, 0, FLAGS_BYTES / 4);
    this.times = new Float64Array(flags, 0, FLAGS_BYTES / 8);
  }

  /** The pause in force at `now` (None once its end has passed). A plain read: it runs before every command. */
  typeAt(now: number): PauseType {
    const type = this.words[PAUSE_TYPE_WORD];
    if (type === PauseType.None) return PauseType.None;
    return now < this.times[PAUSE_END_SLOT] ? type : PauseType.None;
  }

  /** pauseClients: until `end` (ms since the epoch), keeping a later end and a stronger type already in force. */
  pause(type: PauseType, end: number, now: number): void {
    this.withLock(() => {
      const active = this.typeAt(now) !== PauseType.None;
      const current = this.words[PAUSE_TYPE_WORD];
      Atomics.store(this.words, PAUSE_TYPE_WORD, active && current > type ? current : type);
      this.times[PAUSE_END_SLOT] = active && this.times[PAUSE_END_SLOT] > end ? this.times[PAUSE_END_SLOT] : end;
      this.wake();
    });
  }

  /** unpauseClients: every waiter runs its command now. */
  unpause(): void {
    this.withLock(() => {
      Atomics.store(this.words, PAUSE_TYPE_WORD, PauseType.None);
      this.times[PAUSE_END_SLOT] = 0;
      this.wake();
    });
  }

  /** Resolves when the pause may have ended: its end time, an unpause, or a new pause. */
  whenChanged(now: number): Promise<void> {
    const generation = Atomics.load(this.words, PAUSE_GENERATION_WORD);
    const left = Math.max(1, Math.ceil(this.times[PAUSE_END_SLOT] - now));
    const r = Atomics.waitAsync(this.words, PAUSE_GENERATION_WORD, generation, left);
    return r.async ? r.value.then(() => undefined) : Promise.resolve();
  }

  private wake(): void {
    Atomics.add(this.words, PAUSE_GENERATION_WORD, 1);
    Atomics.notify(this.words, PAUSE_GENERATION_WORD);
  }

  /** A spin lock: the critical sections are a few stores, and CLIENT PAUSE is rare. */
  private withLock(update: () => void): void {
    while (Atomics.compareExchange(this.words, PAUSE_LOCK_WORD, 0, 1) !== 0) {
      // Another thread is updating the pause: its section is a few stores.
    }
    try {
      update();
    } finally {
      Atomics.store(this.words, PAUSE_LOCK_WORD, 0);
    }
  }
}
