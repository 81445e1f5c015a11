/**
 * CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO (Redis 7.0's
 * clientCommand tracking branches): option parsing, validation in Redis's
 * order and with its error strings, and the replies. The tracking itself —
 * remembered keys, prefixes, invalidations — is the thread's
 * TrackingService (server/key-tracking.ts).
 *
 * Redis checks a REDIRECT client's existence while it parses the options, so
 * a missing one is reported before any later syntax error. weft's clients
 * live on several threads: options are parsed first, the redirect client is
 * then looked up (on this thread, or by asking the others), and the errors
 * come out in Redis's order.
 */
import { arg, oneOf, tokenArg, type CommandSpec, type DefineOptions, type ReplyFunction } from './command-spec.js';
import type { CommandContext } from './context.js';
import { NOT_INTEGER, SYNTAX } from './errors.js';
import type { TrackingOptions } from './client-state.js';
import { prefixCollision } from '../server/key-tracking.js';

const REDIRECT_MISSING = 'The client ID you want redirect to does not exist';
const ONE_REDIRECT = 'A client can only redirect to a single other client';
const PREFIX_NEEDS_BCAST = 'PREFIX option requires BCAST mode to be enabled';
const BCAST_SWITCH = "You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
const BCAST_OPT = 'OPTIN and OPTOUT are not compatible with BCAST';
const OPTIN_AND_OPTOUT = "You can't specify both OPTIN mode and OPTOUT mode";
const OPT_SWITCH = "You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
const CACHING_NOT_TRACKING = 'CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled';
const CACHING_YES = 'CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.';
const CACHING_NO = 'CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.';

interface ParsedTracking {
  options: TrackingOptions;
  /** The first error after the REDIRECT (or anywhere, without one): reported once the redirect client is known to exist. */
  error: string | null;
}

function parseOptions(c: CommandContext): ParsedTracking {
  const options: TrackingOptions = { bcast: false, optin: false, optout: false, noloop: false, redirect: 0, redirectThread: -1, prefixes: [] };
  for (let j = 3; j < c.argc; j++) {
    const more = j < c.argc - 1;
    if (c.argIs(j, 'redirect') && more) {
      j++;
      if (options.redirect !== 0) return { options, error: ONE_REDIRECT };
      const id = c.argInt(j);
      if (id === null) return { options, error: NOT_INTEGER };
      // No client has id 0 or below: looked up like any other, it is missing.
      options.redirect = id <= 0 ? -1 : id;
    } else if (c.argIs(j, 'bcast')) {
      options.bcast = true;
    } else if (c.argIs(j, 'optin')) {
      options.optin = true;
    } else if (c.argIs(j, 'optout')) {
      options.optout = true;
    } else if (c.argIs(j, 'noloop')) {
      options.noloop = true;
    } else if (c.argIs(j, 'prefix') && more) {
      j++;
      options.prefixes.push(c.argLatin1(j));
    } else {
      return { options, error: SYNTAX };
    }
  }
  return { options, error: null };
}

/** CLIENT TRACKING (ON|OFF) [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]. */
function clientTracking(c: CommandContext): void | Promise<ReplyFunction> {
  const { options, error } = parseOptions(c);
  // Read now: the reply function runs later, when the context holds another request.
  const mode = c.argIs(2, 'on') ? 'on' : c.argIs(2, 'off') ? 'off' : null;
  if (options.redirect === 0) {
    apply(c, mode, options, error);
    return;
  }
  if (options.redirect === -1) {
    c.out.error(REDIRECT_MISSING);
    return;
  }
  return c.server.tracking.locate(options.redirect).then((thread) => (cc: CommandContext) => {
    if (thread < 0) {
      cc.out.error(REDIRECT_MISSING);
      return;
    }
    options.redirectThread = thread;
    apply(cc, mode, options, error);
  });
}

function apply(c: CommandContext, mode: 'on' | 'off' | null, o: TrackingOptions, error: string | null): void {
  if (error !== null) {
    c.out.error(error);
    return;
  }
  const client = c.client;
  const t = client.tracking ?? null;
  if (mode === 'off') {
    c.server.tracking.disable(client);
    c.out.ok();
    return;
  }
  if (mode !== 'on') {
    c.out.error(SYNTAX);
    return;
  }
  let refused: string | null = null;
  if (!o.bcast && o.prefixes.length > 0) refused = PREFIX_NEEDS_BCAST;
  else if (t !== null && t.bcast !== o.bcast) refused = BCAST_SWITCH;
  else if (o.bcast && (o.optin || o.optout)) refused = BCAST_OPT;
  else if (o.optin && o.optout) refused = OPTIN_AND_OPTOUT;
  else if (t !== null && ((o.optin && t.optout) || (o.optout && t.optin))) refused = OPT_SWITCH;
  else if (o.bcast) refused = prefixCollision(t?.prefixes ?? [], o.prefixes);
  if (refused !== null) {
    c.out.error(refused);
    return;
  }
  c.server.tracking.enable(client, o);
  c.out.ok();
}

