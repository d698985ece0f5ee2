import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { outputUnits } from '../models/output-units.js';
import { sharedTrunkModel } from '../models/sharing.js';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import { Trainer } from '../train/trainer.js';
import { equalWeighting } from '../weighting/equal.js';
import { heteroscedasticClassificationTask } from './heteroscedastic-classification.js';

/** E[σ(z + s·ε)], ε ~ N(0, 1), by quadrature. */
function noisySigmoid(z: number, sd: number): number {
  let sum = 0;
  const h = 1e-3;
  for (let x = -10; x < 10; x += h) {
    const e = x + h / 2;
    sum += (1 / (1 + Math.exp(-(z + sd * e)))) * (Math.exp(-0.5 * e * e) / Math.sqrt(2 * Math.PI)) * h;
  }
  return sum;
}

describe('heteroscedastic classification', () => {
  it('without noise is the cross-entropy; with noise the Monte Carlo likelihood of the noisy logits', () => {
    const task = heteroscedasticClassificationTask({ name: 'c', numClasses: 3, samples: 4 });
    expect(outputUnits(task)).toBe(6);
    const logits = [
      [2, 0, -1],
      [0.5, 0.5, 3],
    ];
    const quiet = tf.tensor2d(logits.map((r) => [...r, -30, -30, -30]));
    const y = tf.tensor1d([0, 2], 'int32');
    const ce = logits.map((r, i) => {
      const lse = Math.log(r.reduce((a, v) => a + Math.exp(v), 0));
      return lse - r[[0, 2][i]!]!;
    });
    const got = task.sampleLoss(quiet, y).dataSync();
    // (log σ² is clipped at −15: σ ≈ 5e−4 of noise remains)
    expect(got[0]).toBeCloseTo(ce[0]!, 3);
    expect(got[1]).toBeCloseTo(ce[1]!, 3);
    expect(task.loss(quiet, y).dataSync()[0]).toBeCloseTo((ce[0]! + ce[1]!) / 2, 3);

    // Bernoulli with σ = 2 on the logit: −log E[σ(z + 2ε)] for y = 1, −log(1 − …) for y = 0
    const bern = heteroscedasticClassificationTask({
      name: 'b',
      likelihood: 'bernoulli',
      samples: 20000,
      seed: 3,
    });
    const pred = tf.tensor2d([
      [1, Math.log(4)],
      [-0.5, Math.log(4)],
    ]);
    const v = bern.sampleLoss(pred, tf.tensor1d([1, 0], 'int32')).dataSync();
    expect(v[0]).toBeCloseTo(-Math.log(noisySigmoid(1, 2)), 2);
    expect(v[1]).toBeCloseTo(-Math.log(1 - noisySigmoid(-0.5, 2)), 2);
  });

  it('has the gradient finite differences give; training draws move a stream that can be put back', () => {
    const task = heteroscedasticClassificationTask({ name: 'c', numClasses: 2, samples: 8, seed: 1 });
    const y = tf.tensor1d([1, 0], 'int32');
    const base = [
      [0.3, -0.2, 0.1, -0.5],
      [1.1, 0.4, -0.3, 0.2],
    ];
    const f = (p: tf.Tensor) => tf.sum(task.sampleLoss(p, y)); // evaluation: a fixed draw
    const g = tf.grad(f)(tf.tensor2d(base)).arraySync() as number[][];
    const h = 1e-2;
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 4; j++) {
        const up = base.map((r) => [...r]);
        const down = base.map((r) => [...r]);
        up[i]![j]! += h;
        down[i]![j]! -= h;
        const fd = (f(tf.tensor2d(up)).dataSync()[0]! - f(tf.tensor2d(down)).dataSync()[0]!) / (2 * h);
        expect(g[i]![j]).toBeCloseTo(fd, 2);
      }
    const p = tf.tensor2d(base);
    const l1 = task.loss(p, y).dataSync()[0]!;
    const l2 = task.loss(p, y).dataSync()[0]!;
    expect(l1).not.toBe(l2); // fresh noise every training step
    expect(task.randomState()).toBe(2);
    task.setRandomState(1);
    expect(task.loss(p, y).dataSync()[0]).toBe(l2);
  });

  it('learns more logit noise where the labels are noisier', async () => {
    // x ∈ [−2, 2]; label = [3x + ε(x) > 0] with ε's σ 0.1 for x < 0 and 4 for x > 0
    const rs = new NumpyRandomState(5);
    const n = 2000;
    const x = new Float32Array(n);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = -2 + 4 * rs.random();
      const sd = x[i]! < 0 ? 0.1 : 4;
      y[i] = 3 * x[i]! + sd * rs.standardNormal() > 0 ? 1 : 0;
    }
    const task = heteroscedasticClassificationTask({ name: 'c', numClasses: 2, samples: 10 });
    const model = sharedTrunkModel({ inputDim: 1, outputs: [outputUnits(task)], trunk: [32, 32], seed: 2 });
    const weighting = equalWeighting([task]);
    const trainer = new Trainer({ model, tasks: [task], weighting, optimizer: { learningRate: 0.01 } });
    const data = { x: tf.tensor2d(x, [n, 1]), targets: [tf.tensor1d(y, 'int32')] };
    await trainer.fit(data, { epochs: 30, batchSize: 64, seed: 1 });
    const s = tf.tidy(() =>
      (model.predict(tf.tensor2d([-1.5, -1, 1, 1.5], [4, 1])) as tf.Tensor).arraySync(),
    ) as number[][];
    // mean log-variance of the two logits: the noisy side's is clearly larger
    const noise = s.map((r) => (r[2]! + r[3]!) / 2);
    expect(Math.min(noise[2]!, noise[3]!)).toBeGreaterThan(Math.max(noise[0]!, noise[1]!) + 1);
    trainer.dispose();
    weighting.dispose();
    model.dispose();
    tf.dispose([data.x, ...data.targets]);
  });
});
