/**
 * Command-line flags, with memtier_benchmark's names, meanings and defaults:
 * 4 threads × 50 clients, 10000 requests per client, ratio 1:10, 32-byte
 * values, keys memtier-0 … memtier-10000000 picked at random (R:R).
 */
import { parseArgs } from 'node:util';

export interface BenchConfig {
  host: string;
  port: number;
  cluster: boolean;
  threads: number;
  clients: number;
  pipeline: number;
  /** Requests per client (memtier's -n); 0 when --test-time is used instead. */
  requests: number;
  /** Seconds; 0 when -n bounds the run. */
  testTime: number;
  setRatio: number;
  getRatio: number;
  dataSize: number;
  keyPrefix: string;
  keyMin: number;
  keyMax: number;
  setPattern: 'R' | 'S';
  getPattern: 'R' | 'S';
  hideHistogram: boolean;
  jsonOut: string | undefined;
  protocol: 'resp2' | 'resp3';
}

export const USAGE = `Usage: weft-bench [options]
  -s, --server HOST        server address (default 127.0.0.1)
  -p, --port PORT          server port (default 6379)
      --cluster-mode       route by CLUSTER SLOTS, follow MOVED
  -t, --threads N          worker threads (default 4)
  -c, --clients N          clients per thread (default 50)
      --pipeline N         requests in flight per connection (default 1)
  -n, --requests N         requests per client (default 10000)
      --test-time SECS     run for SECS instead of -n
      --ratio SET:GET      set:get ratio (default 1:10)
  -d, --data-size BYTES    value size (default 32)
      --key-prefix STR     (default memtier-)
      --key-minimum N      (default 0)
      --key-maximum N      (default 10000000)
      --key-pattern S:G    R (random) or S (sequential) for sets:gets (default R:R)
      --hide-histogram     do not print the latency histogram
      --json-out-file FILE write the results as JSON
      --protocol resp2|resp3  (default resp2)
`;

function int(name: string, v: string | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

export function parseConfig(argv: string[]): BenchConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      server: { type: 'string', short: 's' },
      port: { type: 'string', short: 'p' },
      'cluster-mode': { type: 'boolean' },
      threads: { type: 'string', short: 't' },
      clients: { type: 'string', short: 'c' },
      pipeline: { type: 'string' },
      requests: { type: 'string', short: 'n' },
      'test-time': { type: 'string' },
      ratio: { type: 'string' },
      'data-size': { type: 'string', short: 'd' },
      'key-prefix': { type: 'string' },
      'key-minimum': { type: 'string' },
      'key-maximum': { type: 'string' },
      'key-pattern': { type: 'string' },
      'hide-histogram': { type: 'boolean' },
      'json-out-file': { type: 'string' },
      protocol: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const ratio = /^(\d+):(\d+)$/.exec(values.ratio ?? '1:10');
  if (!ratio || Number(ratio[1]) + Number(ratio[2]) === 0) throw new Error(`--ratio: expected SET:GET, got ${values.ratio}`);
  const pattern = /^([RS]):([RS])$/.exec(values['key-pattern'] ?? 'R:R');
  if (!pattern) throw new Error(`--key-pattern: only R and S are supported, got ${values['key-pattern']}`);
  const protocol = values.protocol ?? 'resp2';
  if (protocol !== 'resp2' && protocol !== 'resp3') throw new Error(`--protocol: resp2 or resp3, got ${protocol}`);
  const testTime = int('test-time', values['test-time'], 0, 1);
  // As in memtier, --test-time replaces the request count.
  const requests = testTime > 0 && values.requests === undefined ? 0 : int('requests', values.requests, 10000, 1);
  const keyMin = int('key-minimum', values['key-minimum'], 0, 0);
  const keyMax = int('key-maximum', values['key-maximum'], 10000000, keyMin);
  return {
    host: values.server ?? '127.0.0.1',
    port: int('port', values.port, 6379, 1),
    cluster: values['cluster-mode'] ?? false,
    threads: int('threads', values.threads, 4, 1),
    clients: int('clients', values.clients, 50, 1),
    pipeline: int('pipeline', values.pipeline, 1, 1),
    requests,
    testTime: requests > 0 ? 0 : testTime,
    setRatio: Number(ratio[1]),
    getRatio: Number(ratio[2]),
    dataSize: int('data-size', values['data-size'], 32, 1),
    keyPrefix: values['key-prefix'] ?? 'memtier-',
    keyMin,
    keyMax,
    setPattern: pattern[1] as 'R' | 'S',
    getPattern: pattern[2] as 'R' | 'S',
    hideHistogram: values['hide-histogram'] ?? false,
    jsonOut: values['json-out-file'],
    protocol,
  };
}
