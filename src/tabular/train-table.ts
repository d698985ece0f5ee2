import * as tf from '@tensorflow/tfjs';
import {
  encodeFeatures,
  encodeTargets,
  fitPreprocess,
  inferTargetKind,
  type FeatureColumn,
  type TargetColumn,
} from '../data/preprocess.js';
import { splitRows } from '../data/split.js';
import { DataError, inferColumnKind, type Table } from '../data/table.js';
import { outputUnits } from '../models/output-units.js';
import { sharedTrunkModel } from '../models/sharing.js';
import { classificationTask } from '../tasks/classification.js';
import { heteroscedasticRegressionTask } from '../tasks/heteroscedastic.js';
import { regressionTask } from '../tasks/regression.js';
import type { Task } from '../tasks/task.js';
import type { EpochEvent } from '../train/events.js';
import type { History } from '../train/history.js';
import {
  Trainer,
  type CheckpointOptions,
  type TrainingCheckpoint,
  type TrainingData,
} from '../train/trainer.js';
import { createWeighting, type WeightingName } from '../weighting/registry.js';
import type { WeightingStrategy } from '../weighting/strategy.js';
import type { TrainConfig } from './config.js';
import { fitTemperature } from './calibration.js';
import {
  predictTable,
  scoreTable,
  tableOutputs,
  type ScoreResult,
  type TabularModel,
  type TabularTaskInfo,
} from './tabular-model.js';

export interface TrainTableOptions {
  onEpochEnd?: (event: EpochEvent) => void | Promise<void>;
  signal?: AbortSignal;
  yieldEveryMs?: number;
  /** Save checkpoints (every `every` epochs) through `save`; see Trainer.fit. */
  checkpoint?: CheckpointOptions;
  /** Continue the run (same table and config) from its checkpoint: the result is the uninterrupted run's. */
  resumeFrom?: TrainingCheckpoint;
}

export type SplitName = 'train' | 'validation' | 'test';

export interface TrainTableResult {
  tabular: TabularModel;
  history: History;
  /** split → task → metric → value, in the targets' units. */
  metrics: Partial<Record<SplitName, ScoreResult['metrics']>>;
  /** The test split's (or, without one, the validation split's) predictions for plots. */
  evaluation: ScoreResult;
  evaluationSplit: SplitName;
  split: Record<SplitName, number[]>;
  features: FeatureColumn[];
  targets: TargetColumn[];
  warnings: string[];
}

/** The range uncertainty weighting's log-variances are kept in: σ² within [e^−3, e^5]. */
export const UNCERTAINTY_CLAMP = [-3, 5] as const;
/** The same guard for IMTL-L's log-scales (e^s ≈ 1/L): scales within [e^−5, e^3]. */
export const IMTL_L_CLAMP = [-5, 3] as const;

function buildTask(target: TargetColumn, classes: number, heteroscedastic: boolean): Task {
  switch (target.kind) {
    case 'regression':
      return heteroscedastic
        ? heteroscedasticRegressionTask({ name: target.name, likelihood: 'gaussian' })
        : regressionTask({ name: target.name, likelihood: 'gaussian' });
    case 'binary':
      return classificationTask({ name: target.name, likelihood: 'bernoulli' });
    case 'classification':
      return classificationTask({ name: target.name, likelihood: 'softmax', numClasses: classes });
  }
}

function tensorsFor(
  table: Table,
  state: TabularModel['preprocess'],
  rows: number[],
): TrainingData & { warnings: string[] } {
  const enc = encodeFeatures(state, table, rows);
  const targets = encodeTargets(state, table, rows);
  return {
    x: tf.tensor2d(enc.x, [enc.rows, enc.cols]),
    targets: targets.map((t) =>
      t.values instanceof Int32Array
        ? tf.tensor1d(t.values, 'int32')
        : tf.tensor2d(t.values, [rows.length, 1]),
    ),
    masks: targets.map((t) => tf.tensor1d(t.mask)),
    warnings: enc.warnings,
  };
}

/** k with k² = mean over `rows` of (residual / predicted σ)² for regression task `t` (1 without labels). */
function heldOutSigmaScale(tm: TabularModel, table: Table, rows: number[], t: number): number {
  const pred = predictTable(tm, table, rows).tasks[t]!;
  const target = encodeTargets(tm.preprocess, table, rows)[t]!;
  const state = tm.preprocess.targets[t]!;
  if (pred.kind !== 'regression' || state.kind !== 'regression') return 1;
  let sum = 0;
  let n = 0;
  target.mask.forEach((m, i) => {
    if (m > 0) {
      const actual = target.values[i]! * state.std + state.mean;
      sum += ((actual - pred.prediction[i]!) / pred.sigmas[i]!) ** 2;
      n++;
    }
  });
  return n > 0 && sum > 0 ? Math.sqrt(sum / n) : 1;
}

function disposeData(d: TrainingData | undefined): void {
  if (!d) return;
  d.x.dispose();
  d.targets.forEach((t) => t.dispose());
  d.masks?.forEach((m) => m?.dispose());
}

