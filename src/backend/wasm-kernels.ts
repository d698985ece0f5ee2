/**
 * Training-oriented kernel overrides for @tensorflow/tfjs-backend-wasm 4.22.
 *
 * The wasm backend is tuned for inference:
 *  - `BatchMatMul` / `_FusedMatMul` reach XNNPACK only for untransposed operands
 *    with batch 1; every matMul gradient is transposed and falls into a naive
 *    loop that is 10-50x slower. We transpose explicitly and fold / split
 *    batches so that the XNNPACK path is taken.
 *  - `_FusedMatMul`'s fallback loop also gets bias and relu wrong (see
 *    below), so routing it to XNNPACK fixes results, too.
 *  - `Conv2DBackpropFilter` is not implemented (tfjs#8474); we run it as one
 *    GEMM over patches gathered by our SIMD module (simd/conv-filter-grad.ts),
 *    or, without it, as a dilated convolution run by wasm's own XNNPACK `Conv2D`.
 *  - `Conv2DBackpropInput` is a naive loop; we express it as a stride-1
 *    convolution of the zero-inserted output gradient with the flipped filter.
 *  - `Transpose` (inside every one of the above) moves ~2 ns per element; our
 *    SIMD module's strided copy does it in half (simd/transpose.ts).
 *  - `Exp` is a scalar std::exp loop (~10 ns a value); SIMD expf (simd/exp.ts).
 *  - `ResizeBilinear` and its gradient loop pixel by pixel; separable SIMD passes
 *    (simd/resize-bilinear.ts).
 *  - `Concat`, `Slice` and `SplitV` copy one innermost run per `TypedArray.set`;
 *    one strided SIMD copy each (simd/concat-slice.ts).
 *  - Products with one dimension of ≤ 8 (the scene heads' 1×1 convolutions and
 *    their gradients) pay XNNPACK's packing and thread-pool hand-off for a few
 *    µs of arithmetic; our SIMD loops on the calling thread (simd/small-matmul.ts).
 *  - `Tile` computes each element's source index apart (a broadcast of 131K
 *    values ~20 ms); a broadcast is one strided copy (simd/tile.ts).
 *
 * Browser-safe: depends on nothing but @tensorflow/tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelScope as Scope, withKernelScope } from './kernel-scope.js';
import { makeSimdConcat, makeSimdSlice, makeSimdSplitV } from './simd/concat-slice.js';
import { makeSimdConv2DBackpropFilter } from './simd/conv-filter-grad.js';
import { stridedConvInputGradient } from './simd/conv-input-grad.js';
import { makeSimdExp } from './simd/exp.js';
import { makeSimdResizeBilinear, makeSimdResizeBilinearGrad } from './simd/resize-bilinear.js';
import { simdFor } from './simd/simd.js';
import { makeSimdTile } from './simd/tile.js';
import { smallMatMul, smallMatMulRoute } from './simd/small-matmul.js';
import { makeSimdTranspose } from './simd/transpose.js';

type TensorInfo = tf.TensorInfo;
type KernelFunc = tf.KernelFunc;
type KernelArgs = Parameters<KernelFunc>[0];

/** Public BackendWasm methods its own JS kernels (Concat, Slice) use. */
interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

const BACKEND = 'wasm';

/** Kernel names this module registers for the 'wasm' backend. */
export const WASM_TRAINING_KERNELS: readonly string[] = Object.freeze([
  'BatchMatMul',
  '_FusedMatMul',
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'Identity',
  'Reverse',
  'Sum',
  'Mean',
  'Transpose',
  'Exp',
  'ResizeBilinear',
  'ResizeBilinearGrad',
  'Concat',
  'Slice',
  'SplitV',
  'Tile',
]);

