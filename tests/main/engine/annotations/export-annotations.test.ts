import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnnotationStore } from '../../../../src-main/engine/annotations/annotation-store';
import { readExportManifest } from '../../../../src-main/engine/annotations/export-annotations';
import { openDataset } from '../../../../src-main/engine/datasets/open-dataset';
import { readNifti } from '../../../../src-main/engine/datasets/nifti-volume';
import { readGray } from '../../../../src-main/engine/imaging/png-io';
import { writePair } from '../../../fixtures/gray-png';
import { writeNifti } from '../../../fixtures/nifti-writer';
import { runCli } from '../../../fixtures/run-cli';
import { tempDir } from '../../../fixtures/temp-dir';
import { hashTree } from '../../../fixtures/tree-hash';

const edit = { tool: 'brush', source: 'manual' as const, status: 'corrected' as const, author: 'tester' };
/** Debian's python3, where python3-nibabel installs (a pyenv python3 earlier on PATH lacks it). */
const PYTHON = '/usr/bin/python3';
const HAVE_NIBABEL = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import nibabel'], { encoding: 'utf8' }).status === 0;
if (!HAVE_NIBABEL) console.warn('[tests] python3-nibabel is absent: the independent NIfTI cross-check of the exported label volume is skipped (apt-get install python3-nibabel).');

