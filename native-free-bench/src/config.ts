/**
 * Command-line flags, with memtier_benchmark's names, meanings and defaults:
 * 4 threads × 50 clients, 10000 requests per client, ratio 1:10, 32-byte
 * values, keys memtier-0 … memtier-10000000 picked at random (R:R), a
 * constant random seed, percentiles 50, 99 and 99.9. Flags memtier does not
 * have (--compare, --timeline, --request-timeout, --pipeline-batch) are
 * weft-bench's own.
 */
import { parseArgs } from 'node:util';
import type { KeyPattern } from './key-patterns.js';

export interface Target {
  host: string;
  port: number;
}

export interface CommandSpec {
  /** The command line as given to --command. */
  text: string;
  /** --command-ratio: times it is sent in a row (default 1). */
  ratio: number;
  /** --command-key-pattern (default R). */
  keyPattern: KeyPattern;
}

export interface BenchConfig {
  host: string;
  port: number;
  cluster: boolean;
  threads: number;
  clients: number;
  pipeline: number;
  /** --pipeline-batch: send --pipeline requests, then wait for all their replies (redis-benchmark's -P), instead of keeping --pipeline in flight (memtier). */
  pipelineBatch: boolean;
  /** --rate-limiting: requests per second each client sends at most (memtier's); 0 unlimited. */
  rateLimit: number;
  /** Requests per client (memtier's -n); 0 when --test-time is used instead. */
  requests: number;
  /** Seconds; 0 when -n bounds the run. */
  testTime: number;
  setRatio: number;
  getRatio: number;
  dataSize: number;
  /** --data-size-range: each value's size drawn in [min, max]; null for the fixed --data-size. */
  dataSizeRange: { min: number; max: number } | null;
  /** --expiry-range in seconds; max 0 (memtier's default 0-0) sends SET without expiry. */
  expiryRange: { min: number; max: number };
  keyPrefix: string;
  keyMin: number;
  keyMax: number;
  setPattern: KeyPattern;
  getPattern: KeyPattern;
  /** --key-stddev and --key-median; 0 means memtier's default (range / 6, middle of the range). */
  keyStddev: number;
  keyMedian: number;
  /** The random seed every client starts from (memtier: constant, or from the clock with --randomize). */
  seed: number;
  randomize: boolean;
  distinctClientSeed: boolean;
  /** --command list; empty for the default SET/GET workload. */
  commands: CommandSpec[];
  /** -a: AUTH [user] password on every new connection. */
  auth: { user: string | null; password: string } | null;
  selectDb: number | null;
  hideHistogram: boolean;
  jsonOut: string | undefined;
  /** memtier's --protocol: redis (no HELLO), resp2 (HELLO 2) or resp3 (HELLO 3). */
  protocol: 'redis' | 'resp2' | 'resp3';
  printPercentiles: number[];
  /** -x/--run-count: full runs (compare mode: rounds; 3 when not given). */
  runCount: number;
  /** --compare HOST:PORT: the second target, run in alternation with -s/-p. */
  compare: Target | null;
  /** --timeline FILE: per-second figures, CSV (.csv) or JSON (.json). */
  timeline: string | undefined;
  /** --request-timeout in ms; 0 waits for replies forever. */
  requestTimeoutMs: number;
}

export const USAGE = `Usage: weft-bench [options]
A memtier_benchmark-style load generator for Redis and Redis Cluster servers.
Flags have memtier's names, meanings and defaults unless marked (weft-bench).

Connection:
  -s, --server HOST          server address (default 127.0.0.1); --host is the same
  -p, --port PORT            server port (default 6379)
  -a, --authenticate CRED    AUTH on every new connection: PASSWORD, or USER:PASSWORD
                             (sent as AUTH USER PASSWORD)
      --select-db N          SELECT N on every new connection (not with --cluster-mode)
      --protocol P           redis (default: no HELLO), resp2 (HELLO 2) or resp3 (HELLO 3)
      --cluster-mode         route by CLUSTER SLOTS; MOVED counted and the slot map
                             refreshed; ASK counted and followed with ASKING
      --request-timeout MS   (weft-bench) a request unanswered for MS counts as a timeout
                             error and its connection is closed and reopened (default 0: wait)

Test:
  -t, --threads N            worker threads (default 4)
  -c, --clients N            clients per thread (default 50)
      --pipeline N           requests in flight per connection (default 1)
      --rate-limiting N      requests per second each client sends at most (default unlimited)
      --pipeline-batch       (weft-bench) pipeline as redis-benchmark -P does: send N
                             requests, wait for all N replies, send the next N
  -n, --requests N           requests per client (default 10000); errored requests count
      --test-time SECS       run for SECS instead of -n
      --ratio SET:GET        set:get ratio (default 1:10)
  -x, --run-count N          repeat the whole run N times: each run, then best, worst,
                             aggregated average and median (default 1)
      --randomize            random seed from the clock (default: constant seed)
      --distinct-client-seed each client its own seed (default: all clients the same)

Commands (replace the SET/GET workload):
      --command "CMD ARGS"   a command to send; __key__ is a generated key (text may
                             surround it), __data__ a generated value. Repeatable.
      --command-ratio N      times the preceding --command is sent in a row (default 1)
      --command-key-pattern P  key pattern of the preceding --command: R, S, G or P (default R)

Data and keys:
  -d, --data-size BYTES      value size (default 32)
      --data-size-range MIN-MAX  value sizes drawn in [MIN, MAX] for each value
      --expiry-range MIN-MAX seconds drawn in [MIN, MAX] for each SET, sent as SETEX
                             (default 0-0: no expiry)
      --key-prefix STR       (default memtier-)
      --key-minimum N        (default 0)
      --key-maximum N        (default 10000000)
      --key-pattern S:G      set:get patterns (default R:R): R random, S sequential,
                             G gaussian, P parallel (each client its own slice; P:P only)
      --key-stddev X         gaussian standard deviation (default: key range / 6)
      --key-median X         gaussian median (default: middle of the key range)

Output:
      --hide-histogram       do not print the latency distribution
      --print-percentiles L  latency percentiles in the table and JSON (default 50,99,99.9)
      --json-out-file FILE   write the results as JSON
      --timeline FILE        (weft-bench) per-second ops, successful ops, errors, p50 and
                             p99 latency; CSV if FILE ends in .csv, else JSON
      --compare HOST:PORT    (weft-bench) run the workload against -s/-p (A) and HOST:PORT
                             (B) in turns A, B, A, B... for --run-count rounds (default 3);
                             print each round's ops/sec and A/B ratios, then the medians.
                             Nothing is flushed between rounds.
  -h, --help
`;

