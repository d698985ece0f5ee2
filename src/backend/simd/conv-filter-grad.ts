/**
 * A convolution's filter gradient on wasm as one matrix product over explicit patches:
 * dW[(r, c, ci), co] = Σ_p patch[(r, c, ci), p]·dy[p, co], p over the N·Ho·Wo output positions. The patches'
 * matrix (kh·kw·Cin × P) is gathered by our SIMD module's strided copy from x transposed and zero-padded
 * to [Cin, N, Hp, Wp], one copy per tap; XNNPACK then runs a plain GEMM with a K of P.
 *
 * tfjs-backend-wasm has no Conv2DBackpropFilter; the convolution it was expressed as before (xᵀ with dyᵀ
 * as the filter, wasm-kernels.ts) has the batch as its channels — 8 — and XNNPACK's igemm spends more on
 * its 512 taps' pointers than on the multiply-adds: 2–8× the forward convolution's time for the same
 * FLOPs (bench: 6.0 ms against 3.1 for 8×16×32×64 → 32). Here stride and dilation are any (the dilated
 * ASPP branches' gradients come here too, from conv-gradient.ts). Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { withKernelScope, type KernelScope } from '../kernel-scope.js';
import { copyStrided } from './transpose.js';
import { activeSimd, requireSimd, simdFor, type Simd } from './simd.js';

export const CONV_FILTER_GRAD_KERNEL = 'TfjsMtlConv2DFilterGrad';

type TensorInfo = tf.TensorInfo;
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/** The kernel's attributes (Conv2DBackpropFilter's, plus dilations). */
export interface ConvFilterGradAttrs {
  strides: number | [number, number];
  pad: Pad;
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** dW for x [N, H, W, Cin] and dy [N, Ho, Wo, Cout] (NHWC, float32), as [kh, kw, Cin, Cout]. */
export function convFilterGradient(
  s: KernelScope,
  simd: Simd,
  x: TensorInfo,
  dy: TensorInfo,
  attrs: ConvFilterGradAttrs,
): TensorInfo {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Cin, outChannels: Cout } = info;
  const { outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  if (dy.shape.join() !== [N, Ho, Wo, Cout].join())
    throw new Error(
      `${CONV_FILTER_GRAD_KERNEL}: dy [${dy.shape.join(', ')}] is not [${[N, Ho, Wo, Cout].join(', ')}]`,
    );
  // rows/cols any tap reads, from −top/−left: pad x by top/left in front and enough behind
  const Hp = Math.max(top + H, (Ho - 1) * sh + (kh - 1) * dh + 1);
  const Wp = Math.max(left + W, (Wo - 1) * sw + (kw - 1) * dw + 1);
  const P = N * Ho * Wo;
  // xᵀ zero-padded: [Cin, N, Hp, Wp]
  const padded = s.alloc([Cin, N, Hp, Wp]);
  simd.kernels.zero(simd.offset(padded), 4 * Cin * N * Hp * Wp);
  copyStrided(
    simd,
    simd.offset(x),
    simd.offset(padded) + 4 * (top * Wp + left),
    [Cin, N, H, W],
    [1, H * W * Cin, W * Cin, Cin],
    [N * Hp * Wp, Hp * Wp, Wp, 1],
  );
  // patchesᵀ [kh·kw·Cin, P]: row (r, c, ci) is the tap's window of channel ci
  const patches = s.alloc([kh * kw * Cin, P]);
  for (let r = 0; r < kh; r++) {
    for (let c = 0; c < kw; c++) {
      copyStrided(
        simd,
        simd.offset(padded) + 4 * (r * dh * Wp + c * dw),
        simd.offset(patches) + 4 * (r * kw + c) * Cin * P,
        [Cin, N, Ho, Wo],
        [N * Hp * Wp, Hp * Wp, sh * Wp, sw],
        [P, Ho * Wo, Wo, 1],
      );
    }
  }
  const product = s.run(
    'BatchMatMul',
    { a: s.reshape(patches, [1, kh * kw * Cin, P]), b: s.reshape(dy, [1, P, Cout]) },
    { transposeA: false, transposeB: false },
  );
  return s.reshape(product, [kh, kw, Cin, Cout]);
}

/** Whether the patches path applies: NHWC float32 operands. */
function applies(x: TensorInfo | undefined, dy: TensorInfo | undefined, dataFormat?: string): boolean {
  return (
    x !== undefined &&
    dy !== undefined &&
    x.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    (dataFormat === undefined || dataFormat === 'NHWC') &&
    tf.util.sizeFromShape(x.shape) > 0 &&
    tf.util.sizeFromShape(dy.shape) > 0
  );
}

const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs;
  if (!applies(x, dy)) throw new Error(`${CONV_FILTER_GRAD_KERNEL}: needs non-empty float32 x and dy`);
  const simd = requireSimd(CONV_FILTER_GRAD_KERNEL, backend);
  return withKernelScope('wasm', backend, (s) =>
    convFilterGradient(s, simd, x!, dy!, attrs as unknown as ConvFilterGradAttrs),
  );
};

let registered = false;

/**
 * The filter gradient of a stride/dilation conv (NHWC) through the patches path where it runs — wasm
 * with the SIMD kernels, float32 — else undefined (callers keep their own).
 */
export function simdConvFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  attrs: ConvFilterGradAttrs,
): tf.Tensor4D | undefined {
  if (activeSimd() === undefined || !applies(x, dy)) return undefined;
  if (!registered) {
    registered = true;
    tf.registerKernel({ kernelName: CONV_FILTER_GRAD_KERNEL, backendName: 'wasm', kernelFunc });
  }
  return tf
    .engine()
    .runKernel<tf.Tensor4D>(CONV_FILTER_GRAD_KERNEL, { x, dy }, attrs as unknown as tf.NamedAttrMap);
}

/**
 * wasm's Conv2DBackpropFilter through the patches path (NHWC float32 with the SIMD kernels), else
 * `fallback`.
 */
export function makeSimdConv2DBackpropFilter(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x, dy } = args.inputs;
    const attrs = args.attrs as unknown as Omit<ConvFilterGradAttrs, 'dilations'> & { dataFormat?: string };
    const simd = simdFor(args.backend);
    if (simd === undefined || !applies(x, dy, attrs.dataFormat)) return fallback(args);
    return withKernelScope('wasm', args.backend, (s) =>
      convFilterGradient(s, simd, x!, dy!, { ...attrs, dilations: 1 }),
    );
  };
}
