/**
 * Script flags (Redis 7.0's scripts_flags_def and evalExtractShebangFlags):
 * a body whose first line is a shebang (`#!lua flags=no-writes,allow-oom`)
 * declares its flags and leaves the compatibility mode of plain EVAL
 * scripts; functions declare the same flags in redis.register_function.
 *
 * The shebang line is not Lua: the body is compiled without it, its line
 * feed kept so that error messages name the user's lines.
 */

export const enum ScriptFlag {
  /** A body without a shebang: may write, may touch undeclared keys of several slots, OOM checked per command. */
  EvalCompat = 1 << 0,
  NoWrites = 1 << 1,
  AllowOom = 1 << 2,
  AllowStale = 1 << 3,
  NoCluster = 1 << 4,
  AllowCrossSlot = 1 << 5,
}

/** The flags as Redis names them, in its order (FUNCTION LIST shows them so). */
export const FLAG_NAMES: [string, ScriptFlag][] = [
  ['no-writes', ScriptFlag.NoWrites],
  ['allow-oom', ScriptFlag.AllowOom],
  ['allow-stale', ScriptFlag.AllowStale],
  ['no-cluster', ScriptFlag.NoCluster],
  ['allow-cross-slot-keys', ScriptFlag.AllowCrossSlot],
];

export function flagByName(name: string): ScriptFlag | undefined {
  for (const [n, f] of FLAG_NAMES) if (n === name) return f;
  return undefined;
}

/** A body's flags and where its Lua source starts (at the shebang's line feed), or the error text. */
export interface Shebang {
  flags: number;
  sourceStart: number;
}

const HASH = 35;
const BANG = 33;
const LF = 10;

/** sdssplitargs for a shebang line: words split on spaces (quotes are not expected there). */
function words(line: string): string[] {
  return line.split(/[ \t\r]+/).filter((w) => w.length > 0);
}

export function parseShebang(body: Uint8Array): Shebang | string {
  if (body.length < 2 || body[0] !== HASH || body[1] !== BANG) return { flags: ScriptFlag.EvalCompat, sourceStart: 0 };
  const end = body.indexOf(LF);
  if (end < 0) return 'Invalid script shebang';
  const parts = words(Buffer.from(body.buffer, body.byteOffset, end).toString('latin1'));
  if (parts.length === 0) return 'Invalid engine in script shebang';
  if (parts[0] !== '#!lua') return `Unexpected engine in script shebang: ${parts[0]}`;
  let flags = 0;
  for (const part of parts.slice(1)) {
    if (!part.startsWith('flags=')) return `Unknown lua shebang option: ${part}`;
    const list = part.slice(6);
    if (list === '') continue;
    for (const name of list.split(',')) {
      const flag = flagByName(name);
      if (flag === undefined) return `Unexpected flag in script shebang: ${name}`;
      flags |= flag;
    }
  }
  return { flags, sourceStart: end };
}
