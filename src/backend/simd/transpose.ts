/**
 * `Transpose` on wasm through the SIMD module's `transpose4`: tfjs-backend-wasm's own kernel moves an
 * element in ~6 ns (2 threads, 262K floats: 1.6 ms), and a scene training step transposes ~4M — inside
 * the convolution gradients and every transposed matMul operand (wasm-kernels.ts). Axes that stay
 * neighbours are merged first, so any permutation that is at most 4-D after merging takes this path;
 * others, other dtypes than float32/int32, and backends without the SIMD kernels keep the original.
 * Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { simdFor } from './simd.js';

/** A transpose as a loop nest for `copy4`: sizes, input and output strides (elements), outermost first. */
export interface CopyPlan {
  dims: number[];
  inStrides: number[];
  outStrides: number[];
}

/**
 * The transpose of `shape` by `perm` as at most 4 nested loops, or undefined when more remain. Output axes
 * whose input axes are consecutive merge and size-1 axes go; the loops follow the output's order, so writes
 * are sequential. (Reading along the input instead measured 2–5× slower for [N,H,W,C] → [C,H,W,N]: its
 * writes then stride by powers of two, which map to the same cache sets.)
 */
export function transposePlan(shape: readonly number[], perm: readonly number[]): CopyPlan | undefined {
  const inStride = new Array<number>(shape.length);
  let s = 1;
  for (let a = shape.length - 1; a >= 0; a--) {
    inStride[a] = s;
    s *= shape[a]!;
  }
  const dims: number[] = [];
  const inStrides: number[] = [];
  let lastAxis = -2;
  for (const axis of perm) {
    const d = shape[axis]!;
    if (d === 1) continue;
    if (axis === lastAxis + 1 && dims.length > 0) {
      // the input axis right after the previous one: one run (with the inner axis's stride)
      dims[dims.length - 1]! *= d;
      inStrides[inStrides.length - 1] = inStride[axis]!;
    } else {
      dims.push(d);
      inStrides.push(inStride[axis]!);
    }
    lastAxis = axis;
  }
  if (dims.length > 4) return undefined;
  const outStrides = new Array<number>(dims.length);
  s = 1;
  for (let k = dims.length - 1; k >= 0; k--) {
    outStrides[k] = s;
    s *= dims[k]!;
  }
  const loops = dims.map((d, k) => ({ d, i: inStrides[k]!, o: outStrides[k]! }));
  while (loops.length < 4) loops.unshift({ d: 1, i: 0, o: 0 });
  return { dims: loops.map((l) => l.d), inStrides: loops.map((l) => l.i), outStrides: loops.map((l) => l.o) };
}

/** Wraps wasm's `Transpose` kernelFunc (see the module doc). */
export function makeSimdTranspose(orig: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    const perm = (args.attrs as { perm?: number[] } | undefined)?.perm;
    const simd = simdFor(args.backend);
    if (x === undefined || perm === undefined || simd === undefined) return orig(args);
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return orig(args);
    const plan = transposePlan(x.shape, perm);
    if (plan === undefined || tf.util.sizeFromShape(x.shape) === 0) return orig(args);
    const backend = args.backend as unknown as {
      makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
    };
    const out = backend.makeOutput(
      perm.map((a) => x.shape[a]!),
      x.dtype,
    );
    simd.kernels.copy4(simd.offset(x), simd.offset(out), ...plan.dims, ...plan.inStrides, ...plan.outStrides);
    return out;
  };
}
