/**
 * The input gradient of a strided convolution on wasm by phases: for stride s, each of the s² interleaved
 * sub-grids of dx (rows ≡ py, cols ≡ px mod s) is a stride-1 correlation of dy with the taps of the filter
 * that reach it (a ⌈k/s⌉ × ⌈k/s⌉ sub-filter, flipped, in/out swapped), written into dx by our SIMD module's
 * strided copy. The usual form — a stride-1 convolution of dy with s−1 zeros inserted between its values —
 * multiplies s² times as many zeros as values (4× the work for the scene encoder's stride-2 layer: 4.2 ms
 * against ~1.2). Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelScope } from '../kernel-scope.js';
import type { Simd } from './simd.js';
import { copyStrided } from './transpose.js';

type TensorInfo = tf.TensorInfo;

/** One axis of a phase: the first tap, the tap count, dy's front padding (negative: crop) and the length. */
interface PhaseAxis {
  first: number;
  taps: number;
  padFront: number;
  length: number;
}

function phaseAxis(p: number, stride: number, k: number, padBefore: number, inLength: number): PhaseAxis {
  const first = (((p + padBefore) % stride) + stride) % stride;
  const taps = first < k ? Math.ceil((k - first) / stride) : 0;
  const e = (p + padBefore - first) / stride;
  return { first, taps, padFront: taps - 1 - e, length: Math.ceil((inLength - p) / stride) };
}

/**
 * dx [N, H, W, Cin] of a conv2d (NHWC, undilated, stride > 1) from dy [N, Ho, Wo, Cout] and its filter
 * [kh, kw, Cin, Cout], the geometry in `info`.
 */
export function stridedConvInputGradient(
  s: KernelScope,
  simd: Simd,
  dy: TensorInfo,
  filter: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Cin, outChannels: Cout } = info;
  const { outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const dx = s.alloc([N, H, W, Cin]);
  const dxAt = simd.offset(dx);
  for (let py = 0; py < Math.min(sh, H); py++) {
    for (let px = 0; px < Math.min(sw, W); px++) {
      const ay = phaseAxis(py, sh, kh, top, H);
      const ax = phaseAxis(px, sw, kw, left, W);
      // strides of dx's sub-grid, in elements
      const outStrides = [H * W * Cin, sh * W * Cin, sw * Cin, 1];
      const phaseAt = dxAt + 4 * (py * W + px) * Cin;
      if (ay.taps === 0 || ax.taps === 0) {
        // no tap reaches this sub-grid: zeros
        const zeros = s.make([1, 1, 1, 1], () => {});
        copyStrided(
          simd,
          simd.offset(zeros),
          phaseAt,
          [N, ay.length, ax.length, Cin],
          [0, 0, 0, 0],
          outStrides,
        );
        continue;
      }
      // the sub-filter [ty, tx, Cout, Cin]: taps first + (t−1−u)·s, flipped, in/out swapped
      const sub = s.alloc([ay.taps, ax.taps, Cout, Cin]);
      const at = (r: number, c: number) => (r * kw + c) * Cin * Cout;
      copyStrided(
        simd,
        simd.offset(filter) + 4 * at(ay.first + (ay.taps - 1) * sh, ax.first + (ax.taps - 1) * sw),
        simd.offset(sub),
        [ay.taps, ax.taps, Cout, Cin],
        [-sh * kw * Cin * Cout, -sw * Cin * Cout, 1, Cout],
        [ax.taps * Cout * Cin, Cout * Cin, Cin, 1],
      );
      // dy cropped where the front/back padding is negative
      const padBackY = ay.length + ay.taps - 1 - Ho - ay.padFront;
      const padBackX = ax.length + ax.taps - 1 - Wo - ax.padFront;
      let input = dy;
      const y0 = Math.max(0, -ay.padFront);
      const x0 = Math.max(0, -ax.padFront);
      const y1 = Ho - Math.max(0, -padBackY);
      const x1 = Wo - Math.max(0, -padBackX);
      if (y0 > 0 || x0 > 0 || y1 < Ho || x1 < Wo)
        input = s.slice(dy, [0, y0, x0, 0], [N, y1 - y0, x1 - x0, Cout]);
      const pad = [
        [0, 0],
        [Math.max(ay.padFront, 0), Math.max(padBackY, 0)],
        [Math.max(ax.padFront, 0), Math.max(padBackX, 0)],
        [0, 0],
      ];
      const phase = s.run(
        'Conv2D',
        { x: input, filter: sub },
        { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] },
      );
      // into dx's sub-grid
      copyStrided(
        simd,
        simd.offset(phase),
        phaseAt,
        [N, ay.length, ax.length, Cin],
        [ay.length * ax.length * Cin, ax.length * Cin, Cin, 1],
        outStrides,
      );
    }
  }
  return dx;
}
