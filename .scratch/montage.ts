import sharp from 'sharp';
import { readdirSync } from 'node:fs';
const fs = readdirSync('/tmp').filter((f) => f.startsWith('lungfail-medseg')).sort();
const tiles = await Promise.all(fs.map(async (f) => ({ input: await sharp('/tmp/' + f).resize(200, 240, { fit: 'contain', background: '#000' }).png().toBuffer() })));
const cols = 6, rows = Math.ceil(tiles.length / cols);
await sharp({ create: { width: 200 * cols, height: 240 * rows, channels: 3, background: '#000' } }).composite(tiles.map((t, k) => ({ ...t, left: (k % cols) * 200, top: Math.floor(k / cols) * 240 }))).png().toFile('/tmp/lungfail-montage.png');
console.log(fs.join(' '));
