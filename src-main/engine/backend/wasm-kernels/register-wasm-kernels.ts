import * as tf from '@tensorflow/tfjs-core';
import { stockKernels } from '../kernel-calls';
import { batchMatMul } from './batch-mat-mul';
import { concat } from './concat';
import { conv2dBackpropFilter } from './conv2d-backprop-filter';
import { conv2dBackpropInput } from './conv2d-backprop-input';
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './depthwise-backprop';
import { castSameType, identity } from './identity';
import { maxPoolGrad } from './max-pool-grad';
import { splitV } from './split-v';
import { sumLeadingAxes } from './sum-leading-axes';

const KERNELS: { name: string; kernelFunc: tf.KernelFunc }[] = [
  { name: 'Conv2DBackpropFilter', kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc },
  { name: 'Conv2DBackpropInput', kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc },
  { name: 'DepthwiseConv2dNativeBackpropInput', kernelFunc: depthwiseBackpropInput as unknown as tf.KernelFunc },
  { name: 'DepthwiseConv2dNativeBackpropFilter', kernelFunc: depthwiseBackpropFilter as unknown as tf.KernelFunc },
  { name: 'SplitV', kernelFunc: splitV as unknown as tf.KernelFunc },
  { name: 'BatchMatMul', kernelFunc: batchMatMul as unknown as tf.KernelFunc },
  { name: 'Concat', kernelFunc: concat as unknown as tf.KernelFunc },
  { name: 'Sum', kernelFunc: sumLeadingAxes as unknown as tf.KernelFunc },
  { name: 'Identity', kernelFunc: identity as unknown as tf.KernelFunc },
  { name: 'Cast', kernelFunc: castSameType as unknown as tf.KernelFunc },
  { name: 'MaxPoolGrad', kernelFunc: maxPoolGrad as unknown as tf.KernelFunc },
];

let registered = false;

/**
 * Registers this project's gradient kernels for the 'wasm' backend through tfjs's public kernel
 * registry, keeping any stock kernel they replace as the fallback. Idempotent.
 */
export function registerWasmKernels(): void {
  if (registered) return;
  for (const { name, kernelFunc } of KERNELS) {
    const stock = tf.getKernel(name, 'wasm');
    if (stock) {
      stockKernels.set(name, stock);
      tf.unregisterKernel(name, 'wasm');
    }
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
  }
  registered = true;
}
