import * as tf from '@tensorflow/tfjs';
import type { Initializer } from './parallel-dense.js';

/**
 * How a dense layer's weights start: `pytorch` is `nn.Linear`'s default (kernel and bias both
 * U(±1/√fan_in)), `glorot` is Keras's (Glorot-uniform kernel, zero bias).
 */
export type DenseInit = 'pytorch' | 'glorot';

export interface DenseInitializers {
  kernelInitializer: Initializer;
  biasInitializer: Initializer;
}

/** Initialisers for a dense layer with `fanIn` inputs; `seed` makes them reproducible. */
export function denseInitializers(init: DenseInit, fanIn: number, seed: number): DenseInitializers {
  if (init === 'pytorch') {
    const bound = 1 / Math.sqrt(fanIn);
    return {
      kernelInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed }),
      biasInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: seed + 1 }),
    };
  }
  return {
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
    biasInitializer: tf.initializers.zeros(),
  };
}

export function checkDenseInit(path: string, init: string): DenseInit {
  if (init !== 'pytorch' && init !== 'glorot') {
    throw new Error(`${path} must be 'pytorch' or 'glorot', got '${init}'`);
  }
  return init;
}
