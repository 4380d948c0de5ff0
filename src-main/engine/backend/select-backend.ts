import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients; the tfjs-layers bundle registers them all.
import '@tensorflow/tfjs-layers';
import { CovsegError } from '../errors';
import { registerBatchNormGradient } from './batch-norm-gradient';
import { registerBatchNormTraining } from './batch-norm-training';
import { registerWasmKernels } from './wasm-kernels/register-wasm-kernels';
import { describeAdapter, linuxGpuDeviceNodePresent, probeAdapter, type GpuAdapterInfo } from './webgpu-adapter';

export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** What computes: recorded in every run and shown by the CLI and the app. */
export interface BackendInfo {
  /** tfjs backend name: 'tensorflow' (tfjs-node or tfjs-node-gpu), 'webgpu', 'wasm' or 'cpu'. */
  name: string;
  /** npm package providing it. */
  package: string;
  version: string;
  gpu: boolean;
  /** Why faster backends were skipped. */
  skipped: string[];
  /** The WebGPU adapter computing, for the webgpu backend. */
  adapter?: GpuAdapterInfo;
}

const require = createRequire(import.meta.url);
let active: BackendInfo | undefined;

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function tryNative(packageName: string): Promise<boolean> {
  try {
    await import(packageName);
    return tf.findBackend('tensorflow') !== undefined && (await tf.setBackend('tensorflow'));
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // In Node the .wasm binaries are read from the package's dist folder.
  wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  // The threaded build needs Worker blob: URLs, which Node refuses: use the single-threaded SIMD build.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  // The emscripten glue adds process-wide handlers that rethrow any uncaught error and print its whole
  // minified source with it; Node's own handling is clearer, so those handlers are removed again.
  const before = { uncaughtException: process.listeners('uncaughtException'), unhandledRejection: process.listeners('unhandledRejection') };
  const ok = await tf.setBackend('wasm');
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    for (const listener of process.listeners(event as 'uncaughtException')) {
      if (!(before[event] as unknown[]).includes(listener)) process.off(event as 'uncaughtException', listener as NodeJS.UncaughtExceptionListener);
    }
  }
  // After initialisation, so the stock kernels kept as fallbacks have run their set-up.
  if (ok) registerWasmKernels();
  return ok;
}

/**
 * WebGPU in auto mode: only a hardware adapter counts (a software one is slower than wasm), and
 * Dawn is asked in a child process first, so machines without a GPU never load it here.
 */
async function tryWebgpu(forced: boolean, found: { adapter?: GpuAdapterInfo }): Promise<boolean> {
  if (!forced) {
    if (process.platform === 'linux' && !linuxGpuDeviceNodePresent()) throw new Error('no GPU device (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg)');
    const probe = probeAdapter();
    if (!probe.found) throw new Error(probe.reason);
    if (probe.adapter.software) throw new Error(`only a software adapter: ${describeAdapter(probe.adapter)}`);
  }
  const { activateWebgpu } = await import('./webgpu-backend');
  const adapter = await activateWebgpu(forced);
  if (!adapter) throw new Error('only a software adapter');
  found.adapter = adapter;
  return true;
}

function chosenFromEnv(choice: BackendChoice | undefined): BackendChoice {
  const fromEnv = process.env.COVSEG_BACKEND as BackendChoice | undefined;
  const wanted = choice ?? fromEnv ?? 'auto';
  if (!BACKEND_CHOICES.includes(wanted)) {
    throw new CovsegError('bad-parameter', `unknown backend "${wanted}"`, { fix: `use one of ${BACKEND_CHOICES.join(', ')}` });
  }
  return wanted;
}

let selecting: Promise<unknown> = Promise.resolve();

/**
 * Activates the fastest TensorFlow.js backend present — tfjs-node-gpu, then WebGPU on a hardware
 * adapter, then tfjs-node, then wasm, then cpu — or the one forced by `choice` / `COVSEG_BACKEND`.
 * Returns what runs. Calls are serialised: two at once would race `tf.setBackend` and could leave
 * the slow cpu backend active.
 */
