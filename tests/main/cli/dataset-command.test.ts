import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../fixtures/run-cli';
import { writeTestSeries } from '../../fixtures/dicom-writer';
import { tempDir } from '../../fixtures/temp-dir';

describe('covseg dataset check on DICOM', () => {
  it('lists each series with its slices, gaps and why it is left out, and exits 1 on errors', async () => {
    const root = await tempDir();
    await writeTestSeries(join(root, 'images', 'p1', 'ct'), { skip: [2] });
    await writeTestSeries(join(root, 'images', 'p2'), { seriesUid: '1.2.90.1', modality: 'MR' });
    const result = await runCli(['dataset', 'check', root]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`dataset ${root} (dicom)`);
    expect(result.stdout).toContain('DICOM series: 2 (0 used)');
    expect(result.stdout).toMatch(/p1_ct: CT 4 slices 4x3, 0\.80 x 0\.70 x 2\.50 mm, 1 gap\(s\) \(1 slice\(s\) missing\).*left out: no label volume/);
    expect(result.stdout).toMatch(/p2: MR 5 slices.*left out: modality is MR/);
    expect(result.stdout).toMatch(/dicom-without-label .*labels\/p1_ct\.nii\.gz/s);
    const json = JSON.parse((await runCli(['dataset', 'check', root, '--json'])).stdout);
    expect(json.series.map((s: { name: string }) => s.name)).toEqual(['p1_ct', 'p2']);
  });
});