// Cost model for choosing XNNPACK over wasm's naive loop, in naive-loop MACs
// (≈1 ns each; XNNPACK ≈0.05-0.1 ns). Measured with wasm-simd on Node 20: one
// extra kernel round trip + XNNPACK operator creation ≈10 µs, a transposed
// element ≈4-5 ns through wasm's Transpose, ≈1 through our SIMD module's, and
// XNNPACK packing its right operand (the "weights", K×N) ≈6-11 ns an element
// when that tensor is new — in training every operand is: gradients, and
// weights after each update (bench: 1.2 ms for a 4096×32 dy; the heads' filter
// gradient hᵀ·dy 1.3 → 0.5 ms by packing dy rather than h).
const CALL_OVERHEAD_MACS = 10_000;
const TRANSPOSE_MACS_PER_ELEMENT = 4.5;
const SIMD_TRANSPOSE_MACS_PER_ELEMENT = 1;
const PACK_MACS_PER_ELEMENT = 8;

/** The XNNPACK route's overhead in naive-loop MACs: calls, moved (transposed) elements, packed elements. */
function xnnOverhead(backend: object, calls: number, transposed: number, packed: number): number {
  const perElement = simdFor(backend) ? SIMD_TRANSPOSE_MACS_PER_ELEMENT : TRANSPOSE_MACS_PER_ELEMENT;
  return calls * CALL_OVERHEAD_MACS + perElement * transposed + PACK_MACS_PER_ELEMENT * packed;
}

// Marks our kernelFuncs so a second registration (even from a duplicated copy
// of this module) never wraps a wrapper.
const MARK = Symbol.for('tfjs-mtl.wasm-training-kernel');
let registered = false;

function isOurs(config: tf.KernelConfig | undefined): boolean {
  return config !== undefined && MARK in config.kernelFunc;
}

function mark(fn: KernelFunc): KernelFunc {
  Object.defineProperty(fn, MARK, { value: true });
  return fn;
}

function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function dim(shape: readonly number[], i: number): number {
  const d = shape[i < 0 ? shape.length + i : i];
  if (d === undefined) throw new Error(`wasm-kernels: shape [${shape.join(',')}] has no dim ${i}`);
  return d;
}

// ---------------------------------------------------------------- matMul ---

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/**
 * Shared by BatchMatMul and _FusedMatMul: every call to `orig` we make has
 * untransposed, batch-1 operands, which is what routes it to XNNPACK.
 */
