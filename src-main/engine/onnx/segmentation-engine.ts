import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { CovsegError } from '../errors';
import { inferenceCopy, type ModelSpec } from '../models/registry';
import { exportOnnx, ONNX_INPUT, ONNX_LOGITS, ONNX_PROBABILITIES } from './export-onnx';

/** `--engine`: ONNX Runtime when installed (auto), or one of them forced. */
export type EngineChoice = 'auto' | 'onnx' | 'tfjs';
export const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'onnx', 'tfjs'];

/** Per-pixel model outputs, `[n, size, size, classes]` row-major (NHWC, as the rest of the engine). */
export interface EngineOutput {
  logits: Float32Array;
  probabilities: Float32Array;
  classes: number;
}

/** Runs a segmentation model on batches of slices, whatever executes it. */
export interface SegmentationEngine {
  readonly name: 'onnx' | 'tfjs';
  /** What ran, for records and output: `onnxruntime-node 1.30.0 (cpu)`, `tfjs (wasm)`. */
  readonly description: string;
  /** `x` is `[n, size, size, 1]`, pixels scaled to 0..1. */
  run(x: Float32Array, n: number, size: number): Promise<EngineOutput>;
  dispose(): void;
}

/** The part of onnxruntime-node's API used here (it is an optional dependency, so no static import). */
interface OrtTensor {
  data: unknown;
  dims: readonly number[];
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options: object): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => OrtTensor;
  env: { versions: Record<string, string | undefined> };
}

let ortModule: Promise<OrtModule | undefined> | undefined;

/** onnxruntime-node when it is installed and its native binding loads, else undefined. */
export function loadOnnxRuntime(): Promise<OrtModule | undefined> {
  ortModule ??= (async () => {
    const name = 'onnxruntime-node';
    try {
      const loaded = (await import(/* @vite-ignore */ name)) as OrtModule & { default?: OrtModule };
      return loaded.InferenceSession ? loaded : loaded.default;
    } catch {
      return undefined;
    }
  })();
  return ortModule;
}

/** True when onnxruntime-node's CUDA provider library was installed (`ONNXRUNTIME_NODE_INSTALL=cuda12`). */
function cudaProviderPresent(): boolean {
  try {
    const root = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    return existsSync(join(root, 'bin', 'napi-v6', `${process.platform}`, process.arch, 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

/** NCHW -> NHWC; the identity for one channel. */
function toChannelsLast(data: Float32Array, n: number, classes: number, plane: number): Float32Array {
  if (classes === 1) return data;
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < classes; c++) {
      const from = (b * classes + c) * plane;
      for (let p = 0; p < plane; p++) out[(b * plane + p) * classes + c] = data[from + p]!;
    }
  }
  return out;
}

/**
 * An ONNX Runtime session on an exported model (CPU execution provider; CUDA first where its provider
 * library is installed). Throws `unsupported` when onnxruntime-node is not installed.
 */
export async function createOnnxEngine(model: Uint8Array, options: { threads?: number } = {}): Promise<SegmentationEngine> {
  const ort = await loadOnnxRuntime();
  if (!ort) {
    throw new CovsegError('unsupported', 'ONNX Runtime (onnxruntime-node) is not installed or does not load here', {
      fix: 'run `npm install` (it is an optional dependency), or use --engine tfjs',
    });
  }
  const providers = cudaProviderPresent() ? ['cuda', 'cpu'] : ['cpu'];
  const session = await ort.InferenceSession.create(model, {
    executionProviders: providers,
    graphOptimizationLevel: 'all',
    ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
  });
  const version = ort.env.versions.node ?? ort.env.versions.common ?? '';
  return {
    name: 'onnx',
    description: `onnxruntime-node ${version} (${providers.join(', ')})`.replace('  ', ' '),
    async run(x, n, size) {
      // One input channel: NHWC and NCHW hold the same bytes.
      const outputs = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', x, [n, 1, size, size]) });
      const logits = outputs[ONNX_LOGITS]!;
      const classes = logits.dims[1]!;
      const plane = size * size;
      return {
        logits: toChannelsLast(logits.data as Float32Array, n, classes, plane),
        probabilities: toChannelsLast(outputs[ONNX_PROBABILITIES]!.data as Float32Array, n, classes, plane),
        classes,
      };
    },
    dispose() {
      void session.release();
    },
  };
}

/** The tfjs path: the model's inference copy on the current tfjs backend, sigmoid (softmax for several classes). */
export function createTfjsEngine(model: tfl.LayersModel, release: () => void = () => {}): SegmentationEngine {
  return {
    name: 'tfjs',
    description: `tfjs (${tf.getBackend()})`,
    async run(x, n, size) {
      const [logits, probabilities] = tf.tidy(() => {
        const out = model.apply(tf.tensor4d(x, [n, size, size, 1]), { training: false }) as tf.Tensor4D;
        return [out, out.shape[3] === 1 ? tf.sigmoid(out) : tf.softmax(out)];
      });
      const classes = logits!.shape[3]!;
      const result = { logits: (await logits!.data()) as Float32Array, probabilities: (await probabilities!.data()) as Float32Array, classes };
      tf.dispose([logits!, probabilities!]);
      return result;
    },
    dispose: release,
  };
}

/**
 * The engine `choice` asks for, on a trained model: `onnx` exports its inference copy (batch norm
 * folded) in memory and opens an ONNX Runtime session; `auto` does so when onnxruntime-node loads and
 * otherwise uses tfjs; `tfjs` uses the inference copy on the current tfjs backend.
 */
export async function openEngine(choice: EngineChoice, trained: tfl.LayersModel, spec: ModelSpec): Promise<SegmentationEngine> {
  const { model, release } = inferenceCopy(trained, spec);
  if (choice === 'tfjs' || (choice === 'auto' && !(await loadOnnxRuntime()))) return createTfjsEngine(model, release);
  let exported: Uint8Array;
  try {
    exported = exportOnnx(model);
  } catch (error) {
    // `auto` is the fastest engine that can run this model: one ONNX export cannot express yet (SegFormer) stays on tfjs.
    if (choice === 'auto' && error instanceof CovsegError && error.code === 'unsupported') return createTfjsEngine(model, release);
    release();
    throw error;
  }
  try {
    return await createOnnxEngine(exported);
  } finally {
    release();
  }
}

/** Checks a `--engine` value. */
export function parseEngineChoice(value: string): EngineChoice {
  if (!(ENGINE_CHOICES as readonly string[]).includes(value)) {
    throw new CovsegError('bad-parameter', `--engine must be one of ${ENGINE_CHOICES.join(', ')}, got "${value}"`);
  }
  return value as EngineChoice;
}
