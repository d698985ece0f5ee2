/** Two-sided standard-normal quantiles of the intervals we report. */
export const Z68 = 0.994457883209753; // Φ⁻¹(0.84)
export const Z95 = 1.959963984540054; // Φ⁻¹(0.975)

/**
 * Fraction of `actual` inside prediction ± z·σ — one σ for every row, or each row's own; over `rows`
 * (indices) when given, else over all.
 */
export function intervalCoverage(
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
  sigma: number | ArrayLike<number>,
  z: number,
  rows?: readonly number[],
): number {
  const n = rows ? rows.length : actual.length;
  if (n === 0) return NaN;
  let inside = 0;
  for (let k = 0; k < n; k++) {
    const i = rows ? rows[k]! : k;
    const s = typeof sigma === 'number' ? sigma : sigma[i]!;
    if (Math.abs(actual[i]! - predicted[i]!) <= z * s) inside++;
  }
  return inside / n;
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

/** The range `fitTemperature` searches: T within [0.05, 20]. */
export const TEMPERATURE_BOUNDS = [0.05, 20] as const;

/** The temperature that `fitTemperature` found and the mean negative log-likelihood there and at T = 1. */
export interface TemperatureFit {
  temperature: number;
  /** Mean NLL of the labels under the fitted temperature. */
  nll: number;
  /** Mean NLL at T = 1 (the plain logits), for comparison. */
  nllAtOne: number;
}

/**
 * Temperature scaling (Guo et al. 2017): the one T > 0 that minimises the mean negative log-likelihood of
 * `labels` under softmax(logits/T) — or, with `likelihood: 'bernoulli'`, under sigmoid(logit/T) of each
 * row's single logit (label 0 or 1). The NLL is convex in β = 1/T (its second derivative is the mean
 * variance of the logits under the tempered softmax), so the minimum over β ∈ [1/max, 1/min] is the root
 * of the derivative, found by Newton steps kept inside a shrinking sign bracket (bisection when a step
 * would leave it); when the derivative has one sign over the whole range, T is the bound it points to.
 * Deterministic; no tensors, so it runs anywhere.
 */
export function fitTemperature(
  logits: readonly ArrayLike<number>[],
  labels: ArrayLike<number>,
  options: { likelihood?: 'softmax' | 'bernoulli'; bounds?: readonly [number, number] } = {},
): TemperatureFit {
  const [tMin, tMax] = options.bounds ?? TEMPERATURE_BOUNDS;
  if (!(tMin > 0 && tMax > tMin && Number.isFinite(tMax)))
    throw new Error(`fitTemperature: bounds must satisfy 0 < min < max < ∞, got [${tMin}, ${tMax}]`);
  const n = logits.length;
  if (n === 0) throw new Error('fitTemperature: no rows to fit on');
  if (labels.length !== n) throw new Error(`fitTemperature: ${n} rows of logits but ${labels.length} labels`);
  // a Bernoulli logit z is the two-class softmax of [0, z]
  const rows =
    options.likelihood === 'bernoulli' ? logits.map((r) => [0, r[0]!]) : logits.map((r) => Array.from(r));
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= rows[i]!.length)
      throw new Error(`fitTemperature: row ${i}'s label ${y} is not a class index`);
    if (!rows[i]!.every(Number.isFinite)) throw new Error(`fitTemperature: row ${i} has a non-finite logit`);
  }
  // mean NLL at scale β, and its first and second derivatives in β
  const at = (beta: number) => {
    let f = 0;
    let d1 = 0;
    let d2 = 0;
    for (let i = 0; i < n; i++) {
      const z = rows[i]!;
      let max = -Infinity;
      for (const v of z) max = Math.max(max, beta * v);
      let sum = 0;
      let mean = 0;
      let square = 0;
      for (const v of z) {
        const e = Math.exp(beta * v - max);
        sum += e;
        mean += e * v;
        square += e * v * v;
      }
      mean /= sum;
      square /= sum;
      const zy = z[labels[i]!]!;
      f += max + Math.log(sum) - beta * zy;
      d1 += mean - zy;
      d2 += Math.max(0, square - mean * mean);
    }
    return { f: f / n, d1: d1 / n, d2: d2 / n };
  };
  let lo = 1 / tMax;
  let hi = 1 / tMin;
  const done = (beta: number): TemperatureFit => ({
    temperature: 1 / beta,
    nll: at(beta).f,
    nllAtOne: at(1).f,
  });
  if (at(lo).d1 >= 0) return done(lo);
  if (at(hi).d1 <= 0) return done(hi);
  // d1(lo) < 0 < d1(hi): the minimum is inside
  let beta = Math.min(hi, Math.max(lo, 1));
  for (let iter = 0; iter < 200; iter++) {
    const { d1, d2 } = at(beta);
    if (d1 === 0) break;
    if (d1 < 0) lo = beta;
    else hi = beta;
    const newton = d2 > 0 ? beta - d1 / d2 : NaN;
    const next = newton > lo && newton < hi ? newton : (lo + hi) / 2;
    if (Math.abs(next - beta) <= 1e-12 * beta || hi - lo <= 1e-12 * hi) {
      beta = next;
      break;
    }
    beta = next;
  }
  return done(beta);
}
