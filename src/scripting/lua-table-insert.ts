/**
 * table.insert for the sandbox: Lua 5.1's tinsert (lua's ltablib.c), which
 * writes with rawset, with Redis's read-only tables: inserting into a
 * protected library table or the globals fails with "Attempt to modify a
 * readonly table" (the sandbox's proxies would otherwise take the write).
 * A C function, as the original, so that its argument errors carry the
 * calling line ("user_script:1: bad argument #1 to 'insert' ...").
 */
import { LUA_REGISTRYINDEX, LUA_TNIL, LUA_TTABLE } from './lua-engine.js';
import type { ScriptFunctions } from './script-environment.js';

const READONLY = 'Attempt to modify a readonly table';

export function tableInsertFunction(fns: ScriptFunctions): (L: number) => number {
  const m = fns.m;
  return (L) => {
    const lua = fns.lua;
    if (m._lua_type(L, 1) !== LUA_TTABLE) {
      lua.raiseWhere(`bad argument #1 to 'insert' (table expected, got ${fns.typeName(L, 1)})`, L);
    }
    m._lua_rawgeti(L, LUA_REGISTRYINDEX, fns.current!.readOnlyTables);
    m._lua_pushvalue(L, 1);
    m._lua_rawget(L, -2);
    const protectedTable = m._lua_type(L, -1) !== LUA_TNIL;
    m._lua_settop(L, -3);
    if (protectedTable) lua.raiseMessage(READONLY, L);
    let end = m._lua_objlen(L, 1) + 1;
    let position: number;
    const argc = m._lua_gettop(L);
    if (argc === 2) {
      position = end;
    } else if (argc === 3) {
      if (m._lua_isnumber(L, 2) === 0) lua.raiseWhere(`bad argument #2 to 'insert' (number expected, got ${fns.typeName(L, 2)})`, L);
      position = Math.trunc(m._lua_tonumber(L, 2)) | 0;
      if (position > end) end = position;
      for (let i = end; i > position; i--) {
        m._lua_rawgeti(L, 1, i - 1);
        m._lua_rawseti(L, 1, i);
      }
    } else {
      return lua.raiseWhere("wrong number of arguments to 'insert'", L);
    }
    m._lua_rawseti(L, 1, position);
    return 0;
  };
}
