/** `Trainer.fit`'s batches: in-memory data, an optional seeded validation split, one permutation per epoch. */
import * as tf from '@tensorflow/tfjs';
import { NumpyRandomState, type RandomStateSnapshot } from '../random/numpy-random-state.js';
import { createBatcher } from './batcher.js';
import type { TrainingData } from './batches.js';
import { identity, type LoopSource } from './loop-parts.js';
import type { Evaluation, FitOptions } from './options.js';

/**
 * The loop source of `fit` over `data` (checked by the caller) with `tasks` tasks, and what to dispose
 * after training: the gathered split, the batcher. `evaluate` scores a whole data set.
 */
export function memorySource(
  data: TrainingData,
  options: FitOptions,
  tasks: number,
  evaluate: (data: TrainingData) => Evaluation,
): { source: LoopSource; dispose: () => void } {
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const split = options.validationSplit ?? 0;
  if (!(split >= 0 && split < 1)) throw new RangeError(`validationSplit must be in [0, 1), got ${split}`);
  if (split > 0 && options.validationData)
    throw new Error('give either validationSplit or validationData, not both');
  const rng = new NumpyRandomState(options.seed ?? 0);

  const owned: tf.Tensor[] = [];
  let train = data;
  let validation = options.validationData;
  if (split > 0) {
    const n = data.x.shape[0];
    const nVal = Math.round(n * split);
    if (nVal < 1 || nVal >= n)
      throw new RangeError(`validationSplit ${split} of ${n} samples leaves an empty split`);
    const perm = rng.permutation(n);
    const pick = (idx: Int32Array): TrainingData => {
      const i = tf.tensor1d(idx, 'int32');
      const picked: TrainingData = {
        x: tf.gather(data.x, i),
        targets: data.targets.map((t) => tf.gather(t, i)),
        masks: Array.from({ length: tasks }, (_, k) =>
          data.masks?.[k] ? tf.gather(data.masks[k], i) : undefined,
        ),
      };
      i.dispose();
      owned.push(
        picked.x,
        ...picked.targets,
        ...picked.masks!.filter((m): m is tf.Tensor => m !== undefined),
      );
      return picked;
    };
    train = pick(perm.slice(0, n - nVal));
    validation = pick(perm.slice(n - nVal));
  }
  const nTrain = train.x.shape[0];
  // x, the targets, then the masks that exist: what a batch is built from
  const masked = Array.from({ length: tasks }, (_, t) => train.masks?.[t] !== undefined);
  const batcher = createBatcher([
    train.x,
    ...train.targets,
    ...Array.from({ length: tasks }, (_, t) => train.masks?.[t]).filter(
      (m): m is tf.Tensor => m !== undefined,
    ),
  ]);
  const val = validation;
  const source: LoopSource = {
    epoch: () => {
      // one permutation per epoch, drawn when the epoch starts
      const order = options.shuffle === false ? identity(nTrain) : rng.permutation(nTrain);
      let start = 0;
      const next = (): TrainingData | undefined => {
        if (start >= nTrain) return undefined;
        const idx = order.subarray(start, Math.min(start + batchSize, nTrain));
        start += batchSize;
        const [x, ...rest] = batcher.batch(idx);
        let k = tasks;
        return {
          x: x!,
          targets: rest.slice(0, tasks),
          masks: masked.map((has) => (has ? rest[k++] : undefined)),
        };
      };
      return Promise.resolve({ next: () => Promise.resolve(next()), close: () => Promise.resolve() });
    },
    evaluate: (wantMetrics) =>
      Promise.resolve({
        ...(wantMetrics ? { train: evaluate(train) } : {}),
        ...(val ? { validation: evaluate(val) } : {}),
      }),
    hasValidation: val !== undefined,
    checkBatches: false,
    // the next epoch's permutation is drawn from this stream
    state: () => rng.getState(),
    restore: (state) => rng.setState(state as RandomStateSnapshot),
  };
  return {
    source,
    dispose: () => {
      batcher.dispose();
      owned.forEach((t) => t.dispose());
    },
  };
}
