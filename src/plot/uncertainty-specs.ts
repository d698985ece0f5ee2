/**
 * Plots of how honest a regression's intervals are: a reliability diagram (observed coverage of the
 * central p-intervals against p) and the error against the predicted σ. Browser-safe vega-lite specs.
 */
import type { TopLevelSpec } from 'vega-lite';
import { intervalCoverage } from '../tabular/calibration.js';
import { normalCdf } from '../tabular/intervals.js';
import { CATEGORY_COLORS, PLOT_HEIGHT, PLOT_WIDTH, VEGA_LITE_SCHEMA } from './specs.js';

/** Nominal levels of the reliability diagram. */
export const RELIABILITY_LEVELS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];

/** z with Φ(z) = q, by bisection on Φ (as exact as Φ: ≈ 1e-7). */
export function normalQuantile(q: number): number {
  let lo = -10;
  let hi = 10;
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Observed fraction of `actual` inside each level's central Gaussian interval predicted ± z·σ. */
export function observedCoverage(
  actual: readonly number[],
  predicted: readonly number[],
  sigma: readonly number[],
  levels: readonly number[] = RELIABILITY_LEVELS,
): number[] {
  return levels.map((p) => intervalCoverage(actual, predicted, sigma, normalQuantile((1 + p) / 2)));
}

export interface ReliabilitySpecOptions {
  title: string;
  levels: readonly number[];
  observed: readonly number[];
}

/** Observed coverage against the nominal level, with the diagonal of perfect calibration. */
export function reliabilitySpec(opts: ReliabilitySpecOptions): TopLevelSpec {
  const values = opts.levels.map((p, i) => ({ nominal: p, observed: opts.observed[i]! }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: opts.title,
    width: PLOT_HEIGHT,
    height: PLOT_HEIGHT,
    layer: [
      {
        data: { values: [{ p: 0 }, { p: 1 }] },
        mark: { type: 'line', color: '#999999', strokeDash: [4, 4] },
        encoding: {
          x: { field: 'p', type: 'quantitative', scale: { domain: [0, 1] }, title: 'nominal coverage' },
          y: { field: 'p', type: 'quantitative', scale: { domain: [0, 1] }, title: 'observed coverage' },
        },
      },
      {
        data: { values },
        mark: { type: 'line', point: true, color: CATEGORY_COLORS[0] },
        encoding: {
          x: { field: 'nominal', type: 'quantitative' },
          y: { field: 'observed', type: 'quantitative' },
          tooltip: [
            { field: 'nominal', type: 'quantitative', format: '.2f' },
            { field: 'observed', type: 'quantitative', format: '.3f' },
          ],
        },
      },
    ],
  };
}

export interface WidthVsErrorSpecOptions {
  title: string;
  sigma: readonly number[];
  absError: readonly number[];
  unit?: string;
  /** Bins of rows by predicted σ (equal counts); default 10. */
  bins?: number;
}

/**
 * Mean |error| per bin of rows ordered by predicted σ, against the bin's mean σ; the line is what a
 * Gaussian with that σ gives, E|e| = σ·√(2/π). Honest per-row σ puts the points on the line; one σ for
 * every row puts them in one column.
 */
export function widthVsErrorSpec(opts: WidthVsErrorSpecOptions): TopLevelSpec {
  const n = opts.sigma.length;
  const order = opts.sigma.map((_, i) => i).sort((a, b) => opts.sigma[a]! - opts.sigma[b]!);
  const bins = Math.max(1, Math.min(opts.bins ?? 10, n));
  const points = Array.from({ length: bins }, (_, b) => {
    const rows = order.slice(Math.round((b * n) / bins), Math.round(((b + 1) * n) / bins));
    const mean = (f: (i: number) => number) => rows.reduce((acc, i) => acc + f(i), 0) / rows.length;
    return { sigma: mean((i) => opts.sigma[i]!), error: mean((i) => opts.absError[i]!), rows: rows.length };
  }).filter((p) => p.rows > 0);
  const top = Math.max(...points.map((p) => Math.max(p.sigma, p.error / Math.sqrt(2 / Math.PI))), 1e-12);
  const unit = opts.unit ? ` (${opts.unit})` : '';
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: opts.title,
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    layer: [
      {
        data: { values: [0, top].map((s) => ({ sigma: s, error: s * Math.sqrt(2 / Math.PI) })) },
        mark: { type: 'line', color: '#999999', strokeDash: [4, 4] },
        encoding: {
          x: { field: 'sigma', type: 'quantitative', title: `predicted σ${unit}` },
          y: { field: 'error', type: 'quantitative', title: `mean |error|${unit}` },
        },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 70, color: CATEGORY_COLORS[1] },
        encoding: {
          x: { field: 'sigma', type: 'quantitative' },
          y: { field: 'error', type: 'quantitative' },
          tooltip: [
            { field: 'sigma', type: 'quantitative', format: '.4g' },
            { field: 'error', type: 'quantitative', format: '.4g' },
            { field: 'rows', type: 'quantitative' },
          ],
        },
      },
    ],
  };
}
