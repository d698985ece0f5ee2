import { describe, expect, it } from 'vitest';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import {
  expectedCalibrationError,
  intervalCoverage,
  sigmoidPair,
  softmaxRow,
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
