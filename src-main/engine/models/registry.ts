import type * as tfl from '@tensorflow/tfjs-layers';
import { CovsegError } from '../errors';
import type { OptimizerSpec } from '../training/adam';
import { loadPretrainedEncoder, type PretrainedReport } from './segformer/pretrained-encoder';
import { buildSegformer, SEGFORMER_DEFAULTS, SEGFORMER_SIZE_MULTIPLE, type SegformerOptions, type SegformerVariant } from './segformer/segformer';
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
  /** The optimizer a run uses unless its config names one. */
  optimizer: OptimizerSpec;
}

/** What a freshly built model started from, kept beside it until the run record is written. */
const pretrainedReports = new WeakMap<tfl.LayersModel, PretrainedReport>();

function buildSegformerEntry(options: Record<string, unknown>): tfl.LayersModel {
  const model = buildSegformer(options as Partial<SegformerOptions>);
  if (typeof options.pretrained === 'string' && options.pretrained !== '') {
    try {
      pretrainedReports.set(model, loadPretrainedEncoder(model, options.pretrained, (options.variant ?? SEGFORMER_DEFAULTS.variant) as SegformerVariant));
    } catch (error) {
      model.dispose();
      throw error;
    }
  }
  return model;
}

const REGISTRY: Record<string, ModelEntry> = {
  unet: {
    description: 'U-Net (Ronneberger et al. 2015) with batch norm; options depth, baseFilters, batchNorm, dropout',
    defaults: { ...UNET_DEFAULTS },
    build: (options) => buildUnet(options as Partial<UnetOptions>),
    forInference: (trained, options) => foldUnetForInference(trained, options as unknown as UnetOptions),
    sizeMultiple: (options) => 2 ** Number(options.depth ?? UNET_DEFAULTS.depth),
    optimizer: { name: 'adam', weightDecay: 0 },
  },
  segformer: {
    description:
      'SegFormer (Xie et al. 2021): Mix Transformer encoder + all-MLP decoder; options variant (b0|b1), outputs, dropPath, dropout, pretrained (a MiT model.safetensors)',
    defaults: { ...SEGFORMER_DEFAULTS },
    build: buildSegformerEntry,
    sizeMultiple: () => SEGFORMER_SIZE_MULTIPLE,
    // The paper's optimizer: AdamW with weight decay 0.01.
    optimizer: { name: 'adamw', weightDecay: 0.01 },
  },
};

export const MODEL_NAMES = Object.keys(REGISTRY);

function entry(name: string): ModelEntry {
  const found = REGISTRY[name];
  if (!found) throw new CovsegError('bad-parameter', `unknown model "${name}"`, { fix: `use one of: ${MODEL_NAMES.join(', ')}` });
  return found;
}

/**
 * Fills in a model's default options, so a run's config names every setting it used. Options that
 * belong to another model only (the app sends the U-Net's depth with every request) are dropped, so
 * the record does not claim a setting the model never had.
 */
export function resolveModelSpec(name: string, options: Record<string, unknown> = {}): ModelSpec {
  const { defaults } = entry(name);
  const foreign = new Set(Object.entries(REGISTRY).flatMap(([other, e]) => (other === name ? [] : Object.keys(e.defaults))));
  const own = Object.entries(options).filter(([key]) => key in defaults || !foreign.has(key));
  return { name, options: { ...defaults, ...Object.fromEntries(own) } };
}

/** Builds a model by registry name; a wrong name fails with the list of valid names. */
export function createModel(name: string, options: Record<string, unknown> = {}): tfl.LayersModel {
  return entry(name).build(resolveModelSpec(name, options).options);
}

/** The optimizer a model trains with by default (Adam for the U-Net, AdamW for SegFormer). */
export function defaultOptimizer(name: string): OptimizerSpec {
  return { ...entry(name).optimizer };
}

/** What the run record states about a freshly built model: its parameter count and pretrained source. */
export interface ModelInfo {
  parameters: number;
  pretrained?: PretrainedReport;
}

export function describeModel(model: tfl.LayersModel): ModelInfo {
  const pretrained = pretrainedReports.get(model);
  return { parameters: model.countParams(), ...(pretrained ? { pretrained } : {}) };
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
