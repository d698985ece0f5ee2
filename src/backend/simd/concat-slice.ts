/**
 * `Concat`, `Slice` and `SplitV` on wasm through the SIMD module's strided copy (`copyStrided`).
 * tfjs-backend-wasm's own are JS loops of one `TypedArray.set` per innermost run: joining four
 * [4096, 32] pieces along the last axis took 1.5 ms, splitting [4096, 128] into four 4.1 ms (a call per
 * 32-float row) — one copy loop each here. Float32 and int32 tensors of rank ≤ 4; other dtypes, higher
 * ranks, empty tensors and a single input keep wasm's kernels. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { simdFor, type Simd } from './simd.js';
import { copyStrided, rowMajorStrides } from './transpose.js';

type TensorInfo = tf.TensorInfo;

interface OutputBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
}

/** Four-byte element types (the copy moves 4-byte elements). */
function fourBytes(dtype: tf.DataType): boolean {
  return dtype === 'float32' || dtype === 'int32';
}

/** `shape` padded in front to 4 loops, with stride 0 for the padding. */
function fourLoops(dims: readonly number[], by: readonly number[]): [number[], number[]] {
  const pad = 4 - dims.length;
  return [
    [...new Array<number>(pad).fill(1), ...dims],
    [...new Array<number>(pad).fill(0), ...by],
  ];
}

/**
 * Copies the block of x at `begin` of `size` into a new tensor: one strided copy. Undefined where the
 * SIMD path does not apply (see the module doc).
 */
function simdSlice(
  simd: Simd,
  backend: OutputBackend,
  x: TensorInfo,
  begin: readonly number[],
  size: readonly number[],
): TensorInfo | undefined {
  const rank = x.shape.length;
  if (!fourBytes(x.dtype) || rank === 0 || rank > 4) return undefined;
  if (tf.util.sizeFromShape(size as number[]) === 0) return undefined;
  const inStrides = rowMajorStrides(x.shape);
  let from = 0;
  for (let a = 0; a < rank; a++) from += begin[a]! * inStrides[a]!;
  const out = backend.makeOutput([...size], x.dtype);
  const [dims, inS] = fourLoops(size, inStrides);
  const [, outS] = fourLoops(size, rowMajorStrides(size));
  copyStrided(simd, simd.offset(x) + 4 * from, simd.offset(out), dims, inS, outS);
  return out;
}

/** Wraps wasm's `Slice` kernelFunc (see the module doc). */
export function makeSimdSlice(orig: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    const simd = simdFor(args.backend);
    if (x === undefined || simd === undefined) return orig(args);
    const attrs = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin, attrs.size);
    if (begin === undefined || size === undefined) return orig(args);
    return simdSlice(simd, args.backend as unknown as OutputBackend, x, begin, size) ?? orig(args);
  };
}

/** Wraps wasm's `SplitV` kernelFunc: each piece a `Slice` as above (wasm's calls its own slice). */
export function makeSimdSplitV(orig: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    const simd = simdFor(args.backend);
    if (x === undefined || simd === undefined || !fourBytes(x.dtype)) return orig(args);
    if (x.shape.length === 0 || x.shape.length > 4 || tf.util.sizeFromShape(x.shape) === 0) return orig(args);
    const attrs = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x, attrs.numOrSizeSplits, axis);
    if (sizes.some((s) => s === 0)) return orig(args);
    const backend = args.backend as unknown as OutputBackend;
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const piece = simdSlice(simd, backend, x, begin, size)!;
      begin[axis]! += s;
      return piece;
    });
  };
}

/** Wraps wasm's `Concat` kernelFunc: each input one strided copy into its columns of the output. */
export function makeSimdConcat(orig: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const inputs = args.inputs as unknown as TensorInfo[];
    const simd = simdFor(args.backend);
    if (simd === undefined || inputs.length < 2) return orig(args);
    const dtype = inputs[0]!.dtype;
    if (!fourBytes(dtype) || inputs.some((t) => t.dtype !== dtype || tf.util.sizeFromShape(t.shape) === 0))
      return orig(args);
    const shapes = inputs.map((t) => t.shape);
    const axis = tf.util.parseAxisParam((args.attrs as { axis: number | number[] }).axis, shapes[0]!)[0]!;
    tf.backend_util.assertParamsConsistent(shapes, axis);
    const outShape = tf.backend_util.computeOutShape(shapes, axis);
    const rows = tf.util.sizeFromShape(shapes[0]!.slice(0, axis));
    const widths = shapes.map((s) => tf.util.sizeFromShape(s.slice(axis)));
    const width = widths.reduce((a, b) => a + b, 0);
    const out = (args.backend as unknown as OutputBackend).makeOutput(outShape, dtype);
    let column = 0;
    inputs.forEach((t, i) => {
      const w = widths[i]!;
      copyStrided(
        simd,
        simd.offset(t),
        simd.offset(out) + 4 * column,
        [1, 1, rows, w],
        [0, 0, w, 1],
        [0, 0, width, 1],
      );
      column += w;
    });
    return out;
  };
}
