import type { AugmentPreview, WeatheringSeries } from '../../src-shared/contract';
import { startWorker } from '../engine/concurrency/start-worker';
import { CovsegError } from '../engine/errors';
import { resizeGray } from '../engine/imaging/resize';
import { createRandom } from '../engine/random/seeded-random';
import { PRESET_RECIPES, TRANSFORM_NAMES, type RecipeStep } from '../engine/transforms/recipes';
import { maskPlanes, sampleFromBytes, sampleFromClassMap, toBytes, type Sample } from '../engine/transforms/sample';
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

  /** A slice on the Lab's grid; with `classes`, its target is the class map (one plane per foreground class). */
  private async sample(datasetId: string, sliceId: string, classes = false): Promise<Sample> {
    const slice = await this.datasets.entry(datasetId).dataset.load(this.datasets.ref(datasetId, sliceId), { size: LAB_SIZE });
    return classes && slice.labels ? sampleFromClassMap(slice.width, slice.height, slice.image, slice.labels) : sampleFromBytes(slice.width, slice.height, slice.image, slice.mask);
  }

  async preview(request: { datasetId: string; sliceId: string; seed: number; step?: RecipeStep; recipe?: string }): Promise<AugmentPreview> {
    const recipe = request.recipe === undefined ? undefined : PRESET_RECIPES[request.recipe];
    if (request.recipe !== undefined && (!recipe || recipe.gan)) throw new CovsegError('bad-parameter', `no previewable recipe "${request.recipe}"`, { fix: `use one of: ${this.catalogue().recipes.join(', ')}` });
    const list = this.datasets.list(request.datasetId);
    const partnerIds = [0, 1, 2, 3].map((k) => list[createRandom(request.seed + k).int(list.length)]!);
    // Classes travel through the transform when the slice and every partner it may be mixed with
    // have them (MixUp and CutMix need targets of one shape); otherwise the lesion mask does.
    const own = list.find((s) => s.id === request.sliceId);
    const classes = Boolean(own?.hasLabels) && partnerIds.every((p) => p.hasLabels);
    const sample = await this.sample(request.datasetId, request.sliceId, classes);
    const partners: Sample[] = [];
    for (const partner of partnerIds) partners.push(await this.sample(request.datasetId, partner.id, classes));
    const job: LabJob = { kind: 'preview', sample, partners, seed: request.seed, ...(recipe ? { recipe } : request.step ? { step: request.step } : {}) };
    const out = (await this.worker.run(job)) as Sample;
    // Transforms run on the Lab's square grid (partners for MixUp/CutMix must share it); the preview
    // goes back to the slice's own size, so a 273x369 slice is not shown square.
    const width = own?.width ?? out.width;
    const height = own?.height ?? out.height;
    // Nearest for the mask: hard masks stay hard (MixUp's soft values are kept as they are).
    const back = async (values: ArrayLike<number>, scale: number, kernel: 'bilinear' | 'nearest') => {
      const resized = await resizeGray({ width: out.width, height: out.height, data: toBytes(values, scale) }, width, height, kernel);
      return Buffer.from(resized.data).toString('base64');
    };
    const plane = out.width * out.height;
    const planes = maskPlanes(out);
    // The lesion share is what the planes hold together; each class plane goes back on its own.
    const lesion = new Float32Array(plane);
    for (let c = 0; c < planes; c++) for (let i = 0; i < plane; i++) lesion[i] = lesion[i]! + out.mask[c * plane + i]!;
    const preview: AugmentPreview = { width, height, image: await back(out.image, 1, 'bilinear'), mask: await back(lesion, 255, 'nearest') };
    if (classes) preview.classes = await Promise.all(Array.from({ length: planes }, (_, c) => back(out.mask.subarray(c * plane, (c + 1) * plane), 255, 'nearest')));
    return preview;
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
        images: [toBase64(image, 1), ...generations.map((g) => toBase64(g.image, 1))],
      };
    });
  }

  dispose(): Promise<void> {
    return this.worker.dispose();
  }
}
