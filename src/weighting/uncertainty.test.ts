import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { classificationTask } from '../tasks/classification.js';
import { regressionTask } from '../tasks/regression.js';
import { uncertaintyWeighting } from './uncertainty.js';
import { createWeighting } from './registry.js';

interface GoldenCase {
  B: number;
  C: number;
  y_reg: number[];
  f_reg: number[];
  logits: number[][];
  labels: number[];
  mask: number[];
  s: { reg: number; cls: number; lap: number };
  kendall: {
    mse: number;
    ce: number;
    terms: number[];
    total: number;
    d_s: number[];
    d_f_reg: number[];
    d_logits: number[][];
  };
  laplace: { l1: number; total: number; d_s: number; d_f_reg: number[] };
  seed: {
    y2: number[];
    f2: number[];
    s: number[];
    total: number;
    d_s: number[];
    d_f1: number[];
    d_f2: number[];
  };
  liebel: { total: number; d_s: number[]; d_f_reg: number[]; d_logits: number[][] };
  masked: { mse: number; total: number; d_s: number; d_f_reg: number[] };
}
const golden = JSON.parse(
  readFileSync(new URL('../../../shared/reference/golden/uw_loss.json', import.meta.url), 'utf8'),
) as { cases: GoldenCase[] };

/** Relative to the largest magnitude of the expected vector (float32 against float64 references). */
function expectClose(
  actual: number | number[] | number[][],
  expected: number | number[] | number[][],
  rtol = 1e-5,
): void {
  const a = [actual].flat(2);
  const e = [expected].flat(2);
  expect(a.length).toBe(e.length);
  const scale = Math.max(...e.map(Math.abs), 1e-12);
  const worst = Math.max(...a.map((v, i) => Math.abs(v - e[i]!)));
  expect(worst / scale).toBeLessThanOrEqual(rtol);
}

const reg = regressionTask({ name: 'reg' });
const lap = regressionTask({ name: 'lap', likelihood: 'laplace' });

afterEach(() => {
  tf.disposeVariables();
});

