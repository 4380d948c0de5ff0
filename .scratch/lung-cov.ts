import sharp from 'sharp';
import { readdirSync } from 'node:fs';
import { lungMask } from '../src-main/engine/imaging/lung-mask';
const dir = '/work/shared/data/medseg-covid-train';
const out: string[] = [];
for (const f of readdirSync(dir + '/frames').sort()) {
  const img = await sharp(`${dir}/frames/${f}`).greyscale().raw().toBuffer({ resolveWithObject: true });
  const lab = await sharp(`${dir}/labels/${f}`).greyscale().raw().toBuffer();
  const { width, height } = img.info;
  const m = lungMask(img.data, width, height);
  let les = 0, inside = 0, soft = 0, area = 0;
  for (let i = 0; i < m.mask.length; i++) { if (lab[i]) { les++; if (m.mask[i]) inside++; } if (m.mask[i]) { area++; if (!lab[i] && img.data[i]! > 150) soft++; } }
  out.push(`${f} ${width}x${height} cov ${(100*inside/les).toFixed(1)} lungs ${m.lungs.length} area ${(100*area/m.mask.length).toFixed(0)}% softNonLesion ${(100*soft/area).toFixed(1)}%`);
  if (process.argv[2] && inside / les < 0.9) {
    const rgb = Buffer.alloc(width * height * 3);
    for (let i = 0; i < m.mask.length; i++) { const v = img.data[i]!; rgb[3*i] = v; rgb[3*i+1] = v; rgb[3*i+2] = v;
      if (lab[i] && !m.mask[i]) { rgb[3*i] = 255; rgb[3*i+1] = 0; rgb[3*i+2] = 0; }
      else if (m.mask[i]) { rgb[3*i+2] = Math.min(255, v + 80); } }
    await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toFile(`/tmp/lungfail-${f}`);
  }
}
console.log(out.join('\n'));
