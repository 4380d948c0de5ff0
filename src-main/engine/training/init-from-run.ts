import { basename, join, resolve } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { CovsegError } from '../errors';
import { createModel } from '../models/registry';
import { loadCheckpoint, readPointer } from '../runs/checkpoints';
import { readJsonFile, RUN_FILES } from '../runs/run-files';
import type { RunRecord } from './trainer';
import type { TrainConfig } from './train-config';

/** The run a fine-tuning run started from (`parent` in its config.json): its lineage. */
export interface RunParent {
  runId: string;
  dir: string;
  /** The checkpoint whose weights were taken: the parent's best, at this epoch. */
  checkpoint: 'best';
  epoch: number;
  /** The annotation export the parent trained on, when it did. */
  annotationsVersion?: string;
}

/** Model options that change no weight's shape or value, so they may differ between parent and child. */
const FREE_OPTIONS = new Set(['pretrained', 'dropout', 'dropPath', 'seed']);

function architecture(config: TrainConfig): string {
  const options = Object.entries(config.model.options)
    .filter(([key]) => !FREE_OPTIONS.has(key))
    .sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify({ model: config.model.name, classes: config.classes, size: config.size, options });
}

/** `--model unet --classes lesion --size 64 --depth 2 --base-filters 4`: the settings to fine-tune a run with. */
function settingsOf(config: TrainConfig): string {
  const o = config.model.options;
  const parts = [`--model ${config.model.name}`, `--classes ${config.classes}`, `--size ${config.size}`];
  if (config.model.name === 'unet') parts.push(`--depth ${String(o.depth)}`, `--base-filters ${String(o.baseFilters)}`);
  if (o.variant !== undefined) parts.push(`--variant ${String(o.variant)}`);
  return parts.join(' ');
}

/**
 * Reads the run `config.initFrom` names and checks that the new run can start from its weights:
 * same model, options, classes and input size (a fine-tuned model keeps its parent's grid).
 * Fails before anything is written, naming the parent and the settings that would fit.
 */
export async function resolveInitFrom(config: TrainConfig): Promise<RunParent> {
  const dir = resolve(config.initFrom!);
  let record: RunRecord;
  try {
    record = await readJsonFile<RunRecord>(dir, RUN_FILES.config, 'run configuration');
  } catch (error) {
    throw new CovsegError('not-found', `--init-from ${dir} is not a run folder (${(error as Error).message})`, { file: dir, fix: 'give the folder of a finished `covseg train` run (RUNDIR with config.json and checkpoints/)', cause: error });
  }
  const pointer = await readPointer(dir, 'best');
  if (!pointer) {
    throw new CovsegError('bad-run', `--init-from ${dir} has no best checkpoint yet`, { file: join(dir, RUN_FILES.checkpoints), fix: 'let that run finish at least one epoch, or train from scratch without --init-from' });
  }
  const parentConfig = { ...record.config, classes: record.config.classes ?? 'lesion' };
  if (architecture(parentConfig) !== architecture(config)) {
    throw new CovsegError('bad-parameter', `--init-from ${dir} was trained as ${settingsOf(parentConfig)}, this run asks for ${settingsOf(config)}: its weights do not fit`, {
      file: join(dir, RUN_FILES.config),
      fix: `train with the parent's settings (${settingsOf(parentConfig)}), or from scratch without --init-from`,
    });
  }
  return {
    runId: basename(dir),
    dir,
    checkpoint: 'best',
    epoch: pointer.epoch,
    ...(record.dataset.annotationsVersion ? { annotationsVersion: record.dataset.annotationsVersion } : {}),
  };
}

/**
 * The model a run starts training from: seeded random weights, or with `initFrom` the parent's best
 * checkpoint copied into the same architecture (batch-norm statistics included). The optimizer
 * starts afresh either way.
 */
export async function initialModel(config: TrainConfig): Promise<tfl.LayersModel> {
  const model = createModel(config.model.name, { ...config.model.options, seed: config.seed });
  if (!config.initFrom) return model;
  try {
    const { model: parent } = await loadCheckpoint(resolve(config.initFrom), 'best');
    try {
      const weights = parent.getWeights();
      const own = model.getWeights();
      const mismatch = own.findIndex((w, k) => weights[k] === undefined || w.shape.join('x') !== weights[k]!.shape.join('x'));
      if (mismatch >= 0 || weights.length !== own.length) {
        throw new CovsegError('bad-parameter', `the best checkpoint of --init-from ${config.initFrom} does not fit this model (weight ${mismatch >= 0 ? mismatch : own.length} differs)`, {
          file: config.initFrom,
          fix: "train with the parent's model settings, or from scratch without --init-from",
        });
      }
      model.setWeights(weights);
    } finally {
      parent.dispose();
    }
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}
