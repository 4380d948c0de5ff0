import type * as tfl from '@tensorflow/tfjs-layers';
import { CovsegError } from '../errors';
import { foldUnetForInference } from './unet/fold-batch-norm';
import { buildUnet, UNET_DEFAULTS, type UnetOptions } from './unet/unet';

/** What a run records to rebuild its model: the registry name and its options. */
export interface ModelSpec {
  name: string;
  options: Record<string, unknown>;
}

interface ModelEntry {
  description: string;
  defaults: Record<string, unknown>;
  build: (options: Record<string, unknown>) => tfl.LayersModel;
  /** A faster copy for inference (same outputs up to rounding), or undefined to use the model itself. */
  forInference?: (trained: tfl.LayersModel, options: Record<string, unknown>) => tfl.LayersModel;
  /** Input sides must be multiples of this. */
  sizeMultiple: (options: Record<string, unknown>) => number;
}

const REGISTRY: Record<string, ModelEntry> = {
  unet: {
    description: 'U-Net (Ronneberger et al. 2015) with batch norm; options depth, baseFilters, batchNorm, dropout',
    defaults: { ...UNET_DEFAULTS },
    build: (options) => buildUnet(options as Partial<UnetOptions>),
    forInference: (trained, options) => foldUnetForInference(trained, options as unknown as UnetOptions),
    sizeMultiple: (options) => 2 ** Number(options.depth ?? UNET_DEFAULTS.depth),
  },
};

export const MODEL_NAMES = Object.keys(REGISTRY);

function entry(name: string): ModelEntry {
  const found = REGISTRY[name];
  if (!found) throw new CovsegError('bad-parameter', `unknown model "${name}"`, { fix: `use one of: ${MODEL_NAMES.join(', ')}` });
  return found;
}

/** Fills in a model's default options, so a run's config names every setting it used. */
export function resolveModelSpec(name: string, options: Record<string, unknown> = {}): ModelSpec {
  return { name, options: { ...entry(name).defaults, ...options } };
}

/** Builds a model by registry name; a wrong name fails with the list of valid names. */
export function createModel(name: string, options: Record<string, unknown> = {}): tfl.LayersModel {
  return entry(name).build(resolveModelSpec(name, options).options);
}

export function modelSizeMultiple(spec: ModelSpec): number {
  return entry(spec.name).sizeMultiple(spec.options);
}

/**
 * The fastest inference form of a trained model (for a U-Net, batch norm folded into the
 * convolutions) and how to release it; the trained model itself when there is none.
 */
export function inferenceCopy(trained: tfl.LayersModel, spec: ModelSpec): { model: tfl.LayersModel; release: () => void } {
  const fold = entry(spec.name).forInference;
  if (!fold) return { model: trained, release: () => {} };
  const fast = fold(trained, resolveModelSpec(spec.name, spec.options).options);
  return { model: fast, release: () => fast.dispose() };
}

/** Runs `use` with {@link inferenceCopy} of a trained model, releasing the copy afterwards. */
export function withInferenceModel<T>(trained: tfl.LayersModel, spec: ModelSpec, use: (model: tfl.LayersModel) => T): T {
  const { model, release } = inferenceCopy(trained, spec);
  try {
    return use(model);
  } finally {
    release();
  }
}
