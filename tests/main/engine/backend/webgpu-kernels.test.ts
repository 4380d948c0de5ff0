import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src-main/engine/backend/select-backend';
import { createLoss } from '../../../../src-main/engine/losses/segmentation-losses';
import { bilinearUpsample } from '../../../../src-main/engine/models/segformer/bilinear-upsample';
import { buildSegformer } from '../../../../src-main/engine/models/segformer/segformer';
import { gelu } from '../../../../src-main/engine/models/segformer/segformer-layers';
import { buildUnet } from '../../../../src-main/engine/models/unet/unet';
import { maxRelativeError } from '../../../fixtures/relative-error';
import { NO_SWIFTSHADER } from '../../../fixtures/swiftshader';

/** Runs `compute` (forward value and gradients) on webgpu and on the reference cpu backend. */
async function onBoth(compute: () => tf.Tensor[]): Promise<{ webgpu: Float32Array[]; cpu: Float32Array[] }> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const out = tf.tidy(compute);
    const values = (await Promise.all(out.map((t) => t.data()))) as Float32Array[];
    tf.dispose(out);
    return values;
  };
  const cpu = await run('cpu');
  const webgpu = await run('webgpu');
  return { webgpu, cpu };
}

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

/** Forward value, then the gradient of `sum(f(x) * dy)` for each input (dy fixed and random). */
function forwardAndGradients(f: (...inputs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): tf.Tensor[] {
  const y = f(...inputs);
  const dy = rand(y.shape, 99);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), dy)))(inputs);
  return [y, ...grads];
}

// Tolerances are max |webgpu - cpu| / max |cpu| per output. Measured on SwiftShader: 0 for ops that
// only move or compare values (max-pool, relu, concat, max), at most 3e-7 for the rest, i.e. float32
// rounding in another summation order. Bounds: 1e-6 for element-wise ops, 1e-5 where an output sums
// up to ~100 products (convolutions, their gradients, batch-norm statistics, reductions, losses).
const CASES: { op: string; outputs: string[]; tolerance: number; compute: () => tf.Tensor[] }[] = [
  {
    op: 'Conv2D 3x3 same (U-Net encoder/decoder)',
    outputs: ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'],
    tolerance: 1e-5,
    compute: () => forwardAndGradients((x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), [rand([2, 8, 8, 3], 1), rand([3, 3, 3, 4], 2)]),
  },
  {
    op: 'Conv2DTranspose 2x2 stride 2 (U-Net up-sampling)',
    outputs: ['Conv2DBackpropInput', 'Conv2D (its x gradient)', 'Conv2DBackpropFilter'],
    tolerance: 1e-5,
    compute: () => forwardAndGradients((x, w) => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, 8, 8, 3], 2, 'same'), [rand([2, 4, 4, 5], 3), rand([2, 2, 3, 5], 4)]),
  },
  {
    op: 'batch norm in training (moments + FusedBatchNorm)',
    outputs: ['FusedBatchNorm', 'd/dx', 'd/dgamma', 'd/dbeta'],
    tolerance: 1e-5,
    compute: () =>
      forwardAndGradients(
        (x, gamma, beta) => {
          const { mean, variance } = tf.moments(x!, [0, 1, 2]);
          return tf.batchNorm(x!, mean, variance, beta, gamma, 1e-3);
        },
        [rand([2, 8, 8, 4], 5), rand([4], 6), rand([4], 7)],
      ),
  },
  {
    op: 'MaxPool 2x2 stride 2',
    outputs: ['MaxPool', 'MaxPoolGrad'],
    tolerance: 1e-7,
    compute: () => forwardAndGradients((x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), [rand([2, 8, 8, 4], 8)]),
  },
  {
    op: 'Relu',
    outputs: ['Relu', 'Relu gradient (Step)'],
    tolerance: 1e-7,
    compute: () => forwardAndGradients((x) => tf.relu(x!), [rand([2, 8, 8, 4], 9)]),
  },
  {
    op: 'Sigmoid',
    outputs: ['Sigmoid', 'Sigmoid gradient'],
    tolerance: 1e-6,
    compute: () => forwardAndGradients((x) => tf.sigmoid(x!), [rand([2, 8, 8, 4], 10)]),
  },
  {
    op: 'Concat on channels (skip connections)',
    outputs: ['ConcatV2', 'Slice (gradient, first)', 'Slice (gradient, second)'],
    tolerance: 1e-7,
    compute: () => forwardAndGradients((a, b) => tf.concat([a!, b!], 3), [rand([2, 8, 8, 3], 11), rand([2, 8, 8, 5], 12)]),
  },
  {
    op: 'reductions Sum, Mean, Max over image axes',
    outputs: ['Sum', 'Sum gradient', 'Mean', 'Mean gradient', 'Max', 'Max gradient'],
    tolerance: 1e-5,
    compute: () => [
      ...forwardAndGradients((x) => tf.sum(x!, [1, 2]), [rand([2, 16, 16, 3], 13)]),
      ...forwardAndGradients((x) => tf.mean(x!, [1, 2]), [rand([2, 16, 16, 3], 14)]),
      ...forwardAndGradients((x) => tf.max(x!, [1, 2]), [rand([2, 16, 16, 3], 15)]),
    ],
  },
  {
    op: 'losses bce and bce+dice on logits',
    outputs: ['bce', 'bce d/dlogits', 'bce+dice', 'bce+dice d/dlogits'],
    tolerance: 1e-5,
    compute: () => {
      const target = tf.cast(tf.greater(rand([2, 8, 8, 1], 17), 0.5), 'float32') as tf.Tensor4D;
      return ['bce', 'bce+dice'].flatMap((name) => {
        const loss = createLoss(name);
        return forwardAndGradients((logits) => loss(logits as tf.Tensor4D, target), [tf.mul(rand([2, 8, 8, 1], 16), 4)]);
      });
    },
  },
];

