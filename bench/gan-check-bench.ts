// Memorisation search speed of `covseg gan check`: building the real-image index and one
// nearest-neighbour query per generated image (thumbnail prefilter + exact SSIM on the top 5).
// Usage: tsx bench/gan-check-bench.ts [--real 2500] [--pairs 1000] [--size 256]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPngPairs } from '../src-main/engine/datasets/png-pairs-dataset';
import { writeSyntheticSample } from '../src-main/engine/datasets/synthetic/write-sample';
import { RealImageIndex } from '../src-main/engine/gan/nearest-real';
import { createRandom } from '../src-main/engine/random/seeded-random';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const realCount = arg('real', 2500);
const pairCount = arg('pairs', 1000);
const size = arg('size', 256);

const dir = await mkdtemp(join(tmpdir(), 'covseg-gan-bench-'));
try {
  await writeSyntheticSample(dir, { count: realCount, size, seed: 5 });
  const dataset = await openPngPairs(dir);
  let started = performance.now();
  const index = await RealImageIndex.build(dataset, dataset.slices.map((s) => s.id));
  const buildMs = performance.now() - started;
  // Generated images: noisy versions of random real slices, so the search has real work to do.
  const random = createRandom(1);
  const queries = [];
  for (let p = 0; p < pairCount; p++) {
    const slice = await dataset.load(dataset.slices[random.int(dataset.slices.length)]!);
    queries.push({ width: slice.width, height: slice.height, data: slice.image.map((v) => Math.max(0, Math.min(255, v + random.int(41) - 20))) });
  }
  started = performance.now();
  for (const query of queries) await index.nearest(query);
  const queryMs = (performance.now() - started) / pairCount;
  console.log(`real slices ${realCount} at ${size} px, generated ${pairCount}`);
  console.log(`index build: ${(buildMs / 1000).toFixed(1)} s (${(buildMs / realCount).toFixed(1)} ms per real slice, decode + thumbnail + histogram)`);
  console.log(`nearest query: ${queryMs.toFixed(1)} ms per generated image (prefilter over ${realCount} thumbnails + 5 SSIMs)`);
  console.log(`=> ${pairCount} x ${realCount}: ${((buildMs + queryMs * pairCount) / 1000).toFixed(0)} s in all`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
