import * as tf from '@tensorflow/tfjs-core';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { selectBackend, type BackendChoice } from '../backend/select-backend';
import { openDataset } from '../datasets/open-dataset';
import { CovsegError } from '../errors';
import { writeFileAtomic } from '../files/atomic-write';
import { readGray, encodeGrayPng } from '../imaging/png-io';
import { createLoss } from '../losses/segmentation-losses';
import { inferenceCopy } from '../models/registry';
import { openEngine, type EngineChoice } from '../onnx/segmentation-engine';
import { loadCheckpoint } from '../runs/checkpoints';
import { readRun } from '../runs/read-run';
import { CLASS_NAMES, taskOf, type EvalResolution } from './class-task';
import { evaluateInferenceCopy, loadOriginalTargets, type Evaluation } from './evaluate';
import { evaluateWithEngine } from './evaluate-engine';
import { predictSlice, predictSliceWithEngine } from './predict-mask';
import { classMapPixels } from './predictions';
import { prepareSlices } from './slice-cache';

export type EvalSplit = 'train' | 'val' | 'test' | 'all';

/**
 * Evaluates a run's `best` (or `last`) checkpoint on one split of its data, or on all slices of `data`.
 * `engine` (default tfjs, the engine training validated with) picks ONNX Runtime or tfjs; the result
 * says which ran.
 */
export async function evaluateRun(
  runDir: string,
  options: { data?: string; split?: EvalSplit; checkpoint?: 'best' | 'last'; backend?: BackendChoice; cacheDir?: string; resolution?: EvalResolution; engine?: EngineChoice } = {},
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
  const withLabels = taskOf(config) !== 'lesion';
  const slices = await prepareSlices(dataset, ids, config.size, { ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}), withLabels });
  const originals = (options.resolution ?? 'original') === 'original' ? await loadOriginalTargets(dataset, ids, withLabels) : undefined;
  const { model } = await loadCheckpoint(run.dir, options.checkpoint ?? 'best');
  try {
    const loss = createLoss(config.loss, config.lossOptions);
    if ((options.engine ?? 'tfjs') !== 'tfjs') {
      const engine = await openEngine(options.engine!, model, config.model);
      try {
        const evaluation = await evaluateWithEngine(engine, slices, loss, config.batch, config.threshold, originals);
        return { ...evaluation, ids: ids.length, split, engine: engine.description };
      } finally {
        engine.dispose();
      }
    }
    const evaluation = await evaluateInferenceCopy(model, config.model, slices, loss, config.batch, config.threshold, originals);
    return { ...evaluation, ids: ids.length, split, engine: `tfjs (${tf.getBackend()})` };
  } finally {
    model.dispose();
  }
}

/** The image files `covseg predict` reads from `input`: one file, a folder of images, or a dataset's frames/. */
export async function listInputs(input: string): Promise<string[]> {
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
 * Predicts PNG slices with a run's best checkpoint: each slice is resized to the run's size,
 * predicted, and its probabilities resized back (bilinear) to the slice's own size before the
 * threshold or argmax. Written as `OUT/NAME.png`: a lesion mask 0/255, or for three-class runs a
 * class map 0/1/2 (0 background, 1 ground-glass, 2 consolidation — the `labels/` encoding). With
 * `probabilities`, also `OUT/probabilities/NAME_CLASS.png` per class, probability x 255.
 */
export async function predictImages(
  runDir: string,
  input: string,
  outDir: string,
  options: { backend?: BackendChoice; checkpoint?: 'best' | 'last'; probabilities?: boolean; engine?: EngineChoice; onEngine?: (description: string) => void } = {},
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
      const prediction = engine ? await predictSliceWithEngine(engine, image, size, threshold) : await predictSlice(model, image, size, threshold);
      const stem = basename(file, extname(file));
      const out = join(outDir, `${stem}.png`);
      await writeFileAtomic(out, await encodeGrayPng({ width: image.width, height: image.height, data: classMapPixels(prediction.classMap, prediction.channels) }));
      written.push(out);
      if (!options.probabilities) continue;
      const names = prediction.channels === 1 ? ['lesion'] : CLASS_NAMES[taskOf(run.record.config)];
      for (let c = 0; c < prediction.channels; c++) {
        const plane = Uint8Array.from({ length: image.width * image.height }, (_, i) => Math.round(255 * prediction.probabilities[i * prediction.channels + c]!));
        const map = join(outDir, 'probabilities', `${stem}_${names[c]!}.png`);
        await writeFileAtomic(map, await encodeGrayPng({ width: image.width, height: image.height, data: plane }));
        written.push(map);
      }
    }
  } finally {
    release();
    trained.dispose();
  }
  return written;
}