function makeMatMul(orig: KernelFunc, fused: boolean): KernelFunc {
  return mark((args: KernelArgs) => {
    const inputs = args.inputs;
    const attrs = (args.attrs ?? {}) as tf.NamedAttrMap & MatMulAttrs;
    const { a, b } = inputs;
    if (a === undefined || b === undefined || a.dtype !== 'float32' || b.dtype !== 'float32')
      return orig(args);
    if (a.shape.length < 2 || b.shape.length < 2) return orig(args);
    const ta = attrs.transposeA;
    const tb = attrs.transposeB;
    const M = dim(a.shape, ta ? -1 : -2);
    const K = dim(a.shape, ta ? -2 : -1);
    const N = dim(b.shape, tb ? -2 : -1);
    if (K !== dim(b.shape, tb ? -1 : -2)) return orig(args); // let it throw its own message
    const aOuter = a.shape.slice(0, -2);
    const bOuter = b.shape.slice(0, -2);
    const batchA = size(aOuter);
    const batchB = size(bOuter);
    const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(aOuter, bOuter), M, N];
    const work = M * K * N;
    if (work === 0) return orig(args);
    // Multi-axis broadcasting ([2,1,..] × [1,3,..]): keep tfjs's own semantics.
    if (batchA > 1 && batchB > 1 && batchA !== batchB) return orig(args);

    if (fused) {
      const { bias, preluActivationWeights: prelu } = inputs;
      // XNNPACK reads exactly N bias values.
      if (bias !== undefined && (bias.shape.length !== 1 || dim(bias.shape, 0) !== N)) return orig(args);
      // PReLU runs on the flat output with period = weights size; every
      // per-batch piece must be a whole number of periods.
      if (prelu !== undefined && (M * N) % Math.max(1, size(prelu.shape)) !== 0) return orig(args);
    }
    const batch = Math.max(batchA, batchB);
    // one small dimension (the scene heads' 1×1 convolutions and their gradients): our loops, no pool
    const route = batch === 1 ? smallMatMulRoute(M, K, N) : undefined;
    const simd = route === undefined ? undefined : simdFor(args.backend);
    const activation = fused ? (attrs.activation as string | undefined) : undefined;
    if (
      simd !== undefined &&
      (activation === undefined || activation === 'linear') &&
      inputs.preluActivationWeights === undefined &&
      (inputs.bias === undefined || route === 'nt')
    ) {
      return withKernelScope(BACKEND, args.backend, (s) => {
        const a2 = s.reshape(a, ta ? [K, M] : [M, K]);
        const b2 = s.reshape(b, tb ? [N, K] : [K, N]);
        return s.reshape(smallMatMul(s, simd, a2, b2, ta, tb, fused ? inputs.bias : undefined), outShape);
      });
    }
    const tA = ta ? batchA * M * K : 0;
    const tB = tb ? batchB * K * N : 0;
    // For fused ops wasm's fallback loop is wrong: it adds bias[min(i·N+j, N−1)]
    // (bias[N−1] on every row after the first) and applies bias and relu/relu6
    // once per 48-wide block of K. Only XNNPACK is right, whatever it costs.
    const worth = (calls: number, transposed: number, packed: number): boolean =>
      fused || batch * work >= xnnOverhead(args.backend, calls, transposed, packed);

    const callOrig = (s: Scope, a3: TensorInfo, b3: TensorInfo): TensorInfo =>
      s.call(orig, { ...inputs, a: a3, b: b3 }, { ...attrs, transposeA: false, transposeB: false });
    // [n, rows, cols] view of an operand in the untransposed layout.
    const plainA = (s: Scope, n: number): TensorInfo =>
      ta ? s.transpose(s.reshape(a, [n, K, M]), [0, 2, 1]) : s.reshape(a, [n, M, K]);
    const plainB = (s: Scope, n: number): TensorInfo =>
      tb ? s.transpose(s.reshape(b, [n, N, K]), [0, 2, 1]) : s.reshape(b, [n, K, N]);

    if (batch === 1) {
      // Untransposed batch-1 operands already take XNNPACK.
      if (!ta && !tb) return orig(args);
      // (A·B)ᵀ = Bᵀ·Aᵀ may cost less: it moves other elements (fewer for x·Wᵀ
      // with a big W and few rows of x) and XNNPACK packs Aᵀ (K×M) instead of B
      // (K×N). Not for fused ops: bias/activation apply along N.
      const direct = xnnOverhead(args.backend, 1, tA + tB, K * N);
      const swapped = fused
        ? Infinity
        : xnnOverhead(args.backend, 1, (tb ? 0 : K * N) + (ta ? 0 : M * K) + M * N, K * M);
      if (!fused && work < Math.min(direct, swapped)) return orig(args);
      return withKernelScope(BACKEND, args.backend, (s) => {
        if (swapped < direct) {
          const bT = tb ? s.reshape(b, [1, N, K]) : s.transpose(s.reshape(b, [1, K, N]), [0, 2, 1]);
          const aT = ta ? s.reshape(a, [1, K, M]) : s.transpose(s.reshape(a, [1, M, K]), [0, 2, 1]);
          return s.reshape(s.transpose(callOrig(s, bT, aT), [0, 2, 1]), outShape);
        }
        return s.reshape(callOrig(s, plainA(s, 1), plainB(s, 1)), outShape);
      });
    }

    if (batchB === 1) {
      if (!worth(1, tA + tB, K * N)) return orig(args);
      // A shared right operand: fold A's batch into its rows, one XNNPACK call.
      return withKernelScope(BACKEND, args.backend, (s) => {
        const a3 = s.reshape(plainA(s, batchA), [1, batchA * M, K]);
        return s.reshape(callOrig(s, a3, plainB(s, 1)), outShape);
      });
    }

    // The output is transposed here, which a fused bias would not survive.
    if (batchA === 1 && !fused) {
      if (!worth(1, tA + batchB * K * N + batchB * M * N, batchB * K * N)) return orig(args);
      // A shared left operand: lay B's batches side by side along N, so that
      // A·[B0 B1 ...] = [A·B0 A·B1 ...] is a single XNNPACK call.
      return withKernelScope(BACKEND, args.backend, (s) => {
        const bWide = tb
          ? s.transpose(s.reshape(b, [batchB, N, K]), [2, 0, 1])
          : s.transpose(s.reshape(b, [batchB, K, N]), [1, 0, 2]);
        const o = callOrig(s, plainA(s, 1), s.reshape(bWide, [1, K, batchB * N]));
        return s.reshape(s.transpose(s.reshape(o, [M, batchB, N]), [1, 0, 2]), outShape);
      });
    }

    if (!worth(batch, tA + tB, batch * K * N)) return orig(args);
    // Independent batches: one XNNPACK call per matrix.
    return withKernelScope(BACKEND, args.backend, (s) => {
      const a3 = plainA(s, batchA);
      const b3 = plainB(s, batchB);
      const pieces: TensorInfo[] = [];
      for (let i = 0; i < batch; i++) {
        const ai = batchA === 1 ? a3 : s.take(a3, i);
        const bi = batchB === 1 ? b3 : s.take(b3, i);
        pieces.push(callOrig(s, ai, bi));
      }
      return s.reshape(s.run('Concat', pieces, { axis: 0 }), outShape);
    });
  });
}

