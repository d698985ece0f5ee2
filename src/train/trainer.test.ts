import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sharedTrunkModel } from '../models/sharing.js';
import { towersModel } from '../models/towers.js';
import { outputUnits } from '../models/output-units.js';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import { classificationTask } from '../tasks/classification.js';
import { regressionTask } from '../tasks/regression.js';
import { equalWeighting } from '../weighting/equal.js';
import { uncertaintyWeighting } from '../weighting/uncertainty.js';
import type { GradientWeightingStrategy } from '../weighting/strategy.js';
import { mgdaUbWeighting } from '../weighting/mgda-ub.js';
import type { TaskSpec } from '../tasks/task.js';
import { Trainer, TrainingDataError, type TrainingData } from './trainer.js';

/** x ∈ R³; a regression target (noise 0.5) and a 3-class label, both functions of x. */
function mixedData(n: number, seed = 1) {
  const rs = new NumpyRandomState(seed);
  const x = rs.randn(n * 3);
  const y = new Float32Array(n);
  const c = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const [a, b, d] = [x[3 * i]!, x[3 * i + 1]!, x[3 * i + 2]!];
    y[i] = 2 * a - b + 0.5 * rs.standardNormal();
    c[i] = a + d > 0.5 ? 2 : a + d > -0.5 ? 1 : 0;
  }
  return {
    x: tf.tensor2d(Float32Array.from(x), [n, 3]),
    targets: [tf.tensor2d(y, [n, 1]), tf.tensor1d(c, 'int32')],
  } satisfies TrainingData;
}

function setup(opts: { weightDecay?: number; learningRate?: number; trainableS?: boolean } = {}) {
  const tasks = [regressionTask({ name: 'y' }), classificationTask({ name: 'c', numClasses: 3 })];
  const model = sharedTrunkModel({ inputDim: 3, outputs: tasks.map(outputUnits), trunk: [16], seed: 3 });
  const weighting = uncertaintyWeighting(tasks, {
    ...(opts.learningRate !== undefined ? { learningRate: opts.learningRate } : {}),
    ...(opts.trainableS !== undefined ? { trainable: opts.trainableS } : {}),
  });
  const trainer = new Trainer({
    model,
    tasks,
    weighting,
    optimizer: { learningRate: 0.01 },
    ...(opts.weightDecay !== undefined ? { weightDecay: opts.weightDecay } : {}),
  });
  return { tasks, model, weighting, trainer };
}

