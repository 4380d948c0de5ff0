import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { CovsegError } from '../errors';
import { diskFullError, isDiskFull } from '../files/disk-full';
import { processAlive } from '../concurrency/process-alive';

/** The lock file inside a folder that has one writer at a time (run, GAN or experiment folder). */
export const LOCK_FILE = '.lock';

/** Who holds a folder lock; stored as JSON in the lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
  /** The holder's start time in clock ticks since boot (Linux), so a reused pid is told apart. */
  processStart?: number;
  /** What took it, for the message a second writer sees (e.g. `covseg train`). */
  purpose: string;
  /** Unique per acquisition: a release or a takeover never removes someone else's lock. */
  nonce: string;
}

/** An exclusive lock on a folder; `release()` is idempotent and also runs on process exit. */
export interface FolderLock {
  readonly dir: string;
  readonly holder: LockHolder;
  release(): Promise<void>;
}

/** Start time of a process in clock ticks since boot from /proc, or undefined off Linux. */
function processStartOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name (field 2) may contain spaces, so count after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when the holder certainly no longer runs: same host and its pid is gone, or the pid now
 * belongs to a process that started at another time. A holder on another host is never stale:
 * its pid cannot be checked from here.
 */
export function isStale(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false;
  // pid 0 marks a torn lock file past its grace period (see readLockHolder).
  if (holder.pid <= 0 || !processAlive(holder.pid)) return true;
  const start = processStartOf(holder.pid);
  return holder.processStart !== undefined && start !== undefined && start !== holder.processStart;
}

/** A lock file younger than this with unreadable content is being written by its taker right now. */
const TORN_LOCK_GRACE_MS = 5_000;

/** Reads the holder of a folder's lock, or undefined when it is not locked. */
export async function readLockHolder(dir: string): Promise<LockHolder | undefined> {
  const file = join(dir, LOCK_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as LockHolder;
  } catch {
    // Killed between creating the file and writing it: after a grace period this is a dead lock.
    const age = Date.now() - ((await stat(file).catch(() => undefined))?.mtimeMs ?? 0);
    return { pid: 0, host: age > TORN_LOCK_GRACE_MS ? hostname() : '(being written)', since: new Date(Date.now() - age).toISOString(), purpose: 'unknown', nonce: text };
  }
}

function describeHolder(holder: LockHolder): string {
  if (holder.host === '(being written)') return 'another process that is taking the lock right now';
  return `${holder.purpose} (pid ${holder.pid} on ${holder.host}, since ${holder.since})`;
}

function busyError(dir: string, holder: LockHolder): CovsegError {
  return new CovsegError('busy', `${dir} is in use by ${describeHolder(holder)}; one writer at a time`, {
    file: join(dir, LOCK_FILE),
    fix:
      holder.host === hostname()
        ? `wait for it to finish, or stop it (kill ${holder.pid}); then run this again`
        : `wait for it to finish; if that machine is down, delete ${join(dir, LOCK_FILE)} and run this again`,
  });
}

/** Releases held locks when the process exits however it exits normally (process.exit, end of main). */
const heldLocks = new Map<string, LockHolder>();
let exitHookInstalled = false;

function releaseSync(file: string, nonce: string): void {
  try {
    const current = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    if (current.nonce === nonce) unlinkSync(file);
  } catch {
    // Already gone or replaced: nothing of ours to remove.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [file, holder] of heldLocks) releaseSync(file, holder.nonce);
  });
}

/** Moves a stale lock aside and checks it was the stale one (another taker may have replaced it meanwhile). */
async function takeOver(file: string, stale: LockHolder): Promise<void> {
  const aside = `${file}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(file, aside);
  } catch {
    return; // Someone else moved it first; the caller retries.
  }
  const text = await readFile(aside, 'utf8').catch(() => '');
  let nonce: string;
  try {
    nonce = (JSON.parse(text) as LockHolder).nonce;
  } catch {
    nonce = text;
  }
  if (nonce !== stale.nonce) {
    // We moved a fresh lock another process had just taken: put it back.
    await link(aside, file).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

/**
 * Takes the exclusive lock of `dir` (created if missing): a `.lock` file created with O_EXCL holding
 * pid, host, start time and purpose. A stale lock (holder dead on this host) is taken over; a live one
 * fails with a `busy` error naming the holder. Release it in a `finally`; it is also released when
 * the process exits, and a kill -9 leaves a lock the next taker detects as stale.
 */
export async function acquireFolderLock(dir: string, purpose: string): Promise<FolderLock> {
  const folder = resolve(dir);
  const file = join(folder, LOCK_FILE);
  await mkdir(folder, { recursive: true });
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    ...(processStartOf(process.pid) !== undefined ? { processStart: processStartOf(process.pid)! } : {}),
    purpose,
    nonce: randomBytes(12).toString('hex'),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    let handle;
    try {
      handle = await open(file, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const current = await readLockHolder(folder);
      if (!current) continue; // Released between our open and our read.
      if (!isStale(current)) throw busyError(folder, current);
      await takeOver(file, current);
      continue;
    }
    try {
      await handle.writeFile(`${JSON.stringify(holder, null, 2)}\n`);
      await handle.sync();
      await handle.close();
    } catch (error) {
      // An empty lock would hold others off for its grace period: remove it (it is ours, created just now).
      await handle.close().catch(() => undefined);
      await rm(file, { force: true });
      if (isDiskFull(error)) throw diskFullError(file, error);
      throw error;
    }
    heldLocks.set(file, holder);
    installExitHook();
    let released = false;
    return {
      dir: folder,
      holder,
      release: async () => {
        if (released) return;
        released = true;
        heldLocks.delete(file);
        const current = await readLockHolder(folder);
        if (current?.nonce === holder.nonce) await rm(file, { force: true });
      },
    };
  }
  const current = await readLockHolder(folder);
  throw busyError(folder, current ?? { ...holder, pid: 0, purpose: 'another process' });
}

/** {@link acquireFolderLock} for a run folder, as every writer of one must (train, resume). */
export function acquireRunLock(runDir: string, purpose = 'covseg train'): Promise<FolderLock> {
  return acquireFolderLock(runDir, purpose);
}

/** Fails with the holder when a live process holds `dir`'s lock; for commands about to replace the folder. */
export async function refuseLockedFolder(dir: string): Promise<void> {
  const holder = await readLockHolder(resolve(dir));
  if (holder && !isStale(holder)) throw busyError(resolve(dir), holder);
}
