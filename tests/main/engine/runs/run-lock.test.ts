import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { open, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireFolderLock, isStale, LOCK_FILE, readLockHolder, type LockHolder } from '../../../../src-main/engine/runs/run-lock';
import { tempDir } from '../../../fixtures/temp-dir';
import { mountSmallDisk, smallDiskUnavailable } from '../../../fixtures/tmpfs';

const REPO = resolve(import.meta.dirname, '../../../..');
const unavailable = smallDiskUnavailable();
if (unavailable) console.warn(`run-lock.test.ts: the full-disk test is skipped, a tmpfs cannot be mounted here (${unavailable})`);

/** The pid of a process that has just exited (so certainly not alive now, barring immediate reuse). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

function lockText(holder: Partial<LockHolder>): string {
  return JSON.stringify({ pid: 1, host: hostname(), since: '2026-01-01T00:00:00.000Z', purpose: 'covseg train', nonce: 'old', ...holder });
}

describe('run lock', () => {
  it('lets one writer in and names it to the second', async () => {
    const dir = join(await tempDir(), 'run');
    const lock = await acquireFolderLock(dir, 'covseg train');
    const stored = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockHolder;
    expect(stored).toMatchObject({ pid: process.pid, host: hostname(), purpose: 'covseg train' });
    const second = await acquireFolderLock(dir, 'covseg train').catch((e: unknown) => e);
    expect(second).toMatchObject({ code: 'busy' });
    expect((second as Error).message).toContain(`pid ${process.pid} on ${hostname()}, since ${stored.since}`);
    await lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const again = await acquireFolderLock(dir, 'covseg train');
    await again.release();
  });

  it('takes over a lock whose holder died, and one whose pid now belongs to another process', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK_FILE), lockText({ pid: await deadPid() }));
    const lock = await acquireFolderLock(dir, 'covseg train');
    expect((await readLockHolder(dir))?.nonce).toBe(lock.holder.nonce);
    await lock.release();
    // Our own pid with another start time: the pid was reused after the holder died.
    const reused = { pid: process.pid, host: hostname(), since: '', purpose: '', nonce: 'x', processStart: -5 };
    expect(isStale(reused)).toBe(process.platform === 'linux');
  });

  it('never treats a lock from another host as stale', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK_FILE), lockText({ pid: await deadPid(), host: 'other-machine' }));
    const error = await acquireFolderLock(dir, 'covseg train').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'busy' });
    expect((error as { fix: string }).fix).toMatch(/if that machine is down, delete .*\.lock/);
  });

  it('treats an unreadable lock as being written at first, then as dead', async () => {
    const dir = await tempDir();
    const file = join(dir, LOCK_FILE);
    await writeFile(file, '');
    await expect(acquireFolderLock(dir, 'covseg train')).rejects.toThrow(/taking the lock right now/);
    const old = new Date(Date.now() - 60_000);
    await utimes(file, old, old);
    const lock = await acquireFolderLock(dir, 'covseg train');
    await lock.release();
  });

  it('is released when the holding process exits without releasing it, and left (stale) by kill -9', async () => {
    const dir = await tempDir();
    const script = `import { acquireFolderLock } from ${JSON.stringify(join(REPO, 'src-main/engine/runs/run-lock.ts'))};
      await acquireFolderLock(${JSON.stringify(dir)}, 'test');
      if (process.argv.includes('hang')) setInterval(() => {}, 1000); else process.exit(3);`;
    const exited = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' });
    expect(exited.status).toBe(3);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);

    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, 'hang'], { cwd: REPO, stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    while (!(await readLockHolder(dir))?.pid && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await readLockHolder(dir))?.pid).toBe(child.pid);
    await expect(acquireFolderLock(dir, 'covseg train')).rejects.toThrow(new RegExp(`pid ${child.pid}`));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lock = await acquireFolderLock(dir, 'covseg train');
    expect((await readLockHolder(dir))?.pid).toBe(process.pid);
    await lock.release();
  });

  it.skipIf(unavailable)('on a full disk says so and leaves no empty lock that would hold others off', async () => {
    const disk = mountSmallDisk(64 * 1024);
    if (typeof disk === 'string') throw new Error(disk);
    try {
      const dir = join(disk.dir, 'run');
      await acquireFolderLock(dir, 'probe').then((l) => l.release());
      const filler = await open(join(disk.dir, 'filler'), 'w');
      await filler.write(Buffer.alloc(1024 * 1024)).catch(() => undefined);
      await filler.close();
      await expect(acquireFolderLock(dir, 'covseg train')).rejects.toMatchObject({ code: 'disk-full' });
      expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    } finally {
      disk.unmount();
    }
  });
});
