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

const B = 7;
const CASES: { kind: string; task: Task; shape: number[]; target: () => tf.Tensor; classes: number }[] = [
  {
    kind: 'softmax',
    task: classificationTask({ name: 'c', numClasses: 4 }),
    shape: [B, 4],
    target: () => tf.tensor1d([0, 3, 1, 2, 2, 0, 1], 'int32'),
    classes: 4,
  },
  {
    kind: 'bernoulli',
    task: classificationTask({ name: 'b', likelihood: 'bernoulli' }),
    shape: [B, 1],
    target: () => tf.tensor2d([1, 0, 0, 1, 1, 0, 1], [B, 1]),
    classes: 2,
  },
  {
    kind: 'gaussian',
    task: regressionTask({ name: 'r' }),
    shape: [B, 3],
    target: () => randn([B, 3], 5),
    classes: 0,
  },
  {
    kind: 'laplace',
    task: regressionTask({ name: 'l', likelihood: 'laplace' }),
    shape: [B, 1],
    target: () => randn([B], 6),
    classes: 0,
  },
];

describe('task losses with hand-written gradients', () => {
  for (const backend of ['cpu', 'wasm']) {
    for (const c of CASES) {
      for (const masked of ['no mask', 'a mask', 'an all-missing mask']) {
        it(`${backend}: ${c.kind}, ${masked}: value and gradient equal autodiff of the op-by-op loss`, async () => {
          await tf.setBackend(backend);
          const before = tf.memory().numTensors;
          const [got, want] = tf.tidy(() => {
            const f = randn(c.shape, 1, 0, 2);
            const y = c.target();
            const mask =
              masked === 'no mask'
                ? undefined
                : masked === 'a mask'
                  ? tf.tensor1d([1, 0, 1, 1, 0, 1, 1])
                  : tf.zeros([B]);
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
          expect(got[1]!.shape).toEqual(c.shape);
          expectClose(
            `${c.kind} ${masked}`,
            got.map((t) => t.dataSync()),
            want.map((t) => t.dataSync()),
            1e-6,
          );
          if (masked === 'an all-missing mask') expect(got[0]!.dataSync()[0]).toBe(0);
          tf.dispose([...got, ...want]);
          expect(tf.memory().numTensors).toBe(before);
        });
      }
    }
  }

  it('names the sizes when the mask does not fit the batch', () => {
    const task = CASES[0]!.task;
    expect(() => task.loss(tf.zeros([B, 4]), CASES[0]!.target(), tf.ones([B + 1]))).toThrow(
      `mask has ${B + 1} entries but the batch has ${B} samples`,
    );
  });
});
