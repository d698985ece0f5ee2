import { describe, expect, it } from 'vitest';
import {
  MAX_POINTS_PER_SERIES,
  PLOT_WIDTH,
  TOTAL_LOSS_COLOR,
  VEGA_LITE_SCHEMA,
  SQUARE_PLOT_SIZE,
  canUseLogScale,
  confusionMatrixSpec,
  downsampleIndices,
  lossCurveSpec,
  metricCurveSpec,
  predictedVsActualSpec,
  scatterSpec,
  sigmaTrajectorySpec,
} from './specs.js';

/** The specs are plain JSON; read them untyped rather than narrowing vega-lite's large unions. */
type Json = Record<string, unknown>;
const asJson = (spec: unknown): Json => JSON.parse(JSON.stringify(spec)) as Json;
const rows = (spec: Json): Json[] => (spec.data as { values: Json[] }).values;
const encoding = (spec: Json): Record<string, Json> => spec.encoding as Record<string, Json>;
const range = (n: number, f: (i: number) => number = (i) => i): number[] =>
  Array.from({ length: n }, (_, i) => f(i));

describe('downsampleIndices', () => {
  it('returns every index when the series is short enough', () => {
    expect(downsampleIndices(0)).toEqual([]);
    expect(downsampleIndices(1)).toEqual([0]);
    expect(downsampleIndices(5, 5)).toEqual([0, 1, 2, 3, 4]);
  });

  it.each([
    [2000, 1000],
    [1001, 1000],
    [12345, 1000],
    [10, 3],
  ])('thins %i points to %i, strictly increasing, keeping first and last', (n, max) => {
    const idx = downsampleIndices(n, max);
    expect(idx).toHaveLength(max);
    expect(idx[0]).toBe(0);
    expect(idx.at(-1)).toBe(n - 1);
    for (let i = 1; i < idx.length; i++) expect(idx[i]!).toBeGreaterThan(idx[i - 1]!);
  });

  it('spreads the kept points evenly', () => {
    const idx = downsampleIndices(2000, 1000);
    const gaps = idx.slice(1).map((v, i) => v - idx[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(3);
  });

  it('rejects nonsense arguments', () => {
    expect(() => downsampleIndices(-1)).toThrow(RangeError);
    expect(() => downsampleIndices(10, 1)).toThrow(RangeError);
    expect(() => downsampleIndices(1.5)).toThrow(RangeError);
  });
});

describe('canUseLogScale', () => {
  it('requires every value to be strictly positive', () => {
    expect(canUseLogScale([1, 2, 1e-9])).toBe(true);
    expect(canUseLogScale([1, 0])).toBe(false);
    expect(canUseLogScale([1, -3])).toBe(false);
    expect(canUseLogScale([NaN])).toBe(false);
  });
});

describe('scatterSpec', () => {
  const x = [-1, 0, 1, 2];
  const spec = asJson(
    scatterSpec({
      title: 'Toy data',
      xTitle: 'x',
      yTitle: 'target',
      series: [
        { name: 'y1', x, y: [6, 8, 10, 12] },
        { name: 'y2', x, y: [0, 3, 6, 9] },
      ],
    }),
  );

  it('is a point chart with inline long-form data coloured by series', () => {
    expect(spec.$schema).toBe(VEGA_LITE_SCHEMA);
    expect(spec.title).toBe('Toy data');
    expect(spec.width).toBe(PLOT_WIDTH);
    expect((spec.mark as Json).type).toBe('point');
    expect(rows(spec)).toHaveLength(8);
    expect(rows(spec)[4]).toEqual({ series: 'y2', x: -1, y: 0 });
    const enc = encoding(spec);
    expect(enc.x).toMatchObject({ field: 'x', type: 'quantitative', title: 'x' });
    expect(enc.y).toMatchObject({ field: 'y', type: 'quantitative', title: 'target' });
    expect(enc.color).toMatchObject({ field: 'series', scale: { domain: ['y1', 'y2'] } });
  });

  it('drops points with a non-finite coordinate', () => {
    const s = asJson(
      scatterSpec({ title: 't', series: [{ name: 'a', x: [0, 1, NaN, 3], y: [0, Infinity, 2, 3] }] }),
    );
    expect(rows(s)).toEqual([
      { series: 'a', x: 0, y: 0 },
      { series: 'a', x: 3, y: 3 },
    ]);
  });

  it('accepts typed arrays and rejects mismatched or duplicate series', () => {
    const s = asJson(scatterSpec({ title: 't', series: [{ name: 'a', x: new Float64Array([1]), y: [2] }] }));
    expect(rows(s)).toEqual([{ series: 'a', x: 1, y: 2 }]);
    expect(() => scatterSpec({ title: 't', series: [{ name: 'a', x: [1, 2], y: [1] }] })).toThrow(/length/);
    expect(() =>
      scatterSpec({
        title: 't',
        series: [
          { name: 'a', x: [1], y: [1] },
          { name: 'a', x: [1], y: [1] },
        ],
      }),
    ).toThrow(/unique/);
  });
});

describe('lossCurveSpec', () => {
  const epochs = range(2000, (i) => i + 1);
  const total = epochs.map((e) => 30 * Math.exp(-e / 200) - 3);
  const y1 = epochs.map((e) => 100 + 100 * Math.exp(-e / 150));

  it('downsamples each series to the cap, keeping its first and last epoch', () => {
    const spec = asJson(
      lossCurveSpec({
        epochs,
        series: [
          { name: 'total', values: total },
          { name: 'y1', values: y1 },
        ],
      }),
    );
    for (const name of ['total', 'y1']) {
      const r = rows(spec).filter((row) => row.series === name);
      expect(r.length).toBeLessThanOrEqual(MAX_POINTS_PER_SERIES);
      expect(r[0]?.epoch).toBe(1);
      expect(r.at(-1)?.epoch).toBe(2000);
      expect(r.at(-1)?.value).toBe(name === 'total' ? total.at(-1) : y1.at(-1));
    }
    expect((spec.mark as Json).type).toBe('line');
    expect(spec.title).toBe('Training loss');
  });

  it('refuses a log axis when a value is ≤ 0 (the uncertainty-weighted total goes negative)', () => {
    const spec = asJson(lossCurveSpec({ epochs, series: [{ name: 'total', values: total }], logY: true }));
    expect(encoding(spec).y!.scale).not.toMatchObject({ type: 'log' });
    const zero = asJson(
      lossCurveSpec({ epochs: [1, 2], series: [{ name: 'a', values: [1, 0] }], logY: true }),
    );
    expect(encoding(zero).y!.scale).not.toMatchObject({ type: 'log' });
  });

  it('uses a log axis when asked and every value is positive', () => {
    const spec = asJson(
      lossCurveSpec({ epochs, series: [{ name: 'y1', values: y1 }], logY: true, yTitle: 'MSE' }),
    );
    expect(encoding(spec).y).toMatchObject({ scale: { type: 'log' }, title: 'MSE (log scale)' });
    const linear = asJson(lossCurveSpec({ epochs, series: [{ name: 'y1', values: y1 }] }));
    expect(encoding(linear).y!.scale).not.toMatchObject({ type: 'log' });
  });

  it('judges log eligibility on the values actually plotted (non-finite ones are dropped)', () => {
    const spec = asJson(
      lossCurveSpec({ epochs: [1, 2, 3], series: [{ name: 'a', values: [2, NaN, 1] }], logY: true }),
    );
    expect(rows(spec).map((r) => r.value)).toEqual([2, 1]);
    expect(encoding(spec).y).toMatchObject({ scale: { type: 'log' } });
  });

  it('draws the total in grey so task colours match the σ plot', () => {
    const spec = asJson(
      lossCurveSpec({
        epochs: [1],
        series: [
          { name: 'total', values: [1] },
          { name: 'y1', values: [1] },
          { name: 'y2', values: [1] },
        ],
      }),
    );
    const scale = encoding(spec).color!.scale as { domain: string[]; range: string[] };
    expect(scale.domain).toEqual(['total', 'y1', 'y2']);
    expect(scale.range[0]).toBe(TOTAL_LOSS_COLOR);
    expect(scale.range.slice(1)).toEqual(['#4c78a8', '#f58518']);
  });

  it('rejects a series whose length differs from the epochs', () => {
    expect(() => lossCurveSpec({ epochs: [1, 2], series: [{ name: 'a', values: [1] }] })).toThrow(/length/);
  });
});

describe('sigmaTrajectorySpec', () => {
  const epochs = range(1500, (i) => i + 1);
  const s1 = epochs.map((e) => 8.6 - 7.6 * Math.exp(-e / 300));
  const s2 = epochs.map((e) => 0.9 + 0.1 * Math.exp(-e / 200));
  type Layer = { data: { values: Json[] }; mark: Json; encoding: Record<string, Json> };

  it('layers a line per task and a dashed rule at each known true σ, sharing the colour field', () => {
    const spec = asJson(
      sigmaTrajectorySpec({
        epochs,
        tasks: [
          { name: 'y1', sigma: s1, trueSigma: 10 },
          { name: 'y2', sigma: s2, trueSigma: 1 },
          { name: 'y3', sigma: s2 },
        ],
      }),
    );
    expect(spec.$schema).toBe(VEGA_LITE_SCHEMA);
    expect(spec.title).toMatchObject({ text: 'Learned task σ', subtitle: 'dashed lines: true σ' });
    const [line, rule] = spec.layer as [Layer, Layer];
    expect(line.mark.type).toBe('line');
    expect(line.data.values.filter((r) => r.task === 'y1').length).toBeLessThanOrEqual(MAX_POINTS_PER_SERIES);
    expect(line.data.values.filter((r) => r.task === 'y1').at(-1)).toEqual({
      task: 'y1',
      epoch: 1500,
      sigma: s1.at(-1),
    });
    expect(rule.mark).toMatchObject({ type: 'rule' });
    expect((rule.mark.strokeDash as number[]).length).toBeGreaterThan(0);
    expect(rule.data.values).toEqual([
      { task: 'y1', sigma: 10 },
      { task: 'y2', sigma: 1 },
    ]);
    // same field and domain in both layers → vega-lite merges them into one colour scale
    expect(rule.encoding.color).toEqual(line.encoding.color);
    expect(rule.encoding.y!.field).toBe(line.encoding.y!.field);
  });

  it('has no rule layer or subtitle without true σ', () => {
    const spec = asJson(sigmaTrajectorySpec({ epochs, tasks: [{ name: 'y1', sigma: s1 }], title: 'σ' }));
    expect(spec.title).toBe('σ');
    expect(spec.layer).toHaveLength(1);
  });

  it('uses a log axis only when the trajectories and truths are all positive', () => {
    const yScale = (spec: Json): unknown => (spec.layer as Layer[])[0]!.encoding.y!.scale;
    const ok = asJson(
      sigmaTrajectorySpec({ epochs, logY: true, tasks: [{ name: 'y1', sigma: s1, trueSigma: 10 }] }),
    );
    expect(yScale(ok)).toMatchObject({ type: 'log' });
    const bad = asJson(
      sigmaTrajectorySpec({ epochs, logY: true, tasks: [{ name: 'y1', sigma: s1, trueSigma: 0 }] }),
    );
    expect(yScale(bad)).not.toMatchObject({ type: 'log' });
  });
});

describe('metricCurveSpec', () => {
  const epochs = [2, 4, 6, 8];
  const spec = asJson(
    metricCurveSpec({
      epochs,
      yTitle: 'accuracy',
      series: [
        { name: 'accuracy', split: 'train', values: [0.5, 0.7, 0.8, 0.85] },
        { name: 'accuracy', split: 'validation', values: [0.45, NaN, 0.75, 0.78] },
      ],
    }),
  );

  it('draws one line per split, labelled by split, validation dashed', () => {
    expect(spec.$schema).toBe(VEGA_LITE_SCHEMA);
    expect(spec.title).toBe('accuracy');
    expect((spec.mark as Json).type).toBe('line');
    expect(rows(spec).filter((r) => r.series === 'train')).toHaveLength(4);
    // the epoch without a validation value is left out rather than drawn at 0
    expect(
      rows(spec)
        .filter((r) => r.series === 'validation')
        .map((r) => r.epoch),
    ).toEqual([2, 6, 8]);
    const enc = encoding(spec);
    expect(enc.y).toMatchObject({ field: 'value', title: 'accuracy' });
    expect(enc.color).toMatchObject({ field: 'series', scale: { domain: ['train', 'validation'] } });
    const dash = enc.strokeDash!.scale as { domain: string[]; range: number[][] };
    expect(dash.domain).toEqual(['train', 'validation']);
    expect(dash.range[0]).toEqual([1, 0]);
    expect(dash.range[1]!.length).toBe(2);
    expect(dash.range[1]![0]).toBeGreaterThan(1);
  });

  it('labels by metric and split when several metrics share a plot, one colour per metric', () => {
    const s = asJson(
      metricCurveSpec({
        title: 'Errors',
        epochs: [1],
        yTitle: 'g',
        series: [
          { name: 'rmse', split: 'train', values: [3] },
          { name: 'rmse', split: 'validation', values: [4] },
          { name: 'mae', split: 'train', values: [2] },
        ],
      }),
    );
    expect(s.title).toBe('Errors');
    const color = encoding(s).color!.scale as { domain: string[]; range: string[] };
    expect(color.domain).toEqual(['rmse (train)', 'rmse (validation)', 'mae (train)']);
    expect(color.range[0]).toBe(color.range[1]);
    expect(color.range[2]).not.toBe(color.range[0]);
  });

  it('downsamples long runs and rejects bad series', () => {
    const long = range(3000, (i) => i + 1);
    const s = asJson(
      metricCurveSpec({
        epochs: long,
        yTitle: 'rmse',
        series: [{ name: 'rmse', split: 'train', values: long }],
      }),
    );
    expect(rows(s).length).toBeLessThanOrEqual(MAX_POINTS_PER_SERIES);
    expect(rows(s).at(-1)?.epoch).toBe(3000);
    expect(() =>
      metricCurveSpec({ epochs: [1, 2], yTitle: 'a', series: [{ name: 'a', split: 'train', values: [1] }] }),
    ).toThrow(/length/);
    expect(() =>
      metricCurveSpec({
        epochs: [1],
        yTitle: 'a',
        series: [
          { name: 'a', split: 'train', values: [1] },
          { name: 'a', split: 'train', values: [2] },
        ],
      }),
    ).toThrow(/unique/);
  });
});

describe('predictedVsActualSpec', () => {
  type Layer = { data: { values: Json[] }; mark: Json; encoding: Record<string, Json> };
  const actual = [10, 20, 30, 40];
  const predicted = [12, 18, 33, NaN];

  it('layers the y = x diagonal under the points, on one square domain for both axes', () => {
    const spec = asJson(predictedVsActualSpec({ actual, predicted, unit: 'g' }));
    expect(spec.width).toBe(SQUARE_PLOT_SIZE);
    expect(spec.height).toBe(SQUARE_PLOT_SIZE);
    expect(spec.title).toMatchObject({ text: 'Predicted vs actual' });
    const layers = spec.layer as Layer[];
    expect(layers).toHaveLength(2);
    const [diagonal, dots] = layers as [Layer, Layer];
    expect(dots.mark.type).toBe('point');
    // the NaN prediction is dropped
    expect(dots.data.values).toEqual([
      { actual: 10, predicted: 12 },
      { actual: 20, predicted: 18 },
      { actual: 30, predicted: 33 },
    ]);
    const xDomain = (dots.encoding.x!.scale as { domain: number[] }).domain;
    const yDomain = (dots.encoding.y!.scale as { domain: number[] }).domain;
    expect(yDomain).toEqual(xDomain);
    expect(xDomain[0]).toBeLessThan(10);
    expect(xDomain[1]).toBeGreaterThan(33);
    expect(diagonal.data.values).toEqual([
      { actual: xDomain[0], predicted: xDomain[0] },
      { actual: xDomain[1], predicted: xDomain[1] },
    ]);
    expect(dots.encoding.x!.title).toBe('actual (g)');
    expect(dots.encoding.y!.title).toBe('predicted (g)');
  });

  it('draws an error bar per point with a finite interval and widens the domain to fit', () => {
    const spec = asJson(
      predictedVsActualSpec({
        title: 'Mass',
        actual,
        predicted,
        lower: [5, 15, NaN, 35],
        upper: [19, 21, 40, 45],
      }),
    );
    const layers = spec.layer as Layer[];
    expect(layers).toHaveLength(3);
    const bars = layers[1]!;
    expect(bars.mark.type).toBe('rule');
    expect(bars.encoding.y2).toMatchObject({ field: 'upper' });
    expect(bars.data.values).toEqual([
      { actual: 10, lower: 5, upper: 19 },
      { actual: 20, lower: 15, upper: 21 },
    ]);
    const domain = (layers[2]!.encoding.x!.scale as { domain: number[] }).domain;
    expect(domain[0]).toBeLessThan(5);
    expect(spec.title).toMatchObject({ text: 'Mass' });
  });

  it('rejects mismatched lengths or half an interval', () => {
    expect(() => predictedVsActualSpec({ actual: [1, 2], predicted: [1] })).toThrow(/length/);
    expect(() => predictedVsActualSpec({ actual: [1], predicted: [1], lower: [0] })).toThrow(/both/);
    expect(() => predictedVsActualSpec({ actual: [1], predicted: [1], lower: [0], upper: [1, 2] })).toThrow(
      /length/,
    );
  });

  it('still has a usable domain with no or constant data', () => {
    for (const data of [[], [5, 5]]) {
      const spec = asJson(predictedVsActualSpec({ actual: data, predicted: data }));
      const domain = ((spec.layer as Layer[])[1]!.encoding.x!.scale as { domain: number[] }).domain;
      expect(domain[1]! - domain[0]!).toBeGreaterThan(0);
    }
  });
});

describe('confusionMatrixSpec', () => {
  type Layer = { mark: Json; encoding: Record<string, Json> };
  const classes = ['Adelie', 'Chinstrap', 'Gentoo'];
  const counts = [
    [29, 1, 0],
    [1, 13, 0],
    [0, 0, 0],
  ];
  const spec = asJson(confusionMatrixSpec({ classes, counts }));

  it('has a cell per (actual, predicted) pair with its count and its share of the actual row', () => {
    expect(rows(spec)).toHaveLength(9);
    expect(rows(spec)[1]).toEqual({ actual: 'Adelie', predicted: 'Chinstrap', count: 1, share: 1 / 30 });
    expect(rows(spec)[4]).toMatchObject({ actual: 'Chinstrap', predicted: 'Chinstrap', count: 13 });
    // an empty row has share 0, not NaN
    expect(
      rows(spec)
        .filter((r) => r.actual === 'Gentoo')
        .map((r) => r.share),
    ).toEqual([0, 0, 0]);
  });

  it('puts actual classes on rows and predicted on columns, in the given order, with a count label', () => {
    const enc = encoding(spec);
    expect(enc.y).toMatchObject({ field: 'actual', type: 'nominal', sort: classes, title: 'actual' });
    expect(enc.x).toMatchObject({ field: 'predicted', type: 'nominal', sort: classes, title: 'predicted' });
    const [rect, text] = spec.layer as [Layer, Layer];
    expect(rect.mark.type).toBe('rect');
    expect(rect.encoding.color).toMatchObject({ field: 'share', scale: { domain: [0, 1] } });
    expect(text.mark.type).toBe('text');
    expect(text.encoding.text).toMatchObject({ field: 'count' });
    expect(spec.width).toBe(spec.height);
  });

  it('rejects a non-square matrix, negative counts and duplicate classes', () => {
    expect(() => confusionMatrixSpec({ classes: ['a', 'b'], counts: [[1, 2]] })).toThrow(/2×2/);
    expect(() =>
      confusionMatrixSpec({
        classes: ['a', 'b'],
        counts: [
          [1, -1],
          [0, 1],
        ],
      }),
    ).toThrow(/non-negative/);
    expect(() =>
      confusionMatrixSpec({
        classes: ['a', 'a'],
        counts: [
          [1, 0],
          [0, 1],
        ],
      }),
    ).toThrow(/unique/);
  });
});
