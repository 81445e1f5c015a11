/**
 * The keys a write command changed, as the argument positions that WATCH
 * (touchWatchedKey), client-side caching's invalidations and keyspace
 * notifications act on: the command's own
 * list (c.modifiedKeys) when its handler knows exactly which it changed (DEL
 * of some missing keys, the pops that take from the first non-empty key),
 * or else every key its key specs do not mark read-only.
 */
import type { CommandContext } from './context.js';
import type { CommandSpec } from './command-spec.js';
import { findKeys } from './introspection.js';

export function modifiedKeyArgs(c: CommandContext, spec: CommandSpec): ArrayLike<number> {
  if (c.modifiedKeys !== null) return c.modifiedKeys;
  const keys = findKeys(spec, c);
  if (keys === null) return [];
  const out: number[] = [];
  for (const k of keys) if (!k.flags.includes('RO')) out.push(k.pos);
  return out;
}

