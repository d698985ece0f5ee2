import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { imtlLWeighting } from './imtl-l.js';
import { createWeighting } from './registry.js';

const tasks = [
  { name: 'a', likelihood: 'gaussian' as const },
  { name: 'b', likelihood: 'softmax' as const },
  { name: 'c', likelihood: 'laplace' as const },
];

describe('imtlLWeighting', () => {
  it('creating and disposing it leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    imtlLWeighting([
      { name: 'a', likelihood: 'gaussian' },
      { name: 'b', likelihood: 'softmax' },
    ]).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('combines to Σ e^(s_t)·L_t − s_t and weights e^(s_t)', () => {
    const w = imtlLWeighting(tasks, { initialLogScale: [0.3, -1, 0] });
    const total = w.combine([tf.scalar(2), tf.scalar(0.5), tf.scalar(4)]);
    expect(total.rank).toBe(0);
    const expected = Math.exp(0.3) * 2 - 0.3 + Math.exp(-1) * 0.5 + 1 + 4;
    expect(total.dataSync()[0]).toBeCloseTo(expected, 5);
    const wt = w.weights();
    expect(wt[0]).toBeCloseTo(Math.exp(0.3), 6);
    expect(wt[1]).toBeCloseTo(Math.exp(-1), 6);
    expect(wt[2]).toBe(1);
    expect(w.name).toBe('imtl-l');
    expect(w.variables).toHaveLength(3);
    expect(w.variables.every((v) => v instanceof tf.Variable && v.trainable)).toBe(true);
    w.dispose();
  });

  it('starts at s = 0: every weight 1', () => {
    const w = createWeighting('imtl-l', tasks);
    expect(w.weights()).toEqual([1, 1, 1]);
    w.dispose();
  });

  it('minimising over s alone for fixed losses gives s* = −log L: every scaled loss becomes 1', () => {
    const L = [0.05, 1, 7.5];
    const w = imtlLWeighting(tasks);
    const losses = L.map((l) => tf.scalar(l));
    const opt = tf.train.sgd(0.5);
    for (let i = 0; i < 200; i++) opt.minimize(() => w.combine(losses), false, [...w.variables]);
    w.logScales().forEach((s, t) => expect(s).toBeCloseTo(-Math.log(L[t]!), 4));
    w.weights().forEach((wt, t) => expect(wt * L[t]!).toBeCloseTo(1, 4));
    // at the optimum each term is 1 + log L
    const atOpt = w.combine(losses).dataSync()[0]!;
    expect(atOpt).toBeCloseTo(
      L.reduce((a, l) => a + 1 + Math.log(l), 0),
      4,
    );
    opt.dispose();
    w.dispose();
  });

  it('gradients: ∂/∂s_t = e^(s_t)·L_t − 1 (finite differences), ∂/∂L_t = e^(s_t)', () => {
    const s0 = [0.4, -0.7, 1.1];
    const w = imtlLWeighting(tasks, { initialLogScale: s0 });
    const L = [1.3, 0.2, 0.9];
    const losses = L.map((l) => tf.scalar(l));
    const { grads } = tf.variableGrads(() => w.combine(losses), [...w.variables]);
    const h = 1e-2;
    s0.forEach((s, i) => {
      const at = (v: number) => {
        w.setState({ strategy: 'imtl-l', logScale: s0.map((x, j) => (j === i ? v : x)) });
        return w.combine(losses).dataSync()[0]!;
      };
      const fd = (at(s + h) - at(s - h)) / (2 * h);
      const g = grads[w.variables[i]!.name]!.dataSync()[0]!;
      expect(g).toBeCloseTo(fd, 3);
      expect(g).toBeCloseTo(Math.exp(s) * L[i]! - 1, 5);
    });
    w.setState({ strategy: 'imtl-l', logScale: s0 });
    const dL = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => w.combine([a, b, c] as tf.Scalar[]))(
      losses,
    );
    dL.forEach((g, i) => expect(g.dataSync()[0]).toBeCloseTo(Math.exp(s0[i]!), 5));
    w.dispose();
  });

  it('clamps s after each step and carries its own learning rate', () => {
    const w = imtlLWeighting(tasks, { clamp: [-2, 2], initialLogScale: 5, learningRate: 0.02 });
    expect(w.logScales()).toEqual([2, 2, 2]);
    w.variables[1]!.assign(tf.scalar(-9));
    w.afterStep?.();
    expect(w.logScales()[1]).toBe(-2);
    expect(w.learningRate).toBe(0.02);
    const unclamped = imtlLWeighting(tasks);
    expect('afterStep' in unclamped).toBe(false);
    unclamped.dispose();
    w.dispose();
  });

  it('round-trips its state', () => {
    const a = imtlLWeighting(tasks, { initialLogScale: [1.5, -0.25, 0.125] });
    const b = imtlLWeighting(tasks);
    b.setState(JSON.parse(JSON.stringify(a.getState())) as ReturnType<typeof a.getState>);
    expect(b.logScales()).toEqual(a.logScales());
    expect(b.weights()).toEqual(a.weights());
    expect(() => b.setState({ strategy: 'uncertainty' })).toThrow(/cannot load 'uncertainty'/);
    expect(() => b.setState({ strategy: 'imtl-l', logScale: [1] })).toThrow(/logScale must be 3 finite/);
    a.dispose();
    b.dispose();
  });

  it('leaks no tensors and disposes its variables', () => {
    const before = tf.memory().numTensors;
    const w = imtlLWeighting(tasks);
    const losses = [tf.scalar(1), tf.scalar(2), tf.scalar(3)];
    const mid = tf.memory().numTensors;
    tf.tidy(() => {
      w.combine(losses);
    });
    tf.tidy(() => {
      tf.variableGrads(() => w.combine(losses), [...w.variables]);
    });
    expect(tf.memory().numTensors).toBe(mid);
    tf.dispose(losses);
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad options with the option named', () => {
    expect(() => imtlLWeighting(tasks, { initialLogScale: [0, 1] })).toThrow(
      /initialLogScale has 2 values for 3 tasks/,
    );
    expect(() => imtlLWeighting(tasks, { initialLogScale: NaN })).toThrow(
      /initialLogScale\[0\] must be finite/,
    );
    expect(() => imtlLWeighting(tasks, { clamp: [3, 1] })).toThrow(/clamp must be \[min, max\]/);
    expect(() => imtlLWeighting(tasks, { learningRate: 0 })).toThrow(/learningRate must be a positive/);
    expect(() => imtlLWeighting([])).toThrow(/imtl-l weighting: at least one task/);
    const w = imtlLWeighting(tasks);
    expect(() => w.combine([tf.scalar(1)])).toThrow(/got 1 losses for 3 tasks/);
    w.dispose();
  });
});
