import { createRandom } from '../../random/seeded-random';
import { mean, quantileSorted } from './descriptive';

export interface BootstrapInterval {
  low: number;
  high: number;
  level: number;
  resamples: number;
}

/**
 * Percentile bootstrap confidence interval of the mean (Efron 1979): resample the values with
 * replacement `resamples` times (seeded, so a report is reproducible) and take the (1 - level)/2 and
 * (1 + level)/2 quantiles of the resampled means. With three seeds it is rough — and says so by
 * being wide.
 */
export function bootstrapMeanCi(values: readonly number[], options: { seed: number; resamples?: number; level?: number }): BootstrapInterval | null {
  if (values.length === 0) return null;
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  const random = createRandom(options.seed);
  const means = new Array<number>(resamples);
  const sample = new Array<number>(values.length);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < values.length; i++) sample[i] = values[random.int(values.length)]!;
    means[b] = mean(sample);
  }
  means.sort((a, b) => a - b);
  return { low: quantileSorted(means, (1 - level) / 2), high: quantileSorted(means, (1 + level) / 2), level, resamples };
}
