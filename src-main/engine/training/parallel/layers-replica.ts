import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createLoss } from '../../losses/segmentation-losses';
// The replica rebuilds the model from its topology: SegFormer's custom layers must be registered.
import '../../models/batch-normalization-layer';
import '../../models/segformer/segformer-layers';
import { gradientsInto } from '../step-engine';
import type { GradientReplica, ReplicaBuffers, ReplicaSetup } from './replica-protocol';
import { readWeightsFrom, writeFlat } from './shared-weights';

/**
 * A segmentation model's replica: rebuilt from its topology, weights loaded from shared memory
 * before each step, its gradient written there straight from the backend's buffers.
 */
export async function layersReplica(setup: Extract<ReplicaSetup, { kind: 'layers' }>, buffers: ReplicaBuffers): Promise<GradientReplica> {
  const model = await tfl.models.modelFromJSON(JSON.parse(setup.topology));
  const loss = createLoss(setup.loss, setup.lossOptions);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return {
    step: async (work) => {
      if (work.kind !== 'layers') throw new Error(`a segmentation replica cannot do ${work.kind} work`);
      readWeightsFrom(buffers.weights, model);
      const value = await gradientsInto(buffers.gradients, model, variables, setup.size, work, loss, work.draws);
      writeFlat(buffers.state, model.nonTrainableWeights.map((w) => w.read()));
      return [value];
    },
    dispose: () => model.dispose(),
  };
}
