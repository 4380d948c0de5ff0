import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BackendInfo } from '../../../../src-main/engine/backend/select-backend';
import { CovsegError } from '../../../../src-main/engine/errors';
import { loadCheckpoint } from '../../../../src-main/engine/runs/checkpoints';
import { readRun } from '../../../../src-main/engine/runs/read-run';
import { resolveWorkers } from '../../../../src-main/engine/training/step-engine';
import { train } from '../../../../src-main/engine/training/trainer';
import { maxRelativeError } from '../../../fixtures/relative-error';
import { tempDir } from '../../../fixtures/temp-dir';
import { tinyConfig, tinySample } from '../../../fixtures/tiny-sample';

async function weightsOf(runDir: string): Promise<Float32Array> {
  const { model } = await loadCheckpoint(runDir, 'last');
  const all = model.getWeights().flatMap((w) => Array.from(w.dataSync() as Float32Array));
  model.dispose();
  return Float32Array.from(all);
}

describe('data-parallel training over two threads', () => {
  it('matches single-threaded training up to float error (model without batch norm)', async () => {
    const data = await tinySample();
    const noBatchNorm = { name: 'unet', options: { depth: 2, baseFilters: 4, batchNorm: false } };
    const single = join(await tempDir(), 'single');
    const parallel = join(await tempDir(), 'parallel');
    await train({ runDir: single, config: tinyConfig(data, { epochs: 2, workers: 1, model: noBatchNorm }) });
    await train({ runDir: parallel, config: tinyConfig(data, { epochs: 2, workers: 2, model: noBatchNorm }) });
    expect((await readRun(single)).record.workers).toBe(1);
    expect((await readRun(parallel)).record.workers).toBe(2);
    const a = await weightsOf(single);
    const b = await weightsOf(parallel);
    expect(maxRelativeError(b, a)).toBeLessThan(1e-3);
    // Not trivially equal: the parallel run really took a different arithmetic path.
    expect(Array.from(a)).not.toEqual(Array.from(b));
  });

  it('is deterministic: the same config gives bit-identical weights', async () => {
    const data = await tinySample();
    const first = join(await tempDir(), 'a');
    const second = join(await tempDir(), 'b');
    await train({ runDir: first, config: tinyConfig(data, { epochs: 1, workers: 2 }) });
    await train({ runDir: second, config: tinyConfig(data, { epochs: 1, workers: 2 }) });
    expect(Array.from(await weightsOf(second))).toEqual(Array.from(await weightsOf(first)));
  });
});

describe('replicas per backend', () => {
  const backend = (name: string): BackendInfo => ({ name, package: name, version: '4.22.0', gpu: name === 'webgpu', skipped: [] });

  it('runs one replica on a WebGPU device and refuses a second', () => {
    expect(resolveWorkers(0, backend('webgpu'))).toBe(1);
    expect(resolveWorkers(1, backend('webgpu'))).toBe(1);
    expect(() => resolveWorkers(2, backend('webgpu'))).toThrow(CovsegError);
    expect(() => resolveWorkers(2, backend('webgpu'))).toThrow(/one GPU runs one replica/);
    expect(resolveWorkers(2, backend('wasm'))).toBe(2);
  });
});
