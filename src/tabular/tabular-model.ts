import * as tf from '@tensorflow/tfjs';
import {
  encodeFeatures,
  encodeTargets,
  type PreprocessState,
  type TargetKind,
  type TargetState,
} from '../data/preprocess.js';
import type { Table } from '../data/table.js';
import { withDropoutStream } from '../models/seeded-dropout.js';
import type { Likelihood } from '../tasks/task.js';
import type { WeightingState } from '../weighting/strategy.js';
import { predictiveScores } from './intervals.js';
import { classificationPredictive, regressionPredictive } from './predictive.js';
import { expectedCalibrationError, Z68, Z95 } from './calibration.js';

export interface TabularTaskInfo {
  name: string;
  kind: TargetKind;
  likelihood: Likelihood;
  /** Regression: the noise σ in the target's own units, used for intervals. */
  sigma?: number;
  /** Where `sigma` comes from: learned by uncertainty weighting, or the RMSE on held-out rows. */
  sigmaSource?: 'learned' | 'validation-rmse' | 'training-rmse';
  /**
   * Regression: the head predicts a log-variance per row (heteroscedastic): intervals use each row's
   * σ(x); `sigma` is then the held-out RMSE, for reference.
   */
  heteroscedastic?: boolean;
  /** Heteroscedastic: the factor on σ(x) fitted on the validation rows (k² = mean of (r/σ(x))²). */
  sigmaScale?: number;
  /** Regression under uncertainty weighting: the learned noise σ, in the target's units. */
  learnedSigma?: number;
  /**
   * Classification: the learned temperature σ² (the task's weight in the loss: softmax of logits/σ²); 1
   * when none was learned. Applied to the reported probabilities only when there is no
   * `calibrationTemperature`.
   */
  temperature?: number;
  /**
   * Classification: the temperature fitted after training on the validation rows (minimum NLL, Guo et al.
   * 2017), applied to the probabilities `predictTable` reports.
   */
  calibrationTemperature?: number;
  /**
   * Classification: where the reported probabilities' temperature comes from — fitted on the validation
   * split, or the learned `temperature` (no validation split or no labelled validation row; also what a
   * model saved without this field does).
   */
  calibrationSource?: 'validation' | 'learned';
  classes?: string[];
}

/** A trained table model: the network, its preprocessing, and what each task's output means. */
export interface TabularModel {
  model: tf.LayersModel;
  preprocess: PreprocessState;
  tasks: TabularTaskInfo[];
  weighting: { strategy: string; state: WeightingState; weights: Record<string, number> };
  /** Monte Carlo dropout passes per prediction (0 or absent: one pass without dropout). */
  mcSamples?: number;
}

export type TaskPredictions =
  | {
      task: string;
      kind: 'regression';
      prediction: Float64Array;
      /** The task's one σ (homoscedastic), or the held-out RMSE for reference (heteroscedastic). */
      sigma: number;
      /** Each row's predictive σ, in the target's units: `sigma` everywhere unless heteroscedastic. */
      sigmas: Float64Array;
      /** With Monte Carlo dropout: each row's aleatoric σ (the noise) and epistemic σ (the passes' spread). */
      aleatoricSigmas?: Float64Array;
      epistemicSigmas?: Float64Array;
      lower68: Float64Array;
      upper68: Float64Array;
      lower95: Float64Array;
      upper95: Float64Array;
    }
  | {
      task: string;
      kind: 'classification' | 'binary';
      classes: string[];
      /** The most probable class per row. */
      labels: string[];
      /** The temperature applied to `probabilities`: the calibrated one when present, else the learned one. */
      temperature: number;
      /** Class probabilities per row at `temperature`. */
      probabilities: number[][];
      /** The same at the learned temperature (the same array when the two temperatures are equal). */
      learnedProbabilities: number[][];
      /** The same without a temperature (plain softmax / sigmoid of the logits). */
      rawProbabilities: number[][];
      /** With Monte Carlo dropout: each row's predictive entropy and mutual information (nats). */
      entropy?: Float64Array;
      mutualInformation?: Float64Array;
    };

export interface Predictions {
  rows: number;
  tasks: TaskPredictions[];
  warnings: string[];
}

