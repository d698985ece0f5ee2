import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { outputUnits } from '../models/output-units.js';
import { heteroscedasticNll, heteroscedasticRegressionTask, LOG_VARIANCE_LIMIT } from './heteroscedastic.js';

const mean = [0.5, -1, 2];
const s = [0.3, -0.7, 1.2];
const y = [1, -0.5, 0];
const pred = () => tf.tensor2d(mean.map((m, i) => [m, s[i]!]));
const target = () => tf.tensor2d(y.map((v) => [v]));

describe('heteroscedastic regression', () => {
  it('is the Gaussian and Laplace negative log-likelihood, sample by sample', () => {
    const gauss = heteroscedasticRegressionTask({ name: 'y' });
    const lap = heteroscedasticRegressionTask({ name: 'y', likelihood: 'laplace' });
    const g = y.map((v, i) => 0.5 * Math.exp(-s[i]!) * (v - mean[i]!) ** 2 + 0.5 * s[i]!);
    const l = y.map((v, i) => Math.exp(-s[i]!) * Math.abs(v - mean[i]!) + s[i]!);
    const [p, t] = [pred(), target()];
    const close = (got: ArrayLike<number>, want: number[]) =>
      want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
    close(gauss.sampleLoss(p, t).dataSync(), g);
    close(lap.sampleLoss(p, t).dataSync(), l);
    expect(gauss.loss(p, t).dataSync()[0]).toBeCloseTo((g[0]! + g[1]! + g[2]!) / 3, 6);
    // masked: only the labelled samples count
    expect(gauss.loss(p, t, tf.tensor1d([1, 0, 1])).dataSync()[0]).toBeCloseTo((g[0]! + g[2]!) / 2, 6);
    // metrics: rmse and mae of the mean, nll with its constant
    const sums = gauss.metricSums(p, t).dataSync();
    const m = gauss.metricsFromSums(sums);
    const r = y.map((v, i) => v - mean[i]!);
    expect(m['rmse']).toBeCloseTo(Math.sqrt(r.reduce((a, v) => a + v * v, 0) / 3), 6);
    expect(m['mae']).toBeCloseTo(r.reduce((a, v) => a + Math.abs(v), 0) / 3, 6);
    expect(m['nll']).toBeCloseTo(g.reduce((a, v) => a + v, 0) / 3 + 0.5 * Math.log(2 * Math.PI), 5);
    expect(outputUnits(gauss)).toBe(2);
  });

  it('has the closed-form gradient, checked by finite differences', async () => {
    const task = heteroscedasticRegressionTask({ name: 'y' });
    const t = target();
    const f = (p: tf.Tensor) => task.loss(p, t);
    const g = (await tf.grad(f)(pred()).array()) as number[][];
    // ∂/∂ŷ = −e^(−s)(y − ŷ)/n, ∂/∂s = (1 − e^(−s)(y − ŷ)²)/(2n)
    y.forEach((v, i) => {
      const e = Math.exp(-s[i]!);
      expect(g[i]![0]).toBeCloseTo((-e * (v - mean[i]!)) / 3, 5);
      expect(g[i]![1]).toBeCloseTo((1 - e * (v - mean[i]!) ** 2) / 6, 5);
    });
    const h = 1e-2;
    const base = pred().arraySync();
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 2; j++) {
        const plus = base.map((row) => [...row]);
        const minus = base.map((row) => [...row]);
        plus[i]![j]! += h;
        minus[i]![j]! -= h;
        const fd = (f(tf.tensor2d(plus)).dataSync()[0]! - f(tf.tensor2d(minus)).dataSync()[0]!) / (2 * h);
        expect(g[i]![j]).toBeCloseTo(fd, 3);
      }
  });

  it('the NLL is minimised at s = log of the squared (Gaussian) or absolute (Laplace) error', () => {
    const r = 1.7;
    const grid = Array.from({ length: 4001 }, (_, k) => -4 + k * 0.002);
    const argmin = (lik: 'gaussian' | 'laplace') => {
      const v = heteroscedasticNll(
        lik,
        tf.zeros([grid.length]),
        tf.tensor1d(grid),
        tf.fill([grid.length], r),
      ).dataSync();
      return grid[v.indexOf(Math.min(...v))]!;
    };
    expect(argmin('gaussian')).toBeCloseTo(Math.log(r * r), 2);
    expect(argmin('laplace')).toBeCloseTo(Math.log(r), 2);
    // s is guarded: an absurd log-variance gives a finite loss
    const big = heteroscedasticNll(
      'gaussian',
      tf.zeros([1]),
      tf.tensor1d([-1e4]),
      tf.ones([1]),
    ).dataSync()[0]!;
    expect(big).toBeCloseTo(0.5 * Math.exp(LOG_VARIANCE_LIMIT) - 0.5 * LOG_VARIANCE_LIMIT, -3);
  });

  it('names a prediction without a log-variance per target value', () => {
    const task = heteroscedasticRegressionTask({ name: 'y' });
    expect(() => task.loss(tf.zeros([3, 1]), target())).toThrow(/even last axis/);
    expect(() => task.loss(tf.zeros([3, 4]), target())).toThrow(
      /task 'y': a heteroscedastic prediction \[3, 4\]/,
    );
    expect(() => heteroscedasticRegressionTask({ name: 'y', likelihood: 'poisson' as never })).toThrow(
      /'gaussian' or 'laplace'/,
    );
  });
});
