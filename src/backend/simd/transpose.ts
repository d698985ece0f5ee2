/**
 * `Transpose` on wasm through the SIMD module's strided copies (`copyStrided`): tfjs-backend-wasm's own
 * kernel moves an element in ~6 ns (2 threads, 262K floats: 1.6 ms), and a scene training step transposes ~4M — inside
 * the convolution gradients and every transposed matMul operand (wasm-kernels.ts). Axes that stay
 * neighbours are merged first, so any permutation that is at most 4-D after merging takes this path;
 * others, other dtypes than float32/int32, and backends without the SIMD kernels keep the original.
 * Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { simdFor, type Simd } from './simd.js';

/** Row-major strides of `shape`, in elements (the last axis 1). */
export function rowMajorStrides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let a = shape.length - 1; a >= 0; a--) {
    out[a] = s;
    s *= shape[a]!;
  }
  return out;
}

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
  const inStride = rowMajorStrides(shape);
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
  const outStrides = rowMajorStrides(dims);
  return loopPlan(dims.map((d, k) => ({ d, i: inStrides[k]!, o: outStrides[k]! })));
}

/** Loops (size, input and output stride; outermost first) as a 4-loop plan, or undefined when > 4. */
export function loopPlan(loops: readonly { d: number; i: number; o: number }[]): CopyPlan | undefined {
  if (loops.length > 4) return undefined;
  const padded = [...Array.from({ length: 4 - loops.length }, () => ({ d: 1, i: 0, o: 0 })), ...loops];
  return {
    dims: padded.map((l) => l.d),
    inStrides: padded.map((l) => l.i),
    outStrides: padded.map((l) => l.o),
  };
}

/**
 * Runs a 4-loop copy plan (byte offsets `from`, `to`; sizes and strides in elements, outermost first) with
 * the module's fitting loop: `transpose_tiles` when the output runs contiguous innermost and another loop
 * reads contiguously (moved next to it — a copy's loops go in any order): 4×4 tiles through a shuffle,
 * 262K floats [4096, 64] → [64, 4096] in ~0.25 → 0.12 ms; else `copy4`, element by element or, where both
 * sides run contiguous, 16 bytes at a time.
 */
export function copyStrided(
  simd: Simd,
  from: number,
  to: number,
  dims: readonly number[],
  inStrides: readonly number[],
  outStrides: readonly number[],
): void {
  if (dims.length !== 4 || inStrides.length !== 4 || outStrides.length !== 4)
    throw new Error(`copyStrided: a plan of 4 loops, got ${dims.length}`);
  const [d, i, o] = [dims as number[], inStrides as number[], outStrides as number[]];
  if (o[3] === 1 && i[3] !== 1 && d[3]! >= 4) {
    const k = [2, 1, 0].find((j) => i[j] === 1 && d[j]! >= 4);
    if (k !== undefined) {
      const [a, b] = [0, 1, 2].filter((j) => j !== k) as [number, number];
      simd.kernels.transpose_tiles(
        from,
        to,
        d[a]!,
        d[b]!,
        d[k]!,
        d[3]!,
        i[a]!,
        i[b]!,
        i[3]!,
        o[a]!,
        o[b]!,
        o[k]!,
      );
      return;
    }
  }
  simd.kernels.copy4(from, to, ...d, ...i, ...o);
}

/**
 * A wasm kernelFunc that copies its input `x` (float32 or int32, non-empty) into a new tensor by
 * `plan(x, attrs)` — the output's shape and the 4-loop plan — or, where there is no plan or no SIMD
 * module, calls `orig`. Transpose's here, Tile's broadcast (tile.ts).
 */
export function makeCopyKernel(
  orig: tf.KernelFunc,
  plan: (x: tf.TensorInfo, attrs: tf.NamedAttrMap) => { shape: number[]; loops: CopyPlan } | undefined,
): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    const simd = simdFor(args.backend);
    if (x === undefined || simd === undefined) return orig(args);
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || tf.util.sizeFromShape(x.shape) === 0)
      return orig(args);
    const p = plan(x, args.attrs ?? {});
    if (p === undefined) return orig(args);
    const backend = args.backend as unknown as {
      makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
    };
    const out = backend.makeOutput(p.shape, x.dtype);
    const { dims, inStrides, outStrides } = p.loops;
    copyStrided(simd, simd.offset(x), simd.offset(out), dims, inStrides, outStrides);
    return out;
  };
}

/** Wraps wasm's `Transpose` kernelFunc (see the module doc). */
export function makeSimdTranspose(orig: tf.KernelFunc): tf.KernelFunc {
  return makeCopyKernel(orig, (x, attrs) => {
    const perm = (attrs as { perm?: number[] }).perm;
    const loops = perm === undefined ? undefined : transposePlan(x.shape, perm);
    return loops === undefined ? undefined : { shape: perm!.map((a) => x.shape[a]!), loops };
  });
}
