import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  dilatedConv2dFilterGradient,
  dilatedConv2dInputGradient,
  registerConvGradient,
} from './conv-gradient.js';
import {
  expectClose,
  expectSameAsCpu,
  randn,
  rng,
  runOn,
  type Producer,
} from '../../test/backend-compare.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';

type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];
type Padding = 'same' | 'valid' | number | ExplicitPad;

/** The same-shaped upstream gradient r: the loss is sum(y · r), so ∂loss/∂y = r. */
const weighted = (y: tf.Tensor, seed: number): tf.Scalar => tf.sum(tf.mul(y, randn(y.shape, seed)));

interface ConvCase {
  n: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  stride: number;
  pad: Padding;
  dilation: [number, number];
}

const describeCase = (c: ConvCase): string =>
  `x[${c.n},${c.h},${c.w},${c.cin}] k${c.kh}×${c.kw}→${c.cout} stride ${c.stride} ` +
  `dilation ${c.dilation.join('×')} pad ${JSON.stringify(c.pad)}`;

/** ∂/∂x and ∂/∂f of sum(conv2d(x, f) · r). */
const convGrads =
  (c: ConvCase, seed = 0): Producer =>
  () => {
    const x = randn([c.n, c.h, c.w, c.cin], 41 + seed);
    const f = randn([c.kh, c.kw, c.cin, c.cout], 42 + seed);
    return tf.grads((xx: tf.Tensor, ff: tf.Tensor) =>
      weighted(
        tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation),
        43 + seed,
      ),
    )([x, f]);
  };

/** The zero-inserted filter: fd[r·dh, c·dw] = f[r, c], zeros in between. Built in JS. */
function zeroInserted(f: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  const [kh, kw, ci, co] = f.shape;
  const src = f.bufferSync();
  const out = tf.buffer([(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co], 'float32');
  for (let r = 0; r < kh; r++) {
    for (let c = 0; c < kw; c++) {
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) out.set(src.get(r, c, i, o), r * dh, c * dw, i, o);
      }
    }
  }
  return out.toTensor() as tf.Tensor4D;
}

async function kernelNames(f: () => tf.TensorContainer): Promise<string[]> {
  const info = await tf.profile(f);
  tf.dispose(info.result);
  return info.kernels.map((k) => k.name);
}

beforeAll(async () => {
  tf.enableProdMode(); // no Node banner in the test output
  registerConvGradient();
  registerWasmTrainingKernels();
  await tf.setBackend('cpu');
});

describe('registration', () => {
  it('replaces the Conv2D gradient once; registering again is a no-op', () => {
    const first = tf.getGradient('Conv2D');
    expect(first).toBeDefined();
    expect(Symbol.for('tfjs-mtl.conv-gradient') in first).toBe(true);
    registerConvGradient();
    registerConvGradient();
    expect(tf.getGradient('Conv2D')).toBe(first);
  });
});

