/**
 * Incremental RESP request parser (multibulk and inline), modelled on Redis's
 * processMultibulkBuffer / processInlineBuffer in networking.c: the same limits,
 * the same protocol error strings, and the same "reply the error, then close"
 * behaviour. Arguments are described by offsets into the input buffer; no
 * per-argument object is created on the hot path.
 */

/** Redis's PROTO_INLINE_MAX_SIZE: the longest inline request or count line. */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;
const INT_MAX = 2147483647;
const CR = 13;
const LF = 10;

export const enum ParseStatus {
  /** A whole command is ready in argv. */
  Command = 0,
  /** More bytes are needed. */
  Incomplete = 1,
  /** A protocol error: reply `error` and close the connection. */
  ProtocolError = 2,
  /** An empty command (inline blank line or `*0`): consumed, nothing to run. */
  Empty = 3,
}

export interface ParserLimits {
  protoMaxBulkLen: number;
  /** When authentication is still required, Redis caps counts and bulk lengths. */
  authRequired: boolean;
}

/**
 * Parses one command at a time from `buf[pos, end)`. After `Command`, `argc`,
 * `argStart`, `argLen` describe the arguments and `pos` is past the command.
 * A partially received multibulk keeps its progress between calls so that a
 * 512 MB bulk is not rescanned on every read.
 */
export class RespParser {
  argc = 0;
  argStart = new Int32Array(64);
  argLen = new Int32Array(64);
  error = '';
  /** Bytes still expected by the bulk currently being read (to size the buffer). */
  pendingBulkBytes = 0;
  /** Whether the last command came in the inline form (observable by the parser's tests). */
  inline = false;

  private multibulkLen = 0; // arguments still to read of the current multibulk
  private bulkLen = -1; // length of the bulk being read, -1 when reading its header
  private commandStart = -1;

  reset(): void {
    this.multibulkLen = 0;
    this.bulkLen = -1;
    this.argc = 0;
    this.commandStart = -1;
    this.pendingBulkBytes = 0;
  }

  /** Where the command in progress started (to keep its bytes when compacting). */
  get partialStart(): number {
    return this.commandStart;
  }

  /** The buffer was compacted: offsets of the partial command move by -delta. */
  rebase(delta: number): void {
    for (let i = 0; i < this.argc; i++) this.argStart[i] -= delta;
    if (this.commandStart >= 0) this.commandStart -= delta;
  }

  parse(buf: Uint8Array, pos: number, end: number, limits: ParserLimits): { status: ParseStatus; pos: number } {
    if (this.multibulkLen === 0) {
      if (pos >= end) return this.done(ParseStatus.Incomplete, pos);
      this.argc = 0;
      this.commandStart = pos;
      if (buf[pos] !== 42 /* '*' */) return this.parseInline(buf, pos, end);
      this.inline = false;
      const nl = indexOfByte(buf, CR, pos, end);
      if (nl < 0) {
        if (end - pos > PROTO_INLINE_MAX_SIZE) return this.fail('Protocol error: too big mbulk count string', pos);
        return this.done(ParseStatus.Incomplete, pos);
      }
      if (nl + 1 >= end) return this.done(ParseStatus.Incomplete, pos);
      const ll = parseLongLong(buf, pos + 1, nl);
      if (ll === null || ll > INT_MAX) return this.fail('Protocol error: invalid multibulk length', pos);
      if (ll > 10 && limits.authRequired) return this.fail('Protocol error: unauthenticated multibulk length', pos);
      pos = nl + 2;
      if (ll <= 0) {
        this.commandStart = -1;
        return this.done(ParseStatus.Empty, pos);
      }
      this.multibulkLen = ll;
      this.bulkLen = -1;
      if (this.argStart.length < ll) this.growArgs(Math.min(ll, 1024 * 1024));
    }
    while (this.multibulkLen > 0) {
      if (this.bulkLen === -1) {
        const nl = indexOfByte(buf, CR, pos, end);
        if (nl < 0) {
          if (end - pos > PROTO_INLINE_MAX_SIZE) return this.fail('Protocol error: too big bulk count string', pos);
          break;
        }
        if (nl + 1 >= end) break;
        if (buf[pos] !== 36 /* '$' */) {
          return this.fail(`Protocol error: expected '$', got '${String.fromCharCode(buf[pos])}'`, pos);
        }
        const ll = parseLongLong(buf, pos + 1, nl);
        if (ll === null || ll < 0 || ll > limits.protoMaxBulkLen) return this.fail('Protocol error: invalid bulk length', pos);
        if (ll > 16384 && limits.authRequired) return this.fail('Protocol error: unauthenticated bulk length', pos);
        pos = nl + 2;
        this.bulkLen = ll;
      }
      if (end - pos < this.bulkLen + 2) {
        this.pendingBulkBytes = this.bulkLen + 2 - (end - pos);
        break;
      }
      if (this.argc === this.argStart.length) this.growArgs(this.argc * 2);
      this.argStart[this.argc] = pos;
      this.argLen[this.argc] = this.bulkLen;
      this.argc++;
      // Like Redis, the two bytes after a bulk are skipped, not checked.
      pos += this.bulkLen + 2;
      this.bulkLen = -1;
      this.multibulkLen--;
    }
    this.pendingBulkBytes = this.multibulkLen > 0 && this.bulkLen >= 0 ? this.pendingBulkBytes : 0;
    if (this.multibulkLen === 0) {
      this.commandStart = -1;
      return this.done(ParseStatus.Command, pos);
    }
    return this.done(ParseStatus.Incomplete, pos);
  }