/**
 * Trains one multi-task model for all targets of a table: a seeded train/validation/test split,
 * preprocessing fitted on the training rows, a shared trunk with one head per target, the chosen loss
 * weighting, early stopping on the validation loss; then metrics per split in the targets' units.
 */
export async function trainTable(
  table: Table,
  config: TrainConfig,
  options: TrainTableOptions = {},
): Promise<TrainTableResult> {
  const targetNames = new Set(config.targets.map((t) => t.name));
  for (const t of config.targets) {
    if (!table.columns.includes(t.name)) {
      throw new DataError(
        `${table.source}: target column '${t.name}' not found; columns are: ${table.columns.map((c) => `'${c}'`).join(', ')}`,
      );
    }
  }
  // by default every other column — but one with no value at all (common in exported spreadsheets) is
  // left out with a warning; a column asked for by name still has to have values
  const dropped: string[] = [];
  const featureNames =
    config.features ??
    table.columns.filter((c) => {
      if (targetNames.has(c)) return false;
      const empty = (table.cells[c] ?? []).every((cell) => cell === null);
      if (empty) dropped.push(c);
      return !empty;
    });
  if (featureNames.length === 0)
    throw new DataError(`${table.source}: no feature columns left besides the targets`);
  const features: FeatureColumn[] = featureNames.map((name) => {
    if (!table.columns.includes(name)) {
      throw new DataError(
        `${table.source}: feature column '${name}' not found; columns are: ${table.columns.map((c) => `'${c}'`).join(', ')}`,
      );
    }
    return { name, kind: config.featureKinds?.[name] ?? inferColumnKind(table, name) };
  });
  const targets: TargetColumn[] = config.targets.map((t) => ({
    name: t.name,
    kind: t.kind ?? inferTargetKind(table, t.name),
  }));
  const split = splitRows(table.rowCount, { validation: config.val, test: config.test, seed: config.seed });
  const preprocess = fitPreprocess(table, features, targets, split.train);

  const tasks = targets.map((t, i) => {
    const s = preprocess.targets[i]!;
    return buildTask(
      t,
      s.kind === 'regression' ? 1 : s.classes.length,
      config.uncertainty === 'heteroscedastic',
    );
  });
  const model = sharedTrunkModel({
    inputDim: preprocess.inputNames.length,
    outputs: tasks.map(outputUnits),
    trunk: config.hidden,
    dropout: config.dropout,
    seed: config.seed,
    names: targets.map((t) => t.name),
  });
  let weighting: WeightingStrategy;
  if (config.weighting === 'fixed') {
    weighting = createWeighting('fixed', tasks, { weights: config.weights ?? [] });
  } else if (config.weighting === 'uncertainty') {
    // a classifier that fits its training rows drives its loss, and s, toward −∞ (temperature → 0,
    // absurdly sharp probabilities): keep σ² within [e^−3, e^5]
    weighting = createWeighting('uncertainty', tasks, {
      form: 'kendall',
      learningRate: config.sigmaLr,
      clamp: UNCERTAINTY_CLAMP,
    });
  } else if (config.weighting === 'imtl-l') {
    // IMTL-L learns per-task log-scales as uncertainty learns log-variances: the same rate, and the same
    // guard mirrored (its s settles near −log L where uncertainty's settles near log L)
    weighting = createWeighting('imtl-l', tasks, { learningRate: config.sigmaLr, clamp: IMTL_L_CLAMP });
  } else {
    // seeded strategies (random weights, random projection order) follow the run's seed
    const seeded = config.weighting === 'rlw' || config.weighting === 'pcgrad';
    weighting = createWeighting(
      config.weighting as WeightingName,
      tasks,
      (seeded ? { seed: config.seed } : undefined) as never,
    );
  }
  const trainer = new Trainer({ model, tasks, weighting, optimizer: { learningRate: config.lr } });

  const trainData = tensorsFor(table, preprocess, split.train);
  const valData = split.validation.length > 0 ? tensorsFor(table, preprocess, split.validation) : undefined;
  const warnings = [
    ...dropped.map(
      (c) => `${table.source}: column '${c}' has no values (every row is missing); left out of the features`,
    ),
    ...trainData.warnings,
  ];
  try {
    const history = await trainer.fit(trainData, {
      epochs: config.epochs,
      batchSize: config.batchSize,
      seed: config.seed,
      ...(valData ? { validationData: valData } : {}),
      ...(valData && config.patience > 0
        ? { earlyStopping: { patience: config.patience, restoreBest: true } }
        : {}),
      ...(options.onEpochEnd ? { onEpochEnd: options.onEpochEnd } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.yieldEveryMs !== undefined ? { yieldEveryMs: options.yieldEveryMs } : {}),
      ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
      ...(options.resumeFrom ? { resumeFrom: options.resumeFrom } : {}),
      onNonFinite: config.onNan,
    });

    const learned = weighting.sigmas?.();
    const taskInfo: TabularTaskInfo[] = targets.map((t, i) => ({
      name: t.name,
      kind: t.kind,
      likelihood: tasks[i]!.likelihood,
      ...(preprocess.targets[i]!.kind !== 'regression'
        ? { classes: (preprocess.targets[i] as { classes: string[] }).classes }
        : {}),
    }));
    const tabular: TabularModel = {
      model,
      preprocess,
      tasks: taskInfo,
      ...(config.mcSamples ? { mcSamples: config.mcSamples } : {}),
      weighting: {
        strategy: weighting.name,
        state: weighting.getState(),
        weights: Object.fromEntries(targets.map((t, i) => [t.name, weighting.weights()[i]!])),
      },
    };
    // σ for intervals: by default the held-out RMSE — the learned σ estimates the noise on the training
    // rows, which a fitted net under-states on new rows; the learned one is kept as `learnedSigma`
    const hasValidation = split.validation.length > 0;
    const heldOut = scoreTable(tabular, table, hasValidation ? split.validation : split.train);
    targets.forEach((t, i) => {
      const info = taskInfo[i]!;
      const s = preprocess.targets[i]!;
      if (s.kind === 'regression' && tasks[i]!.heteroscedastic) {
        // intervals from each row's σ(x); the held-out RMSE is kept for reference
        info.heteroscedastic = true;
        info.sigma = heldOut.metrics[t.name]!['rmse']!;
        info.sigmaSource = hasValidation ? 'validation-rmse' : 'training-rmse';
        // σ(x) fitted on the training rows is too small on new rows by about as much as the learned
        // homoscedastic σ is: one scale k, k² = mean (r/σ(x))² over the validation rows, corrects it
        if (hasValidation) info.sigmaScale = heldOutSigmaScale(tabular, table, split.validation, i);
      } else if (s.kind === 'regression') {
        if (learned) info.learnedSigma = learned[i]! * s.std;
        if (learned && (config.intervalSigma === 'learned' || !hasValidation)) {
          info.sigma = info.learnedSigma;
          info.sigmaSource = 'learned';
        } else {
          info.sigma = heldOut.metrics[t.name]!['rmse']!;
          info.sigmaSource = hasValidation ? 'validation-rmse' : 'training-rmse';
        }
      } else {
        // the softmax/Bernoulli likelihood's temperature is σ² = e^s
        info.temperature = learned ? learned[i]! ** 2 : 1;
      }
    });
    calibrateClassifiers(tabular, table, hasValidation ? split.validation : []);
    // report σ in the targets' own units throughout (training ran on standardised regression targets)
    for (const e of history.epochs) {
      targets.forEach((t, i) => {
        const s = preprocess.targets[i]!;
        if (s.kind === 'regression' && e.sigmas?.[t.name] !== undefined)
          e.sigmas[t.name] = e.sigmas[t.name]! * s.std;
      });
    }
    const metrics: TrainTableResult['metrics'] = {};
    let evaluation: ScoreResult | undefined;
    let evaluationSplit: SplitName = 'train';
    for (const name of ['train', 'validation', 'test'] as const) {
      if (split[name].length === 0) continue;
      const scored = scoreTable(tabular, table, split[name]);
      metrics[name] = scored.metrics;
      evaluation = scored;
      evaluationSplit = name;
    }
    return {
      tabular,
      history,
      metrics,
      evaluation: evaluation!,
      evaluationSplit,
      split,
      features,
      targets,
      warnings,
    };
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    disposeData(trainData);
    disposeData(valData);
    trainer.dispose();
    weighting.dispose();
  }
}