describe('conv2d gradients on wasm match cpu', () => {
  const random = rng(20250314);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const cases: ConvCase[] = [];
  for (const k of [1, 3, 5]) {
    for (const d of [1, 2, 3]) {
      for (const stride of d === 1 ? [1, 2] : [1]) {
        for (const pad of ['same', 'valid'] as const) {
          const ke = (k - 1) * d + 1;
          // Odd and even sizes; ≥ the dilated extent for 'valid'.
          const lo = pad === 'valid' ? ke : 3;
          cases.push({
            n: int(1, 3),
            h: int(lo, lo + 6),
            w: int(lo, lo + 6),
            cin: int(1, 5),
            cout: int(1, 5),
            kh: k,
            kw: k,
            stride,
            pad,
            dilation: [d, d],
          });
        }
      }
    }
  }
  // Unequal dilations and kernel sides, even kernels, explicit and numeric padding, including
  // explicit padding wider than the dilated extent (the dy-crop path of the input gradient).
  cases.push({ n: 2, h: 9, w: 8, cin: 3, cout: 2, kh: 3, kw: 2, stride: 1, pad: 'same', dilation: [1, 2] });
  cases.push({ n: 1, h: 10, w: 11, cin: 2, cout: 4, kh: 2, kw: 3, stride: 1, pad: 'same', dilation: [3, 2] });
  cases.push({ n: 2, h: 8, w: 7, cin: 2, cout: 3, kh: 4, kw: 4, stride: 1, pad: 'valid', dilation: [2, 2] });
  cases.push({ n: 1, h: 7, w: 9, cin: 3, cout: 2, kh: 3, kw: 3, stride: 1, pad: 2, dilation: [2, 2] });
  cases.push({
    n: 2,
    h: 6,
    w: 7,
    cin: 2,
    cout: 3,
    kh: 3,
    kw: 3,
    stride: 1,
    pad: [
      [0, 0],
      [5, 0],
      [1, 6],
      [0, 0],
    ],
    dilation: [2, 2],
  });
  cases.push({
    n: 1,
    h: 5,
    w: 6,
    cin: 2,
    cout: 2,
    kh: 2,
    kw: 3,
    stride: 1,
    pad: [
      [0, 0],
      [0, 4],
      [3, 0],
      [0, 0],
    ],
    dilation: [3, 1],
  });

  for (const c of cases) {
    it(describeCase(c), async () => {
      await expectSameAsCpu('conv2d grads', convGrads(c));
    });
  }
});

describe('dilated gradients equal undilated gradients with the zero-inserted filter (cpu)', () => {
  const cases: ConvCase[] = [];
  for (const pad of ['same', 'valid'] as const) {
    for (const d of [2, 3]) {
      cases.push({ n: 2, h: 11, w: 10, cin: 3, cout: 4, kh: 3, kw: 3, stride: 1, pad, dilation: [d, d] });
      cases.push({ n: 1, h: 9, w: 12, cin: 2, cout: 3, kh: 2, kw: 3, stride: 1, pad, dilation: [d, 5 - d] });
    }
  }
  cases.push({
    n: 1,
    h: 7,
    w: 6,
    cin: 2,
    cout: 2,
    kh: 3,
    kw: 3,
    stride: 1,
    pad: [
      [0, 0],
      [6, 1],
      [0, 7],
      [0, 0],
    ],
    dilation: [2, 3],
  });

  for (const c of cases) {
    it(describeCase(c), async () => {
      await tf.setBackend('cpu');
      const [gx, gf, gxRef, gfRef, gxDirect, gfDirect] = tf.tidy(() => {
        const x = randn([c.n, c.h, c.w, c.cin], 61) as tf.Tensor4D;
        const f = randn([c.kh, c.kw, c.cin, c.cout], 62) as tf.Tensor4D;
        const fd = zeroInserted(f, c.dilation);
        const y = tf.conv2d(x, f, 1, c.pad, 'NHWC', c.dilation);
        const r = randn(y.shape, 63);
        // Sanity: the forward passes agree, so the reference is the same function.
        const yRef = tf.conv2d(x, fd, 1, c.pad);
        expect(yRef.shape).toEqual(y.shape);
        expect(tf.max(tf.abs(tf.sub(y, yRef))).arraySync()).toBeLessThan(1e-4);
        const loss = (xx: tf.Tensor, ff: tf.Tensor, dil: [number, number]): tf.Scalar =>
          tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 1, c.pad, 'NHWC', dil), r));
        const [dx, df] = tf.grads((xx: tf.Tensor, ff: tf.Tensor) => loss(xx, ff, c.dilation))([x, f]);
        const [dxRef, dfd] = tf.grads((xx: tf.Tensor, ff: tf.Tensor) => loss(xx, ff, [1, 1]))([x, fd]);
        const [dh, dw] = c.dilation;
        const dfRef = tf.stridedSlice(dfd!, [0, 0, 0, 0], dfd!.shape, [dh, dw, 1, 1]);
        const dy = r as tf.Tensor4D;
        return [
          dx!,
          df!,
          dxRef!,
          dfRef,
          dilatedConv2dInputGradient(x, f, dy, c.pad, c.dilation),
          dilatedConv2dFilterGradient(x, f, dy, c.pad, c.dilation),
        ];
      });
      expect(gx.shape).toEqual([c.n, c.h, c.w, c.cin]);
      expect(gf.shape).toEqual([c.kh, c.kw, c.cin, c.cout]);
      expect(gfRef.shape).toEqual(gf.shape);
      const [a, b, ar, br, ad, bd] = await Promise.all(
        [gx, gf, gxRef, gfRef, gxDirect, gfDirect].map((t) => t.data()),
      );
      expectClose('dx vs zero-inserted', [a!], [ar!], 1e-5);
      expectClose('dW vs zero-inserted taps', [b!], [br!], 1e-5);
      expectClose('exported dx / dW', [ad!, bd!], [a!, b!], 1e-6);
      tf.dispose([gx, gf, gxRef, gfRef, gxDirect, gfDirect]);
    });
  }
});

