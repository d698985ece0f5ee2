import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerConvGradient } from '../backend/conv-gradient.js';
import { registerWasmTrainingKernels } from '../backend/wasm-kernels.js';
import { generateScenes } from '../data/synthetic/scenes.js';
import { sharedTrunkModel } from '../models/sharing.js';
import { outputUnits } from '../models/output-units.js';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import { memorySceneSource } from '../scenes/data.js';
import { buildSceneModel, type SceneTask } from '../scenes/model.js';
import { createSceneWeighting, trainSceneModel } from '../scenes/train.js';
import { classificationTask } from '../tasks/classification.js';
import { regressionTask } from '../tasks/regression.js';
import { createWeighting } from '../weighting/registry.js';
import type { History } from './history.js';
import type { TrainingCheckpoint } from './options.js';
import { Trainer } from './trainer.js';

beforeAll(async () => {
  registerWasmTrainingKernels();
  registerConvGradient();
  await tf.setBackend('wasm');
});

const N = 120;
function data() {
  const rs = new NumpyRandomState(4);
  const x = Float32Array.from(rs.randn(N * 3));
  const y = new Float32Array(N);
  const c = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    y[i] = 2 * x[3 * i]! - x[3 * i + 1]! + 0.5 * rs.standardNormal();
    c[i] = x[3 * i]! + x[3 * i + 2]! > 0 ? 1 : 0;
  }
  return { x: tf.tensor2d(x, [N, 3]), targets: [tf.tensor2d(y, [N, 1]), tf.tensor1d(c, 'int32')] };
}

function setup(strategy: string) {
  const tasks = [regressionTask({ name: 'y' }), classificationTask({ name: 'c', numClasses: 2 })];
  const model = sharedTrunkModel({ inputDim: 3, outputs: tasks.map(outputUnits), trunk: [12], seed: 5 });
  const weighting = createWeighting(
    strategy as 'uncertainty',
    tasks,
    strategy === 'uncertainty' ? { learningRate: 0.05 } : {},
  );
  const trainer = new Trainer({ model, tasks, weighting, optimizer: { learningRate: 0.02 } });
  return { model, weighting, trainer };
}

const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
/** The history without wall times. */
const timeless = (h: History) => ({ ...h, epochs: h.epochs.map(({ seconds: _s, ...e }) => e) });

describe('checkpoints and exact resume', () => {
  it.each(['uncertainty', 'dwa', 'rlw'])(
    'fit (%s): resuming from an epoch checkpoint gives the uninterrupted run bit for bit',
    async (strategy) => {
      const d = data();
      const options = {
        epochs: 7,
        batchSize: 16,
        seed: 3,
        validationSplit: 0.25,
        earlyStopping: { patience: 50 },
      };
      const whole = setup(strategy);
      const saved: TrainingCheckpoint[] = [];
      const full = await whole.trainer.fit(d, {
        ...options,
        checkpoint: { every: 2, save: (cp) => void saved.push(structuredClone(cp)) },
      });
      expect(saved.map((cp) => cp.epoch)).toEqual([2, 4, 6]);

      const resumed = setup(strategy);
      const before = tf.memory().numTensors;
      const rest = await resumed.trainer.fit(d, { ...options, resumeFrom: saved[1]! });
      expect(tf.memory().numTensors).toBe(before);
      expect(weightsOf(resumed.model)).toEqual(weightsOf(whole.model));
      expect(resumed.weighting.getState()).toEqual(whole.weighting.getState());
      expect(timeless(rest)).toEqual(timeless(full));
      expect(resumed.trainer.steps).toBe(whole.trainer.steps);
    },
  );

  it('scene training (wasm, augmented stream): resuming from a step checkpoint gives the same weights and log', async () => {
    const scenes = generateScenes(12, 3, { height: 32, width: 64 });
    const tasks: SceneTask[] = ['semantic', 'instance', 'depth'];
    const small = { encoderChannels: [8, 8, 8] as const, asppChannels: 8, decoderChannels: 8 };
    const run = async (more: {
      checkpoint?: (cp: TrainingCheckpoint) => void;
      resumeFrom?: TrainingCheckpoint;
    }) => {
      const model = buildSceneModel({ height: 32, width: 64, numClasses: 7, tasks, seed: 1, ...small });
      const w = createSceneWeighting(tasks, { kind: 'uncertainty' }, 0.02);
      const log = await trainSceneModel(model, tasks, memorySceneSource(scenes), w, {
        steps: 9,
        batchSize: 4,
        logEvery: 2,
        seed: 2,
        augment: {},
        prefetch: 2,
        ...(more.checkpoint ? { checkpoint: { save: more.checkpoint } } : {}),
        ...(more.resumeFrom ? { resumeFrom: more.resumeFrom } : {}),
      });
      const result = { log, weights: weightsOf(model), s: w.getState() };
      w.dispose();
      model.dispose();
      return result;
    };
    const saved: TrainingCheckpoint[] = [];
    const whole = await run({ checkpoint: (cp) => void saved.push(structuredClone(cp)) });
    expect(saved.map((cp) => cp.steps)).toEqual([2, 4, 6, 8, 9]);
    const resumed = await run({ resumeFrom: saved[1]! });
    expect(resumed.weights).toEqual(whole.weights);
    expect(resumed.log).toEqual(whole.log);
    expect(resumed.s).toEqual(whole.s);
  }, 60_000);

  it('refuses a checkpoint of another model or strategy', async () => {
    const a = setup('uncertainty');
    const saved: TrainingCheckpoint[] = [];
    await a.trainer.fit(data(), { epochs: 1, checkpoint: { save: (cp) => void saved.push(cp) } });
    const b = setup('dwa');
    await expect(b.trainer.fit(data(), { epochs: 2, resumeFrom: saved[0]! })).rejects.toThrow(
      /checkpoint: strategy 'uncertainty', not 'dwa'/,
    );
    const tasks = [regressionTask({ name: 'y' }), classificationTask({ name: 'c', numClasses: 2 })];
    const other = new Trainer({
      model: sharedTrunkModel({ inputDim: 3, outputs: tasks.map(outputUnits), trunk: [7], seed: 5 }),
      tasks,
      weighting: createWeighting('uncertainty', tasks),
    });
    await expect(other.fit(data(), { epochs: 2, resumeFrom: saved[0]! })).rejects.toThrow(
      /checkpoint: weight 0 \('[^']+'\) is \[3, 12\], the model's '[^']+' \[3, 7\]/,
    );
  });
});
