/**
 * The divergence policy: a NaN loss stops the run at the epoch it appears in, names the step and task,
 * and puts back the last good epoch's state; `skip` drops such steps and stops after 10 in a row; a loss
 * that explodes without NaN stops the run too. No tensors are left behind.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { outputUnits } from '../models/output-units.js';
import { sharedTrunkModel } from '../models/sharing.js';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import { classificationTask } from '../tasks/classification.js';
import { regressionTask } from '../tasks/regression.js';
import { uncertaintyWeighting } from '../weighting/uncertainty.js';
import { MAX_SKIPPED_IN_A_ROW, Trainer, TrainingDivergedError, type TrainingData } from './trainer.js';

/** 64 rows: x ∈ R², a regression target and a class; `poison` rows get a NaN regression target. */
function data(poison: number[] = []): TrainingData {
  const rs = new NumpyRandomState(4);
  const x = Float32Array.from(rs.randn(128));
  const y = new Float32Array(64);
  const c = new Int32Array(64);
  for (let i = 0; i < 64; i++) {
    y[i] = x[2 * i]! - x[2 * i + 1]!;
    c[i] = x[2 * i]! > 0 ? 1 : 0;
  }
  for (const i of poison) y[i] = NaN;
  return { x: tf.tensor2d(x, [64, 2]), targets: [tf.tensor2d(y, [64, 1]), tf.tensor1d(c, 'int32')] };
}

function setup(learningRate = 0.01) {
  const tasks = [regressionTask({ name: 'y' }), classificationTask({ name: 'c', numClasses: 2 })];
  const model = sharedTrunkModel({ inputDim: 2, outputs: tasks.map(outputUnits), trunk: [8], seed: 5 });
  const weighting = uncertaintyWeighting(tasks);
  const trainer = new Trainer({ model, tasks, weighting, optimizer: { learningRate } });
  const values = () => model.weights.map((w) => Array.from(w.read().dataSync()));
  const dispose = () => (trainer.dispose(), weighting.dispose(), model.dispose());
  return { trainer, weighting, values, dispose };
}

const free = (d: TrainingData) => tf.dispose([d.x, ...d.targets]);

describe('divergence policy', () => {
  it('stops at a NaN loss, names step and task, and puts back the last good epoch', async () => {
    // the same 4 batches of 16 rows each epoch; from epoch 3 on, row 40 (3rd batch) has a NaN target
    const before = tf.memory().numTensors;
    const clean = data();
    const ref = setup();
    await ref.trainer.fit(clean, { epochs: 2, batchSize: 16, shuffle: false });
    const afterTwo = ref.values();
    ref.dispose();

    const stream = setup();
    const batches = (d: TrainingData) =>
      [0, 16, 32, 48].map((s) => ({
        x: tf.slice(d.x, [s, 0], [16, 2]),
        targets: [tf.slice(d.targets[0]!, [s, 0], [16, 1]), tf.slice(d.targets[1]!, [s], [16])],
      }));
    const bad = data([40]);
    let epoch = 0;
    const source = {
      [Symbol.iterator]: () => (++epoch <= 2 ? batches(clean) : batches(bad))[Symbol.iterator](),
    };
    const e = (await stream.trainer
      .fitDataset(source, { epochs: 5 })
      .catch((x: unknown) => x)) as TrainingDivergedError;
    expect(e).toBeInstanceOf(TrainingDivergedError);
    expect(e.message).toMatch(
      /^training diverged: the loss of task 'y' became NaN at step 11 \(epoch 3\); stopped and put back the state after epoch 2;/,
    );
    expect(e.details).toMatchObject({
      kind: 'non-finite',
      epoch: 3,
      step: 11,
      tasks: ['y'],
      restoredEpoch: 2,
    });
    expect(e.details.history.epochs).toHaveLength(2);
    // the model holds exactly the state after epoch 2 (fitDataset on these batches = fit without shuffling)
    expect(stream.values()).toEqual(afterTwo);
    expect(stream.trainer.steps).toBe(8);
    stream.dispose();
    free(clean);
    free(bad);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('skip: drops NaN steps, counts them, trains on; stops after 10 in a row', async () => {
    const before = tf.memory().numTensors;
    const run = setup();
    const d = data([3]); // the first batch of 16 holds the NaN row
    const history = await run.trainer.fit(d, {
      epochs: 4,
      batchSize: 16,
      shuffle: false,
      onNonFinite: 'skip',
    });
    expect(history.epochs.map((e) => e.skippedSteps)).toEqual([1, 1, 1, 1]);
    expect(history.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
    expect(run.values().flat().every(Number.isFinite)).toBe(true);
    expect(run.trainer.steps).toBe(16); // dropped steps count as steps taken
    run.dispose();
    free(d);

    const all = setup();
    const nan = data(Array.from({ length: 64 }, (_, i) => i));
    const e = (await all.trainer
      .fit(nan, { epochs: 10, batchSize: 16, onNonFinite: 'skip' })
      .catch((x: unknown) => x)) as TrainingDivergedError;
    expect(e).toBeInstanceOf(TrainingDivergedError);
    expect(e.details.kind).toBe('skipped');
    expect(e.message).toMatch(new RegExp(`${MAX_SKIPPED_IN_A_ROW} steps in a row \\(to step 10, epoch 3\\)`));
    expect(all.values().flat().every(Number.isFinite)).toBe(true);
    all.dispose();
    free(nan);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops a run whose loss explodes without NaN, the model left finite', async () => {
    const d = data();
    const v = data();
    const run = setup(30); // Adam at 30 blows the net up within an epoch or two
    const e = (await run.trainer
      .fit(d, { epochs: 50, batchSize: 8, validationData: v, earlyStopping: { patience: 50 } })
      .catch((x: unknown) => x)) as TrainingDivergedError;
    expect(e).toBeInstanceOf(TrainingDivergedError);
    expect(e.details.kind).toBe('exploded');
    expect(e.message).toMatch(
      /the training loss of task '(y|c)' rose to .* over 1000× its .* at the first step/,
    );
    expect(run.values().flat().every(Number.isFinite)).toBe(true);
    run.dispose();

    // a sane rate never trips the test; Infinity turns it off
    const calm = setup(0.01);
    await expect(calm.trainer.fit(d, { epochs: 30, batchSize: 8 })).resolves.toBeDefined();
    calm.dispose();
    const bad = setup();
    await expect(bad.trainer.fit(d, { epochs: 1, divergenceFactor: 1 })).rejects.toThrow(
      /divergenceFactor must be > 1/,
    );
    free(d);
    free(v);
  });
});
