import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskedL1, maskedSoftmaxCrossEntropy, maskedSparseSoftmaxCrossEntropy } from './losses.js';

// (the wasm package registers itself as the preferred backend; the fixtures below are made on cpu)
await tf.setBackend('cpu');

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++)
    expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]!)));
};

describe('maskedSoftmaxCrossEntropy', () => {
  // made on each backend in turn: a cpu tensor cast from int32 keeps int32 storage, which tfjs then
  // moves to wasm as float32 bits (upstream)
  const fixtures = () => {
    const labels = tf.tensor3d([0, 2, 1, -1], [1, 2, 2], 'int32');
    return {
      logits: tf.tensor4d([2, 0, -1, 0.5, 0.5, 0.5, -3, 4, 1, 0, 0, 0], [1, 2, 2, 3]),
      labels,
      oneHot: tf.oneHot(labels, 3).toFloat(),
      mask: tf.tensor4d([1, 1, 1, 0], [1, 2, 2, 1]),
    };
  };
  let { logits, labels, oneHot, mask } = fixtures();

  for (const backend of ['cpu', 'wasm'] as const) {
    describe(backend, () => {
      beforeAll(async () => {
        await tf.setBackend(backend);
        ({ logits, labels, oneHot, mask } = fixtures());
      });
      afterAll(async () => {
        await tf.setBackend('cpu');
        ({ logits, labels, oneHot, mask } = fixtures());
      });
      it('is the mean of −log softmax at the label over labelled pixels', () => {
        const z = [
          [2, 0, -1],
          [0.5, 0.5, 0.5],
          [-3, 4, 1],
        ];
        const y = [0, 2, 1];
        const nll = z.map((row, i) => Math.log(row.reduce((a, v) => a + Math.exp(v), 0)) - row[y[i]!]!);
        const want = nll.reduce((a, b) => a + b, 0) / 3;
        expect(maskedSoftmaxCrossEntropy(logits, oneHot, mask).dataSync()[0]).toBeCloseTo(want, 5);
      });

      it('has the gradient of the same function written with plain ops', () => {
        const reference = (z: tf.Tensor) => {
          const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(z), oneHot), -1, true));
          return tf.div(tf.sum(tf.mul(nll, mask)), tf.sum(mask));
        };
        const ours = tf.grad((z: tf.Tensor) => maskedSoftmaxCrossEntropy(z, oneHot, mask))(logits);
        const want = tf.grad(reference)(logits);
        close(ours.dataSync(), want.dataSync(), 1e-5);
      });

      it('is 0 with a zero gradient when nothing is labelled', () => {
        const none = tf.zerosLike(mask);
        expect(maskedSoftmaxCrossEntropy(logits, oneHot, none).dataSync()[0]).toBe(0);
        const g = tf.grad((z: tf.Tensor) => maskedSoftmaxCrossEntropy(z, oneHot, none))(logits);
        expect(Array.from(g.dataSync()).every((v) => v === 0)).toBe(true);
      });

      for (const shape of [
        [2, 4, 6, 7],
        [1, 1, 5, 3], // odd row and class counts
        [1, 13, 1, 9],
        // on wasm rows of ≥ 4 classes go four at a time, the last four overlapping: whole vectors only,
        // one vector and one more class, two whole vectors
        [1, 3, 5, 4],
        [1, 7, 2, 5],
        [2, 3, 3, 8],
      ])
        it(`equals plain ops on random logits [${shape.join(',')}] with a mask that drops labelled pixels`, async () => {
          const classes = shape[3]!;
          const z = tf.randomNormal(shape, 0, 3, 'float32', 5);
          const y = tf.randomUniform(shape.slice(0, 3), -1, classes, 'int32', 6);
          const hot = tf.oneHot(y, classes).toFloat();
          const keep = tf.cast(
            tf.greater(tf.randomUniform([...shape.slice(0, 3), 1], 0, 1, 'float32', 7), 0.25),
            'float32',
          );
          const m = tf.mul(tf.sum(hot, -1, true), keep);
          const reference = (zz: tf.Tensor) => {
            const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(zz), hot), -1, true));
            return tf.div(tf.sum(tf.mul(nll, m)), tf.maximum(tf.sum(m), 1));
          };
          const before = tf.memory().numTensors;
          const sparse = (zz: tf.Tensor) => maskedSparseSoftmaxCrossEntropy(zz, y, m);
          const dense = (zz: tf.Tensor) => maskedSoftmaxCrossEntropy(zz, hot, m);
          const profile = await tf.profile(() => tf.grad(sparse)(z).dispose());
          if (backend === 'wasm')
            expect(profile.kernels.map((k) => k.name)).toContain('TfjsMtlSoftmaxCrossEntropy');
          for (const f of [sparse, dense]) {
            const [v, g, vRef, gRef] = tf.tidy(() => [
              f(z),
              tf.grad(f)(z),
              reference(z),
              tf.grad(reference)(z),
            ]);
            close(await v.data(), await vRef.data(), 1e-5);
            close(await g.data(), await gRef.data(), 1e-5);
            tf.dispose([v, g, vRef, gRef]);
          }
          expect(tf.memory().numTensors).toBe(before);
          tf.dispose([z, y, hot, keep, m]);
        });
    });
  }

  it('with labels: a label outside [0, C) picks nothing, as an all-zero one-hot row', async () => {
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const z = tf.tensor4d([1, 2, 3, 0.5, -1, 0, 2, 2, 4, 1, 1, 1, 3, 0, 0, 5], [1, 1, 4, 4]);
      const y = tf.tensor3d([2, -1, 4, 0], [1, 1, 4], 'int32');
      const ones = tf.ones([1, 1, 4, 1]);
      const hot = tf.oneHot(y, 4).toFloat();
      const [a, b] = [maskedSparseSoftmaxCrossEntropy(z, y, ones), maskedSoftmaxCrossEntropy(z, hot, ones)];
      close(await a.data(), await b.data(), 1e-6);
      const [ga, gb] = [
        tf.grad((zz: tf.Tensor) => maskedSparseSoftmaxCrossEntropy(zz, y, ones))(z),
        tf.grad((zz: tf.Tensor) => maskedSoftmaxCrossEntropy(zz, hot, ones))(z),
      ];
      close(await ga.data(), await gb.data(), 1e-6);
      tf.dispose([z, y, ones, hot, a, b, ga, gb]);
    }
  });

  it('with labels: rejects labels or a mask that are not one a pixel', () => {
    expect(() => maskedSparseSoftmaxCrossEntropy(logits, tf.zeros([3], 'int32'), mask)).toThrow(
      /one label and one mask value a pixel/,
    );
  });

  it('rejects a one-hot of the wrong width', () => {
    expect(() => maskedSoftmaxCrossEntropy(logits, tf.oneHot(labels, 4), mask)).toThrow(
      /3 logits but one-hot of 4/,
    );
  });
});

