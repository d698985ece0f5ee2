import * as tf from '@tensorflow/tfjs';

/**
 * Shared helpers of the gradient-level strategies (PCGrad, MGDA-UB, CAGrad, GradNorm).
 *
 * The per-task gradients stay on the device as [P] vectors; everything these methods decide depends on
 * them only through their T×T Gram matrix G_ij = g_i·g_j, which is read back once (T is small) and worked
 * on as plain JS numbers in float64. The decision then comes back to the device as one linear
 * combination Σ_t c_t·g_t.
 */

/** T per-task gradient vectors, or the same already stacked into a [T, P] matrix. */
export type TaskVectors = readonly tf.Tensor1D[] | tf.Tensor2D;

/** A T×T (symmetric) Gram matrix as JS numbers. */
export type GramMatrix = readonly (readonly number[])[];

/**
 * Checks one field of `TaskGradients`: an array of `count` rank-1 tensors of one common length.
 * Returns that length.
 */
export function checkTaskVectors(
  strategy: string,
  field: string,
  vectors: readonly tf.Tensor1D[] | undefined,
  count: number,
): number {
  if (!Array.isArray(vectors)) {
    throw new Error(`${strategy} weighting: gradients.${field} must be an array of ${count} vectors`);
  }
  if (vectors.length !== count) {
    throw new Error(
      `${strategy} weighting: gradients.${field} has ${vectors.length} vectors for ${count} tasks`,
    );
  }
  let size = -1;
  vectors.forEach((v, t) => {
    if (!(v instanceof tf.Tensor) || v.rank !== 1) {
      throw new Error(`${strategy} weighting: gradients.${field}[${t}] must be a 1-D tensor`);
    }
    if (v.isDisposed) throw new Error(`${strategy} weighting: gradients.${field}[${t}] is disposed`);
    if (size === -1) size = v.size;
    else if (v.size !== size) {
      throw new Error(
        `${strategy} weighting: gradients.${field}[${t}] has ${v.size} entries, gradients.${field}[0] has ${size}`,
      );
    }
  });
  return size;
}

function rowsOf(gs: TaskVectors): number {
  return Array.isArray(gs) ? gs.length : (gs as tf.Tensor2D).shape[0];
}

/** The vectors as a [T, P] matrix (a new tensor; the caller disposes it, or calls this inside a tidy). */
export function stackTaskVectors(gs: TaskVectors): tf.Tensor2D {
  if (!Array.isArray(gs)) return tf.clone(gs as tf.Tensor2D);
  const rows = gs as readonly tf.Tensor1D[];
  if (rows.length === 0) throw new Error('stackTaskVectors: no vectors');
  return tf.stack(rows as tf.Tensor1D[]) as tf.Tensor2D;
}

/** G_ij = g_i·g_j, computed on the device in one matMul and read back (symmetrised) as JS numbers. */
export function gram(gs: TaskVectors): number[][] {
  const T = rowsOf(gs);
  if (T === 0) return [];
  const product = tf.tidy(() => {
    const S = Array.isArray(gs) ? stackTaskVectors(gs) : (gs as tf.Tensor2D);
    return tf.matMul(S, S, false, true);
  });
  const data = product.dataSync();
  product.dispose();
  const G: number[][] = [];
  for (let i = 0; i < T; i++) {
    const row: number[] = [];
    for (let j = 0; j < T; j++) row.push((data[i * T + j]! + data[j * T + i]!) / 2);
    G.push(row);
  }
  return G;
}

/** Σ_t w_t·L_t as a new scalar, differentiable in the losses (the weights are constants). */
export function weightedLossTotal(losses: readonly tf.Scalar[], weights: readonly number[]): tf.Scalar {
  return tf.tidy(() => tf.sum<tf.Scalar>(tf.mul(tf.stack([...losses]), tf.tensor1d([...weights]))));
}

