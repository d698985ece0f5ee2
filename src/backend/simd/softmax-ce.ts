/**
 * The scene network's masked softmax cross-entropy on wasm as one kernel over our module's loops, from
 * integer labels (no one-hot is made: on wasm that is a OneHot and a cast of 459K values, ~0.6 ms): per
 * row of C logits, t = z − max (softmax_shift), e = eᵗ (exp_f32), Σe and z at the label (softmax_rows),
 * the labelled rows' mean of log Σe + max − z_label (softmax_loss, summed in doubles), and the gradient
 * m·(e/Σe − onehot)/max(Σm, 1) (softmax_grad) — kept as the kernel's second output, so the backward pass
 * is one multiply by dy. The op path (losses.ts in scenes) takes ~12 kernels over the 8×64×128×7 logits
 * and tfjs-backend-wasm's scalar Exp. `softmaxCrossEntropyFusible` says when: wasm with the SIMD kernels,
 * float32, ≥ 4 logits, no tape recording the backward pass. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { asFloat32, asInt32 } from '../as-dtype.js';
import { higherOrderTape, withKernelScope } from '../kernel-scope.js';
import { activeSimd, requireSimd } from './simd.js';

export const SOFTMAX_CE_KERNEL = 'TfjsMtlSoftmaxCrossEntropy';

type TensorInfo = tf.TensorInfo;

/**
 * inputs z [P, C], labels [P] (int32; outside [0, C): no class) and m [P] → [loss (scalar), gradient of
 * the loss with respect to z [P, C]].
 */
const kernelFunc: tf.KernelFunc = ({ inputs, backend }) => {
  const { z, labels, m } = inputs as Record<string, TensorInfo>;
  const simd = requireSimd(SOFTMAX_CE_KERNEL, backend);
  const [P, C] = z!.shape as [number, number];
  return withKernelScope('wasm', backend, (s) => {
    const t = s.alloc([P, C]);
    const mx = s.alloc([P]);
    simd.kernels.softmax_shift(simd.offset(z!), P, C, simd.offset(t), simd.offset(mx));
    const g = s.alloc([P, C]);
    simd.kernels.exp_f32(simd.offset(t), P * C, simd.offset(g));
    const sums = s.alloc([P]);
    const picked = s.alloc([P]);
    simd.kernels.softmax_rows(
      simd.offset(g),
      simd.offset(z!),
      simd.offset(labels!),
      P,
      C,
      simd.offset(sums),
      simd.offset(picked),
    );
    // Σ m·(log Σe + max − Σz·hot) and Σ m: four rows at a time in the module (a SIMD log), the last
    // rows % 4 here
    const acc = s.make([4], () => {}); // two doubles, zeroed
    simd.kernels.softmax_loss(
      simd.offset(sums),
      simd.offset(mx),
      simd.offset(picked),
      simd.offset(m!),
      P,
      simd.offset(acc),
    );
    const loss = s.alloc([]);
    // views after the last allocation (a malloc may grow the memory)
    const summed = simd.f64(simd.offset(acc), 2);
    let total = summed[0]!;
    let count = summed[1]!;
    const [mv, sv, xv, pv] = [s.values(m!), s.values(sums), s.values(mx), s.values(picked)];
    for (let p = P - (P % 4); p < P; p++) {
      const w = mv[p]!;
      if (w === 0) continue;
      total += w * (Math.log(sv[p]!) + xv[p]! - pv[p]!);
      count += w;
    }
    const n = Math.max(count, 1);
    s.values(loss)[0] = total / n;
    simd.kernels.softmax_grad(
      simd.offset(g),
      simd.offset(labels!),
      simd.offset(m!),
      simd.offset(sums),
      P,
      C,
      1 / n,
    );
    return [loss, g];
  });
};

let registered = false;

/** Whether `fusedSoftmaxCrossEntropy` can run on these logits here (see the module doc). */
export function softmaxCrossEntropyFusible(logits: tf.Tensor): boolean {
  if (logits.dtype !== 'float32' || logits.size < 4 || logits.rank === 0) return false;
  if (higherOrderTape()) return false;
  return activeSimd() !== undefined;
}

/**
 * Mean over the rows with mask m ≠ 0 of m·(log Σ e^z − z_label), divided by max(Σ m, 1); logits [..., C],
 * integer labels and mask one value per row (a label outside [0, C) picks nothing: its row adds
 * m·log Σ e^z, so such rows should have m = 0). Call only when `softmaxCrossEntropyFusible(logits)`.
 */
export function fusedSoftmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  if (!registered) {
    registered = true;
    tf.registerKernel({ kernelName: SOFTMAX_CE_KERNEL, backendName: 'wasm', kernelFunc });
  }
  const C = logits.shape[logits.rank - 1]!;
  const P = logits.size / C;
  if (labels.size !== P || mask.size !== P)
    throw new Error(
      `${SOFTMAX_CE_KERNEL}: logits [${logits.shape.join(', ')}], labels [${labels.shape.join(', ')}] and mask [${mask.shape.join(', ')}] do not match`,
    );
  const op = tf.customGrad((z, save) => {
    const [loss, g] = tf.tidy(() =>
      tf.engine().runKernel<tf.Tensor[]>(
        SOFTMAX_CE_KERNEL,
        {
          z: tf.reshape(z as tf.Tensor, [P, C]),
          labels: tf.reshape(asInt32(labels), [P]),
          m: tf.reshape(asFloat32(mask), [P]),
        },
        {},
      ),
    );
    (save as tf.GradSaveFunc)([g!]);
    return {
      value: loss as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.reshape(tf.mul(saved[0]!, dy), logits.shape),
    };
  });
  return op(logits);
}