/**
 * Fits each classifier's calibration temperature on the validation rows' logits (the learned temperature
 * is the task's loss weight, not a calibrator) and records it in the task's info; with no validation row
 * labelled for a classifier, its probabilities keep the learned temperature, and the info says so.
 */
function calibrateClassifiers(tabular: TabularModel, table: Table, validation: number[]): void {
  const classifiers = tabular.tasks.filter((t) => t.kind !== 'regression');
  if (classifiers.length === 0) return;
  const outputs = validation.length > 0 ? tableOutputs(tabular, table, validation).outputs : [];
  const labels = validation.length > 0 ? encodeTargets(tabular.preprocess, table, validation) : [];
  tabular.tasks.forEach((info, t) => {
    if (info.kind === 'regression') return;
    const rows: number[][] = [];
    const ys: number[] = [];
    const target = labels[t];
    if (target) {
      for (let i = 0; i < target.mask.length; i++) {
        if (target.mask[i]! > 0) {
          rows.push(outputs[t]![i]!);
          ys.push(target.values[i]!);
        }
      }
    }
    if (rows.length === 0) {
      info.calibrationSource = 'learned';
      return;
    }
    info.calibrationTemperature = fitTemperature(rows, ys, {
      likelihood: info.likelihood === 'bernoulli' ? 'bernoulli' : 'softmax',
    }).temperature;
    info.calibrationSource = 'validation';
  });
}