  private readonly result = { status: ParseStatus.Incomplete as ParseStatus, pos: 0 };

  private done(status: ParseStatus, pos: number): { status: ParseStatus; pos: number } {
    this.result.status = status;
    this.result.pos = pos;
    return this.result;
  }

  private fail(message: string, pos: number): { status: ParseStatus; pos: number } {
    this.error = message;
    this.reset();
    return this.done(ParseStatus.ProtocolError, pos);
  }

  /** Takes a command parsed elsewhere (server/batch-prefetch.ts): its positions, as a parse would leave them. */
  loadArgs(starts: Int32Array, lengths: Int32Array, from: number, argc: number): void {
    if (argc > this.argStart.length) this.growArgs(argc);
    const argStart = this.argStart;
    const argLen = this.argLen;
    for (let i = 0; i < argc; i++) {
      argStart[i] = starts[from + i];
      argLen[i] = lengths[from + i];
    }
    this.argc = argc;
  }

  private growArgs(n: number): void {
    const s = new Int32Array(n);
    const l = new Int32Array(n);
    s.set(this.argStart.subarray(0, Math.min(this.argc, n)));
    l.set(this.argLen.subarray(0, Math.min(this.argc, n)));
    this.argStart = s;
    this.argLen = l;
  }

  /**
   * Inline commands: split like sdssplitargs (quotes, \xHH escapes). The
   * arguments are unescaped in place in `buf`, which belongs to the
   * connection, so they can still be described by offsets.
   */
  private parseInline(buf: Uint8Array, pos: number, end: number): { status: ParseStatus; pos: number } {
    this.inline = true;
    let nl = indexOfByte(buf, LF, pos, end);
    if (nl < 0) {
      if (end - pos > PROTO_INLINE_MAX_SIZE) return this.fail('Protocol error: too big inline request', pos);
      return this.done(ParseStatus.Incomplete, pos);
    }
    const next = nl + 1;
    if (nl > pos && buf[nl - 1] === CR) nl--;
    if (!splitInlineArgs(buf, pos, nl, this)) return this.fail('Protocol error: unbalanced quotes in request', pos);
    this.commandStart = -1;
    return this.done(this.argc === 0 ? ParseStatus.Empty : ParseStatus.Command, next);
  }

  pushArg(start: number, len: number): void {
    if (this.argc === this.argStart.length) this.growArgs(this.argc * 2);
    this.argStart[this.argc] = start;
    this.argLen[this.argc] = len;
    this.argc++;
  }
}

