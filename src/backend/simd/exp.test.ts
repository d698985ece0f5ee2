import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../wasm-kernels.js';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

describe('Exp on wasm (SIMD)', () => {
  it('is within 2 ulp of Math.exp over float32’s range, at every length (the tail overlaps)', () => {
    const values: number[] = [];
    for (let v = -87; v <= 88.5; v += 0.0137) values.push(v);
    values.push(0, -0, 1e-8, -1e-8, 0.5, -0.5, 88.7, -87.3);
    const got = tf.exp(tf.tensor1d(values)).dataSync();
    for (let i = 0; i < values.length; i++) {
      const want = Math.exp(Math.fround(values[i]!));
      // 2 ulp of float32 at want
      expect(Math.abs(got[i]! - want), `exp(${values[i]})`).toBeLessThanOrEqual(2 * 2 ** -23 * want);
    }
    for (let n = 4; n <= 21; n++) {
      const xs = Array.from({ length: n }, (_, i) => i / 3 - 1);
      const y = tf.exp(tf.tensor1d(xs)).dataSync();
      xs.forEach((v, i) => {
        const want = Math.exp(Math.fround(v));
        expect(Math.abs(y[i]! - want), `n ${n}, exp(${v})`).toBeLessThanOrEqual(2 * 2 ** -23 * want);
      });
    }
  });

  it('saturates like float32 outside its range and keeps NaN; short and int inputs take wasm’s kernel', () => {
    const y = Array.from(tf.exp(tf.tensor1d([100, -100, Infinity, -Infinity, NaN, 0])).dataSync());
    expect(y.slice(0, 4)).toEqual([Infinity, 0, Infinity, 0]);
    expect(y[4]).toBeNaN();
    expect(y[5]).toBe(1);
    expect(Array.from(tf.exp(tf.tensor1d([0, 1])).dataSync())).toEqual([1, Math.fround(Math.E)]);
    expect(tf.exp(tf.tensor1d([0, 1, 2, 3, 4], 'int32')).dtype).toBe('float32');
  });

  it('has the gradient e^x and leaks no tensors', () => {
    const x = tf.tensor2d([
      [0.5, -1, 2, 3],
      [-3, 0, 1, 4],
    ]);
    const before = tf.memory().numTensors;
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.exp(v)))(x);
    const want = tf.exp(x);
    expect(Array.from(g.dataSync())).toEqual(Array.from(want.dataSync()));
    tf.dispose([g, want]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
