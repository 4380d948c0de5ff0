import { describe, expect, it } from 'vitest';
import { cellTrainArgs, expandGrid } from '../../../../src-main/engine/experiments/expand-grid';
import { validateExperiment } from '../../../../src-main/engine/experiments/experiment-file';

const spec = (axes: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  validateExperiment({ name: 'g', dataset: '/d', axes: { recipes: ['origin', 'fliprot+elastic'], models: ['unet'], losses: ['bce', 'dice'], seeds: [1, 2, 3], ...axes }, ...extra }, 'f', '/');

describe('expandGrid', () => {
  it('makes one cell per combination with unique, readable ids', () => {
    const cells = expandGrid(spec({}));
    expect(cells).toHaveLength(12);
    expect(new Set(cells.map((c) => c.id)).size).toBe(12);
    expect(cells[0]!.id).toBe('origin__unet__bce__s1');
    expect(cells.at(-1)!.id).toBe('fliprot+elastic__unet__dice__s3');
  });

  it('puts extra axes and several class tasks into the ids and the train arguments', () => {
    const cells = expandGrid(spec({ epochs: [5, 10], classes: ['lesion', 'ggo-consolidation'] }, { fixed: { size: 64 }, gan: { pairs: 'gan' } }));
    expect(cells).toHaveLength(2 * 2 * 2 * 2 * 3);
    const cell = cells.find((c) => c.id === 'origin__unet__dice__ggo-consolidation__epochs-10__s2')!;
    expect(cell).toBeDefined();
    const args = cellTrainArgs(spec({ epochs: [5, 10] }, { fixed: { size: 64 }, gan: { pairs: 'gan' } }), cell, '/e/runs/x', '/e/split.json', 1);
    expect(args.slice(0, 5)).toEqual(['train', '--data', '/d', '--out', '/e/runs/x']);
    for (const [flag, value] of [['--split', '/e/split.json'], ['--loss', 'dice'], ['--seed', '2'], ['--classes', 'ggo-consolidation'], ['--epochs', '10'], ['--size', '64'], ['--gan-dir', '/gan'], ['--workers', '1']]) {
      expect(args[args.indexOf(flag!) + 1]).toBe(value);
    }
  });
});
