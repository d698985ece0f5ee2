import { describe, expect, it } from 'vitest';
import { Z95 } from './calibration.js';
import { coverage95ByThird, erf, gaussianCrps, gaussianNll, meanWidth95, normalCdf } from './intervals.js';

describe('Gaussian predictive scores', () => {
  it('erf and Φ match tabulated values', () => {
    expect(erf(0)).toBeCloseTo(0, 7);
    expect(erf(0.5)).toBeCloseTo(0.5204998778, 7);
    expect(erf(1)).toBeCloseTo(0.8427007929, 7);
    expect(erf(-2)).toBeCloseTo(-0.995322265, 7);
    expect(normalCdf(Z95)).toBeCloseTo(0.975, 7);
  });

  it('NLL is the closed form; CRPS equals ∫(F(x) − 1[x ≥ y])² dx by quadrature', () => {
    const y = [1.3, -0.2, 4];
    const mu = [1, 0.5, 2];
    const sd = [0.5, 2, 1.5];
    const nll =
      y.reduce((acc, v, i) => acc + 0.5 * ((v - mu[i]!) / sd[i]!) ** 2 + Math.log(sd[i]!), 0) / 3 +
      0.5 * Math.log(2 * Math.PI);
    expect(gaussianNll(y, mu, sd)).toBeCloseTo(nll, 10);
    const quad = y.map((v, i) => {
      let sum = 0;
      const h = 1e-3;
      for (let x = mu[i]! - 12 * sd[i]!; x < mu[i]! + 12 * sd[i]!; x += h) {
        const F = normalCdf((x + h / 2 - mu[i]!) / sd[i]!);
        sum += (F - (x + h / 2 >= v ? 1 : 0)) ** 2 * h;
      }
      return sum;
    });
    expect(gaussianCrps(y, mu, sd)).toBeCloseTo((quad[0]! + quad[1]! + quad[2]!) / 3, 4);
    // a perfect point forecast with σ → 0 scores its absolute error
    expect(gaussianCrps([3], [1], [1e-9])).toBeCloseTo(2, 6);
  });

  it('width and coverage per third of the predictions', () => {
    expect(meanWidth95([1, 2])).toBeCloseTo(3 * Z95, 10);
    // predictions 0..8; the top third's errors are outside their intervals
    const predicted = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const actual = predicted.map((p) => (p >= 6 ? p + 3 : p + 0.1));
    expect(
      coverage95ByThird(
        actual,
        predicted,
        predicted.map(() => 1),
      ),
    ).toEqual([1, 1, 0]);
    // thirds follow the predicted values, not the row order
    const shuffled = [8, 0, 7, 1, 6, 2, 5, 3, 4];
    expect(
      coverage95ByThird(
        shuffled.map((p) => (p >= 6 ? p + 3 : p)),
        shuffled,
        shuffled.map(() => 1),
      ),
    ).toEqual([1, 1, 0]);
  });
});