function int(name: string, v: string | undefined, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
}

function positiveNumber(name: string, v: string | undefined): number {
  if (v === undefined) return 0;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new Error(`--${name}: expected a number > 0, got ${JSON.stringify(v)}`);
  return n;
}

function range(name: string, v: string, minLow: number): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(v);
  if (!m || Number(m[1]) < minLow || Number(m[2]) < Number(m[1])) throw new Error(`--${name}: expected MIN-MAX with ${minLow} <= MIN <= MAX, got ${JSON.stringify(v)}`);
  return { min: Number(m[1]), max: Number(m[2]) };
}

function keyPattern(name: string, v: string): KeyPattern {
  if (v !== 'R' && v !== 'S' && v !== 'G' && v !== 'P') throw new Error(`--${name}: R, S, G or P, got ${JSON.stringify(v)}`);
  return v;
}

export function parseTarget(name: string, v: string): Target {
  const m = /^(.*):(\d+)$/.exec(v);
  if (!m || m[1] === '') throw new Error(`--${name}: expected HOST:PORT, got ${JSON.stringify(v)}`);
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port: int(name, m[2], 0, 1, 65535) };
}

function percentiles(v: string): number[] {
  const list = v.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((p) => !Number.isFinite(p) || p < 0 || p > 100)) {
    throw new Error(`--print-percentiles: expected numbers in [0, 100] separated by commas, got ${JSON.stringify(v)}`);
  }
  return list;
}

