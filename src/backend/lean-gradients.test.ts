import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LEAN_GRADIENT_KERNELS, registerLeanGradients } from './lean-gradients.js';

// tfjs-core's own gradients, captured before anything replaces them
const ORIGINAL = new Map(LEAN_GRADIENT_KERNELS.map((name) => [name, tf.getGradient(name)] as const));

type Mode = 'original' | 'lean';
type Fn = (...xs: tf.Tensor[]) => tf.Tensor;
/** normal: N(0,1); positive: in [0.5, 2) (divisors); rounded: round(2·N(0,1))/2, many exact zeros. */
type Kind = 'normal' | 'positive' | 'rounded';

function useGradients(mode: Mode): void {
  if (mode === 'lean') registerLeanGradients();
  else for (const config of ORIGINAL.values()) tf.registerGradient(config);
}

function input(shape: number[], seed: number, kind: Kind = 'normal'): tf.Tensor {
  return tf.tidy(() => {
    if (kind === 'positive') return tf.randomUniform(shape, 0.5, 2, 'float32', seed);
    const n = tf.randomNormal(shape, 0, 1, 'float32', seed);
    return kind === 'rounded' ? tf.div(tf.round(tf.mul(n, 2)), 2) : n;
  });
}

interface Run {
  grads: Float32Array[];
  kernels: number;
}

/** Gradients of f at inputs of `shapes` (seeded), against a random dy of f's output shape when `withDy`. */
async function gradsOf(
  f: Fn,
  shapes: number[][],
  kinds: Kind[],
  seed: number,
  withDy: boolean,
  mode: Mode,
): Promise<Run> {
  useGradients(mode);
  const xs = shapes.map((s, i) => input(s, seed + i, kinds[i]));
  const outShape = tf.tidy(() => f(...xs).shape);
  const dy = withDy ? input(outShape, seed + 101) : undefined;
  const g = tf.grads(f);

  // tidy'd gradient: nothing may survive it
  const tensorsBefore = tf.memory().numTensors;
  tf.tidy(() => {
    g(xs, dy);
  });
  expect(tf.memory().numTensors, `${mode}: tensors leaked by a tidy'd gradient`).toBe(tensorsBefore);

  const profile = await tf.profile(() => {
    tf.dispose(g(xs, dy));
  });
  const kernels = profile.kernels.length;

  const out = g(xs, dy);
  const grads = out.map((t, i) => {
    expect(t.shape, `${mode}: gradient ${i} shape`).toEqual(xs[i]?.shape);
    expect(t.dtype).toBe('float32');
    return Float32Array.from(t.dataSync());
  });
  tf.dispose(out);
  expect(tf.memory().numTensors, `${mode}: tensors leaked by an undisposed gradient`).toBe(tensorsBefore);
  if (dy) {
    // views of a caller's dy are separate tensors: disposing the gradients must not dispose dy
    expect(dy.isDisposed).toBe(false);
    expect(Array.from(dy.dataSync()).length).toBe(dy.size);
  }
  tf.dispose([...xs, ...(dy ? [dy] : [])]);
  return { grads, kernels };
}

function expectClose(label: string, got: Float32Array[], want: Float32Array[], rel = 1e-6): void {
  expect(got.length, label).toBe(want.length);
  want.forEach((w, k) => {
    const g = got[k]!;
    expect(g.length, `${label}: gradient ${k} size`).toBe(w.length);
    let maxAbs = 0;
    let maxDiff = 0;
    w.forEach((v, i) => {
      const u = g[i]!;
      if (Number.isNaN(v) && Number.isNaN(u)) return;
      maxAbs = Math.max(maxAbs, Math.abs(v));
      maxDiff = Math.max(maxDiff, Math.abs(v - u));
    });
    expect(maxDiff, `${label}: gradient ${k}`).toBeLessThanOrEqual(rel * maxAbs + 1e-30);
  });
}

