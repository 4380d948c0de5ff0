import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src-main/engine/backend/select-backend';
import { createModel, inferenceCopy, resolveModelSpec } from '../../../../src-main/engine/models/registry';
import { exportOnnx, ONNX_OPSET } from '../../../../src-main/engine/onnx/export-onnx';
import { ModelProto } from '../../../../src-main/engine/onnx/onnx-schema';
import { createOnnxEngine, createTfjsEngine, loadOnnxRuntime } from '../../../../src-main/engine/onnx/segmentation-engine';

/** A tiny U-Net with random weights and non-trivial batch-norm statistics, as after training. */
function tinyTrainedUnet() {
  const spec = resolveModelSpec('unet', { depth: 2, baseFilters: 4, seed: 7 });
  const trained = createModel('unet', spec.options);
  tf.tidy(() => {
    let seed = 20;
    for (const layer of trained.layers.filter((l) => l.name.includes('_bn'))) {
      const [g, b, m, v] = layer.getWeights();
      layer.setWeights([tf.randomUniform(g!.shape, 0.5, 1.5, 'float32', seed++), tf.randomUniform(b!.shape, -0.5, 0.5, 'float32', seed++), tf.randomUniform(m!.shape, -0.2, 0.2, 'float32', seed++), tf.randomUniform(v!.shape, 0.5, 2, 'float32', seed++)]);
    }
  });
  return { spec, trained };
}

function seededInput(n: number, size: number, seed: number): Float32Array {
  return tf.tidy(() => tf.randomUniform([n, size, size, 1], 0, 1, 'float32', seed).dataSync() as Float32Array);
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('ONNX export', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('writes a standard model: opset 13, folded batch norm, NCHW input with dynamic batch and size', () => {
    const { spec, trained } = tinyTrainedUnet();
    const { model, release } = inferenceCopy(trained, spec);
    const decoded = ModelProto.toObject(ModelProto.decode(exportOnnx(model, { metadata: { threshold: '0.5' } })), { longs: Number }) as {
      ir_version: number;
      opset_import: { version: number }[];
      metadata_props: { key: string; value: string }[];
      graph: { node: { op_type: string }[]; input: { name: string; type: { tensor_type: { shape: { dim: { dim_param?: string; dim_value?: number }[] } } } }[]; output: { name: string }[] };
    };
    release();
    trained.dispose();
    expect(decoded.opset_import[0]!.version).toBe(ONNX_OPSET);
    expect(decoded.ir_version).toBe(7);
    const ops = decoded.graph.node.map((n) => n.op_type);
    expect(ops).not.toContain('BatchNormalization');
    expect(ops.filter((op) => op === 'Conv')).toHaveLength(11);
    expect(ops.filter((op) => op === 'ConvTranspose')).toHaveLength(2);
    expect(ops.filter((op) => op === 'MaxPool')).toHaveLength(2);
    expect(ops.filter((op) => op === 'Concat')).toHaveLength(2);
    expect(ops).toContain('Sigmoid');
    const input = decoded.graph.input[0]!;
    expect(input.name).toBe('ct');
    expect(input.type.tensor_type.shape.dim).toEqual([{ dim_param: 'batch' }, { dim_value: 1 }, { dim_param: 'height' }, { dim_param: 'width' }]);
    expect(decoded.graph.output.map((o) => o.name)).toEqual(['logits', 'probabilities']);
    expect(decoded.metadata_props).toEqual([{ key: 'threshold', value: '0.5' }]);
  });

  it('refuses a layer it has no mapping for, naming it', () => {
    const input = tfl.input({ shape: [8, 8, 1] });
    const up = tfl.layers.upSampling2d({ size: [2, 2], name: 'resize_up' }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: up });
    expect(() => exportOnnx(model)).toThrow(/layer resize_up \(UpSampling2D\) cannot be exported/);
    model.dispose();
  });
});

describe('ONNX Runtime against tfjs on the same weights', async () => {
  const ort = await loadOnnxRuntime();
  if (!ort) console.warn('onnxruntime-node is not installed (an optional dependency): the ONNX Runtime comparisons are skipped');
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it.runIf(ort)('agrees to 1e-4 with the trained tfjs model, batch norm unfolded, across batch sizes and slice sizes', async () => {
    const { spec, trained } = tinyTrainedUnet();
    const { model, release } = inferenceCopy(trained, spec);
    const engine = await createOnnxEngine(exportOnnx(model));
    release();
    const reference = createTfjsEngine(trained);
    for (const [n, size, seed] of [[2, 32, 1], [1, 16, 2], [3, 48, 3]] as const) {
      const x = seededInput(n, size, seed);
      const [onnx, tfjs] = [await engine.run(x, n, size), await reference.run(x, n, size)];
      expect(onnx.classes).toBe(1);
      expect(maxAbsDifference(onnx.probabilities, tfjs.probabilities)).toBeLessThan(1e-4);
      expect(maxAbsDifference(onnx.logits, tfjs.logits)).toBeLessThan(1e-4 * Math.max(1, ...Array.from(tfjs.logits, Math.abs)));
    }
    expect(engine.description).toMatch(/^onnxruntime-node \d+\.\d+\.\d+ \(cpu\)$/);
    engine.dispose();
    trained.dispose();
  });

  it.runIf(ort)('adds softmax over the class axis for a three-class head and returns channels last', async () => {
    const input = tfl.input({ shape: [null, null, 1] });
    let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: 5 }), biasInitializer: 'ones' }).apply(input) as tfl.SymbolicTensor;
    x = tfl.layers.conv2d({ filters: 3, kernelSize: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }) }).apply(x) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: x });
    const engine = await createOnnxEngine(exportOnnx(model));
    const data = seededInput(2, 8, 4);
    const [onnx, tfjs] = [await engine.run(data, 2, 8), await createTfjsEngine(model).run(data, 2, 8)];
    expect(onnx.classes).toBe(3);
    expect(maxAbsDifference(onnx.probabilities, tfjs.probabilities)).toBeLessThan(1e-5);
    expect(maxAbsDifference(onnx.logits, tfjs.logits)).toBeLessThan(1e-4);
    engine.dispose();
    model.dispose();
  });

});
