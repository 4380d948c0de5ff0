import type { AugmentPreview, WeatheringSeries } from '../../src-shared/contract';
import { startWorker } from '../engine/concurrency/start-worker';
import { CovsegError } from '../engine/errors';
import { resizeGray } from '../engine/imaging/resize';
import { createRandom } from '../engine/random/seeded-random';
import { PRESET_RECIPES, TRANSFORM_NAMES, type RecipeStep } from '../engine/transforms/recipes';
import { sampleFromBytes, toBytes, type Sample } from '../engine/transforms/sample';
import type { LabJob, LabResult } from './augment-lab-worker';
import type { DatasetService } from './dataset-service';
import { TimeLimitedWorker } from './time-limited-worker';

const LAB_SIZE = 256;
/** The longest one preview or weathering series may take before its worker is stopped. */
export const LAB_TIME_LIMIT_MS = 20_000;
const toBase64 = (values: ArrayLike<number>, scale: number) => Buffer.from(toBytes(values, scale)).toString('base64');

/**
 * The Augmentation Lab: previews of transforms and recipes on a slice, and weathering series.
 * Slices are read here; the transforms run in a worker thread with a time limit, so the event loop
 * keeps serving other requests and a runaway request ends with a `timeout` error.
 */
export class AugmentService {
  private readonly worker: TimeLimitedWorker<LabJob, LabResult>;

  constructor(
    private readonly datasets: DatasetService,
    options: { timeLimitMs?: number } = {},
  ) {
    this.worker = new TimeLimitedWorker(() => startWorker('./augment-lab-worker', import.meta.url), options.timeLimitMs ?? LAB_TIME_LIMIT_MS, 'the augmentation preview');
  }

  catalogue() {
    return { transforms: TRANSFORM_NAMES, recipes: Object.keys(PRESET_RECIPES).filter((name) => !PRESET_RECIPES[name]!.gan) };
  }

  private async sample(datasetId: string, sliceId: string): Promise<Sample> {
    const slice = await this.datasets.entry(datasetId).dataset.load(this.datasets.ref(datasetId, sliceId), { size: LAB_SIZE });
    return sampleFromBytes(slice.width, slice.height, slice.image, slice.mask);
  }

  async preview(request: { datasetId: string; sliceId: string; seed: number; step?: RecipeStep; recipe?: string }): Promise<AugmentPreview> {
    const recipe = request.recipe === undefined ? undefined : PRESET_RECIPES[request.recipe];
    if (request.recipe !== undefined && (!recipe || recipe.gan)) throw new CovsegError('bad-parameter', `no previewable recipe "${request.recipe}"`, { fix: `use one of: ${this.catalogue().recipes.join(', ')}` });
    const sample = await this.sample(request.datasetId, request.sliceId);
    const ids = this.datasets.list(request.datasetId).map((s) => s.id);
    const partners: Sample[] = [];
    for (let k = 0; k < 4; k++) partners.push(await this.sample(request.datasetId, ids[createRandom(request.seed + k).int(ids.length)]!));
    const job: LabJob = { kind: 'preview', sample, partners, seed: request.seed, ...(recipe ? { recipe } : request.step ? { step: request.step } : {}) };
    const out = (await this.worker.run(job)) as Sample;
    // Transforms run on the Lab's square grid (partners for MixUp/CutMix must share it); the preview
    // goes back to the slice's own size, so a 273x369 slice is not shown square.
    const own = this.datasets.list(request.datasetId).find((s) => s.id === request.sliceId);
    const width = own?.width ?? out.width;
    const height = own?.height ?? out.height;
    // Nearest for the mask: hard masks stay hard (MixUp's soft values are kept as they are).
    const back = async (values: ArrayLike<number>, scale: number, kernel: 'bilinear' | 'nearest') => {
      const resized = await resizeGray({ width: out.width, height: out.height, data: toBytes(values, scale) }, width, height, kernel);
      return Buffer.from(resized.data).toString('base64');
    };
    return { width, height, image: await back(out.image, 1, 'bilinear'), mask: await back(out.mask, 255, 'nearest') };
  }

  async weather(request: { datasetId: string; sliceId: string; schedules: { qualities: number[]; jitter: 'none' | 'shift' | 'rescale' }[] }): Promise<WeatheringSeries[]> {
    const sample = await this.sample(request.datasetId, request.sliceId);
    const image = Uint8Array.from(sample.image);
    const all = (await this.worker.run({ kind: 'weather', image, width: sample.width, height: sample.height, schedules: request.schedules })) as Exclude<LabResult, Sample>;
    return request.schedules.map((schedule, k) => {
      const generations = all[k]!;
      const label = `${schedule.qualities.length > 6 && new Set(schedule.qualities).size === 1 ? `q${schedule.qualities[0]} x${schedule.qualities.length}` : schedule.qualities.join('-')}${schedule.jitter !== 'none' ? ` + ${schedule.jitter}` : ''}`;
      return {
        label,
        generations: generations.map((g) => ({ generation: g.generation, quality: g.quality, psnr: g.psnr, ssim: g.ssim })),
        ...(k === 0 ? { images: [toBase64(image, 1), ...generations.map((g) => toBase64(g.image, 1))] } : {}),
      };
    });
  }

  dispose(): Promise<void> {
    return this.worker.dispose();
  }
}
