import * as tf from '@tensorflow/tfjs';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import type { TaskSpec } from '../tasks/task.js';
import { scaledSoftmax } from './dwa.js';
import {
  checkLossCount,
  checkStateFor,
  checkTasks,
  type WeightingState,
  type WeightingStrategy,
} from './strategy.js';

export interface RlwWeightingOptions {
  /** Seed of the weights' random generator, an integer in [0, 2^32); default 0. */
  seed?: number;
  /**
   * What the weights sum to (finite, > 0); default the number of tasks, so that they average 1 like
   * `equal`'s. The paper (and LibMTL) normalise to 1: the same directions, the total scaled by 1/T.
   */
  weightSum?: number;
}

/** RLW with its seed and the number of weight vectors drawn so far exposed. */
export interface RlwWeighting extends WeightingStrategy {
  readonly seed: number;
  /** How many weight vectors `combine` has drawn (part of the state). */
  draws(): number;
}

function checkSeed(what: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`rlw weighting: ${what} must be an integer in [0, 2^32 - 1], got ${String(seed)}`);
  }
  return seed;
}

/**
 * Random Loss Weighting (Lin et al., TMLR 2022, "Reasonable Effectiveness of Random Weighting"), with
 * normally distributed logits: every call of `combine` draws fresh weights
 *   w = S·softmax(z),  z ~ N(0, I_T),
 * from a seeded numpy-compatible generator (S = `weightSum`, default T), and returns Σ w_t·L_t with no
 * gradient through w. `weights()` is the last draw (all S/T before the first). The state is the seed and
 * the number of draws; loading it replays the generator to the same position.
 */
export function rlwWeighting(tasks: readonly TaskSpec[], options: RlwWeightingOptions = {}): RlwWeighting {
  checkTasks('rlw', tasks);
  let seed = checkSeed('seed', options.seed ?? 0);
  const T = tasks.length;
  const weightSum = options.weightSum ?? T;
  if (typeof weightSum !== 'number' || !Number.isFinite(weightSum) || weightSum <= 0) {
    throw new Error(`rlw weighting: weightSum must be a positive number, got ${weightSum}`);
  }
  const initial = tasks.map(() => weightSum / T);
  let rng = new NumpyRandomState(seed);
  let drawn = 0;
  let weights = initial;

  const draw = (): number[] => {
    const z: number[] = [];
    for (let t = 0; t < T; t++) z.push(rng.standardNormal());
    drawn++;
    return scaledSoftmax(z, weightSum);
  };

  return {
    name: 'rlw',
    tasks,
    get seed() {
      return seed;
    },
    variables: [],
    combine(losses) {
      checkLossCount('rlw', tasks, losses);
      const w = (weights = draw());
      return tf.tidy(() => tf.sum<tf.Scalar>(tf.mul(tf.stack([...losses]), tf.tensor1d(w))));
    },
    weights: () => [...weights],
    draws: () => drawn,
    getState: () => ({ strategy: 'rlw', seed, draws: drawn }),
    setState(state: WeightingState) {
      checkStateFor('rlw', state);
      const s = checkSeed('state seed', state['seed']);
      const n = state['draws'];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
        throw new Error(`rlw weighting state: draws must be an integer ≥ 0, got ${String(n)}`);
      }
      seed = s;
      rng = new NumpyRandomState(seed);
      drawn = 0;
      weights = initial;
      // replay: T normal deviates a draw, the softmax only for the last one
      for (let k = 0; k < n - 1; k++) {
        for (let t = 0; t < T; t++) rng.standardNormal();
        drawn++;
      }
      if (n > 0) weights = draw();
    },
    dispose() {},
  };
}
