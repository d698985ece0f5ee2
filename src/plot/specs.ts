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

export type MetricSplit = 'train' | 'validation';

export interface MetricSeries {
  /** The metric or task the values belong to, e.g. 'accuracy'. */
  name: string;
  split: MetricSplit;
  /** One value per epoch; non-finite values (epochs without metrics) are left out. */
  values: ArrayLike<number>;
}

export interface MetricCurveSpecOptions {
  title?: string;
  epochs: ArrayLike<number>;
  series: MetricSeries[];
  yTitle: string;
}

export interface PredictedVsActualSpecOptions {
  title?: string;
  actual: ArrayLike<number>;
  predicted: ArrayLike<number>;
  /** Lower and upper end of each prediction's interval; drawn as a vertical bar where both are finite. */
  lower?: ArrayLike<number>;
  upper?: ArrayLike<number>;
  /** Appended to the axis titles, e.g. 'g' → 'actual (g)'. */
  unit?: string;
}

export interface ConfusionMatrixSpecOptions {
  title?: string;
  classes: string[];
  /** `counts[actual][predicted]`, square in the number of classes. */
  counts: number[][];
}

/** Side of the square predicted-vs-actual plot, so equal domains also look equal. */
export const SQUARE_PLOT_SIZE = 360;
/** Stroke dash per split: training solid, validation dashed. */
const SPLIT_DASH: Record<MetricSplit, number[]> = { train: [1, 0], validation: [6, 4] };
/** Epoch curves with at most this many points per series get point markers as well. */
const MAX_MARKED_POINTS = 60;

/**
 * One line per (metric, split) series against epoch, e.g. training and validation accuracy. The series
 * are labelled by split alone when they all share one name; validation is drawn dashed.
 */
export function metricCurveSpec(opts: MetricCurveSpecOptions): TopLevelSpec {
  const distinctNames = new Set(opts.series.map((s) => s.name)).size;
  const labels = opts.series.map((s) => (distinctNames > 1 ? `${s.name} (${s.split})` : s.split));
  checkUniqueNames('metricCurveSpec', labels);
  let longest = 0;
  const values = opts.series.flatMap((s, k) => {
    checkLengths(`metricCurveSpec series '${labels[k]!}' vs epochs`, s.values, opts.epochs);
    const rows = Array.from({ length: s.values.length }, (_, i) => ({
      series: labels[k]!,
      epoch: opts.epochs[i]!,
      value: s.values[i]!,
    }));
    const kept = finitePoints(rows, ['epoch', 'value'], MAX_POINTS_PER_SERIES);
    longest = Math.max(longest, kept.length);
    return kept;
  });
  // each metric name keeps one colour across its splits; the split shows in the dash
  const nameOrder = [...new Set(opts.series.map((s) => s.name))];
  const colorOf = (s: MetricSeries): string =>
    distinctNames > 1
      ? CATEGORY_COLORS[nameOrder.indexOf(s.name) % CATEGORY_COLORS.length]!
      : CATEGORY_COLORS[s.split === 'train' ? 0 : 1];
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: opts.title ?? opts.yTitle,
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.75, clip: true, point: longest <= MAX_MARKED_POINTS },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      y: { field: 'value', type: 'quantitative', title: opts.yTitle, scale: { zero: false } },
      // colour and dash share the field and the domain, so vega-lite draws a single legend
      color: {
        field: 'series',
        type: 'nominal',
        title: 'series',
        scale: { domain: labels, range: opts.series.map(colorOf) },
      },
      strokeDash: {
        field: 'series',
        type: 'nominal',
        title: 'series',
        scale: { domain: labels, range: opts.series.map((s) => SPLIT_DASH[s.split]) },
      },
      tooltip: [
        { field: 'series', type: 'nominal' },
        { field: 'epoch', type: 'quantitative' },
        { field: 'value', type: 'quantitative', format: '.4g', title: opts.yTitle },
      ],
    },
  };
}

