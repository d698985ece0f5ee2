import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sharedTrunkModel } from '../models/sharing.js';
import { outputUnits } from '../models/output-units.js';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import { classificationTask } from '../tasks/classification.js';
import { regressionTask } from '../tasks/regression.js';
import { uncertaintyWeighting } from '../weighting/uncertainty.js';
import { polyDecay, type DatasetBatch } from './batches.js';
import { Trainer, TrainingDataError } from './trainer.js';

const N = 100;

/** x ∈ R³; y = 2a − b + noise 0.5 (regression), c = 3 classes of a + d; c's labels missing on every 5th row. */
function table(seed = 1) {
  const rs = new NumpyRandomState(seed);
  const x = Float32Array.from(rs.randn(N * 3));
  const y = new Float32Array(N);
  const c = new Int32Array(N);
  const m = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    const [a, b, d] = [x[3 * i]!, x[3 * i + 1]!, x[3 * i + 2]!];
    y[i] = 2 * a - b + 0.5 * rs.standardNormal();
    c[i] = a + d > 0.5 ? 2 : a + d > -0.5 ? 1 : 0;
    m[i] = i % 5 === 0 ? 0 : 1;
  }
  return { x, y, c, m };
}

function setup() {
  const tasks = [regressionTask({ name: 'y' }), classificationTask({ name: 'c', numClasses: 3 })];
  const model = sharedTrunkModel({ inputDim: 3, outputs: tasks.map(outputUnits), trunk: [16], seed: 3 });
  const weighting = uncertaintyWeighting(tasks, { learningRate: 0.05 });
  const trainer = new Trainer({ model, tasks, weighting, optimizer: { learningRate: 0.01 } });
  return { model, weighting, trainer };
}

/** Rows [start, end) of the table as one batch. */
function rows(t: ReturnType<typeof table>, start: number, end: number): DatasetBatch {
  return {
    x: tf.tensor2d(t.x.subarray(3 * start, 3 * end), [end - start, 3]),
    targets: [
      tf.tensor2d(t.y.subarray(start, end), [end - start, 1]),
      tf.tensor1d(t.c.subarray(start, end), 'int32'),
    ],
    masks: [undefined, tf.tensor1d(t.m.subarray(start, end))],
  };
}

function weightsOf(model: tf.LayersModel): number[] {
  return model.getWeights().flatMap((w) => Array.from(w.dataSync()));
}

