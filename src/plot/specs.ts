/**
 * Vega-Lite spec builders for the training plots. Pure and browser-safe: no Node APIs and no vega
 * runtime, so a web UI can hand these specs to vega-embed while the CLI renders them with
 * `src/node/render.ts`.
 */
import type { TopLevelSpec } from 'vega-lite';

/** One layer of a layered spec; vega-lite's package exports don't expose the type by name. */
type LayerChild = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];

export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
export const PLOT_WIDTH = 560;
export const PLOT_HEIGHT = 300;
/** Per-series point cap: a 2000-epoch history would otherwise bloat the inline data and the SVG. */
export const MAX_POINTS_PER_SERIES = 1000;
/** Vega's default `tableau10` category scheme, spelled out so colours can be assigned per series. */
export const CATEGORY_COLORS = [
  '#4c78a8',
  '#f58518',
  '#e45756',
  '#72b7b2',
  '#54a24b',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
  '#9d755d',
  '#bab0ac',
] as const;
export const TOTAL_LOSS_COLOR = '#555555';

export interface ScatterSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

export interface ScatterSpecOptions {
  title: string;
  series: ScatterSeries[];
  xTitle?: string;
  yTitle?: string;
}

export interface LossSeries {
  name: string;
  values: ArrayLike<number>;
}

export interface LossCurveSpecOptions {
  title?: string;
  epochs: ArrayLike<number>;
  series: LossSeries[];
  yTitle?: string;
  /** Ignored (linear axis) when any plotted value is ≤ 0, as the uncertainty-weighted total can be. */
  logY?: boolean;
  /**
   * The combined-loss series, drawn in neutral grey so the task series take the category colours in
   * the same order as in the σ plot (default 'total'; absent names are fine).
   */
  totalSeries?: string;
}

export interface SigmaTask {
  name: string;
  sigma: ArrayLike<number>;
  /** The noise σ the data were generated with; drawn as a dashed rule in the task's colour. */
  trueSigma?: number;
}

export interface SigmaTrajectorySpecOptions {
  title?: string;
  epochs: ArrayLike<number>;
  tasks: SigmaTask[];
  logY?: boolean;
}

/**
 * At most `max` indices spread evenly over `0..n-1`, always including the first and last. Returns
 * every index when `n <= max`.
 */
export function downsampleIndices(n: number, max: number = MAX_POINTS_PER_SERIES): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(max) || max < 2) throw new RangeError(`max must be an integer >= 2, got ${max}`);
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const step = (n - 1) / (max - 1);
  // step > 1 here, so rounding never maps two i to the same index
  return Array.from({ length: max }, (_, i) => Math.round(i * step));
}

/** Keeps rows whose values are all finite, then thins them evenly to `max`. */
function finitePoints<T extends Record<string, number | string>>(
  rows: T[],
  numericKeys: (keyof T)[],
  max: number,
): T[] {
  const finite = rows.filter((r) => numericKeys.every((k) => Number.isFinite(r[k])));
  return downsampleIndices(finite.length, max).map((i) => finite[i]!);
}

function checkLengths(label: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) {
    throw new RangeError(`${label}: length mismatch (${a.length} vs ${b.length})`);
  }
}

function checkUniqueNames(label: string, names: string[]): void {
  if (new Set(names).size !== names.length) {
    throw new Error(`${label}: series names must be unique, got ${JSON.stringify(names)}`);
  }
}

/** A log axis cannot show values ≤ 0 (vega would silently drop them), so it needs all-positive data. */
export function canUseLogScale(values: Iterable<number>): boolean {
  for (const v of values) if (!(v > 0)) return false;
  return true;
}

/** Scatter of several (x, y) series, coloured and shaped by series name. */
export function scatterSpec(opts: ScatterSpecOptions): TopLevelSpec {
  const names = opts.series.map((s) => s.name);
  checkUniqueNames('scatterSpec', names);
  const values = opts.series.flatMap((s) => {
    checkLengths(`scatterSpec series '${s.name}'`, s.x, s.y);
    const rows = Array.from({ length: s.x.length }, (_, i) => ({ series: s.name, x: s.x[i]!, y: s.y[i]! }));
    return finitePoints(rows, ['x', 'y'], MAX_POINTS_PER_SERIES);
  });
  // explicit domain keeps the legend in the caller's order instead of sorted
  const seriesScale = { domain: names };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: opts.title,
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    data: { values },
    mark: { type: 'point', filled: true, size: 40, opacity: 0.75 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: opts.xTitle ?? 'x', scale: { zero: false } },
      y: { field: 'y', type: 'quantitative', title: opts.yTitle ?? 'y', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: 'series', scale: seriesScale },
      shape: { field: 'series', type: 'nominal', title: 'series', scale: seriesScale },
      tooltip: [
        { field: 'series', type: 'nominal' },
        { field: 'x', type: 'quantitative', format: '.4g' },
        { field: 'y', type: 'quantitative', format: '.4g' },
      ],
    },
  };
}

