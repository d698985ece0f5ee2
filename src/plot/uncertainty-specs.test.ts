import { describe, expect, it } from 'vitest';
import { normalQuantile, observedCoverage, reliabilitySpec, widthVsErrorSpec } from './uncertainty-specs.js';

describe('interval plots', () => {
  it('normalQuantile inverts Φ', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 6);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 6);
    expect(normalQuantile(0.05)).toBeCloseTo(-1.644853627, 6);
  });

  it('observed coverage per level; the diagram and the binned error plot hold their points', () => {
    // errors at 0.5σ and 2σ: inside every interval wider than ±0.5σ, then ±2σ
    const actual = [0.5, 2, -0.5, -2];
    const predicted = [0, 0, 0, 0];
    const sigma = [1, 1, 1, 1];
    const obs = observedCoverage(actual, predicted, sigma, [0.3, 0.5, 0.96]);
    expect(obs).toEqual([0, 0.5, 1]);
    const rel = reliabilitySpec({ title: 't', levels: [0.3, 0.5, 0.96], observed: obs }) as {
      layer: { data: { values: unknown[] } }[];
    };
    expect(rel.layer[1]!.data.values).toEqual([
      { nominal: 0.3, observed: 0 },
      { nominal: 0.5, observed: 0.5 },
      { nominal: 0.96, observed: 1 },
    ]);
    const w = widthVsErrorSpec({ title: 't', sigma: [1, 2, 3, 4], absError: [1, 1, 3, 5], bins: 2 }) as {
      layer: { data: { values: { sigma: number; error: number }[] } }[];
    };
    expect(w.layer[1]!.data.values.map((p) => [p.sigma, p.error])).toEqual([
      [1.5, 1],
      [3.5, 4],
    ]);
  });
});
