/**
 * Training-mode batch norm (+ ReLU) on wasm as two engine kernels over our SIMD loops (kernels.wat):
 * forward `TfjsMtlBatchNorm` — the per-channel moments (one pass, in doubles), y = act((x − μ)·γ/√(σ² + ε) + β)
 * and the moving statistics' update — and backward `TfjsMtlBatchNormGrad` — one pass for Σg and Σg·(x − μ),
 * one for dx = γ/√(σ² + ε)·(g − mean(g) − x̂·mean(g·x̂)), g the output gradient through the ReLU. The op
 * form (batch-norm.ts in scenes) takes ~10 kernels forward and ~12 backward per layer, each a pass over the
 * activations; here it is four passes in all.
 *
 * `batchNormFusible` says when: the wasm backend with the SIMD kernels loaded, float32, channels a multiple
 * of 4, and no tape recording the backward pass (the gradient kernel has no gradient of its own).
 * Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { higherOrderTape, withKernelScope } from '../kernel-scope.js';
import { activeSimd, requireSimd } from './simd.js';

export const BATCH_NORM_KERNEL = 'TfjsMtlBatchNorm';
export const BATCH_NORM_GRAD_KERNEL = 'TfjsMtlBatchNormGrad';

type TensorInfo = tf.TensorInfo;

interface BatchNormAttrs {
  epsilon: number;
  momentum: number;
  relu: boolean;
}

function geometry(kernel: string, x: TensorInfo): { rows: number; C: number } {
  const C = x.shape[x.shape.length - 1] ?? 0;
  if (x.dtype !== 'float32' || C < 4 || C % 4 !== 0)
    throw new Error(
      `${kernel}: needs float32 with channels a multiple of 4, got ${x.dtype} [${x.shape.join(', ')}]`,
    );
  return { rows: tf.util.sizeFromShape(x.shape) / C, C };
}

/** inputs x, gamma, beta, movingMean, movingVariance → [y, movingMean′, movingVariance′, mean, variance]. */
const forward: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta, movingMean, movingVariance } = inputs as Record<string, TensorInfo>;
  const { epsilon, momentum, relu } = attrs as unknown as BatchNormAttrs;
  const { rows, C } = geometry(BATCH_NORM_KERNEL, x!);
  const simd = requireSimd(BATCH_NORM_KERNEL, backend);
  return withKernelScope('wasm', backend, (s) => {
    const acc = s.make([4 * C], () => {}); // 2C doubles, zeroed
    simd.kernels.chan_moments(simd.offset(x!), rows, C, simd.offset(acc));
    const sums = simd.f64(simd.offset(acc), 2 * C);
    const mean = new Float64Array(C);
    const variance = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      mean[c] = sums[c]! / rows;
      // E[x²] − μ² in doubles from float32 inputs: exact enough unless |μ|/σ ≳ 1e6
      variance[c] = Math.max(0, sums[C + c]! / rows - mean[c]! * mean[c]!);
    }
    const g = s.values(gamma!).slice(); // (copies: a malloc below may grow the memory)
    const meanT = s.make([C], (v) => v.set(mean));
    const scaleT = s.make([C], (v) => {
      for (let c = 0; c < C; c++) v[c] = g[c]! / Math.sqrt(variance[c]! + epsilon);
    });
    const y = s.alloc(x!.shape); // every value written by bn_apply
    simd.kernels.bn_apply(
      simd.offset(x!),
      rows,
      C,
      simd.offset(meanT),
      simd.offset(scaleT),
      simd.offset(beta!),
      relu ? 1 : 0,
      simd.offset(y),
    );
    // the moving variance is the unbiased batch variance, as Keras and PyTorch keep it
    const unbias = rows > 1 ? rows / (rows - 1) : 1;
    const mm = s.values(movingMean!).slice();
    const mv = s.values(movingVariance!).slice();
    const movingMeanOut = s.make([C], (v) => {
      for (let c = 0; c < C; c++) v[c] = mm[c]! * momentum + mean[c]! * (1 - momentum);
    });
    const movingVarianceOut = s.make([C], (v) => {
      for (let c = 0; c < C; c++) v[c] = mv[c]! * momentum + variance[c]! * unbias * (1 - momentum);
    });
    const varianceT = s.make([C], (v) => v.set(variance));
    return [y, movingMeanOut, movingVarianceOut, meanT, varianceT];
  });
};

