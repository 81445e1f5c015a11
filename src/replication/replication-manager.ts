/**
 * The coordinator's replication: the master side (replicas, backlog, the
 * write stream) and the replica side (the link to the master).
 */
import type { ReplicationControl } from './replication-control.js';

export class ReplicationManager implements ReplicationControl {
  offset(): number {
    return 0;
  }

  linkUp(): boolean {
    return false;
  }

  dataAgeMs(): number {
    return 0;
  }

  replicateFrom(_host: string, _port: number): void {}

  promote(): void {}

  async pauseWrites(_ms: number): Promise<number> {
    return this.offset();
  }

  resumeWrites(): void {}
}
