import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, randn, runOn } from '../../../test/backend-compare.js';
import { registerWasmTrainingKernels } from '../wasm-kernels.js';
import { setSimdKernelsEnabled } from './simd.js';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

describe('ResizeBilinear and its gradient on wasm (SIMD, separable)', () => {
  const cases: [number[], [number, number], boolean, boolean][] = [
    [[8, 4, 8, 7], [16, 32], false, false], // the scene heads: ×4, 7 channels
    [[2, 4, 8, 2], [16, 32], false, false],
    [[2, 5, 3, 1], [20, 12], false, false],
    [[1, 6, 7, 3], [11, 5], false, false], // up in one axis, down in the other
    [[2, 5, 6, 4], [9, 13], true, false],
    [[2, 5, 6, 3], [9, 13], false, true],
    [[1, 1, 1, 5], [3, 4], true, false],
    [[3, 4, 4, 6], [4, 4], false, false], // same size
  ];
  for (const [shape, size, alignCorners, halfPixelCenters] of cases) {
    it(`x[${shape.join(',')}] → ${size.join('×')} alignCorners ${alignCorners} halfPixel ${halfPixelCenters}: as cpu forward, as wasm's own kernel backward`, async () => {
      const resize = (xx: tf.Tensor) =>
        tf.image.resizeBilinear(xx as tf.Tensor4D, size, alignCorners, halfPixelCenters);
      const run = () => {
        const x = randn(shape, 1);
        const r = randn([shape[0]!, ...size, shape[3]!], 2);
        return [resize(x), tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(resize(xx), r)))(x)];
      };
      const [y, g] = await runOn('wasm', run);
      // (the cpu backend's gradient swaps height and width in its output shape: the reference for it is
      // wasm's own kernel)
      const [yCpu] = await runOn('cpu', () => resize(randn(shape, 1)));
      setSimdKernelsEnabled(false);
      const [yOwn, gOwn] = await runOn('wasm', run);
      setSimdKernelsEnabled(true);
      expectClose('forward vs cpu', [y!], [yCpu!], 1e-5);
      expectClose('forward vs wasm', [y!], [yOwn!], 1e-5);
      expectClose('gradient vs wasm', [g!], [gOwn!], 1e-5);
    });
  }

  it('leaves no tensors behind', () => {
    const x = randn([2, 4, 8, 7], 3);
    const before = tf.memory().numTensors;
    const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.image.resizeBilinear(xx as tf.Tensor4D, [16, 32])))(x);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
