import * as tf from '@tensorflow/tfjs-core';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { selectBackend, type BackendChoice } from '../backend/select-backend';
import { openDataset } from '../datasets/open-dataset';
import { CovsegError } from '../errors';
import { writeFileAtomic } from '../files/atomic-write';
import { readGray, encodeGrayPng } from '../imaging/png-io';
import { createLoss } from '../losses/segmentation-losses';
import { inferenceCopy, withInferenceModel } from '../models/registry';
import { openEngine, type EngineChoice } from '../onnx/segmentation-engine';
import { loadCheckpoint } from '../runs/checkpoints';
import { readRun } from '../runs/read-run';
import { evaluateModel, type Evaluation } from './evaluate';
import { evaluateWithEngine, predictSliceMaskWithEngine } from './evaluate-engine';
import { predictSliceMask } from './predict-mask';
import { prepareSlices } from './slice-cache';

export type EvalSplit = 'train' | 'val' | 'test' | 'all';

/**
 * Evaluates a run's `best` (or `last`) checkpoint on one split of its data, or on all slices of `data`.
 * `engine` (default tfjs, the engine training validated with) picks ONNX Runtime or tfjs; the result
 * says which ran.
 */
export async function evaluateRun(
  runDir: string,
  options: { data?: string; split?: EvalSplit; checkpoint?: 'best' | 'last'; backend?: BackendChoice; cacheDir?: string; engine?: EngineChoice } = {},
): Promise<Evaluation & { ids: number; split: EvalSplit; engine: string }> {
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
    if ((options.engine ?? 'tfjs') !== 'tfjs') {
      const engine = await openEngine(options.engine!, model, config.model);
      try {
        const evaluation = await evaluateWithEngine(engine, slices, createLoss(config.loss, config.lossOptions), config.batch, config.threshold);
        return { ...evaluation, ids: ids.length, split, engine: engine.description };
      } finally {
        engine.dispose();
      }
    }
    const evaluation = withInferenceModel(model, config.model, (m) => evaluateModel(m, slices, createLoss(config.loss, config.lossOptions), config.batch, config.threshold));
    return { ...evaluation, ids: ids.length, split, engine: `tfjs (${tf.getBackend()})` };
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
export async function predictImages(
  runDir: string,
  input: string,
  outDir: string,
  options: { backend?: BackendChoice; checkpoint?: 'best' | 'last'; engine?: EngineChoice; onEngine?: (description: string) => void } = {},
): Promise<string[]> {
  const run = await readRun(runDir);
  const { size, threshold } = run.record.config;
  await selectBackend(options.backend ?? run.record.config.backend);
  const files = await listInputs(input);
  const { model: trained } = await loadCheckpoint(run.dir, options.checkpoint ?? 'best');
  const engine = (options.engine ?? 'tfjs') === 'tfjs' ? undefined : await openEngine(options.engine!, trained, run.record.config.model);
  const { model, release } = engine ? { model: trained, release: () => engine.dispose() } : inferenceCopy(trained, run.record.config.model);
  options.onEngine?.(engine?.description ?? `tfjs (${tf.getBackend()})`);
  const written: string[] = [];
  try {
    for (const file of files) {
      const image = await readGray(file);
      const mask = engine ? await predictSliceMaskWithEngine(engine, image, size, threshold) : await predictSliceMask(model, image, size, threshold);
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
