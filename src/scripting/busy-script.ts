/**
 * Busy scripts across worker threads (Redis 7.0's scriptIsTimedout,
 * scriptKill and the BUSY replies of processCommand). A script runs on one
 * thread with every shard locked; a small shared buffer says which thread
 * runs one, of which kind (EVAL or FCALL), since when, whether it wrote,
 * whether a kill was asked, and a function's command (FUNCTION STATS).
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

/** Int32 words: the running script's thread + 1 (0: none), its kind, a kill asked, it wrote, the bytes of its command below. */
const THREAD_WORD = 0;
const KIND_WORD = 1;
const KILL_WORD = 2;
const WROTE_WORD = 3;
const COMMAND_BYTES_WORD = 4;
/** Float64 slot (bytes 24..31): when it started, ms since the epoch. */
const START_SLOT = 3;
/** From here: the command that runs a function, as (u32 length · bytes) per argument (FUNCTION STATS shows it). */
const COMMAND_AT = 32;
const STATE_BYTES = 4096;

export function allocateBusyScript(): SharedArrayBuffer {
  return new SharedArrayBuffer(STATE_BYTES);
}

/** FUNCTION STATS's running_script: the function, its command, how long it has run. */
export interface RunningFunction {
  name: Buffer;
  command: Buffer[];
  durationMs: number;
}

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

  private readonly bytes: Buffer;

  constructor(state: SharedArrayBuffer, private readonly thread: number) {
    this.words = new Int32Array(state);
    this.times = new Float64Array(state);
    this.bytes = Buffer.from(state);
  }

  /** A script starts on this thread; a function's command (args of buf) is kept for FUNCTION STATS. */
  begin(kind: ScriptKind, buf: Uint8Array, starts: Int32Array, lengths: Int32Array, argc: number): void {
    let at = COMMAND_AT;
    if (kind === ScriptKind.Function) {
      for (let i = 0; i < argc && at + 4 + lengths[i] <= STATE_BYTES; i++) {
        this.bytes.writeUInt32LE(lengths[i], at);
        this.bytes.set(buf.subarray(starts[i], starts[i] + lengths[i]), at + 4);
        at += 4 + lengths[i];
      }
    }
    // Plain stores, published by the atomic store of the thread word that readers load first.
    this.words[COMMAND_BYTES_WORD] = at - COMMAND_AT;
    this.times[START_SLOT] = Date.now();
    this.words[KIND_WORD] = kind;
    this.words[KILL_WORD] = 0;
    this.words[WROTE_WORD] = 0;
    Atomics.store(this.words, THREAD_WORD, this.thread + 1);
  }

  end(): void {
    Atomics.store(this.words, THREAD_WORD, 0);
  }

  /** The running script wrote: it cannot be killed any more. */
  wrote(): void {
    Atomics.store(this.words, WROTE_WORD, 1);
  }

  /** Read by the script's count hook. */
  get killRequested(): boolean {
    return Atomics.load(this.words, KILL_WORD) !== 0;
  }

  /** The BUSY reply while another thread runs a script past the threshold, or null (one atomic load when none runs). */
  busyReply(): string | null {
    const owner = Atomics.load(this.words, THREAD_WORD);
    if (owner === 0 || owner === this.thread + 1) return null;
    if (Date.now() - this.times[START_SLOT] < this.threshold) return null;
    return this.words[KIND_WORD] === ScriptKind.Function ? BUSY_FUNCTION : BUSY_EVAL;
  }

  /** The lock-wait check: gives up a wait on a lock that a timed-out script holds. */
  checkWait(): void {
    const reply = this.busyReply();
    if (reply !== null) throw new BusyScriptError(reply);
  }

  /** The function another thread runs now, or null (FUNCTION STATS). */
  runningFunction(): RunningFunction | null {
    const owner = Atomics.load(this.words, THREAD_WORD);
    if (owner === 0 || owner === this.thread + 1 || Atomics.load(this.words, KIND_WORD) !== ScriptKind.Function) return null;
    const end = COMMAND_AT + Math.min(this.words[COMMAND_BYTES_WORD], STATE_BYTES - COMMAND_AT);
    const command: Buffer[] = [];
    for (let at = COMMAND_AT; at + 4 <= end;) {
      const length = this.bytes.readUInt32LE(at);
      if (at + 4 + length > end) break;
      command.push(Buffer.from(this.bytes.subarray(at + 4, at + 4 + length)));
      at += 4 + length;
    }
    if (command.length < 2) return null;
    return { name: command[1], command, durationMs: Math.max(0, Date.now() - this.times[START_SLOT]) };
  }

  /** FUNCTION STATS's refusal while an EVAL script runs on another thread (the BUSY reply), or null. */
  runningEval(): string | null {
    const owner = Atomics.load(this.words, THREAD_WORD);
    if (owner === 0 || owner === this.thread + 1) return null;
    return Atomics.load(this.words, KIND_WORD) === ScriptKind.Eval ? BUSY_EVAL : null;
  }

  /** SCRIPT KILL (Eval) or FUNCTION KILL (Function): null once asked (OK), or the error. */
  kill(kind: ScriptKind): string | null {
    const owner = Atomics.load(this.words, THREAD_WORD);
    if (owner === 0) return NOT_BUSY;
    const running = Atomics.load(this.words, KIND_WORD);
    if (running !== kind) return running === ScriptKind.Function ? BUSY_FUNCTION : BUSY_EVAL;
    if (Atomics.load(this.words, WROTE_WORD) !== 0) return UNKILLABLE;
    Atomics.store(this.words, KILL_WORD, 1);
    return null;
  }
}
