import type { CommandSpec } from './command-spec.js';

export const lcsCommands: CommandSpec[] = [];
