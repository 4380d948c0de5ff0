import type { Command } from 'commander';
import { basename, extname, join } from 'node:path';
import { requireParameter } from '../engine/errors';
import { writeFileAtomic } from '../engine/files/atomic-write';
import { guardEmptyFolder, guardOutputFolder } from '../engine/files/output-guard';
import { encodeGrayPng, readGray } from '../engine/imaging/png-io';
import { augmentFolder } from '../engine/transforms/augment-folder';
import { weatherImage, type WeatheringJitter } from '../engine/transforms/jpeg';
import { loadRecipe } from '../engine/transforms/recipes';
import { formatTable, type CliContext } from './output';
import { parseInteger } from './parse-options';

export function registerAugmentCommands(program: Command, io: CliContext): void {
  program
    .command('augment')
    .description('write augmented copies of a dataset\'s slices for inspection (frames/ + masks/)')
    .requiredOption('--recipe <name|file>', 'preset recipe or recipe JSON file')
    .requiredOption('--input <dir>', 'dataset folder')
    .requiredOption('--out <dir>', 'folder to write')
    .option('--count <n>', 'augmented copies per slice', parseInteger, 1)
    .option('--seed <n>', 'random seed', parseInteger, 1)
    .option('--size <px>', 'resize slices to size x size first (mixing needs one size)', parseInteger)
    .option('--gan-dir <dir>', 'generated pairs for recipes with GAN steps')
    .option('--force', 'write into a folder that is not empty (files with the same names are overwritten)')
    .action(async (flags: { recipe: string; input: string; out: string; count: number; seed: number; size?: number; ganDir?: string; force?: boolean }) => {
      requireParameter(flags.count >= 1 && flags.count <= 100, `--count must be 1-100, got ${flags.count}`);
      await guardEmptyFolder(flags.out, { flag: '--out', inputs: flags.ganDir ? [flags.input, flags.ganDir] : [flags.input], force: Boolean(flags.force) }, 'augmented');
      const recipe = await loadRecipe(flags.recipe, flags.ganDir ? { ganDir: flags.ganDir } : {});
      const written = await augmentFolder(flags.input, flags.out, recipe, { count: flags.count, seed: flags.seed, ...(flags.size ? { size: flags.size } : {}) });
      io.out(`wrote ${written} augmented pair(s) with recipe ${recipe.name} to ${flags.out}`);
    });

  program
    .command('weather')
    .description('digital weathering: re-encode an image as JPEG generation after generation; PSNR/SSIM per generation')
    .argument('<image>', 'a PNG slice')
    .requiredOption('--out <dir>', 'folder for every generation (NAME_gen001.png ...)')
    .option('--quality <q>', 'JPEG quality of every generation', parseInteger, 30)
    .option('--generations <n>', 'number of generations', parseInteger, 30)
    .option('--schedule <list>', 'qualities, one generation each, e.g. 30,20,10,5 (replaces --quality/--generations)')
    .option('--jitter [kind]', 'move the JPEG block grid between generations: shift (default) or rescale')
    .option('--force', 'overwrite generation files that already exist in --out')
    .option('--json', 'print the generations as JSON')
    .action(async (image: string, flags: { out: string; quality: number; generations: number; schedule?: string; jitter?: string | boolean; force?: boolean; json?: boolean }) => {
      const jitter: WeatheringJitter = flags.jitter === undefined || flags.jitter === false ? 'none' : flags.jitter === true ? 'shift' : (flags.jitter as WeatheringJitter);
      requireParameter(['none', 'shift', 'rescale'].includes(jitter), `--jitter must be shift or rescale, got ${String(flags.jitter)}`);
      const schedule = flags.schedule?.split(',').map((q) => Number(q.trim()));
      const stem = basename(image, extname(image));
      const fileOf = (generation: number) => `${stem}_gen${String(generation).padStart(3, '0')}.png`;
      const count = schedule?.length ?? flags.generations;
      await guardOutputFolder(flags.out, Array.from({ length: Math.max(0, Math.min(count, 1000)) }, (_, k) => fileOf(k + 1)), { flag: '--out', inputs: [image], force: Boolean(flags.force) }, 'weathered');
      const source = await readGray(image);
      const generations = await weatherImage(source.data, source.width, source.height, schedule ? { schedule, jitter } : { quality: flags.quality, generations: flags.generations, jitter });
      for (const g of generations) {
        await writeFileAtomic(join(flags.out, fileOf(g.generation)), await encodeGrayPng({ width: source.width, height: source.height, data: g.image }));
      }
      const rows = generations.map((g) => ({ generation: g.generation, quality: g.quality, psnr: Number(g.psnr.toFixed(3)), ssim: Number(g.ssim.toFixed(4)) }));
      if (flags.json) io.out(JSON.stringify({ image, jitter, generations: rows }, null, 2));
      else io.out(`${formatTable(['generation', 'quality', 'PSNR dB', 'SSIM'], rows.map((r) => [r.generation, r.quality, r.psnr, r.ssim]))}\nwrote ${generations.length} generation(s) to ${flags.out}`);
    });
}
