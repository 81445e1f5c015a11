/**
 * A worker thread's scripting, as the commands reach it (ScriptingAccess):
 * the Lua module is loaded on the thread's first scripting command, not at
 * start, so a node that never runs a script never pays for the engine
 * (about 2.4 MB of resident memory per thread).
 */
import type { ScriptingAccess } from '../commands/client-state.js';
import { loadLuaModule } from './lua-engine.js';
import { ScriptRunner } from './script-runner.js';
import { ScriptStore } from './script-store.js';
import { FunctionStore } from './function-store.js';
import { BusyScript } from './busy-script.js';

export class ThreadScripting implements ScriptingAccess {
  runner: ScriptRunner | null = null;
  private loading: Promise<void> | null = null;
  private readonly store: ScriptStore;

  private readonly functionStore: FunctionStore;

  /** The node's busy-script state, as this thread sees it. */
  readonly busy: BusyScript;

  constructor(storeBuffer: SharedArrayBuffer, functionBuffer: SharedArrayBuffer, busyBuffer: SharedArrayBuffer, thread: number) {
    this.store = new ScriptStore(storeBuffer);
    this.functionStore = new FunctionStore(functionBuffer);
    this.busy = new BusyScript(busyBuffer, thread);
  }

  /** Scripts in the node's cache, and the bytes of their bodies (INFO memory). */
  get cachedScripts(): number {
    return this.store.count;
  }

  get cachedBytes(): number {
    return this.store.bodyBytes;
  }

  start(): Promise<void> {
    this.loading ??= loadLuaModule().then((m) => {
      this.runner = new ScriptRunner(m, this.store, this.functionStore, this.busy);
    });
    return this.loading;
  }
}