// ------------------------------------------------------------ conv2d grads ---

interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

interface Conv2DBackpropInputAttrs extends Omit<Conv2DBackpropFilterAttrs, 'filterShape'> {
  inputShape: [number, number, number, number];
}

type Shape4D = [number, number, number, number];

function requireNHWC(kernelName: string, dataFormat: string): void {
  if (dataFormat !== 'NHWC') {
    throw new Error(`${kernelName} on wasm (tfjs-mtl) supports only dataFormat 'NHWC', got '${dataFormat}'`);
  }
}

function conv2d(
  s: Scope,
  x: TensorInfo,
  filter: TensorInfo,
  pad: number[][],
  dilations: [number, number],
): TensorInfo {
  return s.run('Conv2D', { x, filter }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations });
}

/**
 * dW[r,c,ci,co] = Σ_{n,i,j} x[n, i·s+r−top, j·s+c−left, ci] · dy[n,i,j,co], i.e. a
 * stride-1 convolution with dilation s of xᵀ ([Cin,H,W,N]: batch=Cin,
 * channels=N) with dyᵀ ([Ho,Wo,N,Cout]) as the filter.
 */
const conv2DBackpropFilter: KernelFunc = mark((args: KernelArgs) => {
  const { x, dy } = args.inputs;
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  if (x === undefined || dy === undefined) throw new Error('Conv2DBackpropFilter: missing x or dy');
  requireNHWC('Conv2DBackpropFilter', attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4D,
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const [N, , , Cin] = x.shape as Shape4D;
  // Trailing padding that makes the dilated correlation produce exactly kh×kw.
  const bottom = kh + (Ho - 1) * sh - H - top;
  const right = kw + (Wo - 1) * sw - W - left;
  return withKernelScope(BACKEND, args.backend, (s) => {
    let xT = s.transpose(x, [3, 1, 2, 0]);
    if (bottom < 0 || right < 0) {
      // Rows/cols the forward conv never read: drop them instead.
      xT = s.slice(xT, [0, 0, 0, 0], [Cin, H + Math.min(bottom, 0), W + Math.min(right, 0), N]);
    }
    const dyT = s.transpose(dy, [1, 2, 0, 3]);
    const pad = [
      [0, 0],
      [top, Math.max(bottom, 0)],
      [left, Math.max(right, 0)],
      [0, 0],
    ];
    return s.transpose(conv2d(s, xT, dyT, pad, [sh, sw]), [1, 2, 0, 3]);
  });
});

/**
 * dx = stride-1 correlation of the zero-inserted dy with the spatially flipped,
 * in/out-swapped filter; padding kh−1−top in front.
 */
function makeConv2DBackpropInput(orig: KernelFunc): KernelFunc {
  return mark((args: KernelArgs) => {
    const { dy, filter } = args.inputs;
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    if (dy === undefined || filter === undefined || attrs.dataFormat !== 'NHWC') return orig(args);
    if (dy.dtype !== 'float32' || filter.dtype !== 'float32') return orig(args);
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as Shape4D,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    const { inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw } = info;
    const { strideHeight: sh, strideWidth: sw, outChannels: Cout, batchSize: N } = info;
    if (Ho === 0 || Wo === 0 || size(attrs.inputShape) === 0) return orig(args);
    const simd = simdFor(args.backend);
    if ((sh > 1 || sw > 1) && simd !== undefined) {
      // by phases, without the zeros (simd/conv-input-grad.ts)
      return withKernelScope(BACKEND, args.backend, (s) =>
        stridedConvInputGradient(s, simd, dy, filter, info),
      );
    }
    // Data extent after zero insertion, including the s−1 zeros that trail the last row/col.
    const rows = Ho * sh;
    const cols = Wo * sw;
    // Padding of the zero-inserted dy (negative = crop).
    const padTop = kh - 1 - info.padInfo.top;
    const padLeft = kw - 1 - info.padInfo.left;
    const padBottom = H + kh - 1 - padTop - rows;
    const padRight = W + kw - 1 - padLeft - cols;
    return withKernelScope(BACKEND, args.backend, (s) => {
      let z = dy;
      if (sh > 1 || sw > 1) {
        const spread = s.run(
          'PadV2',
          { x: s.reshape(dy, [N * Ho, 1, Wo, 1, Cout]) },
          {
            paddings: [
              [0, 0],
              [0, sh - 1],
              [0, 0],
              [0, sw - 1],
              [0, 0],
            ],
            constantValue: 0,
          },
        );
        z = s.reshape(spread, [N, rows, cols, Cout]);
      }
      if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) {
        const t0 = Math.max(0, -padTop);
        const l0 = Math.max(0, -padLeft);
        z = s.slice(
          z,
          [0, t0, l0, 0],
          [N, rows - t0 - Math.max(0, -padBottom), cols - l0 - Math.max(0, -padRight), Cout],
        );
      }
      const w = s.transpose(s.run('Reverse', { x: filter }, { dims: [0, 1] }), [0, 1, 3, 2]);
      const pad = [
        [0, 0],
        [Math.max(padTop, 0), Math.max(padBottom, 0)],
        [Math.max(padLeft, 0), Math.max(padRight, 0)],
        [0, 0],
      ];
      return conv2d(s, z, w, pad, [1, 1]);
    });
  });
}

