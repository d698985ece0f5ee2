import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerCpuFixes } from './cpu-fixes.js';

describe('registerCpuFixes: ResizeBilinearGrad on cpu', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    registerCpuFixes();
    registerCpuFixes(); // idempotent
  });

  it('gives a non-square image the gradient of its own shape, equal to finite differences', () => {
    const [h, w, c] = [3, 5, 2];
    const x = tf.randomUniform([1, h, w, c], 0, 1, 'float32', 1);
    const weights = tf.randomUniform([1, 2 * h, 2 * w, c], -1, 1, 'float32', 2);
    const f = (v: tf.Tensor) =>
      tf.sum(tf.mul(tf.image.resizeBilinear(v as tf.Tensor4D, [2 * h, 2 * w]), weights));
    const g = tf.grad(f)(x);
    expect(g.shape).toEqual([1, h, w, c]);
    // f is linear in x: a unit step along one coordinate gives that coordinate's derivative exactly
    const xs = x.arraySync() as number[][][][];
    const gs = g.arraySync() as number[][][][];
    const base = f(x).dataSync()[0]!;
    for (const [i, j, k] of [
      [0, 0, 0],
      [1, 4, 1],
      [2, 1, 0],
      [0, 3, 1],
    ] as const) {
      const bumped = xs.map((b) => b.map((r) => r.map((p) => [...p])));
      bumped[0]![i]![j]![k]! += 1;
      const d = f(tf.tensor4d(bumped)).dataSync()[0]! - base;
      expect(gs[0]![i]![j]![k]!).toBeCloseTo(d, 3);
    }
  });
});
