/**
 * Training the scene network: per-task dense losses, combined by a weighting strategy (learned
 * uncertainty or fixed weights), Adam with polynomial learning-rate decay. Browser-safe; no I/O.
 */
import * as tf from '@tensorflow/tfjs';
import type { SceneBatch } from '../data/synthetic/scenes.js';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import type { TaskSpec } from '../tasks/task.js';
import { FusedAdam } from '../train/fused-adam.js';
import { fixedWeighting } from '../weighting/fixed.js';
import type { WeightingStrategy } from '../weighting/strategy.js';
import { uncertaintyWeighting } from '../weighting/uncertainty.js';
import { disposeSceneTensors, sceneTensors, type SceneTensors } from './batches.js';
import { maskedL1, maskedSoftmaxCrossEntropy } from './losses.js';
import { orderedTasks, type SceneTask } from './model.js';

/** How the task losses are combined. */
export type SceneWeighting =
  | { kind: 'uncertainty'; initialLogVariance?: number; clamp?: readonly [number, number] }
  | { kind: 'fixed'; weights: readonly number[] };

export interface SceneTrainOptions {
  /** Optimiser steps. */
  steps: number;
  /** Scenes per step; default 8. */
  batchSize?: number;
  /** Adam's initial learning rate; default 2e-3, decayed as (1 − step/steps)^0.9 (the paper's poly). */
  learningRate?: number;
  /** Learning rate of the log-variances (not decayed); default 0.01. */
  sigmaLearningRate?: number;
  /** Seed of the minibatch order. */
  seed?: number;
  /** Loss means are read (and `onLog` called) every this many steps; default 25. */
  logEvery?: number;
}

/** One logged point of a training run. */
export interface SceneLogEntry {
  step: number;
  /** Mean unweighted loss per task over the steps since the last entry, in task order. */
  losses: number[];
  /** Mean weighted total. */
  total: number;
  /** Each task's weight at this step. */
  weights: number[];
  /** Log-variances s = log σ² (uncertainty weighting only). */
  logVariances?: number[];
  /** Learning rate at this step. */
  learningRate: number;
}

/** Task specs for the weighting strategies: cross-entropy is a softmax likelihood, the L1 tasks are
 * weighted with the paper's regression form ½·e^(−s)·L + ½·s. */
export function sceneTaskSpecs(tasks: readonly SceneTask[]): TaskSpec[] {
  return orderedTasks(tasks).map((name) => ({
    name,
    likelihood: name === 'semantic' ? 'softmax' : 'gaussian',
  }));
}

export function createSceneWeighting(
  tasks: readonly SceneTask[],
  weighting: SceneWeighting,
  sigmaLearningRate: number,
): WeightingStrategy {
  const specs = sceneTaskSpecs(tasks);
  if (weighting.kind === 'fixed') return fixedWeighting(specs, { weights: weighting.weights });
  return uncertaintyWeighting(specs, {
    initialLogVariance: weighting.initialLogVariance ?? 0,
    clamp: weighting.clamp ?? [-8, 8],
    learningRate: sigmaLearningRate,
  });
}

/** Per-task losses of one batch, in SCENE_TASKS order; outputs follow the model's heads. */
export function sceneLosses(
  outputs: readonly tf.Tensor[],
  tasks: readonly SceneTask[],
  batch: SceneTensors,
): tf.Scalar[] {
  return orderedTasks(tasks).map((task, i) => {
    const out = outputs[i]!;
    switch (task) {
      case 'semantic':
        return maskedSoftmaxCrossEntropy(out, batch.semanticOneHot, batch.semanticMask);
      case 'instance':
        return maskedL1(out, batch.instanceOffset, batch.instanceMask);
      case 'depth':
        return maskedL1(out, batch.inverseDepth, batch.depthMask);
    }
  });
}

function outputsOf(y: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(y) ? y : [y];
}

/**
 * Trains `model` (built by buildSceneModel for `tasks`) in place. `onLog` sees every `logEvery` steps
 * and the last; `signal` stops between steps. Returns the log.
 */
