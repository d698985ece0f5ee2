import { describe, expect, it } from 'vitest';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import {
  expectedCalibrationError,
  fitTemperature,
  intervalCoverage,
  sigmoidPair,
  softmaxRow,
  TEMPERATURE_BOUNDS,
  Z68,
  Z95,
} from './calibration.js';

describe('calibration', () => {
  it('covers 68 % and 95 % of Gaussian noise with the right σ', () => {
    const rs = new NumpyRandomState(3);
    const n = 20000;
    const pred = new Float64Array(n);
    const actual = Float64Array.from(rs.randn(n), (e) => 2 * e);
    expect(intervalCoverage(actual, pred, 2, Z68)).toBeCloseTo(0.68, 1);
    expect(Math.abs(intervalCoverage(actual, pred, 2, Z95) - 0.95)).toBeLessThan(0.01);
  });

  it('ECE is 0 for perfectly calibrated bins and |acc − conf| otherwise', () => {
    // confidence 0.75 in one bin, right 3 times out of 4
    const probs = [
      [0.75, 0.25],
      [0.75, 0.25],
      [0.75, 0.25],
      [0.75, 0.25],
    ];
    expect(expectedCalibrationError(probs, [0, 0, 0, 1])).toBeCloseTo(0, 12);
    expect(expectedCalibrationError(probs, [0, 0, 0, 0])).toBeCloseTo(0.25, 12);
  });

  it('tempered softmax and sigmoid', () => {
    const p = softmaxRow([0, Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
    const hot = softmaxRow([0, 1], 0.5);
    expect(hot[1]! / hot[0]!).toBeCloseTo(Math.exp(2), 10);
    expect(sigmoidPair(0)).toEqual([0.5, 0.5]);
    expect(sigmoidPair(2, 2)[1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
  });
});

/** Mean NLL of labels under softmax(rows/T), written out directly (no shared code with fitTemperature). */
function meanNll(rows: number[][], labels: number[], T: number): number {
  let total = 0;
  rows.forEach((r, i) => (total -= Math.log(softmaxRow(r, T)[labels[i]!]!)));
  return total / rows.length;
}

/** Index of the first maximum. */
const argmax = (p: number[]) => p.indexOf(Math.max(...p));

/** n rows of K logits ~ N(0, scale²) and a label drawn from softmax(logits): calibrated by construction. */
function calibratedSample(rs: NumpyRandomState, n: number, k: number, scale: number) {
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = Array.from(rs.randn(k), (v) => scale * v);
    const p = softmaxRow(z);
    let u = rs.random();
    let y = 0;
    while (y < k - 1 && (u -= p[y]!) > 0) y++;
    rows.push(z);
    labels.push(y);
  }
  return { rows, labels };
}

describe('fitTemperature', () => {
  it('matches a brute-force grid search over log T', () => {
    const rs = new NumpyRandomState(11);
    for (const [k, scale, factor] of [
      [3, 2, 3],
      [5, 1, 0.4],
      [2, 4, 1],
    ] as const) {
      const { rows, labels } = calibratedSample(rs, 300, k, scale);
      const scaled = rows.map((r) => r.map((v) => v * factor));
      const fit = fitTemperature(scaled, labels);
      let best = { T: NaN, nll: Infinity };
      for (let j = 0; j <= 4000; j++) {
        const T = Math.exp(Math.log(0.05) + (j / 4000) * Math.log(20 / 0.05));
        const nll = meanNll(scaled, labels, T);
        if (nll < best.nll) best = { T, nll };
      }
      expect(fit.nll).toBeLessThanOrEqual(best.nll + 1e-12);
      expect(fit.nll).toBeCloseTo(meanNll(scaled, labels, fit.temperature), 12);
      expect(Math.abs(Math.log(fit.temperature / best.T))).toBeLessThan(2e-3); // one grid step is 0.0015 in log T
      expect(fit.nllAtOne).toBeCloseTo(meanNll(scaled, labels, 1), 12);
    }
  });

  it('recovers the factor calibrated logits were scaled by', () => {
    const rs = new NumpyRandomState(5);
    const { rows, labels } = calibratedSample(rs, 20000, 4, 1.5);
    for (const factor of [0.5, 2.5]) {
      const fit = fitTemperature(
        rows.map((r) => r.map((v) => v * factor)),
        labels,
      );
      expect(Math.abs(fit.temperature / factor - 1)).toBeLessThan(0.05);
      expect(fit.nll).toBeLessThan(fit.nllAtOne);
    }
  });

  it('gives the closed-form T when every row has the same logits', () => {
    // softmax: logits [a, 0, 0] on every row, class 0 right for a fraction q: e^(a/T)/(e^(a/T) + 2) = q
    const a = 3;
    const labels = [0, 0, 0, 0, 0, 0, 1, 2]; // q = 0.75
    const rows = labels.map(() => [a, 0, 0]);
    expect(fitTemperature(rows, labels).temperature).toBeCloseTo(a / Math.log((2 * 0.75) / 0.25), 10);
    // Bernoulli: logit 2 on every row, label 1 for 3 rows of 4: sigmoid(2/T) = 3/4, T = 2/ln 3
    const fit = fitTemperature([[2], [2], [2], [2]], [1, 1, 1, 0], { likelihood: 'bernoulli' });
    expect(fit.temperature).toBeCloseTo(2 / Math.log(3), 10);
    expect(sigmoidPair(2, fit.temperature)[1]).toBeCloseTo(0.75, 10);
  });

  it('Bernoulli logits fit as sigmoid, the same as two-class softmax of [0, z]', () => {
    const rs = new NumpyRandomState(8);
    const { rows, labels } = calibratedSample(rs, 500, 2, 2);
    const z = rows.map((r) => [3 * (r[1]! - r[0]!)]);
    const bernoulli = fitTemperature(z, labels, { likelihood: 'bernoulli' });
    const softmax = fitTemperature(
      z.map((r) => [0, r[0]!]),
      labels,
    );
    expect(bernoulli.temperature).toBeCloseTo(softmax.temperature, 12);
    expect(bernoulli.temperature).toBeGreaterThan(2);
    let nll = 0;
    z.forEach((r, i) => (nll -= Math.log(sigmoidPair(r[0]!, bernoulli.temperature)[labels[i]!]!)));
    expect(bernoulli.nll).toBeCloseTo(nll / z.length, 12);
  });

  it('stops at the bounds when the NLL keeps falling, and is deterministic', () => {
    const rows = [
      [4, 0],
      [0, 4],
      [3, 1],
    ];
    // every top label right: sharper is always better → the smallest T
    expect(fitTemperature(rows, [0, 1, 0]).temperature).toBeCloseTo(TEMPERATURE_BOUNDS[0], 12);
    // every top label wrong: flatter is always better → the largest T
    expect(fitTemperature(rows, [1, 0, 1]).temperature).toBeCloseTo(TEMPERATURE_BOUNDS[1], 12);
    expect(fitTemperature(rows, [1, 0, 1], { bounds: [0.5, 2] }).temperature).toBeCloseTo(2, 12);
    const once = fitTemperature(rows, [0, 1, 1]);
    expect(fitTemperature(rows, [0, 1, 1])).toEqual(once);
    expect(argmax(softmaxRow(rows[0]!, once.temperature))).toBe(0);
  });

  it('rejects what it cannot fit', () => {
    expect(() => fitTemperature([], [])).toThrow(/no rows/);
    expect(() => fitTemperature([[1, 2]], [0, 1])).toThrow(/1 rows of logits but 2 labels/);
    expect(() => fitTemperature([[1, 2]], [2])).toThrow(/label 2 is not a class index/);
    expect(() => fitTemperature([[1, NaN]], [0])).toThrow(/non-finite/);
    expect(() => fitTemperature([[1, 2]], [0], { bounds: [0, 1] })).toThrow(/bounds/);
  });
});
