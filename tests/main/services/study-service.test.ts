import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudyProgress, StudyPredictionResult } from '../../../src-shared/contract';
import { LUNG_WINDOW } from '../../../src-main/engine/datasets/hu-window';
import { readNifti } from '../../../src-main/engine/datasets/nifti-volume';
import { writeSyntheticSample } from '../../../src-main/engine/datasets/synthetic/write-sample';
import { readGray } from '../../../src-main/engine/imaging/png-io';
import { loadOnnxRuntime, openEngine } from '../../../src-main/engine/onnx/segmentation-engine';
import { loadCheckpoint } from '../../../src-main/engine/runs/checkpoints';
import { readRun } from '../../../src-main/engine/runs/read-run';
import { train } from '../../../src-main/engine/training/trainer';
import { selectBackend } from '../../../src-main/engine/backend/select-backend';
import { resizeGray } from '../../../src-main/engine/imaging/resize';
import { createAppServices, type AppServices } from '../../../src-main/services/app-services';
import { DatasetService } from '../../../src-main/services/dataset-service';
import { FileAccess } from '../../../src-main/services/file-access';
import { RunsService } from '../../../src-main/services/runs-service';
import { writeNifti } from '../../fixtures/nifti-writer';
import { tinyConfig } from '../../fixtures/tiny-sample';

const SIZE = 48;
const DEPTH = 5;

