/**
 * Per-worker counters in shared memory: each worker publishes its own row
 * (a few times a second and before answering INFO); any thread sums the rows.
 */

export const enum StatField {
  Connections = 0, // open connections (also updated by the coordinator on hand-off)
  ConnectionsReceived,
  Commands,
  KeyspaceHits,
  KeyspaceMisses,
  RejectedCalls,
  FailedCalls,
  NetInputBytes,
  NetOutputBytes,
  HeapUsed,
  ExpireCycles,
  ClientsTimedOut,
  BlockedClients,
  /** Bytes of the thread's Lua state (0 before its first script). */
  LuaMemory,
  Count,
}

export function allocateStats(workers: number): SharedArrayBuffer {
  return new SharedArrayBuffer(workers * StatField.Count * 8);
}

export class StatsTable {
  readonly f64: Float64Array;
  constructor(readonly sab: SharedArrayBuffer, readonly workers: number) {
    this.f64 = new Float64Array(sab);
  }

  get(worker: number, field: StatField): number {
    return this.f64[worker * StatField.Count + field];
  }

  set(worker: number, field: StatField, value: number): void {
    this.f64[worker * StatField.Count + field] = value;
  }

  sum(field: StatField): number {
    let n = 0;
    for (let w = 0; w < this.workers; w++) n += this.f64[w * StatField.Count + field];
    return n;
  }

}