describe('1×1 convolutions', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`stride-1 1×1 gradients equal the matMul gradients (${backend})`, async () => {
      for (const [pad, dilation] of [
        ['same', 1],
        ['valid', 1],
        [0, 1],
        ['same', 2],
      ] as const) {
        const [n, h, w, cin, cout] = [2, 5, 6, 7, 4];
        const produce = (): tf.Tensor[] => {
          const x = randn([n, h, w, cin], 71);
          const f = randn([1, 1, cin, cout], 72);
          const r = randn([n, h, w, cout], 73);
          const conv = tf.grads((xx: tf.Tensor, ff: tf.Tensor) =>
            tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 1, pad, 'NHWC', dilation), r)),
          )([x, f]);
          const mm = tf.grads((x2: tf.Tensor, f2: tf.Tensor) =>
            tf.sum(tf.mul(tf.matMul(x2 as tf.Tensor2D, f2 as tf.Tensor2D), tf.reshape(r, [-1, cout]))),
          )([tf.reshape(x, [-1, cin]), tf.reshape(f, [cin, cout])]);
          return [...conv, tf.reshape(mm[0]!, x.shape), tf.reshape(mm[1]!, f.shape)];
        };
        const [dx, df, dxRef, dfRef] = await runOn(backend, produce);
        expectClose(`1×1 pad ${pad} dilation ${dilation}`, [dx!, df!], [dxRef!, dfRef!], 1e-5);
      }
    });

    it(`stride-1 1×1 runs as matMuls, without backprop kernels (${backend})`, async () => {
      await tf.setBackend(backend);
      const x = randn([2, 5, 6, 3], 74);
      const f = randn([1, 1, 3, 4], 75);
      const names = await kernelNames(() =>
        tf.grads((xx: tf.Tensor, ff: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 1, 'same'))),
        )([x, f]),
      );
      expect(names).toContain('BatchMatMul');
      expect(names).not.toContain('Conv2DBackpropInput');
      expect(names).not.toContain('Conv2DBackpropFilter');
      tf.dispose([x, f]);
    });
  }

  // Rows and columns 0, 2, 4, …, by pad/reshape/slice (tf.stridedSlice has no gradient in tfjs 4.22,
  // and gather's needs UnsortedSegmentSum, which wasm lacks).
  const everyOther = (x: tf.Tensor4D): tf.Tensor4D => {
    const [n, h, w, c] = x.shape;
    const [h2, w2] = [Math.ceil(h / 2), Math.ceil(w / 2)];
    const even = tf.pad(x, [
      [0, 0],
      [0, 2 * h2 - h],
      [0, 2 * w2 - w],
      [0, 0],
    ]);
    const split = tf.reshape(even, [n, h2, 2, w2, 2, c]);
    return tf.reshape(tf.slice(split, [0, 0, 0, 0, 0, 0], [n, h2, 1, w2, 1, c]), [n, h2, w2, c]);
  };
  // Stride 2 subsamples, explicit padding pads: both go to the original (delegated) gradient.
  const delegated: { label: string; stride: number; pad: Padding; ref: (x: tf.Tensor4D) => tf.Tensor4D }[] = [
    {
      label: 'stride 2 valid',
      stride: 2,
      pad: 'valid',
      ref: everyOther,
    },
    {
      label: 'stride 2 same',
      stride: 2,
      pad: 'same',
      ref: everyOther,
    },
    {
      label: 'explicit padding',
      stride: 1,
      pad: [
        [0, 0],
        [1, 0],
        [0, 2],
        [0, 0],
      ],
      ref: (x) =>
        tf.pad(x, [
          [0, 0],
          [1, 0],
          [0, 2],
          [0, 0],
        ]),
    },
    {
      label: 'numeric padding 1',
      stride: 1,
      pad: 1,
      ref: (x) =>
        tf.pad(x, [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ]),
    },
  ];
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const c of delegated) {
      it(`1×1 ${c.label} uses the original gradient and is right (${backend})`, async () => {
        const cin = 3;
        const cout = 5;
        const produce = (): tf.Tensor[] => {
          const x = randn([2, 7, 6, cin], 81) as tf.Tensor4D;
          const f = randn([1, 1, cin, cout], 82) as tf.Tensor4D;
          const y = tf.conv2d(x, f, c.stride, c.pad);
          const r = randn(y.shape, 83);
          const conv = tf.grads((xx: tf.Tensor, ff: tf.Tensor) =>
            tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, c.stride, c.pad), r)),
          )([x, f]);
          const mm = tf.grads((xx: tf.Tensor, f2: tf.Tensor) => {
            const sampled = c.ref(xx as tf.Tensor4D);
            expect(sampled.shape.slice(0, 3)).toEqual(y.shape.slice(0, 3));
            const prod = tf.matMul(tf.reshape(sampled, [-1, cin]), f2);
            return tf.sum(tf.mul(prod, tf.reshape(r, [-1, cout])));
          })([x, tf.reshape(f, [cin, cout])]);
          return [...conv, mm[0]!, tf.reshape(mm[1]!, f.shape)];
        };
        const [dx, df, dxRef, dfRef] = await runOn(backend, produce);
        expectClose(c.label, [dx!, df!], [dxRef!, dfRef!], 1e-5);

        await tf.setBackend(backend);
        const x = randn([1, 7, 6, cin], 84);
        const f = randn([1, 1, cin, cout], 85);
        const names = await kernelNames(() =>
          tf.grad((ff: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, ff as tf.Tensor4D, c.stride, c.pad)))(
            f,
          ),
        );
        expect(names).toContain('Conv2DBackpropFilter');
        tf.dispose([x, f]);
      });
    }
  }
});