export function parseConfig(argv: string[]): BenchConfig | 'help' {
  const { values, tokens } = parseArgs({
    args: argv,
    strict: true,
    tokens: true,
    options: {
      server: { type: 'string', short: 's' },
      host: { type: 'string' },
      port: { type: 'string', short: 'p' },
      authenticate: { type: 'string', short: 'a' },
      'select-db': { type: 'string' },
      'cluster-mode': { type: 'boolean' },
      threads: { type: 'string', short: 't' },
      clients: { type: 'string', short: 'c' },
      pipeline: { type: 'string' },
      'pipeline-batch': { type: 'boolean' },
      requests: { type: 'string', short: 'n' },
      'test-time': { type: 'string' },
      'rate-limiting': { type: 'string' },
      ratio: { type: 'string' },
      'run-count': { type: 'string', short: 'x' },
      randomize: { type: 'boolean' },
      'distinct-client-seed': { type: 'boolean' },
      command: { type: 'string', multiple: true },
      'command-ratio': { type: 'string', multiple: true },
      'command-key-pattern': { type: 'string', multiple: true },
      'data-size': { type: 'string', short: 'd' },
      'data-size-range': { type: 'string' },
      'expiry-range': { type: 'string' },
      'key-prefix': { type: 'string' },
      'key-minimum': { type: 'string' },
      'key-maximum': { type: 'string' },
      'key-pattern': { type: 'string' },
      'key-stddev': { type: 'string' },
      'key-median': { type: 'string' },
      'hide-histogram': { type: 'boolean' },
      'print-percentiles': { type: 'string' },
      'json-out-file': { type: 'string' },
      timeline: { type: 'string' },
      compare: { type: 'string' },
      'request-timeout': { type: 'string' },
      protocol: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';

  // --command-ratio and --command-key-pattern apply to the --command before them (memtier).
  const commands: CommandSpec[] = [];
  for (const tok of tokens ?? []) {
    if (tok.kind !== 'option' || tok.value === undefined) continue;
    if (tok.name === 'command') {
      commands.push({ text: tok.value, ratio: 1, keyPattern: 'R' });
    } else if (tok.name === 'command-ratio' || tok.name === 'command-key-pattern') {
      const last = commands.at(-1);
      if (!last) throw new Error(`--${tok.name}: no --command before it`);
      if (tok.name === 'command-ratio') last.ratio = int('command-ratio', tok.value, 1, 0);
      else last.keyPattern = keyPattern('command-key-pattern', tok.value);
    }
  }
  if (commands.length > 0 && commands.every((c) => c.ratio === 0)) throw new Error('--command-ratio: at least one command needs a ratio > 0');
  if (commands.length > 1 && commands[0].keyPattern === 'P' && commands.some((c) => c.keyPattern !== 'P')) {
    throw new Error('--command-key-pattern: the parallel pattern P must be given to every command');
  }

  const ratio = /^(\d+):(\d+)$/.exec(values.ratio ?? '1:10');
  if (!ratio || Number(ratio[1]) + Number(ratio[2]) === 0) throw new Error(`--ratio: expected SET:GET, got ${values.ratio}`);
  const pattern = /^([RSGP]):([RSGP])$/.exec(values['key-pattern'] ?? 'R:R');
  if (!pattern) throw new Error(`--key-pattern: expected SET:GET with each R, S, G or P, got ${values['key-pattern']}`);
  if ((pattern[1] === 'P' || pattern[2] === 'P') && pattern[1] !== pattern[2]) {
    // memtier's own rule and message.
    throw new Error('--key-pattern: parallel key-pattern must be configured for both SET and GET commands');
  }
  const protocol = values.protocol ?? 'redis';
  if (protocol !== 'redis' && protocol !== 'resp2' && protocol !== 'resp3') throw new Error(`--protocol: redis, resp2 or resp3, got ${protocol}`);
  const testTime = int('test-time', values['test-time'], 0, 1);
  // As in memtier, --test-time replaces the request count.
  const requests = testTime > 0 && values.requests === undefined ? 0 : int('requests', values.requests, 10000, 1);
  const keyMin = int('key-minimum', values['key-minimum'], 0, 0);
  const keyMax = int('key-maximum', values['key-maximum'], 10000000, keyMin);
  const cluster = values['cluster-mode'] ?? false;
  const selectDb = values['select-db'] === undefined ? null : int('select-db', values['select-db'], 0, 0);
  if (selectDb !== null && cluster) throw new Error('--select-db cannot be used with --cluster-mode');
  const randomize = values.randomize ?? false;
  let auth: BenchConfig['auth'] = null;
  if (values.authenticate !== undefined) {
    // memtier splits USER:PASSWORD at the first colon and sends AUTH USER PASSWORD.
    const colon = values.authenticate.indexOf(':');
    auth = colon < 0 ? { user: null, password: values.authenticate }
      : { user: values.authenticate.slice(0, colon), password: values.authenticate.slice(colon + 1) };
  }
  const compare = values.compare === undefined ? null : parseTarget('compare', values.compare);
  return {
    host: values.server ?? values.host ?? '127.0.0.1',
    port: int('port', values.port, 6379, 1, 65535),
    cluster,
    threads: int('threads', values.threads, 4, 1),
    clients: int('clients', values.clients, 50, 1),
    pipeline: int('pipeline', values.pipeline, 1, 1),
    pipelineBatch: values['pipeline-batch'] ?? false,
    rateLimit: values['rate-limiting'] === undefined ? 0 : int('rate-limiting', values['rate-limiting'], 0, 1),
    requests,
    testTime: requests > 0 ? 0 : testTime,
    setRatio: Number(ratio[1]),
    getRatio: Number(ratio[2]),
    dataSize: int('data-size', values['data-size'], 32, 1),
    dataSizeRange: values['data-size-range'] === undefined ? null : range('data-size-range', values['data-size-range'], 1),
    expiryRange: values['expiry-range'] === undefined ? { min: 0, max: 0 } : range('expiry-range', values['expiry-range'], 0),
    keyPrefix: values['key-prefix'] ?? 'memtier-',
    keyMin,
    keyMax,
    setPattern: pattern[1] as KeyPattern,
    getPattern: pattern[2] as KeyPattern,
    keyStddev: positiveNumber('key-stddev', values['key-stddev']),
    keyMedian: positiveNumber('key-median', values['key-median']),
    seed: randomize ? (Date.now() ^ (process.pid << 16)) >>> 0 : 0,
    randomize,
    distinctClientSeed: values['distinct-client-seed'] ?? false,
    commands,
    auth,
    selectDb,
    hideHistogram: values['hide-histogram'] ?? false,
    jsonOut: values['json-out-file'],
    protocol,
    printPercentiles: percentiles(values['print-percentiles'] ?? '50,99,99.9'),
    runCount: int('run-count', values['run-count'], compare ? 3 : 1, 1),
    compare,
    timeline: values.timeline,
    requestTimeoutMs: int('request-timeout', values['request-timeout'], 0, 0),
  };
}
