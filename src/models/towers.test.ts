import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { towersModel } from './towers.js';

describe('towersModel', () => {
  it('unstacks the towers once per model call; separate calls give separate tensors', async () => {
    await tf.setBackend('cpu');
    const model = towersModel({ inputDim: 2, outputs: [1, 1, 1], hidden: [8], seed: 3 });
    const x = tf.randomNormal([5, 2], 0, 1, 'float32', 1);
    let unpacks = 0;
    const engine = tf.engine() as unknown as { runKernelFunc: (p: { kernelName?: string }) => unknown };
    const run = engine.runKernelFunc.bind(engine);
    engine.runKernelFunc = (p) => {
      if (p.kernelName === 'Unpack') unpacks++;
      return run(p);
    };
    try {
      const a = model.predict(x) as tf.Tensor[];
      expect(unpacks).toBe(1);
      const b = model.predict(x) as tf.Tensor[];
      expect(unpacks).toBe(2);
      expect(a.length).toBe(3);
      a.forEach((t, i) => expect(t).not.toBe(b[i]));
      const before = a.map((t) => t.dataSync()[0]);
      tf.dispose(b);
      expect(a.map((t) => t.dataSync()[0])).toEqual(before);
      tf.dispose(a);
      // a training step's gradients reach every tower
      const { grads } = tf.variableGrads(() => {
        const outs = model.apply(x, { training: true }) as tf.Tensor[];
        return tf.addN(outs.map((o) => tf.sum(o))) as tf.Scalar;
      });
      expect(unpacks).toBe(3);
      const kernel = grads[(model.getLayer('towers_output').getWeights()[0] as tf.Variable).name]!;
      const perTower = tf.sum(tf.abs(kernel), [1, 2]).dataSync();
      perTower.forEach((v) => expect(v).toBeGreaterThan(0));
      tf.dispose(Object.values(grads));
    } finally {
      engine.runKernelFunc = run;
      x.dispose();
      model.dispose();
    }
  });
});