/** inputs dy, x, gamma, y, mean, variance → [dx, dGamma, dBeta]. */
const backward: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, gamma, y, mean, variance } = inputs as Record<string, TensorInfo>;
  const { epsilon, relu } = attrs as unknown as BatchNormAttrs;
  const { rows, C } = geometry(BATCH_NORM_GRAD_KERNEL, x!);
  const simd = requireSimd(BATCH_NORM_GRAD_KERNEL, backend);
  return withKernelScope('wasm', backend, (s) => {
    const acc = s.make([4 * C], () => {});
    const reluFlag = relu ? 1 : 0;
    // both passes read dy, y (for the ReLU's mask), x and μ
    const dyAt = simd.offset(dy!);
    const yAt = simd.offset(y!);
    const xAt = simd.offset(x!);
    const meanAt = simd.offset(mean!);
    simd.kernels.bn_grad_sums(dyAt, yAt, xAt, rows, C, meanAt, reluFlag, simd.offset(acc));
    const sums = Float64Array.from(simd.f64(simd.offset(acc), 2 * C));
    const g = s.values(gamma!).slice();
    const v = s.values(variance!).slice();
    const inv = v.map((vc) => 1 / Math.sqrt(vc + epsilon));
    const dGammaValues = Float64Array.from(inv, (ic, c) => ic * sums[C + c]!);
    // dx = a·g + b·(x − μ) + d with a = γ·inv, b = −a·inv·dγ/n, d = −a·dβ/n
    const coefficients = s.make([3 * C], (out) => {
      for (let c = 0; c < C; c++) {
        const a = g[c]! * inv[c]!;
        out[c] = a;
        out[C + c] = (-a * inv[c]! * dGammaValues[c]!) / rows;
        out[2 * C + c] = (-a * sums[c]!) / rows;
      }
    });
    const dx = s.alloc(x!.shape); // every value written by bn_grad_apply
    const at = simd.offset(coefficients);
    simd.kernels.bn_grad_apply(
      dyAt,
      yAt,
      xAt,
      rows,
      C,
      meanAt,
      at,
      at + 4 * C,
      at + 8 * C,
      reluFlag,
      simd.offset(dx),
    );
    const dGamma = s.make([C], (out) => out.set(dGammaValues));
    const dBeta = s.make([C], (out) => out.set(sums.subarray(0, C)));
    return [dx, dGamma, dBeta];
  });
};

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: BATCH_NORM_KERNEL, backendName: 'wasm', kernelFunc: forward });
  tf.registerKernel({ kernelName: BATCH_NORM_GRAD_KERNEL, backendName: 'wasm', kernelFunc: backward });
  tf.registerGradient({
    kernelName: BATCH_NORM_KERNEL,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [true, false, false, true, true],
    // the statistics' outputs carry no gradient (only the layer's moving averages read them)
    gradFunc: (dys, saved, attrs) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const [x, gamma, y, mean, variance] = saved;
      const [dx, dGamma, dBeta] = tf
        .engine()
        .runKernel<tf.Tensor[]>(
          BATCH_NORM_GRAD_KERNEL,
          { dy, x: x!, gamma: gamma!, y: y!, mean: mean!, variance: variance! },
          attrs,
        );
      return {
        x: () => dx!,
        gamma: () => dGamma!,
        beta: () => dBeta!,
        movingMean: () => tf.zerosLike(mean!),
        movingVariance: () => tf.zerosLike(variance!),
      };
    },
  });
}

/** Whether `fusedBatchNorm` can run on `x` here (see the module doc). */
export function batchNormFusible(x: tf.Tensor): boolean {
  const C = x.shape[x.rank - 1] ?? 0;
  if (x.dtype !== 'float32' || C < 4 || C % 4 !== 0 || x.size === 0) return false;
  if (higherOrderTape()) return false;
  return activeSimd() !== undefined;
}

/**
 * Training-mode batch norm over every axis but the last, then ReLU when `relu`; call only when
 * `batchNormFusible(x)`. Returns y and the moving statistics updated with `momentum` (the variance's
 * unbiased).
 */
export function fusedBatchNorm(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  movingMean: tf.Tensor,
  movingVariance: tf.Tensor,
  attrs: BatchNormAttrs,
): { y: tf.Tensor; movingMean: tf.Tensor; movingVariance: tf.Tensor } {
  register();
  const [y, mm, mv, mean, variance] = tf
    .engine()
    .runKernel<tf.Tensor[]>(
      BATCH_NORM_KERNEL,
      { x, gamma, beta, movingMean, movingVariance },
      attrs as unknown as tf.NamedAttrMap,
    );
  mean!.dispose();
  variance!.dispose();
  return { y: y!, movingMean: mm!, movingVariance: mv! };
}
