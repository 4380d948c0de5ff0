// Draws real training pairs (mask, slice) beside generated pairs (mask,
// generated slice) from a pairs folder. Usage: tsx scripts/gan-pairs-figure.ts GANDIR PAIRSDIR OUT.png
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDataset } from '../src-main/engine/datasets/open-dataset';
import { loadGanSamples } from '../src-main/engine/gan/gan-data';
import { readGanRecord } from '../src-main/engine/gan/gan-record';
import { readPairs } from '../src-main/engine/gan/pairs-file';
import { classMapTile, gridPng } from '../src-main/engine/gan/sample-grid';
import { readGray } from '../src-main/engine/imaging/png-io';

const [ganDir, pairsDir, out] = process.argv.slice(2) as [string, string, string];
const record = await readGanRecord(ganDir);
const size = record.config.size;
const planes = record.classes === 'lesion' ? 1 : 2;
const real = await loadGanSamples(await openDataset(record.dataset.root), record.split.train.slice(0, 4), size, planes);
const pairs = (await readPairs(pairsDir)).slice(0, 4);
const rows: Uint8Array[][] = [];
for (let k = 0; k < 4; k++) {
  const pair = pairs[k]!;
  const generated = (await readGray(join(pairsDir, 'frames', `${pair.id}.png`))).data;
  const mask = planes === 2 ? (await readGray(join(pairsDir, 'labels', `${pair.id}.png`))).data : Uint8Array.from((await readGray(join(pairsDir, 'masks', `${pair.id}.png`))).data, (v) => (v > 127 ? 1 : 0));
  rows.push([classMapTile(real[k]!.classMap, planes), real[k]!.image, new Uint8Array(size * size).fill(40), classMapTile(mask, planes), generated]);
}
await writeFile(out, await gridPng(rows, size));
console.log(`columns: real mask, real slice | generated pair's mask (${pairs.map((p) => p.maskOrigin).join(', ')}), generated slice`);
