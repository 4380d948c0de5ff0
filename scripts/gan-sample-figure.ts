// The README's GAN figure, drawn from the built-in synthetic sample only (the MedSeg slices may not
// be redistributed): real pairs, then pix2pix and DAGAN pairs of the first generation and of a second
// generation retrained on the originals plus the accepted first-generation pairs, each pair as its
// image with the mask outlined, under it its quality figures (`covseg gan check`), beside each row the
// GAN's summary. Every step is a `covseg` command run in this process, each with its seed, so the same
// settings give the same figure on the same backend.
//
//   npx tsx scripts/gan-sample-figure.ts [--out docs/images/gan-pairs-sample.png] [--work DIR]
//     [--size 64] [--epochs 30] [--filters 8] [--count 24] [--slices 48] [--unet-epochs 15] [--tstr-epochs 15 (0: no TSTR)] [--seed 1]
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { PairsQualityReport } from '../src-shared/contract/gan-gallery';
import type { GeneratedPair } from '../src-shared/contract/gan-pairs';
import { main } from '../src-main/cli';
import { openDataset } from '../src-main/engine/datasets/open-dataset';
import { readSplit } from '../src-main/engine/datasets/split-dataset';
import { loadGanSamples } from '../src-main/engine/gan/gan-data';
import { lesionContrast } from '../src-main/engine/gan/lesion-contrast';
import { readPairs } from '../src-main/engine/gan/pairs-file';
import { readStatus } from '../src-main/engine/runs/run-files';
import { composeSlice } from '../src-renderer/src/components/slices/compose-slice';
import { figureLayout, type Box } from './gan-figure-layout';

const { values: flags } = parseArgs({
  options: {
    out: { type: 'string', default: 'docs/images/gan-pairs-sample.png' },
    work: { type: 'string' },
    size: { type: 'string', default: '64' },
    epochs: { type: 'string', default: '30' },
    filters: { type: 'string', default: '8' },
    count: { type: 'string', default: '24' },
    slices: { type: 'string', default: '48' },
    'unet-epochs': { type: 'string', default: '15' },
    'tstr-epochs': { type: 'string', default: '15' },
    seed: { type: 'string', default: '1' },
  },
});
const size = Number(flags.size);
const seed = flags.seed!;
const columns = 4;
const started = Date.now();
const work = resolve(flags.work ?? (await mkdtemp(join(tmpdir(), 'covseg-gan-figure-'))));
await mkdir(work, { recursive: true });

/**
 * Runs one `covseg` command here; its report lines go to stderr, prefixed, and a failure stops the
 * script. With --work, a command that finished before is not run again (WORK/.done/N marks it), so a
 * drawing change is quick to try.
 */
