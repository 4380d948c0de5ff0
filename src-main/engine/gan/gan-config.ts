import type { GanKind } from '../../../src-shared/contract/gan-pairs';
import type { BackendChoice } from '../backend/select-backend';
import { requireParameter } from '../errors';
import type { ClassTask } from '../training/class-task';

export const GAN_KINDS: readonly GanKind[] = ['pix2pix', 'dagan'];
export const GAN_PRESETS = ['seed', 'cpu'] as const;
export type GanPreset = (typeof GAN_PRESETS)[number];

/** Everything that defines a GAN training; stored in GANDIR/gan.json. */
export interface GanConfig {
  kind: GanKind;
  data: string;
  /** The split file; the GAN trains on its training slices only (the leakage guard). */
  splitFile: string;
  /** Generated-pairs folders whose pairs join the training slices (GAN-on-GAN). */
  pairs: string[];
  preset: GanPreset;
  size: number;
  epochs: number;
  batch: number;
  generatorFilters: number;
  discriminatorFilters: number;
  lr: number;
  seed: number;
  backend: BackendChoice;
  /** What the masks say: any lesion (1 condition plane) or ground-glass and consolidation (2 planes); `auto` picks classes when every training slice has a class map. */
  classes: ClassTask | 'auto';
  /** How many pairs `covseg gan generate` makes when no --count is given. */
  defaultCount: number;
  /** Data-parallel threads: 0 = auto (2 on wasm/cpu with 2+ cores, as `covseg train`), 1 or 2. Older records have none (one thread). */
  workers?: number;
}

/**
 * The presets. `seed`: pix2pix as published (256 px, 64 filters) with the seed study's batch 8,
 * 50 epochs and 2,500 samples. `cpu`: 128 px and 16 filters, the default without a GPU.
 */
export const PRESETS: Record<GanPreset, Pick<GanConfig, 'size' | 'epochs' | 'batch' | 'generatorFilters' | 'discriminatorFilters' | 'defaultCount'>> = {
  seed: { size: 256, epochs: 50, batch: 8, generatorFilters: 64, discriminatorFilters: 64, defaultCount: 2500 },
  cpu: { size: 128, epochs: 20, batch: 4, generatorFilters: 16, discriminatorFilters: 16, defaultCount: 500 },
};

/** Fills a preset's values under what the user gave, and checks every setting before anything is written. */
export function resolveGanConfig(partial: Partial<GanConfig> & Pick<GanConfig, 'kind' | 'data' | 'splitFile' | 'preset'>): GanConfig {
  requireParameter((GAN_KINDS as readonly string[]).includes(partial.kind), `unknown GAN kind "${partial.kind}"`, `use --kind ${GAN_KINDS.join(' or ')}`);
  requireParameter((GAN_PRESETS as readonly string[]).includes(partial.preset), `unknown GAN preset "${partial.preset}"`, `use --preset ${GAN_PRESETS.join(' or ')}`);
  const config: GanConfig = { ...PRESETS[partial.preset], lr: 2e-4, seed: 1, backend: 'auto', classes: 'auto', pairs: [], workers: 0, ...partial } as GanConfig;
  requireParameter(Number.isInteger(config.size) && config.size >= 16 && config.size <= 512 && (config.size & (config.size - 1)) === 0, `--size must be a power of two from 16 to 512, got ${config.size}`, 'try --size 128 (cpu preset) or 256 (seed preset)');
  requireParameter(Number.isInteger(config.epochs) && config.epochs >= 1, `--epochs must be a positive integer, got ${config.epochs}`);
  requireParameter(Number.isInteger(config.batch) && config.batch >= 1 && config.batch <= 256, `--batch must be an integer from 1 to 256, got ${config.batch}`);
  requireParameter(Number.isInteger(config.generatorFilters) && config.generatorFilters >= 1 && config.generatorFilters <= 128, `generator filters must be 1-128, got ${config.generatorFilters}`);
  requireParameter(Number.isInteger(config.discriminatorFilters) && config.discriminatorFilters >= 1 && config.discriminatorFilters <= 128, `discriminator filters must be 1-128, got ${config.discriminatorFilters}`);
  requireParameter(config.lr > 0 && config.lr < 1, `--lr must be in (0, 1), got ${config.lr}`);
  requireParameter(Number.isInteger(config.seed), `--seed must be an integer, got ${config.seed}`);
  requireParameter(Number.isInteger(config.workers) && config.workers! >= 0 && config.workers! <= 2, `--workers must be 0 (auto), 1 or 2, got ${config.workers}`);
  requireParameter(['auto', 'lesion', 'ggo-consolidation'].includes(config.classes), `unknown --classes "${config.classes}"`, 'use auto, lesion or ggo-consolidation');
  return config;
}
