import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { withKernelScope } from '../kernel-scope.js';
import { registerWasmTrainingKernels } from '../wasm-kernels.js';
import { rng } from '../../../test/backend-compare.js';
import { simdFor } from './simd.js';
import { SMALL_MATMUL_MAX_MACS, smallMatMul, smallMatMulRoute } from './small-matmul.js';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

type Arr = { values: number[]; shape: number[] };

function random(shape: number[], r: () => number): Arr {
  const n = shape.reduce((p, d) => p * d, 1);
  return { values: Array.from({ length: n }, () => Math.fround(r() - 0.5)), shape };
}

/** `f` over the arrays on `backend`, as plain values (the active backend is put back). */
async function on(backend: string, arrays: Arr[], f: (xs: tf.Tensor[]) => tf.Tensor[]): Promise<number[][]> {
  const was = tf.getBackend();
  await tf.setBackend(backend);
  try {
    const before = tf.memory().numTensors;
    const out = tf.tidy(() =>
      f(arrays.map((a) => tf.tensor(a.values, a.shape))).map((t) => Array.from(t.dataSync())),
    );
    expect(tf.memory().numTensors).toBe(before);
    return out;
  } finally {
    await tf.setBackend(was);
  }
}

/** Float32 sums in another order: within a few ulps of the terms' magnitudes. */
function expectClose(got: number[][], want: number[][], label: string): void {
  expect(got.length, label).toBe(want.length);
  got.forEach((g, i) => {
    expect(g.length, label).toBe(want[i]!.length);
    g.forEach((v, j) => expect(Math.abs(v - want[i]![j]!), `${label} [${i}][${j}]`).toBeLessThan(2e-5));
  });
}

describe('smallMatMulRoute', () => {
  it('takes N ≤ 8 with K a multiple of 4, else K ≤ 8 with N a multiple of 4, and nothing too big', () => {
    expect(smallMatMulRoute(4096, 32, 7)).toBe('nt');
    expect(smallMatMulRoute(32, 4096, 1)).toBe('nt');
    expect(smallMatMulRoute(4096, 7, 32)).toBe('smallK');
    expect(smallMatMulRoute(4096, 8, 8)).toBe('nt');
    expect(smallMatMulRoute(4096, 9, 32)).toBeUndefined();
    expect(smallMatMulRoute(4096, 7, 30)).toBeUndefined();
    expect(smallMatMulRoute(4096, 30, 7)).toBeUndefined();
    expect(smallMatMulRoute(8, 64, 32)).toBe('ntT');
    expect(smallMatMulRoute(8, 62, 32)).toBeUndefined();
    expect(smallMatMulRoute(64, 64, 64)).toBeUndefined();
    expect(smallMatMulRoute(SMALL_MATMUL_MAX_MACS / 32, 32, 2)).toBeUndefined();
    expect(smallMatMulRoute(0, 4, 4)).toBeUndefined();
  });
});

describe('smallMatMul (our loops, called directly)', () => {
  const cases: [number, number, number][] = [
    [37, 32, 7], // four-row blocks and a remainder of one
    [6, 8, 3], // a remainder of two
    [3, 4, 1], // only the remainder
    [4, 32, 8],
    [29, 7, 32], // smallK: four vectors a row
    [5, 1, 36], // four vectors and one
    [2, 3, 4], // one vector
    [8, 64, 32], // ntT: the image-pooling branch's products
    [3, 12, 10],
  ];
  for (const [M, K, N] of cases)
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const)
      it(`[${M}, ${K}]·[${K}, ${N}] ta=${ta} tb=${tb}`, async () => {
        const r = rng(M * 1000 + K * 10 + N);
        const a = random(ta ? [K, M] : [M, K], r);
        const b = random(tb ? [N, K] : [K, N], r);
        const want = await on('cpu', [a, b], ([x, y]) => [tf.matMul(x!, y!, ta, tb)]);
        const simd = simdFor(tf.backend())!;
        expect(simd).toBeDefined();
        const got = tf.tidy(() => {
          const [x, y] = [tf.tensor(a.values, a.shape), tf.tensor(b.values, b.shape)];
          const out = withKernelScope('wasm', tf.backend(), (s) => smallMatMul(s, simd, x, y, ta, tb));
          const t = tf.engine().makeTensorFromTensorInfo(out);
          expect(t.shape).toEqual([M, N]);
          return Array.from(t.dataSync());
        });
        expectClose([got], want, `${M}x${K}x${N}`);
      });

  it('adds a bias on the nt route and refuses one on the others', async () => {
    const r = rng(7);
    const [a, b, c] = [random([9, 12], r), random([12, 5], r), random([5], r)];
    const want = await on('cpu', [a, b, c], ([x, y, z]) => [tf.add(tf.matMul(x!, y!), z!)]);
    const simd = simdFor(tf.backend())!;
    const got = tf.tidy(() => {
      const [x, y, z] = [a, b, c].map((v) => tf.tensor(v.values, v.shape));
      const out = withKernelScope('wasm', tf.backend(), (s) => smallMatMul(s, simd, x!, y!, false, false, z));
      return Array.from(tf.engine().makeTensorFromTensorInfo(out).dataSync());
    });
    expectClose([got], want, 'bias');
    tf.tidy(() => {
      const [x, y, z] = [tf.ones([3, 2]), tf.ones([2, 8]), tf.ones([8])];
      expect(() =>
        withKernelScope('wasm', tf.backend(), (s) => smallMatMul(s, simd, x, y, false, false, z)),
      ).toThrow(/bias .* smallK route/);
      const [u, v, w] = [tf.ones([3, 4]), tf.ones([4, 10]), tf.ones([10])];
      expect(() =>
        withKernelScope('wasm', tf.backend(), (s) => smallMatMul(s, simd, u, v, false, false, w)),
      ).toThrow(/bias .* ntT route/);
    });
  });
});

describe('BatchMatMul and _FusedMatMul on wasm route small products through it', () => {
  it("gives the cpu backend's values for the scene heads' products and their gradients", async () => {
    for (const C of [1, 2, 7]) {
      const r = rng(C);
      const arrays = [random([1, 300, 32], r), random([1, 32, C], r), random([C], r), random([1, 300, C], r)];
      const f = ([h, w, bias, probe]: tf.Tensor[]) => {
        const head = (hh: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(tf.mul(tf.fused.matMul({ a: hh, b: ww, bias: bb }), probe!));
        const y = tf.fused.matMul({ a: h as tf.Tensor3D, b: w as tf.Tensor3D, bias: bias! });
        const grads = tf.grads(head)([h!, w!, bias!]);
        return [y, ...grads];
      };
      const want = await on('cpu', arrays, f);
      const got = await on('wasm', arrays, f);
      expectClose(got, want, `C = ${C}`);
    }
  });

  it('keeps a relu product on XNNPACK and takes a transposed small one, both with the values of cpu', async () => {
    const r = rng(11);
    const arrays = [random([40, 16], r), random([16, 3], r), random([3], r)];
    const f = ([a, b, bias]: tf.Tensor[]) => [
      tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: bias!, activation: 'relu' }),
      tf.matMul(a!, tf.transpose(b!), false, true),
    ];
    expectClose(await on('wasm', arrays, f), await on('cpu', arrays, f), 'relu');
  });
});
