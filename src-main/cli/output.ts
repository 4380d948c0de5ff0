import { CovsegError } from '../engine/errors';
import { isDiskFull } from '../engine/files/disk-full';

/** Where a command writes: stdout for results, stderr for progress and problems. Injected in tests. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** True when stderr is a terminal (progress bars redraw in place). */
  interactive: boolean;
}

/** What a command may touch: the streams, and the exit code it wants when it finishes normally. */
export interface CliContext extends CliIo {
  exitCode: number;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  interactive: Boolean(process.stderr.isTTY),
};

/** Thrown by commands for a usage error (exit code 2) after printing what is wrong. */
export class UsageError extends Error {}

/** Formats rows as an aligned plain-text table; numbers align right. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((row) => row.map((cell) => String(cell)))];
  const widths = header.map((_, c) => Math.max(...cells.map((row) => row[c]?.length ?? 0)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((row) => typeof row[c] === 'number'));
  const line = (row: string[]) => row.map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function percent(value: number, digits = 1): string {
  return `${(value * 100).toFixed(digits)}%`;
}

/** Maps an error to the exit code and message a user sees. */
export function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CovsegError) {
    io.err(`error: ${error.describe()}`);
    return error.code === 'bad-parameter' ? 2 : 1;
  }
  if (error instanceof UsageError) {
    io.err(`error: ${error.message}`);
    return 2;
  }
  const errno = error as NodeJS.ErrnoException | undefined;
  if (typeof errno?.code === 'string' && typeof errno.syscall === 'string') {
    // A file-system failure is the user's to fix, not a bug: say which path and what happened, no stack.
    const path = errno.path ? ` — file: ${errno.path}` : '';
    const fix = isDiskFull(error) ? 'free space on that disk, then run the command again' : 'check the path, that it is the kind of entry expected (file or folder) and its permissions';
    io.err(`error: ${isDiskFull(error) ? 'disk full' : errno.code} (${errno.syscall} failed: ${errno.message.replace(/^\w+: /, '')})${path} — fix: ${fix}`);
    return 1;
  }
  io.err(`error: ${(error as Error)?.stack ?? String(error)}`);
  return 1;
}