describe('Trainer', () => {
  it('learns a regression and a classification task with any LayersModel', async () => {
    const data = mixedData(400);
    // σ's own learning rate 0.05 lets it settle within the 40 epochs (at the default it is still falling)
    const { trainer, weighting } = setup({ learningRate: 0.05 });
    const history = await trainer.fit(data, { epochs: 40, batchSize: 32, validationSplit: 0.25, seed: 2 });
    const last = history.epochs.at(-1)!;
    // over 8 data/model/shuffle seeds: accuracy 0.95–1.00, validation RMSE 0.49–0.59 (noise floor 0.5)
    expect(last.metrics?.validation?.['c']?.['accuracy']).toBeGreaterThan(0.93);
    expect(last.metrics?.validation?.['y']?.['rmse']).toBeLessThan(0.65);
    // σ of the regression goes from 1 to the noise level 0.5 — over the 8 seeds 0.48–0.54 — and to the
    // maximum-likelihood σ, the training RMSE (within 0.03 over the seeds). A σ left at 1, σ² reported as σ
    // (0.25) or a Gaussian regulariser of s instead of ½s (σ → RMSE/√2 ≈ 0.35) all fail.
    const sigma = weighting.sigmas()[0]!;
    expect(sigma).toBeGreaterThan(0.45);
    expect(sigma).toBeLessThan(0.56);
    expect(Math.abs(sigma - last.metrics!.train['y']!['rmse']!)).toBeLessThan(0.04);
    expect(trainer.steps).toBe(40 * Math.ceil(300 / 32));
  });

  it('does not grow the number of tensors across epochs', async () => {
    const data = mixedData(100);
    const { trainer } = setup();
    await trainer.fit(data, { epochs: 2, batchSize: 16, validationSplit: 0.2 });
    const before = tf.memory().numTensors;
    await trainer.fit(data, { epochs: 4, batchSize: 16, validationSplit: 0.2, onStep: () => {} });
    expect(tf.memory().numTensors).toBe(before);
    trainer.evaluate(data);
    trainer.predict(data.x, 33).forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reports every step and every epoch', async () => {
    const data = mixedData(50);
    const { trainer } = setup();
    const steps: number[] = [];
    const epochs: number[] = [];
    const history = await trainer.fit(data, {
      epochs: 3,
      batchSize: 20,
      onStep: (e) => {
        steps.push(e.step);
        expect(Object.keys(e.taskLosses)).toEqual(['y', 'c']);
        expect(e.sigmas?.['y']).toBeGreaterThan(0);
      },
      onEpochEnd: (e) => {
        epochs.push(e.epoch);
      },
    });
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epochs).toEqual([1, 2, 3]);
    expect(history.epochs[2]!.steps).toBe(9);
    expect(history.epochs[0]!.logVariances?.['c']).toBeTypeOf('number');
    expect(history.epochs[0]!.weights['y']).toBeGreaterThan(0);
  });

  it('is deterministic for a seed', async () => {
    const run = async () => {
      const { trainer } = setup();
      const h = await trainer.fit(mixedData(60), { epochs: 3, batchSize: 8, seed: 5 });
      return h.epochs.map((e) => e.loss);
    };
    expect(await run()).toEqual(await run());
  });

  it('ignores masked labels', () => {
    const { trainer } = setup();
    const data = mixedData(40);
    // corrupt the first 10 regression targets and mask them out
    const y = data.targets[0]!.arraySync() as number[][];
    for (let i = 0; i < 10; i++) y[i]![0] = 1e4;
    const mask = tf.tensor1d(Array.from({ length: 40 }, (_, i) => (i < 10 ? 0 : 1)));
    const masked = trainer.evaluate({
      x: data.x,
      targets: [tf.tensor2d(y), data.targets[1]!],
      masks: [mask, undefined],
    });
    const subset = trainer.evaluate({
      x: data.x.slice([10, 0], [30, 3]),
      targets: [data.targets[0]!.slice([10, 0], [30, 1]), data.targets[1]!.slice([10], [30])],
    });
    expect(masked.taskLosses['y']).toBeCloseTo(subset.taskLosses['y']!, 4);
    expect(masked.metrics['y']!['rmse']).toBeCloseTo(subset.metrics['y']!['rmse']!, 4);
  });

  it('treats an empty or all-ones mask list as every label present', async () => {
    // masks[t] undefined (as in `masks: []`) means all labelled: the same training as no masks at all
    const run = async (masks?: (tf.Tensor | undefined)[]) => {
      const { trainer, weighting } = setup();
      const h = await trainer.fit(
        { ...mixedData(48), ...(masks ? { masks } : {}) },
        { epochs: 2, batchSize: 16, seed: 5, metricsEvery: 0 },
      );
      return [...h.epochs.map((e) => e.loss), ...weighting.logVariances()];
    };
    const plain = await run();
    expect(await run([])).toEqual(plain);
    const ones = await run([tf.ones([48]), undefined]);
    ones.forEach((v, i) => expect(v).toBeCloseTo(plain[i]!, 5));
    // and a mask does act: leaving out half the regression labels changes the run
    const half = await run([tf.tensor1d(Array.from({ length: 48 }, (_, i) => i % 2)), undefined]);
    expect(half[0]).not.toBeCloseTo(plain[0]!, 3);
  });

  it('stops early and restores the best weights', async () => {
    const { trainer } = setup();
    const data = mixedData(80);
    const history = await trainer.fit(data, {
      epochs: 500,
      batchSize: 80,
      validationSplit: 0.5,
      metricsEvery: 0,
      earlyStopping: { patience: 3, minDelta: 1e9 },
    });
    // with an impossible minDelta nothing after epoch 1 counts as better
    expect(history.stoppedEarly?.bestEpoch).toBe(1);
    expect(history.epochs).toHaveLength(4);
  });

  it('keeps weight decay off the log-variances and gives them their own optimiser', async () => {
    const { trainer, weighting, model } = setup({ weightDecay: 5, trainableS: false });
    const norm = () =>
      tf.tidy(() => tf.addN(model.trainableWeights.map((w) => tf.sum(tf.square(w.read())))).dataSync()[0]!);
    const before = norm();
    await trainer.fit(mixedData(40), { epochs: 3, batchSize: 40, metricsEvery: 0 });
    expect(weighting.logVariances()).toEqual([0, 0]);
    expect(norm()).toBeLessThan(before);
    const own = setup({ learningRate: 0.5 });
    await own.trainer.fit(mixedData(40), { epochs: 1, batchSize: 40, metricsEvery: 0 });
    // Adam's first step moves each parameter by about its learning rate
    expect(Math.abs(own.weighting.logVariances()[0]!)).toBeGreaterThan(0.3);
  });

  it('trains the seed towers on equal weighting too', async () => {
    const tasks = [regressionTask({ name: 'a' }), regressionTask({ name: 'b', likelihood: 'laplace' })];
    const model = towersModel({ inputDim: 1, outputs: [1, 1], hidden: [8] });
    const trainer = new Trainer({ model, tasks, weighting: equalWeighting(tasks) });
    const x = tf.linspace(-1, 1, 32).reshape([32, 1]);
    const h = await trainer.fit({ x, targets: [tf.mul(x, 2), tf.neg(x)] }, { epochs: 2, batchSize: 8 });
    expect(h.epochs[1]!.weights).toEqual({ a: 1, b: 1 });
    expect(h.epochs[1]!.sigmas).toBeUndefined();
  });

  it('names inconsistent data and settings', async () => {
    const { trainer } = setup();
    const data = mixedData(20);
    await expect(trainer.fit({ x: data.x, targets: [data.targets[0]!] }, { epochs: 1 })).rejects.toThrow(
      /targets has 1 entries for 2 tasks/,
    );
    await expect(
      trainer.fit(
        { x: data.x, targets: [data.targets[0]!.slice([0, 0], [10, 1]), data.targets[1]!] },
        { epochs: 1 },
      ),
    ).rejects.toThrow(TrainingDataError);
    await expect(trainer.fit(data, { epochs: 0 })).rejects.toThrow(/epochs must be a positive integer/);
    await expect(trainer.fit(data, { epochs: 1, validationSplit: 1 })).rejects.toThrow(
      /validationSplit must be in \[0, 1\)/,
    );
    await expect(trainer.fit(data, { epochs: 1, earlyStopping: { patience: 2 } })).rejects.toThrow(
      /earlyStopping needs/,
    );
    const tasks = [regressionTask({ name: 'a' })];
    expect(
      () =>
        new Trainer({
          model: towersModel({ inputDim: 1, outputs: [1, 1] }),
          tasks,
          weighting: equalWeighting(tasks),
        }),
    ).toThrow(/2 outputs but there are 1 tasks/);
  });

  it('reports divergence instead of training a NaN model', async () => {
    const tasks = [regressionTask({ name: 'a' })];
    const model = towersModel({ inputDim: 1, outputs: [1], hidden: [4] });
    const trainer = new Trainer({ model, tasks, weighting: equalWeighting(tasks) });
    const x = tf.ones([4, 1]);
    await expect(
      trainer.fit({ x, targets: [tf.tensor2d([[1], [NaN], [2], [3]])] }, { epochs: 1 }),
    ).rejects.toThrow(/training diverged: the loss of task 'a' became NaN at step 1 \(epoch 1\)/);
  });
});

