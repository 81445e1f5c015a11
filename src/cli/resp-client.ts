/**
 * A minimal RESP2 client for weft's command-line tools: one connection,
 * commands answered in order, replies decoded to plain values.
 */
import net from 'node:net';

export type Reply = string | number | null | Reply[] | RespError;

export class RespError extends Error {}

/** Decodes one reply at buf[pos]; returns [value, next] or null when incomplete. */
function decode(buf: Buffer, pos: number): [Reply, number] | null {
  const nl = buf.indexOf('\r\n', pos);
  if (nl < 0) return null;
  const line = buf.toString('utf8', pos + 1, nl);
  const next = nl + 2;
  switch (String.fromCharCode(buf[pos])) {
    case '+':
      return [line, next];
    case '-':
      return [new RespError(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const n = Number(line);
      if (n < 0) return [null, next];
      if (buf.length < next + n + 2) return null;
      return [buf.toString('utf8', next, next + n), next + n + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const items: Reply[] = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = decode(buf, p);
        if (r === null) return null;
        items.push(r[0]);
        p = r[1];
      }
      return [items, p];
    }
    default:
      throw new Error(`unexpected reply byte ${JSON.stringify(String.fromCharCode(buf[pos]))}`);
  }
}

export class RespClient {
  private buf = Buffer.alloc(0);
  private readonly waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private closedError: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const r = this.waiting.length ? decode(this.buf, 0) : null;
        if (r === null) break;
        this.buf = this.buf.subarray(r[1]);
        this.waiting.shift()!.resolve(r[0]);
      }
    });
    const fail = (e: Error) => {
      this.closedError = e;
      while (this.waiting.length) this.waiting.shift()!.reject(e);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static connect(port: number, host = '127.0.0.1', timeoutMs = 2000): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RespClient(socket));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  command(...args: (string | number)[]): Promise<Reply> {
    if (this.closedError) return Promise.reject(this.closedError);
    const parts = args.map(String);
    this.socket.write(`*${parts.length}\r\n${parts.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** A command whose error reply becomes a thrown RespError. */
  async call(...args: (string | number)[]): Promise<Reply> {
    const r = await this.command(...args);
    if (r instanceof RespError) throw r;
    return r;
  }

  close(): void {
    this.socket.destroy();
  }
}
