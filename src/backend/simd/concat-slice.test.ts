import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../wasm-kernels.js';
import { rng } from '../../../test/backend-compare.js';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

/** `f` on the cpu backend from the same values and shapes, as plain arrays. */
async function onCpu(
  arrays: { values: number[]; shape: number[]; dtype: 'float32' | 'int32' | 'bool' }[],
  f: (xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<{ values: number[]; shape: number[] }[]> {
  await tf.setBackend('cpu');
  try {
    return tf.tidy(() => {
      const out = f(arrays.map((a) => tf.tensor(a.values, a.shape, a.dtype)));
      return ([] as tf.Tensor[])
        .concat(out)
        .map((t) => ({ values: Array.from(t.dataSync()), shape: t.shape }));
    });
  } finally {
    await tf.setBackend('wasm');
  }
}

async function compare(
  label: string,
  arrays: { values: number[]; shape: number[]; dtype: 'float32' | 'int32' | 'bool' }[],
  f: (xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<void> {
  const want = await onCpu(arrays, f);
  const inputs = arrays.map((a) => tf.tensor(a.values, a.shape, a.dtype));
  const before = tf.memory().numTensors;
  const got = ([] as tf.Tensor[]).concat(f(inputs));
  expect(
    got.map((t) => ({ values: Array.from(t.dataSync()), shape: t.shape })),
    label,
  ).toEqual(want);
  tf.dispose(got);
  expect(tf.memory().numTensors, label).toBe(before);
  tf.dispose(inputs);
}

function random(shape: number[], dtype: 'float32' | 'int32' | 'bool', r: () => number) {
  const n = shape.reduce((p, d) => p * d, 1);
  const values = Array.from({ length: n }, () =>
    dtype === 'float32'
      ? Math.fround(r() - 0.5)
      : dtype === 'int32'
        ? Math.floor(r() * 1e6)
        : r() < 0.5
          ? 1
          : 0,
  );
  return { values, shape, dtype };
}

describe('Concat, Slice and SplitV on wasm (SIMD copies)', () => {
  it('concat equals the cpu backend along every axis of ranks 1–4, float32, int32 and bool', async () => {
    const r = rng(11);
    for (const base of [[7], [3, 5], [2, 3, 4], [2, 3, 5, 6]]) {
      for (let axis = 0; axis < base.length; axis++) {
        for (const dtype of ['float32', 'int32', 'bool'] as const) {
          const pieces = [1, 3, 2].map((w) =>
            random(
              base.map((d, a) => (a === axis ? w : d)),
              dtype,
              r,
            ),
          );
          await compare(`concat [${base.join(',')}] axis ${axis} ${dtype}`, pieces, (xs) =>
            tf.concat(xs, axis),
          );
        }
      }
    }
  });

  it('slice equals the cpu backend for blocks inside ranks 1–4, contiguous or not', async () => {
    const r = rng(12);
    for (const shape of [[9], [5, 7], [3, 6, 5], [2, 5, 4, 7]]) {
      for (let k = 0; k < 6; k++) {
        const begin = shape.map((d) => Math.floor(r() * d));
        const size = shape.map((d, a) => 1 + Math.floor(r() * (d - begin[a]!)));
        for (const dtype of ['float32', 'int32'] as const)
          await compare(
            `slice [${shape.join(',')}] at ${begin.join(',')} of ${size.join(',')} ${dtype}`,
            [random(shape, dtype, r)],
            ([x]) => tf.slice(x!, begin, size),
          );
      }
      // the whole tensor and one full row (contiguous)
      await compare(`slice all [${shape.join(',')}]`, [random(shape, 'float32', r)], ([x]) =>
        tf.slice(x!, 0, shape),
      );
      await compare(`slice row [${shape.join(',')}]`, [random(shape, 'float32', r)], ([x]) =>
        tf.slice(
          x!,
          shape.map(() => 0),
          [1, ...shape.slice(1)],
        ),
      );
    }
  });

  it('split equals the cpu backend along every axis, in equal and uneven pieces', async () => {
    const r = rng(13);
    for (const shape of [[8], [4, 6], [2, 6, 4], [2, 4, 6, 8]]) {
      for (let axis = 0; axis < shape.length; axis++) {
        const d = shape[axis]!;
        await compare(`split [${shape.join(',')}] axis ${axis} in 2`, [random(shape, 'float32', r)], ([x]) =>
          tf.split(x!, 2, axis),
        );
        await compare(`split [${shape.join(',')}] axis ${axis} uneven`, [random(shape, 'int32', r)], ([x]) =>
          tf.split(x!, [1, d - 1], axis),
        );
      }
    }
  });

  it('gives the gradients of a concatenation (split) and of a slice (pad)', async () => {
    const r = rng(14);
    const a = random([2, 3, 4, 3], 'float32', r);
    const b = random([2, 3, 4, 5], 'float32', r);
    const w = random([2, 3, 4, 8], 'float32', r);
    const f = ([x, y, z]: tf.Tensor[]) =>
      tf.grads((p: tf.Tensor, q: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.slice(tf.concat([p, q], 3), [0, 1, 0, 2], [2, 2, 4, 5]),
            tf.slice(z!, [0, 1, 0, 0], [2, 2, 4, 5]),
          ),
        ),
      )([x!, y!]);
    await compare('gradients', [a, b, w], f);
  });
});
