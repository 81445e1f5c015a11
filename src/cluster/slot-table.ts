/**
 * The topology the workers route by, in one SharedArrayBuffer the coordinator
 * writes and every worker reads without messages or locks: for each slot its
 * owner, migration target and import source (node indexes), the cluster
 * state, this node's index, and for each node index its client endpoint
 * ("ip:port", for MOVED/ASK) and its master's index.
 */

export const MAX_NODES = 1024;
const SLOTS = 16384;
const HEADER_BYTES = 32;
const RECORD_BYTES = 64;
const ENDPOINT_MAX = 57;

const enum Header {
  Version = 0,
  StateOk = 1,
  MyIndex = 2,
}

export function allocateSlotTable(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + 3 * SLOTS * 2 + MAX_NODES * RECORD_BYTES);
}

export class SlotTable {
  private readonly header: Int32Array;
  readonly owner: Int16Array;
  readonly migrating: Int16Array;
  readonly importing: Int16Array;
  private readonly records: Uint8Array;
  private readonly recordView: DataView;

  constructor(readonly sab: SharedArrayBuffer) {
    this.header = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.owner = new Int16Array(sab, HEADER_BYTES, SLOTS);
    this.migrating = new Int16Array(sab, HEADER_BYTES + SLOTS * 2, SLOTS);
    this.importing = new Int16Array(sab, HEADER_BYTES + SLOTS * 4, SLOTS);
    const recordsAt = HEADER_BYTES + SLOTS * 6;
    this.records = new Uint8Array(sab, recordsAt, MAX_NODES * RECORD_BYTES);
    this.recordView = new DataView(sab, recordsAt, MAX_NODES * RECORD_BYTES);
  }

  /** Empties the table (no slot served) before the first publication. */
  clear(): void {
    this.owner.fill(-1);
    this.migrating.fill(-1);
    this.importing.fill(-1);
    this.header[Header.MyIndex] = -1;
  }

  get stateOk(): boolean {
    return this.header[Header.StateOk] === 1;
  }

  get myIndex(): number {
    return this.header[Header.MyIndex];
  }

  /**
   * The node a slot redirects to and its "ip:port", read consistently: the
   * version is odd while the coordinator rewrites the table (a seqlock), so
   * a reader retries rather than pair an index with another node's address.
   */
  redirect(slot: number, ask: boolean): { index: number; endpoint: string } {
    for (;;) {
      const before = Atomics.load(this.header, Header.Version);
      if (before & 1) continue;
      const index = ask ? this.migrating[slot] : this.owner[slot];
      const endpoint = index >= 0 ? this.endpoint(index) : '';
      if (Atomics.load(this.header, Header.Version) === before) return { index, endpoint };
    }
  }

  /** "ip:port" of a node, for MOVED and ASK. */
  endpoint(index: number): string {
    const at = index * RECORD_BYTES;
    const len = this.records[at];
    return Buffer.from(this.records.buffer, this.records.byteOffset + at + 1, len).toString('latin1');
  }

  masterIndex(index: number): number {
    return this.recordView.getInt16(index * RECORD_BYTES + 58, true);
  }

  // ---- the coordinator's side ----

  setNode(index: number, endpoint: string, masterIndex: number): void {
    const at = index * RECORD_BYTES;
    const bytes = Buffer.from(endpoint, 'latin1').subarray(0, ENDPOINT_MAX);
    this.records[at] = bytes.length;
    this.records.set(bytes, at + 1);
    this.recordView.setInt16(at + 58, masterIndex, true);
  }

  setHeader(stateOk: boolean, myIndex: number): void {
    this.header[Header.StateOk] = stateOk ? 1 : 0;
    this.header[Header.MyIndex] = myIndex;
  }

  /** Starts a rewrite: the version turns odd until endWrite. */
  beginWrite(): void {
    Atomics.add(this.header, Header.Version, 1);
  }

  endWrite(): void {
    Atomics.add(this.header, Header.Version, 1);
  }
}
