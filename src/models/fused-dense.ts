import * as tf from '@tensorflow/tfjs';
import { denseForward, denseFusible, type FusedActivation } from '../backend/dense-kernels.js';

type DenseArgs = Parameters<typeof tf.layers.dense>[0];
type Kwargs = Record<string, unknown>;

/** What TF.js's Dense keeps (private in its typings) and the fused path reads. */
interface DenseInternals {
  kernel: tf.LayerVariable | null;
  bias: tf.LayerVariable | null;
  activation: { getClassName(): string };
}

// TF.js does not export the Dense class itself, only its factory; its registered class is the same one
const registered = tf.serialization.SerializationMap.getMap().classNameMap['Dense'];
if (registered === undefined) throw new Error('TF.js has no Dense layer registered');
const Dense = registered[0] as unknown as new (args: DenseArgs) => tf.layers.Layer;

/**
 * TF.js's Dense layer with the fused path of dense-kernels.ts: on cpu and wasm one kernel forward and
 * one backward instead of a matMul and ~8 gradient kernels, same weights and numbers. It is saved as
 * a plain `Dense` (same config, same weights), so its model.json loads in TF.js without tfjs-mtl.
 */
class FusedDense extends Dense {
  static readonly className = 'Dense';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as DenseInternals;
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const activation = self.activation.getClassName();
    if (x !== undefined && self.kernel !== null && self.bias !== null) {
      const kernel = self.kernel.read();
      if (denseFusible(x, kernel, activation)) {
        this.invokeCallHook(inputs, kwargs);
        return denseForward(x, kernel, self.bias.read(), activation as FusedActivation);
      }
    }
    return super.call(inputs, kwargs);
  }
}

/** `tf.layers.dense` with the fused training path on cpu and wasm (serialised as TF.js's Dense). */
export function fusedDense(args: DenseArgs): tf.layers.Layer {
  return new FusedDense(args);
}
