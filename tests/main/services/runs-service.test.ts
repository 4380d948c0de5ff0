import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { train } from '../../../src-main/engine/training/trainer';
import { DatasetService } from '../../../src-main/services/dataset-service';
import { FileAccess } from '../../../src-main/services/file-access';
import { RunsService } from '../../../src-main/services/runs-service';
import { tempDir } from '../../fixtures/temp-dir';
import { tinyConfig, tinySample } from '../../fixtures/tiny-sample';

describe('RunsService predictions of several runs (compare mode asks for two at once)', () => {
  let data: string;
  let runs: string;
  let datasets: DatasetService;

  beforeAll(async () => {
    data = await tinySample(16, 48);
    runs = await tempDir('covseg-runs-');
    await train({ runDir: join(runs, 'a'), config: tinyConfig(data, { epochs: 1, seed: 1 }) });
    await train({ runDir: join(runs, 'b'), config: tinyConfig(data, { epochs: 1, seed: 2, classes: 'ggo-consolidation' }) });
    datasets = new DatasetService(new FileAccess([data]));
    await datasets.openFolder(data);
  }, 120_000);
  afterAll(async () => {
    await rm(data, { recursive: true, force: true });
    await rm(runs, { recursive: true, force: true });
  });

  it('answers predictions of two runs requested together, each with the Dice and split that sliceScores reports', async () => {
    const service = new RunsService(runs, datasets, () => false, { engine: 'tfjs' });
    const ids = datasets.list(data).map((s) => s.id);
    // Each run alone, one prediction after the other, in a service of its own.
    const alone: Awaited<ReturnType<RunsService['prediction']>>[][] = [];
    for (const run of ['a', 'b']) {
      const own = new RunsService(runs, datasets, () => false, { engine: 'tfjs' });
      const answers: (typeof alone)[number] = [];
      for (const id of ids.slice(0, 4)) answers.push(await own.prediction(run, data, id));
      alone.push(answers);
      own.dispose();
    }
    // Run a is loaded; then both panes ask at once, slice after slice (a used to be disposed under its own prediction).
    await service.prediction('a', data, ids[0]!);
    const together = await Promise.all(ids.slice(0, 4).flatMap((id) => [service.prediction('a', data, id), service.prediction('b', data, id)]));
    ids.slice(0, 4).forEach((id, k) => {
      expect(together[2 * k]).toEqual(alone[0]![k]);
      expect(together[2 * k + 1]).toEqual(alone[1]![k]);
    });
    for (const run of ['a', 'b']) {
      const scores = new Map((await service.sliceScores(run, data)).map((s) => [s.sliceId, s]));
      for (const id of ids.slice(0, 4)) expect((await service.prediction(run, data, id)).score).toEqual(scores.get(id));
    }
    const b = await service.prediction('b', data, ids[0]!);
    expect(b.classes).toBe('ggo-consolidation');
    expect(b.score.split).toMatch(/^(train|val|test)$/);
    service.dispose();
  });
});
