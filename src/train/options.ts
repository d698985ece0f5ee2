/** The Trainer's options, results and errors. Browser-safe. */
import type * as tf from '@tensorflow/tfjs';
import type { Task } from '../tasks/task.js';
import type { WeightingState, WeightingStrategy } from '../weighting/strategy.js';
import type { BatchStream, LearningRateSchedule, TrainingData } from './batches.js';
import type { PerTask, SplitMetrics, TrainCallbacks } from './events.js';
import type { History } from './history.js';

export interface AdamOptions {
  /** Default 1e-3. */
  learningRate?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7 (Keras's, and the seed's). */
  epsilon?: number;
}

export interface TrainerOptions {
  /** Any model with one output per task, in task order. */
  model: tf.LayersModel;
  tasks: readonly Task[];
  weighting: WeightingStrategy;
  /** Adam's settings for the model's weights (the strategy's variables use its own learning rate if it sets one). */
  optimizer?: AdamOptions;
  /** Decoupled weight decay (AdamW-style) on the model's weights; never on the strategy's variables. Default 0. */
  weightDecay?: number;
}

export interface EarlyStoppingOptions {
  /** Epochs without improvement of the validation loss before stopping. */
  patience: number;
  /** Smallest decrease that counts as an improvement; default 0. */
  minDelta?: number;
  /** Put back the weights of the best epoch when stopping; default true. */
  restoreBest?: boolean;
  /**
   * What must keep improving: `tasks` (default) — the mean over tasks of each task's validation loss
   * relative to its first epoch, scale-free and blind to the weighting; `weighted` — the strategy's
   * weighted total, which uncertainty weighting keeps lowering by sharpening σ even while the tasks
   * over-fit.
   */
  monitor?: 'tasks' | 'weighted';
}

/** An optimiser's state: its step count and moment vectors. */
export interface AdamState {
  iterations: number;
  m: Float32Array;
  v: Float32Array;
}

/**
 * Everything needed to continue a run exactly where an epoch ended: every model weight (batch-norm
 * statistics too), the optimisers' steps and moments, the weighting strategy's state, the position of
 * the batch source's random streams, early stopping's state and the history so far. Plain data: a store
 * (e.g. tfjs-mtl/node's checkpoint folders) serialises it.
 */
export interface TrainingCheckpoint {
  version: 1;
  /** Epochs completed; training resumes with the next. */
  epoch: number;
  /** Optimiser steps taken. */
  steps: number;
  /** `model.weights`, in order. */
  weights: { name: string; shape: number[]; values: Float32Array }[];
  optimizer: AdamState;
  strategyOptimizer?: AdamState;
  strategy: WeightingState;
  /** The batch source's position (the shuffling stream for `fit`, a resumable stream's state). */
  data?: unknown;
  stopping?: {
    bestLoss: number;
    bestEpoch: number;
    firstValidation?: PerTask<number>;
    /** Model weights then strategy variables at the best epoch (when they are to be restored). */
    bestWeights?: Float32Array[];
  };
  /** Each task's loss at the run's first step: the yardstick of the divergence test. */
  initialLosses?: number[];
  /** The position of each SeededDropout layer's mask stream, in layer order. */
  dropoutStreams?: number[];
  /** The position of each random-stream task's noise (tasks with `randomState`), in task order. */
  taskStreams?: number[];
  history: History;
}

/** When and where to save checkpoints. */
export interface CheckpointOptions {
  /** Every this many epochs (default 1). */
  every?: number;
  /** Receives each checkpoint; training waits for it (write it atomically). */
  save(checkpoint: TrainingCheckpoint): void | Promise<void>;
}

