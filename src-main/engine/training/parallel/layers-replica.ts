import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createLoss } from '../../losses/segmentation-losses';
// The replica rebuilds the model from its topology: SegFormer's custom layers must be registered.
import '../../models/batch-normalization-layer';
import '../../models/segformer/segformer-layers';
import { gradientsInto } from '../step-engine';
import type { GradientReplica, MarkPhase, ReplicaBuffers, ReplicaSetup } from './replica-protocol';
import { readWeightsFrom, writeFlat } from './shared-weights';

/**
 * A segmentation model's replica: rebuilt from its topology, its gradient written to shared memory
 * straight from the backend's buffers. It loads each new set of shared weights once: right after
 * its range of the Adam step, at the same time as the trainer (so neither waits for the other's
 * load), or, when the trainer updated alone (a one-row batch), before the next step.
 */
export async function layersReplica(setup: Extract<ReplicaSetup, { kind: 'layers' }>, buffers: ReplicaBuffers, mark: MarkPhase = () => {}): Promise<GradientReplica> {
  const model = await tfl.models.modelFromJSON(JSON.parse(setup.topology));
  const loss = createLoss(setup.loss, setup.lossOptions);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let loaded: number | undefined;
  const load = () => {
    mark('load weights');
    loaded = Atomics.load(buffers.published, 0);
    readWeightsFrom(buffers.weights, model);
  };
  return {
    step: async (work) => {
      if (work.kind !== 'layers') throw new Error(`a segmentation replica cannot do ${work.kind} work`);
      if (Atomics.load(buffers.published, 0) !== loaded) load();
      const value = await gradientsInto(buffers.gradients, model, variables, setup.size, work, loss, work.draws, mark);
      mark('state write');
      writeFlat(buffers.state, model.nonTrainableWeights.map((w) => w.read()));
      return [value];
    },
    afterUpdate: (step) => {
      mark('wait trainer');
      // Blocking is fine on this thread: the trainer publishes right after its own range of the same step.
      for (let seen = Atomics.load(buffers.published, 0); seen < step; seen = Atomics.load(buffers.published, 0)) Atomics.wait(buffers.published, 0, seen);
      load();
    },
    dispose: () => model.dispose(),
  };
}
