import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import { createWeighting } from './registry.js';
import { rlwWeighting } from './rlw.js';

const tasks = [
  { name: 'a', likelihood: 'gaussian' as const },
  { name: 'b', likelihood: 'softmax' as const },
  { name: 'c', likelihood: 'laplace' as const },
];
const losses = (): tf.Scalar[] => [tf.scalar(1), tf.scalar(2), tf.scalar(3)];

/** The weights of the first n draws by hand: T·softmax(z), z the generator's next T normal deviates. */
function byHand(seed: number, n: number, T = 3, sum = T): number[][] {
  const rng = new NumpyRandomState(seed);
  const out: number[][] = [];
  for (let k = 0; k < n; k++) {
    const e = Array.from({ length: T }, () => Math.exp(rng.standardNormal()));
    const s = e.reduce((a, b) => a + b, 0);
    out.push(e.map((v) => (sum * v) / s));
  }
  return out;
}

function expectNear(a: number[][], b: number[][]): void {
  expect(a.length).toBe(b.length);
  a.forEach((row, k) => row.forEach((v, t) => expect(v).toBeCloseTo(b[k]![t]!, 12)));
}

function drawN(w: ReturnType<typeof rlwWeighting>, n: number): number[][] {
  const L = losses();
  const out: number[][] = [];
  for (let k = 0; k < n; k++) {
    tf.tidy(() => {
      w.combine(L);
    });
    out.push(w.weights());
  }
  tf.dispose(L);
  return out;
}

describe('rlwWeighting', () => {
  it('draws fresh weights T·softmax(z), z ~ N(0, I), on every combine', () => {
    const w = createWeighting('rlw', tasks) as ReturnType<typeof rlwWeighting>;
    expect(w.name).toBe('rlw');
    expect(w.variables).toEqual([]);
    expect(w.weights()).toEqual([1, 1, 1]); // before the first draw
    const got = drawN(w, 20);
    const expected = byHand(0, 20);
    got.forEach((ws, k) => {
      ws.forEach((v, t) => expect(v).toBeCloseTo(expected[k]![t]!, 12));
      expect(ws.reduce((a, b) => a + b, 0)).toBeCloseTo(3, 12);
      expect(ws.every((v) => v > 0)).toBe(true);
      if (k > 0) expect(ws).not.toEqual(got[k - 1]);
    });
    expect(w.draws()).toBe(20);
  });

  it('combine is Σ w_t·L_t with the draw held constant: ∂/∂L_t = w_t', () => {
    const w = rlwWeighting(tasks, { seed: 7 });
    const L = losses();
    const total = w.combine(L).dataSync()[0]!;
    const wt = w.weights();
    expect(total).toBeCloseTo(wt[0]! + 2 * wt[1]! + 3 * wt[2]!, 5);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => w.combine([a, b, c] as tf.Scalar[]))(L);
    // the gradient call drew once more
    const wt2 = w.weights();
    expect(wt2).not.toEqual(wt);
    g.forEach((gt, t) => expect(gt.dataSync()[0]).toBeCloseTo(wt2[t]!, 6));
    expect(w.draws()).toBe(2);
  });

  it('is reproducible by seed, and seeds differ', () => {
    const a = drawN(rlwWeighting(tasks, { seed: 123 }), 5);
    const b = drawN(rlwWeighting(tasks, { seed: 123 }), 5);
    const c = drawN(rlwWeighting(tasks, { seed: 124 }), 5);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expectNear(a, byHand(123, 5));
  });

  it('weightSum: 1 gives the paper normalisation', () => {
    const w = rlwWeighting(tasks, { seed: 3, weightSum: 1 });
    expect(w.weights()).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expectNear(drawN(w, 3), byHand(3, 3, 3, 1));
  });

  it('round-trips its state: the restored strategy continues the same sequence', () => {
    const a = rlwWeighting(tasks, { seed: 42 });
    drawN(a, 7); // an odd number of draws × 3 tasks: the polar method's cached deviate is in use
    const b = rlwWeighting(tasks); // other seed: the state's wins
    b.setState(JSON.parse(JSON.stringify(a.getState())) as ReturnType<typeof a.getState>);
    expect(b.seed).toBe(42);
    expect(b.draws()).toBe(7);
    expect(b.weights()).toEqual(a.weights());
    expect(drawN(b, 4)).toEqual(drawN(a, 4));
    expectNear(drawN(b, 4), byHand(42, 15).slice(11));
    b.setState({ strategy: 'rlw', seed: 42, draws: 0 });
    expect(b.weights()).toEqual([1, 1, 1]);
    expectNear(drawN(b, 1), byHand(42, 1));
    expect(() => b.setState({ strategy: 'dwa' })).toThrow(/cannot load 'dwa'/);
    expect(() => b.setState({ strategy: 'rlw', seed: 1, draws: -1 })).toThrow(/draws must be an integer ≥ 0/);
    expect(() => b.setState({ strategy: 'rlw', seed: 1.5, draws: 0 })).toThrow(
      /state seed must be an integer/,
    );
  });

  it('leaks no tensors', () => {
    const w = rlwWeighting(tasks);
    const L = losses();
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      w.combine(L);
    });
    tf.tidy(() => {
      tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => w.combine([a, b, c] as tf.Scalar[]))(L);
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(L);
    w.dispose();
  });

  it('rejects bad options with the option named', () => {
    expect(() => rlwWeighting(tasks, { seed: -1 })).toThrow(
      /rlw weighting: seed must be an integer in \[0, 2\^32 - 1\]/,
    );
    expect(() => rlwWeighting(tasks, { seed: 0.5 })).toThrow(/seed must be an integer/);
    expect(() => rlwWeighting(tasks, { weightSum: 0 })).toThrow(/weightSum must be a positive number/);
    expect(() => rlwWeighting([])).toThrow(/rlw weighting: at least one task/);
    expect(() => rlwWeighting(tasks).combine([tf.scalar(1)])).toThrow(/got 1 losses for 3 tasks/);
  });
});
