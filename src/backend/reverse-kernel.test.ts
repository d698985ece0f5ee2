import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { rng } from '../../test/backend-compare.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';

type Backend = 'cpu' | 'wasm';
type DType = 'float32' | 'int32' | 'bool';

/** Distinct values so any misplaced element shows. */
function values(n: number, dtype: DType, seed: number): number[] {
  const random = rng(seed);
  return Array.from({ length: n }, (_, i) =>
    dtype === 'float32' ? random() * 2 - 1 : dtype === 'int32' ? i * 7 - 1000 : random() < 0.5 ? 1 : 0,
  );
}

async function reverseOn(
  backend: Backend,
  shape: number[],
  dims: number | number[],
  dtype: DType,
  seed: number,
): Promise<{ data: tf.TypedArray; shape: number[]; dtype: tf.DataType }> {
  await tf.setBackend(backend);
  const size = shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(values(size, dtype, seed), shape, dtype);
  const y = tf.reverse(x, dims);
  const out = { data: await y.data(), shape: y.shape, dtype: y.dtype };
  tf.dispose([x, y]);
  return out;
}

/** Plain-JS reference: out[i] = x[i with each reversed axis index mirrored]. */
function reference(src: ArrayLike<number>, shape: number[], dims: number | number[]): number[] {
  const rank = shape.length;
  const axes = (Array.isArray(dims) ? dims : [dims]).map((d) => (d < 0 ? d + rank : d));
  const size = shape.reduce((a, b) => a * b, 1);
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const out: number[] = [];
  for (let i = 0; i < size; i++) {
    let from = 0;
    for (let d = 0; d < rank; d++) {
      const idx = Math.floor(i / strides[d]!) % shape[d]!;
      from += (axes.includes(d) ? shape[d]! - 1 - idx : idx) * strides[d]!;
    }
    out.push(src[from]!);
  }
  return out;
}

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