describe('maskedL1', () => {
  it('averages |p − t| over labelled pixels and channels', () => {
    const p = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 1, 3, 2]);
    const t = tf.tensor4d([0, 0, 3, 0, 0, 0], [1, 1, 3, 2]);
    const m = tf.tensor4d([1, 1, 0], [1, 1, 3, 1]);
    // pixels 0 and 1: |1|+|2|+|0|+|4| = 7 over 2 pixels × 2 channels
    expect(maskedL1(p, t, m).dataSync()[0]).toBeCloseTo(7 / 4, 6);
    expect(maskedL1(p, t, tf.zerosLike(m)).dataSync()[0]).toBe(0);
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`equals the plain-op formula in value and gradient (${backend}${backend === 'wasm' ? ': one kernel each way' : ''})`, async () => {
      await tf.setBackend(backend);
      // on wasm 1 and 2 channels go 4 and 2 rows a vector, the rest of the rows one by one
      for (const [channels, pixels] of [
        [1, [3, 6, 5]],
        [2, [3, 6, 5]],
        [3, [3, 6, 5]],
        [1, [1, 7, 1]],
        [2, [1, 7, 1]],
      ] as const) {
        const shape = [...pixels, channels];
        const p = tf.randomNormal(shape, 0, 1, 'float32', 1);
        const t = tf.randomNormal(shape, 0, 1, 'float32', 2);
        const m = tf.cast(tf.greater(tf.randomUniform([...pixels, 1], 0, 1, 'float32', 3), 0.3), 'float32');
        const plain = (pp: tf.Tensor): tf.Scalar =>
          tf.div(tf.sum(tf.mul(tf.abs(tf.sub(pp, t)), m)), tf.maximum(tf.mul(tf.sum(m), channels), 1));
        const before = tf.memory().numTensors;
        const profile = await tf.profile(() =>
          tf
            .grad((pp: tf.Tensor) => maskedL1(pp, t, m))(p)
            .dispose(),
        );
        const names = profile.kernels.map((k) => k.name);
        if (backend === 'wasm') {
          expect(names.filter((n) => n.startsWith('TfjsMtlMaskedL1'))).toEqual([
            'TfjsMtlMaskedL1',
            'TfjsMtlMaskedL1Grad',
          ]);
          expect(names.filter((n) => ['Abs', 'Multiply', 'Sum'].includes(n))).toEqual([]);
        }
        const [v, g, vRef, gRef, none] = tf.tidy(() => [
          maskedL1(p, t, m),
          tf.grad((pp: tf.Tensor) => maskedL1(pp, t, m))(p),
          plain(p),
          tf.grad(plain)(p),
          maskedL1(p, t, tf.zerosLike(m)),
        ]);
        close(await v.data(), await vRef.data(), 1e-6);
        close(await g.data(), await gRef.data(), 1e-6);
        expect(Array.from(await none.data())).toEqual([0]);
        tf.dispose([v, g, vRef, gRef, none]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([p, t, m]);
      }
      await tf.setBackend('cpu');
    });
  }
});
