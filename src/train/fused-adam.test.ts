import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { FusedAdam } from './fused-adam.js';

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('FusedAdam', () => {
  it.each([
    ['cpu', true],
    ['cpu', false],
    ['wasm', true],
    ['wasm', false],
  ] as const)(
    'takes the same steps as tf.train.adam (%s backend, single kernel: %s)',
    async (backend, kernel) => {
      await tf.setBackend(backend);
      const init = [
        tf.randomNormal([3, 4], 0, 1, 'float32', 1),
        tf.randomNormal([4], 0, 1, 'float32', 2),
        tf.scalar(0.7),
      ];
      const a = init.map((t) => tf.variable(t.clone()));
      const b = init.map((t) => tf.variable(t.clone()));
      const target = tf.randomNormal([3, 4], 0, 1, 'float32', 3);
      const loss = (vars: tf.Variable[]) => () =>
        tf.add<tf.Scalar>(
          tf.sum(tf.square(tf.sub(tf.add(tf.mul(vars[0]!, vars[2]!), vars[1]!), target))),
          tf.square(vars[2]!),
        );
      const ref = tf.train.adam(0.01, 0.8, 0.99, 1e-6);
      const fused = new FusedAdam(b, { learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, kernel });
      for (let i = 0; i < 25; i++) ref.minimize(loss(a), false, a);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 25; i++) {
        const { value, grads } = tf.variableGrads(loss(b), b);
        fused.applyGradients(grads);
        Object.values(grads).forEach((g) => g.dispose());
        value.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
      a.forEach((v, i) => {
        const x = Array.from(v.dataSync());
        const y = Array.from(b[i]!.dataSync());
        x.forEach((xv, k) => expect(y[k]).toBeCloseTo(xv, 5));
      });
      expect(fused.iterations).toBe(25);
    },
  );

  it('round-trips its state and rejects mismatched state', () => {
    const v = tf.variable(tf.ones([5]));
    const opt = new FusedAdam([v], { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    opt.applyGradients({ [v.name]: tf.ones([5]) });
    const state = opt.getState();
    const other = new FusedAdam([v], { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    other.setState(state);
    expect(other.getState()).toEqual(state);
    expect(() => other.setState({ iterations: 1, m: [0], v: [0] })).toThrow(/1 moments for 5 parameters/);
  });

  it('validates its settings', () => {
    const v = tf.variable(tf.ones([1]));
    const ok = { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
    expect(() => new FusedAdam([], ok)).toThrow(/no variables/);
    expect(() => new FusedAdam([v], { ...ok, learningRate: 0 })).toThrow(/learningRate must be > 0/);
    expect(() => new FusedAdam([v], { ...ok, beta1: 1 })).toThrow(/beta1 must be in \[0, 1\)/);
    expect(() => new FusedAdam([v], { ...ok, epsilon: -1 })).toThrow(/epsilon must be > 0/);
  });

  it('leaves no tensor behind once disposed, and changes its learning rate on request', () => {
    const v = tf.variable(tf.ones([3]));
    const before = tf.memory().numTensors;
    const adam = new FusedAdam([v], { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    adam.setLearningRate(0.5);
    expect(adam.options.learningRate).toBe(0.5);
    expect(() => adam.setLearningRate(0)).toThrow(/learningRate must be > 0/);
    adam.applyGradients({ [v.name]: tf.ones([3]) });
    // the first Adam step moves each weight by the learning rate
    expect(Array.from(v.dataSync()).every((x) => Math.abs(x - 0.5) < 1e-5)).toBe(true);
    adam.dispose();
    expect(tf.memory().numTensors).toBe(before + 1); // the gradient passed in
    v.dispose();
  });
});
