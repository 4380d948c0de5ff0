// `npm run bench:onnx-python`: checks an exported model with the Python ONNX tools, independent of
// onnxruntime-node: onnx.checker (full check with shape inference) and Python onnxruntime's output
// against tfjs on the same input. A dev check, not a test: needs a Python with `onnx` and
// `onnxruntime` (COVSEG_PYTHON, e.g. a venv: python3 -m venv V && V/bin/pip install onnx onnxruntime numpy).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src-main/engine/backend/select-backend';
import { createModel, inferenceCopy, resolveModelSpec } from '../src-main/engine/models/registry';
import { exportOnnx } from '../src-main/engine/onnx/export-onnx';

const python = process.env.COVSEG_PYTHON ?? 'python3';
await selectBackend('cpu');
const spec = resolveModelSpec('unet', { depth: 3, baseFilters: 8, seed: 11 });
const trained = createModel('unet', spec.options);
tf.tidy(() => {
  let seed = 40;
  for (const layer of trained.layers.filter((l) => l.name.includes('_bn'))) {
    const [g, b, m, v] = layer.getWeights();
    layer.setWeights([tf.randomUniform(g!.shape, 0.5, 1.5, 'float32', seed++), tf.randomUniform(b!.shape, -0.5, 0.5, 'float32', seed++), tf.randomUniform(m!.shape, -0.2, 0.2, 'float32', seed++), tf.randomUniform(v!.shape, 0.5, 2, 'float32', seed++)]);
  }
});
const { model } = inferenceCopy(trained, spec);
const dir = mkdtempSync(join(tmpdir(), 'covseg-onnx-'));
const file = join(dir, 'unet.onnx');
writeFileSync(file, exportOnnx(model));
const x = tf.randomUniform([2, 64, 64, 1], 0, 1, 'float32', 5);
const expected = tf.tidy(() => tf.sigmoid(trained.apply(x, { training: false }) as tf.Tensor).dataSync());
writeFileSync(join(dir, 'io.json'), JSON.stringify({ x: Array.from(x.dataSync()), expected: Array.from(expected) }));
const script = `
import json, sys, numpy as np, onnx, onnxruntime as ort
path, io = sys.argv[1], json.load(open(sys.argv[2]))
m = onnx.load(path)
onnx.checker.check_model(m, full_check=True)
s = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
x = np.array(io['x'], np.float32).reshape(2, 64, 64, 1).transpose(0, 3, 1, 2)
p = s.run(['probabilities'], {'ct': x})[0].transpose(0, 2, 3, 1).ravel()
print(json.dumps({'onnx': onnx.__version__, 'onnxruntime': ort.__version__, 'opset': m.opset_import[0].version, 'maxAbsDiff': float(np.abs(p - np.array(io['expected'], np.float32)).max())}))
`;
try {
  const out = JSON.parse(execFileSync(python, ['-c', script, file, join(dir, 'io.json')], { encoding: 'utf8' }));
  console.log(`onnx ${out.onnx} checker: ok (full check, opset ${out.opset}); Python onnxruntime ${out.onnxruntime} vs tfjs: max |difference| ${out.maxAbsDiff.toExponential(2)}`);
  if (out.maxAbsDiff > 1e-4) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
