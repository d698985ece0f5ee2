import * as tf from '@tensorflow/tfjs';
import type { TaskSpec } from '../tasks/task.js';
import {
  checkTaskVectors,
  gram,
  minNormWeights,
  weightedLossTotal,
  weightedSum,
  type GramMatrix,
} from './gradient-math.js';
import {
  checkLossCount,
  checkStateFor,
  checkTasks,
  type GradientWeightingStrategy,
  type WeightingState,
} from './strategy.js';

/**
 * How each task's gradient is scaled before the min-norm problem (LibMTL's `mgda_gn`, the official
 * code's `normalization_type`): `none` as is; `l2` by its norm ‖g_t‖; `loss` by its loss L_t; `loss+` by
 * L_t·‖g_t‖.
 */
export type MgdaNormalization = 'none' | 'l2' | 'loss' | 'loss+';
export const MGDA_NORMALIZATIONS: readonly MgdaNormalization[] = Object.freeze([
  'none',
  'l2',
  'loss',
  'loss+',
]);

/**
 * The weight of each task's own (head) parameters' gradient: `one`, as LibMTL (each head gets its own
 * loss's unweighted gradient), or `alpha`, as the official MGDA code (which trains on Σ_t α_t·L_t, heads
 * included).
 */
export type MgdaHeadWeights = 'one' | 'alpha';

export interface MgdaUbWeightingOptions {
  /** Default 'none' (LibMTL's default). */
  normalization?: MgdaNormalization;
  /** Default 'one' (LibMTL). */
  headWeights?: MgdaHeadWeights;
  /** Most Frank–Wolfe iterations; default 250. */
  iterations?: number;
  /** Frank–Wolfe stops when Σ|Δα| falls below this; default 1e-5. */
  tolerance?: number;
}

/** MGDA-UB with its last min-norm solution exposed. */
export interface MgdaUbWeighting extends GradientWeightingStrategy {
  readonly normalization: MgdaNormalization;
  readonly headWeights: MgdaHeadWeights;
  /** The last min-norm weights α (on the simplex: ≥ 0, sum 1); 1/T each before the first step. */
  alphas(): number[];
}

function checkAlphas(what: string, a: unknown, T: number): number[] {
  if (
    !Array.isArray(a) ||
    a.length !== T ||
    !a.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)
  ) {
    throw new Error(`mgda-ub weighting ${what}: alphas must be ${T} finite numbers ≥ 0`);
  }
  return [...(a as number[])];
}

/**
 * MGDA-UB (Sener & Koltun, "Multi-Task Learning as Multi-Objective Optimization", NeurIPS 2018): the
 * multiple-gradient descent algorithm with its upper-bound shortcut. Each step finds the min-norm point
 * of the convex hull of the tasks' gradients with respect to the shared representation Z,
 *   α = argmin over the simplex of ‖Σ_t α_t ∂L_t/∂Z‖²
 * (closed form for two tasks, Frank–Wolfe on the T×T Gram matrix otherwise — `minNormWeights`), and
 * descends Σ_t α_t·∇_θ L_t for the shared parameters: the weights come from the cheap representation
 * gradients and are applied to the parameter gradients. When `gradients.representation` is absent the
 * min-norm problem is solved on the shared-parameter gradients themselves (plain MGDA).
 *
 * Conventions, following LibMTL's `weighting/MGDA.py` (which adapts the official code):
 * - α sums to 1 (not T), and `alphas()` reports it, as LibMTL's returned weights;
 * - `normalization` (LibMTL's `mgda_gn`, default 'none') rescales the gradients only for the min-norm
 *   problem: α is applied to the raw parameter gradients, as in LibMTL's representation path and the
 *   official code (LibMTL's parameter-gradient path applies α to the normalised gradients instead). A
 *   normaliser that is 0 or not finite (a zero gradient, a zero loss) is replaced by 1;
 * - `headWeights` 'one' (default): every head trains on its own unweighted loss gradient, as in LibMTL,
 *   whose per-task backward passes leave the heads' gradients unscaled; `combine` is then Σ_t L_t.
 *   'alpha' scales head t by α_t (the official code's Σ_t α_t·L_t), and `combine` is Σ_t α_t·L_t.
 * - The representation gradients are used whole, [B·d], as in the official code (LibMTL sums them over
 *   the batch first, to [d]).
 * - The two-vector closed form returns the exact end points where LibMTL's returns 0.999/0.001.
 */
