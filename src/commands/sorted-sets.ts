/** The sorted set family (Redis's t_zset.c). */
import type { CommandSpec } from './command-spec.js';

export const sortedSetCommands: CommandSpec[] = [];