// ------------------------------------------------------------ sum / mean ---

// Below this many elements a JS loop beats both XNNPACK's operator set-up and wasm's transpose + sum.
const REDUCE_MIN_ELEMENTS = 2048;
// XNNPACK's multipass average pooling keeps a per-channel buffer on wasm's small stack: with 16384
// channels it wrote out of bounds (8192 still worked). Wider reductions take the plain kernel.
const REDUCE_MAX_CHANNELS = 4096;

/**
 * `Sum` / `Mean` over one run of neighbouring axes — leading ones (batch norm's statistics and its
 * gradient, bias gradients, full reductions) or middle ones (global average pooling and its broadcast
 * add's gradient, [B, H, W, C] over H, W) — as one XNNPACK average pooling of x viewed as [B, M, 1, C]
 * with an M×1 window (Sum: times M, on the results). wasm's own kernels transpose the reduced axes to
 * the end first: for [8,16,32,32] over (0, 1, 2) ~0.35–0.7 ms (Sum) and ~0.5 ms (Mean) against ~0.1 ms;
 * [8,16,32,64] over (1, 2) ~0.7 ms.
 */
function makeRunReduce(orig: KernelFunc, mean: boolean): KernelFunc {
  return mark((args: KernelArgs) => {
    const x = args.inputs['x']!;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    if (x.dtype !== 'float32') return orig(args);
    const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((a, b) => a - b);
    if (axes.length === 0 || !axes.every((a, i) => a === axes[0]! + i)) return orig(args);
    const backend = args.backend as Partial<HeapBackend>;
    if (typeof backend.typedArrayFromHeap !== 'function') return orig(args);
    const first = axes[0]!;
    const end = first + axes.length;
    const B = size(x.shape.slice(0, first));
    const M = size(x.shape.slice(first, end));
    const C = size(x.shape.slice(end));
    const outShape = keepDims
      ? x.shape.map((d, i) => (i >= first && i < end ? 1 : d))
      : x.shape.filter((_, i) => i < first || i >= end);
    if (size(x.shape) < REDUCE_MIN_ELEMENTS) {
      // a bias gradient of a small layer: a loop beats the transpose wasm's kernel starts with
      return withKernelScope(BACKEND, args.backend, (s) =>
        s.make(outShape, (out) => {
          const xv = s.values(x);
          for (let b = 0; b < B; b++)
            for (let m = 0; m < M; m++)
              for (let c = 0; c < C; c++) out[b * C + c] = out[b * C + c]! + xv[(b * M + m) * C + c]!;
          if (mean) for (let i = 0; i < B * C; i++) out[i] = out[i]! / M;
        }),
      );
    }
    if (C > REDUCE_MAX_CHANNELS) return orig(args);
    return withKernelScope(BACKEND, args.backend, (s) => {
      const pooled = s.run(
        'AvgPool',
        { x: s.reshape(x, [B, M, 1, C]) },
        { filterSize: [M, 1], strides: [1, 1], pad: 'valid' },
      );
      if (!mean) {
        const values = backend.typedArrayFromHeap!(pooled);
        for (let c = 0; c < values.length; c++) values[c] = values[c]! * M;
      }
      return s.reshape(pooled, outShape);
    });
  });
}

