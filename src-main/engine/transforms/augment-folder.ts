import { join } from 'node:path';
import { openDataset } from '../datasets/open-dataset';
import { requireParameter } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../files/atomic-write';
import { encodeGrayPng } from '../imaging/png-io';
import { createRandom } from '../random/seeded-random';
import { composeRecipe, type Recipe } from './recipes';
import { sampleFromBytes, toBytes, type Sample } from './sample';


/**
 * Writes `count` augmented copies of every slice of a dataset (Kaggle layout out: frames/, masks/;
 * soft mixup masks are stored as 0..255 grey levels) for inspection. Same seed, same files.
 */
export async function augmentFolder(input: string, out: string, recipe: Recipe, options: { count: number; seed: number; size?: number }): Promise<number> {
  requireParameter(Number.isInteger(options.count) && options.count >= 1 && options.count <= 50, `--count must be an integer in [1, 50], got ${options.count}`);
  requireParameter(options.size === undefined || (Number.isInteger(options.size) && options.size >= 16 && options.size <= 2048), `--size must be an integer in [16, 2048] pixels, got ${options.size}`);
  const dataset = await openDataset(input);
  const load = async (k: number): Promise<Sample> => {
    const slice = await dataset.load(dataset.slices[k]!, options.size ? { size: options.size } : {});
    return sampleFromBytes(slice.width, slice.height, slice.image, slice.mask);
  };
  const samples = await Promise.all(dataset.slices.map((_, k) => load(k)));
  const apply = composeRecipe(recipe);
  const root = createRandom(options.seed);
  let written = 0;
  for (let k = 0; k < samples.length; k++) {
    const sample = samples[k]!;
    // Mixing partners of the same size as this slice.
    const sameSize = samples.filter((s) => s.width === sample.width && s.height === sample.height);
    for (let c = 0; c < options.count; c++) {
      const random = root.fork(`${dataset.slices[k]!.id}:${c}`);
      const result = await apply(sample, random, { partner: (r) => sameSize[r.int(sameSize.length)]! });
      const name = `${dataset.slices[k]!.id.replace(/[:/\\]/g, '_')}_aug${c + 1}.png`;
      await writeFileAtomic(join(out, 'frames', name), await encodeGrayPng({ width: result.width, height: result.height, data: toBytes(result.image, 1) }));
      await writeFileAtomic(join(out, 'masks', name), await encodeGrayPng({ width: result.width, height: result.height, data: toBytes(result.mask, 255) }));
      written++;
    }
  }
  await writeJsonAtomic(join(out, 'augment.json'), { source: input, recipe, count: options.count, seed: options.seed });
  return written;
}
