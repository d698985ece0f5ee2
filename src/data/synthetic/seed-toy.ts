import { NumpyRandomState } from '../../random/numpy-random-state.js';

/** The seed document's toy problem: y1 = 2x + 8 + 10ε, y2 = 3x + 3 + ε, x ~ N(0, 1). */
export interface SeedToyData {
  readonly x: Float64Array;
  /** One target array per task: [y1, y2]. */
  readonly y: readonly [Float64Array, Float64Array];
  /** The noise standard deviations the data were generated with. */
  readonly trueSigma: readonly [number, number];
}

export interface SeedToyOptions {
  /** Number of samples (the seed's N = 100). */
  n?: number;
  /** `np.random.seed(seed)` before drawing (the seed uses 0). */
  seed?: number;
}

export const SEED_TOY_TRUE_SIGMA = [10, 1] as const;

/**
 * `gen_data(N)` of the seed document after `np.random.seed(seed)`, value for value: X = randn(N),
 * then the Y1 noise, then the Y2 noise, each with numpy's operation order.
 */
export function generateSeedToyData(options: SeedToyOptions = {}): SeedToyData {
  const n = options.n ?? 100;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  const rs = new NumpyRandomState(options.seed ?? 0);
  const x = rs.randn(n);
  const e1 = rs.randn(n);
  const e2 = rs.randn(n);
  const y1 = new Float64Array(n);
  const y2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y1[i] = x[i]! * 2 + 8 + SEED_TOY_TRUE_SIGMA[0] * e1[i]!;
    y2[i] = x[i]! * 3 + 3 + SEED_TOY_TRUE_SIGMA[1] * e2[i]!;
  }
  return { x, y: [y1, y2], trueSigma: SEED_TOY_TRUE_SIGMA };
}
