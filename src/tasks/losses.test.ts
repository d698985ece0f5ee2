import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerLeanGradients } from '../backend/lean-gradients.js';
import { expectClose, randn } from '../../test/backend-compare.js';
import { classificationTask } from './classification.js';
import { regressionTask } from './regression.js';
import type { Task } from './task.js';

beforeAll(() => {
  registerLeanGradients();
});

/** The losses written op by op (autodiff differentiates them): per-row values, then the masked mean. */
function referenceRows(kind: string, f: tf.Tensor, y: tf.Tensor, classes: number): tf.Tensor1D {
  switch (kind) {
    case 'softmax': {
      const picked = tf.sum(tf.mul(tf.oneHot(tf.cast(y, 'int32'), classes), f), 1);
      return tf.sub<tf.Tensor1D>(tf.logSumExp(f, 1), picked);
    }
    case 'bernoulli': {
      const z = tf.reshape(f, [-1]);
      const t = tf.cast(tf.reshape(y, [-1]), 'float32');
      return tf.add<tf.Tensor1D>(tf.sub(tf.relu(z), tf.mul(z, t)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
    }
    case 'gaussian':
      return tf.mean(tf.reshape(tf.square(tf.sub(tf.reshape(y, f.shape), f)), [f.shape[0], -1]), 1);
    default:
      return tf.mean(tf.reshape(tf.abs(tf.sub(tf.reshape(y, f.shape), f)), [f.shape[0], -1]), 1);
  }
}

function referenceLoss(kind: string, f: tf.Tensor, y: tf.Tensor, classes: number, mask?: tf.Tensor) {
  const rows = referenceRows(kind, f, y, classes);
  if (mask === undefined) return tf.mean(rows);
  const m = tf.reshape(tf.cast(mask, 'float32'), [-1]);
  return tf.div(tf.sum(tf.mul(rows, m)), tf.maximum(tf.sum(m), 1));
}

/** Row counts: 7 takes the JS kernels on cpu/wasm (row-kernels.ts), 4500 (> 16384 values) the op path. */
const SIZES = [7, 4500];

interface Case {
  kind: string;
  task: Task;
  shape: (rows: number) => number[];
  target: (rows: number) => tf.Tensor;
  classes: number;
}

/** Labels 0 … C−1 spread over the rows (a fixed pattern). */
const labels = (rows: number, classes: number, dtype: 'int32' | 'float32') =>
  tf.tensor1d(
    Array.from({ length: rows }, (_, i) => (i * 7 + 3) % classes),
    dtype,
  );

const CASES: Case[] = [
  {
    kind: 'softmax',
    task: classificationTask({ name: 'c', numClasses: 4 }),
    shape: (n) => [n, 4],
    target: (n) => labels(n, 4, 'int32'),
    classes: 4,
  },
  {
    kind: 'bernoulli',
    task: classificationTask({ name: 'b', likelihood: 'bernoulli' }),
    shape: (n) => [n, 1],
    target: (n) => tf.reshape(labels(n, 2, 'float32'), [n, 1]),
    classes: 2,
  },
  {
    kind: 'gaussian',
    task: regressionTask({ name: 'r' }),
    shape: (n) => [n, 3],
    target: (n) => randn([n, 3], 5),
    classes: 0,
  },
  {
    kind: 'laplace',
    task: regressionTask({ name: 'l', likelihood: 'laplace' }),
    shape: (n) => [n, 1],
    target: (n) => randn([n], 6),
    classes: 0,
  },
];

/** 0/1 mask with a fixed pattern (about 2 in 3 labelled), or all zeros. */
const maskOf = (rows: number, kind: string) =>
  kind === 'a mask'
    ? tf.tensor1d(Array.from({ length: rows }, (_, i) => (i % 3 === 1 ? 0 : 1)))
    : tf.zeros([rows]);

describe('task losses with hand-written gradients', () => {
  for (const backend of ['cpu', 'wasm']) {
    for (const B of SIZES) {
      for (const c of CASES) {
        for (const masked of ['no mask', 'a mask', 'an all-missing mask']) {
          it(`${backend}, ${B} rows: ${c.kind}, ${masked}: value and gradient equal autodiff of the op-by-op loss`, async () => {
            await tf.setBackend(backend);
            const before = tf.memory().numTensors;
            const [got, want] = tf.tidy(() => {
              const f = randn(c.shape(B), 1, 0, 2);
              const y = c.target(B);
              const mask = masked === 'no mask' ? undefined : maskOf(B, masked);
              const dy = tf.scalar(1.7);
              const ours = tf.valueAndGrad((p: tf.Tensor) => tf.mul(c.task.loss(p, y, mask), dy))(f);
              const ref = tf.valueAndGrad((p: tf.Tensor) =>
                tf.mul(referenceLoss(c.kind, p, y, c.classes, mask), dy),
              )(f);
              return [
                [ours.value, ours.grad],
                [ref.value, ref.grad],
              ];
            });
            expect(got[1]!.shape).toEqual(c.shape(B));
            expectClose(
              `${c.kind} ${masked}`,
              got.map((t) => t.dataSync()),
              want.map((t) => t.dataSync()),
              // float32 sums over thousands of rows differ in their order of addition
              B > 100 ? 1e-5 : 1e-6,
            );
            if (masked === 'an all-missing mask') expect(got[0]!.dataSync()[0]).toBe(0);
            tf.dispose([...got, ...want]);
            expect(tf.memory().numTensors).toBe(before);
          });
        }
      }
    }
  }

  for (const backend of ['cpu', 'wasm']) {
    it(`${backend}: metric sums of small chunks (JS kernels) add up to the big batch's (ops)`, async () => {
      await tf.setBackend(backend);
      const rows = 4500;
      for (const c of CASES) {
        tf.tidy(() => {
          const f = randn(c.shape(rows), 2, 0, 2);
          const y = c.target(rows);
          const mask = maskOf(rows, 'a mask');
          const whole = c.task.metricSums(f, y, mask).dataSync();
          const parts = new Float64Array(whole.length);
          for (let start = 0; start < rows; start += 500) {
            const slice = (t: tf.Tensor) => tf.slice(t, start, 500);
            const part = c.task.metricSums(slice(f), slice(y), slice(mask)).dataSync();
            part.forEach((v, i) => (parts[i] = parts[i]! + v));
          }
          expectClose(`${c.kind} sums`, [parts], [whole], 1e-5);
          expect(whole[0]).toBe(3000);
        });
      }
    });
  }

  it('names the sizes when the mask does not fit the batch', () => {
    const task = CASES[0]!.task;
    const B = 7;
    expect(() => task.loss(tf.zeros([B, 4]), CASES[0]!.target(B), tf.ones([B + 1]))).toThrow(
      `mask has ${B + 1} entries but the batch has ${B} samples`,
    );
  });
});
