import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, runCovsegBinary } from '../../fixtures/run-cli';
import { mitB0Checkpoint, writeSafetensors } from '../../fixtures/safetensors-writer';
import { tempDir } from '../../fixtures/temp-dir';
import { tinySample } from '../../fixtures/tiny-sample';

describe('covseg train --model segformer', () => {
  it('trains from a pretrained MiT-B0 file on two workers, records the model, then evaluates and predicts', async () => {
    const data = await tinySample(24, 32);
    const weights = join(await tempDir(), 'model.safetensors');
    await writeSafetensors(weights, mitB0Checkpoint());
    const out = join(await tempDir(), 'run');
    const trained = runCovsegBinary(['train', '--data', data, '--out', out, '--model', 'segformer', '--variant', 'b0', '--pretrained', weights, '--size', '32', '--epochs', '1', '--batch', '4', '--lr-schedule', 'poly', '--workers', '2', '--backend', 'wasm']);
    expect(trained.stderr).not.toMatch(/error/i);
    expect(trained.code).toBe(0);
    expect(trained.stdout).toMatch(/run completed: 1 epoch\(s\)/);
    const record = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(record.config.model).toMatchObject({ name: 'segformer', options: { variant: 'b0', outputs: 1, pretrained: weights } });
    expect(record.config.optimizer).toEqual({ name: 'adamw', weightDecay: 0.01 });
    expect(record.config.lrSchedule).toBe('poly');
    expect(record.workers).toBe(2);
    expect(record.modelInfo.parameters).toBe(3_711_777);
    expect(record.modelInfo.pretrained).toMatchObject({ file: weights, unexpected: ['classifier.bias', 'classifier.weight'] });
    const evaluated = await runCli(['eval', '--run', out, '--json']);
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.stdout).metrics.slices).toBeGreaterThan(0);
    const masks = join(await tempDir(), 'masks');
    const predicted = await runCli(['predict', '--run', out, '--input', data, '--out', masks]);
    expect(predicted.code).toBe(0);
    expect((await readdir(masks)).length).toBe(24);
  });

  it('rejects a size that is not a multiple of 32 and a missing weights file, before creating the run', async () => {
    const data = await tinySample(6, 32);
    const out = join(await tempDir(), 'run');
    const badSize = await runCli(['train', '--data', data, '--out', out, '--model', 'segformer', '--size', '48']);
    expect(badSize.code).toBe(2);
    expect(badSize.stderr).toMatch(/--size must be a multiple of 32 for segformer, got 48/);
    const missing = await runCli(['train', '--data', data, '--out', out, '--model', 'segformer', '--size', '32', '--pretrained', join(data, 'nope.safetensors'), '--backend', 'wasm']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/cannot read the weights file.*nope\.safetensors/);
    await expect(readdir(out)).rejects.toThrow();
  });
});