/** Σ_t c_t·g_t as a new [P] tensor. */
export function weightedSum(gs: TaskVectors, coefficients: readonly number[]): tf.Tensor1D {
  const T = rowsOf(gs);
  if (coefficients.length !== T) {
    throw new Error(`weightedSum: ${coefficients.length} coefficients for ${T} vectors`);
  }
  coefficients.forEach((c, t) => {
    if (!Number.isFinite(c)) throw new Error(`weightedSum: coefficient ${t} must be finite, got ${c}`);
  });
  return tf.tidy(() => {
    const S = Array.isArray(gs) ? stackTaskVectors(gs) : (gs as tf.Tensor2D);
    const c = tf.tensor2d([...coefficients], [1, T]);
    return tf.reshape<tf.Rank.R1>(tf.matMul(c, S), [-1]);
  });
}

function checkGram(what: string, G: GramMatrix): number {
  const T = G.length;
  G.forEach((row, i) => {
    if (row.length !== T)
      throw new Error(`${what}: Gram matrix row ${i} has ${row.length} entries, not ${T}`);
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) throw new Error(`${what}: Gram matrix entry [${i}][${j}] is ${v}`);
    });
  });
  return T;
}

function checkOrder(order: readonly (readonly number[])[], T: number): void {
  if (order.length !== T) throw new Error(`pcgrad: order has ${order.length} rows for ${T} tasks`);
  order.forEach((row, i) =>
    row.forEach((j) => {
      if (!Number.isInteger(j) || j < 0 || j >= T) {
        throw new Error(`pcgrad: order[${i}] has task index ${j}, outside 0..${T - 1}`);
      }
    }),
  );
}

/**
 * PCGrad's projections in Gram space. Row i of the result holds the coefficients of the projected
 * gradient of task i over the original gradients: pc_i = Σ_k C[i][k]·g_k. For each task i it visits
 * `order[i]` in turn and, whenever pc_i·g_j < 0, removes the conflicting component:
 * pc_i ← pc_i − (pc_i·g_j / ‖g_j‖²)·g_j — always against the original g_j, as in the paper and LibMTL.
 * A zero g_j is skipped.
 */
export function pcgradCoefficients(G: GramMatrix, order: readonly (readonly number[])[]): number[][] {
  const T = checkGram('pcgrad', G);
  checkOrder(order, T);
  const C = G.map((_, i) => G.map((__, k) => (i === k ? 1 : 0)));
  for (let i = 0; i < T; i++) {
    const c = C[i]!;
    for (const j of order[i]!) {
      const gjj = G[j]![j]!;
      if (!(gjj > 0)) continue;
      let dot = 0;
      for (let k = 0; k < T; k++) dot += c[k]! * G[k]![j]!;
      if (dot < 0) c[j]! -= dot / gjj;
    }
  }
  return C;
}

/**
 * PCGrad's projected gradients (Yu et al., NeurIPS 2020), as T new [P] tensors; see
 * `pcgradCoefficients`. `order[i]` is the order in which task i is projected against the others.
 */
export function pcgradProject(gs: TaskVectors, order: readonly (readonly number[])[]): tf.Tensor1D[] {
  const C = pcgradCoefficients(gram(gs), order);
  return tf.tidy(() => {
    const S = Array.isArray(gs) ? stackTaskVectors(gs) : (gs as tf.Tensor2D);
    return C.map((row) => weightedSum(S, row));
  });
}

/**
 * The point of the segment between two vectors v1 and v2 nearest the origin, from their dot products:
 * γ·v1 + (1 − γ)·v2 with γ = clip(((v2 − v1)·v2)/‖v1 − v2‖², 0, 1); `cost` is its squared norm.
 * (LibMTL and the official MGDA code clip to 0.999/0.001 instead of 1/0; this returns the exact ends.)
 */
export function minNormPair(v1v1: number, v1v2: number, v2v2: number): { weight: number; cost: number } {
  if (v1v2 >= v1v1) return { weight: 1, cost: v1v1 };
  if (v1v2 >= v2v2) return { weight: 0, cost: v2v2 };
  const weight = (v2v2 - v1v2) / (v1v1 + v2v2 - 2 * v1v2);
  return { weight, cost: v2v2 + weight * (v1v2 - v2v2) };
}

