/**
 * Compiles src/store alone (with the project's compiler options) into a
 * temporary folder, for tests that run store code in worker threads or child
 * processes, where tap's TypeScript loader is not present. Compiling only the
 * store keeps these tests independent of work in progress elsewhere in src/
 * and of whether dist/ is current.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, tempDir } from './servers.js';

export interface CompiledStore {
  /** Folder holding the compiled modules: `${dir}/store/shard.js`, ... */
  dir: string;
  /** file: URL of a compiled store module, e.g. url('shard.js'). */
  url: (module: string) => string;
  remove: () => void;
}

export function compileStore(): CompiledStore {
  const dir = tempDir('weft-store-build-');
  const config = {
    extends: path.join(ROOT, 'tsconfig.json'),
    compilerOptions: {
      outDir: path.join(dir, 'store'),
      rootDir: path.join(ROOT, 'src', 'store'),
      typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      sourceMap: false,
    },
    include: [path.join(ROOT, 'src', 'store', '*.ts')],
  };
  const configPath = path.join(dir, 'tsconfig.json');
  fs.writeFileSync(configPath, JSON.stringify(config));
  // package.json "type": "module" so the emitted .js files load as ES modules.
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', configPath], {
    encoding: 'utf8',
  });
  if (tsc.status !== 0) throw new Error(`compiling src/store failed:\n${tsc.stdout}${tsc.stderr}`);
  return {
    dir,
    url: (module) => new URL(`file://${path.join(dir, 'store', module)}`).href,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
