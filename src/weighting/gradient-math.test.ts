import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  cagradDirection,
  cagradWeights,
  checkTaskVectors,
  gram,
  minNormPair,
  minNormWeights,
  pcgradCoefficients,
  pcgradProject,
  projectToSimplex,
  weightedLossTotal,
  weightedSum,
} from './gradient-math.js';

const vecs = (rows: number[][]): tf.Tensor1D[] => rows.map((r) => tf.tensor1d(r));
const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0);
const combo = (rows: number[][], w: readonly number[]): number[] =>
  rows[0]!.map((_, k) => rows.reduce((s, r, t) => s + w[t]! * r[k]!, 0));
const gramOf = (rows: number[][]): number[][] => rows.map((a) => rows.map((b) => dot(a, b)));

function expectVec(actual: ArrayLike<number>, expected: readonly number[], digits = 5): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((v, i) => expect(actual[i]).toBeCloseTo(v, digits));
}

/** A deterministic pseudo-random stream for test data (not the library's generator). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
}

describe('gram and weightedSum', () => {
  it('gram is G_ij = g_i·g_j; weightedSum is Σ c_t g_t; both from arrays or a stacked matrix', () => {
    const rows = [
      [1, 2, 3],
      [-1, 0.5, 2],
      [0, 0, 1],
    ];
    const gs = vecs(rows);
    const G = gram(gs);
    const expected = gramOf(rows);
    G.forEach((r, i) => expectVec(r, expected[i]!));
    const S = tf.stack(gs) as tf.Tensor2D;
    expect(gram(S)).toEqual(G);
    const c = [0.5, -2, 3];
    expectVec(weightedSum(gs, c).dataSync(), combo(rows, c));
    expectVec(weightedSum(S, c).dataSync(), combo(rows, c));
    expect(gram([])).toEqual([]);
    expect(() => weightedSum(gs, [1, 2])).toThrow(/2 coefficients for 3 vectors/);
    expect(() => weightedSum(gs, [1, NaN, 2])).toThrow(/coefficient 1 must be finite/);
    tf.dispose([...gs, S]);
  });

  it('weightedLossTotal is Σ w_t·L_t with ∂/∂L_t = w_t', () => {
    const L = [tf.scalar(1), tf.scalar(2)];
    expect(weightedLossTotal(L, [3, 0.5]).dataSync()[0]).toBeCloseTo(4, 6);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => weightedLossTotal([a, b] as tf.Scalar[], [3, 0.5]))(L);
    expect(g.map((t) => t.dataSync()[0])).toEqual([3, 0.5]);
    tf.dispose([...L, ...g]);
  });

  it('checkTaskVectors names the field and the problem', () => {
    const gs = vecs([
      [1, 2],
      [3, 4],
    ]);
    expect(checkTaskVectors('x', 'shared', gs, 2)).toBe(2);
    expect(() => checkTaskVectors('x', 'shared', gs, 3)).toThrow(
      /x weighting: gradients.shared has 2 vectors for 3 tasks/,
    );
    expect(() => checkTaskVectors('x', 'lastShared', undefined, 2)).toThrow(
      /gradients.lastShared must be an array/,
    );
    const bad = [gs[0]!, tf.tensor1d([1, 2, 3])];
    expect(() => checkTaskVectors('x', 'shared', bad, 2)).toThrow(
      /gradients.shared\[1\] has 3 entries, gradients.shared\[0\] has 2/,
    );
    const m = tf.zeros([2, 2]) as unknown as tf.Tensor1D;
    expect(() => checkTaskVectors('x', 'shared', [gs[0]!, m], 2)).toThrow(/shared\[1\] must be a 1-D tensor/);
    tf.dispose([...gs, bad[1]!, m]);
  });
});

describe('PCGrad projection', () => {
  it('projects two conflicting gradients onto each other’s normal plane (by hand)', () => {
    // g1 = [1, 0], g2 = [−1, 1]: g1·g2 = −1, ‖g2‖² = 2, ‖g1‖² = 1
    // pc1 = g1 − (−1/2)·g2 = [0.5, 0.5];  pc2 = g2 − (−1/1)·g1 = [0, 1]
    const gs = vecs([
      [1, 0],
      [-1, 1],
    ]);
    const pc = pcgradProject(gs, [[1], [0]]);
    expectVec(pc[0]!.dataSync(), [0.5, 0.5]);
    expectVec(pc[1]!.dataSync(), [0, 1]);
    // each projected gradient is orthogonal to the other original one
    expect(dot(Array.from(pc[0]!.dataSync()), [-1, 1])).toBeCloseTo(0, 6);
    expect(dot(Array.from(pc[1]!.dataSync()), [1, 0])).toBeCloseTo(0, 6);
    tf.dispose([...gs, ...pc]);
  });

  it('leaves non-conflicting gradients unchanged', () => {
    const rows = [
      [1, 0.2, 0],
      [0.5, 1, 0],
      [0, 0, 2],
    ];
    const gs = vecs(rows);
    const pc = pcgradProject(gs, [
      [1, 2],
      [2, 0],
      [0, 1],
    ]);
    pc.forEach((p, i) => expectVec(p.dataSync(), rows[i]!));
    tf.dispose([...gs, ...pc]);
  });

  it('projects in the given order, each time against the original g_j, skipping zero gradients', () => {
    const rows = [
      [1, 1, 0],
      [-1, 0, 0.5],
      [0, -1, -1],
      [0, 0, 0],
    ];
    const G = gramOf(rows);
    const byHand = (i: number, order: number[]): number[] => {
      let g = [...rows[i]!];
      for (const j of order) {
        const gj = rows[j]!;
        const n = dot(gj, gj);
        const d = dot(g, gj);
        if (n > 0 && d < 0) g = g.map((v, k) => v - (d / n) * gj[k]!);
      }
      return g;
    };
    const orders = [
      [
        [1, 2, 3],
        [0, 2, 3],
        [0, 1, 3],
        [0, 1, 2],
      ],
      [
        [3, 2, 1],
        [2, 3, 0],
        [1, 0, 3],
        [2, 1, 0],
      ],
    ];
    for (const order of orders) {
      const C = pcgradCoefficients(G, order);
      C.forEach((c, i) => expectVec(combo(rows, c), byHand(i, order[i]!), 10));
    }
    // the order matters here: task 0 conflicts with both 1 and 2
    const a = combo(rows, pcgradCoefficients(G, orders[0]!)[0]!);
    const b = combo(rows, pcgradCoefficients(G, orders[1]!)[0]!);
    expect(a).not.toEqual(b);
    expect(() => pcgradCoefficients(G, [[1]])).toThrow(/order has 1 rows for 4 tasks/);
    expect(() => pcgradCoefficients(G, [[4], [], [], []])).toThrow(/task index 4/);
  });
});

describe('min-norm weights (MGDA)', () => {
  it('two tasks: the closed form clip(((g2 − g1)·g2)/‖g1 − g2‖², 0, 1)', () => {
    const cases: [number[], number[]][] = [
      [
        [1, 0],
        [0, 2],
      ],
      [
        [3, 1],
        [-1, 1],
      ],
      [
        [1, 1],
        [2, 2.5],
      ], // g1 is the min-norm point: α = 1
      [
        [2, 2.5],
        [1, 1],
      ], // α = 0
    ];
    for (const [g1, g2] of cases) {
      const diff = g1.map((v, i) => v - g2[i]!);
      const closed = Math.min(
        Math.max(
          dot(
            g2.map((v, i) => v - g1[i]!),
            g2,
          ) / dot(diff, diff),
          0,
        ),
        1,
      );
      const alpha = minNormWeights(gramOf([g1, g2]));
      expect(alpha[0]).toBeCloseTo(closed, 12);
      expect(alpha[1]).toBeCloseTo(1 - closed, 12);
    }
    expect(minNormPair(1, 1, 1)).toEqual({ weight: 1, cost: 1 }); // identical vectors
    expect(minNormWeights([[4]])).toEqual([1]);
  });

  it('three orthogonal unit gradients: α = [1/3, 1/3, 1/3]', () => {
    const alpha = minNormWeights([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    alpha.forEach((a) => expect(a).toBeCloseTo(1 / 3, 6));
  });

  it('is at least as short as every point of a grid of convex weights', () => {
    const rnd = lcg(11);
    for (let trial = 0; trial < 5; trial++) {
      const rows = Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => rnd() * 4));
      const G = gramOf(rows);
      const alpha = minNormWeights(G);
      expect(alpha.every((a) => a >= 0)).toBe(true);
      expect(alpha.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      const norm2 = (w: readonly number[]): number =>
        dot(
          w,
          G.map((r) => dot(r, w)),
        );
      const found = norm2(alpha);
      const N = 100;
      let best = Infinity;
      for (let i = 0; i <= N; i++)
        for (let j = 0; j <= N - i; j++) best = Math.min(best, norm2([i / N, j / N, (N - i - j) / N]));
      expect(found).toBeLessThanOrEqual(best + 1e-9);
    }
  });

  it('rejects bad options and matrices', () => {
    expect(() => minNormWeights([[1, 0]])).toThrow(/row 0 has 2 entries/);
    expect(() => minNormWeights([[NaN]])).toThrow(/entry \[0\]\[0\] is NaN/);
    expect(() => minNormWeights([[1]], { iterations: -1 })).toThrow(/iterations must be an integer ≥ 0/);
    expect(() => minNormWeights([[1]], { tolerance: NaN })).toThrow(/tolerance must be a finite number/);
  });
});

describe('projectToSimplex', () => {
  it('projects onto {w ≥ 0, Σw = 1}', () => {
    expect(projectToSimplex([0.2, 0.3, 0.5])).toEqual([0.2, 0.3, 0.5]);
    expectVec(projectToSimplex([1, 1]), [0.5, 0.5], 12);
    expectVec(projectToSimplex([2, 0, -1]), [1, 0, 0], 12);
    expectVec(projectToSimplex([0.5, 0.5, 0.5]), [1 / 3, 1 / 3, 1 / 3], 12);
  });
});

/** The CAGrad objective, solved independently by a fine search (2 tasks: one variable, convex). */
function cagradByHand(rows: number[][], c: number, rescale = 1): number[] {
  const T = rows.length;
  const G = gramOf(rows);
  const g0Norm = Math.sqrt(G.flat().reduce((a, b) => a + b, 0) / (T * T) + 1e-8);
  const sqrtPhi = c * g0Norm + 1e-8;
  const g0 = combo(
    rows,
    rows.map(() => 1 / T),
  );
  const f = (x: number): number => {
    const gw = combo(rows, [x, 1 - x]);
    return dot(gw, g0) + sqrtPhi * Math.sqrt(dot(gw, gw) + 1e-8);
  };
  // golden-section search on [0, 1]
  let lo = 0;
  let hi = 1;
  const r = (Math.sqrt(5) - 1) / 2;
  for (let k = 0; k < 200; k++) {
    const a = hi - r * (hi - lo);
    const b = lo + r * (hi - lo);
    if (f(a) < f(b)) hi = b;
    else lo = a;
  }
  const x = (lo + hi) / 2;
  const gw = combo(rows, [x, 1 - x]);
  const lambda = sqrtPhi / (Math.sqrt(dot(gw, gw)) + 1e-8);
  return g0.map((v, i) => (v + lambda * gw[i]!) / (rescale === 1 ? 1 + c * c : 1));
}

