/**
 * The scene system's dense losses as Trainer tasks: per-pixel softmax cross-entropy with an ignore
 * label, and masked L1 on per-pixel vectors (instance offsets) or values (inverse depth). A task's
 * "samples" are pixels: its loss is the mean over labelled pixels, its per-sample loss is per pixel.
 * Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { asFloat32, asInt32 } from '../backend/as-dtype.js';
import { heteroscedasticNll, splitMeanLogVariance } from '../tasks/heteroscedastic.js';
import type { Task } from '../tasks/task.js';
import { maskedL1, maskedSparseSoftmaxCrossEntropy } from './losses.js';
import { orderedTasks, type SceneTask } from './model.js';

export interface DenseClassificationTaskOptions {
  name: string;
  numClasses: number;
}

/**
 * Semantic segmentation: logits [B, H, W, C], target int32 labels [B, H, W]; a label outside [0, C)
 * (−1, 255 …) is ignored. The optional mask [B, H, W, 1] (1 = labelled) must already be 0 on ignored
 * pixels; without it the labels alone decide. Metrics: pixel accuracy and cross-entropy.
 */
export function denseClassificationTask(options: DenseClassificationTaskOptions): Task {
  const { name, numClasses } = options;
  if (!Number.isInteger(numClasses) || numClasses < 2)
    throw new RangeError(`task '${name}': numClasses must be an integer ≥ 2, got ${numClasses}`);
  const checkLabels = (labels: tf.Tensor): void => {
    if (labels.rank !== 3)
      throw new Error(`task '${name}': labels must be [B, H, W], got [${labels.shape.join(', ')}]`);
  };
  const oneHot = (labels: tf.Tensor): tf.Tensor => {
    checkLabels(labels);
    // tf.oneHot gives an all-zero row for an index outside [0, C): ignored pixels
    return tf.cast(tf.oneHot(asInt32(labels), numClasses), 'float32');
  };
  /** [B, H, W, 1]: 1 where the label is a class (and the mask, if any, is 1). */
  const validity = (hot: tf.Tensor, mask?: tf.Tensor): tf.Tensor => {
    const valid = tf.sum(hot, -1, true);
    return mask === undefined ? valid : tf.mul(valid, tf.reshape(asFloat32(mask), valid.shape));
  };
  /** Per-pixel cross-entropy [B·H·W], 0 on ignored pixels. */
  const pixelLoss = (logits: tf.Tensor, hot: tf.Tensor): tf.Tensor1D =>
    tf.tidy(() => {
      const lse = tf.logSumExp(logits, -1, true);
      const picked = tf.sum(tf.mul(logits, hot), -1, true);
      return tf.reshape(tf.mul(tf.sub(lse, picked), tf.sum(hot, -1, true)), [-1]);
    });
  return Object.freeze({
    name,
    likelihood: 'softmax' as const,
    kind: 'classification' as const,
    numClasses,
    sampleLoss: (prediction: tf.Tensor, target: tf.Tensor) =>
      tf.tidy(() => pixelLoss(prediction, oneHot(target))),
    // no tidy here: the hand-written gradient may read the mask (and a one-hot) later, in the
    // backward pass; the caller's scope (the Trainer's step) frees them
    loss: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor) => {
      checkLabels(target);
      // without a mask, the pixels whose label is a class
      const labelled =
        mask ?? asFloat32(tf.logicalAnd(tf.greaterEqual(target, 0), tf.less(target, numClasses)));
      return maskedSparseSoftmaxCrossEntropy(prediction, target, labelled);
    },
    metricSumNames: Object.freeze(['count', 'correct', 'sumCrossEntropy']),
    metricSums: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor): tf.Tensor1D =>
      tf.tidy(() => {
        const hot = oneHot(target);
        const valid = tf.reshape(validity(hot, mask), [-1]);
        const predicted = tf.reshape(tf.oneHot(tf.argMax(prediction, -1), numClasses), hot.shape);
        const correct = tf.reshape(tf.sum(tf.mul(tf.cast(predicted, 'float32'), hot), -1), [-1]);
        return tf.stack([
          tf.sum(valid),
          tf.sum(tf.mul(correct, valid)),
          tf.sum(tf.mul(pixelLoss(prediction, hot), valid)),
        ]) as tf.Tensor1D;
      }),
    metricsFromSums: (sums: ArrayLike<number>) => {
      const n = sums[0]!;
      return { accuracy: n > 0 ? sums[1]! / n : NaN, crossEntropy: n > 0 ? sums[2]! / n : NaN };
    },
  });
}

