import { describe, expect, it } from 'vitest';
import {
  MAX_POINTS_PER_SERIES,
  PLOT_WIDTH,
  TOTAL_LOSS_COLOR,
  VEGA_LITE_SCHEMA,
  canUseLogScale,
  downsampleIndices,
  lossCurveSpec,
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
