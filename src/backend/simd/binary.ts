/**
 * `Add`, `Sub` and `Multiply` on wasm through our module's `binary_f32`, on the calling thread, for
 * float32 operands of one layout (equal sizes that broadcast to themselves) or with one side a single
 * value (either side for Add and Multiply, the right one for Sub). tfjs-backend-wasm runs them through
 * XNNPACK's thread pool, whose hand-off to a second thread that has gone to sleep costs more than a
 * memory-bound pass over a few hundred KB: the scene step's gradient sums of [8, 16, 32, 64] took
 * 0.13–0.22 ms each. The same IEEE operations, so the same values. Others (other broadcasts, dtypes,
 * fewer than four values) keep the original kernel. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { simdFor } from './simd.js';

/** binary_f32's operation codes. */
const OPS = { Add: 0, Sub: 1, Multiply: 2 } as const;

/** Wraps wasm's `Add`, `Sub` or `Multiply` kernelFunc (see the module doc). */
export function makeSimdBinary(kernel: keyof typeof OPS, orig: tf.KernelFunc): tf.KernelFunc {
  const op = OPS[kernel];
  return (args) => {
    const { a, b } = args.inputs;
    const simd = simdFor(args.backend);
    if (a === undefined || b === undefined || simd === undefined) return orig(args);
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return orig(args);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const n = tf.util.sizeFromShape(outShape);
    if (n < 4) return orig(args);
    const [na, nb] = [tf.util.sizeFromShape(a.shape), tf.util.sizeFromShape(b.shape)];
    // (equal sizes that are the output's: one layout, element for element)
    let [x, y] = [a, b];
    if (na === 1 && nb === n && op !== OPS.Sub) [x, y] = [b, a];
    else if (na !== n || (nb !== n && nb !== 1)) return orig(args);
    const backend = args.backend as unknown as {
      makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
    };
    const out = backend.makeOutput([...outShape], 'float32');
    const scalar = tf.util.sizeFromShape(y.shape) === 1 && n > 1 ? 1 : 0;
    simd.kernels.binary_f32(op, simd.offset(x), simd.offset(y), scalar, n, simd.offset(out));
    return out;
  };
}
