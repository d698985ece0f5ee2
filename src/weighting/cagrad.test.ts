import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { cagradWeighting } from './cagrad.js';
import { isGradientStrategy, type TaskGradients } from './strategy.js';

const two = [
  { name: 'a', likelihood: 'gaussian' as const },
  { name: 'b', likelihood: 'softmax' as const },
];
const three = [...two, { name: 'c', likelihood: 'laplace' as const }];

const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0);
const combo = (rows: number[][], w: readonly number[]): number[] =>
  rows[0]!.map((_, k) => rows.reduce((s, r, t) => s + w[t]! * r[k]!, 0));

function gradients(rows: number[][]): TaskGradients {
  return {
    shared: rows.map((r) => tf.tensor1d(r)),
    lastShared: rows.map((r) => tf.tensor1d(r.slice(0, 1))),
    losses: rows.map(() => tf.scalar(1)),
  };
}
const disposeAll = (g: TaskGradients): void => tf.dispose([...g.shared, ...g.lastShared, ...g.losses]);

function run(
  w: ReturnType<typeof cagradWeighting>,
  rows: number[][],
): { shared: number[]; taskWeights: number[] } {
  const g = gradients(rows);
  const d = w.aggregate(g);
  const out = Array.from(d.shared.dataSync());
  d.shared.dispose();
  disposeAll(g);
  return { shared: out, taskWeights: d.taskWeights };
}

/**
 * LibMTL's CAGrad.py in plain JS numbers for two tasks, with the inner minimisation over w = (x, 1 − x)
 * by golden-section search (the objective is convex in x) instead of SLSQP.
 */
function libmtlTwoTasks(rows: number[][], calpha: number, rescale: 0 | 1 | 2): number[] {
  const GG = rows.map((a) => rows.map((b) => dot(a, b)));
  const g0Norm = Math.sqrt((GG[0]![0]! + GG[0]![1]! + GG[1]![0]! + GG[1]![1]!) / 4 + 1e-8);
  const c = calpha * g0Norm + 1e-8;
  const b = [0.5, 0.5];
  const objfn = (x: number[]): number =>
    dot(
      x,
      GG.map((r) => dot(r, b)),
    ) +
    c *
      Math.sqrt(
        dot(
          x,
          GG.map((r) => dot(r, x)),
        ) + 1e-8,
      );
  let lo = 0;
  let hi = 1;
  const r = (Math.sqrt(5) - 1) / 2;
  for (let k = 0; k < 200; k++) {
    const p = hi - r * (hi - lo);
    const q = lo + r * (hi - lo);
    if (objfn([p, 1 - p]) < objfn([q, 1 - q])) hi = q;
    else lo = p;
  }
  const x = (lo + hi) / 2;
  const gw = combo(rows, [x, 1 - x]);
  const lmbda = c / (Math.sqrt(dot(gw, gw)) + 1e-8);
  const g = combo(rows, [0.5, 0.5]).map((v, i) => v + lmbda * gw[i]!);
  const scale = rescale === 0 ? 1 : rescale === 1 ? 1 + calpha ** 2 : 1 + calpha;
  return g.map((v) => v / scale);
}

