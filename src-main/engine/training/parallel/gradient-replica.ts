// Worker thread: one data-parallel replica. It holds its own tfjs backend, a copy of the model and
// of the prepared slices; per step it loads the shared weights, computes the gradient of its part
// of the batch and writes it to shared memory.
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../../backend/select-backend';
import { createLoss } from '../../losses/segmentation-losses';
// The replica rebuilds the model from its topology: SegFormer's custom layers must be registered.
import '../../models/batch-normalization-layer';
import '../../models/segformer/segformer-layers';
import { gradientsOf } from '../step-engine';
import type { FromReplica, ToReplica } from './replica-protocol';
import { readWeightsFrom, writeFlat } from './shared-weights';

if (!parentPort) throw new Error('gradient-replica must run in a worker thread');
const port = parentPort;
let model: tfl.LayersModel | undefined;
let size = 0;
let loss: ReturnType<typeof createLoss> | undefined;
let buffers: { weights: Float32Array; gradients: Float32Array; state: Float32Array } | undefined;

function send(message: FromReplica): void {
  port.postMessage(message);
}

async function init(message: Extract<ToReplica, { type: 'init' }>): Promise<void> {
  await selectBackend(message.backend);
  model = await tfl.models.modelFromJSON(JSON.parse(message.topology));
  loss = createLoss(message.loss, message.lossOptions);
  size = message.size;
  buffers = { weights: new Float32Array(message.weights), gradients: new Float32Array(message.gradients), state: new Float32Array(message.state) };
}

async function step(message: Extract<ToReplica, { type: 'step' }>): Promise<number> {
  const variables = model!.trainableWeights.map((w) => w.read() as tf.Variable);
  readWeightsFrom(buffers!.weights, model!);
  const { value, gradients } = await gradientsOf(model!, variables, size, message, loss!, message.draws);
  writeFlat(buffers!.gradients, gradients);
  writeFlat(buffers!.state, model!.nonTrainableWeights.map((w) => w.read()));
  return value;
}

port.on('message', (message: ToReplica) => {
  void (async () => {
    try {
      if (message.type === 'init') {
        await init(message);
        send({ type: 'ready' });
      } else if (message.type === 'step') {
        send({ type: 'stepped', loss: await step(message) });
      } else {
        model?.dispose();
        port.close();
      }
    } catch (error) {
      send({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  })();
});
