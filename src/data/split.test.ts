import { describe, expect, it } from 'vitest';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import { splitRows } from './split.js';

describe('splitRows', () => {
  it('splits into sorted, disjoint lists of round(n·fraction) rows covering every row', () => {
    const s = splitRows(101, { validation: 0.15, test: 0.1, seed: 3 });
    expect(s.validation).toHaveLength(15);
    expect(s.test).toHaveLength(10);
    expect(s.train).toHaveLength(76);
    for (const list of [s.train, s.validation, s.test]) expect(list).toEqual([...list].sort((a, b) => a - b));
    const all = [...s.train, ...s.validation, ...s.test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 101 }, (_, i) => i));
  });

  it('is the seeded numpy permutation: validation first, then test, then train', () => {
    const p = Array.from(new NumpyRandomState(42).permutation(10));
    const s = splitRows(10, { validation: 0.2, test: 0.3, seed: 42 });
    const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
    expect(s.validation).toEqual(sorted(p.slice(0, 2)));
    expect(s.test).toEqual(sorted(p.slice(2, 5)));
    expect(s.train).toEqual(sorted(p.slice(5)));
    expect(splitRows(10, { validation: 0.2, test: 0.3, seed: 42 })).toEqual(s);
    expect(splitRows(10, { validation: 0.2, test: 0.3, seed: 43 })).not.toEqual(s);
  });

  it('allows empty validation and test sets', () => {
    expect(splitRows(4, { validation: 0, test: 0, seed: 0 })).toEqual({
      train: [0, 1, 2, 3],
      validation: [],
      test: [],
    });
  });

  it('rejects fractions outside [0, 1), naming the flag', () => {
    expect(() => splitRows(10, { validation: 1, test: 0, seed: 0 })).toThrow(
      new RangeError('--val must be in [0, 1), got 1'),
    );
    expect(() => splitRows(10, { validation: 0.1, test: -0.1, seed: 0 })).toThrow(
      new RangeError('--test must be in [0, 1), got -0.1'),
    );
    expect(() => splitRows(10, { validation: NaN, test: 0, seed: 0 })).toThrow(
      /^--val must be in \[0, 1\), got NaN$/,
    );
  });

  it('rejects --val + --test >= 1', () => {
    expect(() => splitRows(10, { validation: 0.9, test: 0.2, seed: 0 })).toThrow(
      new RangeError('--val + --test must be < 1, got 1.1'),
    );
    expect(() => splitRows(10, { validation: 0.7, test: 0.3, seed: 0 })).toThrow(
      /--val \+ --test must be < 1, got 1$/,
    );
  });

  it('rejects a split that leaves no training rows, and a bad seed', () => {
    expect(() => splitRows(2, { validation: 0.5, test: 0.4, seed: 0 })).toThrow(
      new RangeError('--val 0.5 and --test 0.4 leave no training rows out of 2 (1 validation, 1 test)'),
    );
    expect(() => splitRows(0, { validation: 0.1, test: 0.1, seed: 0 })).toThrow(/no rows to split/);
    expect(() => splitRows(10, { validation: 0.1, test: 0.1, seed: -1 })).toThrow(
      /^--seed must be an integer/,
    );
  });
});
