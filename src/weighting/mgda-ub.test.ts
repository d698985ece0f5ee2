import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { mgdaUbWeighting } from './mgda-ub.js';
import { isGradientStrategy, type TaskGradients } from './strategy.js';

const two = [
  { name: 'a', likelihood: 'gaussian' as const },
  { name: 'b', likelihood: 'softmax' as const },
];
const three = [...two, { name: 'c', likelihood: 'laplace' as const }];

const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0);
const combo = (rows: number[][], w: readonly number[]): number[] =>
  rows[0]!.map((_, k) => rows.reduce((s, r, t) => s + w[t]! * r[k]!, 0));

function gradients(shared: number[][], representation?: number[][], losses?: number[]): TaskGradients {
  return {
    shared: shared.map((r) => tf.tensor1d(r)),
    lastShared: shared.map((r) => tf.tensor1d(r.slice(0, 1))),
    ...(representation ? { representation: representation.map((r) => tf.tensor1d(r)) } : {}),
    losses: (losses ?? shared.map(() => 1)).map((l) => tf.scalar(l)),
  };
}
const disposeAll = (g: TaskGradients): void =>
  tf.dispose([...g.shared, ...g.lastShared, ...(g.representation ?? []), ...g.losses]);

function run(
  w: ReturnType<typeof mgdaUbWeighting>,
  shared: number[][],
  representation?: number[][],
  losses?: number[],
): { shared: number[]; taskWeights: number[] } {
  const g = gradients(shared, representation, losses);
  const d = w.aggregate(g);
  const out = Array.from(d.shared.dataSync());
  d.shared.dispose();
  disposeAll(g);
  return { shared: out, taskWeights: d.taskWeights };
}

/** The two-task closed form: g1's weight clip(((g2 − g1)·g2)/‖g1 − g2‖², 0, 1). */
function closedForm(g1: number[], g2: number[]): number {
  const diff = g1.map((v, i) => v - g2[i]!);
  return Math.min(
    Math.max(
      dot(
        g2.map((v, i) => v - g1[i]!),
        g2,
      ) / dot(diff, diff),
      0,
    ),
    1,
  );
}