/** Original vs lean gradients of one case: equal within 1e-6, lean launching no more kernels. */
async function expectLeanMatches(
  label: string,
  f: Fn,
  shapes: number[][],
  kinds: Kind[] = [],
  seed = 1,
): Promise<{ original: number; lean: number }> {
  const counts = { original: 0, lean: 0 };
  for (const withDy of [true, false]) {
    const want = await gradsOf(f, shapes, kinds, seed, withDy, 'original');
    const got = await gradsOf(f, shapes, kinds, seed, withDy, 'lean');
    expectClose(`${label}${withDy ? ' (dy given)' : ''}`, got.grads, want.grads);
    expect(got.kernels, `${label}: kernels`).toBeLessThanOrEqual(want.kernels);
    counts.original = want.kernels;
    counts.lean = got.kernels;
  }
  return counts;
}

const fmt = (shape: number[]): string => `[${shape.join(',')}]`;

// broadcasting pairs [a, b]: scalar×matrix, [B,1]×[1,N], [B,T,H]×[T,H], equal, rank 1 vs rank 3, …
const PAIRS: [number[], number[]][] = [
  [[], [3, 4]],
  [[3, 4], []],
  [
    [5, 1],
    [1, 4],
  ],
  [
    [2, 3, 4],
    [3, 4],
  ],
  [
    [3, 4],
    [2, 3, 4],
  ],
  [
    [3, 4],
    [3, 4],
  ],
  [[4], [2, 3, 4]],
  [[2, 3, 4], [4]],
  [
    [2, 1, 4],
    [3, 1],
  ],
  [[1, 3], [3]],
  [
    [2, 3, 1],
    [1, 1, 1],
  ],
  [[1], [6]],
];

const BINARY: [string, Fn, Kind[]][] = [
  ['Add', (a, b) => tf.add(a, b), []],
  ['Sub', (a, b) => tf.sub(a, b), []],
  ['Multiply', (a, b) => tf.mul(a, b), []],
  ['RealDiv', (a, b) => tf.div(a, b), ['normal', 'positive']],
];

// [x shape, axis, keepDims]
const REDUCTIONS: [number[], number | number[] | null, boolean][] = [
  [[2, 3, 4], null, false],
  [[2, 3, 4], null, true],
  [[2, 3, 4], 0, false],
  [[2, 3, 4], -1, true],
  [[2, 3, 4], -1, false],
  [[2, 3, 4], [0, 2], false],
  [[2, 3, 4], [0, 2], true],
  [[2, 3, 4], 1, true],
  [[5], 0, false],
  [[3, 1], 1, false],
  [[3, 1], [0, 1], true],
  [[20, 1], null, false],
  [[], null, false],
];

