import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { transformStepProblems } from '../../../src-shared/contract/transform-parameters';
import { CovsegError } from '../errors';
import type { Random } from '../random/seeded-random';
import { randElastic } from './elastic';
import { randFlip, randRotate, randRotate90 } from './geometry';
import { digitalWeathering, randJpeg } from './jpeg';
import { cutMix, mixUp } from './mixing';
import type { Sample, Transform, TransformContext } from './sample';

/** One step of a recipe, as stored in JSON: a transform name and its parameters. */
export interface RecipeStep {
  type: string;
  [param: string]: unknown;
}

/**
 * A named augmentation recipe. `mode` decides what "origin + X" means:
 * - `online`: every batch sample goes through the steps afresh (random per batch);
 * - `offline`: the training set is the originals plus `copies` augmented copies of each, made once
 *   (seeded) before training.
 * `gan`: also train on generated image/mask pairs read from `ganDir` (a `covseg gan generate`
 * folder): the accepted pairs, or all when none was curated, at most `ganRatio` x the real training
 * slices when a ratio is given.
 */
export interface Recipe {
  name: string;
  mode: 'online' | 'offline';
  copies?: number;
  gan?: boolean;
  ganDir?: string;
  /** Generated : real pairs, e.g. 1 for as many generated pairs as training slices; absent uses every selected pair. */
  ganRatio?: number;
  steps: RecipeStep[];
}

const FACTORIES: Record<string, (params: Record<string, unknown>) => Transform> = {
  RandFlip: (p) => randFlip(p),
  RandRotate90: (p) => randRotate90(p),
  RandRotate: (p) => randRotate(p),
  RandElastic: (p) => randElastic(p),
  MixUp: (p) => mixUp(p),
  CutMix: (p) => cutMix(p),
  RandJpeg: (p) => randJpeg(p),
  DigitalWeathering: (p) => digitalWeathering(p),
};
export const TRANSFORM_NAMES = Object.keys(FACTORIES);

/**
 * Refuses a step whose transform is unknown or whose parameter is missing from, or outside, the
 * bounds every front end shares (src-shared/contract/transform-parameters.ts).
 */
function checkStep(step: RecipeStep, where: { file?: string; index?: number } = {}): void {
  const problems = typeof step?.type === 'string' ? transformStepProblems(step) : ['a step needs a "type" (the transform name)'];
  if (problems.length === 0) return;
  const prefix = where.index === undefined ? '' : `recipe step ${where.index + 1}: `;
  throw new CovsegError('bad-parameter', `${prefix}${problems.join('; ')}`, {
    ...(where.file ? { file: where.file } : {}),
    fix: `keep every parameter within its range (README, "Augmentation"); transforms: ${TRANSFORM_NAMES.join(', ')}`,
  });
}

export function createTransform(step: RecipeStep): Transform {
  checkStep(step);
  const factory = FACTORIES[step.type]!;
  const { type: _type, ...params } = step;
  return factory(params);
}

/** Applies the steps in order; every step draws from a generator forked per step, so adding one does not shift the others. */
export function composeRecipe(recipe: Recipe): (sample: Sample, random: Random, context: TransformContext) => Promise<Sample> {
  const transforms = recipe.steps.map(createTransform);
  return async (sample, random, context) => {
    let current = sample;
    for (let k = 0; k < transforms.length; k++) current = await transforms[k]!.apply(current, random.fork(`${k}:${transforms[k]!.name}`), context);
    return current;
  };
}

const FLIPROT: RecipeStep[] = [
  { type: 'RandFlip', prob: 0.5 },
  { type: 'RandRotate90', prob: 0.5 },
  { type: 'RandRotate', prob: 0.5, maxDegrees: 15 },
];
const ELASTIC: RecipeStep = { type: 'RandElastic', prob: 0.5, alpha: 8, sigma: 10 };
const MIXUP: RecipeStep = { type: 'MixUp', prob: 0.5, alpha: 0.4, maskPolicy: 'soft' };
const JPEG: RecipeStep = { type: 'DigitalWeathering', prob: 0.5, quality: 30, generations: 4, jitter: 'shift' };