describe('laziness', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`no input gradient for a non-variable input (${backend})`, async () => {
      await tf.setBackend(backend);
      const x = randn([2, 9, 8, 3], 91);
      for (const [k, dilation, forbidden, required] of [
        [3, 1, 'Conv2DBackpropInput', 'Conv2DBackpropFilter'],
        [3, 2, 'Reverse', 'Conv2D'],
        [1, 1, 'Conv2DBackpropInput', 'BatchMatMul'],
      ] as const) {
        const filter = tf.variable(randn([k, k, 3, 4], 92) as tf.Tensor4D, true);
        const names = await kernelNames(() => {
          const { value, grads } = tf.variableGrads(
            () => tf.sum(tf.square(tf.conv2d(x as tf.Tensor4D, filter, 1, 'same', 'NHWC', dilation))),
            [filter],
          );
          return [value, ...Object.values(grads)];
        });
        const label = `k${k} dilation ${dilation}: ${names.join(', ')}`;
        expect(names, label).not.toContain(forbidden);
        expect(names, label).toContain(required);
        if (k === 1)
          expect(
            names.filter((n) => n === 'BatchMatMul'),
            label,
          ).toHaveLength(1);
        // Dilated: the forward conv and the filter gradient's conv (on wasm its patches kernel), nothing for x.
        if (dilation > 1) {
          expect(
            names.filter((n) => n === 'Conv2D'),
            label,
          ).toHaveLength(backend === 'wasm' ? 1 : 2);
          if (backend === 'wasm') expect(names, label).toContain('TfjsMtlConv2DFilterGrad');
        }
        filter.dispose();
      }
      x.dispose();
    });
  }
});

