/**
 * Training the scene network through the library's one training loop (`Trainer.fitDataset`): the
 * dense losses are Trainer tasks, the frames stream from a SceneSource in seeded random order, the
 * paper's poly decay is the learning-rate schedule and a log entry is written every `logEvery` steps
 * (the Trainer's epochs). Browser-safe; no I/O.
 */
import type * as tf from '@tensorflow/tfjs';
import type { SceneBatch } from '../data/synthetic/scenes.js';
import type { TaskSpec } from '../tasks/task.js';
import { polyDecay } from '../train/batches.js';
import type { EpochEvent } from '../train/events.js';
import type { CheckpointOptions, TrainingCheckpoint } from '../train/options.js';
import { Trainer } from '../train/trainer.js';
import { fixedWeighting } from '../weighting/fixed.js';
import type { WeightingStrategy } from '../weighting/strategy.js';
import { uncertaintyWeighting } from '../weighting/uncertainty.js';
import { memorySceneSource, sceneBatches, type SceneAugmentation, type SceneSource } from './data.js';
import { orderedTasks, type SceneTask } from './model.js';
import { sceneTasks } from './tasks.js';

/** Steps per log entry (and per Trainer epoch) by default; checkpoints fall on these boundaries. */
export const SCENE_LOG_EVERY = 25;

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
  /** Seed of the minibatch order (and of the augmentation). */
  seed?: number;
  /** Loss means are read (and `onLog` called) every this many steps; default 25. */
  logEvery?: number;
  /** Random zoom-crop and flip of every training frame; default none. */
  augment?: SceneAugmentation | false;
  /** Batches loading ahead of training; default 2. */
  prefetch?: number;
  /** Save a checkpoint every `checkpoint.every` log entries (the Trainer's epochs of `logEvery` steps). */
  checkpoint?: CheckpointOptions;
  /** Continue a run from its checkpoint (same model, tasks, data and options): exactly the uninterrupted run. */
  resumeFrom?: TrainingCheckpoint;
  /** A step with a NaN/±∞ loss: stop as diverged (default) or drop it (see TrainingLoopOptions). */
  onNonFinite?: 'stop' | 'skip';
  /** Skip frames whose files are bad (each reported to `onSkip`) instead of stopping. */
  skipBad?: boolean;
  onSkip?: (index: number, error: Error) => void;
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

/**
 * Trains `model` (built by buildSceneModel for `tasks` and the source's classes) in place on frames of
 * `data` — a SceneSource (dataset folders, generated scenes) or generated scenes in memory. `onLog` sees
 * every `logEvery` steps and the last; `signal` stops between steps. Returns the log.
 */
export async function trainSceneModel(
  model: tf.LayersModel,
  tasks: readonly SceneTask[],
  data: SceneSource | SceneBatch,
  strategy: WeightingStrategy,
  options: SceneTrainOptions,
  onLog?: (entry: SceneLogEntry) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<SceneLogEntry[]> {
  const steps = options.steps;
  const lr0 = options.learningRate ?? 2e-3;
  const logEvery = options.logEvery ?? SCENE_LOG_EVERY;
  if (!Number.isInteger(steps) || steps < 1)
    throw new RangeError(`steps must be an integer ≥ 1, got ${steps}`);
  if (!(lr0 > 0)) throw new RangeError(`learningRate must be > 0, got ${lr0}`);
  if (!Number.isInteger(logEvery) || logEvery < 1) {
    throw new RangeError(`logEvery must be an integer ≥ 1, got ${logEvery}`);
  }
  const source = 'frame' in data ? data : memorySceneSource(data);
  const ordered = orderedTasks(tasks);
  const batches = sceneBatches(source, {
    tasks: ordered,
    batchSize: options.batchSize ?? 8,
    seed: options.seed ?? 0,
    augment: options.augment ?? false,
    ...(options.prefetch !== undefined ? { prefetch: options.prefetch } : {}),
    ...(options.skipBad !== undefined ? { skipBad: options.skipBad } : {}),
    ...(options.onSkip ? { onSkip: options.onSkip } : {}),
  });
  const trainer = new Trainer({
    model,
    tasks: sceneTasks(ordered, source.classes.length),
    // a strategy with its own learning rate (createSceneWeighting's) gets its own, undecayed Adam
    weighting: strategy,
    optimizer: { learningRate: lr0, epsilon: 1e-8 },
  });
  const schedule = polyDecay(steps);
  const entryOf = (e: EpochEvent): SceneLogEntry => ({
    step: e.steps,
    losses: ordered.map((t) => e.taskLosses[t]!),
    total: e.loss,
    weights: ordered.map((t) => e.weights[t]!),
    learningRate: schedule(e.steps - 1, lr0),
    ...(e.logVariances ? { logVariances: ordered.map((t) => e.logVariances![t]!) } : {}),
  });
  // a resumed run's log starts with the entries its checkpoint holds
  const log: SceneLogEntry[] = options.resumeFrom ? options.resumeFrom.history.epochs.map(entryOf) : [];
  try {
    await trainer.fitDataset(batches, {
      epochs: Math.ceil(steps / logEvery),
      batchesPerEpoch: logEvery,
      maxSteps: steps,
      learningRateSchedule: schedule,
      metricsEvery: 0,
      ...(signal ? { signal } : {}),
      ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
      ...(options.resumeFrom ? { resumeFrom: options.resumeFrom } : {}),
      ...(options.onNonFinite ? { onNonFinite: options.onNonFinite } : {}),
      onEpochEnd: async (e) => {
        const entry = entryOf(e);
        log.push(entry);
        await onLog?.(entry);
      },
    });
  } finally {
    trainer.dispose();
  }
  return log;
}
