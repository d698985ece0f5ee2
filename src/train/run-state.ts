/**
 * A run's whole state as plain data (TrainingCheckpoint) and back: what checkpoints save, and what the
 * loop keeps of the last good epoch to put back when training diverges. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { seededDropoutLayers } from '../models/seeded-dropout.js';
import type { WeightingStrategy } from '../weighting/strategy.js';
import type { PerTask } from './events.js';
import type { FusedAdam } from './fused-adam.js';
import type { History } from './history.js';
import type { LoopSource } from './loop-parts.js';
import type { TrainingCheckpoint } from './options.js';

/** What a run's state is read from and written to. */
export interface RunParts {
  model: tf.LayersModel;
  taskNames: readonly string[];
  weighting: WeightingStrategy;
  modelOptimizer: FusedAdam;
  strategyOptimizer: FusedAdam | null;
  /** Tasks whose losses draw from a random stream (e.g. heteroscedastic classification's logit noise). */
  randomTasks: readonly { randomState(): number; setRandomState(n: number): void }[];
}

/** Early stopping's running state (the best epoch's weights stay on the device). */
export interface BestState {
  loss: number;
  epoch: number;
  weights: tf.Tensor[] | null;
}

/** The run's loop-level state beside the model and optimisers. */
export interface LoopState {
  epoch: number;
  steps: number;
  history: History;
  best: BestState;
  firstValidation: PerTask<number> | undefined;
  /** Each task's loss at the run's first step (the divergence test's yardstick). */
  initialLosses: number[] | undefined;
}

/**
 * The run's state after `loop.epoch` (see TrainingCheckpoint); reads every weight back. The history's
 * events are shared with the loop's (they are not changed once pushed); `detached` copies them for
 * holding beyond the run.
 */
export function captureRunState(parts: RunParts, loop: LoopState, source: LoopSource): TrainingCheckpoint {
  const copy = (s: { iterations: number; m: Float32Array; v: Float32Array }) => ({
    iterations: s.iterations,
    m: s.m.slice(),
    v: s.v.slice(),
  });
  const data = source.state?.();
  const { best } = loop;
  const dropout = seededDropoutLayers(parts.model);
  return {
    version: 1,
    epoch: loop.epoch,
    steps: loop.steps,
    weights: parts.model.weights.map((w) => ({
      name: w.originalName,
      shape: [...w.shape] as number[],
      values: Float32Array.from(w.read().dataSync()),
    })),
    optimizer: copy(parts.modelOptimizer.getState()),
    ...(parts.strategyOptimizer ? { strategyOptimizer: copy(parts.strategyOptimizer.getState()) } : {}),
    strategy: structuredClone(parts.weighting.getState()),
    ...(data !== undefined ? { data } : {}),
    ...(best.epoch > 0
      ? {
          stopping: {
            bestLoss: best.loss,
            bestEpoch: best.epoch,
            ...(loop.firstValidation ? { firstValidation: { ...loop.firstValidation } } : {}),
            ...(best.weights
              ? { bestWeights: best.weights.map((t) => Float32Array.from(t.dataSync())) }
              : {}),
          },
        }
      : {}),
    ...(loop.initialLosses ? { initialLosses: [...loop.initialLosses] } : {}),
    ...(dropout.length > 0 ? { dropoutStreams: dropout.map((l) => l.randomState()) } : {}),
    ...(parts.randomTasks.length > 0 ? { taskStreams: parts.randomTasks.map((t) => t.randomState()) } : {}),
    // the epochs so far (events are not changed once pushed): a copy of the list, not of every event
    history: { ...loop.history, epochs: loop.history.epochs.slice() },
  };
}

/**
 * Puts a state back into the model, optimisers, strategy and batch source; returns the loop-level
 * state (best weights as new tensors the caller owns). Checks that the state fits this run.
 */
export function restoreRunState(parts: RunParts, cp: TrainingCheckpoint, source: LoopSource): LoopState {
  if (cp.version !== 1) throw new Error(`checkpoint: unknown version ${String(cp.version)}`);
  const weights = parts.model.weights;
  if (cp.weights.length !== weights.length)
    throw new Error(`checkpoint: ${cp.weights.length} weights for a model with ${weights.length}`);
  weights.forEach((w, i) => {
    const saved = cp.weights[i]!;
    if (!tf.util.arraysEqual(saved.shape, w.shape as number[]))
      throw new Error(
        `checkpoint: weight ${i} ('${saved.name}') is [${saved.shape.join(', ')}], the model's '${w.originalName}' [${w.shape.join(', ')}]`,
      );
  });
  if (cp.history.tasks.join('\u0000') !== parts.taskNames.join('\u0000'))
    throw new Error(`checkpoint: tasks ${cp.history.tasks.join(', ')}, not ${parts.taskNames.join(', ')}`);
  if (cp.history.strategy !== parts.weighting.name)
    throw new Error(`checkpoint: strategy '${cp.history.strategy}', not '${parts.weighting.name}'`);
  tf.tidy(() => weights.forEach((w, i) => w.write(tf.tensor(cp.weights[i]!.values, w.shape as number[]))));
  parts.modelOptimizer.setState(cp.optimizer);
  if (parts.strategyOptimizer) {
    if (!cp.strategyOptimizer) throw new Error('checkpoint: no state of the strategy optimiser');
    parts.strategyOptimizer.setState(cp.strategyOptimizer);
  }
  parts.weighting.setState(structuredClone(cp.strategy));
  const dropout = seededDropoutLayers(parts.model);
  if (cp.dropoutStreams) {
    if (cp.dropoutStreams.length !== dropout.length)
      throw new Error(
        `checkpoint: ${cp.dropoutStreams.length} dropout streams for a model with ${dropout.length}`,
      );
    dropout.forEach((l, i) => l.setRandomState(cp.dropoutStreams![i]!));
  }
  if (cp.taskStreams) {
    if (cp.taskStreams.length !== parts.randomTasks.length)
      throw new Error(
        `checkpoint: ${cp.taskStreams.length} task noise streams for ${parts.randomTasks.length}`,
      );
    parts.randomTasks.forEach((t, i) => t.setRandomState(cp.taskStreams![i]!));
  }
  if (cp.data !== undefined) {
    if (!source.restore) throw new Error('checkpoint: the batch source cannot be put back to its position');
    source.restore(cp.data);
  }
  const stop = cp.stopping;
  const shapes = [
    ...weights.map((w) => w.shape as number[]),
    ...parts.weighting.variables.map((v) => v.shape),
  ];
  return {
    epoch: cp.epoch,
    steps: cp.steps,
    history: structuredClone(cp.history),
    best: stop
      ? {
          loss: stop.bestLoss,
          epoch: stop.bestEpoch,
          weights: stop.bestWeights ? stop.bestWeights.map((v, i) => tf.tensor(v, shapes[i])) : null,
        }
      : { loss: Infinity, epoch: 0, weights: null },
    firstValidation: stop?.firstValidation ? { ...stop.firstValidation } : undefined,
    initialLosses: cp.initialLosses ? [...cp.initialLosses] : undefined,
  };
}

/** A checkpoint that shares nothing with the run that made it (for handing to a store). */
export function detached(cp: TrainingCheckpoint): TrainingCheckpoint {
  return { ...cp, history: structuredClone(cp.history) };
}
