/**
 * Clients blocked on keys (Redis's blocked.c). Placeholder during development.
 */
import type { CommandContext } from './context.js';

/**
 * Called by a write that created a list or sorted set key (Redis's
 * signalKeyAsReady from dbAdd), under the key's shard lock: waiters on that
 * key are served before the lock is released.
 */
export function signalKeyAsReady(c: CommandContext, keyArg: number): void {
  void c;
  void keyArg;
}
