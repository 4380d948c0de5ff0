import { openDataset } from '../datasets/open-dataset';
import { selectPairs } from '../gan/pairs-source';
import { createRandom } from '../random/seeded-random';
import { composeRecipe } from '../transforms/recipes';
import { maskPlanes, sampleFromBytes, sampleFromClassMap, type Sample } from '../transforms/sample';
import type { PreparedSlices } from './slice-cache';
import { batchArrays, prepareSlices } from './slice-cache';
import type { Batch } from './step-engine';
import type { TrainConfig } from './train-config';

/** What training draws batches from: the training slices, plus offline copies and GAN pairs per recipe. */
export interface TrainingPool {
  count: number;
  /** Batch of pool entries `indices` for step `b` of `epoch`; online recipes augment here, seeded by (seed, epoch, b). */
  batch(indices: number[], epoch: number, b: number): Promise<Batch>;
}

/** Samples to a batch; class planes become channels-last one-hot targets with background `1 - sum` first. */
function toBatch(samples: Sample[], size: number): Batch {
  const plane = size * size;
  const planes = samples.length > 0 ? maskPlanes(samples[0]!) : 1;
  const channels = planes === 1 ? 1 : planes + 1;
  const x = new Float32Array(samples.length * plane);
  const y = new Float32Array(samples.length * plane * channels);
  samples.forEach((s, k) => {
    for (let i = 0; i < plane; i++) {
      x[k * plane + i] = s.image[i]! / 255;
      if (channels === 1) {
        y[k * plane + i] = s.mask[i]!;
        continue;
      }
      const at = (k * plane + i) * channels;
      let rest = 1;
      for (let c = 0; c < planes; c++) {
        const v = s.mask[c * plane + i]!;
        y[at + c + 1] = v;
        rest -= v;
      }
      y[at] = Math.max(0, rest);
    }
  });
  return { x, y, count: samples.length };
}

/**
 * Builds the pool a run trains on. Without a recipe: the prepared slices as they are. With one:
 * GAN pairs (when the recipe has them) join the originals; `offline` adds `copies` augmented copies
 * of each original, made once with the run's seed; `online` augments every batch afresh.
 */
export async function trainingPool(slices: PreparedSlices, config: TrainConfig, ganIds?: readonly string[]): Promise<TrainingPool> {
  const recipe = config.recipe;
  if (!recipe) return { count: slices.ids.length, batch: async (indices) => ({ ...batchArrays(slices, indices), count: indices.length }) };
  const size = slices.size;
  const originals: Sample[] = slices.ids.map((_, k) =>
    slices.labels ? sampleFromClassMap(size, size, slices.images[k]!, slices.labels[k]!) : sampleFromBytes(size, size, slices.images[k]!, slices.masks[k]!),
  );
  if (recipe.gan && recipe.ganDir) {
    const generated = await openDataset(recipe.ganDir);
    const withLabels = Boolean(slices.labels);
    const pairs = await prepareSlices(generated, ganIds ?? (await selectPairs(recipe.ganDir)).pairs.map((p) => p.id), size, { withLabels });
    pairs.ids.forEach((_, k) =>
      originals.push(withLabels ? sampleFromClassMap(size, size, pairs.images[k]!, pairs.labels![k]!) : sampleFromBytes(size, size, pairs.images[k]!, pairs.masks[k]!)),
    );
  }
  const augment = composeRecipe(recipe);
  const context = { partner: (random: ReturnType<typeof createRandom>) => originals[random.int(originals.length)]! };
  if (recipe.mode === 'offline') {
    const root = createRandom(config.seed).fork('offline augmentation');
    const copies: Sample[] = [];
    for (let c = 0; c < (recipe.copies ?? 1); c++) {
      for (let k = 0; k < slices.ids.length; k++) copies.push(await augment(originals[k]!, root.fork(`${c}:${k}`), context));
    }
    const all = [...originals, ...copies];
    return { count: all.length, batch: async (indices) => toBatch(indices.map((k) => all[k]!), size) };
  }
  return {
    count: originals.length,
    batch: async (indices, epoch, b) => {
      const random = createRandom(config.seed).fork(`augment ${epoch}:${b}`);
      const samples = await Promise.all(indices.map((k, j) => augment(originals[k]!, random.fork(String(j)), context)));
      return toBatch(samples, size);
    },
  };
}
