import * as tf from '@tensorflow/tfjs';
import type { TaskSpec } from '../tasks/task.js';
import { checkTaskVectors, stackTaskVectors, weightedLossTotal, weightedSum } from './gradient-math.js';
import {
  checkLossCount,
  checkStateFor,
  checkTasks,
  type GradientWeightingStrategy,
  type WeightingState,
} from './strategy.js';

export interface GradNormWeightingOptions {
  /** α ≥ 0, the strength of the pull towards a common training rate; default 1.5. */
  alpha?: number;
  /** Step size of the plain gradient step on the task weights (> 0); default 0.025. */
  learningRate?: number;
}

/** GradNorm with its parameters and the reference losses exposed. */
export interface GradNormWeighting extends GradientWeightingStrategy {
  readonly alpha: number;
  readonly weightLearningRate: number;
  /** L_t(0), the losses at the first `aggregate`; null before it. */
  initialLosses(): number[] | null;
}

function finiteArray(what: string, v: unknown, T: number, min: number): number[] {
  if (
    !Array.isArray(v) ||
    v.length !== T ||
    !v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= min)
  ) {
    throw new Error(`gradnorm weighting state: ${what} must be ${T} finite numbers ≥ ${min}`);
  }
  return [...(v as number[])];
}

/**
 * GradNorm (Chen, Badrinarayanan, Lee & Rabinovich, "GradNorm: Gradient Normalization for Adaptive Loss
 * Balancing in Deep Multitask Networks", ICML 2018). Task weights w_t (all 1 at the start, summing to T)
 * are tuned so that each task's weighted gradient norm on the last shared layer W,
 * G_t = w_t·‖∇_W L_t‖ (from `gradients.lastShared`), tracks the mean norm Ḡ scaled by how far behind the
 * task is: with r_t = (L_t/L_t(0)) / mean_k(L_k/L_k(0)) (L(0) the losses at the first step) the
 * GradNorm loss is Σ_t |G_t − Ḡ·r_t^α|, its target Ḡ·r_t^α held constant. A task whose loss falls more
 * slowly (larger r_t) gets a larger target and its weight grows.
 *
 * As the paper's Algorithm 1, each `aggregate` first decides the step with the current weights —
 * shared update Σ_t w_t·∇_θ L_t (over `gradients.shared`), `taskWeights` = w — and then updates the
 * weights for the next step: one plain gradient step w_t ← w_t − η·sign(G_t − Ḡ·r_t^α)·‖∇_W L_t‖ (the
 * exact derivative of the GradNorm loss in w_t, no second-order autodiff), weights clipped at 0, and the
 * renormalisation Σ_t w_t = T. `weights()` is therefore the weights the next step will use. The weights
 * are JS numbers, not trainable variables.
 *
 * LibMTL's `weighting/GradNorm.py` differs in ways this does not follow: it parameterises
 * w = T·softmax(s) and trains s with the model's optimiser, measures the norms on all shared parameters
 * (or the representation) instead of the last shared layer, and takes L(0) as the mean losses of the first
 * epoch (which it trains with equal weights). A task whose L(0) is 0 has ratio 1.
 */
export function gradNormWeighting(
  tasks: readonly TaskSpec[],
  options: GradNormWeightingOptions = {},
): GradNormWeighting {
  checkTasks('gradnorm', tasks);
  const alpha = options.alpha ?? 1.5;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) {
    throw new Error(`gradnorm weighting: alpha must be a finite number ≥ 0, got ${String(alpha)}`);
  }
  const lr = options.learningRate ?? 0.025;
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0) {
    throw new Error(`gradnorm weighting: learningRate must be a positive number, got ${String(lr)}`);
  }
  const T = tasks.length;
  let weights = tasks.map(() => 1);
  let initial: number[] | null = null;

  const read = (vs: readonly tf.Tensor[], f: (s: tf.Tensor) => tf.Tensor): number[] => {
    const t = tf.tidy(() => f(tf.stack([...vs])));
    const out = Array.from(t.dataSync());
    t.dispose();
    return out;
  };

  return {
    name: 'gradnorm',
    level: 'gradient',
    tasks,
    alpha,
    weightLearningRate: lr,
    variables: [],
    combine(losses) {
      checkLossCount('gradnorm', tasks, losses);
      return weightedLossTotal(losses, weights);
    },
    weights: () => [...weights],
    initialLosses: () => (initial ? [...initial] : null),
    aggregate(gradients) {
      checkLossCount('gradnorm', tasks, gradients.losses);
      checkTaskVectors('gradnorm', 'shared', gradients.shared, T);
      checkTaskVectors('gradnorm', 'lastShared', gradients.lastShared, T);
      const L = read(gradients.losses, (s) => s);
      L.forEach((l, t) => {
        if (!Number.isFinite(l)) {
          throw new Error(`gradnorm weighting: loss of task '${tasks[t]!.name}' is ${l}`);
        }
      });
      const norms = read(gradients.lastShared, (s) => tf.sqrt(tf.sum(tf.square(s), 1)));
      const used = [...weights];
      const shared = tf.tidy(() => weightedSum(stackTaskVectors(gradients.shared), used));

      initial ??= L;
      const L0 = initial;
      const ratio = L.map((l, t) => (L0[t]! > 0 ? l / L0[t]! : 1));
      const meanRatio = ratio.reduce((a, b) => a + b, 0) / T;
      const G = used.map((w, t) => w * norms[t]!);
      const meanG = G.reduce((a, b) => a + b, 0) / T;
      const next = used.map((w, t) => {
        const r = meanRatio > 0 ? ratio[t]! / meanRatio : 1;
        const target = meanG * r ** alpha;
        return Math.max(w - lr * Math.sign(G[t]! - target) * norms[t]!, 0);
      });
      const sum = next.reduce((a, b) => a + b, 0);
      weights = sum > 0 ? next.map((w) => (T * w) / sum) : tasks.map(() => 1);
      return { shared, taskWeights: used };
    },
    getState: () => ({
      strategy: 'gradnorm',
      weights: [...weights],
      initialLosses: initial ? [...initial] : null,
    }),
    setState(state: WeightingState) {
      checkStateFor('gradnorm', state);
      const w = finiteArray('weights', state['weights'], T, 0);
      const l0 = state['initialLosses'];
      initial = l0 === null || l0 === undefined ? null : finiteArray('initialLosses', l0, T, 0);
      weights = w;
    },
    dispose() {},
  };
}
