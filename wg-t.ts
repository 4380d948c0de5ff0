import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './src-main/engine/backend/select-backend';
await selectBackend('webgpu');
const flag = process.argv[2];
if (flag) tf.env().set(flag, process.argv[3] === 'true' ? true : process.argv[3] === 'false' ? false : Number(process.argv[3]));
const x = tf.randomUniform([4, 32, 32, 4]) as tf.Tensor4D; const f = tf.randomUniform([3, 3, 4, 4]) as tf.Tensor4D;
for (let i = 0; i < 4; i++) { const t = performance.now(); const c = tf.conv2d(x, f, 1, 'same'); await c.data(); c.dispose(); console.log(flag, 'conv', (performance.now() - t).toFixed(1)); }
const dy = tf.randomUniform([4, 32, 32, 4]) as tf.Tensor4D;
for (let i = 0; i < 3; i++) { const t = performance.now(); const c = tf.conv2dTranspose(dy, f, [4,32,32,4], 1, 'same'); await c.data(); c.dispose(); console.log(flag, 'dx', (performance.now() - t).toFixed(1)); }
for (let i = 0; i < 3; i++) { const t = performance.now(); const g = tf.grad((ff: tf.Tensor) => tf.sum(tf.conv2d(x, ff as tf.Tensor4D, 1, 'same')))(f); await g.data(); g.dispose(); console.log(flag, 'df', (performance.now() - t).toFixed(1)); }
