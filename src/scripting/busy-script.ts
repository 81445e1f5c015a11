/**
 * Busy scripts across worker threads (Redis 7.0's scriptIsTimedout,
 * scriptKill and the BUSY replies of processCommand). A script runs on one
 * thread with every shard locked; the node's shared flags say which thread
 * runs one, of which kind (EVAL or FCALL), since when, whether it wrote and
 * whether a kill was asked.
 *
 * Once it has run longer than busy-reply-threshold (lua-time-limit), the
 * other threads answer every command that is not allow_busy with -BUSY,
 * including one that was waiting for a shard lock the script holds (the
 * lock wait gives up: BusyScriptError). SCRIPT KILL or FUNCTION KILL, from
 * any other thread, sets the kill word; the script's count hook raises
 * "Script killed by user with SCRIPT KILL..." at its next check, unless the
 * script already wrote (UNKILLABLE). The script's own thread cannot serve
 * its clients until it ends: they wait, where Redis would answer them BUSY.
 */
import {
  SCRIPT_KILL_WORD, SCRIPT_KIND_WORD, SCRIPT_START_SLOT, SCRIPT_THREAD_WORD, SCRIPT_WROTE_WORD,
} from '../server/shared-flags.js';

export const enum ScriptKind {
  Eval = 1,
  Function = 2,
}

const BUSY_EVAL = '-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.';
const BUSY_FUNCTION = '-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.';
const NOT_BUSY = '-NOTBUSY No scripts in execution right now.';
const UNKILLABLE = '-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.';
export const KILLED = 'Script killed by user with SCRIPT KILL...';

/** Thrown by a lock wait given up for a busy script: the command is answered with `reply`. */
export class BusyScriptError extends Error {
  constructor(readonly reply: string) {
    super(reply);
  }
}

export class BusyScript {
  private readonly words: Int32Array;
  private readonly times: Float64Array;
  /** busy-reply-threshold in ms, kept current with the configuration. */
  threshold = 5000;

  constructor(flags: SharedArrayBuffer, private readonly thread: number) {
    this.words = new Int32Array(flags);
    this.times = new Float64Array(flags);
  }

  /** A script starts on this thread. */
  begin(kind: ScriptKind): void {
    this.times[SCRIPT_START_SLOT] = Date.now();
    Atomics.store(this.words, SCRIPT_KIND_WORD, kind);
    Atomics.store(this.words, SCRIPT_KILL_WORD, 0);
    Atomics.store(this.words, SCRIPT_WROTE_WORD, 0);
    Atomics.store(this.words, SCRIPT_THREAD_WORD, this.thread + 1);
  }

  end(): void {
    Atomics.store(this.words, SCRIPT_THREAD_WORD, 0);
  }

  /** The running script wrote: it cannot be killed any more. */
  wrote(): void {
    Atomics.store(this.words, SCRIPT_WROTE_WORD, 1);
  }

  /** Read by the script's count hook. */
  get killRequested(): boolean {
    return Atomics.load(this.words, SCRIPT_KILL_WORD) !== 0;
  }

  /** The kind of script another thread runs past the threshold, or 0. */
  private timedOutElsewhere(): number {
    const owner = Atomics.load(this.words, SCRIPT_THREAD_WORD);
    if (owner === 0 || owner === this.thread + 1) return 0;
    if (Date.now() - this.times[SCRIPT_START_SLOT] < this.threshold) return 0;
    return Atomics.load(this.words, SCRIPT_KIND_WORD);
  }

  /** The BUSY reply for a command that may not run now, or null. */
  busyReply(allowBusy: boolean): string | null {
    if (allowBusy || Atomics.load(this.words, SCRIPT_THREAD_WORD) === 0) return null;
    const kind = this.timedOutElsewhere();
    return kind === 0 ? null : kind === ScriptKind.Function ? BUSY_FUNCTION : BUSY_EVAL;
  }

  /** The lock-wait check: gives up a wait on a lock that a timed-out script holds. */
  checkWait(): void {
    const reply = this.busyReply(false);
    if (reply !== null) throw new BusyScriptError(reply);
  }

  /** FUNCTION STATS's refusal while an EVAL script runs on another thread (the BUSY reply), or null. */
  runningEval(): string | null {
    const owner = Atomics.load(this.words, SCRIPT_THREAD_WORD);
    if (owner === 0 || owner === this.thread + 1) return null;
    return Atomics.load(this.words, SCRIPT_KIND_WORD) === ScriptKind.Eval ? BUSY_EVAL : null;
  }

  /** SCRIPT KILL (Eval) or FUNCTION KILL (Function): null once asked (OK), or the error. */
  kill(kind: ScriptKind): string | null {
    const owner = Atomics.load(this.words, SCRIPT_THREAD_WORD);
    if (owner === 0) return NOT_BUSY;
    const running = Atomics.load(this.words, SCRIPT_KIND_WORD);
    if (running !== kind) return running === ScriptKind.Function ? BUSY_FUNCTION : BUSY_EVAL;
    if (Atomics.load(this.words, SCRIPT_WROTE_WORD) !== 0) return UNKILLABLE;
    Atomics.store(this.words, SCRIPT_KILL_WORD, 1);
    return null;
  }
}
