import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectSameAsCpu, randn, rng, type Producer } from '../../test/backend-compare.js';
import { WASM_TRAINING_KERNELS, registerWasmTrainingKernels } from './wasm-kernels.js';

type Padding =
  'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

const transposed = (shape: number[], t: boolean): number[] =>
  t ? [...shape.slice(0, -2), shape.at(-1) ?? 0, shape.at(-2) ?? 0] : shape;

const COMBOS: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

describe('registration', () => {
  it('registers every listed kernel for wasm, once', () => {
    const before = WASM_TRAINING_KERNELS.map((name) => tf.getKernel(name, 'wasm').kernelFunc);
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    const after = WASM_TRAINING_KERNELS.map((name) => tf.getKernel(name, 'wasm').kernelFunc);
    expect(after).toEqual(before);
    expect(WASM_TRAINING_KERNELS).toContain('Conv2DBackpropFilter');
  });

  it('still computes correctly after repeated registration', async () => {
    registerWasmTrainingKernels();
    await expectSameAsCpu('matMul after re-register', () => {
      const a = randn([70, 40], 1);
      const b = randn([70, 30], 2);
      return tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, true, false).square().sum())([a, b]);
    });
  });
});

describe('BatchMatMul on wasm matches cpu', () => {
  // [a, b] in untransposed layout; small ones stay on wasm's own loop, big ones
  // take the transpose/fold/per-batch paths.
  const gradShapes: [number[], number[]][] = [
    [
      [1, 7],
      [7, 5],
    ],
    [
      [9, 1],
      [1, 6],
    ],
    [
      [13, 17],
      [17, 11],
    ],
    [
      [1, 300],
      [300, 200],
    ],
    [
      [200, 300],
      [300, 1],
    ],
    [
      [20, 1024],
      [1024, 1],
    ],
    [
      [65, 97],
      [97, 33],
    ],
    [
      [3, 5, 7],
      [3, 7, 4],
    ],
    [
      [4, 33, 47],
      [4, 47, 29],
    ],
    [
      [1, 64, 48],
      [1, 48, 40],
    ],
  ];
  for (const [ta, tb] of COMBOS) {
    for (const [as, bs] of gradShapes) {
      const sa = transposed(as, ta);
      const sb = transposed(bs, tb);
      it(`matMul [${sa.join()}]${ta ? 'ᵀ' : ''} · [${sb.join()}]${tb ? 'ᵀ' : ''} and its gradients`, async () => {
        await expectSameAsCpu('matMul', () => {
          const a = randn(sa, 11);
          const b = randn(sb, 12);
          const f = (x: tf.Tensor, y: tf.Tensor): tf.Tensor => tf.matMul(x, y, ta, tb);
          return [f(a, b), ...tf.grads((x: tf.Tensor, y: tf.Tensor) => f(x, y).square().sum())([a, b])];
        });
      });
    }
  }

  // tfjs's matMul gradient does not reduce broadcast batches: forward only.
  const broadcastShapes: [number[], number[]][] = [
    [
      [3, 40, 50],
      [1, 50, 60],
    ],
    [
      [1, 40, 50],
      [3, 50, 60],
    ],
    [
      [40, 50],
      [3, 50, 60],
    ],
    [
      [3, 40, 50],
      [50, 60],
    ],
    [
      [5, 2, 3],
      [1, 3, 4],
    ],
    [
      [1, 2, 3],
      [5, 3, 4],
    ],
    [
      [2, 3, 24, 32],
      [1, 1, 32, 16],
    ],
  ];
  for (const [ta, tb] of COMBOS) {
    for (const [as, bs] of broadcastShapes) {
      const sa = transposed(as, ta);
      const sb = transposed(bs, tb);
      it(`broadcast matMul [${sa.join()}] · [${sb.join()}] (tA=${ta}, tB=${tb})`, async () => {
        await expectSameAsCpu('broadcast matMul', () => tf.matMul(randn(sa, 21), randn(sb, 22), ta, tb));
      });
    }
  }
});

