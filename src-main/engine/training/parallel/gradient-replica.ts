// Worker thread: one data-parallel replica. It holds its own tfjs backend and a copy of the model(s);
// per step it loads the shared weights, computes the gradient of its part of the batch and writes it
// to shared memory. What it is a copy of (a segmentation model, a GAN) is the init message's setup.
import { parentPort } from 'node:worker_threads';
import { selectBackend } from '../../backend/select-backend';
import { ganReplica } from '../../gan/gan-replica';
import { layersReplica } from './layers-replica';
import type { FromReplica, GradientReplica, ReplicaBuffers, ToReplica } from './replica-protocol';

if (!parentPort) throw new Error('gradient-replica must run in a worker thread');
const port = parentPort;
let replica: GradientReplica | undefined;

function send(message: FromReplica): void {
  port.postMessage(message);
}

async function init(message: Extract<ToReplica, { type: 'init' }>): Promise<void> {
  await selectBackend(message.backend);
  const buffers: ReplicaBuffers = { weights: new Float32Array(message.weights), gradients: new Float32Array(message.gradients), state: new Float32Array(message.state) };
  replica = message.setup.kind === 'layers' ? await layersReplica(message.setup, buffers) : ganReplica(message.setup, buffers);
}

port.on('message', (message: ToReplica) => {
  void (async () => {
    try {
      if (message.type === 'init') {
        await init(message);
        send({ type: 'ready' });
      } else if (message.type === 'step') {
        send({ type: 'stepped', values: await replica!.step(message.work) });
      } else {
        replica?.dispose();
        port.close();
      }
    } catch (error) {
      send({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  })();
});
