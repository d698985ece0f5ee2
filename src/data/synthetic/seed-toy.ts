import { NumpyRandomState } from '../../random/numpy-random-state.js';

/** The seed document's toy problem: y1 = 2x + 8 + 10ε, y2 = 3x + 3 + ε, x ~ N(0, 1). */
export interface SeedToyData {
  readonly x: Float64Array;
  /** One target array per task: [y1, y2]. */
  readonly y: readonly [Float64Array, Float64Array];
  /**
   * The noise standard deviations the data were generated with; with `noise: 'growing'`, σ₀ — the
   * noise at x is σ₀ · `seedToyNoiseFactor('growing', x, min x, max x)`.
   */
  readonly trueSigma: readonly [number, number];
}

/**
 * The shape of the noise over x: 'constant' (the seed's, σ everywhere) or 'growing' (σ(x) = σ₀ ·
 * (0.2 + 1.6 · (x − x_min) / (x_max − x_min)) over the sample's range: 0.2σ₀ at its smallest x, σ₀ in
 * the middle, 1.8σ₀ at its largest).
 */
export type SeedToyNoise = 'constant' | 'growing';

export interface SeedToyOptions {
  /** Number of samples (the seed's N = 100). */
  n?: number;
  /** `np.random.seed(seed)` before drawing (the seed uses 0). */
  seed?: number;
  /** Noise standard deviations [σ1, σ2] (σ₀ for 'growing' noise); default the seed's [10, 1]. */
  sigma?: readonly [number, number];
  /** Default 'constant' (the seed's). */
  noise?: SeedToyNoise;
}

export const SEED_TOY_TRUE_SIGMA = [10, 1] as const;

/**
 * The factor multiplying σ₀ at `x` for a noise shape, over the sample's x range [lo, hi]: 1 for
 * 'constant'; 0.2 + 1.6 · (x − lo) / (hi − lo) for 'growing' (1 when hi = lo). Not clipped, so a point
 * beyond the range gets the straight line's value (never below 0).
 */
export function seedToyNoiseFactor(noise: SeedToyNoise, x: number, lo: number, hi: number): number {
  if (noise === 'constant') return 1;
  if (noise !== 'growing')
    throw new RangeError(`noise must be 'constant' or 'growing', got '${String(noise)}'`);
  if (!(hi > lo)) return 1;
  return Math.max(0, 0.2 + (1.6 * (x - lo)) / (hi - lo));
}

/**
 * `gen_data(N)` of the seed document after `np.random.seed(seed)`, value for value: X = randn(N),
 * then the Y1 noise, then the Y2 noise, each with numpy's operation order. Options change the noise
 * levels and shape; the defaults are the seed's.
 */
export function generateSeedToyData(options: SeedToyOptions = {}): SeedToyData {
  const n = options.n ?? 100;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  const sigma = options.sigma ?? SEED_TOY_TRUE_SIGMA;
  if (sigma.length !== 2 || !sigma.every((s) => Number.isFinite(s) && s >= 0))
    throw new RangeError(`sigma must be two finite numbers ≥ 0, got [${sigma.join(', ')}]`);
  const noise = options.noise ?? 'constant';
  const rs = new NumpyRandomState(options.seed ?? 0);
  const x = rs.randn(n);
  const e1 = rs.randn(n);
  const e2 = rs.randn(n);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const y1 = new Float64Array(n);
  const y2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const f = seedToyNoiseFactor(noise, x[i]!, lo, hi);
    // f = 1 for constant noise: the products are the seed's, bit for bit
    y1[i] = x[i]! * 2 + 8 + sigma[0] * f * e1[i]!;
    y2[i] = x[i]! * 3 + 3 + sigma[1] * f * e2[i]!;
  }
  return { x, y: [y1, y2], trueSigma: [sigma[0], sigma[1]] };
}