function targetState(tm: TabularModel, name: string): TargetState {
  const s = tm.preprocess.targets.find((t) => t.name === name);
  if (!s) throw new Error(`the model's preprocessing has no target '${name}'`);
  return s;
}

/**
 * The network's raw outputs for the given rows (default: all) of a table: per task, one row of outputs per
 * table row (standardised predictions for regression, logits for classifiers), and the encoding's warnings.
 */
export function tableOutputs(
  tm: TabularModel,
  table: Table,
  rows?: number[],
): { rows: number; outputs: number[][][]; warnings: string[] } {
  const enc = encodeFeatures(tm.preprocess, table, rows);
  const outputs = tf.tidy(() => {
    const x = tf.tensor2d(enc.x, [enc.rows, enc.cols]);
    const out = tm.model.predict(x);
    return (Array.isArray(out) ? out : [out]).map((t) => t.arraySync() as number[][]);
  });
  return { rows: enc.rows, outputs, warnings: enc.warnings };
}

/** Where the Monte Carlo passes' dropout masks start (a stream of their own: predictions repeat). */
export const MC_DROPOUT_STREAM = 2 ** 30;

/**
 * The network's outputs, one entry per pass: a single inference pass, or — for a model with
 * `mcSamples` — that many passes with dropout on (the same masks on every call). [pass][task][row][unit].
 */
export function tableOutputPasses(
  tm: TabularModel,
  table: Table,
  rows?: number[],
): { rows: number; passes: number[][][][]; warnings: string[] } {
  const samples = tm.mcSamples ?? 0;
  if (samples === 0) {
    const one = tableOutputs(tm, table, rows);
    return { rows: one.rows, passes: [one.outputs], warnings: one.warnings };
  }
  const enc = encodeFeatures(tm.preprocess, table, rows);
  const passes = withDropoutStream(tm.model, MC_DROPOUT_STREAM, () =>
    tf.tidy(() => {
      const x = tf.tensor2d(enc.x, [enc.rows, enc.cols]);
      return Array.from({ length: samples }, () => {
        const out = tm.model.apply(x, { training: true }) as tf.Tensor | tf.Tensor[];
        return (Array.isArray(out) ? out : [out]).map((t) => t.arraySync() as number[][]);
      });
    }),
  );
  return { rows: enc.rows, passes, warnings: enc.warnings };
}

/**
 * Predictions with uncertainty for the given rows (default: all) of a table; with Monte Carlo dropout
 * (`mcSamples`), the means over the passes and the aleatoric/epistemic parts of every σ.
 */
export function predictTable(tm: TabularModel, table: Table, rows?: number[]): Predictions {
  const enc = tableOutputPasses(tm, table, rows);
  const tasks = tm.tasks.map((info, t): TaskPredictions => {
    const passes = enc.passes.map((pass) => pass[t]!);
    const state = targetState(tm, info.name);
    if (state.kind === 'regression') {
      const sigma = info.sigma ?? NaN;
      const r = regressionPredictive(passes, state, {
        heteroscedastic: info.heteroscedastic ?? false,
        sigma,
        scale: info.sigmaScale ?? 1,
      });
      const { prediction, sigmas } = r;
      const band = (z: number, sign: number) => prediction.map((p, i) => p + sign * z * sigmas[i]!);
      return {
        task: info.name,
        kind: 'regression',
        prediction,
        sigma,
        sigmas,
        ...(r.aleatoric ? { aleatoricSigmas: r.aleatoric, epistemicSigmas: r.epistemic! } : {}),
        lower68: band(Z68, -1),
        upper68: band(Z68, 1),
        lower95: band(Z95, -1),
        upper95: band(Z95, 1),
      };
    }
    const learnedTemperature = info.temperature ?? 1;
    const temperature = info.calibrationTemperature ?? learnedTemperature;
    const at = (T: number) => classificationPredictive(passes, state.kind, T);
    const reported = at(temperature);
    const probabilities = reported.probabilities;
    const learnedProbabilities =
      learnedTemperature === temperature ? probabilities : at(learnedTemperature).probabilities;
    return {
      task: info.name,
      kind: state.kind,
      classes: state.classes,
      labels: probabilities.map((p) => state.classes[p.indexOf(Math.max(...p))]!),
      temperature,
      probabilities,
      learnedProbabilities,
      rawProbabilities:
        temperature === 1
          ? probabilities
          : learnedTemperature === 1
            ? learnedProbabilities
            : at(1).probabilities,
      ...(reported.entropy
        ? { entropy: reported.entropy, mutualInformation: reported.mutualInformation! }
        : {}),
    };
  });
  return { rows: enc.rows, tasks, warnings: enc.warnings };
}

