import * as tf from '@tensorflow/tfjs';
import { savedArtifacts } from '../../test/model-artifacts.js';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../backend/wasm-kernels.js';
import { expectClose, randn } from '../../test/backend-compare.js';
import { batchNormTraining, FastBatchNorm } from './batch-norm.js';

async function values(ts: tf.Tensor[]): Promise<Float32Array[]> {
  const out = await Promise.all(ts.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(ts);
  return out;
}

/** y = (x − μ)/√(σ² + ε)·γ + β over every axis but the last, from plain ops (autodiff through μ, σ²). */
function plainBatchNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), gamma), beta);
}

function fastBatchNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  return batchNormTraining(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, mean, variance, epsilon);
}

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('cpu');
});

describe('batchNormTraining', () => {
  const shapes: number[][] = [
    [6, 4],
    [2, 5, 7, 3],
    [3, 4, 4, 8],
    [1, 3, 5, 2],
    [17, 1],
  ];
  const epsilon = 1e-3;

  for (const backend of ['cpu', 'wasm'] as const) {
    for (const shape of shapes) {
      const c = shape.at(-1)!;
      it(`forward and gradients equal plain-op autodiff, x[${shape.join(',')}] (${backend})`, async () => {
        await tf.setBackend(backend);
        const before = tf.memory().numTensors;
        const outs = tf.tidy(() => {
          // Off-centre, scaled inputs, so μ and σ² matter.
          const x = randn(shape, 1, 0.7, 2.5);
          const gamma = randn([c], 2, 1, 0.5);
          const beta = randn([c], 3);
          const r = randn(shape, 4);
          const loss =
            (bn: typeof plainBatchNorm) =>
            (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar =>
              tf.sum(tf.mul(bn(xx, g, b, epsilon), r));
          const { mean, variance } = tf.moments(
            x,
            shape.slice(0, -1).map((_, i) => i),
          );
          const formula = tf.add(
            tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), gamma),
            beta,
          );
          return [
            fastBatchNorm(x, gamma, beta, epsilon),
            formula,
            ...tf.grads(loss(fastBatchNorm))([x, gamma, beta]),
            ...tf.grads(loss(plainBatchNorm))([x, gamma, beta]),
          ];
        });
        const [y, yRef, dx, dg, db, dxRef, dgRef, dbRef] = await values(outs);
        expect(tf.memory().numTensors).toBe(before);
        expectClose('forward', [y!], [yRef!], 1e-5);
        expectClose('dx', [dx!], [dxRef!], 1e-4);
        expectClose('dγ', [dg!], [dgRef!], 1e-4);
        expectClose('dβ', [db!], [dbRef!], 1e-4);
      });
    }
  }

  it('normalizes each channel to mean β and std γ (up to ε)', () => {
    const [m, v] = tf.tidy(() => {
      const x = randn([4, 6, 6, 3], 5, -2, 3);
      const gamma = tf.tensor1d([1, 2, 0.5]);
      const beta = tf.tensor1d([0, -1, 3]);
      const y = fastBatchNorm(x, gamma, beta, 1e-8);
      const { mean, variance } = tf.moments(y, [0, 1, 2]);
      return [mean.arraySync() as number[], variance.arraySync() as number[]];
    });
    expect(m[0]).toBeCloseTo(0, 4);
    expect(m[1]).toBeCloseTo(-1, 4);
    expect(m[2]).toBeCloseTo(3, 4);
    expect(v[0]).toBeCloseTo(1, 3);
    expect(v[1]).toBeCloseTo(4, 3);
    expect(v[2]).toBeCloseTo(0.25, 3);
  });
});