let step = 0;
async function covseg(...args: string[]): Promise<void> {
  const done = join(work, '.done', String(++step));
  if (flags.work && existsSync(done)) return;
  const t0 = Date.now();
  const say = (text: string) => process.stderr.write(`  ${text.split('\n').join('\n  ')}\n`);
  process.stderr.write(`$ covseg ${args.map((a) => a.replace(work, 'WORK')).join(' ')}\n`);
  const code = await main(args, { out: say, err: say, interactive: false });
  if (code !== 0) throw new Error(`covseg ${args[0]} ${args[1] ?? ''} failed (exit ${code})`);
  process.stderr.write(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  await mkdir(dirname(done), { recursive: true });
  await writeFile(done, args.join(' '));
}

/** A GAN stopped by a signal exits normally (cancelled, resumable): the figure needs it finished. */
async function requireCompleted(ganDir: string): Promise<void> {
  const { state } = await readStatus(ganDir);
  if (state !== 'completed') throw new Error(`${ganDir} is ${state}: remove it and its WORK/.done markers from its step on, then run again`);
}

const sample = join(work, 'sample');
const splitFile = join(work, 'split.json');
const realRun = join(work, 'real-unet');
await covseg('sample', '--out', sample, '--count', flags.slices!, '--size', String(size * 2), '--seed', seed);
await covseg('split', sample, '--out', splitFile, '--seed', seed);
// The real-data model the segmentability Dice asks (trained on the split's training slices only).
await covseg('train', '--data', sample, '--split', splitFile, '--out', realRun, '--size', String(size), '--epochs', flags['unet-epochs']!, '--batch', '4', '--seed', seed, '--workers', '1');

const ganFlags = ['--data', sample, '--split', splitFile, '--size', String(size), '--epochs', flags.epochs!, '--batch', '4', '--filters', flags.filters!, '--seed', seed];
const tstr = Number(flags['tstr-epochs']) > 0 ? ['--tstr', '--tstr-epochs', flags['tstr-epochs']!, '--tstr-size', String(size), '--seed', seed] : [];
const check = (pairs: string) => covseg('gan', 'check', pairs, '--data', sample, '--split', splitFile, '--model', realRun, ...tstr);

interface GanRow {
  title: string;
  kind: string;
  pairsDir: string;
  report: PairsQualityReport;
  pairs: GeneratedPair[];
  /** Generated pairs it trained on besides the real slices (second generation). */
  extraPairs: number;
}
const split = await readSplit(splitFile);
const ganRows: GanRow[] = [];
const minDices = new Map<string, number>();
for (const kind of ['pix2pix', 'dagan'] as const) {
  const g1 = join(work, `${kind}-g1`);
  const p1 = join(work, `${kind}-g1-pairs`);
  await covseg('gan', 'train', ...ganFlags, '--kind', kind, '--out', g1);
  await requireCompleted(g1);
  await covseg('gan', 'generate', '--gan', g1, '--count', flags.count!, '--out', p1, '--seed', seed);
  await check(p1);
  // Curation by rule: near-copies and the worse half by segmentability Dice (below the median, or the
  // default 0.3 when that is lower) are rejected, the rest accepted; these join generation 2's training set.
  const dices = (await readPairs(p1)).map((p) => p.quality?.segmentabilityDice).filter((d): d is number => typeof d === 'number').sort((a, b) => a - b);
  const minDice = Math.min(0.3, dices.length ? dices[Math.floor(dices.length / 2)]! : 0.3);
  minDices.set(kind, minDice);
  await covseg('gan', 'curate', p1, '--auto-reject', '--min-dice', minDice.toFixed(3));
  const passed = (await readPairs(p1)).filter((p) => p.decision.state === 'pending').map((p) => p.id);
  if (passed.length > 0) await covseg('gan', 'curate', p1, '--accept', passed.join(','), '--by', 'gan-sample-figure', '--reason', 'passed --auto-reject');
  else step++;
  const accepted = (await readPairs(p1)).filter((p) => p.decision.state === 'accepted').length;
  const g2 = join(work, `${kind}-g2`);
  const p2 = join(work, `${kind}-g2-pairs`);
  await covseg('gan', 'train', ...ganFlags, '--kind', kind, '--pairs', p1, '--out', g2);
  await requireCompleted(g2);
  await covseg('gan', 'generate', '--gan', g2, '--count', flags.count!, '--out', p2, '--seed', seed);
  await check(p2);
  for (const [generation, dir] of [[1, p1], [2, p2]] as const) {
    ganRows.push({
      title: `${kind} generation ${generation}`,
      kind,
      pairsDir: dir,
      report: JSON.parse(await readFile(join(dir, 'quality.json'), 'utf8')) as PairsQualityReport,
      pairs: await readPairs(dir),
      extraPairs: generation === 1 ? 0 : accepted,
    });
  }
}

// --- drawing ---
const TILE = size * 2;
const layout = figureLayout({ rows: 1 + ganRows.length, columns, tile: TILE, captionLines: 2, headerLines: 5 });
const canvas = Buffer.alloc(layout.width * layout.height * 4);
for (let i = 0; i < canvas.length; i += 4) canvas.set([24, 26, 30, 255], i);
const texts: string[] = [];
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
function text(x: number, y: number, line: string, options: { size?: number; bold?: boolean; colour?: string } = {}) {
  texts.push(`<text x="${x}" y="${y}" font-family="DejaVu Sans" font-size="${options.size ?? 11}" ${options.bold ? 'font-weight="bold"' : ''} fill="${options.colour ?? '#e6e6e6'}">${escape(line)}</text>`);
}
const f = (v: number | null | undefined, digits: number) => (v === null || v === undefined ? '–' : v.toFixed(digits));
const hu = (v: number | null | undefined) => (v === null || v === undefined ? '– HU' : `${v >= 0 ? '+' : ''}${v.toFixed(0)} HU`);

/** The pair's image with its mask outlined in the slice viewer's colours, scaled ×2 (nearest) into its tile. */
async function drawPair(box: Box, image: Uint8Array, classMap: Uint8Array) {
  const truth = Uint8Array.from(classMap, (c) => (c > 0 ? 1 : 0));
  const rgba = composeSlice({
    width: size,
    height: size,
    image,
    truth,
    labels: classMap,
    prediction: null,
    layers: { truth: { visible: true, opacity: 1 }, prediction: { visible: false, opacity: 0 }, diff: { visible: false, opacity: 0 } },
    outline: true,
  });
  const scaled = await sharp(Buffer.from(rgba.buffer), { raw: { width: size, height: size, channels: 4 } }).resize(TILE, TILE, { kernel: 'nearest' }).raw().toBuffer();
  for (let y = 0; y < TILE; y++) scaled.copy(canvas, ((box.y + y) * layout.width + box.x) * 4, y * TILE * 4, (y + 1) * TILE * 4);
}

const withLesion = (classMap: Uint8Array) => classMap.some((c) => c > 0);
const real = (await loadGanSamples(await openDataset(sample), split.slices.train, size, 2)).filter((s) => withLesion(s.classMap)).slice(0, columns);
const realRow = layout.rows[0]!;
text(realRow.label.x, realRow.label.y + 14, 'real training pairs', { size: 13, bold: true });
text(realRow.label.x, realRow.label.y + 32, `${split.slices.train.length} training slices of the split`);
text(realRow.label.x, realRow.label.y + 47, `mean lesion contrast ${hu(ganRows[0]!.report.real.meanLesionContrast)}`);
text(realRow.label.x, realRow.label.y + 62, '(first slices with lesions shown)');
for (const [k, slice] of real.entries()) {
  await drawPair(realRow.tiles[k]!, slice.image, slice.classMap);
  const caption = realRow.captions[k]!;
  text(caption.x, caption.y + 11, slice.id, { size: 10 });
  text(caption.x, caption.y + 25, `contrast ${hu(lesionContrast(slice.image, slice.classMap, size, size))}`, { size: 10 });
}

for (const [r, row] of ganRows.entries()) {
  const boxes = layout.rows[r + 1]!;
  const summary = row.report.gans[0]!;
  const decided = (state: string) => row.pairs.filter((p) => p.decision.state === state).length;
  const lines = [
    `trained on ${split.slices.train.length} real slices`,
    ...(row.extraPairs > 0 ? [`  + ${row.extraPairs} accepted gen-1 pair${row.extraPairs === 1 ? '' : 's'}`] : []),
    `${summary.pairs} pairs, ${summary.nearCopies} near-copies`,
    `mean SSIM ${f(summary.meanSsimToNearest, 2)}, seg Dice ${f(summary.meanSegmentabilityDice, 2)}`,
    `mean lesion contrast ${hu(summary.meanLesionContrast)}`,
    `histogram distance ${f(summary.histogramDistanceHu, 0)} HU`,
    ...(summary.tstr ? [`TSTR Dice ${f(summary.tstr.dice, 2)} (${summary.tstr.testSlices} real test)`] : []),
    ...(row.extraPairs === 0 ? [`kept ${decided('accepted')}, rejected ${decided('rejected')} (Dice < ${f(minDices.get(row.kind), 2)})`] : []),
  ];
  text(boxes.label.x, boxes.label.y + 14, row.title, { size: 13, bold: true });
  lines.forEach((line, k) => text(boxes.label.x, boxes.label.y + 32 + 15 * k, line));
  const shown = row.pairs.filter((p) => p.quality?.lesionContrast !== null && p.quality !== undefined).slice(0, columns);
  const samples = await loadGanSamples(await openDataset(row.pairsDir), shown.map((p) => p.id), size, 2);
  for (const [k, pair] of shown.entries()) {
    const drawn = samples.find((s) => s.id === pair.id)!;
    await drawPair(boxes.tiles[k]!, drawn.image, drawn.classMap);
    const q = pair.quality!;
    const caption = boxes.captions[k]!;
    const flagged = q.nearCopy || (q.segmentabilityDice !== null && q.segmentabilityDice < 0.3) || (q.lesionContrast !== null && q.lesionContrast <= 0);
    const style = { size: 10, ...(flagged ? { colour: '#ffa040' } : {}) };
    const mark = pair.decision.state === 'accepted' ? ' ✓' : pair.decision.state === 'rejected' ? ' ✗' : '';
    text(caption.x, caption.y + 11, `SSIM ${f(q.ssimToNearest, 2)} Dice ${f(q.segmentabilityDice, 2)}`, style);
    text(caption.x, caption.y + 25, `${hu(q.lesionContrast)} ${pair.maskOrigin}${mark}`, style);
  }
}

const { header } = layout;
[
  'Real vs generated pairs (built-in synthetic sample); masks outlined',
  `covseg sample --count ${flags.slices} --seed ${seed}; GANs ${size} px, ${flags.epochs} epochs, batch 4, ${flags.filters} filters, seed ${seed}; ${flags.count} pairs each`,
  `seg Dice: ${size}-px U-Net, ${flags['unet-epochs']} epochs on the real training slices. Under each pair: SSIM to the nearest`,
  'real training slice, seg Dice, lesion contrast, mask origin, ✓ accepted / ✗ rejected; orange: near-copy, Dice < 0.3, contrast <= 0',
  `Outlines: yellow ground-glass, vermillion consolidation (the slice viewer's colours); images at ${size} px shown at 2x`,
].forEach((line, k) => text(header.x, header.y + 14 + 15 * k, line, k === 0 ? { size: 13, bold: true } : {}));

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}">${texts.join('')}</svg>`;
const out = resolve(flags.out!);
await mkdir(dirname(out), { recursive: true });
await sharp(canvas, { raw: { width: layout.width, height: layout.height, channels: 4 } })
  .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
  .png({ compressionLevel: 9 })
  .toFile(out);
process.stderr.write(`wrote ${out} (${layout.width}x${layout.height}) in ${((Date.now() - started) / 1000 / 60).toFixed(1)} min; work folder ${work}\n`);
if (!flags.work) await rm(work, { recursive: true, force: true });
