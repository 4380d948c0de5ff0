// Worker thread: one data-parallel replica. It holds its own tfjs backend and a copy of the model(s);
// per step it loads the shared weights, computes the gradient of its part of the batch and writes it
// to shared memory. What it is a copy of (a segmentation model, a GAN) is the init message's setup.
// With sharded Adam (segmentation), it then applies its share of the Adam step in shared memory.
import { parentPort } from 'node:worker_threads';
import { selectBackend } from '../../backend/select-backend';
import { ganReplica } from '../../gan/gan-replica';
import { adamStepRange, type AdamSettings, type FlatAdamArrays } from '../adam';
import { layersReplica } from './layers-replica';
import type { FromReplica, GradientReplica, ReplicaBuffers, ToReplica } from './replica-protocol';
import { flatAdamArrays } from './shared-training';

if (!parentPort) throw new Error('gradient-replica must run in a worker thread');
const port = parentPort;
let replica: GradientReplica | undefined;
let sharded: { arrays: FlatAdamArrays; settings: AdamSettings; range: [number, number] } | undefined;

function send(message: FromReplica): void {
  port.postMessage(message);
}

async function init(message: Extract<ToReplica, { type: 'init' }>): Promise<void> {
  await selectBackend(message.backend);
  const { memory } = message;
  const buffers: ReplicaBuffers = {
    weights: new Float32Array(memory.weights),
    gradients: new Float32Array(memory.gradients[1], 0, memory.trainable),
    state: new Float32Array(memory.state),
  };
  if (message.adam) sharded = { arrays: flatAdamArrays(memory), ...message.adam };
  replica = message.setup.kind === 'layers' ? await layersReplica(message.setup, buffers) : ganReplica(message.setup, buffers);
}

function update(message: Extract<ToReplica, { type: 'update' }>): void {
  if (!sharded) throw new Error('this replica was started without sharded Adam');
  const { arrays, range, settings } = sharded;
  adamStepRange(arrays, range[0], range[1], message.step, message.learningRate, message.share, settings);
}

port.on('message', (message: ToReplica) => {
  void (async () => {
    try {
      if (message.type === 'init') {
        await init(message);
        send({ type: 'ready' });
      } else if (message.type === 'step') {
        send({ type: 'stepped', values: await replica!.step(message.work) });
      } else if (message.type === 'update') {
        update(message);
        send({ type: 'updated' });
      } else {
        replica?.dispose();
        port.close();
      }
    } catch (error) {
      send({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  })();
});