// What SegFormer adds: strided patch embeddings, attention's batched products and softmax, layer
// norm, the Mix-FFN's depthwise convolution and GELU, and the decoder's bilinear up-sampling.
const SEGFORMER_CASES: typeof CASES = [
  {
    op: 'Conv2D 7x7 stride 4 and 3x3 stride 2 (overlapping patch embeddings)',
    outputs: ['7x7/4', 'd/dx', 'd/dw', '3x3/2', 'd/dx', 'd/dw'],
    tolerance: 1e-5,
    compute: () => [
      ...forwardAndGradients((x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 4, 'same'), [rand([2, 16, 16, 1], 30), rand([7, 7, 1, 4], 31)]),
      ...forwardAndGradients((x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'), [rand([2, 8, 8, 4], 32), rand([3, 3, 4, 6], 33)]),
    ],
  },
  {
    op: 'DepthwiseConv2dNative 3x3 (Mix-FFN)',
    outputs: ['DepthwiseConv2dNative', 'd/dx', 'd/dfilter'],
    tolerance: 1e-5,
    compute: () => forwardAndGradients((x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), [rand([2, 8, 8, 6], 34), rand([3, 3, 6, 1], 35)]),
  },
  {
    op: 'BatchMatMul and Softmax (efficient self-attention)',
    outputs: ['scores', 'd/dq', 'd/dk', 'attention', 'd/dscores', 'd/dv'],
    tolerance: 1e-5,
    compute: () => [
      ...forwardAndGradients((q, k) => tf.matMul(q!, k!, false, true), [rand([2, 16, 8], 36), rand([2, 4, 8], 37)]),
      ...forwardAndGradients((scores, v) => tf.matMul(tf.softmax(scores!), v!), [tf.mul(rand([2, 16, 4], 38), 3), rand([2, 4, 8], 39)]),
    ],
  },
  {
    op: 'layer norm over channels and GELU',
    outputs: ['layer norm', 'd/dx', 'GELU', 'd/dx'],
    tolerance: 1e-5,
    compute: () => [
      ...forwardAndGradients(
        (x) => {
          const { mean, variance } = tf.moments(x!, -1, true);
          return tf.div(tf.sub(x!, mean), tf.sqrt(tf.add(variance, 1e-6)));
        },
        [rand([2, 16, 8], 40)],
      ),
      ...forwardAndGradients((x) => gelu(x!), [tf.mul(rand([2, 16, 8], 41), 3)]),
    ],
  },
  {
    op: 'bilinear up-sampling x4, half-pixel centres (decoder)',
    outputs: ['up-sampled', 'd/dx'],
    tolerance: 1e-5,
    compute: () => forwardAndGradients((x) => bilinearUpsample(x as tf.Tensor4D, 4), [rand([2, 4, 4, 3], 42)]),
  },
];

describe.skipIf(NO_SWIFTSHADER)('webgpu kernels of the U-Net match the cpu backend (SwiftShader)', () => {
  beforeAll(async () => {
    await selectBackend('webgpu');
    // Small tensors whose data is on the CPU would otherwise run on the cpu backend: test the GPU kernels.
    tf.env().set('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', 0);
  });

  it.each(CASES)('$op', async ({ outputs, tolerance, compute }) => {
    const { webgpu, cpu } = await onBoth(compute);
    expect(webgpu).toHaveLength(outputs.length);
    const errors = Object.fromEntries(outputs.map((name, k) => [name, maxRelativeError(webgpu[k]!, cpu[k]!)]));
    for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThan(tolerance);
  });

  it('gives the same U-Net loss gradient for every weight (depth 2, 4 filters, bce, training mode)', async () => {
    await tf.setBackend('cpu');
    const model = buildUnet({ depth: 2, baseFilters: 4, seed: 3 });
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = createLoss('bce');
    const x = rand([1, 8, 8, 1], 20);
    const y = tf.cast(tf.greater(rand([1, 8, 8, 1], 21), 0.3), 'float32');
    const { webgpu, cpu } = await onBoth(() => {
      const { value, grads } = tf.variableGrads(() => loss(model.apply(x, { training: true }) as tf.Tensor4D, y as tf.Tensor4D), variables);
      return [value, ...variables.map((v) => grads[v.name]!)];
    });
    expect(webgpu).toHaveLength(variables.length + 1);
    const worst = Math.max(...cpu.map((c, k) => maxRelativeError(webgpu[k]!, c)));
    // Through up to 8 convolutions and 6 batch norms rounding adds up: 4e-6 measured here.
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe.skipIf(NO_SWIFTSHADER)('webgpu kernels of SegFormer match the cpu backend (SwiftShader)', () => {
  beforeAll(async () => {
    await selectBackend('webgpu');
    tf.env().set('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', 0);
  });

  it.each(SEGFORMER_CASES)('$op', async ({ outputs, tolerance, compute }) => {
    const { webgpu, cpu } = await onBoth(compute);
    expect(webgpu).toHaveLength(outputs.length);
    for (const [k, name] of outputs.entries()) expect(maxRelativeError(webgpu[k]!, cpu[k]!), name).toBeLessThan(tolerance);
  });

  it('gives the same SegFormer-B0 loss gradient for every weight (32 px, bce, training mode)', async () => {
    await tf.setBackend('cpu');
    // No dropout or stochastic depth: their masks are random draws, not kernels under test.
    const model = buildSegformer({ variant: 'b0', dropPath: 0, dropout: 0, seed: 3 });
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = createLoss('bce');
    const x = rand([1, 32, 32, 1], 43);
    const y = tf.cast(tf.greater(rand([1, 32, 32, 1], 44), 0.3), 'float32');
    const { webgpu, cpu } = await onBoth(() => {
      const { value, grads } = tf.variableGrads(() => loss(model.apply(x, { training: true }) as tf.Tensor4D, y as tf.Tensor4D), variables);
      return [value, ...variables.map((v) => grads[v.name]!)];
    });
    expect(webgpu).toHaveLength(variables.length + 1);
    // Some gradients are zero up to rounding (1e-10 here: the last stage norm's beta, whose shift the
    // decoder's batch norm removes); scale those by a thousandth of the largest gradient instead.
    const largest = Math.max(...cpu.slice(1).map((c) => c.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
    const errors = cpu.map((c, k) => maxRelativeError(webgpu[k]!, c, k === 0 ? 1e-12 : largest * 1e-3));
    // Eight transformer blocks and the decoder: rounding adds up as it does for the U-Net (2e-5 measured).
    expect(Math.max(...errors)).toBeLessThan(1e-4);
    tf.dispose([x, y]);
    model.dispose();
  }, 600_000);
});
