/** Two-sided standard-normal quantiles of the intervals we report. */
export const Z68 = 0.994457883209753; // Φ⁻¹(0.84)
export const Z95 = 1.959963984540054; // Φ⁻¹(0.975)

/** Fraction of `actual` inside prediction ± z·σ. */
export function intervalCoverage(
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
  sigma: number,
  z: number,
): number {
  if (actual.length === 0) return NaN;
  let inside = 0;
  for (let i = 0; i < actual.length; i++) {
    if (Math.abs(actual[i]! - predicted[i]!) <= z * sigma) inside++;
  }
  return inside / actual.length;
}

/**
 * Expected calibration error of top-label confidences: bin predictions by confidence (equal-width bins),
 * ECE = Σ_b (n_b / n)·|accuracy_b − confidence_b|.
 */
export function expectedCalibrationError(
  probabilities: readonly ArrayLike<number>[],
  labels: ArrayLike<number>,
  bins = 10,
): number {
  const n = probabilities.length;
  if (n === 0) return NaN;
  const count = new Float64Array(bins);
  const correct = new Float64Array(bins);
  const confidence = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const p = probabilities[i]!;
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
    const conf = p[best]!;
    const b = Math.min(bins - 1, Math.floor(conf * bins));
    count[b]!++;
    confidence[b]! += conf;
    if (best === labels[i]) correct[b]!++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    if (count[b]! > 0) ece += Math.abs(correct[b]! - confidence[b]!) / n;
  }
  return ece;
}

/** softmax(logits / T) of one row. */
export function softmaxRow(logits: ArrayLike<number>, temperature = 1): number[] {
  let max = -Infinity;
  for (let k = 0; k < logits.length; k++) max = Math.max(max, logits[k]! / temperature);
  const e = Array.from(logits, (v) => Math.exp(v / temperature - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** [P(class 0), P(class 1)] from one Bernoulli logit at temperature T. */
export function sigmoidPair(logit: number, temperature = 1): number[] {
  const p1 = 1 / (1 + Math.exp(-logit / temperature));
  return [1 - p1, p1];
}
