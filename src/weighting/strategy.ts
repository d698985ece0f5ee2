import type * as tf from '@tensorflow/tfjs';
import type { TaskSpec } from '../tasks/task.js';

/** JSON-serialisable state of a strategy, for checkpoints. */
export interface WeightingState {
  readonly strategy: string;
  readonly [key: string]: unknown;
}

/**
 * Turns the tasks' losses into the one scalar the optimiser minimises. A strategy may own trainable
 * variables (uncertainty weighting owns the log-variances); the trainer optimises them with the model.
 */
export interface WeightingStrategy {
  readonly name: string;
  readonly tasks: readonly TaskSpec[];
  /** Trainable variables the strategy owns (never weight-decayed). Empty for fixed weightings. */
  readonly variables: readonly tf.Variable[];
  /** Learning rate for `variables`; undefined means the model's. */
  readonly learningRate?: number;
  /** Σ over tasks of the weighted losses (plus any regulariser); differentiable. */
  combine(losses: readonly tf.Scalar[]): tf.Scalar;
  /** The multiplier each task's loss has in the total right now. */
  weights(): number[];
  /** Each task's learned noise standard deviation, in the loss's units, where the strategy models it. */
  sigmas?(): number[];
  /** After each optimiser step (e.g. to project variables back into a clamp range). */
  afterStep?(): void;
  /** At the end of every epoch, with the epoch's mean (unweighted) loss per task (e.g. for DWA). */
  onEpochEnd?(taskLosses: readonly number[]): void;
  getState(): WeightingState;
  setState(state: WeightingState): void;
  dispose(): void;
}

/**
 * Per-task gradients a gradient-level strategy works on, computed by the trainer once per task per step.
 * All vectors are flattened; gradients are of each task's own, unweighted loss.
 */
export interface TaskGradients {
  /** Per task: ∂L_t/∂θ over every shared parameter, concatenated: [P]. */
  shared: readonly tf.Tensor1D[];
  /** Per task: ∂L_t/∂W over the last shared layer's weights only (GradNorm's W): [P_last]. */
  lastShared: readonly tf.Tensor1D[];
  /** Per task: ∂L_t/∂Z for the shared representation Z (MGDA-UB), when the model exposes one: [B·d]. */
  representation?: readonly tf.Tensor1D[];
  /** Per task loss. */
  losses: readonly tf.Scalar[];
}

/** What a gradient-level strategy decides for one step. */
export interface GradientDecision {
  /** The update direction (a gradient to descend) for the shared parameters, [P]. */
  shared: tf.Tensor1D;
  /** The weight each task's own (head) parameters' gradient is scaled by. */
  taskWeights: number[];
}

/**
 * A strategy that also sees per-task gradients of the shared parameters (PCGrad, MGDA-UB, CAGrad,
 * GradNorm). The trainer descends `aggregate(...).shared` for the shared parameters and each task's
 * weighted gradient for its own parameters; `combine` is still used for reporting the total.
 */
export interface GradientWeightingStrategy extends WeightingStrategy {
  readonly level: 'gradient';
  aggregate(gradients: TaskGradients): GradientDecision;
}

export function isGradientStrategy(s: WeightingStrategy): s is GradientWeightingStrategy {
  return (s as Partial<GradientWeightingStrategy>).level === 'gradient';
}

export function checkLossCount(
  strategy: string,
  tasks: readonly TaskSpec[],
  losses: readonly tf.Scalar[],
): void {
  if (losses.length !== tasks.length) {
    throw new Error(`${strategy} weighting: got ${losses.length} losses for ${tasks.length} tasks`);
  }
}

export function checkTasks(strategy: string, tasks: readonly TaskSpec[]): void {
  if (tasks.length === 0) throw new Error(`${strategy} weighting: at least one task is needed`);
  const seen = new Set<string>();
  for (const t of tasks) {
    if (seen.has(t.name)) throw new Error(`${strategy} weighting: task name '${t.name}' appears twice`);
    seen.add(t.name);
  }
}

/** A state field holding one finite number per task; throws naming the strategy and field otherwise. */
export function perTaskNumbers(
  strategy: string,
  state: WeightingState,
  field: string,
  tasks: readonly TaskSpec[],
): number[] {
  const v = state[field];
  if (
    !Array.isArray(v) ||
    v.length !== tasks.length ||
    !v.every((x) => typeof x === 'number' && Number.isFinite(x))
  ) {
    throw new Error(`${strategy} weighting state: ${field} must be ${tasks.length} finite numbers`);
  }
  return v as number[];
}

export function checkStateFor(strategy: string, state: WeightingState): void {
  if (state.strategy !== strategy) {
    throw new Error(`cannot load '${state.strategy}' weighting state into a '${strategy}' strategy`);
  }
}
