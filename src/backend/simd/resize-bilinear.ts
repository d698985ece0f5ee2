/**
 * `ResizeBilinear` and `ResizeBilinearGrad` on wasm, separably, through the SIMD module's lerp_cols and
 * lerp_rows (and their adjoints): the column pass on the input's rows, then the row pass with whole rows
 * of W·C values as vectors — any channel count, where a pixel-by-pixel loop cannot vectorise the scene
 * heads' 7, 2 and 1 channels. The same sampling as the cpu backend (alignCorners, halfPixelCenters;
 * the gradient, like the cpu's, reads alignCorners only), tested against it. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { withKernelScope, type KernelScope } from '../kernel-scope.js';
import { simdFor, type Simd } from './simd.js';

/** Per output index: the two source indices and the weight of the second. */
interface Table {
  lo: Int32Array;
  hi: Int32Array;
  w: Float32Array;
}

function table(n: number, at: (i: number) => { lo: number; hi: number; w: number }): Table {
  const t = { lo: new Int32Array(n), hi: new Int32Array(n), w: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const { lo, hi, w } = at(i);
    t.lo[i] = lo;
    t.hi[i] = hi;
    t.w[i] = w;
  }
  return t;
}

/** The forward pass's sampling along one axis (tfjs-backend-cpu's ResizeBilinear). */
function forwardTable(inSize: number, outSize: number, alignCorners: boolean, halfPixel: boolean): Table {
  const corners = alignCorners && outSize > 1;
  const ratio = (corners ? inSize - 1 : inSize) / (corners ? outSize - 1 : outSize);
  return table(outSize, (i) => {
    const frac = halfPixel ? ratio * (i + 0.5) - 0.5 : ratio * i;
    const lo = Math.max(0, Math.floor(frac));
    return { lo, hi: Math.min(inSize - 1, Math.ceil(frac)), w: frac - lo };
  });
}

/** The gradient's sampling along one axis (tfjs-backend-cpu's ResizeBilinearGrad). */
function gradTable(inSize: number, outSize: number, alignCorners: boolean): Table {
  const corners = alignCorners && outSize > 1;
  const scale = (corners ? inSize - 1 : inSize) / (corners ? outSize - 1 : outSize);
  return table(outSize, (i) => {
    const frac = i * scale;
    const lo = Math.floor(frac);
    return { lo, hi: Math.min(Math.ceil(frac), inSize - 1), w: frac - lo };
  });
}

type Shape4 = [number, number, number, number];

/**
 * The row and column tables as one tensor in the backend's memory; returns their byte offsets: [lo, hi,
 * w] for rows, then for columns. (Written at once: later mallocs may detach JS views, not the data.)
 */
function writeTables(s: KernelScope, simd: Simd, rows: Table, cols: Table): number[] {
  const R = rows.lo.length;
  const C = cols.lo.length;
  const base = simd.offset(s.alloc([3 * (R + C)]));
  const buffer = simd.memory.buffer;
  const at = [0, R, 2 * R, 3 * R, 3 * R + C, 3 * R + 2 * C].map((k) => base + 4 * k);
  new Int32Array(buffer, at[0], R).set(rows.lo);
  new Int32Array(buffer, at[1], R).set(rows.hi);
  new Float32Array(buffer, at[2], R).set(rows.w);
  new Int32Array(buffer, at[3], C).set(cols.lo);
  new Int32Array(buffer, at[4], C).set(cols.hi);
  new Float32Array(buffer, at[5], C).set(cols.w);
  return at;
}

/** Wraps wasm's `ResizeBilinear` (see the module doc). */
export function makeSimdResizeBilinear(orig: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['images'];
    const attrs = args.attrs as { alignCorners: boolean; halfPixelCenters: boolean; size: [number, number] };
    const simd = simdFor(args.backend);
    if (x === undefined || simd === undefined || x.dtype !== 'float32' || x.shape.length !== 4)
      return orig(args);
    const [B, H, W, C] = x.shape as Shape4;
    const [newH, newW] = attrs.size;
    if (B * H * W * C === 0 || newH * newW === 0) return orig(args);
    return withKernelScope('wasm', args.backend, (s) => {
      const [loR, hiR, wR, loC, hiC, wC] = writeTables(
        s,
        simd,
        forwardTable(H, newH, attrs.alignCorners, attrs.halfPixelCenters),
        forwardTable(W, newW, attrs.alignCorners, attrs.halfPixelCenters),
      );
      const tmp = s.alloc([B, H, newW, C]);
      const out = s.alloc([B, newH, newW, C]);
      simd.kernels.lerp_cols(simd.offset(x), simd.offset(tmp), B * H, W, C, newW, loC!, hiC!, wC!, 0);
      simd.kernels.lerp_rows(simd.offset(tmp), simd.offset(out), B, H, newW * C, newH, loR!, hiR!, wR!);
      return out;
    });
  };
}

/** Wraps wasm's `ResizeBilinearGrad` (see the module doc). */
export function makeSimdResizeBilinearGrad(orig: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { images, dy } = args.inputs;
    const { alignCorners } = args.attrs as { alignCorners: boolean };
    const simd = simdFor(args.backend);
    if (images === undefined || dy === undefined || simd === undefined || dy.dtype !== 'float32')
      return orig(args);
    if (images.shape.length !== 4 || dy.shape.length !== 4) return orig(args);
    const [B, xH, xW, C] = images.shape as Shape4;
    const [, yH, yW] = dy.shape as Shape4;
    if (B * xH * xW * C === 0 || yH * yW === 0) return orig(args);
    return withKernelScope('wasm', args.backend, (s) => {
      const [loR, hiR, wR, loC, hiC, wC] = writeTables(
        s,
        simd,
        gradTable(xH, yH, alignCorners),
        gradTable(xW, yW, alignCorners),
      );
      const tmp = s.alloc([B, xH, yW, C]);
      const dx = s.alloc([B, xH, xW, C]);
      simd.kernels.zero(simd.offset(tmp), 4 * B * xH * yW * C);
      simd.kernels.zero(simd.offset(dx), 4 * B * xH * xW * C);
      simd.kernels.lerp_rows_adjoint(simd.offset(dy), simd.offset(tmp), B, xH, yW * C, yH, loR!, hiR!, wR!);
      simd.kernels.lerp_cols(simd.offset(tmp), simd.offset(dx), B * xH, xW, C, yW, loC!, hiC!, wC!, 1);
      return dx;
    });
  };
}
