// Draws synthetic sample slices beside a real MedSeg slice (when ../shared/data/medseg-covid-train
// exists), each with its lesion mask tinted red underneath. Run: npx tsx scripts/readme-figure.mts
// [OUT.png] (default: a temp file). The MedSeg slices may not be redistributed: keep the figure out
// of the repository.
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { writeSyntheticSample } from '../src-main/engine/datasets/synthetic/write-sample';

const root = resolve(import.meta.dirname, '..');
const real = resolve(root, '../shared/data/medseg-covid-train');
const out = resolve(process.argv[2] ?? join(tmpdir(), 'covseg-sample-vs-real.png'));
const tile = 256;

async function tilePair(frame: string, mask: string, turn: (image: Sharp) => Sharp = (image) => image): Promise<Buffer[]> {
  const gray = await turn(sharp(frame)).resize(tile, tile, { fit: 'contain', background: '#000' }).greyscale().toColourspace('srgb').png().toBuffer();
  const maskRaw = await turn(sharp(mask)).resize(tile, tile, { fit: 'contain', background: '#000', kernel: 'nearest' }).greyscale().raw().toBuffer();
  const red = Buffer.alloc(tile * tile * 4);
  for (let i = 0; i < tile * tile; i++) red.set(maskRaw[i]! > 127 ? [255, 40, 40, 140] : [0, 0, 0, 0], i * 4);
  const overlay = await sharp(gray).composite([{ input: red, raw: { width: tile, height: tile, channels: 4 } }]).png().toBuffer();
  return [gray, overlay];
}

const sampleDir = await mkdtemp(join(tmpdir(), 'covseg-figure-'));
await writeSyntheticSample(sampleDir, { count: 12, size: 256, seed: 1 });
const columns: Buffer[][] = [];
// The two slices with the most lesion, so the figure shows what lesions look like.
const names = (await Promise.all(
  Array.from({ length: 12 }, (_, i) => `synth_p${String(Math.floor(i / 6) + 1).padStart(3, '0')}_s${String((i % 6) + 1).padStart(2, '0')}`).map(async (name) => ({
    name,
    lesion: (await sharp(`${sampleDir}/masks/${name}.png`).stats()).channels[0]!.mean,
  })),
)).sort((a, b) => b.lesion - a.lesion).slice(0, 2).map((n) => n.name);
for (const name of names) columns.push(await tilePair(`${sampleDir}/frames/${name}.png`, `${sampleDir}/masks/${name}.png`));
// The MedSeg slices are stored transposed: the app's rot90+flipH shows them radiologically (README,
// "Orientation from anatomy"). sharp mirrors before it rotates, so that is flip (top/bottom) + rotate(90).
if (existsSync(real)) columns.push(await tilePair(`${real}/frames/medseg_tr020.png`, `${real}/masks/medseg_tr020.png`, (image) => image.flip().rotate(90)));
const composites = columns.flatMap((col, c) => col.map((input, r) => ({ input, left: c * (tile + 4), top: r * (tile + 4) })));
await sharp({ create: { width: columns.length * (tile + 4) - 4, height: 2 * tile + 4, channels: 3, background: '#222' } })
  .composite(composites)
  .png()
  .toFile(out);
console.log(`wrote ${out} (${columns.length} columns${existsSync(real) ? ', last one real' : ''})`);
