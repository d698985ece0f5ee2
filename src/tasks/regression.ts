import * as tf from '@tensorflow/tfjs';
import { perSample, rowMeanLoss } from './masked-mean.js';
import { smallMetricSums, smallRowLoss } from './row-kernels.js';
import type { Task } from './task.js';

export interface RegressionTaskOptions {
  name: string;
  /** 'gaussian' (squared error, the default) or 'laplace' (absolute error). */
  likelihood?: 'gaussian' | 'laplace';
}

/** Sums: [labelled count, Σ squared error, Σ absolute error]. */
const SUM_NAMES = Object.freeze(['count', 'sumSquaredError', 'sumAbsoluteError']);

function checkShapes(name: string, prediction: tf.Tensor, target: tf.Tensor): void {
  if (prediction.size !== target.size || prediction.shape[0] !== target.shape[0]) {
    throw new Error(
      `task '${name}': prediction shape [${prediction.shape.join(', ')}] does not match target shape [${target.shape.join(', ')}]`,
    );
  }
}

/** A regression task: Gaussian likelihood ↔ mean squared error, Laplace ↔ mean absolute error. */
export function regressionTask(options: RegressionTaskOptions): Task {
  const { name } = options;
  const likelihood = options.likelihood ?? 'gaussian';
  if (likelihood !== 'gaussian' && likelihood !== 'laplace') {
    throw new Error(
      `task '${name}': a regression likelihood is 'gaussian' or 'laplace', got '${String(likelihood)}'`,
    );
  }
  const residual = (prediction: tf.Tensor, target: tf.Tensor): tf.Tensor => {
    checkShapes(name, prediction, target);
    const t = tf.util.arraysEqual(target.shape, prediction.shape)
      ? target
      : tf.reshape(target, prediction.shape);
    return tf.sub(t, prediction);
  };
  const elementwise = (r: tf.Tensor) => (likelihood === 'gaussian' ? tf.square(r) : tf.abs(r));
  /**
   * Unmasked mean loss with a hand-written gradient (d/df of mean (y − f)² is −2(y − f)/n; of
   * mean |y − f|, −sign(y − f)/n): 2 backward kernels instead of ~8 through autodiff.
   */
  const meanLoss = (prediction: tf.Tensor, target: tf.Tensor): tf.Scalar => {
    return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [f, save] = args as [tf.Tensor, tf.GradSaveFunc];
      const r = residual(f, target);
      save([r]);
      return {
        value: tf.mean<tf.Scalar>(elementwise(r)),
        gradFunc: (dy: tf.Tensor, [rs]: tf.Tensor[]) =>
          likelihood === 'gaussian'
            ? tf.mul(rs!, tf.mul(dy, -2 / rs!.size))
            : tf.mul(tf.sign(rs!), tf.mul(dy, -1 / rs!.size)),
      };
    })(prediction);
  };
  const sampleLoss = (prediction: tf.Tensor, target: tf.Tensor): tf.Tensor1D =>
    tf.tidy(() => {
      return perSample(elementwise(residual(prediction, target)));
    });
  return Object.freeze({
    name,
    likelihood,
    kind: 'regression' as const,
    sampleLoss,
    loss: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor) =>
      tf.tidy(() => {
        checkShapes(name, prediction, target);
        // small batches on cpu/wasm: one JS kernel (row-kernels.ts)
        const small = smallRowLoss(likelihood, prediction, target, mask);
        if (small !== undefined) return small;
        // unmasked: one mean over all elements equals the mean of the per-sample means (fewer kernels)
        return mask === undefined
          ? meanLoss(prediction, target)
          : rowMeanLoss(
              prediction,
              mask,
              (f) => {
                const r = residual(f, target);
                return { rows: perSample(elementwise(r)), saved: [r] };
              },
              // d/df of the row mean of (y − f)² is −2(y − f)/k; of |y − f|, −sign(y − f)/k (r has f's shape)
              ([r]) => {
                const k = r!.size / r!.shape[0];
                return likelihood === 'gaussian' ? tf.mul(r!, -2 / k) : tf.mul(tf.sign(r!), -1 / k);
              },
            );
      }),
    metricSumNames: SUM_NAMES,
    metricSums: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor): tf.Tensor1D =>
      tf.tidy(() => {
        checkShapes(name, prediction, target);
        const small = smallMetricSums(likelihood, prediction, target, mask);
        if (small !== undefined) return small;
        const r = residual(prediction, target);
        const se = perSample(tf.square(r));
        const ae = perSample(tf.abs(r));
        const m = mask === undefined ? tf.onesLike(se) : tf.reshape(tf.cast(mask, 'float32'), [-1]);
        return tf.stack([tf.sum(m), tf.sum(tf.mul(se, m)), tf.sum(tf.mul(ae, m))]) as tf.Tensor1D;
      }),
    metricsFromSums: (sums: ArrayLike<number>) => {
      const n = sums[0]!;
      return n > 0 ? { rmse: Math.sqrt(sums[1]! / n), mae: sums[2]! / n } : { rmse: NaN, mae: NaN };
    },
  });
}
