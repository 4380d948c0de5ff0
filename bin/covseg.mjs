#!/usr/bin/env node
// The `covseg` command. An installed package runs the bundle in out/cli/ (`npm run build` makes it)
// with plain Node. A source checkout runs the TypeScript through tsx instead, so the CLI, the server
// and the tests always execute the current sources, never a stale build; COVSEG_BUNDLED=1 forces the
// bundle there too.
import { existsSync } from 'node:fs';

const sources = new URL('../src-main/cli.ts', import.meta.url);
const bundle = new URL('../out/cli/covseg.js', import.meta.url);
const useBundle = process.env.COVSEG_BUNDLED === '1' || !existsSync(sources);
if (useBundle && !existsSync(bundle)) {
  console.error('covseg: out/cli/covseg.js is missing; run `npm run build` (or reinstall the package)');
  process.exit(1);
}
let main;
if (useBundle) ({ main } = await import(bundle.href));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(sources.href));
}
process.exitCode = await main(process.argv.slice(2));