export interface MinNormOptions {
  /** Most Frank–Wolfe iterations; default 250 (as the official MGDA code and LibMTL). */
  iterations?: number;
  /** Stop when Σ_t |Δα_t| falls below this; default 1e-5 (as the official MGDA code and LibMTL). */
  tolerance?: number;
}

function checkSolverOptions(what: string, iterations: number, tolerance: number): void {
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw new Error(`${what}: iterations must be an integer ≥ 0, got ${iterations}`);
  }
  if (!(Number.isFinite(tolerance) && tolerance >= 0)) {
    throw new Error(`${what}: tolerance must be a finite number ≥ 0, got ${tolerance}`);
  }
}

/**
 * The min-norm point of the convex hull of the task gradients (Sener & Koltun, NeurIPS 2018): the
 * weights α on the simplex minimising ‖Σ_t α_t g_t‖² = αᵀGα, from the Gram matrix alone.
 *
 * As the official MGDA code's `find_min_norm_element_FW`: start from the best pair (closed form, which is
 * already the answer for T = 2), then Frank–Wolfe steps with an exact line search towards the vertex
 * e_t̂, t̂ = argmin_t (Gα)_t, until Σ|Δα| < tolerance or the iteration limit.
 */
export function minNormWeights(G: GramMatrix, options: MinNormOptions = {}): number[] {
  const T = checkGram('minNormWeights', G);
  const iterations = options.iterations ?? 250;
  const tolerance = options.tolerance ?? 1e-5;
  checkSolverOptions('minNormWeights', iterations, tolerance);
  if (T === 0) return [];
  if (T === 1) return [1];
  let best = { i: 0, j: 1, weight: 1, cost: Infinity };
  for (let i = 0; i < T; i++) {
    for (let j = i + 1; j < T; j++) {
      const p = minNormPair(G[i]![i]!, G[i]![j]!, G[j]![j]!);
      if (p.cost < best.cost) best = { i, j, ...p };
    }
  }
  let alpha = new Array<number>(T).fill(0);
  alpha[best.i] = best.weight;
  alpha[best.j] = 1 - best.weight;
  if (T === 2) return alpha;
  for (let k = 0; k < iterations; k++) {
    const Ga = G.map((row) => row.reduce((s, v, j) => s + v * alpha[j]!, 0));
    let t = 0;
    for (let r = 1; r < T; r++) if (Ga[r]! < Ga[t]!) t = r;
    const v1v1 = alpha.reduce((s, a, i) => s + a * Ga[i]!, 0);
    const v1v2 = Ga[t]!;
    const v2v2 = G[t]![t]!;
    const { weight } = minNormPair(v1v1, v1v2, v2v2);
    const next = alpha.map((a) => weight * a);
    next[t]! += 1 - weight;
    const change = next.reduce((s, a, i) => s + Math.abs(a - alpha[i]!), 0);
    if (change < tolerance) break;
    alpha = next;
  }
  return alpha;
}

/** Euclidean projection onto the probability simplex {w ≥ 0, Σw = 1} (sort-based). */
export function projectToSimplex(y: readonly number[]): number[] {
  const n = y.length;
  const u = [...y].sort((a, b) => b - a);
  let sum = 0;
  let theta = 0;
  for (let i = 0; i < n; i++) {
    sum += u[i]!;
    const t = (sum - 1) / (i + 1);
    if (i === n - 1 || t >= u[i + 1]!) {
      theta = t;
      break;
    }
  }
  return y.map((v) => Math.max(v - theta, 0));
}

export interface CagradSolveOptions {
  /** Most projected-gradient iterations on the T-dimensional problem; default 500. */
  iterations?: number;
  /** Stop when Σ_t |Δw_t| falls below this; default 1e-8. */
  tolerance?: number;
}

export interface CagradSolution {
  /** The weights w on the simplex minimising g_w·g0 + √φ·‖g_w‖. */
  weights: number[];
  /** d = Σ_t coefficients[t]·g_t, before any rescale: 1/T + λ·w_t with λ = √φ/‖g_w‖. */
  coefficients: number[];
  /** λ = √φ / ‖g_w‖ (with LibMTL's 1e-8 guards). */
  lambda: number;
}

