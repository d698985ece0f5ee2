import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import { pcgradWeighting } from './pcgrad.js';
import { isGradientStrategy, type TaskGradients } from './strategy.js';

const two = [
  { name: 'a', likelihood: 'gaussian' as const },
  { name: 'b', likelihood: 'softmax' as const },
];
const three = [...two, { name: 'c', likelihood: 'laplace' as const }];

function gradients(rows: number[][], losses = rows.map((_, t) => t + 1)): TaskGradients {
  return {
    shared: rows.map((r) => tf.tensor1d(r)),
    lastShared: rows.map((r) => tf.tensor1d(r.slice(0, 1))),
    losses: losses.map((l) => tf.scalar(l)),
  };
}
const disposeAll = (g: TaskGradients): void => tf.dispose([...g.shared, ...g.lastShared, ...g.losses]);

const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

/** PCGrad by hand with the same generator: per task, a permutation of the others. */
function byHand(rows: number[][], rng: NumpyRandomState): number[] {
  const T = rows.length;
  const out = rows[0]!.map(() => 0);
  for (let i = 0; i < T; i++) {
    const others = rows.map((_, j) => j).filter((j) => j !== i);
    const order = Array.from(rng.permutation(T - 1), (k) => others[k]!);
    let g = [...rows[i]!];
    for (const j of order) {
      const gj = rows[j]!;
      const d = dot(g, gj);
      if (d < 0) g = g.map((v, k) => v - (d / dot(gj, gj)) * gj[k]!);
    }
    g.forEach((v, k) => (out[k]! += v));
  }
  return out;
}

function run(
  w: ReturnType<typeof pcgradWeighting>,
  rows: number[][],
): { shared: number[]; taskWeights: number[] } {
  const g = gradients(rows);
  const d = w.aggregate(g);
  const shared = Array.from(d.shared.dataSync());
  d.shared.dispose();
  disposeAll(g);
  return { shared, taskWeights: d.taskWeights };
}

describe('pcgradWeighting', () => {
  it('projects two conflicting gradients by hand and sums them; task weights all 1', () => {
    const w = pcgradWeighting(two);
    expect(w.name).toBe('pcgrad');
    expect(isGradientStrategy(w)).toBe(true);
    expect(w.variables).toEqual([]);
    // g1 = [1, 0], g2 = [−1, 1]: pc1 = g1 + ½·g2 = [0.5, 0.5], pc2 = g2 + g1 = [0, 1]
    const d = run(w, [
      [1, 0],
      [-1, 1],
    ]);
    expect(d.shared[0]).toBeCloseTo(0.5, 6);
    expect(d.shared[1]).toBeCloseTo(1.5, 6);
    expect(d.taskWeights).toEqual([1, 1]);
    expect(w.weights()).toEqual([1, 1]);
  });

  it('leaves non-conflicting gradients unchanged: the update is their sum', () => {
    const rows = [
      [1, 0.5, 0],
      [0.2, 1, 0],
      [0, 0.1, 3],
    ];
    const d = run(pcgradWeighting(three, { seed: 9 }), rows);
    [1.2, 1.6, 3].forEach((v, k) => expect(d.shared[k]).toBeCloseTo(v, 6));
  });

  it('follows the seeded random order, step after step', () => {
    const rows = [
      [1, 1, 0],
      [-1, 0, 0.5],
      [0, -1, -1],
    ];
    const w = pcgradWeighting(three, { seed: 17 });
    const rng = new NumpyRandomState(17);
    const seen = new Set<string>();
    for (let k = 0; k < 6; k++) {
      const got = run(w, rows).shared;
      const expected = byHand(rows, rng);
      expected.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
      seen.add(expected.map((v) => v.toFixed(4)).join(','));
    }
    expect(seen.size).toBeGreaterThan(1); // the order, and with it the result, changes
    expect(w.steps()).toBe(6);
  });

  it('combine is Σ L_t', () => {
    const w = pcgradWeighting(three);
    const L = [tf.scalar(1), tf.scalar(2), tf.scalar(4)];
    expect(w.combine(L).dataSync()[0]).toBeCloseTo(7, 6);
    tf.dispose(L);
  });

  it('round-trips its state: the restored strategy continues the same order sequence', () => {
    const rows = [
      [1, 1, 0],
      [-1, 0, 0.5],
      [0, -1, -1],
    ];
    const a = pcgradWeighting(three, { seed: 4 });
    for (let k = 0; k < 3; k++) run(a, rows);
    const b = pcgradWeighting(three);
    b.setState(JSON.parse(JSON.stringify(a.getState())) as ReturnType<typeof a.getState>);
    expect(b.seed).toBe(4);
    expect(b.steps()).toBe(3);
    for (let k = 0; k < 4; k++) expect(run(b, rows).shared).toEqual(run(a, rows).shared);
    expect(() => b.setState({ strategy: 'cagrad' })).toThrow(/cannot load 'cagrad'/);
    expect(() => b.setState({ strategy: 'pcgrad', seed: 1, steps: -1 })).toThrow(
      /steps must be an integer ≥ 0/,
    );
    expect(() => b.setState({ strategy: 'pcgrad', seed: -1, steps: 0 })).toThrow(
      /state seed must be an integer/,
    );
  });

  it('leaks no tensors', () => {
    const w = pcgradWeighting(three);
    const g = gradients([
      [1, 1, 0],
      [-1, 0, 0.5],
      [0, -1, -1],
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
    expect(() => pcgradWeighting(two, { seed: 1.5 })).toThrow(/pcgrad weighting: seed must be an integer/);
    expect(() => pcgradWeighting([])).toThrow(/at least one task/);
    const w = pcgradWeighting(three);
    const g = gradients([
      [1, 0],
      [0, 1],
    ]);
    expect(() => w.aggregate(g)).toThrow(/pcgrad weighting: got 2 losses for 3 tasks/);
    const h = gradients([
      [1, 0],
      [0, 1],
      [1, 1, 1],
    ]);
    expect(() => w.aggregate(h)).toThrow(/gradients.shared\[2\] has 3 entries, gradients.shared\[0\] has 2/);
    expect(w.steps()).toBe(0); // a rejected call draws nothing
    disposeAll(g);
    disposeAll(h);
  });
});
