/**
 * Heteroscedastic regression (Kendall & Gal 2017): the head predicts, per sample, a mean ŷ(x) and a
 * log-variance s(x); the loss is the negative log-likelihood of the target under that distribution, so
 * each sample's noise level weighs its own error. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { maskedMean, perSample } from './masked-mean.js';
import type { Task } from './task.js';

/** s(x) is kept within ±LOG_VARIANCE_LIMIT inside the loss (e^±15: far beyond any standardised target's). */
export const LOG_VARIANCE_LIMIT = 15;

export interface HeteroscedasticRegressionOptions {
  name: string;
  /**
   * 'gaussian': s = log σ², NLL ½e^(−s)(y − ŷ)² + ½s; 'laplace': s = log b, NLL e^(−s)|y − ŷ| + s
   * (constants dropped). Default 'gaussian'.
   */
  likelihood?: 'gaussian' | 'laplace';
}

/** Sums: [labelled count, Σ squared error, Σ absolute error, Σ NLL (constants included)]. */
const SUM_NAMES = Object.freeze(['count', 'sumSquaredError', 'sumAbsoluteError', 'sumNll']);

/** The mean half and the log-variance half of a heteroscedastic head's output [B, …, 2k]. */
export function splitMeanLogVariance(prediction: tf.Tensor): { mean: tf.Tensor; logVariance: tf.Tensor } {
  const last = prediction.shape[prediction.rank - 1]!;
  if (last % 2 !== 0)
    throw new Error(
      `a heteroscedastic output needs an even last axis (means, then log-variances), got ${last}`,
    );
  const [mean, logVariance] = tf.split(prediction, 2, prediction.rank - 1);
  return { mean: mean!, logVariance: logVariance! };
}

/**
 * Per-element negative log-likelihood of `target` under mean `mean` and log-scale `s` — without its
 * constant (½ log 2π for the Gaussian, log 2 for the Laplace) unless `withConstant`.
 */
export function heteroscedasticNll(
  likelihood: 'gaussian' | 'laplace',
  mean: tf.Tensor,
  s: tf.Tensor,
  target: tf.Tensor,
  withConstant = false,
): tf.Tensor {
  return tf.tidy(() => {
    const sc = tf.clipByValue(s, -LOG_VARIANCE_LIMIT, LOG_VARIANCE_LIMIT);
    const r = tf.sub(target, mean);
    const nll =
      likelihood === 'gaussian'
        ? tf.mul(tf.add(tf.mul(tf.exp(tf.neg(sc)), tf.square(r)), sc), 0.5)
        : tf.add(tf.mul(tf.exp(tf.neg(sc)), tf.abs(r)), sc);
    if (!withConstant) return nll;
    return tf.add(nll, likelihood === 'gaussian' ? 0.5 * Math.log(2 * Math.PI) : Math.log(2));
  });
}

/**
 * A regression task whose head predicts a mean and a log-variance per sample (2 outputs per target
 * value: all means, then all log-variances). Its loss is the NLL itself — it can be negative, and it
 * already weighs every sample by its predicted noise; metrics: rmse, mae of the mean, and nll (the mean
 * negative log-likelihood, constants included).
 */
export function heteroscedasticRegressionTask(options: HeteroscedasticRegressionOptions): Task {
  const { name } = options;
  const likelihood = options.likelihood ?? 'gaussian';
  if (likelihood !== 'gaussian' && likelihood !== 'laplace')
    throw new Error(
      `task '${name}': a regression likelihood is 'gaussian' or 'laplace', got '${String(likelihood)}'`,
    );
  const parts = (prediction: tf.Tensor, target: tf.Tensor) => {
    const { mean, logVariance } = splitMeanLogVariance(prediction);
    if (mean.size !== target.size || mean.shape[0] !== target.shape[0])
      throw new Error(
        `task '${name}': a heteroscedastic prediction [${prediction.shape.join(', ')}] holds a mean and a log-variance per target value; the target is [${target.shape.join(', ')}]`,
      );
    const t = tf.util.arraysEqual(target.shape, mean.shape) ? target : tf.reshape(target, mean.shape);
    return { mean, logVariance, target: t };
  };
  const sampleLoss = (prediction: tf.Tensor, target: tf.Tensor): tf.Tensor1D =>
    tf.tidy(() => {
      const p = parts(prediction, target);
      return perSample(heteroscedasticNll(likelihood, p.mean, p.logVariance, p.target));
    });
  return Object.freeze({
    name,
    likelihood,
    kind: 'regression' as const,
    heteroscedastic: true,
    sampleLoss,
    loss: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor) =>
      tf.tidy(() => maskedMean(sampleLoss(prediction, target), mask)),
    metricSumNames: SUM_NAMES,
    metricSums: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor): tf.Tensor1D =>
      tf.tidy(() => {
        const p = parts(prediction, target);
        const r = tf.sub(p.target, p.mean);
        const se = perSample(tf.square(r));
        const ae = perSample(tf.abs(r));
        const nll = perSample(heteroscedasticNll(likelihood, p.mean, p.logVariance, p.target, true));
        const m = mask === undefined ? tf.onesLike(se) : tf.reshape(tf.cast(mask, 'float32'), [-1]);
        return tf.stack([
          tf.sum(m),
          tf.sum(tf.mul(se, m)),
          tf.sum(tf.mul(ae, m)),
          tf.sum(tf.mul(nll, m)),
        ]) as tf.Tensor1D;
      }),
    metricsFromSums: (sums: ArrayLike<number>) => {
      const n = sums[0]!;
      return n > 0
        ? { rmse: Math.sqrt(sums[1]! / n), mae: sums[2]! / n, nll: sums[3]! / n }
        : { rmse: NaN, mae: NaN, nll: NaN };
    },
  });
}