/** The seed study's eight recipes. */
export const PRESET_RECIPES: Record<string, Recipe> = {
  origin: { name: 'origin', mode: 'online', steps: [] },
  'origin+gan': { name: 'origin+gan', mode: 'online', gan: true, steps: [] },
  'origin+gan+elastic': { name: 'origin+gan+elastic', mode: 'online', gan: true, steps: [ELASTIC] },
  'origin+gan+jpeg': { name: 'origin+gan+jpeg', mode: 'online', gan: true, steps: [JPEG] },
  'fliprot+elastic': { name: 'fliprot+elastic', mode: 'online', steps: [...FLIPROT, ELASTIC] },
  'fliprot+mixup': { name: 'fliprot+mixup', mode: 'online', steps: [...FLIPROT, MIXUP] },
  'mixup+jpeg': { name: 'mixup+jpeg', mode: 'online', steps: [MIXUP, JPEG] },
  'fliprot+mixup+jpeg': { name: 'fliprot+mixup+jpeg', mode: 'online', steps: [...FLIPROT, MIXUP, JPEG] },
};

function validate(recipe: Recipe, file?: string): Recipe {
  const where = file ? { file } : {};
  if (!recipe || typeof recipe.name !== 'string' || !Array.isArray(recipe.steps)) {
    throw new CovsegError('bad-parameter', 'a recipe needs a name and a steps list', { ...where, fix: 'see README: {"name": "...", "mode": "online", "steps": [{"type": "RandFlip", "prob": 0.5}]}' });
  }
  if (recipe.mode !== 'online' && recipe.mode !== 'offline') throw new CovsegError('bad-parameter', `recipe mode must be online or offline, got ${String(recipe.mode)}`, where);
  if (recipe.mode === 'offline' && !(Number.isInteger(recipe.copies) && recipe.copies! >= 1 && recipe.copies! <= 50)) {
    throw new CovsegError('bad-parameter', 'an offline recipe needs copies: 1-50 augmented copies per slice', where);
  }
  recipe.steps.forEach((step, index) => checkStep(step, { ...where, index }));
  recipe.steps.forEach(createTransform);
  if (recipe.ganRatio !== undefined && !(Number.isFinite(recipe.ganRatio) && recipe.ganRatio > 0 && recipe.ganRatio <= 100)) {
    throw new CovsegError('bad-parameter', `--gan-ratio must be a number in (0, 100] (generated : real), got ${recipe.ganRatio}`, { ...where, fix: 'for example --gan-ratio 1' });
  }
  if (recipe.gan) {
    if (!recipe.ganDir || !existsSync(join(recipe.ganDir, 'frames'))) {
      throw new CovsegError('unsupported', `recipe "${recipe.name}" trains on GAN-generated pairs, and none were given`, {
        ...(recipe.ganDir ? { file: recipe.ganDir } : where),
        fix: 'point --gan-dir at a folder of generated pairs; make one with `covseg gan train` then `covseg gan generate --gan GANDIR --out PAIRSDIR` (README, "GAN synthesis")',
      });
    }
  }
  return recipe;
}

/** A preset by name, or a recipe JSON file; `ganDir` fills in where GAN pairs come from. */
export async function loadRecipe(nameOrFile: string, overrides: { ganDir?: string; ganRatio?: number; mode?: 'online' | 'offline'; copies?: number } = {}): Promise<Recipe> {
  let recipe: Recipe;
  const preset = PRESET_RECIPES[nameOrFile];
  if (preset) recipe = structuredClone(preset);
  else {
    let text: string;
    try {
      text = await readFile(nameOrFile, 'utf8');
    } catch {
      throw new CovsegError('bad-parameter', `"${nameOrFile}" is neither a preset recipe nor a readable file`, { fix: `use one of: ${Object.keys(PRESET_RECIPES).join(', ')}, or a recipe JSON file` });
    }
    try {
      recipe = JSON.parse(text) as Recipe;
    } catch {
      throw new CovsegError('bad-parameter', 'recipe file is not valid JSON', { file: nameOrFile, fix: 'fix the JSON' });
    }
  }
  if (overrides.ganDir) recipe.ganDir = overrides.ganDir;
  if (overrides.ganRatio !== undefined) recipe.ganRatio = overrides.ganRatio;
  if (overrides.mode) recipe.mode = overrides.mode;
  if (overrides.copies !== undefined) recipe.copies = overrides.copies;
  if (recipe.mode === 'offline') recipe.copies ??= 2;
  return validate(recipe, preset ? undefined : nameOrFile);
}
