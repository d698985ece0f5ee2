/**
 * Predictive distributions from one or several forward passes of a table model: with Monte Carlo
 * dropout (several passes with dropout on), the spread of the passes' means is the epistemic part of a
 * regression's variance and the mutual information a classifier's; the noise the heads predict (or the
 * task's σ) is the aleatoric part. Browser-safe.
 */
import type { TargetState } from '../data/preprocess.js';
import { sigmoidPair, softmaxRow } from './calibration.js';

/** One regression target's predictive mean and σ per row (target units), with its parts under MC dropout. */
export interface RegressionPredictive {
  prediction: Float64Array;
  /** Total σ: √(aleatoric² + epistemic²). */
  sigmas: Float64Array;
  aleatoric?: Float64Array;
  epistemic?: Float64Array;
}

/**
 * `passes[p][row]` is a regression head's output in pass p (standardised scale: [mean] or, heteroscedastic,
 * [mean, log σ²]). Aleatoric σ: each pass's predicted σ(x) (× `scale`) averaged in variance, or the task's
 * `sigma` for a homoscedastic head; epistemic σ: the standard deviation of the passes' means (absent with
 * one pass).
 */
export function regressionPredictive(
  passes: readonly (readonly number[][])[],
  state: Extract<TargetState, { kind: 'regression' }>,
  head: { heteroscedastic: boolean; sigma: number; scale: number },
): RegressionPredictive {
  const P = passes.length;
  const rows = passes[0]!.length;
  const prediction = new Float64Array(rows);
  const aleatoric = new Float64Array(rows);
  const epistemic = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    let sumSq = 0;
    let variance = 0;
    for (let p = 0; p < P; p++) {
      const r = passes[p]![i]!;
      const mean = r[0]! * state.std + state.mean;
      sum += mean;
      sumSq += mean * mean;
      if (head.heteroscedastic) variance += Math.exp(r[1]!) * (state.std * head.scale) ** 2;
    }
    const mu = sum / P;
    prediction[i] = mu;
    aleatoric[i] = head.heteroscedastic ? Math.sqrt(variance / P) : head.sigma;
    epistemic[i] = P > 1 ? Math.sqrt(Math.max(0, sumSq / P - mu * mu)) : 0;
  }
  const sigmas = aleatoric.map((a, i) => Math.sqrt(a * a + epistemic[i]! ** 2));
  return P > 1 ? { prediction, sigmas, aleatoric, epistemic } : { prediction, sigmas };
}

/** Shannon entropy (nats) of a probability vector. */
export function entropy(p: readonly number[]): number {
  return -p.reduce((acc, v) => (v > 0 ? acc + v * Math.log(v) : acc), 0);
}

/** A classifier's predictive probabilities per row, with entropy and mutual information under MC dropout. */
export interface ClassificationPredictive {
  /** Mean over the passes of the class probabilities. */
  probabilities: number[][];
  /** H[mean p]: total uncertainty (nats). */
  entropy?: Float64Array;
  /** H[mean p] − mean H[p]: the part the passes disagree on — epistemic (nats, ≥ 0). */
  mutualInformation?: Float64Array;
}

/** `passes[p][row]` are a classifier head's logits in pass p; probabilities at temperature `T`. */
export function classificationPredictive(
  passes: readonly (readonly number[][])[],
  kind: 'classification' | 'binary',
  T: number,
): ClassificationPredictive {
  const probs = passes.map((pass) =>
    pass.map((r) => (kind === 'binary' ? sigmoidPair(r[0]!, T) : softmaxRow(r, T))),
  );
  if (probs.length === 1) return { probabilities: probs[0]! };
  const rows = probs[0]!.length;
  const probabilities: number[][] = [];
  const H = new Float64Array(rows);
  const MI = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const k = probs[0]![i]!.length;
    const mean = new Array<number>(k).fill(0);
    let meanEntropy = 0;
    for (const pass of probs) {
      pass[i]!.forEach((v, c) => (mean[c]! += v / probs.length));
      meanEntropy += entropy(pass[i]!) / probs.length;
    }
    probabilities.push(mean);
    H[i] = entropy(mean);
    MI[i] = Math.max(0, H[i]! - meanEntropy);
  }
  return { probabilities, entropy: H, mutualInformation: MI };
}
