#!/usr/bin/env node
// Bundles the `covseg` CLI and the worker threads it starts into out/cli/ as plain ES modules, so an
// installed package runs with Node alone (bin/covseg.mjs uses the bundle when the sources are not
// there). Dependencies stay in node_modules: native and wasm packages load their files at run time.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const external = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies, ...manifest.devDependencies });

await build({
  absWorkingDir: root,
  // Workers sit where start-worker.ts looks for them: next to the module that starts them, which in
  // the bundle is the entry itself (out/cli/).
  entryPoints: {
    covseg: 'src-main/cli.ts',
    'augment-lab-worker': 'src-main/services/augment-lab-worker.ts',
    'parallel/gradient-replica': 'src-main/engine/training/parallel/gradient-replica.ts',
  },
  outdir: 'out/cli',
  bundle: true,
  // No shared chunks: a worker is started relative to the module that starts it, which must be the
  // entry file in out/cli/, never a chunk in a subfolder.
  splitting: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external: [...external, ...external.map((name) => `${name}/*`)],
  logLevel: 'warning',
});
console.error('[build-cli] out/cli/covseg.js');
