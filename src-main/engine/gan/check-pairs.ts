import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { GanQualitySummary, PairsQualityReport } from '../../../src-shared/contract/gan-gallery';
import type { GeneratedPair, PairQuality } from '../../../src-shared/contract/gan-pairs';
import type { BackendChoice } from '../backend/select-backend';
import { openDataset } from '../datasets/open-dataset';
import { openPngPairs } from '../datasets/png-pairs-dataset';
import { scanDataset } from '../datasets/scan-dataset';
import { readSplit, splitDataset } from '../datasets/split-dataset';
import type { Dataset } from '../datasets/types';
import { CovsegError } from '../errors';
import { writeJsonAtomic } from '../files/atomic-write';
import { refuseInsideInputs } from '../files/output-guard';
import { TRAIN_DEFAULTS } from '../training/train-config';
import { histogramDistanceHu, histogramEdgesHu, IntensityHistogram } from './intensity-histogram';
import { lesionContrast, PNG_HU_WINDOW } from './lesion-contrast';
import { NEAR_COPY_SSIM, RealImageIndex } from './nearest-real';
import { readPairs } from './pairs-file';
import { updatePairsLocked } from './pairs-lock';
import { openSegmentabilityJudge } from './segmentability';
import { tstrDice, type TstrOptions } from './tstr';

export const QUALITY_FILE = 'quality.json';

export interface CheckPairsOptions {
  /** The real dataset the GANs learned from. */
  data: string;
  /** Split file: nearest neighbours are searched in its training part, TSTR is scored on its test part. */
  split?: string;
  /** A `covseg train` run on real slices, for segmentability. */
  model?: string;
  backend?: BackendChoice;
  /** Train-synthetic-test-real per GAN; absent skips it. */
  tstr?: Omit<TstrOptions, 'workDir' | 'backend'>;
  nearCopySsim?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

function mean(values: (number | null)[]): number | null {
  const defined = values.filter((v): v is number => v !== null);
  return defined.length === 0 ? null : defined.reduce((s, v) => s + v, 0) / defined.length;
}

/** Training and test ids of the real data: the split file's, or else all slices and the split `covseg train` makes by default. */
async function realSplit(dataset: Dataset, splitFile: string | undefined, needTest: boolean): Promise<{ train: string[]; test: string[] }> {
  if (splitFile) {
    const split = await readSplit(splitFile);
    const known = new Set(dataset.slices.map((s) => s.id));
    const unknown = [...split.slices.train, ...split.slices.test].filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new CovsegError('bad-split', `split file names ${unknown.length} slice(s) that ${dataset.root} does not have (e.g. ${unknown[0]})`, {
        file: splitFile,
        fix: 'give the split made from --data with `covseg split`',
      });
    }
    return { train: split.slices.train, test: split.slices.test };
  }
  const all = dataset.slices.map((s) => s.id);
  if (!needTest) return { train: all, test: [] };
  const scan = await scanDataset(dataset);
  const split = splitDataset(scan.summaries, { root: dataset.root, format: dataset.format, contentHash: scan.contentHash }, TRAIN_DEFAULTS.split);
  return { train: all, test: split.slices.test };
}

/**
 * `covseg gan check`: fills every pair's `quality` (nearest training image, SSIM and pixel distance,
 * near-copy flag, segmentability Dice, lesion contrast) and writes PAIRSDIR/quality.json with the
 * per-GAN figures and intensity histograms. Decisions in pairs.jsonl are left as they are on disk
 * (the figures are merged in under the folder lock), so a gallery open meanwhile loses nothing.
 */