describe.each(golden.cases.map((c, i) => [i, c] as const))('golden case %i', (_i, c) => {
  const cls = classificationTask({ name: 'cls', numClasses: c.C });
  const y = tf.tensor1d(c.y_reg);
  const labels = tf.tensor1d(c.labels, 'int32');

  function gradsOf(
    uwOpts: Parameters<typeof uncertaintyWeighting>[1],
    build: (f: tf.Tensor, lg: tf.Tensor) => tf.Scalar[],
    s: number[],
    tasks: Parameters<typeof uncertaintyWeighting>[0],
  ) {
    const uw = uncertaintyWeighting(tasks, { ...uwOpts, initialLogVariance: s });
    const f = tf.tensor1d(c.f_reg);
    const lg = tf.tensor2d(c.logits);
    const { value, grads } = tf.variableGrads(() => uw.combine(build(f, lg)), [...uw.variables]);
    // differentiate only through the inputs the losses use (tf.grads refuses unused ones)
    const usesLogits = build.length > 1;
    const dInputs = usesLogits
      ? tf.grads((ff: tf.Tensor, ll: tf.Tensor) => uw.combine(build(ff, ll)))([f, lg])
      : tf.grads((ff: tf.Tensor) => uw.combine(build(ff, lg)))([f]);
    const out = {
      total: value.dataSync()[0]!,
      dS: uw.variables.map((v) => grads[v.name]!.dataSync()[0]!),
      dF: Array.from(dInputs[0]!.dataSync()),
      dLogits: usesLogits ? (dInputs[1]!.arraySync() as number[][]) : [],
    };
    uw.dispose();
    return out;
  }

  it('kendall: losses, total and gradients', () => {
    const f = tf.tensor1d(c.f_reg);
    expectClose(reg.loss(f, y).dataSync()[0]!, c.kendall.mse);
    expectClose(cls.loss(tf.tensor2d(c.logits), labels).dataSync()[0]!, c.kendall.ce);
    const r = gradsOf(
      { form: 'kendall' },
      (ff, lg) => [reg.loss(ff, y), cls.loss(lg, labels)],
      [c.s.reg, c.s.cls],
      [reg, cls],
    );
    expectClose(r.total, c.kendall.total);
    expectClose(r.dS, c.kendall.d_s);
    expectClose(r.dF, c.kendall.d_f_reg);
    expectClose(r.dLogits, c.kendall.d_logits);
  });

  it('laplace: e^(−s)·L1 + s', () => {
    expectClose(lap.loss(tf.tensor1d(c.f_reg), y).dataSync()[0]!, c.laplace.l1);
    const r = gradsOf({}, (ff) => [lap.loss(ff, y)], [c.s.lap], [lap]);
    expectClose(r.total, c.laplace.total);
    // ∂/∂s = 1 − e^(−s)·L1 cancels to 0.0036 in case 0: float32 terms of size 1 allow ~1e-7 absolute,
    // not 1e-5 of the difference
    expect(Math.abs(r.dS[0]! - c.laplace.d_s)).toBeLessThan(1e-6);
    expectClose(r.dF, c.laplace.d_f_reg);
  });

  it("seed form: the seed document's wrapper", () => {
    const y2 = tf.tensor1d(c.seed.y2);
    const reg2 = regressionTask({ name: 'reg2' });
    // second task's predictions are f_reg·0.3 in the golden file: feed them through the logits slot
    const f2 = tf.tensor1d(c.seed.f2);
    const uw = uncertaintyWeighting([reg, reg2], { form: 'seed', initialLogVariance: c.seed.s });
    const f1 = tf.tensor1d(c.f_reg);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => uw.combine([reg.loss(a, y), reg2.loss(b, y2)]))([
      f1,
      f2,
    ]);
    const { value, grads } = tf.variableGrads(
      () => uw.combine([reg.loss(f1, y), reg2.loss(f2, y2)]),
      [...uw.variables],
    );
    expectClose(value.dataSync()[0]!, c.seed.total);
    expectClose(
      uw.variables.map((v) => grads[v.name]!.dataSync()[0]!),
      c.seed.d_s,
    );
    expectClose(Array.from(g[0]!.dataSync()), c.seed.d_f1);
    expectClose(Array.from(g[1]!.dataSync()), c.seed.d_f2);
  });

  it('liebel: log(1 + σ²) regulariser', () => {
    const r = gradsOf(
      { regularizer: 'log1p' },
      (ff, lg) => [reg.loss(ff, y), cls.loss(lg, labels)],
      [c.s.reg, c.s.cls],
      [reg, cls],
    );
    expectClose(r.total, c.liebel.total);
    expectClose(r.dS, c.liebel.d_s);
    expectClose(r.dF, c.liebel.d_f_reg);
    expectClose(r.dLogits, c.liebel.d_logits);
  });

  it('masked: mean over labelled samples only', () => {
    const mask = tf.tensor1d(c.mask);
    expectClose(reg.loss(tf.tensor1d(c.f_reg), y, mask).dataSync()[0]!, c.masked.mse);
    const r = gradsOf({}, (ff) => [reg.loss(ff, y, mask)], [c.s.reg], [reg]);
    expectClose(r.total, c.masked.total);
    expectClose(r.dS, [c.masked.d_s]);
    expectClose(r.dF, c.masked.d_f_reg);
  });
});

