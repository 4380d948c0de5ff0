import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LUNG_WINDOW } from '../../../../src-main/engine/datasets/hu-window';
import { readNifti } from '../../../../src-main/engine/datasets/nifti-volume';
import { affineToQuaternion } from '../../../../src-main/engine/datasets/nifti-write';
import { encodeGrayPng, readGray } from '../../../../src-main/engine/imaging/png-io';
import { lesionBurden, voxelVolumeMm3 } from '../../../../src-main/engine/studies/lesion-burden';
import { volumeLungs } from '../../../../src-main/engine/studies/volume-lungs';
import { predictVolume } from '../../../../src-main/engine/studies/predict-volume';
import { train } from '../../../../src-main/engine/training/trainer';
import { writeTestSeries } from '../../../fixtures/dicom-writer';
import { writeNifti } from '../../../fixtures/nifti-writer';
import { runCli } from '../../../fixtures/run-cli';
import { tempDir } from '../../../fixtures/temp-dir';
import { tinyConfig } from '../../../fixtures/tiny-sample';
import { writeSyntheticSample } from '../../../../src-main/engine/datasets/synthetic/write-sample';

// Debian's interpreter first: python3-nibabel installs there, whatever python3 is first on PATH.
const python = ['/usr/bin/python3', 'python3'].find((bin) => spawnSync(bin, ['-c', 'import nibabel, numpy']).status === 0);
const pydicom = ['/usr/bin/python3', 'python3'].find((bin) => spawnSync(bin, ['-c', 'import nibabel, pydicom, numpy']).status === 0);

/** An oblique-free but left-handed affine with unequal voxel sizes and an offset: qfac, pixdim and origin all matter. */
const AFFINE = [
  [-0.8, 0, 0, 101.5],
  [0, 0.7, 0, -52.25],
  [0, 0, 2.5, 20],
  [0, 0, 0, 1],
];
const [NX, NY] = [48, 40];

/** HU that the lung window maps back to exactly `pixel` (the inverse of windowHu). */
const huOf = (pixel: number) => LUNG_WINDOW.level - LUNG_WINDOW.width / 2 + (pixel / 255) * LUNG_WINDOW.width;

