import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { dwaWeighting } from './dwa.js';
import { createWeighting } from './registry.js';

const two = [
  { name: 'a', likelihood: 'gaussian' as const },
  { name: 'b', likelihood: 'softmax' as const },
];
const three = [...two, { name: 'c', likelihood: 'laplace' as const }];

function softmax(x: number[]): number[] {
  const e = x.map(Math.exp);
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

describe('dwaWeighting', () => {
  it('weights 1 in the first two epochs', () => {
    const w = createWeighting('dwa', three);
    expect(w.name).toBe('dwa');
    expect(w.variables).toEqual([]);
    expect(w.weights()).toEqual([1, 1, 1]);
    w.onEpochEnd?.([3, 2, 1]);
    expect(w.weights()).toEqual([1, 1, 1]);
    expect(w.combine([tf.scalar(2), tf.scalar(3), tf.scalar(4)]).dataSync()[0]).toBeCloseTo(9, 6);
    w.onEpochEnd?.([1, 2, 3]);
    expect(w.weights()).not.toEqual([1, 1, 1]);
  });

  it('weights from a loss history by hand: [2,4], [1,4] → r = [0.5, 1] → 2·softmax([0.25, 0.5])', () => {
    const w = dwaWeighting(two);
    expect(w.temperature).toBe(2);
    w.onEpochEnd?.([2, 4]);
    w.onEpochEnd?.([1, 4]);
    const expected = softmax([0.25, 0.5]).map((v) => 2 * v);
    w.weights().forEach((v, t) => expect(v).toBeCloseTo(expected[t]!, 12));
    expect(expected[0]).toBeCloseTo(0.875647, 6);
    // combine = Σ w_t·L_t, constant weights: ∂/∂L_t = w_t
    const L = [tf.scalar(3), tf.scalar(0.5)];
    const total = w.combine(L).dataSync()[0]!;
    expect(total).toBeCloseTo(expected[0]! * 3 + expected[1]! * 0.5, 5);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => w.combine([a, b] as tf.Scalar[]))(L);
    g.forEach((gt, t) => expect(gt.dataSync()[0]).toBeCloseTo(expected[t]!, 6));
    // the next epoch uses only the last two: [1,4] → [1,1] gives r = [1, 0.25]
    w.onEpochEnd?.([1, 1]);
    const next = softmax([0.5, 0.125]).map((v) => 2 * v);
    w.weights().forEach((v, t) => expect(v).toBeCloseTo(next[t]!, 12));
  });

  it('honours the temperature and sums to the number of tasks', () => {
    const w = dwaWeighting(three, { temperature: 0.5 });
    w.onEpochEnd?.([1, 2, 4]);
    w.onEpochEnd?.([0.9, 1, 1]);
    const expected = softmax([0.9 / 0.5, 0.5 / 0.5, 0.25 / 0.5]).map((v) => 3 * v);
    w.weights().forEach((v, t) => expect(v).toBeCloseTo(expected[t]!, 12));
    expect(w.weights().reduce((a, b) => a + b, 0)).toBeCloseTo(3, 12);
    // larger τ, flatter
    const flat = dwaWeighting(three, { temperature: 100 });
    flat.onEpochEnd?.([1, 2, 4]);
    flat.onEpochEnd?.([0.9, 1, 1]);
    flat.weights().forEach((v) => expect(v).toBeCloseTo(1, 2));
  });

  it('a loss of 0 two epochs back counts as no change; a diverged epoch is skipped', () => {
    const w = dwaWeighting(two);
    w.onEpochEnd?.([0, 2]);
    w.onEpochEnd?.([0.5, 2]);
    w.weights().forEach((v) => expect(v).toBeCloseTo(1, 12)); // r = [1, 1]
    w.onEpochEnd?.([NaN, 1]);
    w.weights().forEach((v) => expect(v).toBeCloseTo(1, 12));
    expect(w.getState()['history']).toEqual([
      [0, 2],
      [0.5, 2],
    ]);
  });

  it('round-trips its state, loss history included', () => {
    const a = dwaWeighting(three);
    a.onEpochEnd?.([1, 2, 3]);
    a.onEpochEnd?.([0.5, 2.5, 3]);
    a.onEpochEnd?.([0.4, 2, 3.5]);
    const b = dwaWeighting(three);
    b.setState(JSON.parse(JSON.stringify(a.getState())) as ReturnType<typeof a.getState>);
    expect(b.weights()).toEqual(a.weights());
    a.onEpochEnd?.([0.3, 1, 2]);
    b.onEpochEnd?.([0.3, 1, 2]);
    expect(b.weights()).toEqual(a.weights());
    // a fresh state (no epochs yet) resets to 1s
    b.setState({ strategy: 'dwa', history: [] });
    expect(b.weights()).toEqual([1, 1, 1]);
    expect(() => b.setState({ strategy: 'rlw' })).toThrow(/cannot load 'rlw'/);
    expect(() => b.setState({ strategy: 'dwa', history: [[1, 2]] })).toThrow(
      /state history\[0\] must be 3 numbers/,
    );
    expect(() => b.setState({ strategy: 'dwa', history: [[1, 2, 3], [], []] })).toThrow(/at most 2 epochs/);
  });

  it('leaks no tensors', () => {
    const w = dwaWeighting(two);
    w.onEpochEnd?.([2, 4]);
    w.onEpochEnd?.([1, 4]);
    const L = [tf.scalar(1), tf.scalar(2)];
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      w.combine(L);
    });
    tf.tidy(() => {
      tf.grads((a: tf.Tensor, b: tf.Tensor) => w.combine([a, b] as tf.Scalar[]))(L);
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(L);
    w.dispose();
  });

  it('rejects bad options and inputs with the option named', () => {
    expect(() => dwaWeighting(two, { temperature: 0 })).toThrow(
      /dwa weighting: temperature must be a positive/,
    );
    expect(() => dwaWeighting(two, { temperature: Infinity })).toThrow(/temperature must be a positive/);
    expect(() => dwaWeighting([])).toThrow(/dwa weighting: at least one task/);
    const w = dwaWeighting(two);
    expect(() => w.onEpochEnd?.([1])).toThrow(/got 1 epoch losses for 2 tasks/);
    expect(() => w.combine([tf.scalar(1)])).toThrow(/got 1 losses for 2 tasks/);
  });
});