describe('Trainer with a gradient-level strategy', () => {
  /** Sums the per-task gradients: the same update as the plain sum of losses, through the gradient path. */
  function sumOfGradients(tasks: readonly TaskSpec[]) {
    const seen: number[] = [];
    const strategy: GradientWeightingStrategy = {
      name: 'sum-of-gradients',
      level: 'gradient',
      tasks,
      variables: [],
      combine: (losses) => tf.addN([...losses]),
      weights: () => tasks.map(() => 1),
      aggregate: (g) => {
        seen.push(g.shared.length, g.lastShared[0]!.size, g.representation?.[1]?.size ?? -1);
        return { shared: tf.addN([...g.shared]), taskWeights: tasks.map(() => 1) };
      },
      getState: () => ({ strategy: 'sum-of-gradients' }),
      setState: () => {},
      dispose: () => {},
    };
    return { strategy, seen };
  }

  it('descends the aggregate on the shared trunk and each task gradient on its head', async () => {
    const data = mixedData(64);
    const run = async (gradientLevel: boolean) => {
      const tasks = [regressionTask({ name: 'y' }), classificationTask({ name: 'c', numClasses: 3 })];
      const model = sharedTrunkModel({
        inputDim: 3,
        outputs: tasks.map(outputUnits),
        trunk: [8, 6],
        seed: 4,
      });
      const sum = sumOfGradients(tasks);
      const trainer = new Trainer({
        model,
        tasks,
        weighting: gradientLevel ? sum.strategy : equalWeighting(tasks),
        optimizer: { learningRate: 0.01 },
      });
      const h = await trainer.fit(data, { epochs: 2, batchSize: 16, seed: 3, metricsEvery: 0 });
      const weights = model.trainableWeights.map((w) => Array.from(w.read().dataSync()));
      return { h, weights, seen: sum.seen };
    };
    const lossLevel = await run(false);
    const gradLevel = await run(true);
    // 2 tasks; the last shared layer is trunk_1 (6×8 kernel + 6 bias); Z is its output, 16 rows × 6
    expect(gradLevel.seen.slice(0, 3)).toEqual([2, 8 * 6 + 6, 16 * 6]);
    gradLevel.weights.forEach((w, i) =>
      w.forEach((v, k) => expect(v).toBeCloseTo(lossLevel.weights[i]![k]!, 4)),
    );
    expect(gradLevel.h.epochs[1]!.loss).toBeCloseTo(lossLevel.h.epochs[1]!.loss, 4);
  });
});

describe('Trainer with MGDA-UB', () => {
  it('trains on representation gradients without growing the number of tensors', async () => {
    const tasks = [regressionTask({ name: 'y' }), classificationTask({ name: 'c', numClasses: 3 })];
    const model = sharedTrunkModel({ inputDim: 3, outputs: tasks.map(outputUnits), trunk: [8], seed: 4 });
    const weighting = mgdaUbWeighting(tasks);
    const trainer = new Trainer({ model, tasks, weighting, optimizer: { learningRate: 0.01 } });
    const data = mixedData(64);
    await trainer.fit(data, { epochs: 2, batchSize: 16, metricsEvery: 0 });
    const before = tf.memory().numTensors;
    const h = await trainer.fit(data, { epochs: 3, batchSize: 16, metricsEvery: 0 });
    expect(tf.memory().numTensors).toBe(before);
    expect(weighting.alphas().reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(h.epochs[2]!.loss).toBeLessThan(h.epochs[0]!.loss);
  });
});
