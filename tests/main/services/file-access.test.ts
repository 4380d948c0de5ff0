import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileAccess, isInside } from '../../../src-main/services/file-access';
import { tempDir } from '../../fixtures/temp-dir';

describe('FileAccess', () => {
  it('treats ..name as a name, and .. as a way up', () => {
    expect(isInside('/data', '/data/..scans')).toBe(true);
    expect(isInside('/data', '/data')).toBe(true);
    expect(isInside('/data', '/')).toBe(false);
    expect(isInside('/data', '/data2')).toBe(false);
    expect(isInside('/data', '/data/../etc')).toBe(false);
  });

  it('resolves links before checking, and says "missing" only inside a granted folder', async () => {
    const base = await tempDir();
    const root = join(base, 'root');
    await mkdir(join(root, '..scans'), { recursive: true });
    await mkdir(join(base, 'private'));
    await symlink(join(base, 'private'), join(root, 'door'));
    const access = new FileAccess([root]);
    expect(await access.check(join(root, '..scans'))).toMatch(/\.\.scans$/);
    await expect(access.check(join(root, 'door'))).rejects.toThrow(/outside the folders/);
    await expect(access.check(join(root, 'door', 'missing'))).rejects.toThrow(/outside the folders/);
    await expect(access.check(join(base, 'private', 'missing'))).rejects.toThrow(/outside the folders/);
    await expect(access.check(join(root, 'missing'))).rejects.toThrow(/does not exist/);
  });

  it('refuses a tree whose links lead outside, and accepts links into another granted folder', async () => {
    const base = await tempDir();
    const root = join(base, 'root');
    const pool = join(base, 'pool');
    await mkdir(join(root, 'ds', 'frames'), { recursive: true });
    await mkdir(pool);
    await symlink(pool, join(root, 'ds', 'frames', 'shared'));
    await expect(new FileAccess([root]).confineTree(join(root, 'ds'))).rejects.toThrow(/links to a file or folder outside/);
    await expect(new FileAccess([root, pool]).confineTree(join(root, 'ds'))).resolves.toBeUndefined();
  });
});
