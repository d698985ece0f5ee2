import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSameAsCpu, randn } from '../../../test/backend-compare.js';
import { registerConvGradient } from '../conv-gradient.js';
import { registerWasmTrainingKernels } from '../wasm-kernels.js';
import { batchNormFusible } from './batch-norm-kernels.js';
import { activeSimd, setSimdKernelsEnabled } from './simd.js';

// With our SIMD kernels off, wasm runs the paths they replace (wasm's own kernels, the convolution form
// of the filter gradient, the op paths): those must stay right too.
beforeAll(async () => {
  registerWasmTrainingKernels();
  registerConvGradient();
  await tf.setBackend('wasm');
  setSimdKernelsEnabled(false);
});
afterAll(async () => {
  setSimdKernelsEnabled(true);
  await tf.setBackend('cpu');
});

describe('wasm without the SIMD kernels', () => {
  it('reports them unavailable and every fusible check says no', () => {
    expect(activeSimd()).toBeUndefined();
    const x = tf.zeros([4, 8]);
    expect(batchNormFusible(x)).toBe(false);
    x.dispose();
  });

  for (const [stride, dilation] of [
    [1, 1],
    [2, 1],
    [1, 2],
  ] as const) {
    it(`conv2d gradients (stride ${stride}, dilation ${dilation}), transpose and exp match cpu`, async () => {
      await expectSameAsCpu('fallback', () => {
        const x = randn([2, 7, 9, 5], 1);
        const w = randn([3, 3, 5, 4], 2);
        const grads = tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
          tf.sum(
            tf.square(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, stride, 'same', 'NHWC', dilation)),
          ),
        )([x, w]);
        return [...grads, tf.transpose(x, [3, 1, 2, 0]), tf.exp(x)];
      });
    });
  }
});
