import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { batchNormTraining, hasBatchNormTraining } from '../backend/batch-norm-training';

type LayerArgs = Parameters<typeof tfl.layers.batchNormalization>[0];
type Stock = ReturnType<typeof tfl.layers.batchNormalization>;
/** Fields tfjs-layers keeps private on its BatchNormalization. */
interface Internals {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tfl.LayerVariable;
  beta: tfl.LayerVariable;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}

// tfjs-layers exports the factory, not the class.
const StockBatchNormalization = tfl.layers.batchNormalization({}).constructor as new (args?: LayerArgs) => Stock;

/**
 * tfjs-layers' BatchNormalization whose training pass is one fused kernel each way
 * (src-main/engine/backend/batch-norm-training.ts) where the backend has it, instead of the
 * moments graph: same statistics, same moving-average update, same serialised form. Registered under
 * the stock class name, so saved models and the data-parallel replica (which rebuilds the model from
 * its JSON) get it too. Inference and other backends run the stock code.
 */
export class BatchNormalization extends StockBatchNormalization {
  static className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as Internals;
    const input = Array.isArray(inputs) ? inputs[0]! : inputs;
    const lastAxis = self.axis === -1 || self.axis === input.rank - 1;
    if (kwargs['training'] !== true || !lastAxis || !self.center || !self.scale || !hasBatchNormTraining()) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const [y, mean, variance] = batchNormTraining(input, self.gamma.read() as tf.Tensor1D, self.beta.read() as tf.Tensor1D, self.epsilon);
      // As tfjs-layers: moving = moving - (moving - batch) * (1 - momentum).
      for (const [variable, value] of [
        [self.movingMean, mean],
        [self.movingVariance, variance],
      ] as const) {
        const moving = variable.read();
        variable.write(tf.sub(moving, tf.mul(tf.sub(moving, value), 1 - self.momentum)));
      }
      return y;
    });
  }
}
// The stock class carries the static fromConfig the registry needs; the constructor type above does not declare it.
tf.serialization.registerClass(BatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

/** `tfl.layers.batchNormalization` with the fused training pass. */
export function batchNormalization(args: LayerArgs): BatchNormalization {
  return new BatchNormalization(args);
}
