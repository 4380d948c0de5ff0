import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RECENT_LIMIT, RecentDatasets } from '../../../src-main/services/recent-datasets';
import { tempDir } from '../../fixtures/temp-dir';

const entry = (path: string) => ({ path, format: 'png-pairs' as const, slices: 3, openedAt: '2026-01-01T00:00:00.000Z' });

describe('RecentDatasets', () => {
  it('keeps datasets newest first, once each, at most the limit, and leaves other settings alone', async () => {
    const file = join(await tempDir(), 'settings.json');
    await writeFile(file, JSON.stringify({ theme: 'keep me' }));
    const recent = new RecentDatasets(file);
    for (let k = 0; k < RECENT_LIMIT + 2; k++) void recent.add(entry(`/data/${k}`));
    await recent.add(entry('/data/3'));
    const list = await recent.list();
    expect(list).toHaveLength(RECENT_LIMIT);
    expect(list[0]!.path).toBe('/data/3');
    expect(list.filter((r) => r.path === '/data/3')).toHaveLength(1);
    expect(list[1]!.path).toBe(`/data/${RECENT_LIMIT + 1}`);
    expect(JSON.parse(await readFile(file, 'utf8')).theme).toBe('keep me');
    // Another service on the same workspace (a restarted server) sees the same list.
    expect(await new RecentDatasets(file).includes('/data/3')).toBe(true);
  });

  it('starts empty on a damaged settings file instead of failing the open', async () => {
    const file = join(await tempDir(), 'settings.json');
    await writeFile(file, '{ torn');
    const recent = new RecentDatasets(file);
    expect(await recent.list()).toEqual([]);
    await recent.add(entry('/data/a'));
    expect((await recent.list()).map((r) => r.path)).toEqual(['/data/a']);
  });
});
