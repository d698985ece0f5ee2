/**
 * Scores of Gaussian predictive distributions N(μ_i, σ_i²) against actual values: negative
 * log-likelihood, CRPS (closed form), interval width, and 95 % coverage within each third of the
 * predictions (conditional calibration). Browser-safe.
 */
import { intervalCoverage, Z68, Z95 } from './calibration.js';

const SQRT2 = Math.SQRT2;
const SQRT_PI = Math.sqrt(Math.PI);

/** The error function, from Numerical Recipes' Chebyshev fit of erfc (fractional error < 1.2e-7). */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

/** Standard normal density and distribution function. */
export const normalPdf = (z: number) => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
export const normalCdf = (z: number) => 0.5 * (1 + erf(z / SQRT2));

/** Mean Gaussian negative log-likelihood of `actual` under N(predicted_i, sigma_i²). */
export function gaussianNll(
  actual: readonly number[],
  predicted: readonly number[],
  sigma: readonly number[],
): number {
  let sum = 0;
  actual.forEach((a, i) => {
    const s = sigma[i]!;
    const z = (a - predicted[i]!) / s;
    sum += 0.5 * z * z + Math.log(s) + 0.5 * Math.log(2 * Math.PI);
  });
  return sum / actual.length;
}

/**
 * Mean continuous ranked probability score of N(μ, σ²) at y (Gneiting & Raftery 2007):
 * σ·[z(2Φ(z) − 1) + 2φ(z) − 1/√π], z = (y − μ)/σ. In the target's units; lower is better.
 */
export function gaussianCrps(
  actual: readonly number[],
  predicted: readonly number[],
  sigma: readonly number[],
): number {
  let sum = 0;
  actual.forEach((a, i) => {
    const s = sigma[i]!;
    const z = (a - predicted[i]!) / s;
    sum += s * (z * (2 * normalCdf(z) - 1) + 2 * normalPdf(z) - 1 / SQRT_PI);
  });
  return sum / actual.length;
}

/** Mean width of the central 95 % intervals, 2·1.96·σ_i. */
export function meanWidth95(sigma: readonly number[]): number {
  return sigma.reduce((acc, s) => acc + 2 * Z95 * s, 0) / sigma.length;
}

/**
 * 95 % coverage within each third of the rows ordered by predicted value (ties by position): a model
 * whose intervals are right on average can still be wrong where the values are low or high.
 */
export function coverage95ByThird(
  actual: readonly number[],
  predicted: readonly number[],
  sigma: readonly number[],
): [number, number, number] {
  const order = predicted.map((_, i) => i).sort((a, b) => predicted[a]! - predicted[b]! || a - b);
  const n = order.length;
  const third = (k: number) =>
    intervalCoverage(
      actual,
      predicted,
      sigma,
      Z95,
      order.slice(Math.round((k * n) / 3), Math.round(((k + 1) * n) / 3)),
    );
  return [third(0), third(1), third(2)];
}

/**
 * Every interval score of a regression's predictions: coverage of the 68 % and 95 % intervals, 95 %
 * coverage per third of the predictions, mean 95 % width, NLL and CRPS.
 */
export function predictiveScores(
  actual: readonly number[],
  predicted: readonly number[],
  sigma: readonly number[],
): Record<string, number> {
  const [low, mid, high] = coverage95ByThird(actual, predicted, sigma);
  return {
    coverage68: intervalCoverage(actual, predicted, sigma, Z68),
    coverage95: intervalCoverage(actual, predicted, sigma, Z95),
    coverage95Low: low,
    coverage95Mid: mid,
    coverage95High: high,
    width95: meanWidth95(sigma),
    nll: gaussianNll(actual, predicted, sigma),
    crps: gaussianCrps(actual, predicted, sigma),
  };
}