describe('uncertaintyWeighting tensors', () => {
  it('creating and disposing it leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    uncertaintyWeighting([reg, { name: 'b', likelihood: 'softmax' }], {
      initialLogVariance: [0.5, -1],
    }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('optimum of s for a fixed loss', () => {
  /** Minimise the combined loss over s alone (L held constant) and return the s reached. */
  function minimiseS(
    likelihood: 'gaussian' | 'laplace' | 'softmax' | 'bernoulli',
    L: number,
    form: 'kendall' | 'seed' = 'kendall',
  ): number {
    const uw = uncertaintyWeighting([{ name: 't', likelihood }], { form, initialLogVariance: 0 });
    const opt = tf.train.adam(0.05);
    const loss = tf.scalar(L);
    for (let i = 0; i < 1500; i++) opt.minimize(() => uw.combine([loss]), false, [...uw.variables]);
    const s = uw.logVariances()[0]!;
    opt.dispose();
    uw.dispose();
    return s;
  }

  it.each([0.05, 1, 7.5])('Gaussian: s* = log L (L = %f), σ = √L', (L) => {
    expect(minimiseS('gaussian', L)).toBeCloseTo(Math.log(L), 3);
  });
  it.each([0.05, 1, 7.5])('softmax and Bernoulli: s* = log 2L (L = %f)', (L) => {
    expect(minimiseS('softmax', L)).toBeCloseTo(Math.log(2 * L), 3);
    expect(minimiseS('bernoulli', L)).toBeCloseTo(Math.log(2 * L), 3);
  });
  it.each([0.05, 7.5])('Laplace: b* = e^s* = L (L = %f)', (L) => {
    expect(minimiseS('laplace', L)).toBeCloseTo(Math.log(L), 3);
  });
  it('seed form: s* = log L', () => {
    expect(minimiseS('gaussian', 3, 'seed')).toBeCloseTo(Math.log(3), 3);
  });
});

describe('uncertaintyWeighting options and reporting', () => {
  it('matches the public API contract', () => {
    const uw = uncertaintyWeighting(
      [
        { name: 'a', likelihood: 'gaussian' },
        { name: 'b', likelihood: 'softmax' },
      ],
      { form: 'kendall', initialLogVariance: [0.3, -1] },
    );
    expect(uw.variables).toHaveLength(2);
    expect(uw.variables.every((v) => v instanceof tf.Variable)).toBe(true);
    const sig = uw.sigmas();
    expect(sig[0]).toBeCloseTo(Math.exp(0.15), 6);
    expect(sig[1]).toBeCloseTo(Math.exp(-0.5), 6);
    const total = uw.combine([tf.scalar(2), tf.scalar(0.5)]);
    expect(total.rank).toBe(0);
    expect(total.dataSync()[0]).toBeCloseTo(0.5 * Math.exp(-0.3) * 2 + 0.15 + Math.exp(1) * 0.5 - 0.5, 5);
    expect(uw.weights()[0]).toBeCloseTo(0.5 * Math.exp(-0.3), 6);
    expect(uw.weights()[1]).toBeCloseTo(Math.exp(1), 5);
  });

  it('agrees with finite differences in s', () => {
    const uw = uncertaintyWeighting(
      [
        { name: 'g', likelihood: 'gaussian' },
        { name: 'l', likelihood: 'laplace' },
        { name: 'c', likelihood: 'bernoulli' },
      ],
      { regularizer: 'log1p', initialLogVariance: [0.4, -0.7, 1.1] },
    );
    const losses = [tf.scalar(1.3), tf.scalar(0.2), tf.scalar(0.9)];
    const { grads } = tf.variableGrads(() => uw.combine(losses), [...uw.variables]);
    const s0 = uw.logVariances();
    const h = 1e-2;
    s0.forEach((s, i) => {
      const at = (v: number) => {
        uw.setState({ strategy: 'uncertainty', logVariance: s0.map((x, j) => (j === i ? v : x)) });
        return uw.combine(losses).dataSync()[0]!;
      };
      const fd = (at(s + h) - at(s - h)) / (2 * h);
      expect(grads[uw.variables[i]!.name]!.dataSync()[0]!).toBeCloseTo(fd, 3);
    });
  });

  it('clamps s into its range after each step', () => {
    const uw = uncertaintyWeighting([{ name: 'a', likelihood: 'gaussian' }], {
      clamp: [-2, 2],
      initialLogVariance: 5,
    });
    expect(uw.logVariances()[0]).toBe(2);
    uw.variables[0]!.assign(tf.scalar(-9));
    uw.afterStep?.();
    expect(uw.logVariances()[0]).toBe(-2);
  });

  it('can freeze the log-variances and carries its own learning rate', () => {
    const uw = uncertaintyWeighting([{ name: 'a', likelihood: 'gaussian' }], {
      trainable: false,
      learningRate: 0.025,
    });
    expect(uw.variables[0]!.trainable).toBe(false);
    expect(uw.learningRate).toBe(0.025);
  });

  it('round-trips its state', () => {
    const tasks = [
      { name: 'a', likelihood: 'gaussian' as const },
      { name: 'b', likelihood: 'softmax' as const },
    ];
    const a = uncertaintyWeighting(tasks, { initialLogVariance: [1.5, -0.25] });
    const b = uncertaintyWeighting(tasks);
    b.setState(a.getState());
    expect(b.logVariances()).toEqual(a.logVariances());
    expect(() => b.setState({ strategy: 'equal' })).toThrow(/cannot load 'equal'/);
  });

  it('rejects bad options with the option named', () => {
    const t = [{ name: 'a', likelihood: 'gaussian' as const }];
    expect(() => uncertaintyWeighting(t, { form: 'paper' as never })).toThrow(
      /form must be one of kendall, seed/,
    );
    expect(() => uncertaintyWeighting(t, { regularizer: 'l2' as never })).toThrow(
      /regularizer must be one of log, log1p/,
    );
    expect(() => uncertaintyWeighting(t, { initialLogVariance: [0, 1] })).toThrow(
      /initialLogVariance has 2 values for 1 tasks/,
    );
    expect(() => uncertaintyWeighting(t, { initialLogVariance: NaN })).toThrow(
      /initialLogVariance\[0\] must be finite/,
    );
    expect(() => uncertaintyWeighting(t, { clamp: [3, 1] })).toThrow(/clamp must be \[min, max\]/);
    expect(() => uncertaintyWeighting(t, { learningRate: -1 })).toThrow(
      /learningRate must be a positive number/,
    );
    expect(() => uncertaintyWeighting([{ name: 'a', likelihood: 'poisson' as never }])).toThrow(
      /tasks\[0\]\.likelihood/,
    );
    expect(() => uncertaintyWeighting([...t, ...t])).toThrow(/'a' appears twice/);
    expect(() => uncertaintyWeighting([])).toThrow(/at least one task/);
  });
});

describe('registry and baselines', () => {
  const tasks = [
    { name: 'a', likelihood: 'gaussian' as const },
    { name: 'b', likelihood: 'gaussian' as const },
  ];
  it('equal is the plain sum, fixed the weighted sum', () => {
    const losses = [tf.scalar(2), tf.scalar(3)];
    expect(createWeighting('equal', tasks).combine(losses).dataSync()[0]).toBeCloseTo(5, 6);
    expect(
      createWeighting('fixed', tasks, { weights: [0.5, 2] })
        .combine(losses)
        .dataSync()[0],
    ).toBeCloseTo(7, 6);
    expect(createWeighting('uncertainty', tasks).variables).toHaveLength(2);
  });
  it('names unknown strategies and bad weights', () => {
    expect(() => createWeighting('nope' as never, tasks)).toThrow(
      /unknown weighting 'nope'; known: uncertainty, equal, fixed, imtl-l, dwa, rlw, uw-so/,
    );
    expect(() => createWeighting('fixed', tasks)).toThrow(/options.weights must be an array/);
    expect(() => createWeighting('fixed', tasks, { weights: [1, -1] })).toThrow(
      /weight 1 \(task 'b'\) must be finite and ≥ 0/,
    );
  });
});

describe('combine on cpu and wasm (JS kernels) and inside a nested tape (ops)', () => {
  it('gives the same total and gradients for every form and regulariser', async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    const tasks = [
      regressionTask({ name: 'a' }),
      classificationTask({ name: 'b', numClasses: 3 }),
      regressionTask({ name: 'c', likelihood: 'laplace' }),
    ];
    const run = (form: 'kendall' | 'seed', regularizer: 'log' | 'log1p', nested: boolean): number[] => {
      const w = uncertaintyWeighting(tasks, { form, regularizer, initialLogVariance: [0.3, -0.7, 1.1] });
      const L = [0.8, 1.9, 0.35].map((v) => tf.scalar(v));
      const f = (...xs: tf.Tensor[]) => w.combine(xs as tf.Scalar[]);
      // inside a second tape the JS kernels stand aside for the op-by-op customGrad
      const grads = nested
        ? tf.tidy(() => {
            let out: tf.Tensor[] = [];
            tf.grad((z: tf.Tensor) => {
              const g = tf.grads((...xs: tf.Tensor[]) => f(...xs.slice(0, 3)))(L);
              out = [f(...L), ...g].map((t) => tf.keep(t));
              return tf.mul(z, 0);
            })(tf.scalar(1));
            return out;
          })
        : tf.tidy(() => [f(...L), ...tf.grads((...xs: tf.Tensor[]) => f(...xs))(L)]);
      const sGrads = tf.tidy(() => tf.variableGrads(() => f(...L), [...w.variables]).grads);
      const values = [...grads, ...Object.values(sGrads)].map((t) => t.dataSync()[0]!);
      tf.dispose([...L, ...grads, ...Object.values(sGrads)]);
      w.dispose();
      return values;
    };
    for (const form of ['kendall', 'seed'] as const) {
      for (const regularizer of ['log', 'log1p'] as const) {
        await tf.setBackend('cpu');
        const cpu = run(form, regularizer, false);
        const ops = run(form, regularizer, true);
        await tf.setBackend('wasm');
        const wasm = run(form, regularizer, false);
        for (const other of [ops, wasm]) {
          other.forEach((v, i) => expect(v, `${form} ${regularizer} value ${i}`).toBeCloseTo(cpu[i]!, 5));
        }
      }
    }
    await tf.setBackend('cpu');
  });
});
