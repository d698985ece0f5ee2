import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { denseClassificationTask } from './tasks.js';

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('denseClassificationTask loss', () => {
  for (const backend of ['cpu', 'wasm'])
    it(`on ${backend}: without a mask, only the pixels whose label is a class count (−1 and C do not)`, async () => {
      await tf.setBackend(backend);
      const task = denseClassificationTask({ name: 'semantic', numClasses: 4 });
      const z = tf.tensor4d(
        Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.sin(i)),
        [1, 2, 3, 4],
      );
      const labels = tf.tensor3d([0, -1, 3, 4, 2, 1], [1, 2, 3], 'int32');
      const valid = tf.tensor4d([1, 0, 1, 0, 1, 1], [1, 2, 3, 1]);
      const [a, b] = [task.loss(z, labels), task.loss(z, labels, valid)];
      expect(a.dataSync()[0]).toBeCloseTo(b.dataSync()[0]!, 6);
      // by hand: mean over the four labelled pixels of log Σ e^z − z_label
      const zs = z.arraySync()[0]!.flat();
      const picks: [number, number][] = [
        [0, 0],
        [2, 3],
        [4, 2],
        [5, 1],
      ];
      const want =
        picks.reduce(
          (s, [p, l]) => s + Math.log(zs[p]!.reduce((t, v) => t + Math.exp(v), 0)) - zs[p]![l]!,
          0,
        ) / 4;
      expect(a.dataSync()[0]).toBeCloseTo(want, 5);
      expect(() => task.loss(z, tf.zeros([1, 6], 'int32'))).toThrow(/labels must be \[B, H, W\]/);
      tf.dispose([z, labels, valid, a, b]);
    });
});
