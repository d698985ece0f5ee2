import { InvalidArgumentError, Option } from 'commander';

/** Commander argument parser for a positive integer. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be a positive integer.');
  }
  return n;
}

/** Commander argument parser for an integer ≥ 0. */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError('must be an integer ≥ 0.');
  }
  return n;
}

/** Commander argument parser for a number > 0. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('must be a number > 0.');
  return n;
}

/** Commander argument parser for a fraction in [0, 1). */
export function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1) {
    throw new InvalidArgumentError('must be a fraction in [0, 1).');
  }
  return n;
}

/** Commander argument parser for a comma-separated list of positive integers ('64,64'). */
export function intList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) {
    throw new InvalidArgumentError('must be positive integers separated by commas, e.g. 64,64.');
  }
  return parts.map(Number);
}

/** Commander argument parser for a comma-separated list of numbers ≥ 0 ('1,0.5'). */
export function numberList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n) || n < 0)) {
    throw new InvalidArgumentError('must be numbers ≥ 0 separated by commas, e.g. 1,0.5.');
  }
  return nums;
}

/** One share of a sweep: runs k (0-based, in the sweep's fixed order) with k mod `count` = `index` − 1. */
export interface Shard {
  /** 1-based, ≤ count. */
  index: number;
  count: number;
}

/** Commander argument parser for `--shard i/n` (1 ≤ i ≤ n). */
export function shard(value: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || !(count >= 1) || !(index >= 1 && index <= count))
    throw new InvalidArgumentError('must be i/n with 1 ≤ i ≤ n, e.g. 1/4.');
  return { index, count };
}

/** Whether run `k` (0-based position in the sweep) belongs to `s` (every run does without a shard). */
export function inShard(k: number, s: Shard | undefined): boolean {
  return s === undefined || k % s.count === s.index - 1;
}

/** `--threads N` for commands that train: the wasm backend's kernel threads. */
export function threadsOption(): Option {
  return new Option(
    '--threads <count>',
    'wasm: threads for the kernels (default: $TFJS_MTL_THREADS, else the core count up to 8)',
  ).argParser(positiveInt);
}

/** Threads for each of `jobs` parallel training processes: the user's count, else the default shared out. */
export function threadsPerJob(threads: number | undefined, jobs: number, available: number): number {
  return threads ?? Math.max(1, Math.floor(available / Math.max(1, jobs)));
}
