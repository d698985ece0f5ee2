import * as tf from '@tensorflow/tfjs';
import { jsKernelsUsable, registerJsKernel, runJsKernel } from '../backend/js-kernels.js';
import { perSample, rowMeanLoss } from './masked-mean.js';
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

const MEAN_ERROR_KERNEL = 'TfjsMtlMeanError';
const MEAN_ERROR_GRAD_KERNEL = 'TfjsMtlMeanErrorGrad';
/** Up to this many predictions, the unmasked loss runs as JS kernels on cpu/wasm (js-kernels.ts). */
const SMALL = 4096;

/**
 * mean (y − f)² or mean |y − f| over f's n values, and its gradient −2(y − f)/n·dy or −sign(y − f)/n·dy
 * w.r.t. f (in the shape given as the attribute `shape`), as JS kernels (inputs f, y; y has f's size, read
 * in the same order).
 */
function registerMeanErrorKernels(): void {
  registerJsKernel(MEAN_ERROR_KERNEL, ([f, y], attrs) => {
    const gaussian = attrs['likelihood'] === 'gaussian';
    let sum = 0;
    for (let i = 0; i < f!.length; i++) {
      const r = y![i]! - f![i]!;
      sum += gaussian ? r * r : Math.abs(r);
    }
    return [{ shape: [], values: [sum / f!.length] }];
  });
  registerJsKernel(MEAN_ERROR_GRAD_KERNEL, ([dy, f, y], attrs) => {
    const gaussian = attrs['likelihood'] === 'gaussian';
    const n = f!.length;
    const scale = (gaussian ? -2 : -1) * (dy![0]! / n);
    const df = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const r = y![i]! - f![i]!;
      df[i] = scale * (gaussian ? r : Math.sign(r));
    }
    return [{ shape: attrs['shape'] as number[], values: df }];
  });
  if (!tf.getGradient(MEAN_ERROR_KERNEL)) {
    tf.registerGradient({
      kernelName: MEAN_ERROR_KERNEL,
      saveAllInputs: true,
      gradFunc: (dy, [f, y], attrs) => {
        // the gradient comes out in f's shape: no reshape kernel after it
        const [df] = runJsKernel(MEAN_ERROR_GRAD_KERNEL, [dy as tf.Tensor, f!, y!], {
          ...attrs,
          shape: f!.shape,
        });
        return { 0: () => df!, 1: () => tf.neg(tf.reshape(df!, y!.shape)) };
      },
    });
  }
}

/** A regression task: Gaussian likelihood ↔ mean squared error, Laplace ↔ mean absolute error. */
export function regressionTask(options: RegressionTaskOptions): Task {
  const { name } = options;
  const likelihood = options.likelihood ?? 'gaussian';
  registerMeanErrorKernels();
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
    if (prediction.size <= SMALL && jsKernelsUsable() && prediction.dtype === 'float32') {
      checkShapes(name, prediction, target);
      const y = target.dtype === 'float32' ? target : tf.cast(target, 'float32');
      return runJsKernel(MEAN_ERROR_KERNEL, [prediction, y], {
        likelihood,
      })[0] as tf.Scalar;
    }
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
      tf.tidy(() =>
        // unmasked: one mean over all elements equals the mean of the per-sample means (fewer kernels)
        mask === undefined
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
            ),
      ),
    metricSumNames: SUM_NAMES,
    metricSums: (prediction: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor): tf.Tensor1D =>
      tf.tidy(() => {
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
