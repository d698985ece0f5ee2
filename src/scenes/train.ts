/**
 * Training the scene network through the library's one training loop (`Trainer.fitDataset`): the
 * dense losses are Trainer tasks, the frames stream from a SceneSource in seeded random order, the
 * paper's poly decay is the learning-rate schedule and a log entry is written every `logEvery` steps
 * (the Trainer's epochs). Browser-safe; no I/O.
 */
import * as tf from '@tensorflow/tfjs';
import type { SceneBatch } from '../data/synthetic/scenes.js';
import type { TaskSpec } from '../tasks/task.js';
import { polyDecay } from '../train/batches.js';
import type { EpochEvent } from '../train/events.js';
import type { CheckpointOptions, TrainingCheckpoint } from '../train/options.js';
import { Trainer } from '../train/trainer.js';
import { fixedWeighting } from '../weighting/fixed.js';
import {
  checkLossCount,
  checkStateFor,
  type WeightingState,
  type WeightingStrategy,
} from '../weighting/strategy.js';
import { uncertaintyWeighting } from '../weighting/uncertainty.js';
import { memorySceneSource, sceneBatches, type SceneAugmentation, type SceneSource } from './data.js';
import { heteroscedasticHeads, orderedTasks, type SceneTask } from './model.js';
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
  /**
   * The model's instance and depth heads are heteroscedastic (built with `heteroscedastic: true`): they
   * are trained with the per-pixel Laplace NLL. Default false; must match the model.
   */
  heteroscedastic?: boolean;
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
 * weighted with the paper's regression form ½·e^(−s)·L + ½·s — or, heteroscedastic, are Laplace NLLs. */
export function sceneTaskSpecs(tasks: readonly SceneTask[], heteroscedastic = false): TaskSpec[] {
  return orderedTasks(tasks).map((name) => ({
    name,
    likelihood: name === 'semantic' ? 'softmax' : heteroscedastic ? 'laplace' : 'gaussian',
  }));
}

/**
 * The weighting of a scene run. With `heteroscedastic` heads, learned (uncertainty) weighting learns the
 * semantic task's s (its temperature) only: the instance and depth losses are already full Laplace NLLs
 * with a log-scale per pixel — they can be negative, which would drive a task-level e^(−s)·L + s to
 * s → −∞ — so their s is held at 0 (weight exactly 1, no regulariser). Fixed weights apply as given.
 */
export function createSceneWeighting(
  tasks: readonly SceneTask[],
  weighting: SceneWeighting,
  sigmaLearningRate: number,
  heteroscedastic = false,
): WeightingStrategy {
  const specs = sceneTaskSpecs(tasks, heteroscedastic);
  if (weighting.kind === 'fixed') return fixedWeighting(specs, { weights: weighting.weights });
  const options = {
    initialLogVariance: weighting.initialLogVariance ?? 0,
    clamp: weighting.clamp ?? ([-8, 8] as const),
    learningRate: sigmaLearningRate,
  };
  if (!heteroscedastic) return uncertaintyWeighting(specs, options);
  return partlyLearnedWeighting(
    specs,
    specs.map((t) => t.name === 'semantic'),
    options,
  );
}

/**
 * Uncertainty weighting over the tasks with `learned` true; the others enter the total with weight 1
 * and a log-variance held at 0. Its state (and the log) lists one s per task, 0 for the held ones.
 */
function partlyLearnedWeighting(
  specs: readonly TaskSpec[],
  learned: readonly boolean[],
  options: { initialLogVariance: number; clamp: readonly [number, number]; learningRate: number },
): WeightingStrategy {
  const learnedIdx = specs.flatMap((_, i) => (learned[i] ? [i] : []));
  const inner =
    learnedIdx.length > 0
      ? uncertaintyWeighting(
          learnedIdx.map((i) => specs[i]!),
          options,
        )
      : undefined;
  const merge = (values: readonly number[], held: number): number[] => {
    const out = specs.map(() => held);
    learnedIdx.forEach((i, k) => (out[i] = values[k]!));
    return out;
  };
  return {
    name: 'uncertainty',
    tasks: specs,
    variables: inner?.variables ?? [],
    learningRate: options.learningRate,
    combine(losses) {
      checkLossCount('uncertainty', specs, losses);
      const fixed = losses.filter((_, i) => !learned[i]);
      if (!inner) return tf.tidy(() => tf.addN<tf.Scalar>(fixed));
      const learnedTotal = inner.combine(learnedIdx.map((i) => losses[i]!));
      if (fixed.length === 0) return learnedTotal;
      // the learned part's gradient is custom: keep it outside a tidy, summed in one op
      return tf.addN<tf.Scalar>([learnedTotal, ...fixed]);
    },
    weights: () => merge(inner?.weights() ?? [], 1),
    ...(inner?.afterStep ? { afterStep: () => inner.afterStep!() } : {}),
    getState: () => ({
      strategy: 'uncertainty',
      form: 'kendall',
      regularizer: 'log',
      logVariance: merge(inner?.logVariances() ?? [], 0),
    }),
    setState(state: WeightingState) {
      checkStateFor('uncertainty', state);
      const s = state['logVariance'];
      if (!Array.isArray(s) || s.length !== specs.length)
        throw new Error(`uncertainty weighting state: logVariance must be ${specs.length} numbers`);
      inner?.setState({ ...state, logVariance: learnedIdx.map((i) => s[i] as number) });
    },
    dispose() {
      inner?.dispose();
    },
  };
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
  const heteroscedastic = options.heteroscedastic ?? false;
  heteroscedasticHeads(model, ordered).forEach((h, i) => {
    if (ordered[i] !== 'semantic' && h !== heteroscedastic)
      throw new Error(
        `trainSceneModel: the model's ${ordered[i]} head is ${h ? '' : 'not '}heteroscedastic, the options say heteroscedastic ${heteroscedastic}`,
      );
  });
  const trainer = new Trainer({
    model,
    tasks: sceneTasks(ordered, source.classes.length, heteroscedastic),
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
