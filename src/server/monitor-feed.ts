/**
 * MONITOR across worker threads (Redis 7.0's monitorCommand and
 * replicationFeedMonitors, called from call()).
 *
 * What Redis does and weft keeps:
 * - Every command a client runs is shown to every MONITOR client once it
 *   has executed (errors it replied included), except commands flagged
 *   admin or skip_monitor and commands refused before running; AUTH and
 *   HELLO ... AUTH show their credentials as "(redacted)".
 * - The line is `+<seconds>.<microseconds> [<db> <ip:port>] "arg" ...`,
 *   each argument quoted as sdscatrepr quotes it, the db being the one
 *   selected after the command (SELECT shows its new db).
 * - A monitor's own commands are shown too, after their replies.
 *
 * The number of monitors on all threads together is a word of the shared
 * flags buffer, so a command costs one read when nobody monitors. A line is
 * formatted on the thread that ran the command, written to that thread's
 * monitors, and sent through the coordinator to the other threads, which
 * write it to theirs: the lines of one thread arrive in the order it ran
 * them.
 */
import type { CommandContext } from '../commands/context.js';
import type { CommandSpec } from '../commands/command-spec.js';
import { FLAGS_BYTES, MONITORS_WORD } from './shared-flags.js';

/** What a monitor is to the feed: somewhere to write lines. */
export interface MonitorClient {
  readonly id: number;
  send(line: Uint8Array): void;
}

const REDACTED = '"(redacted)"';
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const PRINTABLE_FIRST = 0x20;
const PRINTABLE_LAST = 0x7e;
/** sdscatrepr's escapes for the control characters it names. */
const NAMED_ESCAPES = new Map<number, string>([[0x0a, '\\n'], [0x0d, '\\r'], [0x09, '\\t'], [0x07, '\\a'], [0x08, '\\b']]);

export class MonitorFeed {
  private readonly words: Int32Array;
  private readonly local = new Map<number, MonitorClient>();

  constructor(flags: SharedArrayBuffer, private readonly publish: (line: Uint8Array) => void) {
    this.words = new Int32Array(flags, 0, FLAGS_BYTES / 4);
  }

  /** Whether any thread has a monitor: the one read a command pays when nobody monitors. */
  get active(): boolean {
    return this.words[MONITORS_WORD] !== 0;
  }

  isMonitor(clientId: number): boolean {
    return this.local.has(clientId);
  }

  /** MONITOR: false when the client already monitors (Redis then replies nothing). */
  add(client: MonitorClient): boolean {
    if (this.local.has(client.id)) return false;
    this.local.set(client.id, client);
    Atomics.add(this.words, MONITORS_WORD, 1);
    return true;
  }

  /** RESET or a closed connection ends monitoring. */
  remove(clientId: number): void {
    if (this.local.delete(clientId)) Atomics.sub(this.words, MONITORS_WORD, 1);
  }

  /**
   * replicationFeedMonitors for a command that ran on this thread: this
   * thread's monitors get the line at once (a monitor's own command right
   * after its reply, in the reply writer), the other threads' through the
   * coordinator.
   */
  feed(c: CommandContext, spec: CommandSpec): void {
    if (spec.flags.includes('admin') || spec.flags.includes('skip_monitor')) return;
    // A buffer of its own: a view of Buffer's shared pool would carry the whole pool to the other threads.
    const text = monitorLine(c, spec);
    const line = Buffer.allocUnsafeSlow(text.length);
    line.write(text, 'latin1');
    for (const m of this.local.values()) {
      if (m.id === c.client.id) c.out.raw(line);
      else m.send(line);
    }
    if (Atomics.load(this.words, MONITORS_WORD) > this.local.size) this.publish(line);
  }

  /** A line from another thread: written to this thread's monitors. */
  deliver(line: Uint8Array): void {
    for (const m of this.local.values()) m.send(line);
  }
}

/** The status line Redis sends monitors for the command in `c` (latin1 text, CRLF included). */
export function monitorLine(c: CommandContext, spec: CommandSpec): string {
  const t = performance.timeOrigin + performance.now();
  const seconds = Math.floor(t / 1000);
  const micros = Math.min(999999, Math.floor((t - seconds * 1000) * 1000));
  let line = `+${seconds}.${String(micros).padStart(6, '0')} [${c.client.db} ${c.client.address}]`;
  const redactFrom = redactedFrom(c, spec);
  for (let i = 0; i < c.argc; i++) line += ' ' + (redactFrom.has(i) ? REDACTED : quoted(c.buf, c.argStart[i], c.argLen[i]));
  return line + '\r\n';
}

/** Argument positions whose values are secrets: AUTH's, and HELLO's AUTH username and password (redactClientCommandArgument). */
function redactedFrom(c: CommandContext, spec: CommandSpec): Set<number> {
  const hidden = new Set<number>();
  if (spec.name === 'auth') {
    for (let i = 1; i < c.argc; i++) hidden.add(i);
  } else if (spec.name === 'hello') {
    for (let i = 2; i < c.argc; i++) {
      if (c.argIs(i, 'auth') && i + 2 < c.argc) {
        hidden.add(i + 1);
        hidden.add(i + 2);
        i += 2;
      } else if (c.argIs(i, 'setname')) {
        i++;
      }
    }
  }
  return hidden;
}

/** sdscatrepr: a double-quoted string with \\, \", named control escapes and \xhh for other unprintable bytes. */
function quoted(buf: Uint8Array, start: number, len: number): string {
  let s = '"';
  for (let i = 0; i < len; i++) {
    const b = buf[start + i];
    if (b === QUOTE || b === BACKSLASH) s += '\\' + String.fromCharCode(b);
    else if (NAMED_ESCAPES.has(b)) s += NAMED_ESCAPES.get(b)!;
    else if (b >= PRINTABLE_FIRST && b <= PRINTABLE_LAST) s += String.fromCharCode(b);
    else s += '\\x' + b.toString(16).padStart(2, '0');
  }
  return s + '"';
}