describe('covseg annotations export', () => {
  it('writes corrected slices of a PNG dataset as frames/, masks/, labels/ that read back as the edits; the dataset is untouched', async () => {
    const root = await tempDir();
    const data = join(root, 'data');
    for (const name of ['p1_a', 'p1_b', 'p2_a']) await writePair(data, name, 16, 4, true);
    const before = await hashTree(data);
    const workspace = join(root, 'ws');
    const store = await AnnotationStore.open(workspace, data);
    const painted = Uint8Array.from({ length: 256 }, (_, i) => (i % 16 < 5 ? 2 : i % 16 < 9 ? 1 : 0));
    await store.save('p1_a', { width: 16, height: 16, labels: painted }, 0, edit);
    await store.save('p1_b', { width: 16, height: 16, labels: new Uint8Array(256).fill(1) }, 0, { ...edit, source: 'prediction', status: 'predicted' });
    await store.save('p2_a', { width: 16, height: 16, labels: new Uint8Array(256) }, 0, { ...edit, status: 'reviewed' });

    const out = join(root, 'corrected');
    const result = await runCli(['annotations', 'export', workspace, '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/exported 2 slice\(s\)/);
    expect((await readdir(join(out, 'labels'))).sort()).toEqual(['p1_a.png', 'p2_a.png']);
    expect((await readGray(join(out, 'labels', 'p1_a.png'))).data).toEqual(painted);
    expect((await readGray(join(out, 'masks', 'p1_a.png'))).data).toEqual(painted.map((v) => (v ? 255 : 0)));
    expect((await readGray(join(out, 'frames', 'p1_a.png'))).data).toEqual((await readGray(join(data, 'frames', 'p1_a.png'))).data);
    // The export is a dataset covseg opens, with class labels, and its manifest names the version.
    const exported = await openDataset(out);
    expect(exported.slices.map((s) => s.id).sort()).toEqual(['p1_a', 'p2_a']);
    expect((await exported.load(exported.slices.find((s) => s.id === 'p1_a')!)).labels).toEqual(painted);
    const manifest = await readExportManifest(out);
    expect(manifest?.version).toMatch(/^[0-9a-f]{16}$/);
    expect(manifest?.slices.map((s) => [s.sliceId, s.status])).toEqual([['p1_a', 'corrected'], ['p2_a', 'reviewed']]);

    // Same content, same version; another edit, another version.
    const again = await runCli(['annotations', 'export', workspace, '--out', join(root, 'again'), '--json']);
    expect(JSON.parse(again.stdout).version).toBe(manifest?.version);
    await store.save('p1_a', { width: 16, height: 16, labels: new Uint8Array(256) }, 1, edit);
    const changed = await runCli(['annotations', 'export', workspace, '--out', join(root, 'changed'), '--json']);
    expect(JSON.parse(changed.stdout).version).not.toBe(manifest?.version);

    // Never into the dataset, never over a non-empty folder without --force.
    expect((await runCli(['annotations', 'export', workspace, '--out', join(data, 'out')])).stderr).toMatch(/never writes into/);
    expect((await runCli(['annotations', 'export', workspace, '--out', out])).stderr).toMatch(/not empty/);
    expect((await runCli(['annotations', 'export', join(root, 'nothing'), '--out', join(root, 'x')])).stderr).toMatch(/no annotations/);
    expect(await hashTree(data)).toEqual(before);
  });

  it('writes a NIfTI label volume on the source grid: same affine and shape, edited slice replaced, others and label 3 kept', async () => {
    const root = await tempDir();
    const data = join(root, 'ct');
    await mkdir(join(data, 'images'), { recursive: true });
    await mkdir(join(data, 'labels'), { recursive: true });
    const [nx, ny, nz] = [6, 5, 3];
    const sform = [
      [-0.7, 0, 0, 120.5],
      [0, 0.7, 0, -80.25],
      [0, 0, 2.5, -300],
    ];
    const hu = Int16Array.from({ length: nx * ny * nz }, (_, v) => -1000 + v * 10);
    // Slice 0 holds a 1 at (i 1, j 1), slice 1 a 3 (pleural effusion) at (i 0, j 0) and a 2 at (i 5, j 4).
    const labels = new Int16Array(nx * ny * nz);
    labels[1 + 1 * nx] = 1;
    labels[nx * ny] = 3;
    labels[nx * ny + 5 + 4 * nx] = 2;
    await writeNifti(join(data, 'images', 'case.nii.gz'), { shape: [nx, ny, nz], values: hu, datatype: 'int16', sform });
    await writeNifti(join(data, 'labels', 'case.nii.gz'), { shape: [nx, ny, nz], values: labels, datatype: 'int16', sform });
    const before = await hashTree(data);
    const workspace = join(root, 'ws');
    const store = await AnnotationStore.open(workspace, data);
    // The edit of slice 1 in the loader's coordinates: row 0 is j = ny - 1. Paint consolidation at row 0, column 2 (i 2, j 4); erase everything else.
    const edited = new Uint8Array(nx * ny);
    edited[0 * nx + 2] = 2;
    edited[4 * nx + 3] = 1; // row 4 = j 0, i 3
    await store.save('case:z001', { width: nx, height: ny, labels: edited }, 0, edit);

    const out = join(root, 'export');
    const result = await runCli(['annotations', 'export', workspace, '--out', out, '--json']);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout).volumes).toEqual(['label-volumes/case.nii.gz']);
    const source = await readNifti(join(data, 'labels', 'case.nii.gz'));
    const written = await readNifti(join(out, 'label-volumes', 'case.nii.gz'));
    expect(written.shape).toEqual(source.shape);
    expect(written.affine).toEqual(source.affine);
    const expected = Float32Array.from(source.values);
    expected[nx * ny + 5 + 4 * nx] = 0; // the edit erased the 2
    expected[nx * ny + 2 + 4 * nx] = 2;
    expected[nx * ny + 3 + 0 * nx] = 1;
    expect(Array.from(written.values)).toEqual(Array.from(expected));
    expect(written.values[nx * ny]).toBe(3);
    // The slice PNG agrees with the volume.
    expect((await readGray(join(out, 'labels', 'case_z001.png'))).data).toEqual(edited);

    if (HAVE_NIBABEL) {
      const check = spawnSync(
        PYTHON,
        ['-c', 'import sys, json, nibabel as nib, numpy as np; a = nib.load(sys.argv[1]); b = nib.load(sys.argv[2]); print(json.dumps({"affine": np.allclose(a.affine, b.affine), "shape": list(b.shape), "v": [int(b.get_fdata()[2, 4, 1]), int(b.get_fdata()[3, 0, 1]), int(b.get_fdata()[5, 4, 1]), int(b.get_fdata()[1, 1, 0]), int(b.get_fdata()[0, 0, 1])]}))', join(data, 'labels', 'case.nii.gz'), join(out, 'label-volumes', 'case.nii.gz')],
        { encoding: 'utf8' },
      );
      expect(check.stderr).toBe('');
      expect(JSON.parse(check.stdout)).toEqual({ affine: true, shape: [nx, ny, nz], v: [2, 1, 0, 1, 3] });
    }
    expect(await hashTree(data)).toEqual(before);
  });
});
