import * as tf from '@tensorflow/tfjs';
import type { TaskSpec } from '../tasks/task.js';
import {
  checkLossCount,
  checkStateFor,
  checkTasks,
  type WeightingState,
  type WeightingStrategy,
} from './strategy.js';

export interface FixedWeightingOptions {
  /** One weight per task, in task order (finite, ≥ 0). */
  weights: readonly number[];
}

/** Σ w_t·L_t with user-chosen weights: the hand-tuned baseline. */
export function fixedWeighting(
  tasks: readonly TaskSpec[],
  options?: FixedWeightingOptions,
): WeightingStrategy {
  if (!Array.isArray(options?.weights)) {
    throw new Error(
      `fixed weighting: options.weights must be an array of ${tasks.length} numbers, one per task`,
    );
  }
  return constantWeighting('fixed', tasks, options.weights);
}

export function constantWeighting(
  name: string,
  tasks: readonly TaskSpec[],
  initialWeights: readonly number[],
): WeightingStrategy {
  checkTasks(name, tasks);
  const check = (w: readonly number[]): number[] => {
    if (w.length !== tasks.length) {
      throw new Error(`${name} weighting: ${w.length} weights for ${tasks.length} tasks`);
    }
    w.forEach((v, i) => {
      if (!Number.isFinite(v) || v < 0) {
        throw new Error(
          `${name} weighting: weight ${i} (task '${tasks[i]!.name}') must be finite and ≥ 0, got ${v}`,
        );
      }
    });
    return [...w];
  };
  let weights = check(initialWeights);
  return {
    name,
    tasks,
    variables: [],
    combine(losses) {
      checkLossCount(name, tasks, losses);
      return tf.tidy(() => tf.addN(losses.map((l, i) => tf.mul(l, weights[i]!))) as tf.Scalar);
    },
    weights: () => [...weights],
    getState: () => ({ strategy: name, weights: [...weights] }),
    setState(state: WeightingState) {
      checkStateFor(name, state);
      weights = check(state['weights'] as number[]);
    },
    dispose() {},
  };
}
