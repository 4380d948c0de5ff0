import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The folder where CovSeg puts what it makes when no output is named (split files, runs, the
 * built-in sample): `COVSEG_WORKSPACE`, else `~/.covseg`. Never inside a dataset, so default outputs
 * cannot touch anyone's data.
 */
export function defaultWorkspace(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.COVSEG_WORKSPACE ?? join(homedir(), '.covseg'));
}
