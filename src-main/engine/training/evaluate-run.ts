import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { selectBackend, type BackendChoice } from '../backend/select-backend';
import { openDataset } from '../datasets/open-dataset';
import { CovsegError } from '../errors';
import { writeFileAtomic } from '../files/atomic-write';
import { readGray, encodeGrayPng } from '../imaging/png-io';
import { createLoss } from '../losses/segmentation-losses';
import { inferenceCopy } from '../models/registry';
import { loadCheckpoint } from '../runs/checkpoints';
import { readRun } from '../runs/read-run';
import { evaluateInferenceCopy, type Evaluation } from './evaluate';
import { predictSliceMask } from './predict-mask';
import { prepareSlices } from './slice-cache';

export type EvalSplit = 'train' | 'val' | 'test' | 'all';

/** Evaluates a run's `best` (or `last`) checkpoint on one split of its data, or on all slices of `data`. */
export async function evaluateRun(
  runDir: string,
  options: { data?: string; split?: EvalSplit; checkpoint?: 'best' | 'last'; backend?: BackendChoice; cacheDir?: string } = {},
): Promise<Evaluation & { ids: number; split: EvalSplit }> {
  const run = await readRun(runDir);
  const { config } = run.record;
  await selectBackend(options.backend ?? config.backend);
  const dataset = await openDataset(options.data ?? config.data);
  const split = options.split ?? 'test';
  const ids = split === 'all' ? dataset.slices.map((s) => s.id) : run.record.split[split];
  const known = new Set(dataset.slices.map((s) => s.id));
  const missing = ids.filter((id) => !known.has(id));
  if (missing.length > 0) {
    throw new CovsegError('bad-split', `${missing.length} slice(s) of the run's ${split} split are not in ${dataset.root} (e.g. ${missing[0]})`, {
      fix: 'evaluate on the run\'s own data, or use --split all for another dataset',
    });
  }
  const slices = await prepareSlices(dataset, ids, config.size, options.cacheDir ? { cacheDir: options.cacheDir } : {});
  const { model } = await loadCheckpoint(run.dir, options.checkpoint ?? 'best');
  try {
    const evaluation = await evaluateInferenceCopy(model, config.model, slices, createLoss(config.loss, config.lossOptions), config.batch, config.threshold);
    return { ...evaluation, ids: ids.length, split };
  } finally {
    model.dispose();
  }
}

async function listInputs(input: string): Promise<string[]> {
  let info;
  try {
    info = await stat(input);
  } catch {
    throw new CovsegError('not-found', 'input does not exist', { file: input, fix: 'give a PNG file or a folder of PNGs (or a dataset folder with frames/)' });
  }
  if (info.isFile()) return [input];
  const dir = (await stat(join(input, 'frames')).catch(() => undefined))?.isDirectory() ? join(input, 'frames') : input;
  const files = (await readdir(dir)).filter((n) => ['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp'].includes(extname(n).toLowerCase())).sort();
  if (files.length === 0) throw new CovsegError('not-found', 'no images in the input folder', { file: dir, fix: 'put PNG slices there' });
  return files.map((n) => join(dir, n));
}

/**
 * Predicts lesion masks for PNG slices with a run's best checkpoint: each slice is resized to the
 * run's size, predicted, and the mask resized back (nearest) to the slice's own size; written as
 * `OUT/NAME.png` with 0/255 values.
 */
export async function predictImages(runDir: string, input: string, outDir: string, options: { backend?: BackendChoice; checkpoint?: 'best' | 'last' } = {}): Promise<string[]> {
  const run = await readRun(runDir);
  const { size, threshold } = run.record.config;
  await selectBackend(options.backend ?? run.record.config.backend);
  const files = await listInputs(input);
  const { model: trained } = await loadCheckpoint(run.dir, options.checkpoint ?? 'best');
  const { model, release } = inferenceCopy(trained, run.record.config.model);
  const written: string[] = [];
  try {
    for (const file of files) {
      const image = await readGray(file);
      const mask = await predictSliceMask(model, image, size, threshold);
      const out = join(outDir, `${basename(file, extname(file))}.png`);
      await writeFileAtomic(out, await encodeGrayPng({ width: image.width, height: image.height, data: mask.map((v) => v * 255) }));
      written.push(out);
    }
  } finally {
    release();
    trained.dispose();
  }
  return written;
}
