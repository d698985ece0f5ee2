import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../wasm-kernels.js';
import { rng } from '../../../test/backend-compare.js';
import { transposePlan } from './transpose.js';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

/** Every permutation of 0..n−1. */
function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) =>
    Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]),
  );
}

/** x transposed by index arithmetic, as the reference. */
function reference(values: ArrayLike<number>, shape: number[], perm: number[]): number[] {
  const outShape = perm.map((a) => shape[a]!);
  const strides = shape.map((_, a) => shape.slice(a + 1).reduce((p, d) => p * d, 1));
  const out: number[] = [];
  const idx = new Array<number>(outShape.length).fill(0);
  const total = outShape.reduce((p, d) => p * d, 1);
  for (let k = 0; k < total; k++) {
    out.push(values[perm.reduce((o, a, i) => o + idx[i]! * strides[a]!, 0)]!);
    for (let d = outShape.length - 1; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

describe('transposePlan', () => {
  it('merges axes that stay neighbours, drops size-1 axes, loops in the output’s order', () => {
    // [N,H,W,C] → [N,C,H,W]: (H,W) merge
    expect(transposePlan([8, 16, 32, 64], [0, 3, 1, 2])).toEqual({
      dims: [1, 8, 64, 512],
      inStrides: [0, 32768, 1, 64],
      outStrides: [0, 32768, 512, 1],
    });
    expect(transposePlan([8, 16, 32, 64], [3, 1, 2, 0])).toEqual({
      dims: [1, 64, 512, 8],
      inStrides: [0, 1, 64, 32768],
      outStrides: [0, 4096, 8, 1],
    });
    expect(transposePlan([4096, 32], [1, 0])).toEqual({
      dims: [1, 1, 32, 4096],
      inStrides: [0, 0, 1, 32],
      outStrides: [0, 0, 4096, 1],
    });
    expect(transposePlan([2, 1, 3], [1, 2, 0])).toEqual({
      dims: [1, 1, 3, 2],
      inStrides: [0, 0, 1, 3],
      outStrides: [0, 0, 2, 1],
    });
    expect(transposePlan([2, 3, 2, 3, 2], [4, 3, 2, 1, 0])).toBeUndefined();
  });
});

describe('Transpose on wasm (SIMD)', () => {
  it('equals index arithmetic for every permutation of rank 2–4 shapes, float32 and int32', () => {
    const r = rng(3);
    for (const shape of [
      [5, 7],
      [3, 1, 4],
      [2, 3, 5, 7],
      [1, 4, 1, 6],
      [8, 3, 3, 5],
      // 4×4 tiles (transpose_tiles) whole, with edge rows and columns, the contiguous read in each loop
      [4, 8],
      [13, 9, 6],
      [6, 9, 4, 13],
    ]) {
      for (const perm of permutations(shape.length)) {
        for (const dtype of ['float32', 'int32'] as const) {
          const n = shape.reduce((p, d) => p * d, 1);
          const values = Array.from({ length: n }, () =>
            dtype === 'int32' ? Math.floor(r() * 1e6) : r() - 0.5,
          );
          const x = tf.tensor(values, shape, dtype);
          const before = tf.memory().numTensors;
          const y = tf.transpose(x, perm);
          expect(y.shape).toEqual(perm.map((a) => shape[a]));
          expect(y.dtype).toBe(dtype);
          expect(Array.from(y.dataSync()), `${shape.join(',')} ${perm.join(',')} ${dtype}`).toEqual(
            reference(Float32Array.from(x.dataSync()), shape, perm).map((v) =>
              dtype === 'int32' ? v : Math.fround(v),
            ),
          );
          y.dispose();
          expect(tf.memory().numTensors).toBe(before);
          x.dispose();
        }
      }
    }
  });

  it('keeps wasm’s own kernel for bool, empty tensors and permutations of more than 4 merged axes', () => {
    const b = tf.tensor([true, false, true, true, false, false], [2, 3], 'bool');
    expect(tf.transpose(b).arraySync()).toEqual([
      [1, 1],
      [0, 0],
      [1, 0],
    ]);
    expect(tf.transpose(tf.zeros([0, 3])).shape).toEqual([3, 0]);
    const shape = [2, 3, 2, 3, 2];
    const values = Array.from({ length: 72 }, (_, i) => i);
    const perm = [4, 3, 2, 1, 0];
    expect(Array.from(tf.transpose(tf.tensor(values, shape), perm).dataSync())).toEqual(
      reference(values, shape, perm),
    );
  });

  it('transposes a big activation as the cpu backend does', async () => {
    const x = tf.randomNormal([8, 16, 32, 64], 0, 1, 'float32', 9);
    const got = tf.transpose(x, [3, 1, 2, 0]).dataSync();
    const v = x.dataSync();
    await tf.setBackend('cpu');
    const want = tf.transpose(tf.tensor(v, [8, 16, 32, 64]), [3, 1, 2, 0]).dataSync();
    await tf.setBackend('wasm');
    expect(Array.from(got)).toEqual(Array.from(want));
  });
});
