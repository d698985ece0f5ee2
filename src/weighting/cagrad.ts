import * as tf from '@tensorflow/tfjs';
import type { TaskSpec } from '../tasks/task.js';
import {
  cagradWeights,
  checkTaskVectors,
  gram,
  stackTaskVectors,
  weightedLossTotal,
  weightedSum,
} from './gradient-math.js';
import {
  checkLossCount,
  checkStateFor,
  checkTasks,
  type GradientWeightingStrategy,
  type WeightingState,
} from './strategy.js';

/**
 * LibMTL's `rescale` of the CAGrad direction d: 0 none, 1 d/(1 + c²) (LibMTL's default and the official
 * NYUv2/Cityscapes code's), 2 d/(1 + c).
 */
export type CagradRescale = 0 | 1 | 2;

export interface CagradWeightingOptions {
  /** c ≥ 0 (the paper: [0, 1)): how far the update may move from the mean gradient; default 0.4 (LibMTL: 0.5). */
  c?: number;
  /** Default 1: d/(1 + c²). */
  rescale?: CagradRescale;
  /** Most projected-gradient iterations of the inner T-dimensional problem; default 500. */
  iterations?: number;
  /** The inner solver stops when Σ|Δw| falls below this; default 1e-8. */
  tolerance?: number;
}

/** CAGrad with its last inner solution exposed. */
export interface CagradWeighting extends GradientWeightingStrategy {
  readonly c: number;
  readonly rescale: CagradRescale;
  /** The last inner weights w (on the simplex); 1/T each before the first step. */
  innerWeights(): number[];
}

/**
 * CAGrad, conflict-averse gradient descent (Liu, Liu, Jin, Stone & Liu, "Conflict-Averse Gradient
 * Descent for Multi-task Learning", NeurIPS 2021). Within a ball of radius c·‖g0‖ around the mean
 * gradient g0 it looks for the update that maximises the worst task's improvement; through the dual,
 *   w = argmin over the simplex of g_w·g0 + √φ·‖g_w‖,  g_w = Σ_t w_t g_t,  √φ = c·‖g0‖,
 *   d = g0 + (√φ/‖g_w‖)·g_w,
 * and the shared parameters descend d/(1 + c²) (`rescale` 1). c = 0 gives the mean gradient (plain
 * gradient descent on the mean loss); larger c moves towards MGDA's min-norm direction.
 *
 * Follows LibMTL's `weighting/CAGrad.py` (itself from the official code) exactly — its 1e-8 guards in
 * ‖g0‖, √φ and λ, its `rescale` choices — except for the inner solver: LibMTL calls scipy's SLSQP from
 * w = 1/T; this runs projected gradient descent with a backtracking step from the same start on the
 * T×T Gram matrix in float64 (`cagradWeights`). The heads train on their own unweighted loss gradients
 * (LibMTL and the official code only overwrite the shared gradients), so `taskWeights` and `weights()`
 * are all 1 and `combine` is Σ_t L_t. Note that d is on the scale of the mean gradient; the official
 * NYUv2 code multiplies it by T "to match the sum loss", LibMTL does not.
 */
export function cagradWeighting(
  tasks: readonly TaskSpec[],
  options: CagradWeightingOptions = {},
): CagradWeighting {
  checkTasks('cagrad', tasks);
  const c = options.c ?? 0.4;
  if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) {
    throw new Error(`cagrad weighting: c must be a finite number ≥ 0, got ${String(c)}`);
  }
  const rescale = options.rescale ?? 1;
  if (rescale !== 0 && rescale !== 1 && rescale !== 2) {
    throw new Error(`cagrad weighting: rescale must be 0, 1 or 2, got ${String(rescale)}`);
  }
  const iterations = options.iterations ?? 500;
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw new Error(`cagrad weighting: iterations must be an integer ≥ 0, got ${iterations}`);
  }
  const tolerance = options.tolerance ?? 1e-8;
  if (!(Number.isFinite(tolerance) && tolerance >= 0)) {
    throw new Error(`cagrad weighting: tolerance must be a finite number ≥ 0, got ${tolerance}`);
  }
  const T = tasks.length;
  const ones = tasks.map(() => 1);
  const scale = rescale === 0 ? 1 : rescale === 1 ? 1 / (1 + c * c) : 1 / (1 + c);
  let inner = tasks.map(() => 1 / T);

  return {
    name: 'cagrad',
    level: 'gradient',
    tasks,
    c,
    rescale,
    variables: [],
    combine(losses) {
      checkLossCount('cagrad', tasks, losses);
      return weightedLossTotal(losses, ones);
    },
    weights: () => [...ones],
    innerWeights: () => [...inner],
    aggregate(gradients) {
      checkLossCount('cagrad', tasks, gradients.losses);
      checkTaskVectors('cagrad', 'shared', gradients.shared, T);
      const shared = tf.tidy(() => {
        const S = stackTaskVectors(gradients.shared);
        const solution = cagradWeights(gram(S), c, { iterations, tolerance });
        inner = solution.weights;
        return weightedSum(
          S,
          solution.coefficients.map((k) => k * scale),
        );
      });
      return { shared, taskWeights: [...ones] };
    },
    getState: () => ({ strategy: 'cagrad', innerWeights: [...inner] }),
    setState(state: WeightingState) {
      checkStateFor('cagrad', state);
      const w = state['innerWeights'];
      if (
        !Array.isArray(w) ||
        w.length !== T ||
        !w.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)
      ) {
        throw new Error(`cagrad weighting state: innerWeights must be ${T} finite numbers ≥ 0`);
      }
      inner = [...(w as number[])];
    },
    dispose() {},
  };
}