// random composites of the replaced kernels, over broadcasting pairs
const COMPOSITES: [string, Fn, Kind[]][] = [
  [
    'mean(square(sub(mul(a,b), add(a,b))))',
    (a, b) => tf.mean(tf.square(tf.sub(tf.mul(a, b), tf.add(a, b)))),
    [],
  ],
  ['sum(relu(div(a,b)), -1)', (a, b) => tf.sum(tf.relu(tf.div(a, b)), -1), ['rounded', 'positive']],
  [
    'mean(mul(exp(0.1a), squaredDifference(a·b, a+b)), 0, keepDims)',
    (a, b) =>
      tf.mean(tf.mul(tf.exp(tf.mul(a, 0.1)), tf.squaredDifference(tf.mul(a, b), tf.add(a, b))), 0, true),
    [],
  ],
  [
    'addN([a·b, a·b, a−b, a+b])',
    (a, b) => {
      const p = tf.mul(a, b);
      return tf.addN([p, p, tf.sub(a, b), tf.add(a, b)]);
    },
    [],
  ],
  [
    'sum(reshape(neg(square(a+b)), [-1])) / mean(b·b + 1)',
    (a, b) =>
      tf.div(tf.sum(tf.reshape(tf.neg(tf.square(tf.add(a, b))), [-1])), tf.add(tf.mean(tf.mul(b, b)), 1)),
    [],
  ],
  [
    'sum(expandDims(clone(cast(relu(a)−b)), 0)·a, [0, -1])',
    (a, b) =>
      tf.sum(tf.mul(tf.expandDims(tf.clone(tf.cast(tf.sub(tf.relu(a), b), 'float32')), 0), a), [0, -1]),
    ['rounded', 'normal'],
  ],
];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`lean gradients on ${backend}`, () => {
    beforeAll(async () => {
      await tf.setBackend(backend);
    });
    afterAll(() => useGradients('lean'));

    for (const [name, f, kinds] of BINARY) {
      it(`${name} matches the original over broadcasting shape pairs`, async () => {
        let seed = 10;
        for (const [a, b] of PAIRS) {
          await expectLeanMatches(`${name} ${fmt(a)}×${fmt(b)}`, f, [a, b], kinds, seed++);
        }
        // the same tensor as both inputs
        await expectLeanMatches(`${name}(x, x)`, (x) => f(x, x), [[3, 4]], kinds, seed);
      });
    }

    it('SquaredDifference matches the original on equal shapes and sub+square when broadcasting', async () => {
      const f: Fn = (a, b) => tf.squaredDifference(a, b);
      await expectLeanMatches('SquaredDifference [3,4]×[3,4]', f, [
        [3, 4],
        [3, 4],
      ]);
      await expectLeanMatches('SquaredDifference(x, x)', (x) => f(x, x), [[3, 4]]);
      // tfjs-core's own gradient does not reduce broadcast axes; compare to the same function as sub+square
      const reference: Fn = (a, b) => tf.square(tf.sub(a, b));
      let seed = 40;
      for (const [a, b] of PAIRS) {
        for (const withDy of [true, false]) {
          const want = await gradsOf(reference, [a, b], [], seed, withDy, 'original');
          const got = await gradsOf(f, [a, b], [], seed, withDy, 'lean');
          expectClose(`SquaredDifference ${fmt(a)}×${fmt(b)}`, got.grads, want.grads, 1e-5);
        }
        seed++;
      }
    });

    for (const [name, reduce] of [
      ['Mean', tf.mean],
      ['Sum', tf.sum],
    ] as const) {
      it(`${name} matches the original for axes null/0/-1/[0,2], keepDims or not`, async () => {
        let seed = 60;
        for (const [shape, axis, keepDims] of REDUCTIONS) {
          const f: Fn = (x) => reduce(x, axis ?? undefined, keepDims);
          await expectLeanMatches(
            `${name} ${fmt(shape)} axis ${String(axis)} keepDims ${keepDims}`,
            f,
            [shape],
            [],
            seed++,
          );
          // followed by a broadcasting consumer, so that dy is not uniform
          const g: Fn = (x, w) => tf.sum(tf.mul(reduce(x, axis ?? undefined, keepDims), w));
          const out = tf.tidy(() => reduce(tf.zeros(shape), axis ?? undefined, keepDims).shape);
          await expectLeanMatches(`${name}·w ${fmt(shape)}`, g, [shape, out], [], seed++);
        }
      });
    }

    it('Square, Relu (0 at x ≤ 0), Reshape, ExpandDims, Identity, Cast match the original', async () => {
      const unary: [string, Fn, Kind][] = [
        ['Square', (x) => tf.square(x), 'normal'],
        ['Relu', (x) => tf.relu(x), 'rounded'],
        ['Reshape', (x) => tf.reshape(x, [-1]), 'normal'],
        ['Reshape (squeeze)', (x) => tf.squeeze(x), 'normal'],
        ['ExpandDims', (x) => tf.expandDims(x, -1), 'normal'],
        ['Identity', (x) => tf.clone(x), 'normal'],
        ['Cast', (x) => tf.cast(x, 'float32'), 'normal'],
      ];
      let seed = 90;
      for (const [name, f, kind] of unary) {
        for (const shape of [[], [7], [4, 1, 5]]) {
          await expectLeanMatches(`${name} ${fmt(shape)}`, f, [shape], [kind], seed++);
        }
      }
      // relu's gradient is exactly 0 at 0 and below, 1 above
      useGradients('lean');
      const x = tf.tensor1d([-2, -0, 0, 1e-30, 3]);
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.relu(t)))(x);
      expect(Array.from(dx.dataSync())).toEqual([0, 0, 0, 1, 1]);
      tf.dispose([x, dx]);
    });

    it('AddN with repeated and distinct inputs matches the original', async () => {
      await expectLeanMatches('addN([x, x, x])', (x) => tf.addN([x, x, x]), [[3, 4]]);
      await expectLeanMatches('addN([a, b, a])', (a, b) => tf.addN([a, b, a]), [
        [2, 3],
        [2, 3],
      ]);
      await expectLeanMatches('addN([a]) then mean', (a) => tf.mean(tf.addN([a])), [[5]]);
    });

    it('random composites match the original over broadcasting shape pairs', async () => {
      let seed = 200;
      for (const [name, f, kinds] of COMPOSITES) {
        for (const [a, b] of PAIRS) {
          await expectLeanMatches(`${name} ${fmt(a)}×${fmt(b)}`, f, [a, b], kinds, seed++);
        }
      }
    });

    it('pass-through gradients stay valid when the input also feeds earlier ops', async () => {
      // Add(a, m) hands dy to both a and m; m's producer (matMul) then adds into a's gradient, which
      // disposes the gradient held so far. An aliased dy would be freed under m: views are not.
      const f: Fn = (a, w) => tf.sum(tf.mul(tf.add(a, tf.matMul(a, w)), tf.add(a, 1)));
      await expectLeanMatches('a + a·W', f, [
        [3, 3],
        [3, 3],
      ]);
      const g: Fn = (a) =>
        tf.sum(tf.addN([tf.reshape(tf.exp(a), [6]), tf.reshape(a, [6]), tf.reshape(tf.relu(a), [6])]));
      await expectLeanMatches('addN of views of a', g, [[2, 3]], ['rounded']);
    });

    it('second-order gradients (a tape recording the backward pass) match the original', () => {
      const cases: [string, (x: tf.Tensor) => tf.Tensor][] = [
        ['sum(square(x + c)·x)', (x) => tf.sum(tf.mul(tf.square(tf.add(x, tf.ones([4]))), x))],
        [
          'mean(square(x))·sum(x·x, 0)',
          (x) => tf.sum(tf.mul(tf.mean(tf.square(x), 1, true), tf.sum(tf.mul(x, x), 0))),
        ],
        [
          'sum(reshape(x)³ / (1 + x²))',
          (x) =>
            tf.sum(
              tf.div(
                tf.mul(tf.reshape(x, [12]), tf.reshape(tf.square(x), [12])),
                tf.add(1, tf.reshape(tf.square(x), [12])),
              ),
            ),
        ],
        [
          'sum(addN([x, x·x]) − mean(x)²)',
          (x) => tf.sum(tf.sub(tf.addN([x, tf.mul(x, x)]), tf.square(tf.mean(x)))),
        ],
      ];
      for (const [name, f] of cases) {
        const run = (mode: Mode): Float32Array => {
          useGradients(mode);
          const x = input([3, 4], 300);
          const before = tf.memory().numTensors;
          const d2 = tf.grad((t: tf.Tensor) => tf.sum(tf.grad(f)(t)))(x);
          const values = Float32Array.from(d2.dataSync());
          d2.dispose();
          expect(tf.memory().numTensors, `${name}: leak`).toBe(before);
          x.dispose();
          return values;
        };
        const want = run('original');
        expectClose(`d²/dx² ${name}`, [run('lean')], [want], 1e-5);
      }
    });

    it('launches strictly fewer kernels for a 2-layer MLP loss, with the same gradients', async () => {
      const x = input([20, 1], 1);
      const y = input([20, 1], 2);
      const W1 = tf.variable(input([1, 1024], 3));
      const b1 = tf.variable(input([1024], 4));
      const W2 = tf.variable(input([1024, 1], 5));
      const b2 = tf.variable(input([1], 6));
      let forward = 0;
      const loss = (): tf.Scalar => {
        const l = tf.mean(
          tf.square(tf.sub(y, tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, W1), b1)), W2), b2))),
        );
        // kernels so far: the forward pass, including the copies the engine saves for the gradients
        forward = tf.engine().state.activeProfile.kernels.length;
        return l as tf.Scalar;
      };
      const counts = {} as Record<Mode, { forward: number; backward: number; byKernel: string }>;
      const grads = {} as Record<Mode, Float32Array[]>;
      for (const mode of ['original', 'lean'] as const) {
        useGradients(mode);
        const profile = await tf.profile(() => {
          const { value, grads } = tf.variableGrads(loss);
          tf.dispose([value, ...Object.values(grads)]);
        });
        const byKernel: Record<string, number> = {};
        for (const k of profile.kernels.slice(forward)) byKernel[k.name] = (byKernel[k.name] ?? 0) + 1;
        counts[mode] = {
          forward,
          backward: profile.kernels.length - forward,
          byKernel: JSON.stringify(byKernel),
        };
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          tf.variableGrads(loss);
        });
        expect(tf.memory().numTensors, `${mode}: leak`).toBe(before);
        const { value, grads: g } = tf.variableGrads(loss);
        grads[mode] = [W1, b1, W2, b2].map((v) => Float32Array.from(g[v.name]!.dataSync()));
        tf.dispose([value, ...Object.values(g)]);
      }
      console.log(
        `[${backend}] MLP step kernels: forward ${counts.original.forward} (incl. saved copies), backward ` +
          `${counts.original.backward} → ${counts.lean.backward}\n` +
          `  original backward ${counts.original.byKernel}\n  lean     backward ${counts.lean.byKernel}`,
      );
      expect(counts.lean.forward).toBe(counts.original.forward);
      expect(counts.lean.backward).toBeLessThan(counts.original.backward);
      expectClose('MLP gradients', grads.lean, grads.original);
      tf.dispose([x, y, W1, b1, W2, b2]);
    });
  });
}