describe('Trainer.fitDataset', () => {
  it('equals fit on the same batch sequence (losses, σ, weights) and leaves no tensors behind', async () => {
    const t = table();
    const batchSize = 32;
    const a = setup();
    const data = {
      x: tf.tensor2d(t.x, [N, 3]),
      targets: [tf.tensor2d(t.y, [N, 1]), tf.tensor1d(t.c, 'int32')],
      masks: [undefined, tf.tensor1d(t.m)],
    };
    const fromMemory = await a.trainer.fit(data, { epochs: 5, batchSize, shuffle: false });

    const b = setup();
    const before = tf.memory().numTensors;
    const stream = tf.data.generator(function* () {
      for (let s = 0; s < N; s += batchSize) yield rows(t, s, Math.min(N, s + batchSize));
    });
    const streamed = await b.trainer.fitDataset(stream, { epochs: 5 });
    expect(tf.memory().numTensors).toBe(before);

    expect(streamed.epochs.map((e) => e.loss)).toEqual(fromMemory.epochs.map((e) => e.loss));
    expect(streamed.epochs.map((e) => e.taskLosses)).toEqual(fromMemory.epochs.map((e) => e.taskLosses));
    expect(b.weighting.sigmas()).toEqual(a.weighting.sigmas());
    expect(weightsOf(b.model)).toEqual(weightsOf(a.model));
    expect(b.trainer.steps).toBe(5 * Math.ceil(N / batchSize));
  });

  it('runs an endless stream batchesPerEpoch at a time, stops at maxSteps, learns σ', async () => {
    const t = table(2);
    const { trainer, weighting } = setup();
    const rs = new NumpyRandomState(0);
    function* endless() {
      for (;;) {
        const s = rs.randomInt(N - 16);
        yield rows(t, s, s + 16);
      }
    }
    const history = await trainer.fitDataset(endless(), {
      epochs: 100,
      batchesPerEpoch: 10,
      maxSteps: 455,
    });
    expect(trainer.steps).toBe(455);
    expect(history.epochs).toHaveLength(46); // 45 full epochs of 10, then 5 steps
    expect(history.epochs.at(-1)!.steps).toBe(455);
    const first = history.epochs[0]!.taskLosses['y']!;
    expect(history.epochs.at(-1)!.taskLosses['y']!).toBeLessThan(first / 2);
    // the regression's σ falls from 1 towards the noise level (0.5) plus what the net still misses
    expect(weighting.sigmas()[0]!).toBeLessThan(0.9);
  });

  it('ends training when a stream meant to span epochs runs dry', async () => {
    const t = table();
    const { trainer } = setup();
    const batches = [0, 16, 32].map((s) => rows(t, s, s + 16));
    const history = await trainer.fitDataset(batches, { epochs: 5, batchesPerEpoch: 2 });
    expect(trainer.steps).toBe(3);
    expect(history.stoppedEarly?.reason).toBe('dataset exhausted');
  });

  it('validates on a stream or in-memory data, and stops early', async () => {
    const t = table(3);
    const val = { train: () => rows(t, 0, 80), val: () => rows(t, 80, 100) };
    const once = () =>
      tf.data.generator(function* () {
        yield val.train();
      });
    const streamVal = setup();
    const h1 = await streamVal.trainer.fitDataset(once(), {
      epochs: 3,
      validationData: tf.data.generator(function* () {
        yield rows(t, 80, 90);
        yield rows(t, 90, 100);
      }),
    });
    const memVal = setup();
    const v = val.val();
    const h2 = await memVal.trainer.fitDataset(once(), {
      epochs: 3,
      validationData: v,
      evalBatchSize: 10,
    });
    tf.dispose([v.x, ...v.targets, ...v.masks!.filter((m): m is tf.Tensor => m !== undefined)]);
    // a single pass over the same single batch: identical training, identical validation in two chunks
    h1.epochs.forEach((e, i) => {
      expect(e.validation!.taskLosses['y']).toBeCloseTo(h2.epochs[i]!.validation!.taskLosses['y']!, 5);
      expect(e.metrics!.validation!['c']!['accuracy']).toBeCloseTo(
        h2.epochs[i]!.metrics!.validation!['c']!['accuracy']!,
        6,
      );
    });

    const es = setup();
    const h3 = await es.trainer.fitDataset(
      // a fresh batch every time the iterable is opened (once per epoch)
      { [Symbol.iterator]: () => [rows(t, 0, 80)][Symbol.iterator]() },
      {
        epochs: 400,
        validationData: { x: tf.zeros([4, 3]), targets: [tf.fill([4, 1], 1e3), tf.zeros([4], 'int32')] },
        earlyStopping: { patience: 3 },
      },
    );
    expect(h3.stoppedEarly?.reason).toMatch(/did not improve for 3 epochs/);
  });

  it('follows a learning-rate schedule (polyDecay) and rejects a rate ≤ 0', async () => {
    const schedule = polyDecay(10);
    expect(schedule(0, 0.1)).toBe(0.1);
    expect(schedule(5, 0.1)).toBeCloseTo(0.1 * Math.pow(0.5, 0.9), 15);
    expect(schedule(9, 0.1)).toBeCloseTo(0.1 * Math.pow(0.1, 0.9), 15);
    expect(schedule(50, 0.1)).toBe(schedule(9, 0.1));
    expect(() => polyDecay(0)).toThrow(/totalSteps/);

    const t = table();
    const { trainer } = setup();
    const seen: number[] = [];
    await trainer.fitDataset([rows(t, 0, 16), rows(t, 16, 32)], {
      epochs: 1,
      learningRateSchedule: (step, base) => {
        seen.push(step);
        return base / (step + 1);
      },
    });
    expect(seen).toEqual([0, 1]);
    const again = setup();
    await expect(
      again.trainer.fitDataset([rows(t, 0, 16)], { epochs: 1, learningRateSchedule: () => 0 }),
    ).rejects.toThrow(/learningRateSchedule returned 0 at step 0/);
  });

  it('names the batch that does not fit the tasks, and rejects an empty stream', async () => {
    const t = table();
    const { trainer } = setup();
    const bad = () => rows(t, 0, 8);
    const one = bad();
    await expect(
      trainer.fitDataset([rows(t, 0, 8), { x: one.x, targets: [one.targets[0]!] }], { epochs: 1 }),
    ).rejects.toThrow(TrainingDataError);
    const two = bad();
    await expect(
      trainer.fitDataset([{ x: two.x, targets: [two.targets[0]!, tf.zeros([3], 'int32')] }], { epochs: 1 }),
    ).rejects.toThrow(/batch 1 of epoch 1\.targets\[1\] \(task 'c'\) has 3 rows, x has 8/);
    await expect(trainer.fitDataset([], { epochs: 1 })).rejects.toThrow(/yielded no batches/);
    // an array of batches re-opened in epoch 2 yields the batches epoch 1 disposed
    await expect(trainer.fitDataset([rows(t, 0, 8)], { epochs: 2 })).rejects.toThrow(
      /batch 1 of epoch 2 holds a disposed tensor: a stream must yield fresh tensors/,
    );
    await expect(trainer.fitDataset(42 as never, { epochs: 1 })).rejects.toThrow(
      /Dataset or an \(async\) iterable/,
    );
  });
});
