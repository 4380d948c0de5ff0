// Worker thread: one data-parallel replica. It holds its own tfjs backend and a copy of the model(s);
// per step it computes the gradient of its part of the batch on the shared weights and writes it to
// shared memory. What it is a copy of (a segmentation model, a GAN) is the init message's setup.
// With sharded Adam (segmentation), it then applies its share of the Adam step in shared memory and
// loads the new weights for the next step.
import { parentPort } from 'node:worker_threads';
import { selectBackend } from '../../backend/select-backend';
import { threadMoment, type PhaseMark } from '../../concurrency/thread-clock';
import { ganReplica } from '../../gan/gan-replica';
import { adamStepRange, type AdamSettings, type FlatAdamArrays } from '../adam';
import { layersReplica } from './layers-replica';
import type { FromReplica, GradientReplica, MarkPhase, ReplicaBuffers, ToReplica } from './replica-protocol';
import { flatAdamArrays } from './shared-training';

if (!parentPort) throw new Error('gradient-replica must run in a worker thread');
const port = parentPort;
let replica: GradientReplica | undefined;
let sharded: { arrays: FlatAdamArrays; settings: AdamSettings; range: [number, number] } | undefined;
/** With tracing, the phases since the last answer. */
let marks: PhaseMark[] | undefined;
const mark: MarkPhase = (phase) => void marks?.push({ thread: 'worker', phase, at: threadMoment() });

function send(message: FromReplica): void {
  if (marks) {
    mark('idle');
    port.postMessage({ ...message, marks });
    marks = [];
  } else port.postMessage(message);
}

async function init(message: Extract<ToReplica, { type: 'init' }>): Promise<void> {
  await selectBackend(message.backend);
  const { memory } = message;
  const buffers: ReplicaBuffers = {
    weights: new Float32Array(memory.weights),
    gradients: new Float32Array(memory.gradients[1], 0, memory.trainable),
    state: new Float32Array(memory.state),
    published: new Int32Array(memory.published),
  };
  if (message.adam) sharded = { arrays: flatAdamArrays(memory), ...message.adam };
  if (message.trace) marks = [];
  replica = message.setup.kind === 'layers' ? await layersReplica(message.setup, buffers, mark) : ganReplica(message.setup, buffers);
}

function update(message: Extract<ToReplica, { type: 'update' }>): void {
  if (!sharded) throw new Error('this replica was started without sharded Adam');
  const { arrays, range, settings } = sharded;
  mark('adam');
  adamStepRange(arrays, range[0], range[1], message.step, message.learningRate, message.share, settings);
  // Answer first: the trainer waits for this range before loading the weights itself.
  send({ type: 'updated' });
  replica?.afterUpdate?.(message.step);
  if (marks) mark('idle');
}

port.on('message', (message: ToReplica) => {
  void (async () => {
    try {
      if (message.type === 'init') {
        await init(message);
        send({ type: 'ready' });
      } else if (message.type === 'step') {
        mark('step received');
        send({ type: 'stepped', values: await replica!.step(message.work) });
      } else if (message.type === 'update') {
        update(message);
      } else {
        replica?.dispose();
        port.close();
      }
    } catch (error) {
      send({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  })();
});
