/**
 * The benchmark's own RESP2/RESP3 reading: native-free-bench is a client and
 * imports nothing of the server (DESIGN.md).
 *
 * The hot path never builds reply objects: `scanReply` only finds where a
 * reply ends, and the caller looks at its first bytes (error? bulk length?),
 * because that is all the benchmark needs (memtier counts a GET hit as a bulk
 * of length > 0). Control replies such as CLUSTER SLOTS are rare and go
 * through `parseReply`, which builds values.
 */

export type Reply = string | number | bigint | boolean | null | Buffer | RespError | Reply[];

export class RespError {
  constructor(readonly message: string) {}
}

const CR = 13;

/** Index of the '\r' ending the line that starts at pos, or -1 when the line (and its '\n') is not all there. */
function lineEnd(buf: Buffer, pos: number, end: number): number {
  for (let i = pos; i < end; i++) {
    if (buf[i] === CR) return i + 1 < end ? i : -1;
  }
  return -1;
}

/** The signed decimal integer in buf[from, to). */
export function parseIntAt(buf: Buffer, from: number, to: number): number {
  let neg = false;
  let i = from;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
  }
  let n = 0;
  for (; i < to; i++) n = n * 10 + (buf[i] - 48);
  return neg ? -n : n;
}

/**
 * Where the reply starting at pos ends (the index after its last byte), or
 * -1 if buf holds only part of it. Throws on a byte that starts no RESP type.
 */
export function scanReply(buf: Buffer, pos: number, end = buf.length): number {
  if (pos >= end) return -1;
  const type = buf[pos];
  const cr = lineEnd(buf, pos + 1, end);
  if (cr < 0) return -1;
  const after = cr + 2;
  switch (type) {
    case 0x2b: // + simple string
    case 0x2d: // - error
    case 0x3a: // : integer
    case 0x5f: // _ null
    case 0x2c: // , double
    case 0x23: // # boolean
    case 0x28: // ( big number
      return after;
    case 0x24: // $ bulk
    case 0x3d: // = verbatim
    case 0x21: { // ! blob error
      const n = parseIntAt(buf, pos + 1, cr);
      if (n < 0) return after;
      return after + n + 2 <= end ? after + n + 2 : -1;
    }
    case 0x2a: // * array
    case 0x7e: // ~ set
    case 0x3e: // > push
    case 0x25: // % map
    case 0x7c: { // | attribute
      let n = parseIntAt(buf, pos + 1, cr);
      if (n < 0) return after;
      if (type === 0x25 || type === 0x7c) n *= 2;
      let p = after;
      for (let i = 0; i < n; i++) {
        p = scanReply(buf, p, end);
        if (p < 0) return -1;
      }
      return p;
    }
    default:
      throw new Error(`bad RESP type byte 0x${type.toString(16)} in reply ${JSON.stringify(buf.toString('latin1', pos, Math.min(end, pos + 40)))}`);
  }
}

/** Whether the (complete) reply at pos is an error reply ('-' or RESP3 '!'). */
export function isErrorReply(buf: Buffer, pos: number): boolean {
  return buf[pos] === 0x2d || buf[pos] === 0x21;
}

/** The text of the error reply at pos (complete, ending before end). */
export function errorText(buf: Buffer, pos: number, end: number): string {
  const cr = lineEnd(buf, pos + 1, end);
  if (buf[pos] === 0x2d) return buf.toString('latin1', pos + 1, cr);
  return buf.toString('latin1', cr + 2, end - 2);
}

/**
 * Whether the complete reply at pos counts as a GET hit: memtier counts a
 * bulk of length > 0 as a hit, and a null ($-1 or RESP3 _) or empty bulk as
 * a miss.
 */
export function isHit(buf: Buffer, pos: number): boolean {
  const type = buf[pos];
  if (type !== 0x24 && type !== 0x3d) return false;
  // "$0" and "$-1" are misses; any other length is at least one digit other than 0.
  const first = buf[pos + 1];
  return first !== 0x2d && !(first === 0x30 && buf[pos + 2] === CR);
}

/** Builds the value of the complete reply at pos (for rare control replies such as CLUSTER SLOTS). */
export function parseReply(buf: Buffer, pos: number): Reply {
  return new ReplyParser(buf, pos).parse();
}

class ReplyParser {
  constructor(private readonly buf: Buffer, private pos: number) {}

  private line(): string {
    const cr = lineEnd(this.buf, this.pos, this.buf.length);
    if (cr < 0) throw new Error('parseReply: incomplete reply');
    const s = this.buf.toString('latin1', this.pos, cr);
    this.pos = cr + 2;
    return s;
  }

  private blob(n: number): Buffer {
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n + 2;
    return b;
  }

  parse(): Reply {
    const type = this.buf[this.pos++];
    const head = this.line();
    switch (type) {
      case 0x2b: return head;
      case 0x2d: return new RespError(head);
      case 0x21: return new RespError(this.blob(Number(head)).toString());
      case 0x3a: return Number(head);
      case 0x28: return BigInt(head);
      case 0x2c: return Number(head);
      case 0x23: return head === 't';
      case 0x5f: return null;
      case 0x24:
      case 0x3d: {
        const n = Number(head);
        return n < 0 ? null : this.blob(n);
      }
      case 0x2a: case 0x7e: case 0x3e: case 0x25: case 0x7c: {
        let n = Number(head);
        if (n < 0) return null;
        if (type === 0x25 || type === 0x7c) n *= 2;
        const out: Reply[] = [];
        for (let i = 0; i < n; i++) out.push(this.parse());
        return out;
      }
      default:
        throw new Error(`bad RESP type byte 0x${type.toString(16)}`);
    }
  }
}

/** Encodes one command as a RESP multibulk (for setup and control commands; data requests use command templates). */
export function encodeCommand(args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}
