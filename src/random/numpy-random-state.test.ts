import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NumpyRandomState } from './numpy-random-state.js';
import { generateSeedToyData } from '../data/synthetic/seed-toy.js';

const golden = JSON.parse(
  readFileSync(new URL('../../../shared/reference/golden/numpy_stream.json', import.meta.url), 'utf8'),
) as {
  randn: Record<string, number[]>;
  gen_data: Record<string, { X: number[]; Y1: number[]; Y2: number[] }>;
};

/**
 * Equal to float64 rounding. The polar method's `log` is libm's in numpy and fdlibm's in V8; the two
 * differ in the last bit for ~3 % of arguments, so a deviate may be 1 ulp apart, and a sum built from
 * it (y = 2x + 8 + 10ε) 1 ulp of its largest term: `scale` is that term's magnitude.
 */
function expectFloat64Close(actual: ArrayLike<number>, expected: number[], scale = 0): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const ulps = Math.abs(actual[i]! - e) / (Number.EPSILON * Math.max(Math.abs(e), scale, 1e-300));
    worst = Math.max(worst, ulps);
  }
  expect(worst).toBeLessThanOrEqual(2);
}

describe('NumpyRandomState', () => {
  it.each(['0', '1', '2'])('reproduces np.random.seed(%s); np.random.randn(1000)', (seed) => {
    const rs = new NumpyRandomState(Number(seed));
    expectFloat64Close(rs.randn(1000), golden.randn[seed]!);
  });

  it.each(['0', '1', '2', '3', '4'])("reproduces the seed document's gen_data(100) at seed %s", (seed) => {
    const data = generateSeedToyData({ n: 100, seed: Number(seed) });
    const g = golden.gen_data[seed]!;
    expectFloat64Close(data.x, g.X);
    expectFloat64Close(data.y[0], g.Y1, 40);
    expectFloat64Close(data.y[1], g.Y2, 8);
  });

  it('matches numpy for rand, randint and permutation (np.random.seed(7))', () => {
    // /usr/bin/python3: np.random.seed(7); permutation(10); rand(3); [randint(0,17) for 5]
    const rs = new NumpyRandomState(7);
    expect(Array.from(rs.permutation(10))).toEqual([8, 5, 0, 2, 1, 9, 7, 3, 6, 4]);
    expectFloat64Close(
      [rs.random(), rs.random(), rs.random()],
      [0.07205113335976154, 0.26843898010187117, 0.49988250082555996],
    );
    expect([0, 1, 2, 3, 4].map(() => rs.randomInt(17))).toEqual([4, 16, 7, 12, 0]);
  });

  it('rejects seeds numpy rejects', () => {
    expect(() => new NumpyRandomState(-1)).toThrow(/seed must be an integer/);
    expect(() => new NumpyRandomState(2 ** 32)).toThrow(/seed must be an integer/);
    expect(() => new NumpyRandomState(1.5)).toThrow(/seed must be an integer/);
  });
});

describe('NumpyRandomState state', () => {
  it('continues exactly from a saved state, through JSON, including the cached Gaussian', () => {
    const a = new NumpyRandomState(7);
    a.randn(3); // odd count: one Gaussian deviate is cached
    a.permutation(700); // past the first 624-word block
    const saved = JSON.parse(JSON.stringify(a.getState())) as ReturnType<NumpyRandomState['getState']>;
    expect(saved.gauss).not.toBeNull();
    const expected = [a.standardNormal(), a.random(), ...a.permutation(50)];
    const b = new NumpyRandomState(0);
    b.setState(saved);
    expect([b.standardNormal(), b.random(), ...b.permutation(50)]).toEqual(expected);
  });

  it('rejects a malformed state', () => {
    const r = new NumpyRandomState(1);
    expect(() => r.setState({ key: [1, 2], pos: 0, gauss: null })).toThrow(/key must be 624/);
    expect(() => r.setState({ ...r.getState(), pos: 625 })).toThrow(/pos must be in \[0, 624\]/);
  });
});
