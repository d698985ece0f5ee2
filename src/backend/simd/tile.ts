/**
 * `Tile` on wasm as one strided copy (`copyStrided`, reading a repeated axis with stride 0) when it only
 * repeats axes of size 1 — a broadcast, as `tf.broadcastTo` and the Mean/Sum gradients make it.
 * tfjs-backend-wasm's kernel computes every output element's source index apart: [8, 1, 1, 64] →
 * [8, 16, 32, 64] took ~20 ms; this ~0.1. Other tiles, dtypes than float32/int32, more than 4 axes of
 * size > 1, and backends without the SIMD kernels keep the original. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { simdFor } from './simd.js';
import { copyStrided, rowMajorStrides } from './transpose.js';

/** Wraps wasm's `Tile` kernelFunc (see the module doc). */
export function makeSimdTile(orig: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    const reps = (args.attrs as { reps?: number[] } | undefined)?.reps;
    const simd = simdFor(args.backend);
    if (x === undefined || reps === undefined || simd === undefined) return orig(args);
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || reps.length !== x.shape.length) return orig(args);
    if (reps.some((r, a) => r > 1 && x.shape[a] !== 1)) return orig(args);
    const outShape = x.shape.map((d, a) => d * reps[a]!);
    if (tf.util.sizeFromShape(outShape) === 0) return orig(args);
    const inStrides = rowMajorStrides(x.shape);
    const outStrides = rowMajorStrides(outShape);
    // the output's axes of size > 1 as loops, outermost first; a repeated axis reads with stride 0
    const loops = outShape
      .map((d, a) => ({ d, i: reps[a]! > 1 ? 0 : inStrides[a]!, o: outStrides[a]! }))
      .filter((l) => l.d > 1);
    if (loops.length > 4) return orig(args);
    while (loops.length < 4) loops.unshift({ d: 1, i: 0, o: 0 });
    const backend = args.backend as unknown as {
      makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
    };
    const out = backend.makeOutput(outShape, x.dtype);
    copyStrided(
      simd,
      simd.offset(x),
      simd.offset(out),
      loops.map((l) => l.d),
      loops.map((l) => l.i),
      loops.map((l) => l.o),
    );
    return out;
  };
}
