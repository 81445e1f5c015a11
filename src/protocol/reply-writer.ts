/**
 * Builds RESP2/RESP3 replies into one growable buffer per worker; a
 * connection's replies to one read are flushed in a single socket write.
 * Integers and short strings are written digit by digit / byte by byte, so a
 * reply costs no allocation until the flush.
 */

const MIN_CAPACITY = 64 * 1024;

export class ReplyWriter {
  buf: Buffer = Buffer.allocUnsafe(MIN_CAPACITY);
  len = 0;
  /** 2 or 3: RESP version of the connection being served. */
  resp = 2;

  reset(): void {
    this.len = 0;
  }

  /** Copies out what was written (the socket keeps the copy) and resets. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.len);
    this.buf.copy(out, 0, 0, this.len);
    this.len = 0;
    if (this.buf.length > 16 * MIN_CAPACITY) this.buf = Buffer.allocUnsafe(MIN_CAPACITY);
    return out;
  }

  ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const nb = Buffer.allocUnsafe(cap);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  private byte(b: number): void {
    this.buf[this.len++] = b;
  }

  private crlf(): void {
    this.buf[this.len++] = 13;
    this.buf[this.len++] = 10;
  }

  /** Writes the decimal digits of an integral number. */
  private digits(n: number): void {
    if (n < 0) {
      this.buf[this.len++] = 45;
      n = -n;
    }
    if (n < 10) {
      this.buf[this.len++] = 48 + n;
      return;
    }
    if (n >= 1e15) {
      this.len += this.buf.write(BigInt(n).toString(), this.len, 'latin1');
      return;
    }
    let d = 1;
    while (d * 10 <= n) d *= 10;
    while (d >= 1) {
      const q = Math.floor(n / d);
      this.buf[this.len++] = 48 + q;
      n -= q * d;
      d /= 10;
    }
  }

  private header(prefix: number, n: number): void {
    this.ensure(24);
    this.byte(prefix);
    this.digits(n);
    this.crlf();
  }

  /** `+text` (text must not contain CR or LF). */
  simple(text: string): void {
    this.ensure(text.length * 3 + 3);
    this.byte(43);
    this.len += this.buf.write(text, this.len, 'utf8');
    this.crlf();
  }

  ok(): void {
    this.ensure(5);
    this.buf[this.len++] = 43;
    this.buf[this.len++] = 79;
    this.buf[this.len++] = 75;
    this.crlf();
  }

  /**
   * An error reply. Like Redis's addReplyErrorLength, "-ERR " is prefixed
   * unless the text starts with its own code after '-', and newlines become
   * spaces so the reply stays one line. Error texts are latin1 strings: weft's
   * own are ASCII, and request bytes quoted in them (unknown command names,
   * bad options) go back to the client unchanged, as Redis copies them.
   */
  error(text: string): void {
    const safe = text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]/g, ' ') : text;
    this.ensure(safe.length * 3 + 8);
    if (safe.charCodeAt(0) === 45) {
      this.len += this.buf.write(safe, this.len, 'latin1');
    } else {
      this.len += this.buf.write('-ERR ', this.len, 'latin1');
      this.len += this.buf.write(safe, this.len, 'latin1');
    }
    this.crlf();
  }

  /** An error whose text already carries its code, e.g. "WRONGTYPE ...". */
  errorCode(text: string): void {
    this.error('-' + text);
  }

  integer(n: number): void {
    this.header(58, n);
  }

  bigInteger(n: bigint): void {
    const s = n.toString();
    this.ensure(s.length + 3);
    this.byte(58);
    this.len += this.buf.write(s, this.len, 'latin1');
    this.crlf();
  }

  /** Null bulk: `$-1` in RESP2, `_` in RESP3. */
  nullBulk(): void {
    this.ensure(5);
    if (this.resp === 3) {
      this.byte(95);
    } else {
      this.byte(36);
      this.byte(45);
      this.byte(49);
    }
    this.crlf();
  }

  /** Null array: `*-1` in RESP2, `_` in RESP3. */
  nullArray(): void {
    this.ensure(5);
    if (this.resp === 3) {
      this.byte(95);
    } else {
      this.byte(42);
      this.byte(45);
      this.byte(49);
    }
    this.crlf();
  }

  bulkBytes(src: Uint8Array, start: number, length: number): void {
    this.header(36, length);
    this.ensure(length + 2);
    const buf = this.buf;
    let p = this.len;
    if (length < 64) {
      // A loop beats creating a subarray view for the short values most replies carry.
      for (let i = 0; i < length; i++) buf[p++] = src[start + i];
    } else {
      buf.set(src.subarray(start, start + length), p);
      p += length;
    }
    buf[p++] = 13;
    buf[p++] = 10;
    this.len = p;
  }

  /** A bulk header whose payload the caller writes with `rawBytes` then `endBulk`. */
  bulkHeader(length: number): void {
    this.header(36, length);
    this.ensure(length + 2);
  }

  endBulk(): void {
    this.crlf();
  }

  bulkString(text: string): void {
    const n = Buffer.byteLength(text);
    this.header(36, n);
    this.ensure(n + 2);
    this.len += this.buf.write(text, this.len, 'utf8');
    this.crlf();
  }

  /** A bulk string of an integer's decimal form. */
  bulkInteger(n: number): void {
    this.bulkString(String(n));
  }

  arrayHeader(n: number): void {
    this.header(42, n);
  }

  /** `%n` in RESP3, `*2n` in RESP2. */
  mapHeader(pairs: number): void {
    if (this.resp === 3) this.header(37, pairs);
    else this.header(42, pairs * 2);
  }

  /** `~n` in RESP3, `*n` in RESP2. */
  setHeader(n: number): void {
    this.header(this.resp === 3 ? 126 : 42, n);
  }

  /** `>n` push header in RESP3, `*n` in RESP2. */
  pushHeader(n: number): void {
    this.header(this.resp === 3 ? 62 : 42, n);
  }

  /** A double: `,x` in RESP3, a bulk string in RESP2 (as Redis's addReplyDouble). */
  double(value: number, text: string): void {
    if (this.resp === 3) {
      const t = Number.isNaN(value) ? 'nan' : value === Infinity ? 'inf' : value === -Infinity ? '-inf' : text;
      this.ensure(t.length + 3);
      this.byte(44);
      this.len += this.buf.write(t, this.len, 'latin1');
      this.crlf();
    } else {
      this.bulkString(text);
    }
  }

  /** RESP3 boolean, or integer 1/0 in RESP2. */
  boolean(v: boolean): void {
    if (this.resp === 3) {
      this.ensure(4);
      this.byte(35);
      this.byte(v ? 116 : 102);
      this.crlf();
    } else {
      this.integer(v ? 1 : 0);
    }
  }

  /** RESP3 verbatim string (`=n txt:...`), or a bulk string in RESP2. */
  verbatim(text: string, format = 'txt'): void {
    if (this.resp !== 3) {
      this.bulkString(text);
      return;
    }
    const n = Buffer.byteLength(text) + 4;
    this.header(61, n);
    this.ensure(n + 2);
    this.len += this.buf.write(format + ':', this.len, 'latin1');
    this.len += this.buf.write(text, this.len, 'utf8');
    this.crlf();
  }

  /** Raw bytes, already in RESP form. */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  rawBytes(src: Uint8Array, start: number, length: number): void {
    this.ensure(length);
    this.buf.set(src.subarray(start, start + length), this.len);
    this.len += length;
  }

  /** Marks a point to roll back to (e.g. when a handler throws half-way). */
  mark(): number {
    return this.len;
  }

  rollback(to: number): void {
    this.len = to;
  }
}
