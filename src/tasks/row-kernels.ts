/**
 * The tasks' losses and metric sums over small batches as JS kernels on cpu and wasm (js-kernels.ts):
 * one launch for the loss, one for its gradient, one for an evaluation chunk's sums, where the op path
 * takes 10–30 kernels per task (the per-row loss, the mask's weights, the sums). Row by row: the
 * prediction's rows are [B, k] (k values per row; softmax: the k = C logits), the target has the
 * prediction's size (softmax: B class indices), the mask B 0/1 entries. The same numbers as the op
 * path (tested against it in losses.test.ts), summed in double precision. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { jsKernelsUsable, registerJsKernel, runJsKernel } from '../backend/js-kernels.js';
import type { Likelihood } from './task.js';

const LOSS_KERNEL = 'TfjsMtlRowLoss';
const LOSS_GRAD_KERNEL = 'TfjsMtlRowLossGrad';
const SUMS_KERNEL = 'TfjsMtlMetricSums';

/** Up to this many predicted values a batch takes the JS kernels. */
export const ROW_KERNEL_MAX_VALUES = 16384;

type Values = ArrayLike<number>;

/** log Σ e^(f_j) over one row, stably. */
function logSumExp(f: Values, off: number, k: number): number {
  let max = -Infinity;
  for (let j = 0; j < k; j++) max = Math.max(max, f[off + j]!);
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (let j = 0; j < k; j++) sum += Math.exp(f[off + j]! - max);
  return max + Math.log(sum);
}

/** The row's loss: mean squared / absolute error, softmax or Bernoulli cross-entropy. */
function rowLoss(kind: Likelihood, f: Values, y: Values, b: number, k: number): number {
  const off = b * k;
  switch (kind) {
    case 'gaussian':
    case 'laplace': {
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const r = y[off + j]! - f[off + j]!;
        sum += kind === 'gaussian' ? r * r : Math.abs(r);
      }
      return sum / k;
    }
    case 'softmax':
      return logSumExp(f, off, k) - f[off + y[b]!]!;
    case 'bernoulli': {
      const z = f[b]!;
      return Math.max(z, 0) - z * y[b]! + Math.log1p(Math.exp(-Math.abs(z)));
    }
  }
}

/** Writes d row_b / d f_b, times `scale`, into `out` at the row's place. */
function rowGradient(
  kind: Likelihood,
  f: Values,
  y: Values,
  b: number,
  k: number,
  scale: number,
  out: Float32Array,
): void {
  const off = b * k;
  switch (kind) {
    case 'gaussian':
      for (let j = 0; j < k; j++) out[off + j] = (scale * -2 * (y[off + j]! - f[off + j]!)) / k;
      return;
    case 'laplace':
      for (let j = 0; j < k; j++) out[off + j] = (scale * -Math.sign(y[off + j]! - f[off + j]!)) / k;
      return;
    case 'softmax': {
      const lse = logSumExp(f, off, k);
      for (let j = 0; j < k; j++) out[off + j] = scale * Math.exp(f[off + j]! - lse);
      out[off + y[b]!] = out[off + y[b]!]! - scale;
      return;
    }
    case 'bernoulli':
      out[b] = scale * (1 / (1 + Math.exp(-f[b]!)) - y[b]!);
      return;
  }
}

/** Each row's weight in the mean: 1/B, or the mask over the labelled count (0 when none is). */
function rowWeights(rows: number, mask: Values | undefined): Float64Array {
  const w = new Float64Array(rows);
  if (mask === undefined) return w.fill(1 / rows);
  let count = 0;
  for (let b = 0; b < rows; b++) count += mask[b]!;
  const denominator = Math.max(count, 1);
  for (let b = 0; b < rows; b++) w[b] = mask[b]! / denominator;
  return w;
}

interface RowAttrs {
  kind: Likelihood;
  rows: number;
  shape: number[];
}

