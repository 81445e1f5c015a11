import type { CommandSpec } from './command-spec.js';

export const bitCommands: CommandSpec[] = [];
