import { utilityProcess } from 'electron';
import { createWriteStream } from 'node:fs';
import { COVSEG_BIN, type ProcessLauncher } from './services/process-launcher';

/**
 * Starts `covseg` in an Electron utility process: a Node environment Electron provides without the
 * RunAsNode fuse, which packaged builds turn off. Output goes to the log file, as with the Node
 * launcher. A utility process ends with the app; its run then reads as interrupted and resumes.
 */
export const utilityProcessLauncher: ProcessLauncher = async (args, { logFile }) => {
  const child = utilityProcess.fork(COVSEG_BIN, args, { stdio: 'pipe', serviceName: 'CovSeg training' });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolveExit) => {
    child.once('exit', (code) => {
      log.end();
      resolveExit({ code, signal: null });
    });
  });
  const pid = await new Promise<number>((resolvePid, reject) => {
    child.once('spawn', () => resolvePid(child.pid!));
    void exited.then(({ code }) => reject(new Error(`covseg exited (${code}) before it started`)));
  });
  return { pid, exited };
};
