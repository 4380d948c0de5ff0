import { readdirSync, readFileSync } from 'node:fs';
import { selectBackend } from '../src-main/engine/backend/select-backend';
import { createLoss } from '../src-main/engine/losses/segmentation-losses';
import { buildUnet } from '../src-main/engine/models/unet/unet';
import { createAdamState } from '../src-main/engine/training/adam';
import { batchArrays } from '../src-main/engine/training/slice-cache';
import { parallelStepEngine } from '../src-main/engine/training/step-engine';
await selectBackend('wasm');
const size = 128;
const images = Array.from({ length: 4 }, (_, k) => Uint8Array.from({ length: size * size }, (_, i) => (i * 31 + k * 7) % 256));
const batch = { ...batchArrays({ ids: ['0', '1', '2', '3'], size, images, masks: images.map((im) => im.map((v) => (v > 200 ? 1 : 0))) }, [0, 1, 2, 3]), count: 4 };
const model = buildUnet({ depth: 4, baseFilters: 16 });
const e = await parallelStepEngine(model, createAdamState(model.trainableWeights.map((w) => w.read().size)), size, createLoss('bce'), { backend: 'wasm', loss: 'bce', lossOptions: {} });
const snap = () => new Map(readdirSync('/proc/self/task').map((t) => [t, Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]) / 1e6]));
for (let i = 0; i < 16; i++) {
  const a = snap();
  await e.step(batch, 1e-3);
  const b = snap();
  const d = [...b].map(([t, v]) => v - (a.get(t) ?? 0)).sort((x, y) => y - x);
  console.log(`=== STEP ${i} top2 ${d[0]!.toFixed(0)} ${d[1]!.toFixed(0)} rest ${d.slice(2).reduce((s, v) => s + v, 0).toFixed(0)}`);
}
await e.dispose();
