import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, randn, type Backend } from '../../test/backend-compare.js';
import { sharedTrunkModel } from '../models/sharing.js';
import { denseForward, denseFusible, FUSED_ACTIVATIONS, type FusedActivation } from './dense-kernels.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import { registerLeanGradients } from './lean-gradients.js';

const BACKENDS: Backend[] = ['cpu', 'wasm'];

beforeAll(async () => {
  registerLeanGradients();
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
});

function act(z: tf.Tensor, a: FusedActivation): tf.Tensor {
  switch (a) {
    case 'linear':
      return z;
    case 'relu':
      return tf.relu(z);
    case 'tanh':
      return tf.tanh(z);
    case 'sigmoid':
      return tf.sigmoid(z);
    case 'elu':
      return tf.elu(z);
  }
}

/** The op path: per tower, act(x_t·W_t + b_t). */
function reference(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, a: FusedActivation): tf.Tensor {
  if (w.rank === 2) {
    const K = w.shape[0];
    const flat = tf.reshape(x, [-1, K]);
    return tf.reshape(act(tf.add(tf.matMul(flat, w), b), a), [...x.shape.slice(0, -1), w.shape[1]!]);
  }
  const T = w.shape[0];
  const towers = Array.from({ length: T }, (_, t) => {
    const xt = x.rank === 2 ? x : tf.squeeze(tf.slice(x, [0, t, 0], [-1, 1, -1]), [1]);
    const wt = tf.squeeze(tf.slice(w, [t, 0, 0], [1, -1, -1]), [0]);
    const bt = tf.squeeze(tf.slice(b, [t, 0], [1, -1]), [0]);
    return act(tf.add(tf.matMul(xt, wt), bt), a);
  });
  return tf.stack(towers, 1);
}

/** Output and gradients w.r.t. x, W, b of Σ out·r for a random r. */
function valueAndGrads(
  f: (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor,
  shapes: [number[], number[], number[]],
  seed: number,
): tf.Tensor[] {
  const [x, w, b] = shapes.map((s, i) => randn(s, seed + i, 0, 0.7));
  const out = f(x!, w!, b!);
  const r = randn(out.shape, seed + 9);
  const grads = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(f(xx, ww, bb), r)))([
    x!,
    w!,
    b!,
  ]);
  return [out, ...grads];
}

const CASES: { name: string; shapes: [number[], number[], number[]] }[] = [
  { name: 'plain', shapes: [[6, 5], [5, 7], [7]] },
  { name: 'plain, thin input', shapes: [[6, 2], [2, 7], [7]] },
  { name: 'plain, rank-3 input', shapes: [[3, 4, 5], [5, 6], [6]] },
  { name: 'plain, one unit', shapes: [[6, 9], [9, 1], [1]] },
  {
    name: 'towers, shared input',
    shapes: [
      [5, 6],
      [3, 6, 4],
      [3, 4],
    ],
  },
  {
    name: 'towers, shared one-feature input',
    shapes: [
      [20, 1],
      [2, 1, 16],
      [2, 16],
    ],
  },
  {
    name: 'towers, own inputs, one unit',
    shapes: [
      [5, 2, 16],
      [2, 16, 1],
      [2, 1],
    ],
  },
  {
    name: 'towers, own inputs',
    shapes: [
      [5, 3, 6],
      [3, 6, 4],
      [3, 4],
    ],
  },
];

describe('fused dense kernels', () => {
  for (const backend of BACKENDS) {
    for (const c of CASES) {
      for (const a of FUSED_ACTIVATIONS) {
        it(`${backend}: ${c.name}, ${a} — output and gradients equal the op path's`, async () => {
          await tf.setBackend(backend);
          const before = tf.memory().numTensors;
          const got = tf.tidy(() =>
            valueAndGrads(
              (x, w, b) => {
                expect(denseFusible(x, w, a)).toBe(true);
                return denseForward(x, w, b, a);
              },
              c.shapes,
              11,
            ),
          );
          const want = tf.tidy(() => valueAndGrads((x, w, b) => reference(x, w, b, a), c.shapes, 11));
          got.forEach((g, i) => expect(g.shape, `output ${i} shape`).toEqual(want[i]!.shape));
          expectClose(
            `${backend} ${c.name} ${a}`,
            got.map((t) => t.dataSync()),
            want.map((t) => t.dataSync()),
            2e-5,
          );
          tf.dispose([...got, ...want]);
          expect(tf.memory().numTensors).toBe(before);
        });
      }
    }
  }

  it('is not used where it cannot run: other activations, int inputs, a tape recording the backward pass', async () => {
    await tf.setBackend('cpu');
    const x = tf.ones([2, 3]);
    const w = tf.ones([3, 4]);
    expect(denseFusible(x, w, 'softmax')).toBe(false);
    expect(denseFusible(tf.ones([2, 3], 'int32'), w, 'relu')).toBe(false);
    let inner: boolean | undefined;
    tf.grad((v: tf.Tensor) =>
      tf.sum(
        tf.grad((u: tf.Tensor) => {
          inner = denseFusible(u, w, 'relu');
          return tf.sum(tf.mul(u, u));
        })(v),
      ),
    )(x);
    expect(inner).toBe(false);
    tf.dispose([x, w]);
  });
});

describe('fusedDense in models', () => {
  it('saves as TF.js Dense layers and loads back without tfjs-mtl classes giving the same predictions', async () => {
    await tf.setBackend('wasm');
    const model = sharedTrunkModel({ inputDim: 3, outputs: [2, 1], trunk: [8, 8], seed: 4 });
    const json = model.toJSON(null, false) as { config: { layers: { class_name: string }[] } };
    const classes = new Set(json.config.layers.map((l) => l.class_name));
    expect(classes).toEqual(new Set(['InputLayer', 'Dense']));
    const copy = await tf.models.modelFromJSON({
      modelTopology: model.toJSON(null, false) as tf.io.ModelJSON['modelTopology'],
    });
    copy.setWeights(model.getWeights());
    const x = randn([5, 3], 8);
    const a = model.predict(x) as tf.Tensor[];
    const b = copy.predict(x) as tf.Tensor[];
    expectClose(
      'predictions',
      a.map((t) => t.dataSync()),
      b.map((t) => t.dataSync()),
      1e-6,
    );
    tf.dispose([x, ...a, ...b]);
    model.dispose();
    copy.dispose();
  });
});
