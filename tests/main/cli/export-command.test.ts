import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { train } from '../../../src-main/engine/training/trainer';
import { loadOnnxRuntime } from '../../../src-main/engine/onnx/segmentation-engine';
import { runCli } from '../../fixtures/run-cli';
import { tempDir } from '../../fixtures/temp-dir';
import { tinyConfig, tinySample } from '../../fixtures/tiny-sample';

describe('covseg export and --engine', async () => {
  const ort = await loadOnnxRuntime();
  if (!ort) console.warn('onnxruntime-node is not installed (an optional dependency): covseg export/--engine onnx checks are skipped');

  it.skipIf(!ort)('exports a run to ONNX, refuses to overwrite it, and evaluates and predicts with ONNX Runtime like tfjs', async () => {
    const data = await tinySample(12, 32);
    const runDir = join(await tempDir(), 'run');
    await train({ runDir, config: tinyConfig(data, { epochs: 1 }) });
    const file = join(await tempDir(), 'model.onnx');
    const exported = await runCli(['export', '--run', runDir, '--format', 'onnx', '--out', file]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/ONNX opset 13/);
    expect((await readFile(file)).byteLength).toBeGreaterThan(1000);
    const again = await runCli(['export', '--run', runDir, '--out', file]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/exists already.*--force/s);
    expect((await runCli(['export', '--run', runDir, '--out', file, '--force'])).code).toBe(0);

    const onnx = await runCli(['eval', '--run', runDir, '--split', 'all', '--engine', 'onnx', '--json']);
    const tfjs = await runCli(['eval', '--run', runDir, '--split', 'all', '--engine', 'tfjs', '--json']);
    expect(onnx.code).toBe(0);
    const [a, b] = [JSON.parse(onnx.stdout), JSON.parse(tfjs.stdout)];
    expect(a.engine).toMatch(/^onnxruntime-node/);
    expect(b.engine).toMatch(/^tfjs/);
    expect(a.loss).toBeCloseTo(b.loss, 4);
    // Same weights, same probabilities up to 1e-4: at most a pixel or two flips at the threshold.
    expect(a.metrics.slices).toBe(b.metrics.slices);
    expect(Math.abs((a.metrics.pooled.dice ?? 0) - (b.metrics.pooled.dice ?? 0))).toBeLessThan(0.01);
    const masks = join(await tempDir(), 'masks');
    const predicted = await runCli(['predict', '--run', runDir, '--input', data, '--out', masks, '--engine', 'onnx']);
    expect(predicted.stdout).toMatch(/wrote 12 mask\(s\).*engine onnxruntime-node/);
    expect(existsSync(masks)).toBe(true);
  });
});