describe('registration', () => {
  it('replaces every listed gradient, idempotently, and re-installs after a restore', () => {
    for (const name of LEAN_GRADIENT_KERNELS) expect(ORIGINAL.get(name), name).toBeDefined();
    registerLeanGradients();
    const lean = LEAN_GRADIENT_KERNELS.map((name) => tf.getGradient(name));
    lean.forEach((config, i) =>
      expect(config, LEAN_GRADIENT_KERNELS[i]).not.toBe(ORIGINAL.get(config.kernelName)),
    );
    registerLeanGradients();
    expect(LEAN_GRADIENT_KERNELS.map((name) => tf.getGradient(name))).toEqual(lean);
    useGradients('original');
    expect(tf.getGradient('Add')).toBe(ORIGINAL.get('Add'));
    registerLeanGradients();
    expect(LEAN_GRADIENT_KERNELS.map((name) => tf.getGradient(name))).toEqual(lean);
  });

  it('keeps the inputs and outputs that it saves to what the gradients read', () => {
    registerLeanGradients();
    for (const name of LEAN_GRADIENT_KERNELS) {
      const config = tf.getGradient(name);
      const original = ORIGINAL.get(name)!;
      expect(config.outputsToSave ?? [], name).toEqual([]);
      // never more than the original saves
      for (const input of config.inputsToSave ?? [])
        expect(original.inputsToSave ?? [], name).toContain(input);
    }
    expect(tf.getGradient('AddN').saveAllInputs).toBeFalsy();
  });

  it('is quiet about overriding, even with DEBUG on', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      tf.env().set('DEBUG', true);
      useGradients('original'); // warns (DEBUG): not ours
      warn.mockClear();
      registerLeanGradients();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      tf.env().set('DEBUG', false);
      warn.mockRestore();
    }
    registerLeanGradients();
  });
});
