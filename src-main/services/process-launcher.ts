import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../engine/package-info';

/** The `covseg` command line script that training processes run. */
export const COVSEG_BIN = join(packageRoot(), 'bin', 'covseg.mjs');

/** A launched `covseg` process: its pid and, while this process can see it, its end. */
export interface LaunchedProcess {
  pid: number;
  /** Resolves when the process ends (exit code, or the signal that ended it). */
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/**
 * Starts `covseg <args>` with its stdout and stderr going to `logFile`. Injected into the
 * TrainingService so the services never import Electron: the CLI and `covseg serve` use
 * `nodeProcessLauncher`; the Electron app injects one built on `utilityProcess` (no RunAsNode).
 */
export type ProcessLauncher = (args: string[], options: { logFile: string }) => Promise<LaunchedProcess>;

/**
 * Runs the CLI under this Node binary as a detached process in its own process group, its output
 * in a file rather than a pipe: the training survives the server that launched it (no EPIPE, no
 * SIGHUP/SIGINT from the server's terminal), and a restarted server finds it again by its pid.
 */
export const nodeProcessLauncher: ProcessLauncher = async (args, { logFile }) => {
  const log = openSync(logFile, 'a');
  try {
    const child = spawn(process.execPath, [COVSEG_BIN, ...args], { detached: true, stdio: ['ignore', log, log], windowsHide: true });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolveExit) => {
      child.once('exit', (code, signal) => resolveExit({ code, signal }));
      child.once('error', () => resolveExit({ code: null, signal: null }));
    });
    const pid = await new Promise<number>((resolvePid, reject) => {
      child.once('spawn', () => resolvePid(child.pid!));
      child.once('error', reject);
    });
    // The server may exit while training goes on.
    child.unref();
    return { pid, exited };
  } finally {
    closeSync(log);
  }
};