describe('CAGrad direction', () => {
  it('c = 0 gives the mean gradient', () => {
    const rows = [
      [1, 0, 2],
      [-1, 1, 0.5],
      [0.3, -2, 1],
    ];
    const gs = vecs(rows);
    const { direction } = cagradDirection(gs, 0);
    expectVec(direction.dataSync(), combo(rows, [1 / 3, 1 / 3, 1 / 3]));
    tf.dispose([...gs, direction]);
  });

  it('two identical gradients give that gradient, scaled by 1 + c', () => {
    // g_w = g = g0 for every w, so d = g + (c‖g‖/‖g‖)·g = (1 + c)·g (before the rescale)
    const g = [0.5, -1, 2];
    const gs = vecs([g, g]);
    const { direction, coefficients } = cagradDirection(gs, 0.4);
    expectVec(
      direction.dataSync(),
      g.map((v) => 1.4 * v),
    );
    expect(coefficients.reduce((a, b) => a + b, 0)).toBeCloseTo(1.4, 6);
    tf.dispose([...gs, direction]);
  });

  it('matches the same computation in plain JS numbers for two conflicting gradients', () => {
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
        [3, 0],
        [-0.2, 0.1],
      ],
    ];
    for (const rows of cases) {
      for (const c of [0.2, 0.4, 0.8]) {
        const sol = cagradWeights(gramOf(rows), c);
        const d = combo(rows, sol.coefficients).map((v) => v / (1 + c * c));
        expectVec(d, cagradByHand(rows, c), 6);
        expect(sol.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      }
    }
  });

  it('is the constrained optimum for three tasks: the worst task improves most within the ball', () => {
    // Primal: d maximises min_t g_t·d over ‖d − g0‖ ≤ c‖g0‖; compare with random points of the ball
    const rows = [
      [1, 0.2, 0],
      [-0.8, 1, 0.3],
      [0.1, -0.6, 1],
    ];
    const c = 0.5;
    const sol = cagradWeights(gramOf(rows), c);
    const d = combo(rows, sol.coefficients);
    const g0 = combo(rows, [1 / 3, 1 / 3, 1 / 3]);
    const radius = c * Math.sqrt(dot(g0, g0));
    const dist = Math.sqrt(
      dot(
        d.map((v, i) => v - g0[i]!),
        d.map((v, i) => v - g0[i]!),
      ),
    );
    expect(dist).toBeCloseTo(radius, 5);
    const worst = (x: number[]): number => Math.min(...rows.map((g) => dot(g, x)));
    const rnd = lcg(5);
    for (let k = 0; k < 2000; k++) {
      const u = [rnd(), rnd(), rnd()];
      const n = Math.sqrt(dot(u, u));
      const p = g0.map((v, i) => v + (radius * Math.abs(rnd() * 2) * u[i]!) / n);
      expect(worst(p)).toBeLessThanOrEqual(worst(d) + 1e-6);
    }
  });

  it('rejects a bad c and leaks nothing', () => {
    expect(() => cagradWeights([[1]], -0.1)).toThrow(/c must be a finite number ≥ 0/);
    const gs = vecs([
      [1, 2],
      [3, -4],
    ]);
    const before = tf.memory().numTensors;
    const out = cagradDirection(gs, 0.4);
    const pc = pcgradProject(gs, [[1], [0]]);
    expect(tf.memory().numTensors).toBe(before + 3);
    tf.dispose([out.direction, ...pc]);
    gram(gs);
    weightedSum(gs, [1, 1]).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(gs);
  });
});
