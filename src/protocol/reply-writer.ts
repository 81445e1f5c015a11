/**
 * Builds RESP2/RESP3 replies into one growable buffer per worker; a
 * connection's replies to one read are flushed in a single socket write.
 * Integers and short strings are written digit by digit / byte by byte, so a
 * reply costs no allocation until the flush.
 */

const MIN_CAPACITY = 64 * 1024;
/** Below this much room after a take, the next replies start a fresh buffer. */
const MIN_ROOM = 4 * 1024;
/** A buffer grown past this for a big reply is dropped once that reply is taken. */
const MAX_KEPT_CAPACITY = 16 * MIN_CAPACITY;

/** Integers up to this take the integer-arithmetic path of digits(). */
const INT31_MAX = 0x7fffffff;
/** '$', up to 20 length digits (and a sign), CRLF. */
const BULK_HEADER_MAX = 24;
/** Up to this length a word-wide copy beats a native one (which needs a subarray view). */
const WORD_COPY_MAX = 256;

function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

export class ReplyWriter {
  buf: Buffer = Buffer.allocUnsafe(MIN_CAPACITY);
  /** A view of `buf` for word-wide copies. */
  private view = viewOf(this.buf);
  /**
   * Bytes [start, len) are the replies not taken yet. What take() handed
   * out, before `start`, is never written again while a socket may still
   * hold it (see written()); a full buffer is replaced.
   */
  private start = 0;
  len = 0;
  /** take()s of this buffer not confirmed written(): while any is, the buffer is never rewound. */
  private unconfirmedTakes = 0;
  /** 2 or 3: RESP version of the connection being served. */
  resp = 2;

  /** Bytes written and not taken yet. */
  get pending(): number {
    return this.len - this.start;
  }

  reset(): void {
    this.len = this.start;
  }

  /**
   * Hands out what was written, without copying: a view of the buffer,
   * which later replies never overwrite. The socket keeps it.
   */
  take(): Buffer {
    const out = this.buf.subarray(this.start, this.len);
    this.start = this.len;
    this.unconfirmedTakes++;
    // Little room left, or a buffer grown for one big reply: the next replies go to a fresh one.
    if (this.buf.length - this.len < MIN_ROOM || this.buf.length > MAX_KEPT_CAPACITY) this.renew(0);
    return out;
  }

  /**
   * The socket wrote `taken` (what take() handed out) whole, synchronously:
   * nothing holds those bytes any more. Once every take of the buffer is
   * confirmed so and nothing is pending, the buffer is reused from its start
   * instead of being replaced: a connection answering pipelines allocates
   * nothing, and no dead reply buffers wait for the garbage collector.
   */
  written(taken: Uint8Array): void {
    if (taken.buffer !== this.buf.buffer) return;
    if (--this.unconfirmedTakes === 0 && this.start === this.len) this.start = this.len = 0;
  }

  ensure(extra: number): void {
    if (this.len + extra > this.buf.length) this.renew(extra);
  }

  /** Moves the pending bytes to a new buffer with room for `extra` more. */
  private renew(extra: number): void {
    const pending = this.len - this.start;
    let cap = MIN_CAPACITY;
    while (cap < pending + extra) cap *= 2;
    const nb = Buffer.allocUnsafe(cap);
    this.buf.copy(nb, 0, this.start, this.len);
    this.buf = nb;
    this.view = viewOf(nb);
    this.start = 0;
    this.len = pending;
    this.unconfirmedTakes = 0;
  }

  private byte(b: number): void {
    this.buf[this.len++] = b;
  }

  private crlf(): void {
    this.buf[this.len++] = 13;
    this.buf[this.len++] = 10;
  }

  /** Writes the decimal digits of an integral number (small ones with integer arithmetic, back to front). */
  private digits(n: number): void {
    const buf = this.buf;
    if (n < 0) {
      buf[this.len++] = 45;
      n = -n;
    }
    if (n < 10) {
      buf[this.len++] = 48 + n;
      return;
    }
    if (n <= INT31_MAX) {
      const width = n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7
        : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
      let p = this.len + width;
      this.len = p;
      do {
        const q = (n / 10) | 0;
        buf[--p] = 48 + n - q * 10;
        n = q;
      } while (n !== 0);
      return;
    }
    if (n >= 1e15) {
      this.len += buf.write(BigInt(n).toString(), this.len, 'latin1');
      return;
    }
    let d = 1;
    while (d * 10 <= n) d *= 10;
    while (d >= 1) {
      const q = Math.floor(n / d);
      buf[this.len++] = 48 + q;
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

  /**
   * A bulk string of src[start, start+length). A caller reading from a
   * shard passes the arena's DataView too: short values are then copied
   * eight bytes at a time (V8 keeps getBigUint64/setBigUint64 pairs as
   * plain 64-bit moves), about 2.5x faster than byte by byte.
   */
  bulkBytes(src: Uint8Array, start: number, length: number, srcView?: DataView): void {
    // One capacity check for the header, the bytes and the CRLF.
    this.ensure(length + BULK_HEADER_MAX + 2);
    this.buf[this.len++] = 36;
    this.digits(length);
    this.crlf();
    const buf = this.buf;
    let p = this.len;
    if (srcView !== undefined && length >= 8 && length <= WORD_COPY_MAX) {
      const view = this.view;
      let i = 0;
      for (; i + 8 <= length; i += 8) view.setBigUint64(p + i, srcView.getBigUint64(start + i, true), true);
      for (; i < length; i++) buf[p + i] = src[start + i];
      p += length;
    } else if (length < 64) {
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
    this.verbatimBytes(Buffer.from(text, 'utf8'), format);
  }

  /** RESP3 verbatim string of raw bytes with a three-letter format, or a bulk string in RESP2. */
  verbatimBytes(bytes: Uint8Array, format: string): void {
    if (this.resp !== 3) {
      this.bulkBytes(bytes, 0, bytes.length);
      return;
    }
    this.header(61, bytes.length + 4);
    this.ensure(bytes.length + 6);
    this.len += this.buf.write(format + ':', this.len, 'latin1');
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    this.crlf();
  }

  /** RESP3 big number (`(digits`) from its text. */
  bigNumberText(text: string): void {
    this.ensure(text.length + 3);
    this.byte(40);
    this.len += this.buf.write(text, this.len, 'latin1');
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

  /** Marks a point to roll back to (e.g. when a handler throws half-way); kept relative, as ensure may move the bytes. */
  mark(): number {
    return this.len - this.start;
  }

  /** Where in `buf` what was written since the mark begins. */
  markOffset(mark: number): number {
    return this.start + mark;
  }

  /** A copy of what was written since the mark, which is then dropped. */
  cut(from: number): Uint8Array {
    const bytes = Uint8Array.prototype.slice.call(this.buf, this.start + from, this.len);
    this.rollback(from);
    return bytes;
  }

  /** Drops what was written since the mark (never what take() handed out since). */
  rollback(to: number): void {
    this.len = Math.min(this.len, this.start + to);
  }
}