// ----------------------------------------------------------------- reverse ---

/**
 * `Reverse` as block copies on the heap: wasm's kernel took ~4.5 ms to flip a 3×3×64×32 filter (every
 * conv input gradient flips one). The trailing axes after the last reversed one are copied as
 * contiguous blocks.
 */
function makeReverse(orig: KernelFunc): KernelFunc {
  return mark((args: KernelArgs) => {
    const x = args.inputs['x']!;
    const backend = args.backend as Partial<HeapBackend>;
    if (x.dtype === 'string' || typeof backend.makeOutput !== 'function') return orig(args);
    const shape = x.shape;
    const rank = shape.length;
    const dims = tf.util.parseAxisParam((args.attrs as { dims: number | number[] }).dims, shape);
    const reversed = new Array<boolean>(rank).fill(false);
    // Toggle: a repeated axis flips back, as in the cpu kernel and wasm's own.
    for (const d of dims) if (shape[d]! > 1) reversed[d] = !reversed[d];
    const last = reversed.lastIndexOf(true);
    if (last < 0) return orig(args);
    const block = size(shape.slice(last + 1));
    const outer = shape.slice(0, last + 1);
    const out = backend.makeOutput([...shape], x.dtype);
    // Views after makeOutput: a heap growth would detach earlier ones.
    const src = backend.typedArrayFromHeap!(x);
    const dst = backend.typedArrayFromHeap!(out);
    const strides = new Array<number>(outer.length);
    let stride = block;
    for (let d = outer.length - 1; d >= 0; d--) {
      strides[d] = stride;
      stride *= outer[d]!;
    }
    const idx = new Array<number>(outer.length).fill(0);
    const blocks = size(outer);
    for (let b = 0; b < blocks; b++) {
      let from = 0;
      for (let d = 0; d < outer.length; d++) {
        from += (reversed[d] ? outer[d]! - 1 - idx[d]! : idx[d]!) * strides[d]!;
      }
      const to = b * block;
      if (block === 1) dst[to] = src[from]!;
      else dst.set(src.subarray(from, from + block), to);
      for (let d = outer.length - 1; d >= 0; d--) {
        if (++idx[d]! < outer[d]!) break;
        idx[d] = 0;
      }
    }
    return out;
  });
}