export async function trainSceneModel(
  model: tf.LayersModel,
  tasks: readonly SceneTask[],
  data: SceneBatch,
  numClasses: number,
  strategy: WeightingStrategy,
  options: SceneTrainOptions,
  onLog?: (entry: SceneLogEntry) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<SceneLogEntry[]> {
  const steps = options.steps;
  const batchSize = options.batchSize ?? 8;
  const lr0 = options.learningRate ?? 2e-3;
  const logEvery = options.logEvery ?? 25;
  if (!Number.isInteger(steps) || steps < 1)
    throw new RangeError(`steps must be an integer ≥ 1, got ${steps}`);
  if (!Number.isInteger(batchSize) || batchSize < 2) {
    // Batch norm needs two samples for a variance.
    throw new RangeError(`batchSize must be an integer ≥ 2, got ${batchSize}`);
  }
  if (batchSize > data.count) {
    throw new RangeError(`batchSize ${batchSize} exceeds the ${data.count} training scenes`);
  }
  if (!(lr0 > 0)) throw new RangeError(`learningRate must be > 0, got ${lr0}`);
  if (!Number.isInteger(logEvery) || logEvery < 1) {
    throw new RangeError(`logEvery must be an integer ≥ 1, got ${logEvery}`);
  }
  const ordered = orderedTasks(tasks);
  const modelVars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const adam = new FusedAdam(modelVars, { learningRate: lr0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  const sigmaAdam =
    strategy.variables.length > 0
      ? new FusedAdam(strategy.variables, {
          learningRate: strategy.learningRate ?? options.sigmaLearningRate ?? 0.01,
          beta1: 0.9,
          beta2: 0.999,
          epsilon: 1e-8,
        })
      : undefined;
  const rs = new NumpyRandomState(options.seed ?? 0);
  let order = rs.permutation(data.count);
  let cursor = 0;
  const log: SceneLogEntry[] = [];
  let lossSum: tf.Tensor1D | undefined;
  let sinceLog = 0;

  try {
    for (let step = 1; step <= steps; step++) {
      if (signal?.aborted) break;
      if (cursor + batchSize > order.length) {
        order = rs.permutation(data.count);
        cursor = 0;
      }
      const indices = Array.from(order.subarray(cursor, cursor + batchSize));
      cursor += batchSize;
      const lr = lr0 * Math.pow(1 - (step - 1) / steps, 0.9);
      adam.setLearningRate(lr);
      const batch = sceneTensors(data, indices, numClasses);
      try {
        const stepLosses = tf.tidy(() => {
          let taskLosses: tf.Tensor1D | undefined;
          const { grads, value } = tf.variableGrads(() => {
            const outputs = outputsOf(
              model.apply(batch.image, { training: true }) as tf.Tensor | tf.Tensor[],
            );
            const losses = sceneLosses(outputs, ordered, batch);
            // Kept past variableGrads' own scope for the log.
            taskLosses = tf.keep(tf.stack(losses) as tf.Tensor1D);
            return strategy.combine(losses);
          }, [...modelVars, ...strategy.variables]);
          adam.applyGradients(grads);
          if (sigmaAdam) sigmaAdam.applyGradients(grads);
          const kept = taskLosses!;
          const row = tf.concat<tf.Tensor1D>([kept, tf.reshape(value, [1])]);
          kept.dispose();
          return row;
        });
        strategy.afterStep?.();
        const prev = lossSum;
        lossSum = prev ? tf.add<tf.Tensor1D>(prev, stepLosses) : stepLosses;
        if (prev) {
          prev.dispose();
          stepLosses.dispose();
        }
        sinceLog++;
      } finally {
        disposeSceneTensors(batch);
      }
      if (step % logEvery === 0 || step === steps) {
        const sums = (await lossSum.data()) as Float32Array;
        lossSum.dispose();
        lossSum = undefined;
        const means = Array.from(sums, (v) => v / sinceLog);
        sinceLog = 0;
        if (!means.every(Number.isFinite)) {
          throw new Error(
            `training diverged at step ${step}: losses ${means.map((v) => v.toFixed(4)).join(', ')}`,
          );
        }
        const entry: SceneLogEntry = {
          step,
          losses: means.slice(0, ordered.length),
          total: means[ordered.length]!,
          weights: strategy.weights(),
          learningRate: lr,
        };
        const s = (strategy as { logVariances?: () => number[] }).logVariances?.();
        if (s) entry.logVariances = s;
        log.push(entry);
        await onLog?.(entry);
      }
    }
  } finally {
    lossSum?.dispose();
    adam.dispose();
    sigmaAdam?.dispose();
  }
  return log;
}