/**
 * Predicted against actual values on equal axes, with the y = x diagonal and, where given, a vertical
 * bar per point from `lower` to `upper`. Square, so distances from the diagonal read the same both ways.
 */
export function predictedVsActualSpec(opts: PredictedVsActualSpecOptions): TopLevelSpec {
  const { actual, predicted, lower, upper } = opts;
  checkLengths('predictedVsActualSpec actual vs predicted', actual, predicted);
  if ((lower === undefined) !== (upper === undefined)) {
    throw new Error('predictedVsActualSpec: give both lower and upper, or neither');
  }
  if (lower !== undefined) checkLengths('predictedVsActualSpec lower vs actual', lower, actual);
  if (upper !== undefined) checkLengths('predictedVsActualSpec upper vs actual', upper, actual);
  const all = Array.from({ length: actual.length }, (_, i) => ({
    actual: actual[i]!,
    predicted: predicted[i]!,
  }));
  const idx = all.flatMap((r, i) => (Number.isFinite(r.actual) && Number.isFinite(r.predicted) ? [i] : []));
  const kept = downsampleIndices(idx.length).map((j) => idx[j]!);
  const points = kept.map((i) => all[i]!);
  const intervals =
    lower !== undefined && upper !== undefined
      ? kept.flatMap((i) => {
          const lo = lower[i]!;
          const hi = upper[i]!;
          return Number.isFinite(lo) && Number.isFinite(hi)
            ? [{ actual: actual[i]!, lower: lo, upper: hi }]
            : [];
        })
      : [];
  // one domain for both axes, over everything drawn, padded so no point sits on the frame
  let min = Infinity;
  let max = -Infinity;
  for (const v of [
    ...points.flatMap((p) => [p.actual, p.predicted]),
    ...intervals.flatMap((r) => [r.lower, r.upper]),
  ]) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(min <= max)) [min, max] = [0, 1];
  const pad = max > min ? 0.04 * (max - min) : Math.max(Math.abs(min) * 0.05, 1);
  const domain = [min - pad, max + pad];
  const axisScale = { domain, nice: false, zero: false };
  const suffix = opts.unit ? ` (${opts.unit})` : '';
  const x = { field: 'actual', type: 'quantitative', title: `actual${suffix}`, scale: axisScale } as const;
  const yTitle = `predicted${suffix}`;
  const diagonal: LayerChild = {
    data: {
      values: [
        { actual: domain[0]!, predicted: domain[0]! },
        { actual: domain[1]!, predicted: domain[1]! },
      ],
    },
    mark: { type: 'line', color: '#888888', strokeDash: [5, 4], strokeWidth: 1 },
    encoding: { x, y: { field: 'predicted', type: 'quantitative', title: yTitle, scale: axisScale } },
  };
  const bars: LayerChild = {
    data: { values: intervals },
    mark: { type: 'rule', color: CATEGORY_COLORS[0], opacity: 0.35, strokeWidth: 1, clip: true },
    encoding: {
      x,
      y: { field: 'lower', type: 'quantitative', title: yTitle, scale: axisScale },
      y2: { field: 'upper' },
      tooltip: [
        { field: 'actual', type: 'quantitative', format: '.4g' },
        { field: 'lower', type: 'quantitative', format: '.4g' },
        { field: 'upper', type: 'quantitative', format: '.4g' },
      ],
    },
  };
  const dots: LayerChild = {
    data: { values: points },
    mark: { type: 'point', filled: true, size: 30, opacity: 0.7, color: CATEGORY_COLORS[0], clip: true },
    encoding: {
      x,
      y: { field: 'predicted', type: 'quantitative', title: yTitle, scale: axisScale },
      tooltip: [
        { field: 'actual', type: 'quantitative', format: '.4g' },
        { field: 'predicted', type: 'quantitative', format: '.4g' },
      ],
    },
  };
  const title = opts.title ?? 'Predicted vs actual';
  const subtitle = intervals.length > 0 ? 'dashed: y = x; bars: prediction interval' : 'dashed: y = x';
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: title, subtitle },
    width: SQUARE_PLOT_SIZE,
    height: SQUARE_PLOT_SIZE,
    layer: intervals.length > 0 ? [diagonal, bars, dots] : [diagonal, dots],
  };
}