describe('mgdaUbWeighting', () => {
  it('two tasks: α from the representation gradients (closed form), applied to the shared gradients', () => {
    const w = mgdaUbWeighting(two);
    expect(w.name).toBe('mgda-ub');
    expect(isGradientStrategy(w)).toBe(true);
    expect(w.variables).toEqual([]);
    expect(w.alphas()).toEqual([0.5, 0.5]);
    const rep = [
      [1, 0, 0.5, 0],
      [-0.5, 1, 0, 0.2],
    ];
    const shared = [
      [3, 1, 0],
      [0, -2, 1],
    ];
    const d = run(w, shared, rep);
    const a = closedForm(rep[0]!, rep[1]!);
    expect(a).toBeGreaterThan(0);
    expect(a).toBeLessThan(1);
    const alphas = w.alphas();
    expect(alphas[0]).toBeCloseTo(a, 6);
    expect(alphas[1]).toBeCloseTo(1 - a, 6);
    combo(shared, [a, 1 - a]).forEach((v, k) => expect(d.shared[k]).toBeCloseTo(v, 5));
    // LibMTL's convention: the heads keep their own unweighted gradients
    expect(d.taskWeights).toEqual([1, 1]);
    expect(w.weights()).toEqual([1, 1]);
  });

  it('without representation gradients it solves on the shared gradients (plain MGDA)', () => {
    const w = mgdaUbWeighting(two);
    const shared = [
      [2, 1],
      [-1, 1],
    ];
    const d = run(w, shared);
    const a = closedForm(shared[0]!, shared[1]!);
    expect(w.alphas()[0]).toBeCloseTo(a, 6);
    combo(shared, [a, 1 - a]).forEach((v, k) => expect(d.shared[k]).toBeCloseTo(v, 5));
    // the min-norm element is orthogonal-or-better to both: g_t·d ≥ ‖d‖² for each task
    const n2 = dot(d.shared, d.shared);
    shared.forEach((g) => expect(dot(g, d.shared)).toBeGreaterThanOrEqual(n2 - 1e-5));
  });

  it('three orthogonal unit gradients: α = [1/3, 1/3, 1/3]', () => {
    const w = mgdaUbWeighting(three);
    const rep = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    run(w, rep, rep);
    w.alphas().forEach((a) => expect(a).toBeCloseTo(1 / 3, 6));
  });

  it('the solution has the minimum norm against a grid of convex weights', () => {
    const rep = [
      [1, 0.3, -0.5, 0.2],
      [-0.4, 1, 0.1, 0],
      [0.2, -0.7, 0.3, 0.9],
    ];
    const w = mgdaUbWeighting(three);
    run(w, rep, rep);
    const alpha = w.alphas();
    expect(alpha.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    const norm2 = (x: readonly number[]): number => {
      const v = combo(rep, x);
      return dot(v, v);
    };
    const found = norm2(alpha);
    const N = 100;
    let best = Infinity;
    for (let i = 0; i <= N; i++)
      for (let j = 0; j <= N - i; j++) best = Math.min(best, norm2([i / N, j / N, (N - i - j) / N]));
    expect(found).toBeLessThanOrEqual(best + 1e-6);
  });

  it("normalization 'l2' solves on unit gradients, 'loss' on gradients divided by the losses", () => {
    const rep = [
      [2, 0],
      [0, 1],
    ];
    const none = mgdaUbWeighting(two);
    run(none, rep, rep);
    expect(none.alphas()[0]).toBeCloseTo(0.2, 6); // (1 − 0)/(4 + 1)
    const l2 = mgdaUbWeighting(two, { normalization: 'l2' });
    const d = run(l2, rep, rep);
    expect(l2.alphas()[0]).toBeCloseTo(0.5, 6);
    // α is applied to the raw gradients
    expect(d.shared[0]).toBeCloseTo(1, 5);
    expect(d.shared[1]).toBeCloseTo(0.5, 5);
    const loss = mgdaUbWeighting(two, { normalization: 'loss' });
    run(loss, rep, rep, [2, 1]); // [1, 0] and [0, 1]
    expect(loss.alphas()[0]).toBeCloseTo(0.5, 6);
    const lossPlus = mgdaUbWeighting(two, { normalization: 'loss+' });
    run(lossPlus, rep, rep, [1, 4]); // divided by L·‖g‖ = 2 and 4: [1, 0] and [0, 1/4], α₁ = (1/16)/(1 + 1/16)
    expect(lossPlus.alphas()[0]).toBeCloseTo(1 / 17, 6);
    // a zero gradient keeps normaliser 1 instead of dividing by 0
    const zero = mgdaUbWeighting(two, { normalization: 'l2' });
    run(
      zero,
      [
        [1, 0],
        [0, 0],
      ],
      [
        [1, 0],
        [0, 0],
      ],
    );
    expect(zero.alphas()).toEqual([0, 1]);
  });

  it("headWeights 'alpha' scales the heads and the total by α", () => {
    const w = mgdaUbWeighting(two, { headWeights: 'alpha' });
    expect(w.weights()).toEqual([0.5, 0.5]);
    const d = run(w, [
      [2, 0],
      [0, 1],
    ]);
    expect(d.taskWeights[0]).toBeCloseTo(0.2, 6);
    expect(d.taskWeights[1]).toBeCloseTo(0.8, 6);
    const L = [tf.scalar(10), tf.scalar(1)];
    expect(w.combine(L).dataSync()[0]).toBeCloseTo(2.8, 5);
    tf.dispose(L);
    const one = mgdaUbWeighting(two);
    const M = [tf.scalar(10), tf.scalar(1)];
    expect(one.combine(M).dataSync()[0]).toBeCloseTo(11, 5);
    tf.dispose(M);
  });

  it('round-trips its state', () => {
    const a = mgdaUbWeighting(two, { headWeights: 'alpha' });
    run(a, [
      [2, 0],
      [0, 1],
    ]);
    const b = mgdaUbWeighting(two, { headWeights: 'alpha' });
    b.setState(JSON.parse(JSON.stringify(a.getState())) as ReturnType<typeof a.getState>);
    expect(b.alphas()).toEqual(a.alphas());
    expect(b.weights()).toEqual(a.weights());
    expect(() => b.setState({ strategy: 'mgda-ub', alphas: [1] })).toThrow(/alphas must be 2 finite numbers/);
    expect(() => b.setState({ strategy: 'pcgrad' })).toThrow(/cannot load 'pcgrad'/);
  });

  it('leaks no tensors', () => {
    for (const normalization of ['none', 'l2', 'loss', 'loss+'] as const) {
      const w = mgdaUbWeighting(three, { normalization });
      const g = gradients(
        [
          [1, 2],
          [-1, 0],
          [0.5, -2],
        ],
        [
          [1, 0, 1],
          [0, 1, -1],
          [-1, -1, 0],
        ],
        [1, 2, 3],
      );
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        w.aggregate(g);
        w.combine(g.losses);
      });
      expect(tf.memory().numTensors).toBe(before);
      disposeAll(g);
    }
  });

  it('rejects bad options and mismatched gradients with clear errors', () => {
    expect(() => mgdaUbWeighting(two, { normalization: 'l1' as 'l2' })).toThrow(
      /mgda-ub weighting: normalization must be one of none, l2, loss, loss\+; got 'l1'/,
    );
    expect(() => mgdaUbWeighting(two, { headWeights: 'x' as 'one' })).toThrow(/headWeights must be one of/);
    expect(() => mgdaUbWeighting(two, { iterations: 1.5 })).toThrow(/iterations must be an integer/);
    expect(() => mgdaUbWeighting(two, { tolerance: -1 })).toThrow(/tolerance must be a finite number ≥ 0/);
    const w = mgdaUbWeighting(two);
    const g = gradients(
      [
        [1, 0],
        [0, 1],
      ],
      [
        [1, 0],
        [0, 1],
        [1, 1],
      ],
    );
    expect(() => w.aggregate(g)).toThrow(
      /mgda-ub weighting: gradients.representation has 3 vectors for 2 tasks/,
    );
    disposeAll(g);
    const h = gradients([
      [1, 0],
      [0, 1, 2],
    ]);
    expect(() => w.aggregate(h)).toThrow(/gradients.shared\[1\] has 3 entries/);
    disposeAll(h);
  });
});
