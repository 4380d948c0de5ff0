import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { CovsegError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../files/atomic-write';
// Registers SegFormer's custom layers, so its checkpoints load wherever model files are read.
import './segformer/segformer-layers';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

function concatWeightData(data: tf.io.WeightData): ArrayBuffer {
  if (!Array.isArray(data)) return data as ArrayBuffer;
  const total = data.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const buffer of data) {
    out.set(new Uint8Array(buffer), offset);
    offset += buffer.byteLength;
  }
  return out.buffer;
}

/**
 * Saves a model in the standard TensorFlow.js layers format (`model.json` + `weights.bin`), loadable
 * by `tf.loadLayersModel` anywhere. Each file is written atomically.
 */
export async function saveModel(model: tfl.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(concatWeightData(artifacts.weightData!));
      await writeFileAtomic(join(dir, WEIGHTS_BIN), weights);
      await writeJsonAtomic(join(dir, MODEL_JSON), {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: 'CovSeg Studio',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs }],
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    }),
  );
}

/** Loads a model saved by {@link saveModel}; a missing or damaged file fails naming it. */
export async function loadModel(dir: string): Promise<tfl.LayersModel> {
  const jsonFile = join(dir, MODEL_JSON);
  const weightsFile = join(dir, WEIGHTS_BIN);
  let manifest: { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  try {
    manifest = JSON.parse(await readFile(jsonFile, 'utf8'));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CovsegError('bad-run', missing ? 'model file is missing' : 'model file is damaged (not JSON)', {
      file: jsonFile,
      fix: 'restore the checkpoint from a copy, or train again (`covseg train --resume` continues from the last good checkpoint)',
    });
  }
  let weights: Buffer;
  try {
    weights = await readFile(weightsFile);
  } catch {
    throw new CovsegError('bad-run', 'model weights are missing', { file: weightsFile, fix: 'restore the checkpoint from a copy, or train again' });
  }
  const weightSpecs = manifest.weightsManifest?.flatMap((group) => group.weights) ?? [];
  const expected = weightSpecs.reduce((n, spec) => n + spec.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (weights.byteLength !== expected) {
    throw new CovsegError('bad-run', `model weights have ${weights.byteLength} bytes, model.json expects ${expected}`, {
      file: weightsFile,
      fix: 'the checkpoint is damaged: restore it, or resume from another checkpoint',
    });
  }
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: manifest.modelTopology, weightSpecs, weightData }));
  } catch (error) {
    throw new CovsegError('bad-run', `model cannot be rebuilt (${(error as Error).message})`, { file: jsonFile, fix: 'restore the checkpoint from a copy', cause: error });
  }
}
