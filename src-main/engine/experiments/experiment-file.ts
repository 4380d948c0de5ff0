import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CovsegError } from '../errors';
import { EXPERIMENT_PRESETS } from './experiment-presets';

/** Train options an experiment may fix or vary, with the `covseg train` flag each becomes. */
export const TRAIN_OPTION_FLAGS = {
  epochs: '--epochs',
  size: '--size',
  batch: '--batch',
  lr: '--lr',
  lrSchedule: '--lr-schedule',
  depth: '--depth',
  baseFilters: '--base-filters',
  dropout: '--dropout',
  patience: '--patience',
  variant: '--variant',
  recipeMode: '--recipe-mode',
  copies: '--copies',
  evalResolution: '--eval-resolution',
  backend: '--backend',
} as const;

export type TrainOptionName = keyof typeof TRAIN_OPTION_FLAGS;
type OptionValue = number | string;

const optionValue = z.union([z.number(), z.string()]);
const trainOptionKeys = Object.keys(TRAIN_OPTION_FLAGS) as [TrainOptionName, ...TrainOptionName[]];
const fixedSchema = z.partialRecord(z.enum(trainOptionKeys), optionValue);

const axesSchema = z
  .object({
    recipes: z.array(z.string().min(1)).min(1),
    models: z.array(z.enum(['unet', 'segformer'])).min(1),
    losses: z.array(z.string().min(1)).min(1),
    seeds: z.array(z.number().int()).min(1),
    classes: z.array(z.enum(['lesion', 'ggo-consolidation'])).min(1).optional(),
  })
  .catchall(z.array(optionValue).min(1));

const experimentSchema = z
  .object({
    name: z.string().regex(/^[\w.+-]+$/, 'use letters, digits, . _ + - only'),
    dataset: z.string().min(1),
    split: z.string().min(1).optional(),
    splitOptions: z.object({ val: z.number().gt(0).lt(1), test: z.number().gt(0).lt(1), seed: z.number().int() }).strict().optional(),
    axes: axesSchema,
    fixed: fixedSchema.optional(),
    gan: z.object({ pairs: z.string().min(1) }).strict().optional(),
  })
  .strict();

/** An experiment as written by its author: a grid of axes plus options every cell shares. */
export interface ExperimentSpec {
  name: string;
  /** Absolute dataset folder. */
  dataset: string;
  /** Absolute split file; made once if it does not exist yet. */
  split?: string;
  splitOptions: { val: number; test: number; seed: number };
  axes: { recipes: string[]; models: string[]; losses: string[]; seeds: number[]; classes: string[]; options: Partial<Record<TrainOptionName, OptionValue[]>> };
  fixed: Partial<Record<TrainOptionName, OptionValue>>;
  gan?: { pairs: string };
}

const DEFAULT_SPLIT = { val: 0.25, test: 0.15, seed: 1 };

function keyOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

/**
 * Checks a parsed experiment and resolves its paths against `baseDir` (the file's folder).
 * Errors name the file and the key, so a typo in a 96-run grid is found before anything runs.
 */
export function validateExperiment(raw: unknown, file: string, baseDir: string): ExperimentSpec {
  const parsed = experimentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // An unknown key is reported at its parent by zod; name the key itself, the likely typo.
    const unknown = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    const where = unknown === undefined ? keyOf(issue.path) : keyOf([...issue.path, unknown]);
    throw new CovsegError('bad-parameter', `experiment file: ${where}: ${unknown === undefined ? issue.message : 'unknown key'}`, {
      file,
      fix: 'see README "## Experiments" for the keys; the smallest file has name, dataset, axes (recipes, models, losses, seeds)',
    });
  }
  const data = parsed.data;
  const { recipes, models, losses, seeds, classes, ...rest } = data.axes;
  const options: ExperimentSpec['axes']['options'] = {};
  for (const [key, values] of Object.entries(rest)) {
    if (!(key in TRAIN_OPTION_FLAGS)) {
      throw new CovsegError('bad-parameter', `experiment file: axes.${key} is not a train option`, { file, fix: `axes may vary recipes, models, losses, seeds, classes and ${trainOptionKeys.join(', ')}` });
    }
    if (data.fixed && key in data.fixed) throw new CovsegError('bad-parameter', `experiment file: ${key} is both an axis and fixed`, { file, fix: `remove ${key} from axes or from fixed` });
    options[key as TrainOptionName] = values;
  }
  for (const [name, list] of Object.entries({ recipes, models, losses, seeds, classes: classes ?? [] })) {
    const seen = new Set(list.map(String));
    if (seen.size !== list.length) throw new CovsegError('bad-parameter', `experiment file: axes.${name} lists a value twice`, { file, fix: 'list each value once' });
  }
  const at = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));
  return {
    name: data.name,
    dataset: at(data.dataset),
    ...(data.split ? { split: at(data.split) } : {}),
    splitOptions: data.splitOptions ?? DEFAULT_SPLIT,
    axes: { recipes, models, losses, seeds, classes: classes ?? ['lesion'], options },
    fixed: data.fixed ?? {},
    ...(data.gan ? { gan: { pairs: at(data.gan.pairs) } } : {}),
  };
}

/** Parses JSON or YAML text (by extension: .yaml/.yml are YAML, anything else JSON). */
export function parseExperimentText(text: string, file: string): unknown {
  const yaml = ['.yaml', '.yml'].includes(extname(file).toLowerCase());
  try {
    return yaml ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new CovsegError('corrupt-file', `experiment file is not valid ${yaml ? 'YAML' : 'JSON'}: ${(error as Error).message}`, { file, fix: 'fix the syntax at the position given' });
  }
}

/**
 * Loads an experiment file, or a preset by name (`quick`, `seed-study`) — a preset needs
 * `dataset` to say which data it runs on.
 */
export async function loadExperiment(fileOrPreset: string, options: { dataset?: string } = {}): Promise<ExperimentSpec> {
  const preset = EXPERIMENT_PRESETS[fileOrPreset];
  if (preset) {
    if (!options.dataset) throw new CovsegError('bad-parameter', `preset "${fileOrPreset}" needs a dataset`, { fix: 'add --data DIR' });
    return validateExperiment({ ...preset, dataset: options.dataset }, `preset ${fileOrPreset}`, process.cwd());
  }
  const file = resolve(fileOrPreset);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new CovsegError('not-found', `no experiment file "${fileOrPreset}"`, { file, fix: `give a JSON/YAML experiment file or a preset: ${Object.keys(EXPERIMENT_PRESETS).join(', ')}` });
  }
  const raw = parseExperimentText(text, file);
  const withDataset = options.dataset && raw && typeof raw === 'object' ? { ...raw, dataset: options.dataset } : raw;
  return validateExperiment(withDataset, file, dirname(file));
}