export interface DenseL1TaskOptions {
  name: string;
  /** Channels per pixel (2 for instance vectors, 1 for inverse depth). */
  channels: number;
  /**
   * How a weighting strategy treats the loss. Default 'gaussian': the paper weights its L1 losses with
   * the regression form ½·e^(−s)·L + ½·s; 'laplace' gives e^(−s)·L + s.
   */
  likelihood?: 'gaussian' | 'laplace';
}

/**
 * A dense regression under L1: prediction and target [B, H, W, channels], optional mask [B, H, W, 1]
 * (1 = labelled). Loss: mean absolute error over labelled pixels and channels. Metrics over labelled
 * pixels: `mae` (per component) and `rmse` (root of the per-component mean square).
 */
export function denseL1Task(options: DenseL1TaskOptions): Task {
  const { name, channels } = options;
  const likelihood = options.likelihood ?? 'gaussian';
  if (!Number.isInteger(channels) || channels < 1)
    throw new RangeError(`task '${name}': channels must be a positive integer, got ${channels}`);
  const check = (prediction: tf.Tensor, target: tf.Tensor) => {
    if (!tf.util.arraysEqual(prediction.shape, target.shape) || prediction.shape.at(-1) !== channels) {
      throw new Error(
        `task '${name}': prediction [${prediction.shape.join(', ')}] and target [${target.shape.join(', ')}] must both be [B, H, W, ${channels}]`,
      );
    }
  };
  /** Per-pixel mean over channels of f(residual), [B·H·W]. */
  const perPixel = (prediction: tf.Tensor, target: tf.Tensor, f: (r: tf.Tensor) => tf.Tensor) =>
    tf.reshape<tf.Rank.R1>(tf.mean(f(tf.sub(prediction, target)), -1), [-1]);
  const maskOf = (prediction: tf.Tensor, mask?: tf.Tensor): tf.Tensor =>
    mask === undefined
      ? tf.ones([...prediction.shape.slice(0, -1), 1])
      : tf.reshape(asFloat32(mask), [...prediction.shape.slice(0, -1), 1]);
  return Object.freeze({
    name,
    likelihood,
    kind: 'regression' as const,
    sampleLoss: (prediction: tf.Tensor, target: tf.Tensor) =>
      tf.tidy(() => {
        check(prediction, target);
        return perPixel(prediction, target, tf.abs);
      }),
    loss: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor) =>
      tf.tidy(() => {
        check(prediction, target);
        return maskedL1(prediction, target, maskOf(prediction, mask));
      }),
    metricSumNames: Object.freeze(['count', 'sumAbsoluteError', 'sumSquaredError']),
    metricSums: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor): tf.Tensor1D =>
      tf.tidy(() => {
        check(prediction, target);
        const m = tf.reshape(maskOf(prediction, mask), [-1]);
        return tf.stack([
          tf.sum(m),
          tf.sum(tf.mul(perPixel(prediction, target, tf.abs), m)),
          tf.sum(tf.mul(perPixel(prediction, target, tf.square), m)),
        ]) as tf.Tensor1D;
      }),
    metricsFromSums: (sums: ArrayLike<number>) => {
      const n = sums[0]!;
      return { mae: n > 0 ? sums[1]! / n : NaN, rmse: n > 0 ? Math.sqrt(sums[2]! / n) : NaN };
    },
  });
}

export interface DenseHeteroscedasticL1TaskOptions {
  name: string;
  /** Target channels per pixel (2 for instance vectors, 1 for inverse depth); the head has twice as many. */
  channels: number;
}

/**
 * A dense regression under a per-pixel Laplace likelihood (the L1 tasks' own, Kendall & Gal 2017): the
 * prediction [B, H, W, 2·channels] holds the means, then the log-scales s = log b; target [B, H, W,
 * channels]; optional mask [B, H, W, 1] (1 = labelled), applied exactly as denseL1Task applies it. Loss:
 * the mean over labelled pixels and channels of e^(−s)·|y − ŷ| + s (heteroscedasticNll 'laplace'); it
 * can be negative. Metrics over labelled pixels, of the means: `mae`, `rmse`, and `nll` (the mean NLL per
 * component, log 2 included).
 */
