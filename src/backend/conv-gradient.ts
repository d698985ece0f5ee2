/**
 * A `Conv2D` gradient that also handles dilated (atrous) convolutions, and computes 1×1 convolutions'
 * gradients as matrix products.
 *
 * tfjs-core 4.22's Conv2D gradient asserts that every dilation is 1 ("dilation rates greater than 1 are
 * not yet supported in gradients"), so an ASPP block cannot be trained. With stride 1 and dilation d
 * (TF.js allows no stride > 1 together with dilation > 1) both gradients are again convolutions:
 *
 *  - dx: correlation of dy, padded by (ke − 1 − top) in front, with the spatially flipped, in/out-swapped
 *    filter at the same dilation (ke = (k − 1)·d + 1, the dilated extent);
 *  - dW[r,c,ci,co] = Σ_{n,i,j} x[n, i + r·d − top, j + c·d − left, ci] · dy[n,i,j,co]: a convolution of
 *    xᵀ ([Cin,H,W,N]) with dyᵀ ([Ho,Wo,N,Cout]) as the filter at stride d, transposed back.
 *
 * A 1×1 stride-1 convolution is a matrix product over the N·H·W positions: dx = dy·Wᵀ, dW = xᵀ·dy. The
 * backprop kernels would run the filter gradient as a conv with an H×W×N "filter" and a 1×1 output, which
 * XNNPACK does at a fraction of its matmul speed.
 *
 * Other convolutions keep the original gradient (and with it the Conv2DBackprop* kernels). Both inputs'
 * gradients stay lazy, so an input nothing needs (the image) costs nothing. Built from public ops only,
 * so it runs on every backend. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { simdConvFilterGradient } from './simd/conv-filter-grad.js';

const MARK = Symbol.for('tfjs-mtl.conv-gradient');

interface Conv2DAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

function dilatedInfo(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  pad: Conv2DAttrs['pad'],
  dilations: [number, number],
  dimRoundingMode?: Conv2DAttrs['dimRoundingMode'],
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    x.shape,
    filter.shape,
    1,
    dilations,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** ∂/∂x of a stride-1 dilated conv2d (NHWC): dy padded, correlated with the flipped filter. */
export function dilatedConv2dInputGradient(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  dy: tf.Tensor4D,
  pad: Conv2DAttrs['pad'],
  dilations: [number, number],
  dimRoundingMode?: Conv2DAttrs['dimRoundingMode'],
): tf.Tensor4D {
  const info = dilatedInfo(x, filter, pad, dilations, dimRoundingMode);
  const { inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo } = info;
  const { effectiveFilterHeight: eh, effectiveFilterWidth: ew } = info;
  const { top, left } = info.padInfo;
  return tf.tidy(() => {
    const fTop = eh - 1 - top;
    const fLeft = ew - 1 - left;
    const fBottom = H + eh - 1 - fTop - Ho;
    const fRight = W + ew - 1 - fLeft - Wo;
    let dyPadded: tf.Tensor4D = dy;
    if (fTop < 0 || fLeft < 0 || fBottom < 0 || fRight < 0) {
      const t0 = Math.max(0, -fTop);
      const l0 = Math.max(0, -fLeft);
      dyPadded = tf.slice(
        dy,
        [0, t0, l0, 0],
        [-1, Ho - t0 - Math.max(0, -fBottom), Wo - l0 - Math.max(0, -fRight), -1],
      );
    }
    const flipped = tf.transpose<tf.Tensor4D>(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    const padding: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [Math.max(fTop, 0), Math.max(fBottom, 0)],
      [Math.max(fLeft, 0), Math.max(fRight, 0)],
      [0, 0],
    ];
    return tf.conv2d(dyPadded, flipped, 1, padding, 'NHWC', dilations);
  });
}

/** ∂/∂filter of a stride-1 dilated conv2d (NHWC): xᵀ correlated with dyᵀ at stride d, transposed back. */
export function dilatedConv2dFilterGradient(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  dy: tf.Tensor4D,
  pad: Conv2DAttrs['pad'],
  dilations: [number, number],
  dimRoundingMode?: Conv2DAttrs['dimRoundingMode'],
): tf.Tensor4D {
  // on wasm: one GEMM over patches (simd/conv-filter-grad.ts)
  const direct = simdConvFilterGradient(x, dy, {
    strides: 1,
    pad,
    dilations,
    ...(dimRoundingMode !== undefined ? { dimRoundingMode } : {}),
    filterShape: filter.shape,
  });
  if (direct !== undefined) return direct;
  const info = dilatedInfo(x, filter, pad, dilations, dimRoundingMode);
  const { inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  const [dh, dw] = dilations;
  return tf.tidy(() => {
    // Trailing padding that makes the output exactly kh×kw. At stride 1 it is the forward pass's own
    // bottom/right padding (Ho = H + top + bottom − (kh − 1)·d), so never negative.
    const bottom = (kh - 1) * dh + Ho - H - top;
    const right = (kw - 1) * dw + Wo - W - left;
    const xT = tf.transpose<tf.Tensor4D>(x, [3, 1, 2, 0]);
    const dyT = tf.transpose<tf.Tensor4D>(dy, [1, 2, 0, 3]);
    const padding: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    return tf.transpose(tf.conv2d(xT, dyT, [dh, dw], padding, 'NHWC', 1), [1, 2, 0, 3]);
  });
}

/**
 * Replaces the `Conv2D` gradient with one that supports dilations and runs 1×1 convolutions as matrix
 * products (other convolutions use the original). Idempotent.
 */
export function registerConvGradient(): void {
  const original = tf.getGradient('Conv2D');
  if (original === undefined || MARK in original) return;
  const config: tf.GradConfig = {
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const a = attrs as unknown as Conv2DAttrs;
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const dilations = pair(a.dilations);
      const strides = pair(a.strides);
      const unitStride = strides[0] === 1 && strides[1] === 1;
      const undilated = dilations[0] === 1 && dilations[1] === 1;
      if (a.dataFormat !== 'NHWC') {
        if (undilated) return original.gradFunc(dy, saved, attrs);
        throw new Error(`conv2d gradient: dilated convolutions support only dataFormat 'NHWC'`);
      }
      const [kh, kw, cin, cout] = filter.shape;
      if (kh === 1 && kw === 1 && unitStride && (a.pad === 'same' || a.pad === 'valid' || a.pad === 0)) {
        const d2 = (): tf.Tensor2D => tf.reshape(dy as tf.Tensor, [-1, cout]);
        return {
          x: () => tf.reshape(tf.matMul(d2(), tf.reshape(filter, [cin, cout]), false, true), x.shape),
          filter: () => tf.reshape(tf.matMul(tf.reshape(x, [-1, cin]), d2(), true, false), filter.shape),
        };
      }
      if (undilated) return original.gradFunc(dy, saved, attrs);
      if (!unitStride) {
        throw new Error(
          `conv2d gradient: strides ${strides.join(',')} with dilations ${dilations.join(',')} are not supported`,
        );
      }
      const args = [x, filter, dy as tf.Tensor4D, a.pad, dilations, a.dimRoundingMode] as const;
      return {
        x: () => dilatedConv2dInputGradient(...args),
        filter: () => dilatedConv2dFilterGradient(...args),
      };
    },
  };
  Object.defineProperty(config, MARK, { value: true });
  tf.registerGradient(config);
}
