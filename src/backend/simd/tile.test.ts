import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../wasm-kernels.js';
import { rng } from '../../../test/backend-compare.js';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

async function run(
  backend: string,
  values: number[],
  shape: number[],
  dtype: 'float32' | 'int32',
  reps: number[],
) {
  const was = tf.getBackend();
  await tf.setBackend(backend);
  try {
    const before = tf.memory().numTensors;
    const got = tf.tidy(() => {
      const t = tf.tile(tf.tensor(values, shape, dtype), reps);
      return { values: Array.from(t.dataSync()), shape: t.shape, dtype: t.dtype };
    });
    expect(tf.memory().numTensors).toBe(before);
    return got;
  } finally {
    await tf.setBackend(was);
  }
}

describe('Tile on wasm (a broadcast as one strided copy)', () => {
  const cases: [string, number[], number[], ('float32' | 'int32')?][] = [
    ['the pooling gradient: [8,1,1,64] over 16×32', [8, 1, 1, 64], [1, 16, 32, 1]],
    ['the innermost axis', [3, 1], [1, 5]],
    ['the outermost axis', [1, 6], [4, 1]],
    ['two axes apart, odd sizes', [1, 3, 1, 5], [2, 1, 7, 1]],
    ['int32', [2, 1, 3], [1, 4, 1], 'int32'],
    ['nothing repeated', [2, 3], [1, 1]],
    ['five axes of size > 1 (wasm’s own kernel)', [2, 2, 1, 2, 2], [1, 1, 3, 1, 1]],
    ['a real tile (wasm’s own kernel)', [2, 3], [2, 2]],
  ];
  for (const [label, shape, reps, dtype = 'float32'] of cases)
    it(`${label}: exactly cpu's values`, async () => {
      const r = rng(shape.length * 7 + reps.length);
      const n = shape.reduce((p, d) => p * d, 1);
      const values = Array.from({ length: n }, () =>
        dtype === 'int32' ? Math.floor(100 * r()) : Math.fround(r()),
      );
      expect(await run('wasm', values, shape, dtype, reps)).toEqual(
        await run('cpu', values, shape, dtype, reps),
      );
    });

  it("keeps broadcastTo's gradient (a sum over the repeats)", async () => {
    const f = () =>
      tf.grad((x: tf.Tensor) =>
        tf.sum(tf.mul(tf.broadcastTo(x, [3, 4, 5]), tf.range(0, 60).reshape([3, 4, 5]))),
      )(tf.ones([1, 4, 1]));
    const wasm = Array.from(f().dataSync());
    await tf.setBackend('cpu');
    const cpu = Array.from(f().dataSync());
    await tf.setBackend('wasm');
    expect(wasm).toEqual(cpu);
  });
});