describe('_FusedMatMul on wasm matches cpu', () => {
  const cases: { a: number[]; b: number[]; act: tf.fused.Activation; bias: boolean; prelu?: boolean }[] = [
    { a: [13, 17], b: [17, 11], act: 'linear', bias: true },
    { a: [1, 300], b: [300, 200], act: 'relu', bias: false },
    { a: [64, 96], b: [96, 40], act: 'relu', bias: true },
    { a: [3, 5, 60], b: [3, 60, 4], act: 'relu6', bias: true },
    { a: [3, 40, 50], b: [1, 50, 60], act: 'relu', bias: true },
    { a: [1, 40, 50], b: [3, 50, 60], act: 'linear', bias: true },
    { a: [2, 16, 24], b: [2, 24, 8], act: 'prelu', bias: true, prelu: true },
    { a: [20, 30], b: [30, 10], act: 'elu', bias: true },
  ];
  for (const [ta, tb] of COMBOS) {
    for (const c of cases) {
      const sa = transposed(c.a, ta);
      const sb = transposed(c.b, tb);
      const n = c.b.at(-1) ?? 0;
      it(`fused [${sa.join()}] · [${sb.join()}] ${c.act}${c.bias ? ' +bias' : ''} (tA=${ta}, tB=${tb})`, async () => {
        await expectSameAsCpu('fused matMul', () =>
          tf.fused.matMul({
            a: randn(sa, 31),
            b: randn(sb, 32),
            transposeA: ta,
            transposeB: tb,
            bias: c.bias ? randn([n], 33) : undefined,
            activation: c.act,
            preluActivationWeights: c.prelu === true ? randn([n], 34) : undefined,
          }),
        );
      });
    }
  }
});

describe('conv2d gradients on wasm match cpu', () => {
  interface ConvCase {
    n: number;
    h: number;
    w: number;
    cin: number;
    cout: number;
    k: number;
    stride: number | [number, number];
    pad: Padding;
  }
  const convGrads =
    (c: ConvCase): Producer =>
    () => {
      const x = randn([c.n, c.h, c.w, c.cin], 41);
      const f = randn([c.k, c.k, c.cin, c.cout], 42);
      // A non-uniform upstream gradient so every dy element matters.
      const dyScale = (y: tf.Tensor): tf.Tensor => y.mul(randn(y.shape, 43));
      return tf.grads((xx: tf.Tensor, ff: tf.Tensor) =>
        dyScale(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, c.stride, c.pad)).sum(),
      )([x, f]);
    };

  const random = rng(20240611);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const cases: ConvCase[] = [];
  for (const k of [1, 3, 5]) {
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) {
        const h = Math.max(k, 4 + Math.floor(random() * 8)); // odd and even, ≥ k for 'valid'
        const w = Math.max(k, 4 + Math.floor(random() * 8));
        cases.push({
          n: pick([1, 2, 3]),
          h,
          w,
          cin: 1 + Math.floor(random() * 8),
          cout: 1 + Math.floor(random() * 8),
          k,
          stride,
          pad,
        });
      }
    }
  }
  // Edge cases: trailing rows the forward pass never reads (crop paths), stride
  // 3, unequal strides, explicit padding wider than the kernel.
  cases.push({ n: 2, h: 8, w: 9, cin: 3, cout: 4, k: 3, stride: 2, pad: 'valid' });
  cases.push({ n: 1, h: 11, w: 10, cin: 2, cout: 3, k: 3, stride: 3, pad: 'same' });
  cases.push({ n: 2, h: 9, w: 7, cin: 4, cout: 5, k: 3, stride: [2, 1], pad: 'same' });
  cases.push({
    n: 1,
    h: 7,
    w: 8,
    cin: 3,
    cout: 2,
    k: 1,
    stride: 2,
    pad: [
      [0, 0],
      [2, 1],
      [0, 3],
      [0, 0],
    ],
  });
  cases.push({ n: 2, h: 6, w: 6, cin: 2, cout: 3, k: 3, stride: 1, pad: 2 });
  // The input gradient by phases: even kernels, a stride wider than the kernel (phases no tap reaches),
  // channel counts past a SIMD vector.
  cases.push({ n: 2, h: 9, w: 10, cin: 12, cout: 9, k: 2, stride: 2, pad: 'same' });
  cases.push({ n: 1, h: 13, w: 11, cin: 8, cout: 6, k: 4, stride: 3, pad: 'valid' });
  cases.push({ n: 2, h: 9, w: 9, cin: 5, cout: 4, k: 3, stride: 4, pad: 'same' });

  for (const c of cases) {
    it(`x[${c.n},${c.h},${c.w},${c.cin}] k${c.k}→${c.cout} stride ${String(c.stride)} pad ${JSON.stringify(c.pad)}`, async () => {
      await expectSameAsCpu('conv2d grads', convGrads(c));
    });
  }

  it('Conv2DBackpropFilter rejects NCHW with a clear error', () => {
    const x = tf.zeros([1, 2, 4, 4]);
    const dy = tf.zeros([1, 3, 4, 4]);
    expect(() =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          { strides: [1, 1], pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3] },
        ),
    ).toThrow(/NHWC/);
    tf.dispose([x, dy]);
  });
});

