import * as tf from '@tensorflow/tfjs';
import { fusedDense } from './fused-dense.js';
import { checkDenseInit, denseInitializers, type DenseInit } from './init.js';
import { SeededDropout } from './seeded-dropout.js';

export interface SharedTrunkModelOptions {
  inputDim: number;
  /** Output units of each task's head, in task order (see `outputUnits`). */
  outputs: readonly number[];
  /** Widths of the shared trunk's hidden layers; default [64, 64]. */
  trunk?: readonly number[];
  /** Widths of each head's hidden layers (before its output layer); default []. */
  head?: readonly number[];
  activation?: 'relu' | 'tanh' | 'elu' | 'sigmoid';
  /** Dropout rate after each trunk layer (seeded, see SeededDropout); default 0. */
  dropout?: number;
  init?: DenseInit;
  seed?: number;
  /** Task names, used to name the output layers. */
  names?: readonly string[];
  name?: string;
}

/** Hard parameter sharing: one shared trunk, one small head per task. */
export function sharedTrunkModel(options: SharedTrunkModelOptions): tf.LayersModel {
  const { inputDim, outputs } = options;
  const trunk = options.trunk ?? [64, 64];
  const head = options.head ?? [];
  const activation = options.activation ?? 'relu';
  const init = checkDenseInit('init', options.init ?? 'glorot');
  const dropout = options.dropout ?? 0;
  let seed = options.seed ?? 0;
  if (!Number.isInteger(inputDim) || inputDim < 1)
    throw new Error(`sharedTrunkModel: inputDim must be ≥ 1, got ${inputDim}`);
  if (outputs.length === 0) throw new Error('sharedTrunkModel: at least one task output is needed');
  if (!(dropout >= 0 && dropout < 1))
    throw new Error(`sharedTrunkModel: dropout must be in [0, 1), got ${dropout}`);
  for (const [i, u] of [...trunk, ...head, ...outputs].entries()) {
    if (!Number.isInteger(u) || u < 1)
      throw new Error(`sharedTrunkModel: layer ${i} width must be a positive integer, got ${u}`);
  }
  const input = tf.input({ shape: [inputDim], name: 'input' });
  let x: tf.SymbolicTensor = input;
  let fanIn = inputDim;
  trunk.forEach((units, i) => {
    x = fusedDense({
      units,
      activation,
      name: `trunk_${i}`,
      ...denseInitializers(init, fanIn, (seed += 2)),
    }).apply(x) as tf.SymbolicTensor;
    if (dropout > 0)
      x = new SeededDropout({ rate: dropout, seed: (seed += 1), name: `dropout_${i}` }).apply(
        x,
      ) as tf.SymbolicTensor;
    fanIn = units;
  });
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');
  const heads = outputs.map((units, t) => {
    const tag = options.names?.[t] !== undefined ? safe(options.names[t]) : String(t);
    let h = x;
    let hIn = fanIn;
    head.forEach((w, j) => {
      h = fusedDense({
        units: w,
        activation,
        name: `head_${tag}_${j}`,
        ...denseInitializers(init, hIn, (seed += 2)),
      }).apply(h) as tf.SymbolicTensor;
      hIn = w;
    });
    return fusedDense({ units, name: `output_${tag}`, ...denseInitializers(init, hIn, (seed += 2)) }).apply(
      h,
    ) as tf.SymbolicTensor;
  });
  return tf.model({ inputs: input, outputs: heads, name: options.name ?? 'shared_trunk' });
}
