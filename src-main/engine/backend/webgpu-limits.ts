import type * as tfl from '@tensorflow/tfjs-layers';
import { CovsegError } from '../errors';
import { describeAdapter, type GpuAdapterInfo } from './webgpu-adapter';

const FLOAT32_BYTES = 4;

type Shape = (number | null)[];

/**
 * The largest layer output of `model` for one `size` x `size` image (bytes, float32) and the
 * layer's name. Models take any input size (`[null, null, channels]`), so each layer's output
 * shape is worked out from its inputs' shapes at this size, in the graph's order, computing nothing.
 */
export function largestActivation(model: tfl.LayersModel, size: number): { layer: string; bytesPerImage: number } {
  const shapes = new Map<string, Shape>();
  let largest = { layer: '', bytesPerImage: 0 };
  for (const layer of model.layers) {
    const node = layer.inboundNodes[0]!;
    const inputs = node.inputTensors.map((t) => shapes.get(t.name));
    const outputs: Shape[] =
      inputs.length === 0 || layer.getClassName() === 'InputLayer'
        ? [(layer.batchInputShape as Shape).map((d, k) => (k === 0 ? 1 : (d ?? size)))]
        : ((shape) => (Array.isArray(shape[0]) ? (shape as Shape[]) : [shape as Shape]))(layer.computeOutputShape((inputs.length === 1 ? inputs[0] : inputs) as Shape));
    node.outputTensors.forEach((t, k) => shapes.set(t.name, outputs[k]!));
    for (const shape of outputs) {
      const bytes = shape.slice(1).reduce<number>((a, d) => a * (d ?? size), FLOAT32_BYTES);
      if (bytes > largest.bytesPerImage) largest = { layer: layer.name, bytesPerImage: bytes };
    }
  }
  return largest;
}

function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Fails before training when one tensor of a batch would not fit in a WebGPU buffer: every tensor
 * is one storage buffer, bounded by the adapter's `maxStorageBufferBindingSize` and
 * `maxBufferSize`. The largest is a layer output, `[batch, height, width, channels]` float32.
 * The error suggests the largest batch that fits at this size, or a smaller size (a multiple of
 * `sizeMultiple`) that fits batch 1.
 */
export function checkAdapterLimits(adapter: GpuAdapterInfo, model: tfl.LayersModel, batch: number, size: number, sizeMultiple: number): void {
  const limit = Math.min(adapter.limits.maxStorageBufferBindingSize, adapter.limits.maxBufferSize);
  const { layer, bytesPerImage } = largestActivation(model, size);
  const needed = bytesPerImage * batch;
  if (needed <= limit) return;
  const fittingBatch = Math.floor(limit / bytesPerImage);
  // Activations grow with the square of the side.
  const fittingSize = Math.floor((size * Math.sqrt(limit / bytesPerImage)) / sizeMultiple) * sizeMultiple;
  const fix = fittingBatch >= 1 ? `use --batch ${fittingBatch} or less at ${size} px` : `use --size ${fittingSize} or less with --batch 1`;
  throw new CovsegError(
    'bad-parameter',
    `batch ${batch} at ${size} px needs a ${formatBytes(needed)} buffer (output of layer ${layer}), more than the ${formatBytes(limit)} one buffer may hold on ${describeAdapter(adapter)}`,
    { fix },
  );
}
