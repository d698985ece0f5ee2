import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../wasm-kernels.js';
import { rng } from '../../../test/backend-compare.js';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

type Arr = { values: number[]; shape: number[]; dtype: 'float32' | 'int32' };

function random(shape: number[], r: () => number, dtype: 'float32' | 'int32' = 'float32'): Arr {
  const n = shape.reduce((p, d) => p * d, 1);
  const values = Array.from({ length: n }, () =>
    dtype === 'float32' ? Math.fround(4 * r() - 2) : Math.floor(100 * r() - 50),
  );
  return { values, shape, dtype };
}

async function run(backend: string, arrays: Arr[], f: (xs: tf.Tensor[]) => tf.Tensor) {
  const was = tf.getBackend();
  await tf.setBackend(backend);
  try {
    const before = tf.memory().numTensors;
    const got = tf.tidy(() => {
      const t = f(arrays.map((a) => tf.tensor(a.values, a.shape, a.dtype)));
      return { values: Array.from(t.dataSync()), shape: t.shape, dtype: t.dtype };
    });
    expect(tf.memory().numTensors).toBe(before);
    return got;
  } finally {
    await tf.setBackend(was);
  }
}

describe('Add, Sub and Multiply on wasm (SIMD, no broadcast or by one value)', () => {
  const ops = {
    add: (a: tf.Tensor, b: tf.Tensor) => tf.add(a, b),
    sub: (a: tf.Tensor, b: tf.Tensor) => tf.sub(a, b),
    mul: (a: tf.Tensor, b: tf.Tensor) => tf.mul(a, b),
  };
  const pairs: [string, number[], number[], ('float32' | 'int32')?][] = [
    ['same shape, four', [4], [4]],
    ['same shape, tails', [3, 5], [3, 5]],
    ['same shape, 4-D', [2, 3, 4, 7], [2, 3, 4, 7]],
    ['one layout, padded rank', [1, 9], [9]],
    ['by one value', [2, 11], [1]],
    ['by one value of rank 2', [13], [1, 1]],
    ['one value on the left', [1], [6, 3]],
    ['a real broadcast', [4, 1], [1, 4]],
    ['a channel broadcast', [2, 3, 8], [8]],
    ['three values', [3], [3]],
    ['int32', [2, 5], [2, 5], 'int32'],
  ];
  for (const [label, sa, sb, dtype] of pairs)
    for (const [name, f] of Object.entries(ops))
      it(`${name}: ${label} — exactly cpu's values`, async () => {
        const r = rng(sa.length * 31 + sb.length);
        const arrays = [random(sa, r, dtype), random(sb, r, dtype)];
        const g = ([a, b]: tf.Tensor[]) => f(a!, b!);
        expect(await run('wasm', arrays, g)).toEqual(await run('cpu', arrays, g));
      });

  it('keeps the gradients of the ops', async () => {
    const r = rng(3);
    const arrays = [random([3, 8], r), random([3, 8], r)];
    const g = ([a, b]: tf.Tensor[]) =>
      tf.concat(
        tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.sub(tf.add(x, y), y), tf.mul(x, 0.5))))([
          a!,
          b!,
        ]),
      );
    const [got, want] = [await run('wasm', arrays, g), await run('cpu', arrays, g)];
    got.values.forEach((v, i) => expect(v).toBeCloseTo(want.values[i]!, 5));
  });
});