describe('Reverse on wasm', () => {
  it('is the tfjs-mtl kernel', () => {
    const kernel = tf.getKernel('Reverse', 'wasm');
    expect(kernel).toBeDefined();
    expect(Symbol.for('tfjs-mtl.wasm-training-kernel') in kernel.kernelFunc).toBe(true);
  });

  const cases: [number[], number | number[]][] = [
    // rank 1
    [[7], 0],
    [[7], [0]],
    [[7], -1],
    [[1], 0],
    [[5], []],
    // rank 2
    [[3, 4], 0],
    [[3, 4], 1],
    [[3, 4], -1],
    [
      [3, 4],
      [0, 1],
    ],
    [
      [3, 4],
      [-2, -1],
    ],
    [[1, 6], 0],
    [
      [1, 6],
      [0, 1],
    ],
    [[6, 1], 1],
    [
      [6, 1],
      [0, 1],
    ],
    // rank 3
    [[2, 3, 5], 0],
    [[2, 3, 5], 1],
    [[2, 3, 5], 2],
    [
      [2, 3, 5],
      [0, 2],
    ],
    [
      [2, 3, 5],
      [1, -1],
    ],
    [
      [2, 3, 5],
      [-3, -2, -1],
    ],
    [[4, 1, 3], [1]],
    [
      [4, 1, 3],
      [0, 1],
    ],
    [
      [4, 1, 3],
      [1, 2],
    ],
    [
      [1, 1, 1],
      [0, 1, 2],
    ],
    // rank 4 (the conv filter flip is [0, 1] of [kh, kw, cin, cout])
    [
      [3, 3, 4, 2],
      [0, 1],
    ],
    [[3, 3, 4, 2], 3],
    [[3, 3, 4, 2], -1],
    [
      [3, 3, 4, 2],
      [0, 1, 2, 3],
    ],
    [
      [2, 3, 4, 5],
      [1, 3],
    ],
    [
      [2, 3, 4, 5],
      [0, -2],
    ],
    [
      [5, 1, 1, 3],
      [0, 1, 2],
    ],
    [
      [2, 1, 3, 1],
      [1, 3],
    ],
    [
      [2, 1, 3, 1],
      [0, 1, 2, 3],
    ],
    [[1, 2, 3, 4], 0],
    [
      [5, 5, 64, 8],
      [0, 1],
    ],
  ];

  for (const dtype of ['float32', 'int32'] as const) {
    cases.forEach(([shape, dims], k) => {
      it(`${dtype} [${shape.join(',')}] dims ${JSON.stringify(dims)} equals cpu`, async () => {
        const want = await reverseOn('cpu', shape, dims, dtype, 100 + k);
        const got = await reverseOn('wasm', shape, dims, dtype, 100 + k);
        expect(got.shape).toEqual(shape);
        expect(got.dtype).toBe(dtype);
        expect(Array.from(got.data)).toEqual(Array.from(want.data));
        const size = shape.reduce((a, b) => a * b, 1);
        // float32 storage rounds the JS doubles.
        const input = Float32Array.from(values(size, dtype, 100 + k));
        expect(Array.from(got.data)).toEqual(reference(input, shape, dims));
      });
    });
  }

  it('bool tensors equal cpu', async () => {
    for (const [shape, dims] of [
      [[4, 5], [1]],
      [
        [2, 3, 4],
        [0, 2],
      ],
      [
        [3, 2, 2, 3],
        [0, 1, 2, 3],
      ],
    ] as [number[], number[]][]) {
      const want = await reverseOn('cpu', shape, dims, 'bool', 7);
      const got = await reverseOn('wasm', shape, dims, 'bool', 7);
      expect(got.dtype).toBe('bool');
      expect(Array.from(got.data), `[${shape.join(',')}] ${dims.join(',')}`).toEqual(Array.from(want.data));
    }
  });

  it('treats a repeated axis as cpu (and wasm itself) do: each repeat flips again', async () => {
    for (const [shape, dims] of [
      [
        [2, 3],
        [1, 1],
      ],
      [
        [2, 3],
        [1, -1],
      ],
      [
        [2, 3, 4],
        [0, 2, -1],
      ],
      [
        [3, 3, 2, 2],
        [0, 1, 0, 1, 0],
      ],
    ] as [number[], number[]][]) {
      const want = await reverseOn('cpu', shape, dims, 'float32', 6);
      const got = await reverseOn('wasm', shape, dims, 'float32', 6);
      expect(Array.from(got.data), `[${shape.join(',')}] ${dims.join(',')}`).toEqual(Array.from(want.data));
    }
  });

  it('handles empty tensors', async () => {
    for (const [shape, dims] of [
      [[0, 3], [1]],
      [[3, 0], [0]],
      [
        [2, 0, 4],
        [0, 2],
      ],
    ] as [number[], number[]][]) {
      const got = await reverseOn('wasm', shape, dims, 'float32', 8);
      expect(got.shape).toEqual(shape);
      expect(got.data.length).toBe(0);
    }
  });

  it('flips a filter inside a conv input gradient the same as cpu', async () => {
    const run = async (backend: Backend): Promise<Float32Array> => {
      await tf.setBackend(backend);
      const dx = tf.tidy(() => {
        const x = tf.randomNormal([2, 8, 9, 4], 0, 1, 'float32', 1);
        const f = tf.randomNormal([3, 2, 4, 5], 0, 1, 'float32', 2);
        return tf.grad((xx: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'))),
        )(x);
      });
      const data = (await dx.data()) as Float32Array;
      dx.dispose();
      return data;
    };
    const want = await run('cpu');
    const got = await run('wasm');
    let maxAbs = 0;
    let maxDiff = 0;
    want.forEach((v, i) => {
      maxAbs = Math.max(maxAbs, Math.abs(v));
      maxDiff = Math.max(maxDiff, Math.abs(v - got[i]!));
    });
    expect(maxDiff).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs));
  });

  it('leaves no tensors or buffers behind and does not modify its input', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(values(3 * 3 * 4 * 2, 'float32', 9), [3, 3, 4, 2]);
    const copy = Array.from(await x.data());
    tf.dispose(tf.reverse(x, [0, 1]));
    const before = tf.memory();
    for (const dims of [[0, 1], [3], [0, 1, 2, 3], [1]]) tf.dispose(tf.reverse(x, dims));
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(Array.from(await x.data())).toEqual(copy);
    x.dispose();
  });
});
