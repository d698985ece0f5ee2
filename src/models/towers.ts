import * as tf from '@tensorflow/tfjs';
import { checkDenseInit, denseInitializers, type DenseInit } from './init.js';
import { ParallelDense, UnstackTowers, type ParallelDenseArgs } from './parallel-dense.js';

export interface TowersModelOptions {
  /** Number of input features. */
  inputDim: number;
  /** Output units of each task's tower, in task order (see `outputUnits`). */
  outputs: readonly number[];
  /** Hidden layer widths, the same for every tower; the seed's is [1024]. */
  hidden?: readonly number[];
  activation?: ParallelDenseArgs['activation'];
  /** Weight initialisation; default 'pytorch' (the seed's `nn.Linear`). */
  init?: DenseInit;
  /** Seed of the initialisers; default 0. */
  seed?: number;
  name?: string;
}

/**
 * Separate towers, one network per task sharing nothing but the input (the seed's architecture),
 * computed side by side with `ParallelDense` so that T towers cost one batched op, not T.
 * Outputs: one tensor [B, units_t] per task.
 */
export function towersModel(options: TowersModelOptions): tf.LayersModel {
  const { inputDim, outputs } = options;
  const hidden = options.hidden ?? [1024];
  const init = checkDenseInit('init', options.init ?? 'pytorch');
  const activation = options.activation ?? 'relu';
  const seed = options.seed ?? 0;
  if (!Number.isInteger(inputDim) || inputDim < 1)
    throw new Error(`towersModel: inputDim must be ≥ 1, got ${inputDim}`);
  if (outputs.length === 0) throw new Error('towersModel: at least one task output is needed');
  for (const [i, u] of [...hidden, ...outputs].entries()) {
    if (!Number.isInteger(u) || u < 1)
      throw new Error(`towersModel: layer ${i} width must be a positive integer, got ${u}`);
  }
  const T = outputs.length;
  const input = tf.input({ shape: [inputDim], name: 'input' });
  let x: tf.SymbolicTensor = input;
  let fanIn = inputDim;
  hidden.forEach((units, i) => {
    x = new ParallelDense({
      towers: T,
      units,
      activation,
      name: `towers_hidden_${i}`,
      ...denseInitializers(init, fanIn, seed + 2 * i),
    }).apply(x) as tf.SymbolicTensor;
    fanIn = units;
  });
  const seedOut = seed + 2 * hidden.length;
  let heads: tf.SymbolicTensor[];
  if (outputs.every((u) => u === outputs[0])) {
    const out = new ParallelDense({
      towers: T,
      units: outputs[0]!,
      name: 'towers_output',
      ...denseInitializers(init, fanIn, seedOut),
    }).apply(x) as tf.SymbolicTensor;
    heads = new UnstackTowers({ name: 'task_outputs' }).apply(out) as tf.SymbolicTensor[];
  } else {
    // different widths per task: unstack the hidden towers and give each its own head
    const perTower =
      hidden.length === 0
        ? outputs.map(() => x)
        : (new UnstackTowers({ name: 'towers' }).apply(x) as tf.SymbolicTensor[]);
    heads = outputs.map(
      (units, t) =>
        tf.layers
          .dense({ units, name: `task_output_${t}`, ...denseInitializers(init, fanIn, seedOut + 2 * t) })
          .apply(perTower[t]!) as tf.SymbolicTensor,
    );
  }
  return tf.model({ inputs: input, outputs: heads, name: options.name ?? 'towers' });
}