/**
 * Heatmap of a confusion matrix, actual classes as rows and predicted as columns, each cell showing its
 * count. The colour is the cell's share of its row (the recall of the row's class on the diagonal), so
 * rare classes are as readable as common ones.
 */
export function confusionMatrixSpec(opts: ConfusionMatrixSpecOptions): TopLevelSpec {
  const { classes, counts } = opts;
  checkUniqueNames('confusionMatrixSpec classes', classes);
  const k = classes.length;
  if (counts.length !== k || counts.some((row) => row.length !== k)) {
    throw new RangeError(`confusionMatrixSpec: counts must be ${k}×${k} for ${k} classes`);
  }
  if (counts.some((row) => row.some((c) => !(Number.isFinite(c) && c >= 0)))) {
    throw new RangeError('confusionMatrixSpec: counts must be finite and non-negative');
  }
  const values = counts.flatMap((row, a) => {
    const total = row.reduce((s, c) => s + c, 0);
    return row.map((count, p) => ({
      actual: classes[a]!,
      predicted: classes[p]!,
      count,
      share: total > 0 ? count / total : 0,
    }));
  });
  const cell = Math.max(28, Math.min(90, Math.floor(420 / Math.max(k, 1))));
  // rotate the column labels only when one would not fit its cell (about 6 px per character at 10 px)
  const longLabels = classes.some((c) => c.length * 6 > cell - 6);
  const axis = { field: 'actual', type: 'nominal', sort: classes, title: 'actual' } as const;
  const x = {
    field: 'predicted',
    type: 'nominal',
    sort: classes,
    title: 'predicted',
    axis: { labelAngle: longLabels ? -40 : 0, labelLimit: 140 },
  } as const;
  const y = { ...axis, axis: { labelLimit: 140 } };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: opts.title ?? 'Confusion matrix', subtitle: 'colour: share of the actual class' },
    width: cell * k,
    height: cell * k,
    data: { values },
    encoding: { x, y },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          color: {
            field: 'share',
            type: 'quantitative',
            title: 'row share',
            // from near-white, so empty cells read as empty (the 'blues' scheme starts at a mid tint)
            scale: { domain: [0, 1], range: ['#f7fbff', '#08519c'] },
            legend: { format: '.0%' },
          },
          tooltip: [
            { field: 'actual', type: 'nominal' },
            { field: 'predicted', type: 'nominal' },
            { field: 'count', type: 'quantitative' },
            { field: 'share', type: 'quantitative', format: '.1%', title: 'row share' },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: cell >= 40 ? 12 : 10 },
        encoding: {
          text: { field: 'count', type: 'quantitative', format: ',d' },
          color: { condition: { test: 'datum.share > 0.65', value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}

export interface ErrorBarSpecOptions {
  title: string;
  /** One bar per row: its mean, with a ±std error bar. */
  rows: { label: string; mean: number; std: number }[];
  yTitle: string;
}

/**
 * A point per row with a ±1 std error bar, in the given order (e.g. a metric per weighting strategy over
 * seeds). Points, not bars: bars must start at zero, which hides differences of a few per cent.
 */
export function errorBarSpec(opts: ErrorBarSpecOptions): TopLevelSpec {
  const values = opts.rows
    .filter((r) => Number.isFinite(r.mean))
    .map((r) => ({ label: r.label, mean: r.mean, lo: r.mean - (r.std || 0), hi: r.mean + (r.std || 0) }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: opts.title },
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    data: { values },
    encoding: { x: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelAngle: -30 } } },
    layer: [
      {
        mark: { type: 'point', filled: true, size: 90, color: CATEGORY_COLORS[0] },
        encoding: { y: { field: 'mean', type: 'quantitative', title: opts.yTitle, scale: { zero: false } } },
      },
      {
        mark: { type: 'rule', color: 'black', strokeWidth: 1.5 },
        encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
      },
    ],
  };
}
