/**
 * A full V8 garbage collection on demand (MEMORY PURGE): V8 collects when it
 * allocates, so a thread gone idle keeps its garbage, and with it the
 * heap figure of INFO memory, until then. The collector is reached through
 * V8's expose-gc flag, set for this isolate only when first needed.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | null = null;

export function collectGarbage(): void {
  if (gc === null) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}
