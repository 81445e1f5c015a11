/**
 * Connection commands (Redis's networking.c / server.c): PING, ECHO, HELLO,
 * AUTH, SELECT, QUIT, RESET and the CLIENT container.
 */
import { discardTransaction } from './transactions.js';
import { arg, block, defineCommand, oneOf, tokenArg, type CommandSpec, type DefineOptions, type ReplyFunction } from './command-spec.js';
import type { CommandContext } from './context.js';
import { DB_RANGE, NOT_INTEGER, subcommandSyntax, SYNTAX, wrongArity } from './errors.js';
import { replyHelp } from './help-reply.js';
import { ReplyMode, SubscriptionKind, type ClientFilter } from './client-state.js';
import { REDIS_VERSION } from './server-info.js';
import { NOT_INT32 } from './numbers.js';
import { trackingSubcommands } from './client-tracking.js';

const group = 'connection';
const WRONGPASS = '-WRONGPASS invalid username-password pair or user is disabled.';

function ping(c: CommandContext): void {
  if (c.argc > 2) {
    c.out.error(wrongArity('ping'));
    return;
  }
  // In the RESP2 subscribed context PING answers [pong, message] (pingCommand).
  if ((c.client.pubsubCount ?? 0) > 0 && c.client.resp === 2) {
    c.out.arrayHeader(2);
    c.out.bulkString('pong');
    if (c.argc === 2) c.out.bulkBytes(c.buf, c.argStart[1], c.argLen[1]);
    else c.out.bulkString('');
    return;
  }
  if (c.argc === 2) c.out.bulkBytes(c.buf, c.argStart[1], c.argLen[1]);
  else c.out.simple('PONG');
}

function echo(c: CommandContext): void {
  c.out.bulkBytes(c.buf, c.argStart[1], c.argLen[1]);
}

/**
 * Checks a password for a user (only "default" exists); returns an error
 * reply or null. Without requirepass the default user is "nopass": like
 * Redis's ACLAuthenticateUser, any password is then accepted for it.
 */
function checkPassword(c: CommandContext, user: string, password: string): string | null {
  const required = c.server.configGet('requirepass') ?? '';
  if (user !== 'default') return WRONGPASS;
  if (required === '') return null;
  return password === required ? null : WRONGPASS;
}

function auth(c: CommandContext): void {
  if (c.argc > 3) {
    c.out.error(SYNTAX);
    return;
  }
  const required = c.server.configGet('requirepass') ?? '';
  if (c.argc === 2 && required === '') {
    c.out.error('AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
    return;
  }
  const user = c.argc === 3 ? c.argString(1) : 'default';
  const err = checkPassword(c, user, c.argString(c.argc - 1));
  if (err) {
    c.out.error(err);
    return;
  }
  c.client.authenticated = true;
  c.client.user = user;
  c.out.ok();
}

function validName(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch < 33 || ch > 126) return false;
  }
  return true;
}

