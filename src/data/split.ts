/** A seeded train/validation/test split of a table's rows. Browser-safe. */
import { NumpyRandomState } from '../random/numpy-random-state.js';

export interface SplitOptions {
  /** Fraction of the rows for validation, in [0, 1). */
  validation: number;
  /** Fraction of the rows for the test set, in [0, 1). */
  test: number;
  /** Integer seed in [0, 2^32 - 1]. */
  seed: number;
}

export interface RowSplit {
  train: number[];
  validation: number[];
  test: number[];
}

/** 12 significant digits: 0.9 + 0.2 prints as 1.1, not 1.1000000000000001. */
function show(x: number): string {
  return String(Number(x.toPrecision(12)));
}

/**
 * Splits rows 0..n-1 at random (numpy's legacy permutation of the seed): round(n·validation) rows for
 * validation, round(n·test) for the test set, the rest for training; each list sorted. Bad fractions
 * are RangeErrors naming the command-line flag.
 */
export function splitRows(n: number, opts: SplitOptions): RowSplit {
  const { validation, test, seed } = opts;
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`the number of rows must be an integer >= 0, got ${n}`);
  for (const [flag, f] of [
    ['--val', validation],
    ['--test', test],
  ] as const) {
    if (!Number.isFinite(f) || f < 0 || f >= 1) throw new RangeError(`${flag} must be in [0, 1), got ${f}`);
  }
  const sum = Number((validation + test).toPrecision(12));
  if (sum >= 1) throw new RangeError(`--val + --test must be < 1, got ${show(validation + test)}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`--seed must be an integer in [0, 4294967295], got ${seed}`);
  }
  const nValidation = Math.round(n * validation);
  const nTest = Math.round(n * test);
  const nTrain = n - nValidation - nTest;
  if (nTrain <= 0) {
    throw new RangeError(
      n === 0
        ? 'there are no rows to split'
        : `--val ${validation} and --test ${test} leave no training rows out of ${n} ` +
            `(${nValidation} validation, ${nTest} test)`,
    );
  }
  const order = new NumpyRandomState(seed).permutation(n);
  const pick = (from: number, to: number) => Array.from(order.subarray(from, to)).sort((a, b) => a - b);
  return {
    validation: pick(0, nValidation),
    test: pick(nValidation, nValidation + nTest),
    train: pick(nValidation + nTest, n),
  };
}
