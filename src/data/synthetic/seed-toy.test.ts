import { describe, expect, it } from 'vitest';
import { NumpyRandomState } from '../../random/numpy-random-state.js';
import { generateSeedToyData, seedToyNoiseFactor } from './seed-toy.js';

/** The generator as it was before the noise options: the seed's gen_data, σ = [10, 1]. */
function seedGenData(n: number, seed: number) {
  const rs = new NumpyRandomState(seed);
  const x = rs.randn(n);
  const e1 = rs.randn(n);
  const e2 = rs.randn(n);
  return {
    x,
    e: [e1, e2] as const,
    y1: x.map((v, i) => v * 2 + 8 + 10 * e1[i]!),
    y2: x.map((v, i) => v * 3 + 3 + 1 * e2[i]!),
  };
}

const std = (a: number[]) => {
  const m = a.reduce((s, v) => s + v, 0) / a.length;
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
};

describe('generateSeedToyData', () => {
  it('keeps the seed data bit for bit by default and with explicit constant noise', () => {
    for (const seed of [0, 3]) {
      const ref = seedGenData(257, seed);
      for (const data of [
        generateSeedToyData({ n: 257, seed }),
        generateSeedToyData({ n: 257, seed, noise: 'constant', sigma: [10, 1] }),
      ]) {
        expect(Array.from(data.x)).toEqual(Array.from(ref.x));
        expect(Array.from(data.y[0])).toEqual(Array.from(ref.y1));
        expect(Array.from(data.y[1])).toEqual(Array.from(ref.y2));
        expect(data.trueSigma).toEqual([10, 1]);
      }
    }
  });

  it('scales the same deviates by σ₀ · (0.2 + 1.6 (x − min)/(max − min)) with growing noise', () => {
    const n = 3000;
    const ref = seedGenData(n, 1);
    const data = generateSeedToyData({ n, seed: 1, noise: 'growing', sigma: [4, 0.5] });
    expect(Array.from(data.x)).toEqual(Array.from(ref.x));
    expect(data.trueSigma).toEqual([4, 0.5]);
    const lo = Math.min(...data.x);
    const hi = Math.max(...data.x);
    const mean = [(x: number) => 2 * x + 8, (x: number) => 3 * x + 3];
    for (const t of [0, 1] as const) {
      const s0 = data.trueSigma[t];
      for (let i = 0; i < n; i++) {
        const x = data.x[i]!;
        const f = 0.2 + (1.6 * (x - lo)) / (hi - lo);
        expect(data.y[t][i]! - mean[t]!(x)).toBeCloseTo(s0 * f * ref.e[t][i]!, 9);
      }
      // the noise grows with x: its spread over the top tenth of x is far above the bottom tenth's
      const order = Array.from(data.x.keys()).sort((a, b) => data.x[a]! - data.x[b]!);
      const resid = (idx: number[]) => idx.map((i) => data.y[t][i]! - mean[t]!(data.x[i]!));
      const bottom = std(resid(order.slice(0, n / 10)));
      const top = std(resid(order.slice(-n / 10)));
      expect(top / bottom).toBeGreaterThan(2.5);
    }
    // σ = 0 gives the noiseless lines
    const clean = generateSeedToyData({ n: 5, seed: 2, noise: 'growing', sigma: [0, 0] });
    clean.x.forEach((x, i) => expect(clean.y[0][i]).toBe(x * 2 + 8));
  });

  it('has the documented factor at the ends, the middle and beyond; constant is 1', () => {
    expect(seedToyNoiseFactor('growing', -2, -2, 3)).toBeCloseTo(0.2, 12);
    expect(seedToyNoiseFactor('growing', 0.5, -2, 3)).toBeCloseTo(1, 12);
    expect(seedToyNoiseFactor('growing', 3, -2, 3)).toBeCloseTo(1.8, 12);
    expect(seedToyNoiseFactor('growing', 3.5, -2, 3)).toBeCloseTo(1.96, 12);
    expect(seedToyNoiseFactor('growing', -3, -2, 3)).toBe(0);
    expect(seedToyNoiseFactor('growing', 1, 1, 1)).toBe(1);
    expect(seedToyNoiseFactor('constant', 7, -2, 3)).toBe(1);
    expect(() => seedToyNoiseFactor('linear' as 'growing', 0, 0, 1)).toThrow(/noise must be/);
  });

  it('rejects bad options', () => {
    expect(() => generateSeedToyData({ n: 0 })).toThrow(/n must be/);
    expect(() => generateSeedToyData({ sigma: [-1, 1] })).toThrow(/sigma must be/);
    expect(() => generateSeedToyData({ sigma: [NaN, 1] })).toThrow(/sigma must be/);
    expect(() => generateSeedToyData({ noise: 'wide' as 'growing' })).toThrow(/noise must be/);
  });
});