function hello(c: CommandContext): void {
  let ver = 0;
  let next = 1;
  if (c.argc >= 2) {
    const v = c.argInt(1);
    if (v === null) {
      c.out.error('Protocol version is not an integer or out of range');
      return;
    }
    ver = v;
    next = 2;
    if (ver < 2 || ver > 3) {
      c.out.error('-NOPROTO unsupported protocol version');
      return;
    }
  }
  let authUser: string | null = null;
  let authPass = '';
  let setName: string | null = null;
  for (let i = next; i < c.argc; i++) {
    const more = c.argc - i - 1;
    if (c.argIs(i, 'auth') && more >= 2) {
      authUser = c.argString(i + 1);
      authPass = c.argString(i + 2);
      i += 2;
    } else if (c.argIs(i, 'setname') && more >= 1) {
      setName = c.argString(i + 1);
      i += 1;
    } else {
      c.out.error(`Syntax error in HELLO option '${c.argLatin1(i)}'`);
      return;
    }
  }
  if (authUser !== null) {
    const err = checkPassword(c, authUser, authPass);
    if (err) {
      c.out.error(err);
      return;
    }
    c.client.authenticated = true;
    c.client.user = authUser;
  }
  if (!c.client.authenticated) {
    c.out.error('-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
    return;
  }
  if (setName !== null) {
    if (!validName(setName)) {
      c.out.error('Client names cannot contain spaces, newlines or special characters.');
      return;
    }
    c.client.name = setName;
  }
  if (ver !== 0) c.client.resp = ver;
  c.out.resp = c.client.resp;
  c.out.mapHeader(7);
  c.out.bulkString('server');
  c.out.bulkString('redis');
  c.out.bulkString('version');
  c.out.bulkString(REDIS_VERSION);
  c.out.bulkString('proto');
  c.out.integer(c.client.resp);
  c.out.bulkString('id');
  c.out.integer(c.client.id);
  c.out.bulkString('mode');
  c.out.bulkString(c.server.cluster ? 'cluster' : 'standalone');
  c.out.bulkString('role');
  c.out.bulkString('master');
  c.out.bulkString('modules');
  c.out.arrayHeader(0);
}

function select(c: CommandContext): void {
  const db = c.argInt(1);
  if (db === null) {
    c.out.error(NOT_INTEGER);
    return;
  }
  if (db < -2147483648 || db > 2147483647) {
    c.out.error(NOT_INT32);
    return;
  }
  if (c.server.cluster !== null && db !== 0) {
    c.out.error('SELECT is not allowed in cluster mode');
    return;
  }
  if (db < 0 || db >= c.ks.databases) {
    c.out.error(DB_RANGE);
    return;
  }
  c.client.db = db;
  c.out.ok();
}

function quit(c: CommandContext): void {
  c.out.ok();
  c.client.closeAfterReply = true;
}

function reset(c: CommandContext): void {
  const cl = c.client;
  discardTransaction(c);
  if (cl.monitor === true) c.server.stopMonitor(cl);
  c.server.tracking.disable(cl);
  // RESET leaves every channel and pattern, without replies.
  if ((cl.pubsubCount ?? 0) > 0) {
    for (const kind of [SubscriptionKind.Channel, SubscriptionKind.Pattern, SubscriptionKind.Shard]) {
      void c.server.pubsub.unsubscribe(cl, kind, null).done;
    }
  }
  cl.db = 0;
  cl.resp = 2;
  cl.name = '';
  cl.replyMode = ReplyMode.On;
  cl.noEvict = false;
  cl.asking = false;
  cl.readonlyReplicaReads = false;
  cl.authenticated = (c.server.configGet('requirepass') ?? '') === '';
  cl.user = 'default';
  c.out.resp = 2;
  c.out.simple('RESET');
}

// ---- CLIENT ----

function clientId(c: CommandContext): void {
  c.out.integer(c.client.id);
}

function clientSetname(c: CommandContext): void {
  const name = c.argString(2);
  if (!validName(name)) {
    c.out.error('Client names cannot contain spaces, newlines or special characters.');
    return;
  }
  c.client.name = name;
  c.out.ok();
}

function clientGetname(c: CommandContext): void {
  if (c.client.name === '') c.out.nullBulk();
  else c.out.bulkString(c.client.name);
}

function clientSetinfo(c: CommandContext): void {
  const value = c.argString(3);
  const isName = c.argIs(2, 'lib-name');
  const isVer = c.argIs(2, 'lib-ver');
  if (!isName && !isVer) {
    c.out.error(`Unrecognized option '${c.argLatin1(2)}'`);
    return;
  }
  if (!validName(value) && value !== '') {
    c.out.error(`${isName ? 'lib-name' : 'lib-ver'} cannot contain spaces, newlines or special characters.`);
    return;
  }
  if (isName) c.client.libName = value;
  else c.client.libVersion = value;
  c.out.ok();
}

const CLIENT_TYPES = ['normal', 'master', 'replica', 'slave', 'pubsub'];

/** CLIENT LIST [TYPE type | ID id...]: Redis 7.0 takes one filter, TYPE only as the last two arguments. */
function clientList(c: CommandContext): Promise<(c: CommandContext) => void> | void {
  const filter: ClientFilter = {};
  if (c.argc === 4 && c.argIs(2, 'type')) {
    const t = c.argString(3).toLowerCase();
    if (!CLIENT_TYPES.includes(t)) {
      c.out.error(`Unknown client type '${c.argLatin1(3)}'`);
      return;
    }
    filter.type = t;
  } else if (c.argc > 3 && c.argIs(2, 'id')) {
    // Any integer is accepted: ids that match no client list nothing.
    filter.ids = [];
    for (let i = 3; i < c.argc; i++) {
      const id = c.argInt(i);
      if (id === null) {
        c.out.error('Invalid client ID');
        return;
      }
      filter.ids.push(id);
    }
  } else if (c.argc !== 2) {
    c.out.error(SYNTAX);
    return;
  }
  return c.server.clientList(filter).then((lines) => (cc: CommandContext) => {
    cc.out.verbatim(lines.map((l) => l + '\n').join(''));
  });
}

function clientInfo(c: CommandContext): Promise<(c: CommandContext) => void> {
  return c.server.clientList({ ids: [c.client.id] }).then((lines) => (cc: CommandContext) => {
    cc.out.verbatim(lines.length ? lines[0] + '\n' : '');
  });
}

function clientKill(c: CommandContext): Promise<(c: CommandContext) => void> | void {
  const self = c.client.id;
  if (c.argc === 3) {
    // Old form: CLIENT KILL addr:port.
    const address = c.argString(2);
    return c.server.killClients({ address, self }).then((n) => (cc: CommandContext) => {
      if (n === 0) cc.out.error('No such client');
      else cc.out.ok();
    });
  }
  const filter: ClientFilter = { self, skipMe: true };
  for (let i = 2; i < c.argc; i += 2) {
    if (i + 1 >= c.argc) {
      c.out.error(SYNTAX);
      return;
    }
    // latin1: the value may be quoted back in an error, byte for byte.
    const value = c.argLatin1(i + 1);
    if (c.argIs(i, 'id')) {
      const id = c.argInt(i + 1);
      if (id === null || id <= 0) {
        c.out.error('client-id should be greater than 0');
        return;
      }
      filter.ids = [id];
    } else if (c.argIs(i, 'type')) {
      const t = value.toLowerCase();
      if (!CLIENT_TYPES.includes(t)) {
        c.out.error(`Unknown client type '${value}'`);
        return;
      }
      filter.type = t;
    } else if (c.argIs(i, 'addr')) filter.address = value;
    else if (c.argIs(i, 'laddr')) filter.localAddress = value;
    else if (c.argIs(i, 'user')) {
      // Redis looks the user up in its ACL: weft has only "default".
      if (value !== 'default') {
        c.out.error(`No such user '${value}'`);
        return;
      }
      filter.user = value;
    } else if (c.argIs(i, 'skipme')) {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no') {
        c.out.error(SYNTAX);
        return;
      }
      filter.skipMe = v === 'yes';
    } else {
      c.out.error(SYNTAX);
      return;
    }
  }
  return c.server.killClients(filter).then((n) => (cc: CommandContext) => cc.out.integer(n));
}