/** CLIENT CACHING YES|NO: the next command (or transaction) is tracked (OPTIN) or not (OPTOUT). */
function clientCaching(c: CommandContext): void {
  const t = c.client.tracking ?? null;
  if (t === null) {
    c.out.error(CACHING_NOT_TRACKING);
    return;
  }
  if (c.argIs(2, 'yes')) {
    if (!t.optin) {
      c.out.error(CACHING_YES);
      return;
    }
  } else if (c.argIs(2, 'no')) {
    if (!t.optout) {
      c.out.error(CACHING_NO);
      return;
    }
  } else {
    c.out.error(SYNTAX);
    return;
  }
  t.caching = true;
  c.out.ok();
}

/** CLIENT GETREDIR: the redirect client's id, 0 without one, -1 when not tracking. */
function clientGetredir(c: CommandContext): void {
  const t = c.client.tracking ?? null;
  c.out.integer(t === null ? -1 : t.redirect);
}

/** CLIENT TRACKINGINFO: flags (a set), redirect and prefixes. */
function clientTrackinginfo(c: CommandContext): void {
  const t = c.client.tracking ?? null;
  const out = c.out;
  out.mapHeader(3);
  out.bulkString('flags');
  const flags: string[] = [];
  if (t === null) {
    flags.push('off');
  } else {
    flags.push('on');
    if (t.bcast) flags.push('bcast');
    if (t.optin) flags.push('optin');
    if (t.optout) flags.push('optout');
    if (t.caching) flags.push(t.optin ? 'caching-yes' : 'caching-no');
    if (t.noloop) flags.push('noloop');
    if (t.brokenRedirect) flags.push('broken_redirect');
  }
  out.setHeader(flags.length);
  for (const f of flags) out.bulkString(f);
  out.bulkString('redirect');
  out.integer(t === null ? -1 : t.redirect);
  out.bulkString('prefixes');
  // In Redis's order: the client's prefixes live in a radix tree, sorted by their bytes (a latin1 string sorts by them).
  const prefixes = [...(t?.prefixes ?? [])].sort();
  out.arrayHeader(prefixes.length);
  for (const p of prefixes) out.bulkBytes(Buffer.from(p, 'latin1'), 0, p.length);
}

/** The CLIENT subcommands of client-side caching, as Redis 7.0 declares them. */
export function trackingSubcommands(sub: (o: Omit<DefineOptions, 'group' | 'categories'>) => CommandSpec): CommandSpec[] {
  return [
    sub({ name: 'tracking', arity: -3, since: '6.0.0', summary: 'Enable or disable server assisted client side caching support',
      complexity: 'O(1). Some options may introduce additional complexity.',
      arguments: [oneOf('status', [tokenArg('on', 'ON'), tokenArg('off', 'OFF')]),
        arg('client-id', 'integer', { token: 'REDIRECT', optional: true }),
        arg('prefix', 'string', { token: 'PREFIX', optional: true, multiple: true, multipleToken: true }),
        tokenArg('bcast', 'BCAST', { optional: true }), tokenArg('optin', 'OPTIN', { optional: true }),
        tokenArg('optout', 'OPTOUT', { optional: true }), tokenArg('noloop', 'NOLOOP', { optional: true })],
      handler: clientTracking }),
    sub({ name: 'caching', arity: 3, since: '6.0.0', summary: 'Instruct the server about tracking or not keys in the next request',
      complexity: 'O(1)', arguments: [oneOf('mode', [tokenArg('yes', 'YES'), tokenArg('no', 'NO')])], handler: clientCaching }),
    sub({ name: 'getredir', arity: 2, since: '6.0.0', summary: 'Get tracking notifications redirection client ID if any',
      complexity: 'O(1)', handler: clientGetredir }),
    sub({ name: 'trackinginfo', arity: 2, since: '6.2.0',
      summary: 'Return information about server assisted client side caching for the current connection', complexity: 'O(1)',
      handler: clientTrackinginfo }),
  ];
}