export type TaskMetrics = Record<string, number>;

export interface ScoreResult {
  /** task → metric → value, in the targets' own units. */
  metrics: Record<string, TaskMetrics>;
  /** Regression: labelled rows' actual and predicted values and 95 % bounds. */
  regression: { task: string; actual: number[]; predicted: number[]; lower: number[]; upper: number[] }[];
  /** Classification: confusion counts [actual][predicted]. */
  classification: { task: string; classes: string[]; counts: number[][] }[];
  warnings: string[];
}

/**
 * Metrics over the labelled rows of each task: RMSE, MAE and the coverage of the 68 % and 95 % intervals
 * for regression; for classification accuracy and cross-entropy of the reported probabilities, and the
 * expected calibration error of the reported probabilities (`ece`: the calibrated temperature when the
 * model has one), at the learned temperature (`eceLearnedTemperature`) and without one
 * (`eceWithoutTemperature`).
 */
export function scoreTable(tm: TabularModel, table: Table, rows?: number[]): ScoreResult {
  const preds = predictTable(tm, table, rows);
  const targets = encodeTargets(tm.preprocess, table, rows);
  const result: ScoreResult = {
    metrics: {},
    regression: [],
    classification: [],
    warnings: [...preds.warnings, ...targets.flatMap((t) => t.warnings)],
  };
  preds.tasks.forEach((p, t) => {
    const { values, mask } = targets[t]!;
    const state = targetState(tm, p.task);
    const labelled: number[] = [];
    for (let i = 0; i < mask.length; i++) if (mask[i]! > 0) labelled.push(i);
    if (p.kind === 'regression' && state.kind === 'regression') {
      const actual = labelled.map((i) => values[i]! * state.std + state.mean);
      const predicted = labelled.map((i) => p.prediction[i]!);
      const err = actual.map((a, k) => a - predicted[k]!);
      const n = err.length;
      result.metrics[p.task] = {
        rmse: Math.sqrt(err.reduce((s, e) => s + e * e, 0) / n),
        mae: err.reduce((s, e) => s + Math.abs(e), 0) / n,
        ...predictiveScores(
          actual,
          predicted,
          labelled.map((i) => p.sigmas[i]!),
        ),
        count: n,
      };
      result.regression.push({
        task: p.task,
        actual,
        predicted,
        lower: labelled.map((i) => p.lower95[i]!),
        upper: labelled.map((i) => p.upper95[i]!),
      });
    } else if (p.kind !== 'regression') {
      const k = p.classes.length;
      const counts = Array.from({ length: k }, () => new Array<number>(k).fill(0));
      let correct = 0;
      let ce = 0;
      for (const i of labelled) {
        const y = values[i]!;
        const probs = p.probabilities[i]!;
        const guess = probs.indexOf(Math.max(...probs));
        counts[y]![guess]!++;
        if (guess === y) correct++;
        ce -= Math.log(Math.max(probs[y]!, 1e-12));
      }
      const n = labelled.length;
      const labels = labelled.map((i) => values[i]!);
      result.metrics[p.task] = {
        accuracy: correct / n,
        crossEntropy: ce / n,
        ece: expectedCalibrationError(
          labelled.map((i) => p.probabilities[i]!),
          labels,
        ),
        eceLearnedTemperature: expectedCalibrationError(
          labelled.map((i) => p.learnedProbabilities[i]!),
          labels,
        ),
        eceWithoutTemperature: expectedCalibrationError(
          labelled.map((i) => p.rawProbabilities[i]!),
          labels,
        ),
        count: n,
      };
      result.classification.push({ task: p.task, classes: p.classes, counts });
    }
  });
  return result;
}