export function denseHeteroscedasticL1Task(options: DenseHeteroscedasticL1TaskOptions): Task {
  const { name, channels } = options;
  if (!Number.isInteger(channels) || channels < 1)
    throw new RangeError(`task '${name}': channels must be a positive integer, got ${channels}`);
  const parts = (prediction: tf.Tensor, target: tf.Tensor) => {
    const expected = [...target.shape.slice(0, -1), 2 * channels];
    if (target.shape.at(-1) !== channels || !tf.util.arraysEqual(prediction.shape, expected)) {
      throw new Error(
        `task '${name}': prediction [${prediction.shape.join(', ')}] must be [B, H, W, ${2 * channels}] (means, then log-scales) for target [${target.shape.join(', ')}] of [B, H, W, ${channels}]`,
      );
    }
    const { mean, logVariance } = splitMeanLogVariance(prediction);
    return { mean, s: logVariance };
  };
  /** Per-pixel mean over channels, [B·H·W]. */
  const perPixel = (t: tf.Tensor) => tf.reshape<tf.Rank.R1>(tf.mean(t, -1), [-1]);
  const maskOf = (target: tf.Tensor, mask?: tf.Tensor): tf.Tensor =>
    mask === undefined
      ? tf.ones([...target.shape.slice(0, -1), 1])
      : tf.reshape(asFloat32(mask), [...target.shape.slice(0, -1), 1]);
  return Object.freeze({
    name,
    likelihood: 'laplace' as const,
    kind: 'regression' as const,
    heteroscedastic: true,
    sampleLoss: (prediction: tf.Tensor, target: tf.Tensor) =>
      tf.tidy(() => {
        const { mean, s } = parts(prediction, target);
        return perPixel(heteroscedasticNll('laplace', mean, s, target));
      }),
    loss: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor) =>
      tf.tidy(() => {
        const { mean, s } = parts(prediction, target);
        const m = maskOf(target, mask);
        // the normalisation of maskedL1: Σ mask·nll / max(channels·Σ mask, 1)
        const count = tf.maximum(tf.mul(tf.sum(m), channels), 1);
        const nll = heteroscedasticNll('laplace', mean, s, target);
        return tf.div<tf.Scalar>(tf.sum(tf.mul(nll, m)), count);
      }),
    metricSumNames: Object.freeze(['count', 'sumAbsoluteError', 'sumSquaredError', 'sumNll']),
    metricSums: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor): tf.Tensor1D =>
      tf.tidy(() => {
        const { mean, s } = parts(prediction, target);
        const m = tf.reshape(maskOf(target, mask), [-1]);
        const r = tf.sub(mean, target);
        const nll = heteroscedasticNll('laplace', mean, s, target, true);
        return tf.stack([
          tf.sum(m),
          tf.sum(tf.mul(perPixel(tf.abs(r)), m)),
          tf.sum(tf.mul(perPixel(tf.square(r)), m)),
          tf.sum(tf.mul(perPixel(nll), m)),
        ]) as tf.Tensor1D;
      }),
    metricsFromSums: (sums: ArrayLike<number>) => {
      const n = sums[0]!;
      return n > 0
        ? { mae: sums[1]! / n, rmse: Math.sqrt(sums[2]! / n), nll: sums[3]! / n }
        : { mae: NaN, rmse: NaN, nll: NaN };
    },
  });
}

/**
 * The Trainer tasks of the scene network's heads, in SCENE_TASKS order: `semantic` (cross-entropy over
 * `numClasses`, softmax likelihood), `instance` (L1 on the (dy, dx) vectors) and `depth` (L1 on inverse
 * depth), the L1 tasks weighted with the paper's regression form — or, with `heteroscedastic`, the
 * instance and depth tasks under the per-pixel Laplace NLL (denseHeteroscedasticL1Task).
 */
export function sceneTasks(tasks: readonly SceneTask[], numClasses: number, heteroscedastic = false): Task[] {
  return orderedTasks(tasks).map((task) => {
    if (task === 'semantic') return denseClassificationTask({ name: 'semantic', numClasses });
    const channels = task === 'instance' ? 2 : 1;
    return heteroscedastic
      ? denseHeteroscedasticL1Task({ name: task, channels })
      : denseL1Task({ name: task, channels });
  });
}
