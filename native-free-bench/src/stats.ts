/**
 * What one worker thread counts while it runs, and the plain-data form it
 * sends back to the main thread (histograms as HdrHistogram compressed
 * base64, which the main thread decodes and merges).
 *
 * Per results row (Sets, Gets or one per --command): requests answered, GET
 * hits and misses, MOVED, ASK, errors and bytes, and a latency histogram in
 * microseconds. Errors are error replies plus requests that got no reply:
 * lost with their connection, or timed out. Per second since the run's start
 * the timeline keeps the same counts and a histogram of its own.
 */
import * as hdr from 'hdr-histogram-js';

/** Latencies above this (60 s, in µs) are recorded as this. */
const MAX_LATENCY_US = 60_000_000;

export function newHistogram(digits: 2 | 3 = 3): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_LATENCY_US, numberOfSignificantValueDigits: digits, autoResize: false });
}

/** What a reply was, for the counters. */
export const enum Outcome {
  Ok,
  Hit,
  Miss,
  ErrorReply,
  Moved,
  Ask,
}

export interface RowResult {
  /** Requests answered by a server (error replies included, as memtier counts them). */
  ops: number;
  hits: number;
  misses: number;
  moved: number;
  ask: number;
  /** Error replies (not MOVED/ASK) + requests lost with their connection + timeouts. */
  errors: number;
  bytes: number;
  histogram: string;
}

export interface ErrorCounters {
  /** Error replies other than MOVED and ASK. */
  errorReplies: number;
  /** Connections that failed: refused, reset, closed by the server, or closed after a timeout. */
  connectionErrors: number;
  /** Requests unanswered after --request-timeout, or still unanswered when the run ended. */
  timeouts: number;
  /** Requests in flight on a connection that failed (and requests that found no node to go to). */
  lostRequests: number;
}

export interface SecondResult {
  /** Seconds since the run's start. */
  second: number;
  ops: number;
  ok: number;
  errors: number;
  moved: number;
  ask: number;
  timeouts: number;
  connectionErrors: number;
  /** Latencies of the replies that arrived in this second, or null if none did. */
  histogram: string | null;
}

export interface WorkerResult {
  rows: RowResult[];
  errors: ErrorCounters;
  timeline: SecondResult[];
  /** performance.timeOrigin-based time of the thread's last reply or failure. */
  endAbs: number;
}

class RowStats {
  ops = 0;
  hits = 0;
  misses = 0;
  moved = 0;
  ask = 0;
  errors = 0;
  bytes = 0;
  readonly hist = newHistogram();
  // Requests flushed together and answered in one read have the same latency:
  // they are recorded in one call.
  private runValue = 0;
  private runCount = 0;

  record(us: number): void {
    if (us === this.runValue) {
      this.runCount++;
      return;
    }
    this.flush();
    this.runValue = us;
    this.runCount = 1;
  }

  flush(): void {
    if (this.runCount > 0) this.hist.recordValueWithCount(this.runValue, this.runCount);
    this.runCount = 0;
  }

  result(): RowResult {
    this.flush();
    const { ops, hits, misses, moved, ask, errors, bytes } = this;
    return { ops, hits, misses, moved, ask, errors, bytes, histogram: hdr.encodeIntoCompressedBase64(this.hist) };
  }
}

/** Per-second counts of one thread. Times only move forward in a thread, so one open second at a time suffices. */
class TimelineRecorder {
  private readonly closed: SecondResult[] = [];
  private current: SecondResult;
  private readonly hist = newHistogram(2);

  constructor(
    /** performance.now() of the run's start in this thread. */
    private readonly startLocal: number,
    /** The last second a --test-time run has: later events (the drain after the deadline) are counted in it. */
    private readonly lastSecond: number,
  ) {
    this.current = this.empty(0);
  }

  private empty(second: number): SecondResult {
    return { second, ops: 0, ok: 0, errors: 0, moved: 0, ask: 0, timeouts: 0, connectionErrors: 0, histogram: null };
  }

  /** The open second for an event at `now`, closing the seconds before it. */
  at(now: number): SecondResult {
    const s = Math.min(this.lastSecond, Math.floor((now - this.startLocal) / 1000));
    if (s > this.current.second) {
      this.close();
      for (let gap = this.current.second + 1; gap < s; gap++) this.closed.push(this.empty(gap));
      this.current = this.empty(s);
    }
    return this.current;
  }

  recordLatency(us: number): void {
    this.hist.recordValue(us);
  }

  private close(): void {
    if (this.hist.totalCount > 0) {
      this.current.histogram = hdr.encodeIntoCompressedBase64(this.hist);
      this.hist.reset();
    }
    this.closed.push(this.current);
  }

  /** Every second up to the one holding `now`, the empty ones included. */
  result(now: number): SecondResult[] {
    this.at(now);
    this.close();
    this.current = this.empty(this.current.second + 1);
    return this.closed;
  }
}

export class ThreadStats {
  private readonly rows: RowStats[];
  readonly errors: ErrorCounters = { errorReplies: 0, connectionErrors: 0, timeouts: 0, lostRequests: 0 };
  private timeline: TimelineRecorder;
  /** performance.now() of the last reply or unanswered request. */
  lastEvent = 0;

  constructor(rowCount: number) {
    this.rows = Array.from({ length: rowCount }, () => new RowStats());
    this.timeline = new TimelineRecorder(performance.now(), Infinity);
  }

  /** The run starts at `startLocal` (performance.now() time); a --test-time run has seconds 0..lastSecond. */
  begin(startLocal: number, lastSecond: number): void {
    this.timeline = new TimelineRecorder(startLocal, lastSecond);
  }

  /** A reply to a request of `row`, sent at `start`, answered at `now`. */
  reply(row: number, outcome: Outcome, start: number, now: number, bytes: number): void {
    const r = this.rows[row];
    const sec = this.timeline.at(now);
    const us = Math.min(MAX_LATENCY_US, Math.max(1, Math.round((now - start) * 1000)));
    this.lastEvent = now;
    r.ops++;
    r.bytes += bytes;
    r.record(us);
    this.timeline.recordLatency(us);
    sec.ops++;
    switch (outcome) {
      case Outcome.Hit:
        r.hits++;
        sec.ok++;
        break;
      case Outcome.Miss:
        r.misses++;
        sec.ok++;
        break;
      case Outcome.Ok:
        sec.ok++;
        break;
      case Outcome.ErrorReply:
        r.errors++;
        sec.errors++;
        this.errors.errorReplies++;
        break;
      case Outcome.Moved:
        r.moved++;
        sec.moved++;
        break;
      case Outcome.Ask:
        r.ask++;
        sec.ask++;
        break;
    }
  }

  /** An ASK that was followed: counted, and the request goes on to its target. */
  askFollowed(row: number, now: number): void {
    this.rows[row].ask++;
    this.timeline.at(now).ask++;
  }

  /** A request that got no reply: its connection failed, or it timed out. */
  unanswered(row: number, timedOut: boolean, now: number): void {
    this.rows[row].errors++;
    this.lastEvent = now;
    const sec = this.timeline.at(now);
    sec.errors++;
    if (timedOut) {
      sec.timeouts++;
      this.errors.timeouts++;
    } else {
      this.errors.lostRequests++;
    }
  }

  connectionError(now: number): void {
    this.errors.connectionErrors++;
    this.timeline.at(now).connectionErrors++;
  }

  result(now: number): WorkerResult {
    return {
      rows: this.rows.map((r) => r.result()),
      errors: { ...this.errors },
      timeline: this.timeline.result(now),
      endAbs: performance.timeOrigin + (this.lastEvent || now),
    };
  }
}