describe('study predictions and the ONNX overlay in the app services', async () => {
  const ort = await loadOnnxRuntime();
  let root: string;
  let workspace: string;
  let volumes: string;
  let services: AppServices;
  const events: StudyProgress[] = [];
  const call = async <T,>(channel: string, request: unknown): Promise<T> => {
    const result = await services.dispatch(channel, request);
    if (!result.ok) throw new Error(`${channel}: ${result.error.message}`);
    return result.value as T;
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'covseg-studies-'));
    const sample = join(root, 'sample');
    await writeSyntheticSample(sample, { count: 12, size: SIZE, seed: 7 });
    workspace = join(root, 'workspace');
    await train({ runDir: join(workspace, 'runs', 'r1'), config: tinyConfig(sample, { epochs: 2 }) });
    // A NIfTI dataset whose one volume is DEPTH sample frames (HU through the inverse lung window).
    volumes = join(root, 'volumes');
    await mkdir(join(volumes, 'images'), { recursive: true });
    await mkdir(join(volumes, 'labels'));
    const names = (await readdir(join(sample, 'frames'))).sort().slice(0, DEPTH);
    const values = new Float32Array(SIZE * SIZE * DEPTH);
    for (const [k, name] of names.entries()) {
      const image = await readGray(join(sample, 'frames', name));
      for (let row = 0; row < SIZE; row++) {
        for (let i = 0; i < SIZE; i++) values[k * SIZE * SIZE + (SIZE - 1 - row) * SIZE + i] = LUNG_WINDOW.level - LUNG_WINDOW.width / 2 + (image.data[row * SIZE + i]! / 255) * LUNG_WINDOW.width;
      }
    }
    const sform = [[-0.75, 0, 0, 90], [0, 0.75, 0, -120], [0, 0, 2, 30]];
    await writeNifti(join(volumes, 'images', 'case1.nii.gz'), { shape: [SIZE, SIZE, DEPTH], values, datatype: 'float32', sform });
    await writeNifti(join(volumes, 'labels', 'case1.nii.gz'), { shape: [SIZE, SIZE, DEPTH], values: new Uint8Array(SIZE * SIZE * DEPTH), datatype: 'uint8', sform });
    services = createAppServices({ transport: 'http', workspace, allowedRoots: [volumes, sample], emit: (channel, payload) => channel === 'studies:progress' && events.push(payload as StudyProgress) });
  }, 120_000);
  afterAll(async () => {
    services?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('predicts the whole study of a slice in a covseg process, pushes progress, and serves its slices as the overlay', async () => {
    const opened = await call<{ id: string }>('datasets:open', { path: volumes });
    const started = await call<{ jobId: string; study: string; slices: number }>('studies:predict', { datasetId: opened.id, sliceId: 'case1:z002', runId: 'r1', engine: 'tfjs' });
    expect(started.study).toBe('case1');
    expect(started.slices).toBe(DEPTH);
    const deadline = Date.now() + 100_000;
    while (!events.some((e) => e.jobId === started.jobId && e.kind !== 'progress') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const end = events.find((e) => e.jobId === started.jobId && e.kind !== 'progress');
    expect(end?.kind, JSON.stringify(end)).toBe('completed');
    const progress = events.filter((e) => e.jobId === started.jobId && e.kind === 'progress');
    expect(progress.at(-1)).toMatchObject({ done: DEPTH, total: DEPTH });
    const result = (end as { result: StudyPredictionResult }).result;
    // Written in the workspace, never in the dataset.
    expect(result.output.startsWith(join(workspace, 'studies'))).toBe(true);
    expect(result.engine).toMatch(/^tfjs/);
    const labels = await readNifti(result.output);
    expect(labels.shape).toEqual([SIZE, SIZE, DEPTH]);
    const lesion = labels.values.filter((v) => v > 0).length;
    expect(result.burden.lesionVoxels).toBe(lesion);
    expect(result.burden.lesionVolumeMl).toBeCloseTo((lesion * 0.75 * 0.75 * 2) / 1000, 6);

    // The overlay of slice z003 is the volume's k = 3 plane, row 0 = highest j.
    const overlay = await call<{ width: number; height: number; mask: string }>('studies:slicePrediction', { jobId: started.jobId, datasetId: opened.id, sliceId: 'case1:z003' });
    const mask = Buffer.from(overlay.mask, 'base64');
    const plane = SIZE * SIZE;
    for (let row = 0; row < SIZE; row++) for (let i = 0; i < SIZE; i++) expect(mask[row * SIZE + i]).toBe(labels.values[3 * plane + (SIZE - 1 - row) * SIZE + i]);
    // And it is what the per-slice overlay of the same run predicts (same engine, same resizing).
    const datasets = new DatasetService(new FileAccess([volumes]));
    await datasets.openFolder(volumes);
    const perSlice = await new RunsService(join(workspace, 'runs'), datasets, () => false, { engine: 'tfjs' }).prediction('r1', volumes, 'case1:z003');
    expect(Buffer.from(perSlice.mask, 'base64').equals(mask)).toBe(true);

    const refused = await services.dispatch('studies:slicePrediction', { jobId: started.jobId, datasetId: opened.id, sliceId: 'nope:z001' });
    expect(refused.ok).toBe(false);
  }, 150_000);

  it('cancels a running study prediction (SIGINT to its process): a cancelled event, and no label volume', async () => {
    // A long study of 600 slices, so the prediction is still running when the cancel arrives.
    const long = join(root, 'long');
    await mkdir(join(long, 'images'), { recursive: true });
    await mkdir(join(long, 'labels'));
    const depth = 600;
    const values = new Float32Array(SIZE * SIZE * depth).map((_, n) => ((n * 7919) % 1500) - 1350);
    await writeNifti(join(long, 'images', 'long.nii.gz'), { shape: [SIZE, SIZE, depth], values, datatype: 'float32' });
    await writeNifti(join(long, 'labels', 'long.nii.gz'), { shape: [SIZE, SIZE, depth], values: new Uint8Array(SIZE * SIZE * depth), datatype: 'uint8' });
    const cancelling = createAppServices({ transport: 'http', workspace, allowedRoots: [long], emit: (channel, payload) => channel === 'studies:progress' && events.push(payload as StudyProgress) });
    try {
      const opened = await cancelling.dispatch('datasets:open', { path: long });
      expect(opened.ok).toBe(true);
      const started = await cancelling.dispatch('studies:predict', { datasetId: long, sliceId: 'long:z000', runId: 'r1', engine: 'tfjs' });
      if (!started.ok) throw new Error(started.error.message);
      const { jobId } = started.value as { jobId: string };
      const deadline = Date.now() + 100_000;
      while (!events.some((e) => e.jobId === jobId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const cancel = await cancelling.dispatch('studies:cancel', { jobId });
      expect(cancel).toEqual({ ok: true, value: { cancelled: true } });
      while (!events.some((e) => e.jobId === jobId && e.kind !== 'progress') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(events.find((e) => e.jobId === jobId && e.kind !== 'progress')?.kind).toBe('cancelled');
      const done = events.filter((e) => e.jobId === jobId && e.kind === 'progress').at(-1) as { done: number; total: number };
      expect(done.done).toBeLessThan(depth);
      expect(await readdir(join(workspace, 'studies', jobId))).not.toContain('labels.nii.gz');
    } finally {
      cancelling.dispose();
    }
  }, 150_000);

  it.skipIf(!ort)('predicts the overlay with ONNX Runtime when it loads, says so, and agrees with tfjs', async () => {
    const datasets = new DatasetService(new FileAccess([volumes]));
    await datasets.openFolder(volumes);
    const auto = new RunsService(join(workspace, 'runs'), datasets, () => false);
    const tfjs = new RunsService(join(workspace, 'runs'), datasets, () => false, { engine: 'tfjs' });
    try {
      // Through the contract, as the app asks for it.
      await call('datasets:open', { path: volumes });
      const viaContract = await call<{ engine?: string }>('runs:prediction', { runId: 'r1', datasetId: volumes, sliceId: 'case1:z001' });
      expect(viaContract.engine).toMatch(/^onnxruntime-node/);
      let differing = 0;
      for (let k = 0; k < DEPTH; k++) {
        const id = `case1:z00${k}`;
        const [a, b] = [await auto.prediction('r1', volumes, id), await tfjs.prediction('r1', volumes, id)];
        expect(a.engine).toMatch(/^onnxruntime-node/);
        expect(b.engine).toMatch(/^tfjs/);
        const [ma, mb] = [Buffer.from(a.mask, 'base64'), Buffer.from(b.mask, 'base64')];
        for (let n = 0; n < ma.length; n++) if (ma[n] !== mb[n]) differing++;
      }
      // Probabilities agree to 1e-4 (below), so only a pixel sitting on the threshold may flip.
      expect(differing).toBeLessThanOrEqual(2);

      // The probabilities themselves, on the overlay's engines.
      const run = await readRun(join(workspace, 'runs', 'r1'));
      await selectBackend('wasm');
      const { model } = await loadCheckpoint(run.dir, 'best');
      const [onnx, js] = [await openEngine('onnx', model, run.record.config.model), await openEngine('tfjs', model, run.record.config.model)];
      const slice = await datasets.entry(volumes).dataset.load(datasets.ref(volumes, 'case1:z002'));
      const size = run.record.config.size;
      const resized = await resizeGray({ width: slice.width, height: slice.height, data: slice.image }, size, size, 'bilinear');
      const x = Float32Array.from(resized.data, (v) => v / 255);
      const [pa, pb] = [(await onnx.run(x, 1, size)).probabilities, (await js.run(x, 1, size)).probabilities];
      let worst = 0;
      for (let n = 0; n < pa.length; n++) worst = Math.max(worst, Math.abs(pa[n]! - pb[n]!));
      expect(worst).toBeLessThan(1e-4);
      onnx.dispose();
      js.dispose();
      model.dispose();
    } finally {
      auto.dispose();
      tfjs.dispose();
    }
  }, 150_000);
});