describe('FastBatchNorm', () => {
  it('rejects bad momentum and epsilon', () => {
    expect(() => new FastBatchNorm({ momentum: 1 })).toThrow(/momentum/);
    expect(() => new FastBatchNorm({ momentum: -0.1 })).toThrow(/momentum/);
    expect(() => new FastBatchNorm({ momentum: NaN })).toThrow(/momentum/);
    expect(() => new FastBatchNorm({ epsilon: 0 })).toThrow(/epsilon/);
    const bn = new FastBatchNorm();
    expect(bn.momentum).toBe(0.9);
    expect(bn.epsilon).toBe(1e-5);
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`training calls update the moving statistics by momentum; inference uses them (${backend})`, async () => {
      await tf.setBackend(backend);
      const momentum = 0.75;
      const epsilon = 1e-3;
      const bn = new FastBatchNorm({ momentum, epsilon });
      const shape = [3, 4, 5, 2];
      const n = 3 * 4 * 5;
      const xs = [randn(shape, 11, 1, 2), randn(shape, 12, -3, 0.5)];
      bn.build(shape);
      const gamma = tf.tensor1d([1.5, -0.5]);
      const beta = tf.tensor1d([0.25, 2]);
      const [, , mm0, mv0] = bn.getWeights();
      bn.setWeights([gamma, beta, mm0!, mv0!]);
      expect(bn.getWeights().map((w) => w.shape)).toEqual([[2], [2], [2], [2]]);
      expect(bn.trainableWeights.map((w) => w.originalName)).toEqual([
        expect.stringMatching(/gamma$/),
        expect.stringMatching(/beta$/),
      ]);
      expect(bn.nonTrainableWeights).toHaveLength(2);

      let wantMean = [0, 0];
      let wantVar = [1, 1];
      for (const x of xs) {
        const before = tf.memory().numTensors;
        const y = tf.tidy(() => bn.apply(x, { training: true }) as tf.Tensor);
        expect(tf.memory().numTensors).toBe(before + 1);
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        const batchMean = Array.from(await mean.data());
        const batchVar = Array.from(await variance.data());
        const yRef = tf.tidy(() =>
          tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), gamma), beta),
        );
        expectClose('training output uses batch stats', [await y.data()], [await yRef.data()], 1e-5);
        wantMean = wantMean.map((m, c) => momentum * m + (1 - momentum) * batchMean[c]!);
        wantVar = wantVar.map((v, c) => momentum * v + (1 - momentum) * batchVar[c]! * (n / (n - 1)));
        const [, , mm, mv] = bn.getWeights();
        expectClose('moving mean', [await mm!.data()], [wantMean], 1e-5);
        expectClose('moving variance (unbiased)', [await mv!.data()], [wantVar], 1e-5);
        tf.dispose([y, yRef, mean, variance]);
      }

      // Inference (no kwargs, and training: false) uses the moving statistics and changes nothing.
      const x = randn(shape, 13, 0.5, 1.5);
      const want = tf.tidy(() =>
        tf.add(
          tf.mul(
            tf.div(tf.sub(x, tf.tensor1d(wantMean)), tf.sqrt(tf.add(tf.tensor1d(wantVar), epsilon))),
            gamma,
          ),
          beta,
        ),
      );
      for (const kwargs of [{}, { training: false }]) {
        const before = tf.memory().numTensors;
        const y = bn.apply(x, kwargs) as tf.Tensor;
        expect(tf.memory().numTensors).toBe(before + 1);
        expectClose('inference output', [await y.data()], [await want.data()], 1e-5);
        y.dispose();
      }
      const [, , mm, mv] = bn.getWeights();
      expectClose('unchanged by inference', [await mm!.data(), await mv!.data()], [wantMean, wantVar], 1e-5);
      tf.dispose([...xs, x, want, gamma, beta]);
      for (const w of bn.weights) w.dispose();
    });
  }

  it("rejects an unknown activation; 'relu' is the linear output's ReLU, fused or not", async () => {
    expect(() => new FastBatchNorm({ activation: 'tanh' as never })).toThrow(/activation/);
    expect(new FastBatchNorm().activation).toBe('linear');
    for (const [backend, channels] of [
      ['cpu', 8],
      ['wasm', 8], // the fused SIMD kernel
      ['wasm', 6], // the op path
    ] as const) {
      await tf.setBackend(backend);
      const shape = [2, 3, 4, channels];
      const x = randn(shape, 31, 0.3, 1.2);
      const r = randn(shape, 32);
      const linear = new FastBatchNorm({ momentum: 0.5 });
      const relu = new FastBatchNorm({ momentum: 0.5, activation: 'relu' });
      linear.build(shape);
      relu.build(shape);
      const before = tf.memory().numTensors;
      const outs = tf.tidy(() => {
        const f = (bn: FastBatchNorm) => (xx: tf.Tensor) =>
          tf.sum(tf.mul(bn.apply(xx, { training: true }) as tf.Tensor, r));
        const yLinear = linear.apply(x, { training: true }) as tf.Tensor;
        return [
          relu.apply(x, { training: true }) as tf.Tensor,
          tf.relu(yLinear),
          tf.grad(f(relu))(x),
          tf.grad((xx: tf.Tensor) =>
            tf.sum(tf.mul(tf.relu(linear.apply(xx, { training: true }) as tf.Tensor), r)),
          )(x),
          relu.apply(x) as tf.Tensor,
          tf.relu(linear.apply(x) as tf.Tensor),
        ];
      });
      const v = await Promise.all(outs.map((t) => t.data()));
      tf.dispose(outs);
      expect(tf.memory().numTensors).toBe(before);
      expectClose(`training output (${backend}, C=${channels})`, [v[0]!], [v[1]!], 1e-5);
      expectClose(`gradient (${backend}, C=${channels})`, [v[2]!], [v[3]!], 1e-4);
      expectClose(`inference output (${backend}, C=${channels})`, [v[4]!], [v[5]!], 1e-5);
      expect(Array.from(v[0]!).some((a) => a === 0) && Array.from(v[0]!).some((a) => a > 0)).toBe(true);
      tf.dispose([x, r]);
      for (const w of [...linear.weights, ...relu.weights]) w.dispose();
    }
    await tf.setBackend('cpu');
  });

  it('keeps the biased variance when the batch has a single position per channel', async () => {
    await tf.setBackend('cpu');
    const bn = new FastBatchNorm({ momentum: 0.5 });
    const x = tf.tensor4d([[[[3, -2]]]]);
    const y = bn.apply(x, { training: true }) as tf.Tensor;
    expect(Array.from(await y.data())).toEqual([0, 0]);
    const [, , mm, mv] = bn.getWeights();
    expect(Array.from(await mm!.data())).toEqual([1.5, -1]);
    expect(Array.from(await mv!.data())).toEqual([0.5, 0.5]);
    tf.dispose([x, y]);
    for (const w of bn.weights) w.dispose();
  });

  it('round-trips getConfig / fromConfig through tf.serialization', () => {
    const bn = new FastBatchNorm({
      momentum: 0.6,
      epsilon: 1e-4,
      name: 'bn_cfg',
      trainable: false,
      activation: 'relu',
    });
    const config = JSON.parse(JSON.stringify(bn.getConfig())) as tf.serialization.ConfigDict;
    expect(config).toMatchObject({
      momentum: 0.6,
      epsilon: 1e-4,
      name: 'bn_cfg',
      trainable: false,
      activation: 'relu',
    });
    const entry = tf.serialization.SerializationMap.getMap().classNameMap['FastBatchNorm'];
    expect(entry).toBeDefined();
    const [cls, fromConfig] = entry!;
    const copy = fromConfig(cls, config) as unknown as FastBatchNorm;
    expect(copy).toBeInstanceOf(FastBatchNorm);
    expect(copy.getClassName()).toBe('FastBatchNorm');
    expect(copy.momentum).toBe(0.6);
    expect(copy.epsilon).toBe(1e-4);
    expect(copy.name).toBe('bn_cfg');
    expect(copy.trainable).toBe(false);
    expect(copy.activation).toBe('relu');
    expect(copy.getConfig()).toEqual(config);
    // configs saved before the activation option load as linear
    const older = { ...config };
    delete older['activation'];
    expect((fromConfig(cls, older) as unknown as FastBatchNorm).activation).toBe('linear');
  });

  it('a model containing it saves, loads and gives identical inference outputs', async () => {
    await tf.setBackend('cpu');
    const input = tf.input({ shape: [5, 6, 3] });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false });
    const bn = new FastBatchNorm({ momentum: 0.5, epsilon: 1e-3, name: 'fast_bn' });
    const out = tf.layers.dense({ units: 2 }).apply(bn.apply(conv.apply(input))) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    const x = randn([4, 5, 6, 3], 21, 1, 2);
    const target = randn([4, 5, 6, 2], 22);
    // One training step: moves gamma/beta and the moving statistics off their initial values.
    const loss = await model.trainOnBatch(x, target);
    expect(Number.isFinite(loss as number)).toBe(true);
    const [gammaAfter, , mmAfter, mvAfter] = bn.getWeights();
    expect(Array.from(await mmAfter!.data()).some((v) => v !== 0)).toBe(true);
    expect(Array.from(await mvAfter!.data()).some((v) => v !== 1)).toBe(true);
    expect(Array.from(await gammaAfter!.data()).some((v) => v !== 1)).toBe(true);

    const saved = await savedArtifacts(model);
    expect(saved).toBeDefined();
    expect(JSON.stringify(saved.modelTopology)).toContain('FastBatchNorm');
    const names = saved.weightSpecs!.map((s) => s.name);
    for (const w of ['gamma', 'beta', 'moving_mean', 'moving_variance']) {
      expect(names).toContain(`fast_bn/${w}`);
    }

    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
    const loadedBn = loaded.getLayer('fast_bn');
    expect(loadedBn).toBeInstanceOf(FastBatchNorm);
    expect((loadedBn as FastBatchNorm).momentum).toBe(0.5);
    expect((loadedBn as FastBatchNorm).epsilon).toBe(1e-3);
    const want = await Promise.all(bn.getWeights().map((w) => w.data()));
    const got = await Promise.all(loadedBn.getWeights().map((w) => w.data()));
    expect(got.map((a) => Array.from(a))).toEqual(want.map((a) => Array.from(a)));

    const probe = randn([3, 5, 6, 3], 23, -1, 1.5);
    const a = model.predict(probe) as tf.Tensor;
    const b = loaded.predict(probe) as tf.Tensor;
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    // Inference uses moving statistics: the output does not depend on the rest of the batch.
    const single = model.predict(tf.slice(probe, [0, 0, 0, 0], [1, 5, 6, 3])) as tf.Tensor;
    expectClose('per-example inference', [await single.data()], [await tf.slice(a, [0], [1]).data()], 1e-6);
    tf.dispose([x, target, probe, a, b, single]);
    model.dispose();
    loaded.dispose();
  });
});
