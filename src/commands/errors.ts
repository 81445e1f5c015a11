/** Error replies, word for word as Redis 7 sends them (server.c shared objects). */
export const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value';
export const NOT_INTEGER = 'value is not an integer or out of range';
export const NOT_FLOAT = 'value is not a valid float';
export const SYNTAX = 'syntax error';
export const NO_SUCH_KEY = 'no such key';
export const OVERFLOW = 'increment or decrement would overflow';
export const DB_RANGE = 'DB index is out of range';
export const NOAUTH = '-NOAUTH Authentication required.';
export const MASTERDOWN = "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
export const OOM = "-OOM command not allowed when used memory > 'maxmemory'.";
export const STRING_TOO_LONG = 'string exceeds maximum allowed size (proto-max-bulk-len)';
export const OUT_OF_RANGE = 'value is out of range, must be positive';
export const INVALID_CURSOR = 'invalid cursor';
export const NUMKEYS_NOT_POSITIVE = 'numkeys should be greater than 0';
export const COUNT_NOT_POSITIVE = 'count should be greater than 0';

export function invalidExpire(command: string): string {
  return `invalid expire time in '${command}' command`;
}

export function wrongArity(fullName: string): string {
  return `wrong number of arguments for '${fullName}' command`;
}

/** addReplySubcommandSyntaxError: a known subcommand given arguments its handler does not take (the name as typed). */
export function subcommandSyntax(typed: string, container: string): string {
  return `unknown subcommand or wrong number of arguments for '${typed.slice(0, 128)}'. Try ${container.toUpperCase()} HELP.`;
}

/** Redis's "Try X HELP" reply for an unknown subcommand of a container command. */
export function unknownSubcommand(sub: string, container: string): string {
  return `unknown subcommand '${sub.slice(0, 128)}'. Try ${container.toUpperCase()} HELP.`;
}
