/** The set family (Redis's t_set.c). */
import type { CommandSpec } from './command-spec.js';

export const setCommands: CommandSpec[] = [];