describe('cagradWeighting', () => {
  it('c = 0 descends the mean gradient', () => {
    const w = cagradWeighting(three, { c: 0 });
    expect(w.name).toBe('cagrad');
    expect(isGradientStrategy(w)).toBe(true);
    expect(w.variables).toEqual([]);
    const rows = [
      [1, 0, 2],
      [-1, 1, 0.5],
      [0.3, -2, 1],
    ];
    const d = run(w, rows);
    combo(rows, [1 / 3, 1 / 3, 1 / 3]).forEach((v, k) => expect(d.shared[k]).toBeCloseTo(v, 5));
    expect(d.taskWeights).toEqual([1, 1, 1]);
    expect(w.weights()).toEqual([1, 1, 1]);
  });

  it('two identical gradients give that gradient, up to the rescale: (1 + c)/(1 + c²)·g', () => {
    const g = [0.5, -1, 2];
    const w = cagradWeighting(two); // c = 0.4, rescale 1
    expect(w.c).toBe(0.4);
    expect(w.rescale).toBe(1);
    const d = run(w, [g, g]);
    g.forEach((v, k) => expect(d.shared[k]).toBeCloseTo((v * 1.4) / 1.16, 5));
    const raw = run(cagradWeighting(two, { rescale: 0 }), [g, g]);
    g.forEach((v, k) => expect(raw.shared[k]).toBeCloseTo(v * 1.4, 5));
  });

  it('matches LibMTL’s computation in plain JS numbers for two conflicting gradients', () => {
    const cases = [
      [
        [1, 0],
        [-1, 1],
      ],
      [
        [2, 0.5, -1],
        [-0.5, 1, 1],
      ],
      [
        [0.01, 0.002],
        [-0.004, 0.003],
      ],
    ];
    for (const rows of cases) {
      for (const [c, rescale] of [
        [0.4, 1],
        [0.5, 0],
        [0.8, 2],
      ] as const) {
        const w = cagradWeighting(two, { c, rescale });
        const got = run(w, rows).shared;
        const expected = libmtlTwoTasks(rows, c, rescale);
        const scale = Math.max(...expected.map(Math.abs));
        got.forEach((v, k) => expect(Math.abs(v - expected[k]!) / scale).toBeLessThan(1e-5));
        const inner = w.innerWeights();
        expect(inner[0]! + inner[1]!).toBeCloseTo(1, 12);
      }
    }
  });

  it('improves the worse task over the mean gradient when the tasks conflict', () => {
    const rows = [
      [1, 0],
      [-0.9, 0.3],
    ];
    const d = run(cagradWeighting(two, { c: 0.5, rescale: 0 }), rows).shared;
    const mean = combo(rows, [0.5, 0.5]);
    const worst = (x: number[]): number => Math.min(...rows.map((g) => dot(g, x)));
    expect(worst(d)).toBeGreaterThan(worst(mean));
  });

  it('round-trips its state', () => {
    const a = cagradWeighting(two);
    run(a, [
      [1, 0],
      [-1, 1],
    ]);
    const b = cagradWeighting(two);
    expect(b.innerWeights()).toEqual([0.5, 0.5]);
    b.setState(JSON.parse(JSON.stringify(a.getState())) as ReturnType<typeof a.getState>);
    expect(b.innerWeights()).toEqual(a.innerWeights());
    expect(() => b.setState({ strategy: 'cagrad', innerWeights: [0.5] })).toThrow(
      /innerWeights must be 2 finite numbers/,
    );
    expect(() => b.setState({ strategy: 'gradnorm' })).toThrow(/cannot load 'gradnorm'/);
  });

  it('leaks no tensors', () => {
    const w = cagradWeighting(three);
    const g = gradients([
      [1, 2],
      [-1, 0],
      [0.5, -2],
    ]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      w.aggregate(g);
      w.combine(g.losses);
    });
    expect(tf.memory().numTensors).toBe(before);
    const d = w.aggregate(g);
    expect(tf.memory().numTensors).toBe(before + 1);
    d.shared.dispose();
    disposeAll(g);
  });

  it('rejects bad options and mismatched gradients with clear errors', () => {
    expect(() => cagradWeighting(two, { c: -0.1 })).toThrow(
      /cagrad weighting: c must be a finite number ≥ 0/,
    );
    expect(() => cagradWeighting(two, { rescale: 3 as 1 })).toThrow(/rescale must be 0, 1 or 2, got 3/);
    expect(() => cagradWeighting(two, { iterations: -1 })).toThrow(/iterations must be an integer/);
    expect(() => cagradWeighting(two, { tolerance: NaN })).toThrow(/tolerance must be a finite number/);
    const w = cagradWeighting(three);
    const g = gradients([
      [1, 0],
      [0, 1],
    ]);
    expect(() => w.aggregate(g)).toThrow(/cagrad weighting: got 2 losses for 3 tasks/);
    disposeAll(g);
    const h: TaskGradients = { ...gradients([[1], [2], [3]]), shared: [] };
    expect(() => w.aggregate(h)).toThrow(/gradients.shared has 0 vectors for 3 tasks/);
    tf.dispose([...h.lastShared, ...h.losses]);
  });
});
