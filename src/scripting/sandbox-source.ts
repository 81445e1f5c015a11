/**
 * The Lua code that turns a fresh state into Redis 7.0's script
 * environment, run once per state under the chunk name `=weft`, after the
 * libraries and weft's C functions (the `weft` argument) are in place.
 *
 * Redis patches its Lua to have read-only tables; stock Lua 5.1 has none, so
 * each library table a script can reach is served through an empty proxy
 * whose metatable reads the real table and refuses writes with Redis's
 * message ("Attempt to modify a readonly table"). The globals a script sees
 * are such a proxy too, over a table whose missing names raise "Script
 * attempted to access nonexistent global variable". rawset, rawget, next,
 * pairs, ipairs, setmetatable, getmetatable (the strings' metatable comes
 * back read-only) and table.insert (lua-table-insert.ts) see through the
 * proxies as Redis's would through a read-only table. What Redis removes is absent
 * (print, dofile, loadfile, setfenv, getfenv, newproxy, module, require,
 * os, io, debug); loadstring and load refuse bytecode.
 *
 * It also makes the environments of function libraries (library_env): a
 * table read-only like the globals, which reads a reduced load-time API
 * until the library has loaded, then the globals themselves.
 *
 * Errors raised by these wrappers name the user's line, not this chunk: the
 * error handler skips C frames and frames of `=weft`. Local names match the
 * functions they wrap, so Lua's "bad argument #1 to 'rawset'" reads the same.
 */
export const SANDBOX_CHUNK = '=weft';

export const SANDBOX_SOURCE = `
local weft = ...
local real_G = _G
local type, error, tostring, select, unpack = type, error, tostring, select, unpack
local raw_setmetatable, raw_getmetatable = setmetatable, getmetatable
local raw_rawget, raw_rawset, raw_next, raw_pairs, raw_ipairs = rawget, rawset, next, pairs, ipairs
local raw_pcall, raw_loadstring = pcall, loadstring
local getinfo = debug.getinfo
local READONLY = 'Attempt to modify a readonly table'

local real_of = raw_setmetatable({}, {__mode = 'k'})
local function refuse() error(READONLY, 2) end
local hidden = {}
local function protect(real)
  local proxy = {}
  real_of[proxy] = real
  raw_setmetatable(proxy, {__index = real, __newindex = refuse, __metatable = hidden})
  return proxy
end
hidden = protect({})

local function rawset(t, k, v)
  if real_of[t] ~= nil then error(READONLY, 0) end
  local result = raw_rawset(t, k, v)
  return result
end
local function rawget(t, k)
  local real = real_of[t]
  local result = raw_rawget(real or t, k)
  return result
end
local function next(t, k)
  local real = real_of[t]
  return raw_next(real or t, k)
end
local function pairs(t)
  local real = real_of[t]
  if real ~= nil then return raw_next, real, nil end
  return raw_pairs(t)
end
local function ipairs(t)
  local real = real_of[t]
  if real ~= nil then return raw_ipairs(real) end
  return raw_ipairs(t)
end
local string_meta = raw_getmetatable('')
local string_meta_proxy = nil
local function setmetatable(t, m)
  if real_of[t] ~= nil or t == string_meta then error(READONLY, 0) end
  local result = raw_setmetatable(t, m)
  return result
end
local function getmetatable(o)
  local m = raw_getmetatable(o)
  if m == string_meta then return string_meta_proxy end
  return m
end
local function is_bytecode(s) return type(s) == 'string' and s:byte(1) == 27 end
local function loadstring(s, name)
  if is_bytecode(s) then return nil, 'attempt to load a binary chunk' end
  return raw_loadstring(s, name)
end
local function load(f, name)
  local pieces = {}
  while true do
    local piece = f()
    if piece == nil or piece == '' then break end
    if type(piece) ~= 'string' then return nil, 'reader function must return a string' end
    pieces[#pieces + 1] = piece
  end
  return loadstring(table.concat(pieces), name)
end
local function pcall_result(ok, ...)
  if not ok then
    local e = ...
    if type(e) == 'table' and type(raw_rawget(e, 'err')) == 'string' then return false, raw_rawget(e, 'err') end
  end
  return ok, ...
end
local function pcall(...)
  return pcall_result(raw_pcall(...))
end

-- The error handler of every script call: an error becomes a table {err=...}
-- (strings get Redis's ERR code) with the user's source and line.
local function error_handler(e)
  local level = 2
  local info = getinfo(level, 'Sl')
  while info ~= nil and (info.what == 'C' or info.source == '${SANDBOX_CHUNK}') do
    level = level + 1
    info = getinfo(level, 'Sl')
  end
  if type(e) ~= 'table' then e = {err = 'ERR ' .. tostring(e)} end
  if info ~= nil and real_of[e] == nil then
    raw_rawset(e, 'source', info.source)
    raw_rawset(e, 'line', info.currentline)
  end
  return e
end

real_G.rawset, real_G.rawget, real_G.next, real_G.pairs, real_G.ipairs = rawset, rawget, next, pairs, ipairs
real_G.setmetatable, real_G.getmetatable, real_G.loadstring, real_G.load, real_G.pcall = setmetatable, getmetatable, loadstring, load, pcall
real_G.print, real_G.dofile, real_G.loadfile, real_G.setfenv, real_G.getfenv = nil, nil, nil, nil, nil
real_G.newproxy, real_G.module, real_G.require, real_G.debug = nil, nil, nil, nil
real_G.__redis__err__handler = error_handler
math.random, math.randomseed = weft.random, weft.randomseed

-- table.insert writes with rawset, which a protected table's proxy would take: weft's own (a C
-- function, so that its errors name the user's line) refuses one, as Redis's read-only tables do.
-- remove and sort find a proxy empty, as Redis finds a library table's array part: they write nothing.
table.insert = weft.table_insert

local redis_real = raw_rawget(real_G, 'redis')
for _, name in raw_ipairs({'string', 'table', 'math', 'coroutine', 'redis', 'bit', 'cjson', 'struct', 'cmsgpack'}) do
  local lib = raw_rawget(real_G, name)
  if lib ~= nil then real_G[name] = protect(lib) end
end
string_meta.__index = real_G.string
string_meta_proxy = protect(string_meta)

local function nonexistent(_, name)
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end
local globals = protect(real_G)
real_G._G = globals
raw_setmetatable(real_G, {__index = nonexistent})

-- FUNCTION LOAD: a library's code runs in an environment of its own. While
-- it loads, that environment holds only a reduced redis table (Redis's
-- function load API); once loaded, it reads the globals every script sees,
-- so the functions it registered run as scripts do.
local load_redis = {register_function = weft.register_function}
for _, name in raw_ipairs({'log', 'LOG_DEBUG', 'LOG_VERBOSE', 'LOG_NOTICE', 'LOG_WARNING', 'REDIS_VERSION', 'REDIS_VERSION_NUM'}) do
  load_redis[name] = raw_rawget(redis_real, name)
end
raw_setmetatable(load_redis, {__index = nonexistent})
local load_globals = protect(raw_setmetatable({redis = protect(load_redis)}, {__index = nonexistent}))
local function library_env()
  local meta = {__index = load_globals, __newindex = refuse, __metatable = hidden}
  return raw_setmetatable({}, meta), function() meta.__index = globals end
end
return globals, error_handler, library_env, real_of
`;
