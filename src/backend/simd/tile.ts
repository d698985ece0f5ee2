/**
 * `Tile` on wasm as one strided copy (`copyStrided`, reading a repeated axis with stride 0) when it only
 * repeats axes of size 1 — a broadcast, as `tf.broadcastTo` and the Mean/Sum gradients make it.
 * tfjs-backend-wasm's kernel computes every output element's source index apart: [8, 1, 1, 64] →
 * [8, 16, 32, 64] took ~20 ms; this ~0.1. Other tiles, dtypes than float32/int32, more than 4 axes of
 * size > 1, and backends without the SIMD kernels keep the original. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { loopPlan, makeCopyKernel, rowMajorStrides } from './transpose.js';

/** Wraps wasm's `Tile` kernelFunc (see the module doc). */
export function makeSimdTile(orig: tf.KernelFunc): tf.KernelFunc {
  return makeCopyKernel(orig, (x, attrs) => {
    const reps = (attrs as { reps?: number[] }).reps;
    if (reps === undefined || reps.length !== x.shape.length) return undefined;
    if (reps.some((r, a) => r > 1 && x.shape[a] !== 1)) return undefined;
    const shape = x.shape.map((d, a) => d * reps[a]!);
    const inStrides = rowMajorStrides(x.shape);
    const outStrides = rowMajorStrides(shape);
    // the output's axes of size > 1 as loops, outermost first; a repeated axis reads with stride 0
    const loops = loopPlan(
      shape
        .map((d, a) => ({ d, i: reps[a]! > 1 ? 0 : inStrides[a]!, o: outStrides[a]! }))
        .filter((l) => l.d > 1),
    );
    return loops === undefined ? undefined : { shape, loops };
  });
}
