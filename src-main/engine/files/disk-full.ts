import { dirname } from 'node:path';
import { CovsegError } from '../errors';

/** True for the errors a full disk (or an exhausted quota) raises. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * The error a person sees for a full disk: "disk full", the file that could not be written and how
 * to go on. `then` says what to run once space is free (default: the same command again).
 */
export function diskFullError(file: string, cause: unknown, then = 'run the command again'): CovsegError {
  const folder = dirname(file);
  return new CovsegError('disk-full', `disk full: could not write ${file}`, {
    file,
    fix: `free space on the disk that holds ${folder} (see \`df -h ${folder}\`), then ${then}`,
    cause,
  });
}
