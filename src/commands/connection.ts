/**
 * Connection commands (Redis's networking.c / server.c): PING, ECHO, HELLO,
 * AUTH, SELECT, QUIT, RESET and the CLIENT container.
 */
import { defineCommand, type CommandSpec } from './command-spec.js';
import type { CommandContext } from './context.js';
import { DB_RANGE, NOT_INTEGER, SYNTAX } from './errors.js';
import { ReplyMode, type ClientFilter } from './client-state.js';
import { REDIS_VERSION } from './server-info.js';

const group = 'connection';
const WRONGPASS = '-WRONGPASS invalid username-password pair or user is disabled.';

function ping(c: CommandContext): void {
  if (c.argc > 2) {
    c.out.error(`wrong number of arguments for 'ping' command`);
    return;
  }
  if (c.argc === 2) c.out.bulkBytes(c.buf, c.argStart[1], c.argLen[1]);
  else c.out.simple('PONG');
}

function echo(c: CommandContext): void {
  c.out.bulkBytes(c.buf, c.argStart[1], c.argLen[1]);
}

/** Checks a password for a user (only "default" exists); returns an error reply or null. */
function checkPassword(c: CommandContext, user: string, password: string): string | null {
  const required = c.server.configGet('requirepass') ?? '';
  if (user !== 'default') return WRONGPASS;
  if (required === '') return WRONGPASS;
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
      c.out.error(`Syntax error in HELLO option '${c.argString(i)}'`);
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
    c.out.error('-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
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
  c.out.bulkString('standalone');
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
  cl.db = 0;
  cl.resp = 2;
  cl.name = '';
  cl.replyMode = ReplyMode.On;
  cl.noEvict = false;
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
    c.out.error(`Unrecognized option '${c.argString(2)}'`);
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

function clientList(c: CommandContext): Promise<(c: CommandContext) => void> | void {
  const filter: ClientFilter = {};
  for (let i = 2; i < c.argc; i++) {
    if (c.argIs(i, 'type') && i + 1 < c.argc) {
      const t = c.argString(i + 1).toLowerCase();
      if (!CLIENT_TYPES.includes(t)) {
        c.out.error(`Unknown client type '${c.argString(i + 1)}'`);
        return;
      }
      filter.type = t;
      i++;
    } else if (c.argIs(i, 'id') && i + 1 < c.argc) {
      filter.ids = [];
      for (i++; i < c.argc; i++) {
        const id = c.argInt(i);
        if (id === null || id <= 0) {
          c.out.error('Invalid client ID');
          return;
        }
        filter.ids.push(id);
      }
    } else {
      c.out.error(SYNTAX);
      return;
    }
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
    const value = c.argString(i + 1);
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
    else if (c.argIs(i, 'user')) filter.user = value;
    else if (c.argIs(i, 'skipme')) {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no') {
        c.out.error(SYNTAX);
        return;
      }
      filter.skipMe = v === 'yes';
    } else if (c.argIs(i, 'maxage')) {
      const age = c.argInt(i + 1);
      if (age === null) {
        c.out.error(NOT_INTEGER);
        return;
      }
      filter.maxAgeSeconds = age;
    } else {
      c.out.error(SYNTAX);
      return;
    }
  }
  return c.server.killClients(filter).then((n) => (cc: CommandContext) => cc.out.integer(n));
}

function clientReply(c: CommandContext): void {
  if (c.argIs(2, 'on')) {
    c.client.replyMode = ReplyMode.On;
    c.out.ok();
  } else if (c.argIs(2, 'off')) {
    c.client.replyMode = ReplyMode.Off;
  } else if (c.argIs(2, 'skip')) {
    if (c.client.replyMode === ReplyMode.On) c.client.replyMode = ReplyMode.Skip;
  } else {
    c.out.error(SYNTAX);
  }
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

const CLIENT_HELP = [
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
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
  '    * ID <client-id>',
  '      Kill connections by client id.',
  '    * MAXAGE <maxage>',
  '      Kill connections older than the specified age.',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
  'REPLY (ON|OFF|SKIP)',
  '    Control the replies sent to the current connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'SETINFO <option> <value>',
  '    Set client meta attr. Options are:',
  '    * LIB-NAME: the client lib name.',
  '    * LIB-VER: the client lib version.',
  'HELP',
  '    Print this help.',
];

/** Replies a HELP text as an array of status lines, as Redis's addReplyHelp. */
export function replyHelp(c: CommandContext, lines: string[]): void {
  c.out.arrayHeader(lines.length);
  for (const l of lines) c.out.simple(l);
}

const sub = (name: string, arity: number, summary: string, handler: CommandSpec['handler'], flags: CommandSpec['flags'] = []) =>
  defineCommand({ name, arity, flags: ['noscript', 'loading', 'stale', ...flags], categories: ['connection'], group, summary, since: '2.4.0', handler });

export const connectionCommands: CommandSpec[] = [
  defineCommand({ name: 'ping', arity: -1, flags: ['fast'], categories: ['connection'], group,
    summary: 'Returns the server\'s liveliness response.', complexity: 'O(1)', handler: ping }),
  defineCommand({ name: 'echo', arity: 2, flags: ['fast'], categories: ['connection'], group,
    summary: 'Returns the given string.', complexity: 'O(1)', handler: echo }),
  defineCommand({ name: 'auth', arity: -2, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
    categories: ['connection'], group, summary: 'Authenticates the connection.', complexity: 'O(N) where N is the number of passwords defined for the user',
    handler: auth }),
  defineCommand({ name: 'hello', arity: -1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
    categories: ['connection'], group, since: '6.0.0', summary: 'Handshakes with the Redis server.', complexity: 'O(1)', handler: hello }),
  defineCommand({ name: 'select', arity: 2, flags: ['loading', 'stale', 'fast'], categories: ['connection'], group,
    summary: 'Changes the selected database.', complexity: 'O(1)', handler: select }),
  defineCommand({ name: 'quit', arity: -1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
    categories: ['connection'], group, summary: 'Closes the connection.', complexity: 'O(1)', handler: quit }),
  defineCommand({ name: 'reset', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
    categories: ['connection'], group, since: '6.2.0', summary: 'Resets the connection.', complexity: 'O(1)', handler: reset }),
  defineCommand({ name: 'client', arity: -2, flags: [], categories: ['connection'], group, since: '2.4.0',
    summary: 'A container for client connection commands.', complexity: 'Depends on subcommand.',
    subcommands: [
      sub('id', 2, 'Returns the unique client ID of the connection.', clientId),
      sub('setname', 3, 'Sets the connection name.', clientSetname),
      sub('getname', 2, 'Returns the name of the connection.', clientGetname),
      sub('setinfo', 4, 'Sets information specific to the client or connection.', clientSetinfo),
      sub('list', -2, 'Lists open connections.', clientList, ['admin']),
      sub('info', 2, 'Returns information about the connection.', clientInfo),
      sub('kill', -3, 'Terminates open connections.', clientKill, ['admin']),
      sub('reply', 3, "Instructs the server whether to reply to commands.", clientReply),
      sub('no-evict', 3, 'Sets the client eviction mode of the connection.', clientNoEvict, ['admin']),
      sub('help', 2, 'Returns helpful text about the different subcommands.', (c) => replyHelp(c, CLIENT_HELP)),
    ] }),
];
