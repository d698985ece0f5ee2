/**
 * The scene network's masked L1 loss — Σ_b m_b·Σ_j |f − y| / (k·max(Σ m, 1)) over rows of k values (a
 * pixel's 1–2 channels) — as one wasm kernel each way over our module's loops (`masked_l1_sums`,
 * `masked_l1_grad`). The op path broadcasts the [B·H·W] mask over the channels, which XNNPACK does row
 * by row (~1.3 ms for 65K pixels × 2), then takes Abs, Sub, two Sums and their gradients. The
 * subgradient at a tie (f = y) is 0 here and −1 on the op path (tf.abs's). `maskedL1Fusible` says
 * when: wasm with the SIMD kernels, float32, and no tape recording the backward pass. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { asFloat32 } from '../as-dtype.js';
import { higherOrderTape, withKernelScope, type KernelScope } from '../kernel-scope.js';
import { activeSimd, requireSimd, type Simd } from './simd.js';

export const MASKED_L1_KERNEL = 'TfjsMtlMaskedL1';
export const MASKED_L1_GRAD_KERNEL = 'TfjsMtlMaskedL1Grad';

type TensorInfo = tf.TensorInfo;

/** The loss's denominator k·max(Σ m, 1) and numerator Σ m·Σ|f − y|. */
function sums(s: KernelScope, simd: Simd, f: TensorInfo, y: TensorInfo, m: TensorInfo) {
  const [rows, k] = f.shape as [number, number];
  const acc = s.make([4], () => {}); // two doubles, zeroed
  simd.kernels.masked_l1_sums(simd.offset(f), simd.offset(y), simd.offset(m), rows, k, simd.offset(acc));
  const [total, count] = simd.f64(simd.offset(acc), 2);
  return { rows, k, total: total!, denominator: k * Math.max(count!, 1) };
}

const forward: tf.KernelFunc = ({ inputs, backend }) => {
  const { f, y, m } = inputs as Record<string, TensorInfo>;
  const simd = requireSimd(MASKED_L1_KERNEL, backend);
  return withKernelScope('wasm', backend, (s) => {
    const { total, denominator } = sums(s, simd, f!, y!, m!);
    return s.make([], (v) => (v[0] = total / denominator));
  });
};

const backward: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, f, y, m } = inputs as Record<string, TensorInfo>;
  const simd = requireSimd(MASKED_L1_GRAD_KERNEL, backend);
  return withKernelScope('wasm', backend, (s) => {
    const { rows, k, denominator } = sums(s, simd, f!, y!, m!);
    const scale = s.values(dy!)[0]! / denominator;
    const out = s.alloc([rows, k]); // every value written by masked_l1_grad
    simd.kernels.masked_l1_grad(
      simd.offset(f!),
      simd.offset(y!),
      simd.offset(m!),
      rows,
      k,
      scale,
      simd.offset(out),
    );
    return out;
  });
};

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: MASKED_L1_KERNEL, backendName: 'wasm', kernelFunc: forward });
  tf.registerKernel({ kernelName: MASKED_L1_GRAD_KERNEL, backendName: 'wasm', kernelFunc: backward });
  tf.registerGradient({
    kernelName: MASKED_L1_KERNEL,
    inputsToSave: ['f', 'y', 'm'],
    gradFunc: (dy, saved) => {
      const [f, y, m] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      return {
        f: () =>
          tf.engine().runKernel<tf.Tensor>(MASKED_L1_GRAD_KERNEL, { dy: dy as tf.Tensor, f, y, m }, {}),
        // the target and the mask are data
        y: () => tf.zerosLike(y),
        m: () => tf.zerosLike(m),
      };
    },
  });
}

/** Whether `fusedMaskedL1` can run here (see the module doc). */
export function maskedL1Fusible(prediction: tf.Tensor): boolean {
  if (prediction.dtype !== 'float32' || prediction.size === 0 || prediction.rank === 0) return false;
  if (higherOrderTape()) return false;
  return activeSimd() !== undefined;
}

/**
 * The masked L1 mean of prediction against target ([..., k], the same size) with mask [...] (one 0/1
 * per row of k); call only when `maskedL1Fusible(prediction)`.
 */
export function fusedMaskedL1(prediction: tf.Tensor, target: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  register();
  const k = prediction.shape[prediction.rank - 1]!;
  const rows = prediction.size / k;
  if (target.size !== prediction.size || mask.size !== rows)
    throw new Error(
      `${MASKED_L1_KERNEL}: prediction [${prediction.shape.join(', ')}], target [${target.shape.join(', ')}] and mask [${mask.shape.join(', ')}] do not match`,
    );
  return tf.tidy(() =>
    tf.engine().runKernel<tf.Scalar>(
      MASKED_L1_KERNEL,
      {
        f: tf.reshape(prediction, [rows, k]),
        y: tf.reshape(asFloat32(target), [rows, k]),
        m: tf.reshape(asFloat32(mask), [rows]),
      },
      {},
    ),
  );
}
