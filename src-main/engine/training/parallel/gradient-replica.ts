// Worker thread: one data-parallel replica. It holds its own tfjs backend, a copy of the model and
// of the prepared slices; per step it loads the shared weights and writes the gradient of its part
// of the batch to shared memory, then applies its share of the Adam step there.
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../../backend/select-backend';
import { createLoss } from '../../losses/segmentation-losses';
// The replica rebuilds the model from its topology: SegFormer's custom layers must be registered.
import '../../models/batch-normalization-layer';
import '../../models/segformer/segformer-layers';
import { adamStepRange, type AdamSettings, type FlatAdamArrays } from '../adam';
import { gradientsInto } from '../step-engine';
import type { FromReplica, ToReplica } from './replica-protocol';
import { flatAdamArrays } from './shared-training';
import { readWeightsFrom, writeFlat } from './shared-weights';

if (!parentPort) throw new Error('gradient-replica must run in a worker thread');
const port = parentPort;
let model: tfl.LayersModel | undefined;
let size = 0;
let loss: ReturnType<typeof createLoss> | undefined;
let shared: { weights: Float32Array; state: Float32Array; adam: FlatAdamArrays; settings: AdamSettings; range: [number, number] } | undefined;

function send(message: FromReplica): void {
  port.postMessage(message);
}

async function init(message: Extract<ToReplica, { type: 'init' }>): Promise<void> {
  await selectBackend(message.backend);
  model = await tfl.models.modelFromJSON(JSON.parse(message.topology));
  loss = createLoss(message.loss, message.lossOptions);
  size = message.size;
  const { memory } = message;
  shared = { weights: new Float32Array(memory.weights), state: new Float32Array(memory.state), adam: flatAdamArrays(memory), settings: message.adam, range: message.range };
}

async function step(message: Extract<ToReplica, { type: 'step' }>): Promise<number> {
  const variables = model!.trainableWeights.map((w) => w.read() as tf.Variable);
  readWeightsFrom(shared!.weights, model!);
  const value = await gradientsInto(shared!.adam.gradients[1], model!, variables, size, message, loss!, message.draws);
  writeFlat(shared!.state, model!.nonTrainableWeights.map((w) => w.read()));
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
      } else if (message.type === 'update') {
        const { adam, range, settings } = shared!;
        adamStepRange(adam, range[0], range[1], message.step, message.learningRate, message.share, settings);
        send({ type: 'updated' });
      } else {
        model?.dispose();
        port.close();
      }
    } catch (error) {
      send({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  })();
});