// ------------------------------------------------------------ registration ---

interface RefCountingBackend {
  incRef(dataId: object): void;
}

/**
 * `Identity` sharing its input's buffer, as the cpu backend's does: tensors are immutable, and the
 * engine clones every input it saves for a gradient — on wasm each clone was a copy.
 */
function makeSharingIdentity(orig: KernelFunc): KernelFunc {
  return mark((args: KernelArgs) => {
    const x = args.inputs['x']!;
    if (x.dtype === 'string') return orig(args);
    (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  });
}

function replace(kernelName: string, wrap: (orig: KernelFunc) => KernelFunc): void {
  const original: tf.KernelConfig | undefined = tf.getKernel(kernelName, BACKEND);
  if (original === undefined || isOurs(original)) return;
  tf.unregisterKernel(kernelName, BACKEND);
  // Keep setupFunc: the original kernelFunc needs its cwrap'd C++ entry point.
  tf.registerKernel({ ...original, kernelFunc: wrap(original.kernelFunc) });
}

/**
 * Installs the training kernels for the 'wasm' backend. Idempotent; works
 * before or after `tf.setBackend('wasm')`; a no-op when
 * @tensorflow/tfjs-backend-wasm has not been imported.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  // Importing the wasm package registers its kernels; without it there is
  // nothing to patch (and a later call may still succeed).
  if (tf.getKernel('BatchMatMul', BACKEND) === undefined) return;

  replace('BatchMatMul', (orig) => makeMatMul(orig, false));
  replace('_FusedMatMul', (orig) => makeMatMul(orig, true));
  replace('Conv2DBackpropInput', makeConv2DBackpropInput);
  replace('Identity', makeSharingIdentity);
  replace('Reverse', makeReverse);
  replace('Sum', (orig) => makeRunReduce(orig, false));
  replace('Mean', (orig) => makeRunReduce(orig, true));
  replace('Transpose', (orig) => mark(makeSimdTranspose(orig)));
  replace('Exp', (orig) => mark(makeSimdExp(orig)));
  replace('ResizeBilinear', (orig) => mark(makeSimdResizeBilinear(orig)));
  replace('ResizeBilinearGrad', (orig) => mark(makeSimdResizeBilinearGrad(orig)));
  replace('Concat', (orig) => mark(makeSimdConcat(orig)));
  replace('Slice', (orig) => mark(makeSimdSlice(orig)));
  replace('SplitV', (orig) => mark(makeSimdSplitV(orig)));
  replace('Tile', (orig) => mark(makeSimdTile(orig)));
  const filterGrad: tf.KernelConfig | undefined = tf.getKernel('Conv2DBackpropFilter', BACKEND);
  if (filterGrad === undefined) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: BACKEND,
      kernelFunc: mark(makeSimdConv2DBackpropFilter(conv2DBackpropFilter)),
    });
  }
  registered = true;
}