export function mgdaUbWeighting(
  tasks: readonly TaskSpec[],
  options: MgdaUbWeightingOptions = {},
): MgdaUbWeighting {
  checkTasks('mgda-ub', tasks);
  const normalization = options.normalization ?? 'none';
  if (!MGDA_NORMALIZATIONS.includes(normalization)) {
    throw new Error(
      `mgda-ub weighting: normalization must be one of ${MGDA_NORMALIZATIONS.join(', ')}; got '${String(normalization)}'`,
    );
  }
  const headWeights = options.headWeights ?? 'one';
  if (headWeights !== 'one' && headWeights !== 'alpha') {
    throw new Error(`mgda-ub weighting: headWeights must be one of one, alpha; got '${String(headWeights)}'`);
  }
  const iterations = options.iterations ?? 250;
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw new Error(`mgda-ub weighting: iterations must be an integer ≥ 0, got ${iterations}`);
  }
  const tolerance = options.tolerance ?? 1e-5;
  if (!(Number.isFinite(tolerance) && tolerance >= 0)) {
    throw new Error(`mgda-ub weighting: tolerance must be a finite number ≥ 0, got ${tolerance}`);
  }
  const T = tasks.length;
  const ones = tasks.map(() => 1);
  let alphas = tasks.map(() => 1 / T);
  const taskWeights = (): number[] => (headWeights === 'alpha' ? [...alphas] : [...ones]);

  const normalise = (G: GramMatrix, losses: readonly tf.Scalar[]): number[][] => {
    if (normalization === 'none') return G.map((row) => [...row]);
    const L = normalization === 'l2' ? ones : readLosses(losses);
    const n = G.map((row, t) => {
      const norm = Math.sqrt(Math.max(row[t]!, 0));
      const v = normalization === 'loss' ? L[t]! : normalization === 'l2' ? norm : L[t]! * norm;
      return Number.isFinite(v) && v > 0 ? v : 1;
    });
    return G.map((row, i) => row.map((v, j) => v / (n[i]! * n[j]!)));
  };

  return {
    name: 'mgda-ub',
    level: 'gradient',
    tasks,
    normalization,
    headWeights,
    variables: [],
    combine(losses) {
      checkLossCount('mgda-ub', tasks, losses);
      return weightedLossTotal(losses, taskWeights());
    },
    weights: taskWeights,
    alphas: () => [...alphas],
    aggregate(gradients) {
      checkLossCount('mgda-ub', tasks, gradients.losses);
      checkTaskVectors('mgda-ub', 'shared', gradients.shared, T);
      const rep = gradients.representation;
      if (rep !== undefined) checkTaskVectors('mgda-ub', 'representation', rep, T);
      const G = normalise(gram(rep ?? gradients.shared), gradients.losses);
      alphas = minNormWeights(G, { iterations, tolerance });
      return { shared: weightedSum(gradients.shared, alphas), taskWeights: taskWeights() };
    },
    getState: () => ({ strategy: 'mgda-ub', alphas: [...alphas] }),
    setState(state: WeightingState) {
      checkStateFor('mgda-ub', state);
      alphas = checkAlphas('state', state['alphas'], T);
    },
    dispose() {},
  };
}

function readLosses(losses: readonly tf.Scalar[]): number[] {
  const stacked = tf.stack([...losses]);
  const values = Array.from(stacked.dataSync());
  stacked.dispose();
  return values;
}