describe('errors and other data formats', () => {
  it('rejects a dilated NCHW convolution with a clear error', async () => {
    await tf.setBackend('cpu');
    const x = randn([1, 2, 7, 7], 101) as tf.Tensor4D;
    const f = randn([3, 3, 2, 3], 102) as tf.Tensor4D;
    expect(() =>
      tf.grads((xx: tf.Tensor, ff: tf.Tensor) =>
        tf.sum(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 1, 'same', 'NCHW', 2)),
      )([x, f]),
    ).toThrow(/dilated convolutions support only dataFormat 'NHWC'/);
    tf.dispose([x, f]);
  });

  it('keeps the original gradient for an undilated NCHW convolution (cpu)', async () => {
    await tf.setBackend('cpu');
    const [a, b, c, d] = tf.tidy(() => {
      const x = randn([2, 3, 7, 6], 103) as tf.Tensor4D;
      const f = randn([3, 3, 3, 2], 104) as tf.Tensor4D;
      const r = randn([2, 2, 4, 3], 105);
      const nchw = tf.grads((xx: tf.Tensor, ff: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 2, 'same', 'NCHW'), r)),
      )([x, f]);
      const nhwc = tf.grads((xx: tf.Tensor, ff: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.transpose(
              tf.conv2d(tf.transpose(xx as tf.Tensor4D, [0, 2, 3, 1]), ff as tf.Tensor4D, 2, 'same'),
              [0, 3, 1, 2],
            ),
            r,
          ),
        ),
      )([x, f]);
      return [nchw[0]!, nchw[1]!, nhwc[0]!, nhwc[1]!];
    });
    expectClose('NCHW vs NHWC', [a.dataSync(), b.dataSync()], [c.dataSync(), d.dataSync()], 1e-5);
    tf.dispose([a, b, c, d]);
  });

  it('rejects strides > 1 with dilations > 1 (the op already does; the gradient too)', async () => {
    await tf.setBackend('cpu');
    const x = randn([1, 8, 8, 2], 106) as tf.Tensor4D;
    const f = randn([3, 3, 2, 3], 107) as tf.Tensor4D;
    expect(() => tf.conv2d(x, f, 2, 'same', 'NHWC', 2)).toThrow(/Either strides or dilations must be 1/);
    const dy = tf.ones([1, 4, 4, 3]);
    const grad = tf.getGradient('Conv2D');
    const attrs = { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', dilations: [2, 2] };
    expect(() => grad.gradFunc(dy, [x, f], attrs)).toThrow(
      /strides 2,2 with dilations 2,2 are not supported/,
    );
    tf.dispose([x, f, dy]);
  });
});

describe('memory', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`leaves no tensors behind (${backend})`, async () => {
      await tf.setBackend(backend);
      const x = randn([2, 9, 10, 3], 111) as tf.Tensor4D;
      const configs: [number, number, Padding][] = [
        [3, 1, 'same'],
        [3, 2, 'same'],
        [3, 3, 'valid'],
        [
          3,
          2,
          [
            [0, 0],
            [6, 0],
            [1, 7],
            [0, 0],
          ],
        ],
        [1, 1, 'same'],
        [1, 1, 'valid'],
      ];
      const filters = configs.map(([k], i) => randn([k, k, 3, 4], 112 + i) as tf.Tensor4D);
      const step = (): void => {
        const grads = tf.tidy(() =>
          configs.flatMap(([, d, pad], i) =>
            tf.grads((xx: tf.Tensor, ff: tf.Tensor) =>
              tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 1, pad, 'NHWC', d))),
            )([x, filters[i]!]),
          ),
        );
        expect(grads.every((g) => !g.isDisposed)).toBe(true);
        tf.dispose(grads);
      };
      step(); // warm-up
      const before = tf.memory();
      step();
      step();
      const after = tf.memory();
      expect(after.numTensors).toBe(before.numTensors);
      expect(after.numDataBuffers).toBe(before.numDataBuffers);
      tf.dispose([x, ...filters]);
    });
  }
});
