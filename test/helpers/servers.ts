/**
 * Test helpers: start weft and real redis-server processes on free loopback
 * ports, talk raw RESP to them, and compare their replies byte for byte.
 * Every process started here is stopped by its PID in teardown.
 */
import net from 'node:net';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NODE = process.execPath;

export interface ServerHandle {
  port: number;
  pid: number;
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix = 'weft-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

async function startProcess(cmd: string, args: string[], ready: RegExp, port: number, cwd?: string): Promise<ServerHandle> {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start in 20 s:\n${out}`)), 20000);
    const check = () => {
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', check);
    proc.stderr!.on('data', check);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code} before it was ready:\n${out}`));
    });
  });
  proc.removeAllListeners('exit');
  const handle: ServerHandle = {
    port,
    pid: proc.pid!,
    proc,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const kill = setTimeout(() => {
          try {
            process.kill(proc.pid!, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }, 5000);
        proc.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        try {
          process.kill(proc.pid!, 'SIGTERM');
        } catch {
          clearTimeout(kill);
          resolve();
        }
      }),
  };
  return handle;
}

/** Starts weft-server from dist/ with extra `--name value` arguments. */
export async function startWeft(args: string[] = [], opts: { threads?: number; configFile?: string } = {}): Promise<ServerHandle> {
  const port = await freePort();
  const argv = [path.join(ROOT, 'dist', 'server', 'main.js')];
  if (opts.configFile) argv.push(opts.configFile);
  argv.push('--port', String(port), '--bind', '127.0.0.1', '--threads', String(opts.threads ?? 2), ...args);
  return startProcess(NODE, argv, /Ready to accept connections/, port);
}

export function haveRedisServer(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

/** Starts a real redis-server (Debian's) with no persistence. */
export async function startRedis(args: string[] = []): Promise<ServerHandle> {
  const port = await freePort();
  const dir = tempDir('weft-redis-');
  return startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, ...args], /Ready to accept connections/, port);
}

/** Encodes a command as a RESP multibulk. */
export function encodeCommand(args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Length of the first complete RESP2/RESP3 reply in buf from pos, or -1. */
export function replyLength(buf: Buffer, pos = 0): number {
  if (pos >= buf.length) return -1;
  const nl = buf.indexOf('\r\n', pos);
  if (nl < 0) return -1;
  const type = String.fromCharCode(buf[pos]);
  const head = buf.subarray(pos + 1, nl).toString();
  const after = nl + 2;
  switch (type) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
      return after - pos;
    case '$': case '=': case '!': {
      const n = Number(head);
      if (n < 0) return after - pos;
      return buf.length >= after + n + 2 ? after + n + 2 - pos : -1;
    }
    case '*': case '~': case '>': case '%': case '|': {
      let n = Number(head);
      if (n < 0) return after - pos;
      if (type === '%' || type === '|') n *= 2;
      let p = after;
      for (let i = 0; i < n; i++) {
        const l = replyLength(buf, p);
        if (l < 0) return -1;
        p += l;
      }
      return p - pos;
    }
    default:
      throw new Error(`bad RESP type byte ${JSON.stringify(type)} in ${JSON.stringify(buf.subarray(pos, pos + 40).toString())}`);
  }
}

/** A raw RESP connection: send bytes, read whole replies as bytes. */
export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Reads one complete reply (raw bytes); rejects after timeoutMs. */
  async reply(timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = replyLength(this.buf);
      if (n >= 0) {
        const r = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
        return r;
      }
      if (this.closed) throw new Error(`connection closed; pending bytes ${JSON.stringify(this.buf.toString())}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms; pending ${JSON.stringify(this.buf.toString())}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async command(...args: (string | Buffer)[]): Promise<Buffer> {
    this.write(encodeCommand(args));
    return this.reply();
  }

  /** Sends every command at once and reads the replies in order. */
  async pipeline(cmds: (string | Buffer)[][], timeoutMs = 10000): Promise<Buffer[]> {
    this.write(Buffer.concat(cmds.map((cmd) => encodeCommand(cmd))));
    const out: Buffer[] = [];
    for (let i = 0; i < cmds.length; i++) out.push(await this.reply(timeoutMs));
    return out;
  }

  /** Waits until the server closes the connection; returns what else it sent. */
  async closedWith(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.buf.toString('latin1');
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A command script entry: the command, or a raw byte string to send as is. */
export type ScriptStep = (string | Buffer)[];

/**
 * Sends the same commands to two servers (each on its own connection) and
 * returns every step whose reply bytes differ. Replies must match exactly,
 * except where `normalise` maps both sides first (e.g. TTL drift).
 */
export async function compareScripts(
  a: RawClient, b: RawClient, steps: ScriptStep[], normalise?: (step: ScriptStep, reply: string) => string,
): Promise<{ step: string; weft: string; redis: string }[]> {
  const diffs: { step: string; weft: string; redis: string }[] = [];
  for (const step of steps) {
    const [ra, rb] = await Promise.all([a.command(...step), b.command(...step)]);
    let sa = ra.toString('latin1');
    let sb = rb.toString('latin1');
    if (normalise) {
      sa = normalise(step, sa);
      sb = normalise(step, sb);
    }
    if (sa !== sb) diffs.push({ step: step.map(String).join(' '), weft: sa, redis: sb });
  }
  return diffs;
}

/**
 * Whether the real Redis tools are here. Without them a local run skips the
 * differential and interop tests (saying how to get them), but under CI
 * (CI=true, where .ci/run installs them) their absence fails the run.
 */
export function requireRedisTools(t: { skip: (msg: string) => void; fail: (msg: string) => void }): boolean {
  const tools = ['redis-server', 'redis-cli', 'redis-benchmark'];
  const missing = tools.filter((tool) => spawnSync(tool, ['--version']).status !== 0);
  if (missing.length === 0) return true;
  const msg = `${missing.join(', ')} not installed: apt-get install redis-server redis-tools to run these tests`;
  if (process.env.CI) t.fail(msg);
  else t.skip(msg);
  return false;
}
