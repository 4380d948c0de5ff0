// Worker thread of the Augmentation Lab: runs transforms and weathering series away from the event
// loop that serves every other request, so one heavy preview cannot stall the app (see
// TimeLimitedWorker for the time limit).
import { parentPort } from 'node:worker_threads';
import { CovsegError } from '../engine/errors';
import { createRandom } from '../engine/random/seeded-random';
import { weatherImage } from '../engine/transforms/jpeg';
import { composeRecipe, createTransform, type Recipe, type RecipeStep } from '../engine/transforms/recipes';
import type { Sample } from '../engine/transforms/sample';
import type { WorkerReply } from './time-limited-worker';

/** A job for the Lab worker. */
export type LabJob =
  | { kind: 'preview'; sample: Sample; partners: Sample[]; seed: number; step?: RecipeStep; recipe?: Recipe }
  | { kind: 'weather'; image: Uint8Array; width: number; height: number; schedules: { qualities: number[]; jitter: 'none' | 'shift' | 'rescale' }[] };

/** What the Lab worker answers, per job kind. */
export type LabResult = Sample | { generation: number; quality: number; image: Uint8Array; psnr: number; ssim: number }[][];

async function runJob(job: LabJob): Promise<LabResult> {
  if (job.kind === 'weather') {
    const series = [];
    for (const schedule of job.schedules) series.push(await weatherImage(job.image, job.width, job.height, { schedule: schedule.qualities, jitter: schedule.jitter }));
    return series;
  }
  const random = createRandom(job.seed);
  const context = { partner: (r: ReturnType<typeof createRandom>) => job.partners[r.int(job.partners.length)]! };
  if (job.recipe) return composeRecipe(job.recipe)(job.sample, random, context);
  // The Lab shows what a transform does, so it always fires.
  if (job.step) return createTransform({ ...job.step, prob: 1 }).apply(job.sample, random, context);
  return job.sample;
}

if (!parentPort) throw new Error('augment-lab-worker must run in a worker thread');
const port = parentPort;
port.on('message', async ({ id, request }: { id: number; request: LabJob }) => {
  let reply: WorkerReply<LabResult>;
  try {
    reply = { id, ok: true, value: await runJob(request) };
  } catch (error) {
    const e = error as CovsegError;
    reply = { id, ok: false, error: { code: error instanceof CovsegError ? e.code : 'internal', message: e?.message ?? String(error), ...(e?.file ? { file: e.file } : {}), ...(e?.fix ? { fix: e.fix } : {}) } };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true });
