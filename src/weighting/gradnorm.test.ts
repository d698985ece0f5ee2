import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { gradNormWeighting } from './gradnorm.js';
import { isGradientStrategy, type TaskGradients } from './strategy.js';

const two = [
  { name: 'a', likelihood: 'gaussian' as const },
  { name: 'b', likelihood: 'softmax' as const },
];
const three = [...two, { name: 'c', likelihood: 'laplace' as const }];

function gradients(shared: number[][], last: number[][], losses: number[]): TaskGradients {
  return {
    shared: shared.map((r) => tf.tensor1d(r)),
    lastShared: last.map((r) => tf.tensor1d(r)),
    losses: losses.map((l) => tf.scalar(l)),
  };
}
const disposeAll = (g: TaskGradients): void => tf.dispose([...g.shared, ...g.lastShared, ...g.losses]);

function run(
  w: ReturnType<typeof gradNormWeighting>,
  shared: number[][],
  last: number[][],
  losses: number[],
): { shared: number[]; taskWeights: number[] } {
  const g = gradients(shared, last, losses);
  const d = w.aggregate(g);
  const out = Array.from(d.shared.dataSync());
  d.shared.dispose();
  disposeAll(g);
  return { shared: out, taskWeights: d.taskWeights };
}

const sum = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0);

describe('gradNormWeighting', () => {
  it('starts at w = 1: the first update is the plain sum of the task gradients', () => {
    const w = gradNormWeighting(two);
    expect(w.name).toBe('gradnorm');
    expect(isGradientStrategy(w)).toBe(true);
    expect(w.variables).toEqual([]);
    expect(w.alpha).toBe(1.5);
    expect(w.weightLearningRate).toBe(0.025);
    expect(w.weights()).toEqual([1, 1]);
    expect(w.initialLosses()).toBeNull();
    const d = run(
      w,
      [
        [1, 2],
        [3, -1],
      ],
      [[1], [1]],
      [2, 5],
    );
    expect(d.shared[0]).toBeCloseTo(4, 5);
    expect(d.shared[1]).toBeCloseTo(1, 5);
    expect(d.taskWeights).toEqual([1, 1]);
    expect(w.initialLosses()).toEqual([2, 5]);
  });

  it('the slower-learning task gains weight; the weights always sum to T', () => {
    const w = gradNormWeighting(three);
    const shared = [
      [1, 0],
      [0, 1],
      [1, 1],
    ];
    const last = [
      [0.6, 0.8],
      [1, 0],
      [0, 1],
    ]; // all of norm 1
    // task 0's loss stalls, the others halve every step
    let L = [1, 1, 1];
    for (let k = 0; k < 5; k++) {
      const d = run(w, shared, last, L);
      expect(sum(d.taskWeights)).toBeCloseTo(3, 10);
      expect(sum(w.weights())).toBeCloseTo(3, 10);
      L = [1, L[1]! / 2, L[2]! / 2];
    }
    const wt = w.weights();
    expect(wt[0]).toBeGreaterThan(wt[1]!);
    expect(wt[0]).toBeGreaterThan(wt[2]!);
    expect(wt[0]).toBeGreaterThan(1);
  });

  it('one step by hand: w ← w − η·sign(G_t − Ḡ·r_t^α)·‖g_t‖, then Σw = T', () => {
    const w = gradNormWeighting(two, { alpha: 1, learningRate: 0.1 });
    const shared = [[1], [1]];
    run(w, shared, [[2], [1]], [1, 1]); // r = 1: G = [2, 1], Ḡ = 1.5 → w = [1 − 0.2, 1 + 0.1]
    const w1 = [0.8 * (2 / 1.9), 1.1 * (2 / 1.9)];
    w.weights().forEach((v, t) => expect(v).toBeCloseTo(w1[t]!, 12));
    // second step, used weights are w1; ratios L/L0 = [0.5, 1] → r = [2/3, 4/3]
    const d = run(w, shared, [[2], [1]], [0.5, 1]);
    d.taskWeights.forEach((v, t) => expect(v).toBeCloseTo(w1[t]!, 12));
    expect(d.shared[0]).toBeCloseTo(w1[0]! + w1[1]!, 5);
    const G = [w1[0]! * 2, w1[1]! * 1];
    const Gbar = (G[0]! + G[1]!) / 2;
    const r = [2 / 3, 4 / 3];
    const next = G.map((g, t) => Math.max(w1[t]! - 0.1 * Math.sign(g - Gbar * r[t]!) * [2, 1][t]!, 0));
    const s = sum(next);
    w.weights().forEach((v, t) => expect(v).toBeCloseTo((2 * next[t]!) / s, 12));
  });

  it('combine is Σ w_t·L_t with the current weights', () => {
    const w = gradNormWeighting(two);
    w.setState({ strategy: 'gradnorm', weights: [1.5, 0.5], initialLosses: [1, 1] });
    const L = [tf.scalar(2), tf.scalar(4)];
    expect(w.combine(L).dataSync()[0]).toBeCloseTo(5, 5);
    tf.dispose(L);
  });

  it('round-trips its state: weights and initial losses', () => {
    const a = gradNormWeighting(two);
    const shared = [[1], [2]];
    const last = [[1], [3]];
    run(a, shared, last, [1, 2]);
    run(a, shared, last, [0.5, 2]);
    const b = gradNormWeighting(two);
    b.setState(JSON.parse(JSON.stringify(a.getState())) as ReturnType<typeof a.getState>);
    expect(b.weights()).toEqual(a.weights());
    expect(b.initialLosses()).toEqual([1, 2]);
    expect(run(b, shared, last, [0.4, 1.9])).toEqual(run(a, shared, last, [0.4, 1.9]));
    expect(b.weights()).toEqual(a.weights());
    b.setState({ strategy: 'gradnorm', weights: [1, 1], initialLosses: null });
    expect(b.initialLosses()).toBeNull();
    expect(() => b.setState({ strategy: 'gradnorm', weights: [1], initialLosses: null })).toThrow(
      /weights must be 2 finite numbers ≥ 0/,
    );
    expect(() => b.setState({ strategy: 'gradnorm', weights: [1, 1], initialLosses: [1, NaN] })).toThrow(
      /initialLosses must be 2 finite numbers/,
    );
    expect(() => b.setState({ strategy: 'mgda-ub' })).toThrow(/cannot load 'mgda-ub'/);
  });

  it('leaks no tensors', () => {
    const w = gradNormWeighting(two);
    const g = gradients(
      [
        [1, 2],
        [3, 4],
      ],
      [[1], [2]],
      [1, 2],
    );
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      w.aggregate(g);
      w.combine(g.losses);
    });
    expect(tf.memory().numTensors).toBe(before);
    disposeAll(g);
  });

  it('rejects bad options and mismatched gradients with clear errors', () => {
    expect(() => gradNormWeighting(two, { alpha: -1 })).toThrow(
      /gradnorm weighting: alpha must be a finite number ≥ 0/,
    );
    expect(() => gradNormWeighting(two, { learningRate: 0 })).toThrow(
      /learningRate must be a positive number/,
    );
    const w = gradNormWeighting(two);
    const g = gradients([[1], [2]], [[1], [2], [3]], [1, 1]);
    expect(() => w.aggregate(g)).toThrow(
      /gradnorm weighting: gradients.lastShared has 3 vectors for 2 tasks/,
    );
    disposeAll(g);
    const h = gradients([[1], [2]], [[1], [2]], [1, NaN]);
    expect(() => w.aggregate(h)).toThrow(/loss of task 'b' is NaN/);
    disposeAll(h);
    expect(w.initialLosses()).toBeNull();
  });
});