/** A plain loop: for the short scans of request lines it is ~5x faster than Buffer.indexOf's native call. */
export function indexOfByte(buf: Uint8Array, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === byte) return i;
  return -1;
}

/** Redis's string2ll: optional '-', digits, no leading zeros or '+', fits in int64. */
export function parseLongLong(buf: Uint8Array, start: number, end: number): number | null {
  const len = end - start;
  if (len <= 0 || len > 20) return null;
  if (len === 1 && buf[start] === 48) return 0;
  let i = start;
  let negative = false;
  if (buf[i] === 45) {
    negative = true;
    i++;
    if (i === end) return null;
  }
  if (buf[i] < 49 || buf[i] > 57) return null;
  const first = i;
  let v = 0;
  for (; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  // A double cannot tell 9223372036854775807 from ...808 or -...809, so the
  // int64 range check compares the digits themselves, as string2ll's overflow
  // checks would reject them.
  const digits = end - first;
  if (digits > 19) return null;
  if (digits === 19) {
    const limit = negative ? INT64_MIN_DIGITS : INT64_MAX_DIGITS;
    for (let k = 0; k < 19; k++) {
      const d = buf[first + k];
      const l = limit.charCodeAt(k);
      if (d !== l) {
        if (d > l) return null;
        break;
      }
    }
  }
  // Past 15 digits, v * 10 + d rounds at every step; parse the text once so
  // the result is the double nearest the integer.
  if (digits > 15) v = Number(String.fromCharCode(...buf.subarray(first, end)));
  return negative ? -v : v;
}

const INT64_MAX_DIGITS = '9223372036854775807';
const INT64_MIN_DIGITS = '9223372036854775808';

function isSpace(c: number): boolean {
  // isspace() in the C locale.
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * What ends an unquoted argument in sdssplitargs: only ' ', '\n', '\r' and
 * '\t', not every isspace() byte, so "a\vb" stays one argument as in Redis.
 */
function endsUnquotedArg(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * sdssplitargs from Redis's sds.c, unescaping into buf itself (output never
 * runs ahead of input). Returns false on unbalanced quotes.
 */
export function splitInlineArgs(buf: Uint8Array, start: number, end: number, out: RespParser): boolean {
  let p = start;
  out.argc = 0;
  for (;;) {
    while (p < end && isSpace(buf[p])) p++;
    if (p >= end) return true;
    let inDq = false;
    let inSq = false;
    let done = false;
    const argStart = p;
    let w = p;
    while (!done) {
      const c = p < end ? buf[p] : 0;
      if (inDq) {
        if (p >= end) return false;
        if (c === 92 && p + 3 < end && buf[p + 1] === 120 && hexValue(buf[p + 2]) >= 0 && hexValue(buf[p + 3]) >= 0) {
          buf[w++] = hexValue(buf[p + 2]) * 16 + hexValue(buf[p + 3]);
          p += 3;
        } else if (c === 92 && p + 1 < end) {
          p++;
          const e = buf[p];
          buf[w++] = e === 110 ? 10 : e === 114 ? 13 : e === 116 ? 9 : e === 98 ? 8 : e === 97 ? 7 : e;
        } else if (c === 34) {
          // A closing quote must be followed by a space or nothing.
          if (p + 1 < end && !isSpace(buf[p + 1])) return false;
          done = true;
        } else {
          buf[w++] = c;
        }
      } else if (inSq) {
        if (p >= end) return false;
        if (c === 92 && p + 1 < end && buf[p + 1] === 39) {
          p++;
          buf[w++] = 39;
        } else if (c === 39) {
          if (p + 1 < end && !isSpace(buf[p + 1])) return false;
          done = true;
        } else {
          buf[w++] = c;
        }
      } else if (p >= end || endsUnquotedArg(c)) {
        done = true;
      } else if (c === 34) {
        inDq = true;
      } else if (c === 39) {
        inSq = true;
      } else {
        buf[w++] = c;
      }
      if (p < end) p++;
    }
    out.pushArg(argStart, w - argStart);
  }
}
