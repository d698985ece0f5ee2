import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createWeighting } from './registry.js';
import { uwSoWeighting } from './uw-so.js';

const tasks = [
  { name: 'a', likelihood: 'gaussian' as const },
  { name: 'b', likelihood: 'softmax' as const },
  { name: 'c', likelihood: 'laplace' as const },
];

/** S·softmax((1/L)/τ) in float64. */
function byHand(L: number[], tau: number, S = L.length): number[] {
  const e = L.map((l) => Math.exp(1 / l / tau));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => (S * v) / s);
}

describe('uwSoWeighting', () => {
  it('weights T·softmax((1/L_t)/τ) from the current losses (hand values)', () => {
    const w = createWeighting('uw-so', tasks);
    expect(w.name).toBe('uw-so');
    expect(w.variables).toEqual([]);
    expect(w.weights()).toEqual([1, 1, 1]); // before the first combine
    const L = [0.5, 1, 2];
    const total = w.combine(L.map((l) => tf.scalar(l))).dataSync()[0]!;
    // logits 1/L = [2, 1, 0.5]: softmax = e^[2, 1, 0.5] / (e² + e + e^0.5)
    const z = Math.exp(2) + Math.exp(1) + Math.exp(0.5);
    const expected = [(3 * Math.exp(2)) / z, (3 * Math.exp(1)) / z, (3 * Math.exp(0.5)) / z];
    expect(expected[0]).toBeCloseTo(1.8856, 4);
    w.weights().forEach((v, t) => expect(v).toBeCloseTo(expected[t]!, 5));
    expect(w.weights().reduce((a, b) => a + b, 0)).toBeCloseTo(3, 5);
    expect(total).toBeCloseTo(expected[0]! * 0.5 + expected[1]! + expected[2]! * 2, 5);
    // the smaller loss gets the larger weight
    const [w0, w1, w2] = w.weights() as [number, number, number];
    expect(w0 > w1 && w1 > w2).toBe(true);
    w.dispose();
  });

  it('follows the losses step by step and honours τ and weightSum', () => {
    const w = uwSoWeighting(tasks, { temperature: 4, weightSum: 1 });
    expect(w.temperature).toBe(4);
    expect(w.weights()).toEqual([1 / 3, 1 / 3, 1 / 3]);
    for (const L of [
      [0.2, 0.3, 5],
      [3, 1, 0.25],
    ]) {
      tf.tidy(() => {
        w.combine(L.map((l) => tf.scalar(l)));
      });
      const expected = byHand(L, 4, 1);
      w.weights().forEach((v, t) => expect(v).toBeCloseTo(expected[t]!, 5));
    }
    // equal losses: equal weights, whatever τ
    const eq = uwSoWeighting(tasks, { temperature: 0.1 });
    eq.combine([tf.scalar(0.7), tf.scalar(0.7), tf.scalar(0.7)]);
    eq.weights().forEach((v) => expect(v).toBeCloseTo(1, 5));
    // a high temperature flattens the weights towards S/T
    const flat = uwSoWeighting(tasks, { temperature: 1e4 });
    flat.combine([tf.scalar(0.2), tf.scalar(1), tf.scalar(5)]);
    flat.weights().forEach((v) => expect(v).toBeCloseTo(1, 3));
    w.dispose();
    eq.dispose();
    flat.dispose();
  });

  it('the gradient of combine wrt L_t is w_t: the weights are constants', () => {
    const w = uwSoWeighting(tasks, { temperature: 0.5 });
    const L = [0.8, 1.5, 0.3];
    const losses = L.map((l) => tf.scalar(l));
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => w.combine([a, b, c] as tf.Scalar[]))(
      losses,
    );
    const expected = byHand(L, 0.5);
    g.forEach((gt, t) => expect(gt.dataSync()[0]).toBeCloseTo(expected[t]!, 5));
    // through a model parameter too: L_t = θ_t², so ∂/∂θ_t = w_t·2θ_t
    const theta = tf.variable(tf.tensor1d(L.map(Math.sqrt)));
    const { grads } = tf.variableGrads(() => w.combine(tf.unstack(tf.square(theta)) as tf.Scalar[]), [theta]);
    const d = grads[theta.name]!.dataSync();
    L.forEach((l, t) => expect(d[t]).toBeCloseTo(expected[t]! * 2 * Math.sqrt(l), 4));
    theta.dispose();
    w.dispose();
  });

  it('a loss of 0 stays finite (ε = 1e-8) and takes nearly all the weight', () => {
    const w = uwSoWeighting(tasks);
    const total = w.combine([tf.scalar(0), tf.scalar(1), tf.scalar(2)]).dataSync()[0]!;
    expect(Number.isFinite(total)).toBe(true);
    const wt = w.weights();
    expect(wt.every(Number.isFinite)).toBe(true);
    expect(wt[0]).toBeCloseTo(3, 5);
    w.dispose();
  });

  it('keeps only the last weights on the device: no tensor leaks, none after dispose', () => {
    const L = [tf.scalar(1), tf.scalar(2), tf.scalar(3)];
    const base = tf.memory().numTensors;
    const w = uwSoWeighting(tasks);
    // the first call keeps one tensor: the weights
    tf.tidy(() => {
      w.combine(L);
    });
    const before = tf.memory().numTensors;
    expect(before).toBe(base + 1);
    tf.tidy(() => {
      w.combine(L);
    });
    tf.tidy(() => {
      tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => w.combine([a, b, c] as tf.Scalar[]))(L);
    });
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
    expect(tf.memory().numTensors).toBe(base);
    tf.dispose(L);
  });

  it('state: the last weights, for reporting after a resume', () => {
    const a = uwSoWeighting(tasks);
    a.combine([tf.scalar(0.5), tf.scalar(1), tf.scalar(2)]);
    const b = uwSoWeighting(tasks);
    b.setState(JSON.parse(JSON.stringify(a.getState())) as ReturnType<typeof a.getState>);
    expect(b.weights()).toEqual(a.weights());
    b.setState({ strategy: 'uw-so' });
    expect(b.weights()).toEqual(a.weights());
    expect(() => b.setState({ strategy: 'uncertainty' })).toThrow(/cannot load 'uncertainty'/);
    expect(() => b.setState({ strategy: 'uw-so', weights: [1, 2] })).toThrow(/weights must be 3 finite/);
    a.dispose();
    b.dispose();
  });

  it('rejects bad options with the option named', () => {
    expect(() => uwSoWeighting(tasks, { temperature: 0 })).toThrow(
      /uw-so weighting: temperature must be a positive number/,
    );
    expect(() => uwSoWeighting(tasks, { temperature: NaN })).toThrow(/temperature must be a positive/);
    expect(() => uwSoWeighting(tasks, { weightSum: -1 })).toThrow(/weightSum must be a positive number/);
    expect(() => uwSoWeighting([])).toThrow(/uw-so weighting: at least one task/);
    expect(() => uwSoWeighting(tasks).combine([tf.scalar(1)])).toThrow(/got 1 losses for 3 tasks/);
  });
});
