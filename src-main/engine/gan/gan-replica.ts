import type { GradientReplica, ReplicaBuffers, ReplicaSetup } from '../training/parallel/replica-protocol';
import { readFlatInto, writeFlat } from '../training/parallel/shared-weights';
import { createGanNetworks } from './gan-networks';
import { ganWeightOrder, phaseGradients } from './gan-step';

/**
 * A GAN's replica inside a gradient worker (`training/parallel/gradient-replica.ts`): both networks
 * built from the trainer's options, all their values loaded from shared memory before each phase,
 * the phase's gradient on the worker's rows written back.
 */
export function ganReplica(setup: Extract<ReplicaSetup, { kind: 'gan' }>, buffers: ReplicaBuffers): GradientReplica {
  const nets = createGanNetworks(setup.networks);
  const variables = ganWeightOrder(nets);
  return {
    step: async (work) => {
      if (work.kind !== 'gan') throw new Error(`a GAN replica cannot do ${work.kind} work`);
      readFlatInto(buffers.weights, variables);
      const { values, gradients } = await phaseGradients(nets, work.phase, work.part, work.seed);
      writeFlat(buffers.gradients, gradients);
      return values;
    },
    dispose: () => nets.dispose(),
  };
}