export async function checkPairs(pairsDir: string, options: CheckPairsOptions): Promise<{ report: PairsQualityReport; pairs: GeneratedPair[] }> {
  const dir = resolve(pairsDir);
  const pairs = await readPairs(dir);
  await refuseInsideInputs(dir, { flag: 'PAIRSDIR', inputs: [options.data] }, 'generated pairs');
  const real = await openDataset(options.data);
  const { train: trainIds, test: testIds } = await realSplit(real, options.split, Boolean(options.tstr));
  const generatedFolder = await openPngPairs(dir);
  const refs = new Map(generatedFolder.slices.map((s) => [s.id, s]));
  const missing = pairs.find((p) => !refs.has(p.id));
  if (missing) {
    throw new CovsegError('not-found', `pair ${missing.id} is listed in pairs.jsonl but frames/${missing.id}.png or masks/${missing.id}.png is missing`, {
      file: join(dir, 'frames', `${missing.id}.png`),
      fix: 'restore the image and mask, or remove the line from pairs.jsonl',
    });
  }
  const nearCopySsim = options.nearCopySsim ?? NEAR_COPY_SSIM;

  const realContrasts: (number | null)[] = [];
  const index = await RealImageIndex.build(real, trainIds, (image, mask) => {
    if (mask.some((v) => v > 0)) realContrasts.push(lesionContrast(image.data, mask, image.width, image.height));
  });
  const judge = options.model ? await openSegmentabilityJudge(options.model, options.backend) : undefined;
  const qualities = new Map<string, PairQuality>();
  const histograms = new Map<string, IntensityHistogram>();
  try {
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i]!;
      const slice = await generatedFolder.load(refs.get(pair.id)!);
      const image = { width: slice.width, height: slice.height, data: slice.image };
      const nearest = await index.nearest(image);
      const histogram = histograms.get(pair.generator.ganDir) ?? new IntensityHistogram();
      histogram.add(slice.image);
      histograms.set(pair.generator.ganDir, histogram);
      qualities.set(pair.id, {
        nearestTrainId: nearest?.id ?? '',
        ssimToNearest: nearest?.ssim ?? 0,
        l1ToNearest: nearest?.l1 ?? 1,
        nearCopy: (nearest?.ssim ?? 0) >= nearCopySsim,
        segmentabilityDice: judge ? await judge.dice(image, slice.mask) : null,
        lesionContrast: lesionContrast(slice.image, slice.mask, slice.width, slice.height),
      });
      options.onProgress?.('pairs', i + 1, pairs.length);
    }
  } finally {
    judge?.dispose();
  }

  const merged = await updatePairsLocked(dir, 'covseg gan check', (current) => {
    for (const pair of current) {
      const quality = qualities.get(pair.id);
      if (quality) pair.quality = quality;
    }
    return current;
  });

  const realHistogram = index.histogram.shares();
  const gans: GanQualitySummary[] = [];
  for (const [ganDir, histogram] of histograms) {
    const members = merged.filter((p) => p.generator.ganDir === ganDir && p.quality);
    const shares = histogram.shares();
    const summary: GanQualitySummary = {
      ganDir,
      kind: members[0]!.generator.kind,
      generation: members[0]!.generator.generation,
      pairs: members.length,
      nearCopies: members.filter((p) => p.quality!.nearCopy).length,
      meanSsimToNearest: mean(members.map((p) => p.quality!.ssimToNearest)),
      meanSegmentabilityDice: mean(members.map((p) => p.quality!.segmentabilityDice)),
      meanLesionContrast: mean(members.map((p) => p.quality!.lesionContrast)),
      histogram: shares,
      histogramDistanceHu: histogramDistanceHu(shares, realHistogram),
    };
    if (options.tstr) {
      options.onProgress?.(`tstr ${ganDir}`, 0, 1);
      const workDir = join(tmpdir(), `covseg-tstr-${process.pid}-${gans.length}`);
      const result = await tstrDice(dir, members.map((p) => p.id), real, testIds, { ...options.tstr, workDir, ...(options.backend ? { backend: options.backend } : {}) });
      summary.tstr = { ...result, epochs: options.tstr.epochs, size: options.tstr.size };
    }
    gans.push(summary);
  }
  gans.sort((a, b) => a.generation - b.generation || a.ganDir.localeCompare(b.ganDir));
  const report: PairsQualityReport = {
    version: 1,
    checkedAt: new Date().toISOString(),
    data: resolve(options.data),
    ...(options.split ? { split: resolve(options.split) } : {}),
    trainSlices: index.size,
    ...(judge ? { model: judge.runDir } : {}),
    thresholds: { nearCopySsim },
    huWindow: PNG_HU_WINDOW,
    histogramEdgesHu: histogramEdgesHu(),
    real: { histogram: realHistogram, meanLesionContrast: mean(realContrasts) },
    gans,
  };
  await writeJsonAtomic(join(dir, QUALITY_FILE), report);
  return { report, pairs: merged };
}