describe('whole-volume prediction', () => {
  let data: string;
  let runDir: string;
  /** Frames of the sample cropped to NX x NY, one per k, and the NIfTI volume made of them. */
  let frames: string[];
  let study: string;

  // Shared by every test, so not in tempDir (which empties after each test).
  let shared: string;
  afterAll(() => rm(shared, { recursive: true, force: true }));

  beforeAll(async () => {
    shared = await mkdtemp(join(tmpdir(), 'covseg-volume-'));
    data = join(shared, 'data');
    await writeSyntheticSample(data, { count: 12, size: 48, seed: 7 });
    runDir = join(shared, 'run');
    await train({ runDir, config: tinyConfig(data, { epochs: 2 }) });
    const names = (await readdir(join(data, 'frames'))).sort().slice(0, 6);
    const cropped = join(shared, 'cropped');
    await mkdir(cropped);
    frames = [];
    const values = new Float32Array(NX * NY * names.length);
    for (const [k, name] of names.entries()) {
      const image = await readGray(join(data, 'frames', name));
      const crop = new Uint8Array(NX * NY);
      for (let row = 0; row < NY; row++) crop.set(image.data.subarray(row * image.width, row * image.width + NX), row * NX);
      const file = join(cropped, `k${k}.png`);
      await writeFile(file, await encodeGrayPng({ width: NX, height: NY, data: crop }));
      frames.push(file);
      // Row 0 of a slice is the highest j (as the datasets show volumes).
      for (let row = 0; row < NY; row++) for (let i = 0; i < NX; i++) values[k * NX * NY + (NY - 1 - row) * NX + i] = huOf(crop[row * NX + i]!);
    }
    study = join(shared, 'study', 'study.nii.gz');
    await mkdir(join(shared, 'study'));
    await writeNifti(study, { shape: [NX, NY, names.length], values, datatype: 'float32', sform: AFFINE.slice(0, 3) });
  }, 120_000);

  it('writes labels on the source grid that match slice-by-slice prediction, and the burden in mL', async () => {
    const out = join(await tempDir(), 'labels.nii.gz');
    const progress: number[] = [];
    const result = await predictVolume(runDir, study, out, { engine: 'tfjs', batch: 4, onProgress: (p) => progress.push(p.done) });
    expect(progress).toEqual([4, 6]);
    const labels = await readNifti(out);
    expect(labels.shape).toEqual([NX, NY, frames.length]);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(labels.affine[r]![c]).toBeCloseTo(AFFINE[r]![c]!, 5);
    expect(new Set(labels.values)).toEqual(new Set([0, 1]));

    // The same slices as PNGs through `covseg predict`: the volume's k-slice must be that mask.
    const masks = join(await tempDir(), 'masks');
    const png = await runCli(['predict', '--run', runDir, '--input', join(frames[0]!, '..'), '--out', masks, '--engine', 'tfjs']);
    expect(png.code, png.stderr).toBe(0);
    let lesionVoxels = 0;
    for (let k = 0; k < frames.length; k++) {
      const mask = await readGray(join(masks, `k${k}.png`));
      for (let row = 0; row < NY; row++) {
        for (let i = 0; i < NX; i++) expect(labels.values[k * NX * NY + (NY - 1 - row) * NX + i], `k ${k} row ${row} column ${i}`).toBe(mask.data[row * NX + i]! / 255);
      }
      lesionVoxels += mask.data.filter((v) => v > 0).length;
    }
    expect(lesionVoxels).toBeGreaterThan(0);
    const { burden } = result;
    expect(burden.lesionVoxels).toBe(lesionVoxels);
    // The affine is read back from float32: mL agree to about 1e-7 relative.
    expect(burden.voxelVolumeMl).toBeCloseTo((0.8 * 0.7 * 2.5) / 1000, 9);
    expect(burden.lesionVolumeMl).toBeCloseTo((lesionVoxels * 0.8 * 0.7 * 2.5) / 1000, 5);
    expect(burden.lesionVolumeMl).toBe(lesionVoxels * burden.voxelVolumeMl);
    expect(burden.classes.map((c) => c.name)).toEqual(['lesion']);
    const involved = [...Array(frames.length).keys()].filter((k) => labels.values.subarray(k * NX * NY, (k + 1) * NX * NY).some((v) => v > 0)).length;
    expect(burden.slicesInvolved).toBe(involved);
    expect(burden.fractionSlicesInvolved).toBeCloseTo(involved / frames.length, 9);
    // The lungs come from the CT (volume-lungs.ts): the burden is the one the label volume and those lungs give.
    expect(burden.lungVolumeMl).toBeGreaterThan(0);
    expect(burden.lungInvolvedNote).toMatch(/lung mask/);
    const volume = await readNifti(study);
    expect(burden).toEqual(lesionBurden(Uint8Array.from(labels.values), volume.shape, volume.affine, ['background', 'lesion'], volumeLungs(volume)));
    expect(burden.lungs.map((l) => l.side)).toEqual(['right', 'left']);
    const report = JSON.parse(await readFile(result.reportJson, 'utf8'));
    expect(report.burden).toEqual(burden);
    const csv = (await readFile(result.reportCsv, 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(2);
    expect(csv[1]!.split(',')[4]).toBe(burden.lesionVolumeMl.toFixed(3));
    expect(csv[1]!.split(',')[10]).toBe(burden.lungInvolvedPercent!.toFixed(2));

    if (!python) {
      console.warn('python3-nibabel is not installed (apt-get install -y python3-nibabel): nibabel cross-check skipped');
      return;
    }
    const script = [
      'import json, sys, numpy as np, nibabel as nib',
      'a, b = nib.load(sys.argv[1]), nib.load(sys.argv[2])',
      'd = np.asarray(b.dataobj)',
      'print(json.dumps({"shape": list(b.shape), "same_shape": a.shape == b.shape, "affine": b.affine.tolist(), "source_affine": a.affine.tolist(),',
      '  "codes": [int(b.header["sform_code"]), int(b.header["qform_code"])], "source_codes": [int(a.header["sform_code"]), int(a.header["qform_code"])],',
      '  "values": sorted(np.unique(d).tolist()), "lesion": int((d > 0).sum()), "dtype": str(d.dtype), "zooms": [float(z) for z in b.header.get_zooms()]}))',
    ].join('\n');
    const seen = JSON.parse(execFileSync(python, ['-c', script, study, out], { encoding: 'utf8' }));
    expect(seen.same_shape).toBe(true);
    expect(seen.affine).toEqual(seen.source_affine);
    expect(seen.codes).toEqual(seen.source_codes);
    expect(seen.values).toEqual([0, 1]);
    expect(seen.dtype).toBe('uint8');
    expect(seen.lesion).toBe(lesionVoxels);
  }, 120_000);

  it('refuses an output inside the input folder or an existing one, and writes nothing then', async () => {
    const inside = join(study, '..', 'labels.nii.gz');
    await expect(predictVolume(runDir, study, inside)).rejects.toThrow(/never writes into its inputs/);
    expect(existsSync(inside)).toBe(false);
    const out = join(await tempDir(), 'labels.nii.gz');
    const first = await runCli(['predict', '--run', runDir, '--input', study, '--out', out, '--engine', 'tfjs', '--batch', '3']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/lesion burden/);
    expect(first.stdout).toMatch(/^input,run,engine,voxel_ml,lesion_ml/m);
    const folderOut = await runCli(['predict', '--run', runDir, '--input', study, '--out', join(out, '..', 'masks')]);
    // A usage error (bad-parameter): exit code 2.
    expect(folderOut.code).toBe(2);
    expect(folderOut.stderr).toMatch(/--out must name a \.nii\.gz file.*study-labels\.nii\.gz/s);
    const again = await runCli(['predict', '--run', runDir, '--input', study, '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists.*--force/s);
    const cancelled = new AbortController();
    cancelled.abort();
    const other = join(await tempDir(), 'cancelled.nii.gz');
    await expect(predictVolume(runDir, study, other, { engine: 'tfjs', signal: cancelled.signal })).rejects.toThrow(/cancelled/);
    expect(existsSync(other)).toBe(false);
  }, 120_000);

  it('gives a three-class run labels 0/1/2 and a burden per class', async () => {
    const three = join(await tempDir(), 'run3');
    await train({ runDir: three, config: tinyConfig(data, { epochs: 1, classes: 'ggo-consolidation', loss: 'ce+dice' }) });
    const out = join(await tempDir(), 'classes.nii.gz');
    const result = await predictVolume(three, study, out, { engine: 'tfjs' });
    const labels = await readNifti(out);
    expect([...new Set(labels.values)].every((v) => v === 0 || v === 1 || v === 2)).toBe(true);
    expect(result.burden.classes.map((c) => c.name)).toEqual(['ground-glass', 'consolidation']);
    const counts = [1, 2].map((v) => labels.values.filter((x) => x === v).length);
    expect(result.burden.classes.map((c) => c.voxels)).toEqual(counts);
    expect(result.burden.lesionVolumeMl).toBeCloseTo(((counts[0]! + counts[1]!) * voxelVolumeMm3(AFFINE)) / 1000, 5);
  }, 120_000);

  it('writes a DICOM series as NIfTI whose affine is the one pydicom geometry gives (skipped without python3-nibabel/pydicom)', async () => {
    const series = await tempDir();
    await writeTestSeries(join(series, 'ct'), { orientation: [1, 0, 0, 0, 0.6, -0.8], spacing: 1.25, origin: [12.5, -40, 300] });
    const out = join(await tempDir(), 'dicom-labels.nii.gz');
    const result = await predictVolume(runDir, series, out, { engine: 'tfjs' });
    expect(result.format).toBe('dicom');
    const labels = await readNifti(out);
    expect(labels.shape).toEqual([4, 3, 5]);
    // The qform written from the affine rebuilds the same rotation (checked apart from the sform nibabel prefers).
    const q = affineToQuaternion(result.affine);
    expect(q.pixdim.map((v) => Number(v.toFixed(4)))).toEqual([0.8, 0.7, 1.25]);
    if (!pydicom) {
      console.warn('python3-nibabel or python3-pydicom is not installed: DICOM geometry cross-check skipped');
      return;
    }
    // The affine from first principles (PS3.3 C.7.6.2.1.1) with pydicom, in RAS, j counted from the bottom row.
    const script = [
      'import json, os, sys, numpy as np, pydicom, nibabel as nib',
      'root = sys.argv[1]',
      'ds = [pydicom.dcmread(os.path.join(root, f)) for f in sorted(os.listdir(root))]',
      'iop = np.array(ds[0].ImageOrientationPatient, float); r, c = iop[:3], iop[3:]; n = np.cross(r, c)',
      'ds.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, float), n)))',
      'dr, dc = (float(v) for v in ds[0].PixelSpacing)',
      'pos = [np.array(d.ImagePositionPatient, float) for d in ds]',
      'step = float(np.median(np.diff([np.dot(p, n) for p in pos])))',
      'rows = int(ds[0].Rows)',
      'lps = np.eye(4); lps[:3, 0] = r * dc; lps[:3, 1] = -c * dr; lps[:3, 2] = n * step; lps[:3, 3] = pos[0] + (rows - 1) * dr * c',
      'ras = np.diag([-1, -1, 1, 1]) @ lps',
      'img = nib.load(sys.argv[2])',
      'qform = img.get_qform()',
      'print(json.dumps({"expected": ras.tolist(), "sform": img.affine.tolist(), "qform": qform.tolist(), "shape": list(img.shape)}))',
    ].join('\n');
    const seen = JSON.parse(execFileSync(pydicom, ['-c', script, join(series, 'ct'), out], { encoding: 'utf8' }));
    expect(seen.shape).toEqual([4, 3, 5]);
    for (const matrix of [seen.sform, seen.qform] as number[][][]) {
      for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(matrix[r]![c]).toBeCloseTo(seen.expected[r][c], 3);
    }
  }, 120_000);
});
