import * as tf from '@tensorflow/tfjs';
import { maskedMean } from './masked-mean.js';
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

  /** Per-sample cross-entropy [B] and whether each prediction is right [B]. */
  const crossEntropyAndHits = (prediction: tf.Tensor, target: tf.Tensor): [tf.Tensor1D, tf.Tensor1D] => {
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
      const labels = tf.cast<tf.Tensor1D>(tf.reshape(target, [-1]), 'int32');
      const picked = tf.sum(tf.mul(tf.oneHot(labels, numClasses), prediction), 1);
      const ce = tf.sub<tf.Tensor1D>(tf.logSumExp(prediction, 1), picked);
      const hits = toFloat1D(tf.equal(tf.argMax(prediction, 1), labels));
      return [ce, hits];
    }
    if (prediction.size !== batch) {
      throw new Error(
        `task '${name}': a Bernoulli task has one logit per sample, got [${prediction.shape.join(', ')}]`,
      );
    }
    const z = tf.reshape<tf.Rank.R1>(prediction, [-1]);
    const y = tf.cast(tf.reshape(target, [-1]), 'float32');
    // max(z, 0) − z·y + log(1 + e^(−|z|)): stable for large |z|
    const ce = tf.add<tf.Tensor1D>(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
    const hits = toFloat1D(tf.equal(tf.cast(tf.greater(z, 0), 'float32'), y));
    return [ce, hits];
  };

  return Object.freeze({
    name,
    likelihood,
    kind: 'classification' as const,
    numClasses,
    sampleLoss: (prediction: tf.Tensor, target: tf.Tensor) =>
      tf.tidy(() => crossEntropyAndHits(prediction, target)[0]),
    loss: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor) =>
      tf.tidy(() => maskedMean(crossEntropyAndHits(prediction, target)[0], mask)),
    metricSumNames: SUM_NAMES,
    metricSums: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor): tf.Tensor1D =>
      tf.tidy(() => {
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
