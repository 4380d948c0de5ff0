import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CovsegError } from '../../errors';
import { RUN_FILES } from '../../runs/run-files';
import type { EpochLog, RunSummary } from '../../training/trainer';
import type { ExperimentCell } from '../expand-grid';
import { readExperimentState, runDirOf, type CellState, type ExperimentState } from '../experiment-state';

/** One foreground class of a three-class cell (ground-glass, consolidation). */
export interface ClassResult {
  name: string;
  dice: number | null;
  iou: number | null;
}

/** One cell's test results as the report needs them; metrics are null until the cell is done. */
export interface CellResult {
  cell: ExperimentCell;
  state: CellState;
  error?: string;
  epochs: number | null;
  seconds: number | null;
  testLoss: number | null;
  dice: number | null;
  iou: number | null;
  miou: number | null;
  hd95: number | null;
  /** Three-class cells: each foreground class's per-image Dice and IoU on the test split (empty for the binary task). */
  perClass: ClassResult[];
  /** Per test slice Dice (null where undefined: empty truth and prediction), for paired tests. */
  slices: { id: string; dice: number | null }[];
  /** One entry per epoch from metrics.jsonl, for learning curves. */
  curve: Pick<EpochLog, 'epoch' | 'trainLoss' | 'valLoss' | 'valDice'>[];
}

async function readCurve(runDir: string): Promise<CellResult['curve']> {
  const file = join(runDir, RUN_FILES.metrics);
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => line.trim())
    .flatMap((line) => {
      try {
        const log = JSON.parse(line) as EpochLog;
        return [{ epoch: log.epoch, trainLoss: log.trainLoss, valLoss: log.valLoss, valDice: log.valDice }];
      } catch {
        // A line cut by a kill mid-write: the epochs before it still count.
        return [];
      }
    });
}

/** Reads every cell of an experiment folder: the state file for the grid, each run folder for its results. */
export async function collectResults(expDir: string): Promise<{ state: ExperimentState; results: CellResult[] }> {
  const state = await readExperimentState(expDir);
  if (!state) throw new CovsegError('not-found', 'no experiment in this folder', { file: expDir, fix: 'run `covseg experiment run FILE --out DIR` first, then report on DIR' });
  const results: CellResult[] = [];
  for (const cell of state.cells) {
    const runDir = runDirOf(expDir, cell.id);
    const record = state.records[cell.id];
    const summaryFile = join(runDir, RUN_FILES.summary);
    const summary = existsSync(summaryFile) ? (JSON.parse(await readFile(summaryFile, 'utf8')) as RunSummary) : undefined;
    const done = summary?.status === 'completed' && summary.test !== undefined;
    const metrics = done ? summary.test!.metrics : undefined;
    results.push({
      cell,
      state: done ? 'done' : record?.state === 'done' ? 'pending' : (record?.state ?? 'pending'),
      ...(record?.error ? { error: record.error } : {}),
      epochs: summary?.epochs ?? null,
      seconds: summary?.timings.totalSeconds ?? null,
      testLoss: done ? summary.test!.loss : null,
      dice: metrics?.dice ?? null,
      iou: metrics?.iou ?? null,
      miou: metrics?.miou ?? null,
      hd95: metrics?.hd95 ?? null,
      perClass: done ? (summary.test!.classes?.classes ?? []).map((c) => ({ name: c.name, dice: c.dice, iou: c.iou })) : [],
      slices: done ? summary.test!.slices.map((s) => ({ id: s.id, dice: s.dice })) : [],
      curve: await readCurve(runDir),
    });
  }
  return { state, results };
}
