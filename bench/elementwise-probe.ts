// `npx tsx bench/elementwise-probe.ts`: CPU ms and ns per element (medians of 9 interleaved rounds) of
// the fused batch norm (JavaScript loops on the wasm heap) and of the element-wise kernels around
// it, at a U-Net level-0 activation [4, 128, 128, 16]. A decision aid, not a test.
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTraining } from '../src-main/engine/backend/batch-norm-training';
import { selectBackend } from '../src-main/engine/backend/select-backend';
await selectBackend('wasm');
const shape = [4, 128, 128, 16];
const x = tf.randomUniform(shape, -1, 1, 'float32', 1);
const dy = tf.randomUniform(shape, -1, 1, 'float32', 2);
const scale = tf.ones([16]) as tf.Tensor1D;
const offset = tf.zeros([16]) as tf.Tensor1D;
const n = x.size;
const cases: Record<string, () => void> = {
  'bn forward': () => tf.dispose(batchNormTraining(x, scale, offset, 1e-3)),
  'bn fwd+bwd': () => tf.dispose(tf.grad((a: tf.Tensor) => tf.sum(tf.mul(batchNormTraining(a, scale, offset, 1e-3)[0], dy)))(x)),
  'relu': () => tf.dispose(tf.relu(x)),
  'relu grad': () => tf.dispose(tf.grad((a: tf.Tensor) => tf.relu(a))(x, dy)),
  'mul': () => tf.dispose(tf.mul(x, dy)),
  'clone (identity)': () => tf.dispose(tf.clone(x)),
  'step': () => tf.dispose(tf.step(x)),
  'cast': () => tf.dispose(tf.cast(x, 'float32')),
};
const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const times: Record<string, number[]> = {};
for (let r = -1; r < 9; r++) {
  for (const [name, f] of Object.entries(cases)) {
    const t = process.cpuUsage();
    f();
    const u = process.cpuUsage(t);
    if (r >= 0) (times[name] ??= []).push((u.user + u.system) / 1000);
  }
}
for (const [name, v] of Object.entries(times)) console.log(name.padEnd(18), `${med(v).toFixed(2)} ms`.padStart(10), `${((med(v) * 1e6) / n).toFixed(2)} ns/element`.padStart(18));
