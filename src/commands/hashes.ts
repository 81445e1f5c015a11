/** The hash family (Redis's t_hash.c). */
import type { CommandSpec } from './command-spec.js';

export const hashCommands: CommandSpec[] = [];
