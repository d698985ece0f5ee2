import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerConvGradient } from '../backend/conv-gradient.js';
import { registerWasmTrainingKernels } from '../backend/wasm-kernels.js';
import { generateScenes, SCENE_CLASSES } from '../data/synthetic/scenes.js';
import { evaluateSceneModel } from './evaluate.js';
import { buildSceneModel, type SceneTask } from './model.js';
import { createSceneWeighting, trainSceneModel } from './train.js';

const C = SCENE_CLASSES.length;
const ALL: SceneTask[] = ['semantic', 'instance', 'depth'];
const data = generateScenes(24, 11, { height: 32, width: 64 });
const small = { encoderChannels: [8, 16, 16] as const, asppChannels: 8, decoderChannels: 8 };
const model = (tasks: SceneTask[], seed = 0) =>
  buildSceneModel({ height: 32, width: 64, numClasses: C, tasks, seed, ...small });

beforeAll(async () => {
  registerWasmTrainingKernels();
  registerConvGradient();
  await tf.setBackend('wasm');
});

describe('trainSceneModel', () => {
  it('lowers every task loss, learns the log-variances and leaves no tensors behind', async () => {
    const m = model(ALL);
    const w = createSceneWeighting(ALL, { kind: 'uncertainty' }, 0.05);
    const before = tf.memory().numTensors;
    const log = await trainSceneModel(m, ALL, data, w, {
      steps: 60,
      batchSize: 4,
      logEvery: 10,
      learningRate: 5e-3,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(log.map((e) => e.step)).toEqual([10, 20, 30, 40, 50, 60]);
    const first = log[0]!;
    const last = log.at(-1)!;
    last.losses.forEach((l, i) => expect(l, ALL[i]).toBeLessThan(first.losses[i]!));
    // learned σ² move towards the losses: the small depth loss gets a small variance
    expect(last.logVariances![2]!).toBeLessThan(-0.5);
    expect(last.learningRate).toBeLessThan(first.learningRate);
    // a second run on the same model leaves no tensors either
    const again = tf.memory().numTensors;
    await trainSceneModel(m, ALL, data, w, { steps: 3, batchSize: 4 });
    expect(tf.memory().numTensors).toBe(again);
    w.dispose();
    m.dispose();
  }, 60_000);

  it('keeps fixed weights and stops when aborted', async () => {
    const tasks: SceneTask[] = ['semantic', 'depth'];
    const m = model(tasks);
    const w = createSceneWeighting(tasks, { kind: 'fixed', weights: [0.25, 0.75] }, 0.01);
    const controller = new AbortController();
    const log = await trainSceneModel(
      m,
      tasks,
      data,
      w,
      { steps: 50, batchSize: 4, logEvery: 2 },
      (e) => {
        if (e.step === 4) controller.abort();
      },
      controller.signal,
    );
    expect(log.at(-1)!.step).toBe(4);
    expect(
      log.every((e) => e.weights[0] === 0.25 && e.weights[1] === 0.75 && e.logVariances === undefined),
    ).toBe(true);
    m.dispose();
  }, 30_000);

  it('rejects bad options with the option name', async () => {
    const m = model(['depth']);
    const w = createSceneWeighting(['depth'], { kind: 'fixed', weights: [1] }, 0.01);
    await expect(trainSceneModel(m, ['depth'], data, w, { steps: 0 })).rejects.toThrow(/steps/);
    await expect(trainSceneModel(m, ['depth'], data, w, { steps: 1, batchSize: 1 })).rejects.toThrow(
      /batchSize/,
    );
    await expect(trainSceneModel(m, ['depth'], data, w, { steps: 1, batchSize: 99 })).rejects.toThrow(
      /exceeds the 24/,
    );
    m.dispose();
  });
});

describe('evaluateSceneModel', () => {
  it("reports Table 1's metrics for the heads a model has", async () => {
    const m = model(ALL, 3);
    const w = createSceneWeighting(ALL, { kind: 'uncertainty' }, 0.05);
    await trainSceneModel(m, ALL, data, w, { steps: 20, batchSize: 4, learningRate: 5e-3 });
    const test = generateScenes(6, 12, { height: 32, width: 64 });
    const metrics = await evaluateSceneModel(m, ALL, test, { batchSize: 4 });
    expect(metrics.semantic!.meanIoU).toBeGreaterThan(0);
    expect(metrics.semantic!.meanIoU).toBeLessThanOrEqual(1);
    expect(metrics.semantic!.classIoU).toHaveLength(C);
    expect(metrics.instance!.vectorError).toBeGreaterThan(0);
    expect(metrics.instance!.ap50).toBeGreaterThanOrEqual(0);
    expect(metrics.instance!.predictedThings).toBe(true);
    expect(metrics.depth!.meanAbsError).toBeGreaterThan(0);
    expect(metrics.depth!.rmse).toBeGreaterThanOrEqual(metrics.depth!.meanAbsError);
    w.dispose();
    m.dispose();

    const inst = model(['instance']);
    const only = await evaluateSceneModel(inst, ['instance'], test);
    expect(only.semantic).toBeUndefined();
    expect(only.depth).toBeUndefined();
    expect(only.instance!.predictedThings).toBe(false);
    inst.dispose();
  }, 60_000);
});
