import type * as tf from '@tensorflow/tfjs';

/** The likelihood a task's loss is the negative log of (up to constants). */
export type Likelihood = 'gaussian' | 'laplace' | 'softmax' | 'bernoulli';
export const LIKELIHOODS: readonly Likelihood[] = Object.freeze([
  'gaussian',
  'laplace',
  'softmax',
  'bernoulli',
]);

export type TaskKind = 'regression' | 'classification';

/** The least a weighting strategy needs to know about a task. */
export interface TaskSpec {
  readonly name: string;
  readonly likelihood: Likelihood;
}

/**
 * One task of a multi-task model: its loss (mean over labelled samples) and its metrics.
 *
 * Tensors: `prediction` is the model's output for the task, [B, ...]; `target` is [B, ...] (regression,
 * Bernoulli) or int32 class indices [B] (softmax); `mask`, optional, is [B] with 1 where the sample is
 * labelled and 0 where its label is missing.
 */
export interface Task extends TaskSpec {
  readonly kind: TaskKind;
  /** Number of classes (classification only; 2 for Bernoulli). */
  readonly numClasses?: number;
  /** The head also predicts a per-sample log-variance (2 outputs per target value; see heteroscedastic.ts). */
  readonly heteroscedastic?: boolean;
  /** Per-sample loss, [B]: squared error, absolute error or cross-entropy. */
  sampleLoss(prediction: tf.Tensor, target: tf.Tensor): tf.Tensor1D;
  /** Mean of the per-sample loss over the labelled samples (0 when none is labelled). */
  loss(prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor): tf.Scalar;
  /** Names of the sums `metricSums` returns, in order; the first is always the labelled count. */
  readonly metricSumNames: readonly string[];
  /**
   * Sufficient statistics of the metrics over a chunk, [k]; sums over chunks give the metrics over a
   * whole set exactly (see `metricsFromSums`).
   */
  metricSums(prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor): tf.Tensor1D;
  /** Metrics from summed statistics: { rmse, mae } or { accuracy, crossEntropy }. */
  metricsFromSums(sums: ArrayLike<number>): Record<string, number>;
}
