import * as tf from '@tensorflow/tfjs';
import type { TaskSpec } from '../tasks/task.js';
import {
  checkLossCount,
  checkStateFor,
  perTaskNumbers,
  checkTasks,
  type WeightingState,
  type WeightingStrategy,
} from './strategy.js';

export interface ImtlLWeightingOptions {
  /** Initial s per task (one number for all); default 0, i.e. every scale e^s = 1. */
  initialLogScale?: number | readonly number[];
  /**
   * Keep each s within [min, max] (projected after every step). Guards tasks whose loss can reach 0,
   * which would otherwise drive s → +∞.
   */
  clamp?: readonly [number, number];
  /** Learning rate of the scale parameters; default: the model's. */
  learningRate?: number;
}

/** IMTL-L with its log-scales exposed. */
export interface ImtlLWeighting extends WeightingStrategy {
  /** The log-scales s_t, one scalar variable per task. */
  readonly variables: readonly tf.Variable<tf.Rank.R0>[];
  logScales(): number[];
}

/**
 * IMTL-L, the loss-balance half of Impartial Multi-Task Learning (Liu et al., ICLR 2021): one learned
 * s_t per task and the total Σ_t e^(s_t)·L_t − s_t, minimised jointly over the model and s. For a fixed
 * L_t the term is convex in s_t with its minimum where e^(s_t)·L_t = 1 (s* = −log L_t): every scaled loss
 * is driven towards 1, whatever the task's units. The weight of task t is e^(s_t). The total can be
 * negative: a term at its optimum is 1 + log L_t.
 */
export function imtlLWeighting(
  tasks: readonly TaskSpec[],
  options: ImtlLWeightingOptions = {},
): ImtlLWeighting {
  checkTasks('imtl-l', tasks);
  const init = options.initialLogScale ?? 0;
  const initial = typeof init === 'number' ? tasks.map(() => init) : [...init];
  if (initial.length !== tasks.length) {
    throw new Error(
      `imtl-l weighting: initialLogScale has ${initial.length} values for ${tasks.length} tasks`,
    );
  }
  initial.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new Error(`imtl-l weighting: initialLogScale[${i}] must be finite, got ${v}`);
  });
  const clamp = options.clamp;
  if (clamp !== undefined && !(clamp.length === 2 && clamp[0] < clamp[1])) {
    throw new Error(`imtl-l weighting: clamp must be [min, max] with min < max, got [${clamp.join(', ')}]`);
  }
  const lr = options.learningRate;
  if (lr !== undefined && !(Number.isFinite(lr) && lr > 0)) {
    throw new Error(`imtl-l weighting: learningRate must be a positive number, got ${lr}`);
  }
  // inside tidy: the initial-value scalars are released, the variables are not
  const variables = tf.tidy(() =>
    initial.map((s) => {
      const start = clamp ? Math.min(Math.max(s, clamp[0]), clamp[1]) : s;
      return tf.tidy(() => tf.variable(tf.scalar(start), true));
    }),
  );
  const read = (): number[] => variables.map((v) => v.dataSync()[0]!);
  const T = tasks.length;

  /**
   * Σ_t e^(s_t)·L_t − s_t over all tasks at once, with its gradient written out:
   * ∂/∂L_t = e^(s_t), ∂/∂s_t = e^(s_t)·L_t − 1.
   */
  const combineTerms = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[2 * T] as tf.GradSaveFunc;
    const L = tf.stack(args.slice(0, T) as tf.Tensor[]);
    const S = tf.stack(args.slice(T, 2 * T) as tf.Tensor[]);
    const scale = tf.exp(S);
    const scaled = tf.mul(scale, L);
    save([scale, scaled]);
    return {
      value: tf.sum(tf.sub(scaled, S)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [scaleS, scaledS] = saved as [tf.Tensor, tf.Tensor];
        const dL = tf.mul(scaleS, dy);
        const dS = tf.mul(tf.sub(scaledS, 1), dy);
        return [...tf.unstack(dL), ...tf.unstack(dS)];
      },
    };
  }) as unknown as (...inputs: tf.Tensor[]) => tf.Scalar;

  return {
    name: 'imtl-l',
    tasks,
    variables,
    ...(lr !== undefined ? { learningRate: lr } : {}),
    combine(losses) {
      checkLossCount('imtl-l', tasks, losses);
      return combineTerms(...losses, ...variables);
    },
    weights: () => read().map((s) => Math.exp(s)),
    logScales: read,
    ...(clamp
      ? {
          afterStep() {
            tf.tidy(() => {
              for (const v of variables) v.assign(tf.clipByValue(v, clamp[0], clamp[1]));
            });
          },
        }
      : {}),
    getState: () => ({ strategy: 'imtl-l', logScale: read() }),
    setState(state: WeightingState) {
      checkStateFor('imtl-l', state);
      const s = perTaskNumbers('imtl-l', state, 'logScale', tasks);
      tf.tidy(() => variables.forEach((v, i) => v.assign(tf.scalar(s[i]!))));
    },
    dispose() {
      for (const v of variables) v.dispose();
    },
  };
}
