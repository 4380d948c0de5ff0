import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { requireParameter } from '../../errors';
import { writeFileAtomic, writeJsonAtomic } from '../../files/atomic-write';
import { encodeGrayPng } from '../../imaging/png-io';
import { createRandom } from '../../random/seeded-random';
import { windowHu, type HuWindow } from '../hu-window';
import { sampleLesionSites } from './lesion-sites';
import { samplePatientAnatomy } from './patient-anatomy';
import { renderChestSlice } from './render-chest';

export interface SampleOptions {
  count?: number;
  size?: number;
  seed?: number;
  slicesPerPatient?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SampleSummary {
  out: string;
  count: number;
  size: number;
  seed: number;
  patients: number;
  lesionFreeSlices: number;
  groundGlassSlices: number;
  consolidationSlices: number;
  meanLesionShareOfLung: number;
}

/**
 * The window the public Kaggle frames appear to use (air black, parenchyma near black, soft tissue
 * light gray): the sample is written through it so that it looks like the data users bring.
 */
export const SAMPLE_WINDOW: HuWindow = { level: -300, width: 1400 };
export const SAMPLE_GENERATOR_VERSION = 1;

/** The options of the built-in sample the app writes into its workspace on first start. */
export const BUILT_IN_SAMPLE = { count: 120, size: 256, seed: 1 } as const;

/**
 * Writes the built-in synthetic CT sample in the Kaggle layout: `frames/`, `masks/` (0/255) and
 * `labels/` (0/1/2) PNGs named `synth_pNNN_sNN.png`, several slices per synthetic patient, plus
 * `sample.json` describing how it was made. Same options, same bytes.
 */
export async function writeSyntheticSample(out: string, options: SampleOptions = {}): Promise<SampleSummary> {
  const count = options.count ?? 120;
  const size = options.size ?? 256;
  const seed = options.seed ?? 1;
  const perPatient = options.slicesPerPatient ?? 6;
  requireParameter(Number.isInteger(count) && count >= 1 && count <= 100_000, `--count must be an integer from 1 to 100000, got ${count}`);
  requireParameter(Number.isInteger(size) && size >= 32 && size <= 2048, `--size must be an integer from 32 to 2048, got ${size}`);
  requireParameter(Number.isInteger(seed), `--seed must be an integer, got ${seed}`);
  requireParameter(Number.isInteger(perPatient) && perPatient >= 1, `slices per patient must be a positive integer, got ${perPatient}`);
  for (const dir of ['frames', 'masks', 'labels']) await mkdir(join(out, dir), { recursive: true });

  const root = createRandom(seed);
  const patients = Math.ceil(count / perPatient);
  const summary: SampleSummary = { out, count, size, seed, patients, lesionFreeSlices: 0, groundGlassSlices: 0, consolidationSlices: 0, meanLesionShareOfLung: 0 };
  let shareSum = 0;
  let done = 0;
  // About 15 % of patients are lesion-free (at least one when there are several), chosen by seed,
  // so every sample has lesion-free slices to learn "no lesion" from.
  const healthyCount = patients < 2 ? 0 : Math.max(1, Math.round(patients * 0.15));
  const healthy = new Set(root.fork('healthy').shuffle([...Array(patients).keys()]).slice(0, healthyCount));
  for (let p = 0; p < patients; p++) {
    const patientRandom = root.fork(`patient ${p}`);
    const anatomy = samplePatientAnatomy(patientRandom.fork('anatomy'));
    const sites = sampleLesionSites(patientRandom.fork('lesions'), healthy.has(p));
    const slices = Math.min(perPatient, count - p * perPatient);
    for (let s = 0; s < slices; s++) {
      const t = slices === 1 ? 0.5 : s / (slices - 1);
      const rendered = renderChestSlice(anatomy, sites, t, size, patientRandom.fork(`slice ${s}`));
      const frame = new Uint8Array(size * size);
      const mask = new Uint8Array(size * size);
      let lesion = 0;
      let lung = 0;
      let glass = false;
      let consolidation = false;
      for (let i = 0; i < frame.length; i++) {
        frame[i] = windowHu(rendered.hu[i]!, SAMPLE_WINDOW);
        const label = rendered.labels[i]!;
        mask[i] = label > 0 ? 255 : 0;
        lesion += label > 0 ? 1 : 0;
        lung += rendered.lungMask[i]!;
        glass ||= label === 1;
        consolidation ||= label === 2;
      }
      const name = `synth_p${String(p + 1).padStart(3, '0')}_s${String(s + 1).padStart(2, '0')}.png`;
      // Encode first, then write: a write started before the next `await` could fail with nothing
      // listening yet (an unhandled rejection, e.g. when the folder is removed mid-way).
      const [framePng, maskPng, labelsPng] = await Promise.all([frame, mask, rendered.labels].map((data) => encodeGrayPng({ width: size, height: size, data })));
      await Promise.all([
        writeFileAtomic(join(out, 'frames', name), framePng!),
        writeFileAtomic(join(out, 'masks', name), maskPng!),
        writeFileAtomic(join(out, 'labels', name), labelsPng!),
      ]);
      if (lesion === 0) summary.lesionFreeSlices++;
      if (glass) summary.groundGlassSlices++;
      if (consolidation) summary.consolidationSlices++;
      shareSum += lung > 0 ? lesion / lung : 0;
      done++;
      options.onProgress?.(done, count);
    }
  }
  summary.meanLesionShareOfLung = shareSum / count;
  await writeJsonAtomic(join(out, 'sample.json'), {
    generator: 'covseg synthetic chest CT',
    version: SAMPLE_GENERATOR_VERSION,
    seed,
    count,
    size,
    slicesPerPatient: perPatient,
    window: SAMPLE_WINDOW,
    note: 'Procedurally generated; not patient data. Names synth_pNNN_sNN carry the synthetic patient id.',
  });
  return summary;
}
