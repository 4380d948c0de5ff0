import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src-main/engine/backend/select-backend';
import { createGanNetworks } from '../../../../src-main/engine/gan/gan-networks';
import { bceFromLogits } from '../../../../src-main/engine/gan/network/ops';
import { maxRelativeError } from '../../../fixtures/relative-error';

/** Generator and discriminator gradients of one GAN loss (4x4 stride-2 convs, transposed convs, LeakyReLU, instance norm / spectral norm) on the active backend. */
function ganGradients(kind: 'pix2pix' | 'dagan'): Map<string, Float32Array> {
  const nets = createGanNetworks({ kind, size: 32, planes: 2, generatorFilters: 4, discriminatorFilters: 4, seed: 5 });
  const condition = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([2, 32, 32, 2], 0, 1, 'float32', 1), 0.8), 'float32')) as tf.Tensor4D;
  const real = tf.randomUniform([2, 32, 32, 1], -1, 1, 'float32', 2) as tf.Tensor4D;
  const reference = kind === 'dagan' ? (tf.randomUniform([2, 32, 32, 1], -1, 1, 'float32', 3) as tf.Tensor4D) : undefined;
  const out = new Map<string, Float32Array>();
  const vars = [...nets.g.store.trainable.entries(), ...nets.d.store.trainable.entries()];
  const { value, grads } = tf.variableGrads(() => {
    const fake = nets.generate(condition, reference, 11);
    return tf.add(tf.add(bceFromLogits(nets.discriminate(condition, reference, fake), 1), bceFromLogits(nets.discriminate(condition, reference, real), 0)), tf.mul(tf.mean(tf.abs(tf.sub(fake, real))), 100)) as tf.Scalar;
  }, vars.map(([, v]) => v));
  for (const [name, v] of vars) out.set(name, grads[v.name]!.dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads), condition, real, ...(reference ? [reference] : [])]);
  nets.dispose();
  return out;
}

describe('the GAN ops are exact on wasm (against the cpu backend)', () => {
  for (const kind of ['pix2pix', 'dagan'] as const) {
    it(`${kind}: every weight gradient within relative error 1e-4`, async () => {
      await selectBackend('wasm');
      const wasm = ganGradients(kind);
      await tf.setBackend('cpu');
      const cpu = ganGradients(kind);
      await tf.setBackend('wasm');
      expect([...wasm.keys()]).toEqual([...cpu.keys()]);
      for (const [name, values] of wasm) expect(maxRelativeError(values, cpu.get(name)!), name).toBeLessThan(1e-4);
    }, 60_000);
  }
});
