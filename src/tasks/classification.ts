import * as tf from '@tensorflow/tfjs';
import { rowMeanLoss, type RowLoss } from './masked-mean.js';
import { smallMetricSums, smallRowLoss } from './row-kernels.js';
import type { Task } from './task.js';

export interface ClassificationTaskOptions {
  name: string;
  /**
   * 'softmax' (logits [B, C], int32 labels [B]; the default) or 'bernoulli' (one logit [B] or [B, 1],
   * labels 0/1).
   */
  likelihood?: 'softmax' | 'bernoulli';
  /** Number of classes; required for softmax, 2 for Bernoulli. */
  numClasses?: number;
}

/** Sums: [labelled count, correct count, Σ cross-entropy]. */
const SUM_NAMES = Object.freeze(['count', 'correct', 'sumCrossEntropy']);

/** A classification task: categorical (softmax) or binary (Bernoulli, sigmoid) cross-entropy. */
export function classificationTask(options: ClassificationTaskOptions): Task {
  const { name } = options;
  const likelihood = options.likelihood ?? 'softmax';
  if (likelihood !== 'softmax' && likelihood !== 'bernoulli') {
    throw new Error(
      `task '${name}': a classification likelihood is 'softmax' or 'bernoulli', got '${String(likelihood)}'`,
    );
  }
  const numClasses = likelihood === 'bernoulli' ? 2 : options.numClasses;
  if (numClasses === undefined || !Number.isInteger(numClasses) || numClasses < 2) {
    throw new Error(`task '${name}': numClasses must be an integer ≥ 2, got ${String(options.numClasses)}`);
  }

  const checkShapes = (prediction: tf.Tensor, target: tf.Tensor): void => {
    const batch = prediction.shape[0];
    if (target.shape[0] !== batch) {
      throw new Error(`task '${name}': ${target.shape[0]} labels for a batch of ${batch} predictions`);
    }
    if (likelihood === 'softmax') {
      if (prediction.rank !== 2 || prediction.shape[1] !== numClasses) {
        throw new Error(
          `task '${name}': softmax logits must be [B, ${numClasses}], got [${prediction.shape.join(', ')}]`,
        );
      }
    } else if (prediction.size !== batch) {
      throw new Error(
        `task '${name}': a Bernoulli task has one logit per sample, got [${prediction.shape.join(', ')}]`,
      );
    }
  };

  /**
   * Per-sample cross-entropy [B], and what its gradient w.r.t. the logits needs: softmax p − onehot(y)
   * from [log p, onehot(y)]; Bernoulli σ(z) − y from [z, y].
   */
  const crossEntropy = (prediction: tf.Tensor, target: tf.Tensor): RowLoss => {
    checkShapes(prediction, target);
    if (likelihood === 'softmax') {
      const labels = tf.cast<tf.Tensor1D>(tf.reshape(target, [-1]), 'int32');
      // (wasm's OneHot ignores a float32 dtype and writes zeros: cast instead)
      const oneHot = tf.cast(tf.oneHot(labels, numClasses), 'float32');
      const logP = tf.sub(prediction, tf.logSumExp(prediction, 1, true));
      return { rows: tf.neg(tf.sum(tf.mul(oneHot, logP), 1)) as tf.Tensor1D, saved: [logP, oneHot] };
    }
    const z = tf.reshape<tf.Rank.R1>(prediction, [-1]);
    const y = tf.cast(tf.reshape(target, [-1]), 'float32');
    // max(z, 0) − z·y + log(1 + e^(−|z|)): stable for large |z|
    const rows = tf.add<tf.Tensor1D>(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
    return { rows, saved: [z, y] };
  };
  const crossEntropyGradient = (prediction: tf.Tensor) => (saved: tf.Tensor[]) =>
    likelihood === 'softmax'
      ? tf.sub(tf.exp(saved[0]!), saved[1]!)
      : tf.reshape(tf.sub(tf.sigmoid(saved[0]!), saved[1]!), prediction.shape);

  /** Per-sample cross-entropy [B] and whether each prediction is right [B]. */
  const crossEntropyAndHits = (prediction: tf.Tensor, target: tf.Tensor): [tf.Tensor1D, tf.Tensor1D] => {
    const ce = crossEntropy(prediction, target).rows;
    const labels = tf.reshape(target, [-1]);
    const hits =
      likelihood === 'softmax'
        ? toFloat1D(tf.equal(tf.argMax(prediction, 1), tf.cast(labels, 'int32')))
        : toFloat1D(
            tf.equal(
              tf.cast(tf.greater(tf.reshape(prediction, [-1]), 0), 'float32'),
              tf.cast(labels, 'float32'),
            ),
          );
    return [ce, hits];
  };

  return Object.freeze({
    name,
    likelihood,
    kind: 'classification' as const,
    numClasses,
    sampleLoss: (prediction: tf.Tensor, target: tf.Tensor) =>
      tf.tidy(() => crossEntropy(prediction, target).rows),
    loss: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor) =>
      tf.tidy(() => {
        checkShapes(prediction, target);
        // small batches on cpu/wasm: one JS kernel (row-kernels.ts)
        return (
          smallRowLoss(likelihood, prediction, target, mask) ??
          rowMeanLoss(prediction, mask, (f) => crossEntropy(f, target), crossEntropyGradient(prediction))
        );
      }),
    metricSumNames: SUM_NAMES,
    metricSums: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor): tf.Tensor1D =>
      tf.tidy(() => {
        checkShapes(prediction, target);
        const small = smallMetricSums(likelihood, prediction, target, mask);
        if (small !== undefined) return small;
        const [ce, hits] = crossEntropyAndHits(prediction, target);
        const m = mask === undefined ? tf.onesLike(ce) : tf.reshape(tf.cast(mask, 'float32'), [-1]);
        return tf.stack([tf.sum(m), tf.sum(tf.mul(hits, m)), tf.sum(tf.mul(ce, m))]) as tf.Tensor1D;
      }),
    metricsFromSums: (sums: ArrayLike<number>) => {
      const n = sums[0]!;
      return n > 0
        ? { accuracy: sums[1]! / n, crossEntropy: sums[2]! / n }
        : { accuracy: NaN, crossEntropy: NaN };
    },
  });
}

/** A boolean [B] as float 0/1 (tf.cast's typing keeps the input's rank type, not the 1-D we know it has). */
function toFloat1D(x: tf.Tensor): tf.Tensor1D {
  return tf.cast(x, 'float32') as tf.Tensor1D;
}
