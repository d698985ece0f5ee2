/**
 * Heteroscedastic classification (Kendall & Gal 2017, eq. 12): the head predicts logits z(x) and a
 * log-variance s(x) per logit; the logits are corrupted by Gaussian noise, x̂_t = z + e^(s/2)·ε_t, and the
 * loss is −log of the Monte Carlo mean over T draws of softmax(x̂_t)[y] (sigmoid for a Bernoulli task).
 * Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { splitMeanLogVariance, LOG_VARIANCE_LIMIT } from './heteroscedastic.js';
import { maskedMean } from './masked-mean.js';
import type { Task } from './task.js';

export interface HeteroscedasticClassificationOptions {
  name: string;
  /** 'softmax' (numClasses logits) or 'bernoulli' (one logit). Default 'softmax'. */
  likelihood?: 'softmax' | 'bernoulli';
  numClasses?: number;
  /** Monte Carlo draws of the logit noise per sample; default 10 (the paper uses 10–100). */
  samples?: number;
  /** Seed of the noise stream. */
  seed?: number;
}

/** A heteroscedastic classifier: a Task whose training draws move a seeded stream (saved with checkpoints). */
export interface HeteroscedasticClassificationTask extends Task {
  readonly samples: number;
  /** Draws made for training so far: the stream's position. */
  randomState(): number;
  setRandomState(draws: number): void;
}

const SUM_NAMES = Object.freeze(['count', 'correct', 'sumCrossEntropy']);

/**
 * A classification task with input-dependent logit noise. Output per sample: the logits, then one
 * log-variance per logit ([B, 2C]; [B, 2] for Bernoulli). Training losses draw fresh noise from a seeded
 * stream; evaluation uses a fixed draw, so metrics repeat. Accuracy is that of the noise-free logits.
 */
export function heteroscedasticClassificationTask(
  options: HeteroscedasticClassificationOptions,
): HeteroscedasticClassificationTask {
  const { name } = options;
  const likelihood = options.likelihood ?? 'softmax';
  if (likelihood !== 'softmax' && likelihood !== 'bernoulli')
    throw new Error(
      `task '${name}': likelihood must be 'softmax' or 'bernoulli', got '${String(likelihood)}'`,
    );
  const numClasses = likelihood === 'bernoulli' ? 2 : options.numClasses;
  if (numClasses === undefined || !Number.isInteger(numClasses) || numClasses < 2)
    throw new Error(`task '${name}': a softmax task needs numClasses ≥ 2`);
  const samples = options.samples ?? 10;
  if (!Number.isInteger(samples) || samples < 1)
    throw new Error(`task '${name}': samples must be a positive integer, got ${samples}`);
  const seed = options.seed ?? 0;
  let draws = 0;

  /** log of the MC-mean probability of the label per sample, [B]; `noiseSeed` seeds the draw. */
  const logLikelihood = (prediction: tf.Tensor, target: tf.Tensor, noiseSeed: number): tf.Tensor1D =>
    tf.tidy(() => {
      const { mean: z, logVariance } = splitMeanLogVariance(prediction);
      const B = z.shape[0];
      const K = z.shape[1]!;
      const s = tf.clipByValue(logVariance, -LOG_VARIANCE_LIMIT, LOG_VARIANCE_LIMIT);
      const eps = tf.randomNormal([samples, B, K], 0, 1, 'float32', noiseSeed);
      const noisy = tf.add(tf.expandDims(z, 0), tf.mul(tf.expandDims(tf.exp(tf.mul(s, 0.5)), 0), eps)); // [T,B,K]
      let logp: tf.Tensor; // [T, B]: log p_t(y)
      if (likelihood === 'bernoulli') {
        const y = tf.reshape(tf.cast(target, 'float32'), [1, B]);
        const l = tf.reshape(noisy, [samples, B]);
        // log σ(l) for y = 1, log σ(−l) for y = 0
        logp = tf.neg(tf.softplus(tf.neg(tf.mul(l, tf.sub(tf.mul(y, 2), 1)))));
      } else {
        const onehot = tf.oneHot(tf.cast(tf.reshape(target, [-1]), 'int32'), K); // [B,K]
        const logSoftmax = tf.logSoftmax(noisy); // [T,B,K]
        logp = tf.sum(tf.mul(logSoftmax, tf.expandDims(onehot, 0)), 2);
      }
      // log mean_t p_t = logsumexp_t log p_t − log T
      return tf.sub<tf.Tensor1D>(tf.logSumExp(logp, 0), Math.log(samples));
    });
  // draw k of the stream uses seed·(2^20 + 1) + k + 1; evaluation always draw 0
  const streamSeed = (k: number) => seed * 1_048_577 + k;
  const evalSeed = streamSeed(0);
  const sampleLoss = (prediction: tf.Tensor, target: tf.Tensor): tf.Tensor1D =>
    tf.tidy(() => tf.neg(logLikelihood(prediction, target, evalSeed)));
  return {
    name,
    likelihood,
    kind: 'classification' as const,
    numClasses,
    heteroscedastic: true,
    samples,
    sampleLoss,
    loss: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor) =>
      tf.tidy(() => maskedMean(tf.neg(logLikelihood(prediction, target, streamSeed(++draws))), mask)),
    metricSumNames: SUM_NAMES,
    metricSums: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor): tf.Tensor1D =>
      tf.tidy(() => {
        const { mean: z } = splitMeanLogVariance(prediction);
        const y = tf.cast(tf.reshape(target, [-1]), 'int32');
        const guess =
          likelihood === 'bernoulli'
            ? tf.cast(tf.greater(tf.reshape(z, [-1]), 0), 'int32')
            : tf.cast(tf.argMax(z, 1), 'int32');
        const correct = tf.cast(tf.equal(guess, y), 'float32');
        const ce = sampleLoss(prediction, target);
        const m = mask === undefined ? tf.onesLike(ce) : tf.reshape(tf.cast(mask, 'float32'), [-1]);
        return tf.stack([tf.sum(m), tf.sum(tf.mul(correct, m)), tf.sum(tf.mul(ce, m))]) as tf.Tensor1D;
      }),
    metricsFromSums: (sums: ArrayLike<number>) => {
      const n = sums[0]!;
      return n > 0
        ? { accuracy: sums[1]! / n, crossEntropy: sums[2]! / n }
        : { accuracy: NaN, crossEntropy: NaN };
    },
    randomState: () => draws,
    setRandomState: (n: number) => {
      if (!Number.isInteger(n) || n < 0) throw new Error(`task '${name}': bad noise stream position ${n}`);
      draws = n;
    },
  };
}
