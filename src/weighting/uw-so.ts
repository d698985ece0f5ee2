import * as tf from '@tensorflow/tfjs';
import type { TaskSpec } from '../tasks/task.js';
import {
  checkLossCount,
  checkStateFor,
  checkTasks,
  type WeightingState,
  type WeightingStrategy,
} from './strategy.js';

export interface UwSoWeightingOptions {
  /** The softmax temperature τ (finite, > 0); default 1. Larger τ, more equal weights. */
  temperature?: number;
  /**
   * What the weights sum to (finite, > 0); default the number of tasks, so that equal losses give
   * weights of 1 like `equal`'s. The paper and its code normalise to 1: the same directions, the total
   * scaled by 1/T.
   */
  weightSum?: number;
}

/** UW-SO with its temperature exposed. */
export interface UwSoWeighting extends WeightingStrategy {
  readonly temperature: number;
}

/** Added to each loss before inverting it, as in the authors' code (a loss of exactly 0 stays finite). */
const EPSILON = 1e-8;

/**
 * Soft Optimal Uncertainty Weighting, UW-SO (Kirchdorfer, Elich, Kutsche, Stuckenschmidt, Schott &
 * Köhler, "Analytical Uncertainty-Based Loss Weighting in Multi-Task Learning", GCPR 2024,
 * arXiv:2408.07985). Uncertainty weighting's optimal σ_t for the current loss is analytic (for an L1
 * loss σ_t* = L_t, giving the weight 1/L_t: "UW-O"); UW-SO softens these inverse-loss weights with a
 * softmax of temperature τ. Implemented, from the current (per-step) losses:
 *   w_t = S·softmax_t((1/(L_t + ε))/τ) = S·exp(1/((L_t + ε)τ)) / Σ_k exp(1/((L_k + ε)τ)),   ε = 1e-8,
 *   total = Σ_t w_t·L_t,  with the weights held constant: ∂total/∂L_t = w_t (the losses are detached in
 *   the weights, as `losses.detach()` in the authors' code).
 * S = `weightSum`, default T (the number of tasks); the paper's weights sum to 1 (S = 1). Everything stays
 * on the device; `weights()` reads back the last combine's weights (all S/T before the first).
 *
 * The weights assume positive losses: a task whose loss is 0 at a step (e.g. no labelled sample in the
 * batch) takes nearly all of S, and the other tasks' weights fall to ~0 for that step.
 */
export function uwSoWeighting(tasks: readonly TaskSpec[], options: UwSoWeightingOptions = {}): UwSoWeighting {
  checkTasks('uw-so', tasks);
  const temperature = options.temperature ?? 1;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature <= 0) {
    throw new Error(`uw-so weighting: temperature must be a positive number, got ${temperature}`);
  }
  const T = tasks.length;
  const weightSum = options.weightSum ?? T;
  if (typeof weightSum !== 'number' || !Number.isFinite(weightSum) || weightSum <= 0) {
    throw new Error(`uw-so weighting: weightSum must be a positive number, got ${weightSum}`);
  }
  const initial = tasks.map(() => weightSum / T);
  /** The last combine's weights, kept on the device until the next combine or `dispose`. */
  let last: tf.Tensor1D | null = null;
  let restored: number[] | null = null;

  /** Σ_t w_t·L_t with the weights computed from the losses but differentiated as constants. */
  const weightedSum = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[T] as tf.GradSaveFunc;
    const L = tf.stack(args.slice(0, T) as tf.Tensor[]);
    const logits = tf.div(1 / temperature, tf.add(L, EPSILON));
    const w = tf.mul<tf.Tensor1D>(tf.softmax(logits), weightSum);
    save([w]);
    last?.dispose();
    last = tf.keep(w);
    restored = null;
    return {
      value: tf.sum(tf.mul(w, L)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.unstack(tf.mul(saved[0]!, dy)),
    };
  }) as unknown as (...inputs: tf.Tensor[]) => tf.Scalar;

  const read = (): number[] => {
    if (last !== null && !last.isDisposed) return Array.from(last.dataSync());
    return [...(restored ?? initial)];
  };

  return {
    name: 'uw-so',
    tasks,
    temperature,
    variables: [],
    combine(losses) {
      checkLossCount('uw-so', tasks, losses);
      return weightedSum(...losses);
    },
    weights: read,
    // the weights follow from each step's losses: only the last ones, for reporting after a resume
    getState: () => ({ strategy: 'uw-so', temperature, weights: read() }),
    setState(state: WeightingState) {
      checkStateFor('uw-so', state);
      const w = state['weights'];
      if (w === undefined) return;
      if (
        !Array.isArray(w) ||
        w.length !== T ||
        !w.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)
      ) {
        throw new Error(`uw-so weighting state: weights must be ${T} finite numbers ≥ 0`);
      }
      last?.dispose();
      last = null;
      restored = [...(w as number[])];
    },
    dispose() {
      last?.dispose();
      last = null;
    },
  };
}