function attrsOf(attrs: tf.NamedAttrMap): RowAttrs {
  return attrs as unknown as RowAttrs;
}

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  registerJsKernel(LOSS_KERNEL, ([f, y, mask], attrs) => {
    const { kind, rows } = attrsOf(attrs);
    const k = f!.length / rows;
    const w = rowWeights(rows, mask);
    let total = 0;
    for (let b = 0; b < rows; b++) if (w[b] !== 0) total += w[b]! * rowLoss(kind, f!, y!, b, k);
    return [{ shape: [], values: [total] }];
  });
  registerJsKernel(LOSS_GRAD_KERNEL, ([dy, f, y, mask], attrs) => {
    const { kind, rows, shape } = attrsOf(attrs);
    const k = f!.length / rows;
    const w = rowWeights(rows, mask);
    const out = new Float32Array(f!.length);
    for (let b = 0; b < rows; b++) if (w[b] !== 0) rowGradient(kind, f!, y!, b, k, w[b]! * dy![0]!, out);
    return [{ shape, values: out }];
  });
  registerJsKernel(SUMS_KERNEL, ([f, y, mask], attrs) => {
    const { kind, rows } = attrsOf(attrs);
    const k = f!.length / rows;
    // regression: [count, Σ mean squared error, Σ mean absolute error]; classification: [count, correct, Σ ce]
    let count = 0;
    let second = 0;
    let third = 0;
    for (let b = 0; b < rows; b++) {
      const m = mask === undefined ? 1 : mask[b]!;
      if (m === 0) continue;
      count += m;
      if (kind === 'gaussian' || kind === 'laplace') {
        second += m * rowLoss('gaussian', f!, y!, b, k);
        third += m * rowLoss('laplace', f!, y!, b, k);
        continue;
      }
      let hit: boolean;
      if (kind === 'softmax') {
        // argmax, the first of equal maxima (as tf.argMax)
        let best = 0;
        for (let j = 1; j < k; j++) if (f![b * k + j]! > f![b * k + best]!) best = j;
        hit = best === y![b];
      } else {
        hit = (f![b]! > 0 ? 1 : 0) === y![b];
      }
      second += m * (hit ? 1 : 0);
      third += m * rowLoss(kind, f!, y!, b, k);
    }
    return [{ shape: [3], values: [count, second, third] }];
  });
  if (!tf.getGradient(LOSS_KERNEL)) {
    tf.registerGradient({
      kernelName: LOSS_KERNEL,
      saveAllInputs: true,
      gradFunc: (dy, saved, attrs) => {
        const [f] = saved;
        const [df] = runJsKernel(LOSS_GRAD_KERNEL, [dy as tf.Tensor, ...saved], {
          ...attrs,
          shape: f!.shape,
        });
        // only the prediction gets a gradient; targets and mask are data
        const grads: Record<string, () => tf.Tensor> = { 0: () => df! };
        saved.slice(1).forEach((t, i) => (grads[i + 1] = () => tf.zerosLike(t)));
        return grads;
      },
    });
  }
}

/**
 * Runs one of the kernels on [prediction, target, mask?], or returns undefined where they do not apply:
 * another backend, a recording outer tape, a big batch, a non-float prediction or other sizes.
 */
function runRowKernel(
  kernelName: string,
  kind: Likelihood,
  prediction: tf.Tensor,
  target: tf.Tensor,
  mask: tf.Tensor | undefined,
): tf.Tensor | undefined {
  if (prediction.dtype !== 'float32' || prediction.size > ROW_KERNEL_MAX_VALUES || prediction.rank === 0)
    return undefined;
  if (!jsKernelsUsable()) return undefined;
  const rows = prediction.shape[0];
  const expected = kind === 'softmax' ? rows : prediction.size;
  if (target.size !== expected || (mask !== undefined && mask.size !== rows)) return undefined;
  register();
  const inputs = mask === undefined ? [prediction, target] : [prediction, target, mask];
  return runJsKernel(kernelName, inputs, { kind, rows })[0];
}

/**
 * The task's loss (the labelled rows' mean of the row loss) as one JS kernel with a one-kernel
 * gradient, or undefined where the op path must run (see runRowKernel). Shapes are the caller's to check
 * first.
 */
export function smallRowLoss(
  kind: Likelihood,
  prediction: tf.Tensor,
  target: tf.Tensor,
  mask?: tf.Tensor,
): tf.Scalar | undefined {
  return runRowKernel(LOSS_KERNEL, kind, prediction, target, mask) as tf.Scalar | undefined;
}

/**
 * `metricSums` of a regression ([count, Σ squared error, Σ absolute error], each row's mean) or
 * classification task ([count, correct, Σ cross-entropy]) as one JS kernel, or undefined (as above).
 */
export function smallMetricSums(
  kind: Likelihood,
  prediction: tf.Tensor,
  target: tf.Tensor,
  mask?: tf.Tensor,
): tf.Tensor1D | undefined {
  return runRowKernel(SUMS_KERNEL, kind, prediction, target, mask) as tf.Tensor1D | undefined;
}
