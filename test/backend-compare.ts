/** Helpers for unit tests that compare a backend's results with the cpu backend's. */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

export type Backend = 'cpu' | 'wasm';
export type Producer = () => tf.Tensor | tf.Tensor[];

/** mulberry32: deterministic shapes, configs and values for randomized cases. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const randn = (shape: number[], seed: number, mean = 0, std = 1): tf.Tensor =>
  tf.randomNormal(shape, mean, std, 'float32', seed);

/** Runs `produce` on `backend` and returns its outputs' values (the tensors are disposed). */
export async function runOn(backend: Backend, produce: Producer): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(produce);
  const outs = Array.isArray(out) ? out : [out];
  const values: Float32Array[] = [];
  for (const t of outs) {
    values.push((await t.data()) as Float32Array);
    t.dispose();
  }
  return values;
}

/** max|got−want| ≤ tol·max(1, max|want|), per output; NaN counts as a mismatch. */
export function expectClose(
  label: string,
  got: ArrayLike<number>[],
  want: ArrayLike<number>[],
  tol: number,
): void {
  expect(got.length, label).toBe(want.length);
  want.forEach((w, k) => {
    const g = got[k];
    expect(g?.length, `${label} output ${k} size`).toBe(w.length);
    let maxAbs = 0;
    let maxDiff = 0;
    for (let i = 0; i < w.length; i++) {
      const v = w[i]!;
      maxAbs = Math.max(maxAbs, Math.abs(v));
      const d = Math.abs(v - (g?.[i] ?? NaN));
      maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
    }
    expect(maxDiff, `${label} output ${k}`).toBeLessThanOrEqual(tol * Math.max(1, maxAbs));
  });
}

/** Runs `produce` on cpu and wasm and requires max|wasm−cpu| ≤ 1e-4·max(1, max|cpu|). */
export async function expectSameAsCpu(label: string, produce: Producer): Promise<void> {
  const want = await runOn('cpu', produce);
  const got = await runOn('wasm', produce);
  expectClose(label, got, want, 1e-4);
}
