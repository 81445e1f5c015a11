/**
 * A small RESP2/RESP3 codec of the benchmark's own: native-free-bench is a
 * client and imports nothing of the server (DESIGN.md). Bulk strings come
 * back as Buffer views into the read buffer, without a copy, because the
 * benchmark only looks at their length (memtier counts a GET hit as a bulk
 * of length > 0).
 */

export type Reply = string | number | bigint | boolean | null | Buffer | RespError | Reply[];

export class RespError {
  constructor(readonly message: string) {}
}

/** Encodes one command as a RESP multibulk, the only request form servers must accept. */
export function encodeCommand(args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Thrown inside the parser when the buffer ends before the reply does. */
const INCOMPLETE = Symbol('incomplete');

/** Incremental decoder: feed socket chunks, take whole replies with their byte length. */
export class Decoder {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;

  feed(chunk: Buffer): void {
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
  }

  /** The next complete reply and how many bytes it took, or undefined if more bytes are needed. */
  next(): { value: Reply; bytes: number } | undefined {
    const start = this.pos;
    try {
      const value = this.parse();
      return { value, bytes: this.pos - start };
    } catch (e) {
      if (e === INCOMPLETE) {
        this.pos = start;
        return undefined;
      }
      throw e;
    }
  }

  private line(): string {
    const nl = this.buf.indexOf(13, this.pos);
    if (nl < 0 || nl + 1 >= this.buf.length) throw INCOMPLETE;
    const s = this.buf.toString('latin1', this.pos, nl);
    this.pos = nl + 2;
    return s;
  }

  private parse(): Reply {
    if (this.pos >= this.buf.length) throw INCOMPLETE;
    const type = this.buf[this.pos++];
    const head = this.line();
    switch (type) {
      case 0x2b: // '+' simple string
        return head;
      case 0x2d: // '-' error
      case 0x21: // '!' RESP3 blob error
        if (type === 0x21) return new RespError(this.blob(Number(head)).toString());
        return new RespError(head);
      case 0x3a: // ':' integer
        return Number(head);
      case 0x28: // '(' RESP3 big number
        return BigInt(head);
      case 0x2c: // ',' RESP3 double
        return Number(head);
      case 0x23: // '#' RESP3 boolean
        return head === 't';
      case 0x5f: // '_' RESP3 null
        return null;
      case 0x24: // '$' bulk string
      case 0x3d: { // '=' RESP3 verbatim string
        const n = Number(head);
        return n < 0 ? null : this.blob(n);
      }
      case 0x2a: // '*' array
      case 0x7e: // '~' RESP3 set
      case 0x3e: // '>' RESP3 push
      case 0x25: // '%' RESP3 map, flattened to key, value, ...
      case 0x7c: { // '|' RESP3 attribute; flattened like a map
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

  private blob(n: number): Buffer {
    if (this.pos + n + 2 > this.buf.length) throw INCOMPLETE;
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n + 2;
    return b;
  }
}
