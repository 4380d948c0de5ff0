import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { describeBackend, selectBackend, type BackendInfo } from '../../../../src-main/engine/backend/select-backend';
import { linuxGpuDeviceNodePresent } from '../../../../src-main/engine/backend/webgpu-adapter';
import { writeSyntheticSample } from '../../../../src-main/engine/datasets/synthetic/write-sample';
import { train } from '../../../../src-main/engine/training/trainer';
import { runCli } from '../../../fixtures/run-cli';
import { NO_SWIFTSHADER } from '../../../fixtures/swiftshader';
import { tempDir } from '../../../fixtures/temp-dir';
import { tinyConfig } from '../../../fixtures/tiny-sample';

// SwiftShader runs every kernel on the CPU, slowly: 4 synthetic patients of 3 slices at 32 px
// (6 train, 3 val, 3 test), a 2-level U-Net with 4 filters, one batch of 6 per epoch. Both
// trainings use the same shapes, so the second reuses the compiled shaders.
const SHAPES = ['--size', '32', '--depth', '2', '--base-filters', '4', '--batch', '6', '--lr', '3e-3', '--val', '0.25', '--test', '0.25'];

async function sample(): Promise<string> {
  const dir = await tempDir('covseg-webgpu-sample-');
  await writeSyntheticSample(dir, { count: 12, size: 32, seed: 7, slicesPerPatient: 3 });
  return dir;
}

describe.skipIf(NO_SWIFTSHADER)('the webgpu backend on SwiftShader', () => {
  it('is refused by auto-selection (a software adapter is slower than wasm) and named when forced', async () => {
    const auto = await selectBackend('auto');
    expect(auto.name).not.toBe('webgpu');
    // Without a GPU device node the probe is not even started; with one, SwiftShader is refused as software.
    const reason = linuxGpuDeviceNodePresent() ? 'only a software adapter: SwiftShader' : 'no GPU device';
    expect(auto.skipped.some((s) => s.startsWith('@tensorflow/tfjs-backend-webgpu') && s.includes(reason))).toBe(true);
    const forced = await selectBackend('webgpu');
    expect(forced).toMatchObject({ name: 'webgpu', gpu: false, adapter: { vendor: 'google', architecture: 'swiftshader', software: true } });
    expect(forced.adapter!.limits.maxStorageBufferBindingSize).toBeGreaterThan(2 ** 20);
    expect(describeBackend(forced)).toMatch(/^webgpu \(@tensorflow\/tfjs-backend-webgpu 4\.22\.0, CPU: SwiftShader driver [\d.]+ \(google swiftshader, software\)\)$/);
    expect(tf.getBackend()).toBe('webgpu');
  });

  it('trains 2 epochs with `covseg train --backend webgpu`, evaluates, predicts, and records the adapter', async () => {
    const data = await sample();
    const out = join(await tempDir('covseg-webgpu-'), 'run');
    const result = await runCli(['train', '--data', data, '--out', out, '--backend', 'webgpu', '--epochs', '2', ...SHAPES, '--save-predictions', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const record = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { backend: BackendInfo; workers: number };
    expect(record.backend).toMatchObject({ name: 'webgpu', package: '@tensorflow/tfjs-backend-webgpu', adapter: { description: expect.stringContaining('SwiftShader'), software: true } });
    expect(record.workers).toBe(1);
    const epochs = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { trainLoss: number });
    expect(epochs).toHaveLength(2);
    expect(epochs[1]!.trainLoss).toBeLessThan(epochs[0]!.trainLoss);
    const summary = JSON.parse(result.stdout) as { backend: BackendInfo; test?: { metrics: { pooled: { dice: number } } } };
    expect(summary.backend.adapter?.architecture).toBe('swiftshader');
    expect(summary.test?.metrics.pooled.dice).toBeGreaterThanOrEqual(0);
    const predictions = readdirSync(join(out, 'predictions'));
    expect(predictions.length).toBeGreaterThan(0);
    expect(predictions.every((f) => f.endsWith('.png'))).toBe(true);
  });

  it('holds as many tensors and GPU bytes after the third epoch as after the second', async () => {
    const data = await sample();
    const runDir = join(await tempDir('covseg-webgpu-'), 'run');
    const memory: tf.MemoryInfo[] = [];
    await train({
      runDir,
      config: tinyConfig(data, { backend: 'webgpu', epochs: 3, batch: 6, split: { val: 0.25, test: 0.25, seed: 1 } }),
      hooks: [{ onEpochEnd: async () => void memory.push(tf.memory()) }],
    });
    expect(memory).toHaveLength(3);
    expect(memory[2]!.numTensors).toBe(memory[1]!.numTensors);
    expect(memory[2]!.numBytes).toBe(memory[1]!.numBytes);
    const gpuBytes = (m: tf.MemoryInfo) => (m as tf.MemoryInfo & { numBytesInGPU?: number }).numBytesInGPU;
    expect(gpuBytes(memory[1]!)).toBeGreaterThan(0);
    expect(gpuBytes(memory[2]!)).toBe(gpuBytes(memory[1]!));
    expect(existsSync(join(runDir, 'metrics.jsonl'))).toBe(true);
  });
});