/**
 * CAGrad's inner problem (Liu et al., NeurIPS 2021) from the Gram matrix, following LibMTL's
 * `weighting/CAGrad.py` (and the official code) number for number except for the solver:
 *   ‖g0‖ = √(mean(G) + 1e-8),  √φ = c·‖g0‖ + 1e-8,
 *   w = argmin over the simplex of  wᵀG·(1/T) + √φ·√(wᵀGw + 1e-8),
 *   λ = √φ / (‖g_w‖ + 1e-8),  d = g0 + λ·g_w.
 * LibMTL solves for w with scipy's SLSQP from w = 1/T; this uses projected gradient descent with a
 * backtracking step from the same start (the problem is convex), to Σ|Δw| < tolerance.
 */
export function cagradWeights(G: GramMatrix, c: number, options: CagradSolveOptions = {}): CagradSolution {
  const T = checkGram('cagrad', G);
  if (!(Number.isFinite(c) && c >= 0)) throw new Error(`cagrad: c must be a finite number ≥ 0, got ${c}`);
  const iterations = options.iterations ?? 500;
  const tolerance = options.tolerance ?? 1e-8;
  checkSolverOptions('cagrad', iterations, tolerance);
  if (T === 0) return { weights: [], coefficients: [], lambda: 0 };
  let total = 0;
  for (const row of G) for (const v of row) total += v;
  const g0Norm = Math.sqrt(Math.max(total / (T * T), 0) + 1e-8);
  const sqrtPhi = c * g0Norm + 1e-8;
  const Gb = G.map((row) => row.reduce((s, v) => s + v, 0) / T);
  const quad = (w: readonly number[]): { Gw: number[]; q: number } => {
    const Gw = G.map((row) => row.reduce((s, v, j) => s + v * w[j]!, 0));
    return {
      Gw,
      q: Math.max(
        Gw.reduce((s, v, i) => s + v * w[i]!, 0),
        0,
      ),
    };
  };
  const objective = (w: readonly number[]): number =>
    w.reduce((s, v, i) => s + v * Gb[i]!, 0) + sqrtPhi * Math.sqrt(quad(w).q + 1e-8);

  let w = new Array<number>(T).fill(1 / T);
  let f = objective(w);
  const maxDiag = Math.max(...G.map((row, i) => row[i]!));
  let step = 1 / (maxDiag + 1e-12);
  for (let k = 0; k < iterations; k++) {
    const { Gw, q } = quad(w);
    const s = Math.sqrt(q + 1e-8);
    const grad = Gb.map((v, i) => v + (sqrtPhi * Gw[i]!) / s);
    let next = w;
    let fNext = f;
    for (let b = 0; b < 60; b++) {
      next = projectToSimplex(w.map((v, i) => v - step * grad[i]!));
      const d = next.map((v, i) => v - w[i]!);
      const bound =
        f + d.reduce((a, v, i) => a + v * grad[i]!, 0) + d.reduce((a, v) => a + v * v, 0) / (2 * step);
      fNext = objective(next);
      if (fNext <= bound + 1e-15 * Math.abs(f)) break;
      step /= 2;
    }
    const change = next.reduce((a, v, i) => a + Math.abs(v - w[i]!), 0);
    if (fNext <= f) {
      w = next;
      f = fNext;
    }
    if (change < tolerance) break;
    step *= 2;
  }
  const gwNorm = Math.sqrt(quad(w).q);
  const lambda = sqrtPhi / (gwNorm + 1e-8);
  return { weights: w, coefficients: w.map((v) => 1 / T + lambda * v), lambda };
}

/**
 * CAGrad's update direction d = g0 + λ·g_w (before LibMTL's rescale; see `cagradWeights`) as a new [P]
 * tensor, with the solution it came from.
 */
export function cagradDirection(
  gs: TaskVectors,
  c: number,
  options: CagradSolveOptions = {},
): CagradSolution & { direction: tf.Tensor1D } {
  const solution = cagradWeights(gram(gs), c, options);
  return { ...solution, direction: weightedSum(gs, solution.coefficients) };
}
