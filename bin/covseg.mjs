#!/usr/bin/env node
// The `covseg` command runs the TypeScript sources directly through tsx, so the CLI, the server and
// the tests all execute the same engine code with no separate build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/cli.ts');
process.exitCode = await main(process.argv.slice(2));
