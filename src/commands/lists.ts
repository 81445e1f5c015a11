/** The list family (Redis's t_list.c). */
import type { CommandSpec } from './command-spec.js';

export const listCommands: CommandSpec[] = [];
