/**
 * The arguments of the *MPOP commands (LMPOP, BLMPOP, ZMPOP, BZMPOP):
 * `numkeys key [key ...] WHERE [COUNT count]`, parsed as Redis's
 * lmpopGenericCommand and zmpopGenericCommand parse them, with their errors
 * in their order.
 */
import type { CommandContext } from './context.js';
import { COUNT_NOT_POSITIVE, NUMKEYS_NOT_POSITIVE, SYNTAX } from './errors.js';

/** The parsed arguments (reused between calls): keys firstKey..lastKey, whether WHERE was the first word, the count. */
export const mpopArgs = { firstKey: 0, lastKey: 0, firstWord: true, count: 1 };

/**
 * Parses numkeys at `numkeysArg`, the keys after it, WHERE (`first` or
 * `second`, lowercase) and an optional COUNT into `mpopArgs`; false after
 * replying the error.
 */
export function parseMpop(c: CommandContext, numkeysArg: number, first: string, second: string): boolean {
  const numkeys = c.argInt(numkeysArg);
  if (numkeys === null || numkeys < 1) {
    c.out.error(NUMKEYS_NOT_POSITIVE);
    return false;
  }
  const whereArg = numkeysArg + numkeys + 1;
  if (whereArg >= c.argc || !(c.argIs(whereArg, first) || c.argIs(whereArg, second))) {
    c.out.error(SYNTAX);
    return false;
  }
  let count = -1;
  for (let j = whereArg + 1; j < c.argc; j++) {
    if (count === -1 && j + 1 < c.argc && c.argIs(j, 'count')) {
      const n = c.argInt(++j);
      if (n === null || n < 1) {
        c.out.error(COUNT_NOT_POSITIVE);
        return false;
      }
      count = n;
    } else {
      c.out.error(SYNTAX);
      return false;
    }
  }
  mpopArgs.firstKey = numkeysArg + 1;
  mpopArgs.lastKey = whereArg - 1;
  mpopArgs.firstWord = c.argIs(whereArg, first);
  mpopArgs.count = count === -1 ? 1 : count;
  return true;
}
