/**
 * `Exp` on wasm through the SIMD module's `exp_f32` (Cephes' expf, ≤ 2 ulp): tfjs-backend-wasm computes
 * it one `std::exp` at a time, ~3–10 ns per value — 1.5–5 ms per step for the scene network's softmax
 * over 8×64×128×7 logits; this takes ~1.7 ns (0.8 ms). Outside [−87.3, 88.7] it gives +∞ above and 0 below (float32's denormals are not
 * produced). float32 tensors of ≥ 4 values; others keep the original kernel. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { simdFor } from './simd.js';

/** Wraps wasm's `Exp` kernelFunc (see the module doc). */
export function makeSimdExp(orig: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    const simd = simdFor(args.backend);
    if (x === undefined || simd === undefined || x.dtype !== 'float32') return orig(args);
    const n = tf.util.sizeFromShape(x.shape);
    if (n < 4) return orig(args);
    const backend = args.backend as unknown as {
      makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
    };
    const out = backend.makeOutput([...x.shape], 'float32');
    simd.kernels.exp_f32(simd.offset(x), n, simd.offset(out));
    return out;
  };
}
