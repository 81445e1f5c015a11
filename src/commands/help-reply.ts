/** The HELP subcommands' reply, shared by every command family. */
import type { CommandContext } from './context.js';

/** Replies a HELP text as an array of status lines, as Redis's addReplyHelp. */
export function replyHelp(c: CommandContext, lines: string[]): void {
  c.out.arrayHeader(lines.length);
  for (const l of lines) c.out.simple(l);
}