/** What `fit` and `fitDataset` share. */
export interface TrainingLoopOptions extends TrainCallbacks {
  epochs: number;
  /** Compute metrics every this many epochs (over the whole training set for `fit`, and the validation set); 0 = never. Default 1. */
  metricsEvery?: number;
  /** Stop when the validation loss stops improving (needs validation data). */
  earlyStopping?: EarlyStoppingOptions;
  /** Stops training after the current step. */
  signal?: AbortSignal;
  /** In a browser: yield to the event loop at least this often (ms) so the page stays responsive. */
  yieldEveryMs?: number;
  /**
   * The model weights' learning rate per step (e.g. `polyDecay(totalSteps)`); the strategy's variables keep
   * their own rate when the strategy sets one. Default: constant `optimizer.learningRate`.
   */
  learningRateSchedule?: LearningRateSchedule;
  /** Stop after this many optimiser steps in this call (the epoch then ends early). */
  maxSteps?: number;
  /** Rows per forward pass when evaluating in-memory data; default 4096. */
  evalBatchSize?: number;
  /** Save a checkpoint at the end of every `every` epochs. */
  checkpoint?: CheckpointOptions;
  /**
   * Continue a run from its checkpoint, with the same model, tasks, strategy, data and options: the
   * result is the uninterrupted run's, bit for bit on the same backend. `maxSteps` and `epochs` count
   * from the run's start.
   */
  resumeFrom?: TrainingCheckpoint;
  /**
   * A step whose loss is NaN or ±∞: `'stop'` (default) ends the run — the state at the end of the last
   * good epoch is put back (no checkpoint is written after it) and a TrainingDivergedError names the
   * epoch, step and task; it is checked once per epoch, with no extra sync per step. `'skip'` drops such
   * steps (no update; one sync per step to know), counts them in the epoch's `skippedSteps`, and stops
   * with a TrainingDivergedError after 10 in a row.
   */
  onNonFinite?: 'stop' | 'skip';
  /**
   * Divergence without NaN: when a task's training loss (the epoch's mean) exceeds this many times its
   * loss at the run's first step, the run stops — the best state (early
   * stopping's, else the last good epoch's) is put back and a TrainingDivergedError says so. Default 1000;
   * `Infinity` turns the test off.
   */
  divergenceFactor?: number;
}

export interface FitOptions extends TrainingLoopOptions {
  /** Default 32. */
  batchSize?: number;
  /** Reshuffle the training samples every epoch; default true. */
  shuffle?: boolean;
  /** Seed of the shuffling and of the validation split; default 0. */
  seed?: number;
  /** Fraction of the samples held out for validation (seeded random split); default 0. */
  validationSplit?: number;
  validationData?: TrainingData;
}

export interface FitDatasetOptions extends TrainingLoopOptions {
  /**
   * Batches per epoch. Set: one iterator runs on across epochs (for endless streams) and training ends
   * early if it runs dry. Unset: every epoch opens a new iterator and runs it to its end.
   */
  batchesPerEpoch?: number;
  /** Validation batches streamed (a Dataset or iterable, re-opened each time) or in-memory data. */
  validationData?: TrainingData | BatchStream;
}

export interface Evaluation {
  /** The strategy's weighted total over the set. */
  loss: number;
  taskLosses: PerTask<number>;
  metrics: SplitMetrics;
}

/** Training data were inconsistent (shapes, counts, values); the message names what and where. */
export class TrainingDataError extends Error {
  override name = 'TrainingDataError';
}

/** Why a run was stopped as diverged. */
export type DivergenceKind = 'non-finite' | 'exploded' | 'skipped';

/**
 * Training diverged: a loss became NaN or ±∞, rose far above its start (`divergenceFactor`), or (with
 * `onNonFinite: 'skip'`) 10 steps in a row were dropped. The message is one line naming the epoch, the
 * step and the task. The model, optimisers and strategy hold the state that was put back (the last good
 * epoch's, or early stopping's best); `history` is the run's up to the epoch that diverged.
 */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
  constructor(
    message: string,
    readonly details: {
      kind: DivergenceKind;
      epoch: number;
      step: number;
      tasks: string[];
      /** The epoch whose end state the model now holds (0 = the start of training). */
      restoredEpoch: number;
      history: History;
    },
  ) {
    super(message);
  }
}