/** CLIENT UNBLOCK client-id [TIMEOUT|ERROR] (unblockClient in blocked.c). */
function clientUnblock(c: CommandContext): void | Promise<ReplyFunction> {
  const id = c.argInt(2);
  if (id === null) {
    c.out.error(NOT_INTEGER);
    return;
  }
  let error = false;
  if (c.argc === 4) {
    if (c.argIs(3, 'error')) error = true;
    else if (!c.argIs(3, 'timeout')) {
      c.out.error('CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
      return;
    }
  } else if (c.argc > 4) {
    c.out.error(SYNTAX);
    return;
  }
  return c.server.unblockClient(id, error).then((n) => (cc: CommandContext) => cc.out.integer(n));
}

function clientReply(c: CommandContext): void {
  if (c.argIs(2, 'on')) {
    c.client.replyMode = ReplyMode.On;
    c.out.ok();
  } else if (c.argIs(2, 'off')) {
    c.client.replyMode = ReplyMode.Off;
  } else if (c.argIs(2, 'skip')) {
    // Redis sets SKIP_NEXT unless replies are OFF, also while this very command is being skipped.
    if (c.client.replyMode !== ReplyMode.Off) c.client.replyMode = ReplyMode.Skip;
  } else {
    c.out.error(SYNTAX);
  }
}

/** Pause types as the worker's ClientPause numbers them (WRITE 1, ALL 2). */
const PAUSE_WRITE = 1;
const PAUSE_ALL = 2;
const INT64_MAX = 9223372036854775807;
const TIMEOUT_NOT_INTEGER = 'timeout is not an integer or out of range';

/**
 * CLIENT PAUSE timeout [WRITE|ALL] (clientCommand's pause branch): the mode
 * is checked first, then getTimeoutFromObjectOrReply in milliseconds. As in
 * Redis 7.0, 0 ends at once and a timeout past LLONG_MAX - now wraps to a
 * time already gone (OK, no pause).
 */
function clientPause(c: CommandContext): void {
  if (c.argc > 4) {
    c.out.error(subcommandSyntax(c.argLatin1(1), 'client'));
    return;
  }
  let type = PAUSE_ALL;
  if (c.argc === 4) {
    if (c.argIs(3, 'write')) type = PAUSE_WRITE;
    else if (!c.argIs(3, 'all')) {
      c.out.error('CLIENT PAUSE mode must be WRITE or ALL');
      return;
    }
  }
  const timeout = c.argInt(2);
  if (timeout === null) {
    c.out.error(TIMEOUT_NOT_INTEGER);
    return;
  }
  if (timeout < 0) {
    c.out.error('timeout is negative');
    return;
  }
  const now = Date.now();
  const end = timeout === 0 ? 0 : timeout > INT64_MAX - now ? -1 : now + timeout;
  c.server.pauseClients(type, end);
  c.out.ok();
}

function clientUnpause(c: CommandContext): void {
  c.server.unpauseClients();
  c.out.ok();
}

function clientNoEvict(c: CommandContext): void {
  if (c.argIs(2, 'on')) c.client.noEvict = true;
  else if (c.argIs(2, 'off')) c.client.noEvict = false;
  else {
    c.out.error(SYNTAX);
    return;
  }
  c.out.ok();
}

/**
 * Redis 7.0.15's CLIENT HELP, word for word (it also lists the subcommands
 * weft does not implement yet).
 */
const CLIENT_HELP = [
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CACHING (YES|NO)',
  '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
  'GETREDIR',
  '    Return the client ID we are redirecting to when tracking is enabled.',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Kill connections by type.',
  '    * USER <username>',
  '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)',
  '      Skip killing current connection (default: yes).',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  'UNPAUSE',
  '    Stop the current client pause, resuming traffic.',
  'PAUSE <timeout> [WRITE|ALL]',
  '    Suspend all, or just write, clients for <timeout> milliseconds.',
  'REPLY (ON|OFF|SKIP)',
  '    Control the replies sent to the current connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]',
  '    Unblock the specified blocked client.',
  'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]',
  '         [OPTIN] [OPTOUT] [NOLOOP]',
  '    Control server assisted client side caching.',
  'TRACKINGINFO',
  '    Report tracking status for the current connection.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
  'HELP',
  '    Prints this help.',
];

/** A CLIENT subcommand: @connection, and noscript/loading/stale unless its flags say otherwise (as in Redis). */
const sub = (o: Omit<DefineOptions, 'group' | 'categories'>) =>
  defineCommand({ flags: ['noscript', 'loading', 'stale'], categories: ['connection'], group, ...o });
const adminFlags: CommandSpec['flags'] = ['admin', 'noscript', 'loading', 'stale'];
/** The TYPE filter of CLIENT LIST and CLIENT KILL (KILL also documents the legacy SLAVE). */
const clientType = (name: string, o: { slave?: boolean; since?: string }) => oneOf(name, [tokenArg('normal', 'NORMAL'),
  tokenArg('master', 'MASTER', o.slave ? { since: '3.2.0' } : {}), ...(o.slave ? [tokenArg('slave', 'SLAVE')] : []),
  tokenArg('replica', 'REPLICA', o.slave ? { since: '5.0.0' } : {}), tokenArg('pubsub', 'PUBSUB')], { token: 'TYPE', optional: true, since: o.since });

export const connectionCommands: CommandSpec[] = [
  defineCommand({ name: 'ping', arity: -1, flags: ['fast'], categories: ['connection'],
    tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], group, summary: 'Ping the server', complexity: 'O(1)',
    arguments: [arg('message', 'string', { optional: true })], handler: ping }),
  defineCommand({ name: 'echo', arity: 2, flags: ['loading', 'stale', 'fast'], categories: ['connection'], group,
    summary: 'Echo the given string', complexity: 'O(1)', arguments: [arg('message', 'string')], handler: echo }),
  defineCommand({ name: 'auth', arity: -2, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
    categories: ['connection'], group, summary: 'Authenticate to the server',
    complexity: 'O(N) where N is the number of passwords defined for the user',
    history: [['6.0.0', 'Added ACL style (username and password).']],
    arguments: [arg('username', 'string', { optional: true, since: '6.0.0' }), arg('password', 'string')], handler: auth }),
  defineCommand({ name: 'hello', arity: -1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
    categories: ['connection'], group, since: '6.0.0', summary: 'Handshake with Redis', complexity: 'O(1)',
    history: [['6.2.0', "`protover` made optional; when called without arguments the command reports the current connection's context."]],
    arguments: [block('arguments', [arg('protover', 'integer'),
      block('username_password', [arg('username', 'string'), arg('password', 'string')], { token: 'AUTH', optional: true }),
      arg('clientname', 'string', { token: 'SETNAME', optional: true })], { optional: true })], handler: hello }),
  defineCommand({ name: 'select', arity: 2, flags: ['loading', 'stale', 'fast'], categories: ['connection'], group,
    summary: 'Change the selected database for the current connection', complexity: 'O(1)', arguments: [arg('index', 'integer')], handler: select }),
  defineCommand({ name: 'quit', arity: -1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
    categories: ['connection'], group, summary: 'Close the connection', complexity: 'O(1)', handler: quit }),
  defineCommand({ name: 'reset', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
    categories: ['connection'], group, since: '6.2.0', summary: 'Reset the connection', complexity: 'O(1)', handler: reset }),
  defineCommand({ name: 'client', arity: -2, categories: [], group, since: '2.4.0',
    summary: 'A container for client connection commands', complexity: 'Depends on subcommand.',
    subcommands: [
      sub({ name: 'id', arity: 2, since: '5.0.0', summary: 'Returns the client ID for the current connection', complexity: 'O(1)',
        handler: clientId }),
      sub({ name: 'setname', arity: 3, since: '2.6.9', summary: 'Set the current connection name', complexity: 'O(1)',
        arguments: [arg('connection-name', 'string')], handler: clientSetname }),
      sub({ name: 'getname', arity: 2, since: '2.6.9', summary: 'Get the current connection name', complexity: 'O(1)',
        handler: clientGetname }),
      // Not in Redis 7.0: described as Redis 7.2 does.
      sub({ name: 'setinfo', arity: 4, tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], since: '7.2.0',
        summary: 'Set client or connection specific info', complexity: 'O(1)',
        arguments: [oneOf('attr', [arg('libname', 'string', { token: 'LIB-NAME' }), arg('libver', 'string', { token: 'LIB-VER' })])],
        handler: clientSetinfo }),
      sub({ name: 'list', arity: -2, flags: adminFlags, tips: ['nondeterministic_output'], since: '2.4.0',
        summary: 'Get the list of client connections', complexity: 'O(N) where N is the number of client connections',
        history: [['2.8.12', 'Added unique client `id` field.'], ['5.0.0', 'Added optional `TYPE` filter.'], ['6.0.0', 'Added `user` field.'],
          ['6.2.0', 'Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter.'],
          ['7.0.0', 'Added `resp`, `multi-mem`, `rbs` and `rbp` fields.'], ['7.0.3', 'Added `ssub` field.']],
        arguments: [clientType('normal_master_replica_pubsub', { since: '5.0.0' }),
          block('id', [arg('client-id', 'integer', { multiple: true })], { token: 'ID', optional: true, since: '6.2.0' })],
        handler: clientList }),
      sub({ name: 'unblock', arity: -3, flags: adminFlags, since: '5.0.0',
        summary: 'Unblock a client blocked in a blocking command from a different connection',
        complexity: 'O(log N) where N is the number of client connections',
        arguments: [arg('client-id', 'integer'), oneOf('timeout_error', [tokenArg('timeout', 'TIMEOUT'), tokenArg('error', 'ERROR')], { optional: true })],
        handler: clientUnblock }),
      sub({ name: 'info', arity: 2, tips: ['nondeterministic_output'], since: '6.2.0',
        summary: 'Returns information about the current client connection.', complexity: 'O(1)', handler: clientInfo }),
      sub({ name: 'kill', arity: -3, flags: adminFlags, since: '2.4.0', summary: 'Kill the connection of a client',
        complexity: 'O(N) where N is the number of client connections',
        history: [['2.8.12', 'Added new filter format.'], ['2.8.12', '`ID` option.'], ['3.2.0', 'Added `master` type in for `TYPE` option.'],
          ['5.0.0', 'Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility.'], ['6.2.0', '`LADDR` option.']],
        arguments: [oneOf('filter', [arg('ip:port', 'string', { deprecatedSince: '2.8.12' }), oneOf('new-format', [
          arg('client-id', 'integer', { token: 'ID', optional: true, since: '2.8.12' }),
          clientType('normal_master_slave_pubsub', { slave: true, since: '2.8.12' }),
          arg('username', 'string', { token: 'USER', optional: true }), arg('ip:port', 'string', { token: 'ADDR', optional: true }),
          arg('ip:port', 'string', { token: 'LADDR', optional: true, since: '6.2.0' }),
          arg('yes/no', 'string', { token: 'SKIPME', optional: true })], { multiple: true })])],
        handler: clientKill }),
      sub({ name: 'reply', arity: 3, since: '3.2.0', summary: 'Instruct the server whether to reply to commands', complexity: 'O(1)',
        arguments: [oneOf('on_off_skip', [tokenArg('on', 'ON'), tokenArg('off', 'OFF'), tokenArg('skip', 'SKIP')])], handler: clientReply }),
      sub({ name: 'pause', arity: -3, flags: adminFlags, since: '2.9.50', summary: 'Stop processing commands from clients for some time',
        complexity: 'O(1)', history: [['6.2.0', '`CLIENT PAUSE WRITE` mode added along with the `mode` option.']],
        arguments: [arg('timeout', 'integer'), oneOf('mode', [tokenArg('write', 'WRITE'), tokenArg('all', 'ALL')], { optional: true, since: '6.2.0' })],
        handler: clientPause }),
      sub({ name: 'unpause', arity: 2, flags: adminFlags, since: '6.2.0', summary: 'Resume processing of clients that were paused',
        complexity: 'O(N) Where N is the number of paused clients', handler: clientUnpause }),
      sub({ name: 'no-evict', arity: 3, flags: adminFlags, since: '7.0.0', summary: 'Set client eviction mode for the current connection',
        complexity: 'O(1)', arguments: [oneOf('enabled', [tokenArg('on', 'ON'), tokenArg('off', 'OFF')])], handler: clientNoEvict }),
      ...trackingSubcommands(sub),
      sub({ name: 'help', arity: 2, flags: ['loading', 'stale'], since: '5.0.0', summary: 'Show helpful text about the different subcommands',
        complexity: 'O(1)', handler: (c) => replyHelp(c, CLIENT_HELP) }),
    ] }),
];