describe('memory', () => {
  it('leaves no tensors or buffers behind', async () => {
    await tf.setBackend('wasm');
    const x = randn([2, 9, 9, 3], 51);
    const f = randn([3, 3, 3, 4], 52);
    const a = randn([4, 40, 64], 53);
    const b = randn([4, 64, 30], 54);
    const w = randn([64, 30], 55);
    const bias = randn([30], 56);
    const step = (): void => {
      const grads = tf.tidy(() => [
        ...tf.grads((xx: tf.Tensor, ff: tf.Tensor) =>
          tf
            .conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 2, 'same')
            .square()
            .sum(),
        )([x, f]),
        ...tf.grads((aa: tf.Tensor, bb: tf.Tensor) => tf.matMul(aa, bb, true, false).sum())([
          a.transpose([0, 2, 1]),
          b,
        ]),
        tf.matMul(randn([1, 40, 64], 57), b), // shared left operand
        tf.matMul(a, w.expandDims(0)), // shared right operand
        tf.fused.matMul({ a: a.reshape([160, 64]), b: w, transposeB: false, bias, activation: 'relu' }),
      ]);
      tf.dispose(grads);
    };
    step(); // warm-up
    const before = tf.memory();
    for (let i = 0; i < 3; i++) step();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([x, f, a, b, w, bias]);
    await Promise.resolve();
  });
});

describe('Identity on wasm shares the buffer', () => {
  it('clones without copying and stays correct after the source is disposed', async () => {
    await tf.setBackend('wasm');
    registerWasmTrainingKernels();
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const y = tf.clone(x);
    x.dispose();
    expect(y.arraySync()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(a, a)))(y);
    expect(g.arraySync()).toEqual([
      [2, 4],
      [6, 8],
    ]);
    y.dispose();
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Sum and Mean over a run of axes on wasm match cpu', () => {
  const cases: [number[], number | number[], boolean][] = [
    [[8, 16, 32, 32], [0, 1, 2], false],
    [[8, 16, 32, 32], [0, 1, 2], true],
    [[8, 16, 32, 32], [2, 0, 1], false], // order does not matter
    [[8, 16, 32, 32], [0, 1, 2, 3], false], // everything
    [[8, 16, 32, 32], [0], true], // 16384 columns: the stock kernel
    [[16, 8, 4096], [0, 1], true],
    [[4, 64, 64, 3], [0, 1], false],
    [[131072], 0, false],
    [[8, 16, 32, 64], [1, 2], false], // middle axes: global average pooling
    [[8, 16, 32, 64], [1, 2], true],
    [[8, 16, 32, 32], [2, 1], true],
    [[2, 3, 4, 5], [1, 2], false], // small: the loop, with a batch
    [[2, 3, 4, 5], [1, 2, 3], true],
    [[8, 16, 32, 32], [0, 2], false], // not one run: the stock kernel
    [[8, 16, 32, 32], [-1], true],
    [[3, 5], [0], false], // small: the loop
  ];
  for (const [shape, axis, keepDims] of cases) {
    it(`${shape.join('×')} over ${JSON.stringify(axis)}${keepDims ? ', keepDims' : ''}`, async () => {
      await expectSameAsCpu('sum/mean', () => {
        const x = randn(shape, 7);
        return [tf.sum(x, axis, keepDims), tf.mean(x, axis, keepDims)];
      });
    });
  }

  it('reduces the same data under different splits, and int32', async () => {
    await expectSameAsCpu('splits', () => {
      const x = randn([8, 16, 32, 32], 8);
      return [tf.sum(x, [0, 1, 2]), tf.sum(x), tf.sum(x, 0), tf.mean(x, [0, 1]), tf.sum(x, [0, 1, 2])];
    });
    await expectSameAsCpu('int32', () => tf.sum(tf.range(0, 8192, 1, 'int32').reshape([64, 128]), 0));
  });

  it('keeps the gradient of a batch-norm-like statistic', async () => {
    await expectSameAsCpu('grad', () =>
      tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.sub(x, tf.mean(x, [0, 1, 2])))))(
        randn([4, 16, 16, 8], 9),
      ),
    );
  });
});
