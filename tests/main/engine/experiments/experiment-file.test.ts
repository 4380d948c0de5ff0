import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment, validateExperiment } from '../../../../src-main/engine/experiments/experiment-file';
import { tempDir } from '../../../fixtures/temp-dir';

const SMALLEST = { name: 'quick', dataset: 'DIR', axes: { recipes: ['origin', 'fliprot+elastic'], models: ['unet'], losses: ['bce'], seeds: [1, 2] }, fixed: { epochs: 1, size: 32 } };

describe('experiment file', () => {
  it('reads the smallest JSON file and the same keys in YAML alike, paths relative to the file', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'e.json'), JSON.stringify(SMALLEST));
    await writeFile(join(dir, 'e.yaml'), 'name: quick\ndataset: DIR\naxes:\n  recipes: [origin, fliprot+elastic]\n  models: [unet]\n  losses: [bce]\n  seeds: [1, 2]\nfixed: {epochs: 1, size: 32}\n');
    const json = await loadExperiment(join(dir, 'e.json'));
    expect(await loadExperiment(join(dir, 'e.yaml'))).toEqual(json);
    expect(json.dataset).toBe(join(dir, 'DIR'));
    expect(json.axes.classes).toEqual(['lesion']);
    expect(json.splitOptions).toEqual({ val: 0.25, test: 0.15, seed: 1 });
  });

  it('names the file and the key of a mistake', () => {
    const bad = { ...SMALLEST, axes: { ...SMALLEST.axes, models: ['resnet'] } };
    expect(() => validateExperiment(bad, '/x/e.json', '/x')).toThrow(/axes\.models\[0\]/);
    try {
      validateExperiment(bad, '/x/e.json', '/x');
    } catch (error) {
      expect((error as { file: string }).file).toBe('/x/e.json');
    }
    expect(() => validateExperiment({ ...SMALLEST, axes: { ...SMALLEST.axes, seeds: [] } }, 'f', '/')).toThrow(/axes\.seeds/);
    expect(() => validateExperiment({ ...SMALLEST, epochs: 3 }, 'f', '/')).toThrow(/experiment file: epochs: unknown key/);
    expect(() => validateExperiment({ ...SMALLEST, fixed: { learningRate: 1 } }, 'f', '/')).toThrow(/fixed\.learningRate/);
    expect(() => validateExperiment({ ...SMALLEST, axes: { ...SMALLEST.axes, speed: [1, 2] } }, 'f', '/')).toThrow(/axes\.speed is not a train option/);
    expect(() => validateExperiment({ ...SMALLEST, axes: { ...SMALLEST.axes, epochs: [1, 2] } }, 'f', '/')).toThrow(/epochs is both an axis and fixed/);
    expect(() => validateExperiment({ ...SMALLEST, axes: { ...SMALLEST.axes, seeds: [1, 1] } }, 'f', '/')).toThrow(/axes\.seeds lists a value twice/);
  });

  it('reports unparsable YAML and a missing file with the path', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'broken.yml'), 'name: [unclosed\n');
    await expect(loadExperiment(join(dir, 'broken.yml'))).rejects.toThrow(/not valid YAML/);
    await expect(loadExperiment(join(dir, 'absent.json'))).rejects.toThrow(/no experiment file/);
  });

  it('loads presets with a dataset, and refuses them without one', async () => {
    await expect(loadExperiment('quick')).rejects.toThrow(/needs a dataset/);
    const study = await loadExperiment('seed-study', { dataset: '/data/ct' });
    expect(study.axes.recipes).toHaveLength(8);
    expect(study.axes.recipes.length * study.axes.models.length * study.axes.losses.length * study.axes.seeds.length).toBe(96);
  });
});