/** One line per loss series (e.g. 'total', 'y1', 'y2') against epoch. */
export function lossCurveSpec(opts: LossCurveSpecOptions): TopLevelSpec {
  const names = opts.series.map((s) => s.name);
  checkUniqueNames('lossCurveSpec', names);
  const values = opts.series.flatMap((s) => {
    checkLengths(`lossCurveSpec series '${s.name}' vs epochs`, s.values, opts.epochs);
    const rows = Array.from({ length: s.values.length }, (_, i) => ({
      series: s.name,
      epoch: opts.epochs[i]!,
      value: s.values[i]!,
    }));
    return finitePoints(rows, ['epoch', 'value'], MAX_POINTS_PER_SERIES);
  });
  const logY = opts.logY === true && values.length > 0 && canUseLogScale(values.map((r) => r.value));
  const yTitle = opts.yTitle ?? 'loss';
  const totalName = opts.totalSeries ?? 'total';
  let next = 0;
  const range = names.map((n) =>
    n === totalName ? TOTAL_LOSS_COLOR : CATEGORY_COLORS[next++ % CATEGORY_COLORS.length]!,
  );
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: opts.title ?? 'Training loss',
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5, clip: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      y: {
        field: 'value',
        type: 'quantitative',
        title: logY ? `${yTitle} (log scale)` : yTitle,
        scale: logY ? { type: 'log' } : { zero: false },
      },
      color: { field: 'series', type: 'nominal', title: 'series', scale: { domain: names, range } },
      tooltip: [
        { field: 'series', type: 'nominal' },
        { field: 'epoch', type: 'quantitative' },
        { field: 'value', type: 'quantitative', format: '.4g' },
      ],
    },
  };
}

/** Learned σ per task against epoch, with a dashed rule at each task's true σ when known. */
export function sigmaTrajectorySpec(opts: SigmaTrajectorySpecOptions): TopLevelSpec {
  const names = opts.tasks.map((t) => t.name);
  checkUniqueNames('sigmaTrajectorySpec', names);
  const values = opts.tasks.flatMap((t) => {
    checkLengths(`sigmaTrajectorySpec task '${t.name}' vs epochs`, t.sigma, opts.epochs);
    const rows = Array.from({ length: t.sigma.length }, (_, i) => ({
      task: t.name,
      epoch: opts.epochs[i]!,
      sigma: t.sigma[i]!,
    }));
    return finitePoints(rows, ['epoch', 'sigma'], MAX_POINTS_PER_SERIES);
  });
  const truth = opts.tasks.flatMap((t) =>
    t.trueSigma !== undefined && Number.isFinite(t.trueSigma) ? [{ task: t.name, sigma: t.trueSigma }] : [],
  );
  const plotted = [...values, ...truth].map((r) => r.sigma);
  const logY = opts.logY === true && plotted.length > 0 && canUseLogScale(plotted);
  // the rule layer shares field names with the line layer so both use one y scale and one colour scale
  const color = {
    field: 'task',
    type: 'nominal',
    title: 'task',
    scale: { domain: names },
  } as const;
  const lineLayer: LayerChild = {
    data: { values },
    mark: { type: 'line', strokeWidth: 2, clip: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      y: {
        field: 'sigma',
        type: 'quantitative',
        title: logY ? 'σ (log scale)' : 'σ',
        // padding keeps a true-σ rule at the domain's end off the frame; a nice log domain would then jump a decade
        scale: logY ? { type: 'log', padding: 8, nice: false } : { zero: false, padding: 8 },
      },
      color,
      tooltip: [
        { field: 'task', type: 'nominal' },
        { field: 'epoch', type: 'quantitative' },
        { field: 'sigma', type: 'quantitative', format: '.4g', title: 'σ' },
      ],
    },
  };
  const ruleLayer: LayerChild = {
    data: { values: truth },
    mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5, opacity: 0.9 },
    encoding: {
      y: { field: 'sigma', type: 'quantitative' },
      color,
      tooltip: [
        { field: 'task', type: 'nominal' },
        { field: 'sigma', type: 'quantitative', format: '.4g', title: 'true σ' },
      ],
    },
  };
  const title = opts.title ?? 'Learned task σ';
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: truth.length > 0 ? { text: title, subtitle: 'dashed lines: true σ' } : title,
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    layer: truth.length > 0 ? [lineLayer, ruleLayer] : [lineLayer],
  };
}
