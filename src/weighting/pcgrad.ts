import * as tf from '@tensorflow/tfjs';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import type { TaskSpec } from '../tasks/task.js';
import {
  checkTaskVectors,
  gram,
  pcgradCoefficients,
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

export interface PcgradWeightingOptions {
  /** Seed of the generator that shuffles the projection order, an integer in [0, 2^32); default 0. */
  seed?: number;
}

/** PCGrad with its seed and the number of steps drawn so far exposed. */
export interface PcgradWeighting extends GradientWeightingStrategy {
  readonly seed: number;
  /** How many times `aggregate` has drawn projection orders (part of the state). */
  steps(): number;
}

function checkSeed(what: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`pcgrad weighting: ${what} must be an integer in [0, 2^32 - 1], got ${String(seed)}`);
  }
  return seed;
}

/**
 * PCGrad, "gradient surgery" (Yu, Kumar, Gupta, Levine, Hausman & Finn, "Gradient Surgery for Multi-Task
 * Learning", NeurIPS 2020). Each task's shared-parameter gradient g_i is projected, in a fresh random
 * order of the other tasks j, onto the normal plane of every g_j it conflicts with:
 *   if g_i·g_j < 0:  g_i ← g_i − (g_i·g_j / ‖g_j‖²)·g_j
 * (the dot product with the partly projected g_i, the projection onto the original g_j), and the shared
 * update is the sum of the projected gradients, as the paper and LibMTL. Every task's own parameters get
 * their own loss's gradient: `taskWeights` and `weights()` are all 1, and `combine` is Σ_t L_t.
 *
 * The order is drawn with a seeded numpy-compatible generator: one `permutation(T − 1)` of the other
 * tasks per task per step. The paper's Algorithm 1 draws from the other tasks only; LibMTL (and the
 * pytorch port) shuffle all T tasks, the task itself included, which only matters once g_i has been
 * projected so far that it points against its own original gradient.
 *
 * Everything is computed in Gram space: the T×T matrix of dot products is read back once, the
 * projections become a T×T coefficient matrix in float64, and the update is one combination Σ_t c_t·g_t
 * on the device.
 */
export function pcgradWeighting(
  tasks: readonly TaskSpec[],
  options: PcgradWeightingOptions = {},
): PcgradWeighting {
  checkTasks('pcgrad', tasks);
  let seed = checkSeed('seed', options.seed ?? 0);
  const T = tasks.length;
  const ones = tasks.map(() => 1);
  let rng = new NumpyRandomState(seed);
  let drawn = 0;

  /** Per task i, the other tasks in a random order. */
  const drawOrder = (): number[][] => {
    const order: number[][] = [];
    for (let i = 0; i < T; i++) {
      const others = tasks.map((_, j) => j).filter((j) => j !== i);
      order.push(Array.from(rng.permutation(T - 1), (k) => others[k]!));
    }
    drawn++;
    return order;
  };

  return {
    name: 'pcgrad',
    level: 'gradient',
    tasks,
    get seed() {
      return seed;
    },
    variables: [],
    combine(losses) {
      checkLossCount('pcgrad', tasks, losses);
      return weightedLossTotal(losses, ones);
    },
    weights: () => [...ones],
    aggregate(gradients) {
      checkLossCount('pcgrad', tasks, gradients.losses);
      checkTaskVectors('pcgrad', 'shared', gradients.shared, T);
      const order = drawOrder();
      const shared = tf.tidy(() => {
        const S = stackTaskVectors(gradients.shared);
        const C = pcgradCoefficients(gram(S), order);
        // Σ_i pc_i = Σ_k (Σ_i C[i][k])·g_k
        const total = ones.map((_, k) => C.reduce((s, row) => s + row[k]!, 0));
        return weightedSum(S, total);
      });
      return { shared, taskWeights: [...ones] };
    },
    steps: () => drawn,
    getState: () => ({ strategy: 'pcgrad', seed, steps: drawn }),
    setState(state: WeightingState) {
      checkStateFor('pcgrad', state);
      const s = checkSeed('state seed', state['seed']);
      const n = state['steps'];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
        throw new Error(`pcgrad weighting state: steps must be an integer ≥ 0, got ${String(n)}`);
      }
      seed = s;
      rng = new NumpyRandomState(seed);
      drawn = 0;
      for (let k = 0; k < n; k++) drawOrder();
    },
    dispose() {},
  };
}
