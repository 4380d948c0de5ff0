import type { AugmentPreview, WeatheringSeries } from '../../src-shared/contract';
import { CovsegError } from '../engine/errors';
import { createRandom } from '../engine/random/seeded-random';
import { weatherImage } from '../engine/transforms/jpeg';
import { composeRecipe, createTransform, PRESET_RECIPES, TRANSFORM_NAMES, type RecipeStep } from '../engine/transforms/recipes';
import { sampleFromBytes, toBytes, type Sample } from '../engine/transforms/sample';
import type { DatasetService } from './dataset-service';

const LAB_SIZE = 256;
const toBase64 = (values: ArrayLike<number>, scale: number) => Buffer.from(toBytes(values, scale)).toString('base64');

/** The Augmentation Lab: previews of transforms and recipes on a slice, and weathering series. */
export class AugmentService {
  constructor(private readonly datasets: DatasetService) {}

  catalogue() {
    return { transforms: TRANSFORM_NAMES, recipes: Object.keys(PRESET_RECIPES).filter((name) => !PRESET_RECIPES[name]!.gan) };
  }

  private async sample(datasetId: string, sliceId: string): Promise<Sample> {
    const slice = await this.datasets.entry(datasetId).dataset.load(this.datasets.ref(datasetId, sliceId), { size: LAB_SIZE });
    return sampleFromBytes(slice.width, slice.height, slice.image, slice.mask);
  }

  async preview(request: { datasetId: string; sliceId: string; seed: number; step?: RecipeStep; recipe?: string }): Promise<AugmentPreview> {
    const sample = await this.sample(request.datasetId, request.sliceId);
    const random = createRandom(request.seed);
    const ids = this.datasets.list(request.datasetId).map((s) => s.id);
    const partners: Sample[] = [];
    for (let k = 0; k < 4; k++) partners.push(await this.sample(request.datasetId, ids[createRandom(request.seed + k).int(ids.length)]!));
    const context = { partner: (r: ReturnType<typeof createRandom>) => partners[r.int(partners.length)]! };
    let out: Sample;
    if (request.recipe) {
      const recipe = PRESET_RECIPES[request.recipe];
      if (!recipe || recipe.gan) throw new CovsegError('bad-parameter', `no previewable recipe "${request.recipe}"`, { fix: `use one of: ${this.catalogue().recipes.join(', ')}` });
      out = await composeRecipe(recipe)(sample, random, context);
    } else if (request.step) {
      // The Lab shows what a transform does, so it always fires.
      out = await createTransform({ ...request.step, prob: 1 }).apply(sample, random, context);
    } else out = sample;
    return { width: out.width, height: out.height, image: toBase64(out.image, 1), mask: toBase64(out.mask, 255) };
  }

  async weather(request: { datasetId: string; sliceId: string; schedules: { qualities: number[]; jitter: 'none' | 'shift' | 'rescale' }[] }): Promise<WeatheringSeries[]> {
    const sample = await this.sample(request.datasetId, request.sliceId);
    const image = Uint8Array.from(sample.image);
    const series: WeatheringSeries[] = [];
    for (const [k, schedule] of request.schedules.entries()) {
      const generations = await weatherImage(image, sample.width, sample.height, { schedule: schedule.qualities, jitter: schedule.jitter });
      const label = `${schedule.qualities.length > 6 && new Set(schedule.qualities).size === 1 ? `q${schedule.qualities[0]} x${schedule.qualities.length}` : schedule.qualities.join('-')}${schedule.jitter !== 'none' ? ` + ${schedule.jitter}` : ''}`;
      series.push({
        label,
        generations: generations.map((g) => ({ generation: g.generation, quality: g.quality, psnr: g.psnr, ssim: g.ssim })),
        ...(k === 0 ? { images: [toBase64(image, 1), ...generations.map((g) => toBase64(g.image, 1))] } : {}),
      });
    }
    return series;
  }
}
