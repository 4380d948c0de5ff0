import { CovsegError } from '../errors';

/**
 * What a run segments: `lesion` is binary (background vs any lesion, one logit per pixel, sigmoid);
 * `ggo-consolidation` has three classes (background, ground-glass, consolidation; three logits per
 * pixel, softmax), trained from class maps (`labels/` PNGs, NIfTI label values 1 and 2).
 */
export const CLASS_TASKS = ['lesion', 'ggo-consolidation'] as const;
export type ClassTask = (typeof CLASS_TASKS)[number];

/** Evaluation grid: each slice's own size (as papers score), or the model's square input size. */
export const EVAL_RESOLUTIONS = ['original', 'model'] as const;
export type EvalResolution = (typeof EVAL_RESOLUTIONS)[number];

/** Class names, index = class value in a class map. */
export const CLASS_NAMES: Record<ClassTask, readonly string[]> = {
  lesion: ['background', 'lesion'],
  'ggo-consolidation': ['background', 'ground-glass', 'consolidation'],
};

/** Model output channels: one logit for the binary task (sigmoid), one per class otherwise (softmax). */
export function outputChannels(task: ClassTask): number {
  return task === 'lesion' ? 1 : CLASS_NAMES[task].length;
}

/** The task of a stored run; runs recorded before the choice existed are binary. */
export function taskOf(config: { classes?: ClassTask }): ClassTask {
  return config.classes ?? 'lesion';
}

/** The evaluation grid of a stored run; runs recorded before the choice existed scored at model size. */
export function evalResolutionOf(config: { evalResolution?: EvalResolution }): EvalResolution {
  return config.evalResolution ?? 'model';
}

/**
 * Three-class runs need a class map for every slice they use; fails before anything is written,
 * naming the first slice without one and saying how many lack one.
 */
export function requireClassMaps(task: ClassTask, slices: readonly { id: string; file: string; valid: boolean; hasLabels: boolean }[], used?: ReadonlySet<string>): void {
  if (task === 'lesion') return;
  const missing = slices.filter((s) => s.valid && !s.hasLabels && (!used || used.has(s.id)));
  if (missing.length === 0) return;
  throw new CovsegError('bad-layout', `--classes ${task} needs a class map for every slice, and ${missing.length} slice(s) have none (e.g. ${missing[0]!.id})`, {
    file: missing[0]!.file,
    fix: 'add labels/NAME.png class maps (0 background, 1 ground-glass, 2 consolidation) beside masks/ (or NIfTI label volumes with values 1 and 2), or train with --classes lesion',
  });
}
