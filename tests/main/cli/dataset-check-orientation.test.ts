import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { writeSyntheticSample } from '../../../src-main/engine/datasets/synthetic/write-sample';
import { runCli } from '../../fixtures/run-cli';
import { tempDir } from '../../fixtures/temp-dir';

describe('covseg dataset check and the saved orientation', () => {
  it('says what the anatomy of a mirrored PNG dataset wants, and is quiet once that orientation is saved', async () => {
    const upright = await tempDir();
    await writeSyntheticSample(upright, { count: 12, size: 96, seed: 5 });
    // Stored mirrored left/right: the heart on the image's left.
    const mirrored = await tempDir();
    for (const folder of ['frames', 'masks']) {
      await mkdir(join(mirrored, folder), { recursive: true });
      for (const name of await readdir(join(upright, folder))) await sharp(join(upright, folder, name)).flop().toFile(join(mirrored, folder, name));
    }
    const before = process.env.COVSEG_WORKSPACE;
    process.env.COVSEG_WORKSPACE = await tempDir();
    try {
      const first = await runCli(['dataset', 'check', mirrored]);
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/orientation: shown none; the anatomy says flipH \(votes of 12 sampled slices: flipH x\d+/);
      expect(first.stdout).toMatch(/looks-mirrored/);
      expect(first.stdout).toMatch(/--orientation flipH`/);
      expect((await runCli(['dataset', 'orient', mirrored, '--orientation', 'flipH'])).code).toBe(0);
      const second = await runCli(['dataset', 'check', mirrored, '--json']);
      const report = JSON.parse(second.stdout);
      expect(report.orientation).toMatchObject({ shown: 'flipH', anatomy: 'flipH', sampled: 12 });
      expect(report.problems.map((p: { code: string }) => p.code)).not.toContain('looks-mirrored');
    } finally {
      if (before === undefined) delete process.env.COVSEG_WORKSPACE;
      else process.env.COVSEG_WORKSPACE = before;
    }
  });
});
