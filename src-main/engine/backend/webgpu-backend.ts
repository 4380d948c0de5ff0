import * as tf from '@tensorflow/tfjs-core';
import { CovsegError } from '../errors';
import { adapterInfoOf, describeAdapter, missingAdapterFix, type AdapterLike, type GpuAdapterInfo } from './webgpu-adapter';

/** The parts of Dawn's GPUAdapter the backend factory uses. */
interface DawnAdapter extends AdapterLike {
  features: { has(name: string): boolean };
  limits: AdapterLike['limits'] & Record<string, number>;
  requestDevice(descriptor: object): Promise<unknown>;
}

interface DawnGpu {
  requestAdapter(options: { powerPreference: 'high-performance' | 'low-power' }): Promise<DawnAdapter | null>;
}

/**
 * Gives tfjs a WebGPU device from Dawn's Node binding (npm `webgpu`) and activates the `webgpu`
 * backend. Both packages are imported here, on demand, so nothing loads for people who never use
 * WebGPU. Throws a CovsegError naming the missing driver when Dawn finds no adapter; resolves to
 * undefined when only a software adapter exists and `allowSoftware` is false.
 */
export async function activateWebgpu(allowSoftware: boolean): Promise<GpuAdapterInfo | undefined> {
  const { create, globals } = (await import('webgpu')) as unknown as { create: (options: string[]) => DawnGpu; globals: object };
  // The tfjs backend uses the WebGPU constants (GPUBufferUsage, GPUMapMode, ...) as globals, as in a browser.
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new CovsegError('unsupported', 'WebGPU found no GPU adapter', { fix: missingAdapterFix() });
  const info = adapterInfoOf(adapter);
  if (info.software && !allowSoftware) return undefined;
  // tfjs-backend-webgpu checks navigator.gpu when it constructs its backend; Node has no such object
  // (Node 20) or one without `gpu` (Node 21+).
  const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as { gpu?: unknown };
  if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  // The stock factory asks navigator.gpu for an adapter again; this one uses the adapter just described,
  // so the run record names the device that computes. Limits as the stock factory requests them.
  tf.registerBackend('webgpu', async () => {
    const limits = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
      requiredLimits: {
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      },
    });
    return new WebGPUBackend(device as ConstructorParameters<typeof WebGPUBackend>[0], adapter.info as ConstructorParameters<typeof WebGPUBackend>[1]);
  });
  if (!(await tf.setBackend('webgpu'))) {
    throw new CovsegError('unsupported', `the WebGPU device on ${describeAdapter(info)} could not be created`, { fix: 'update the GPU driver, or use --backend auto' });
  }
  return info;
}
