import * as tf from '@tensorflow/tfjs';
import type { TaskSpec } from '../tasks/task.js';
import {
  checkLossCount,
  checkStateFor,
  checkTasks,
  type WeightingState,
  type WeightingStrategy,
} from './strategy.js';

export interface DwaWeightingOptions {
  /** The softmax temperature τ (finite, > 0); default 2, the paper's. Larger τ, more equal weights. */
  temperature?: number;
}

/** DWA with its temperature exposed. */
export interface DwaWeighting extends WeightingStrategy {
  readonly temperature: number;
}

/** T·softmax(x), in float64 and shifted by the maximum so that it can't overflow. */
export function scaledSoftmax(x: readonly number[], total: number): number[] {
  const max = Math.max(...x);
  const e = x.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => (total * v) / sum);
}

/**
 * Dynamic Weight Average (Liu, Johns & Davison, CVPR 2019, eq. 7): for epoch e ≥ 3,
 *   w_t = T·exp(r_t/τ) / Σ_k exp(r_k/τ),  r_t = L_t(e−1) / L_t(e−2),
 * where L_t(·) is task t's mean training loss over an epoch (passed to `onEpochEnd`) and T the number of
 * tasks; w_t = 1 in the first two epochs. The weights are constant within an epoch; `combine` is Σ w_t·L_t
 * with no gradient through them. A task whose loss was exactly 0 two epochs back gets r_t = 1.
 */
export function dwaWeighting(tasks: readonly TaskSpec[], options: DwaWeightingOptions = {}): DwaWeighting {
  checkTasks('dwa', tasks);
  const temperature = options.temperature ?? 2;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature <= 0) {
    throw new Error(`dwa weighting: temperature must be a positive number, got ${temperature}`);
  }
  const T = tasks.length;
  /** The last two epochs' mean losses, oldest first. */
  let history: number[][] = [];
  let weights: number[] = tasks.map(() => 1);

  const update = (): void => {
    if (history.length < 2) {
      weights = tasks.map(() => 1);
      return;
    }
    const [older, last] = history as [number[], number[]];
    const r = last.map((l, t) => (older[t] === 0 ? 1 : l / older[t]!));
    weights = scaledSoftmax(
      r.map((v) => v / temperature),
      T,
    );
  };
  const checkLosses = (what: string, losses: unknown): number[] => {
    if (!Array.isArray(losses) || losses.length !== T) {
      throw new Error(`dwa weighting: ${what} must be ${T} numbers, one per task`);
    }
    return losses.map((v, t) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new Error(`dwa weighting: ${what}[${t}] (task '${tasks[t]!.name}') must be finite, got ${v}`);
      }
      return v;
    });
  };

  return {
    name: 'dwa',
    tasks,
    temperature,
    variables: [],
    combine(losses) {
      checkLossCount('dwa', tasks, losses);
      const w = weights;
      return tf.tidy(() => tf.sum<tf.Scalar>(tf.mul(tf.stack([...losses]), tf.tensor1d(w))));
    },
    weights: () => [...weights],
    onEpochEnd(taskLosses) {
      if (taskLosses.length !== T) {
        throw new Error(`dwa weighting: got ${taskLosses.length} epoch losses for ${T} tasks`);
      }
      // a diverged epoch (non-finite mean) is left out of the history: the trainer reports it
      if (!taskLosses.every((v) => Number.isFinite(v))) return;
      history = [...history, [...taskLosses]].slice(-2);
      update();
    },
    getState: () => ({ strategy: 'dwa', temperature, history: history.map((h) => [...h]) }),
    setState(state: WeightingState) {
      checkStateFor('dwa', state);
      const h = state['history'];
      if (!Array.isArray(h) || h.length > 2) {
        throw new Error('dwa weighting state: history must be a list of at most 2 epochs');
      }
      history = h.map((epoch, i) => checkLosses(`state history[${i}]`, epoch));
      update();
    },
    dispose() {},
  };
}
