import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../fixtures/run-cli';
import { tempDir } from '../../fixtures/temp-dir';
import { tinySample } from '../../fixtures/tiny-sample';

describe('covseg train reports its long phases', () => {
  it('prints scan, decode, validation and test progress lines, and writes them to the progress file', async () => {
    const data = await tinySample(20, 32);
    const out = join(await tempDir(), 'run');
    const progress = join(await tempDir(), 'progress.jsonl');
    const result = await runCli(['train', '--data', data, '--out', out, '--epochs', '1', '--size', '32', '--batch', '4', '--depth', '2', '--base-filters', '4', '--val', '0.25', '--test', '0.25', '--backend', 'wasm', '--progress-file', progress]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stderr.split('\n');
    // Each phase ends with a line naming every slice it handled; the decode line counts all three splits.
    expect(lines).toContainEqual('scanning the dataset: 20/20 slices');
    expect(lines).toContainEqual('decoding slices: 20/20 slices');
    expect(lines.some((l) => /^validation: (\d+)\/\1 slices$/.test(l))).toBe(true);
    expect(lines.some((l) => /^test evaluation: (\d+)\/\1 slices$/.test(l))).toBe(true);
    // Decoding comes before the first epoch, the test after the last.
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(at(/^decoding slices/)).toBeLessThan(at(/^epoch 1\/1/));
    expect(at(/^test evaluation/)).toBeGreaterThan(at(/^epoch 1\/1/));
    const messages = (await readFile(progress, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; phase?: string; done?: number; total?: number });
    const phases = messages.filter((m) => m.type === 'phase');
    expect(new Set(phases.map((m) => m.phase))).toEqual(new Set(['scan', 'decode', 'validation', 'test']));
    expect(phases.find((m) => m.phase === 'decode' && m.done === m.total)?.total).toBe(20);
  }, 120_000);
});