export function selectBackend(choice?: BackendChoice): Promise<BackendInfo> {
  const next = selecting.then(() => selectBackendNow(choice));
  selecting = next.catch(() => undefined);
  return next;
}

async function selectBackendNow(choice?: BackendChoice): Promise<BackendInfo> {
  const wanted = chosenFromEnv(choice);
  if (active && (wanted === 'auto' || backendChoiceOf(active) === wanted)) return active;
  registerBatchNormGradient();
  registerBatchNormTraining();
  const skipped: string[] = [];
  const webgpu: { adapter?: GpuAdapterInfo } = {};
  const attempts: { choice: BackendChoice; run: () => Promise<boolean>; info: Omit<BackendInfo, 'skipped'> }[] = [
    { choice: 'tensorflow-gpu', run: () => tryNative('@tensorflow/tfjs-node-gpu'), info: { name: 'tensorflow', package: '@tensorflow/tfjs-node-gpu', version: packageVersion('@tensorflow/tfjs-node-gpu'), gpu: true } },
    { choice: 'webgpu', run: () => tryWebgpu(wanted === 'webgpu', webgpu), info: { name: 'webgpu', package: '@tensorflow/tfjs-backend-webgpu', version: packageVersion('@tensorflow/tfjs-backend-webgpu'), gpu: true } },
    { choice: 'tensorflow', run: () => tryNative('@tensorflow/tfjs-node'), info: { name: 'tensorflow', package: '@tensorflow/tfjs-node', version: packageVersion('@tensorflow/tfjs-node'), gpu: false } },
    { choice: 'wasm', run: tryWasm, info: { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', version: packageVersion('@tensorflow/tfjs-backend-wasm'), gpu: false } },
    { choice: 'cpu', run: () => tf.setBackend('cpu'), info: { name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', version: packageVersion('@tensorflow/tfjs-backend-cpu'), gpu: false } },
  ];
  for (const attempt of attempts) {
    if (wanted !== 'auto' && attempt.choice !== wanted) continue;
    let ok = false;
    try {
      ok = await attempt.run();
    } catch (error) {
      // A forced backend's own error (which driver is missing) is what the person needs to see.
      if (wanted !== 'auto' && error instanceof CovsegError) throw error;
      skipped.push(`${attempt.info.package}: ${(error as Error).message.split('\n')[0]}`);
    }
    if (ok) {
      await tf.ready();
      active = { ...attempt.info, skipped, ...(webgpu.adapter ? { adapter: webgpu.adapter, gpu: !webgpu.adapter.software } : {}) };
      return active;
    }
    if (!skipped.some((s) => s.startsWith(attempt.info.package))) skipped.push(`${attempt.info.package}: not installed or failed to load`);
  }
  throw new CovsegError('unsupported', `backend "${wanted}" is not available here (${skipped.join('; ')})`, {
    fix: wanted === 'tensorflow-gpu' ? 'install @tensorflow/tfjs-node-gpu on a machine with CUDA' : wanted === 'webgpu' ? 'install the optional package: npm install webgpu' : 'use --backend auto',
  });
}

function backendChoiceOf(info: BackendInfo): BackendChoice {
  if (info.name === 'tensorflow') return info.gpu ? 'tensorflow-gpu' : 'tensorflow';
  return info.name as BackendChoice;
}

/**
 * One line for people: `wasm (@tensorflow/tfjs-backend-wasm 4.22.0, CPU)`, or with the adapter:
 * `webgpu (@tensorflow/tfjs-backend-webgpu 4.22.0, GPU: NVIDIA GeForce RTX 4070 (nvidia lovelace))`.
 */
export function describeBackend(info: BackendInfo): string {
  const adapter = info.adapter ? `: ${describeAdapter(info.adapter)}` : '';
  return `${info.name} (${info.package} ${info.version}, ${info.gpu ? 'GPU' : 'CPU'}${adapter})`;
}
