import * as tf from '@tensorflow/tfjs';
import type { Task } from '../tasks/task.js';
import {
  isGradientStrategy,
  type GradientWeightingStrategy,
  type WeightingStrategy,
} from '../weighting/strategy.js';
import { GradientLevelStep } from './gradient-step.js';
import type { EpochEvent, PerTask } from './events.js';
import { captureRunState, detached, restoreRunState, type LoopState, type RunParts } from './run-state.js';
import {
  disposeBatch,
  isResumable,
  openBatches,
  type BatchIterator,
  type BatchStream,
  type TrainingData,
} from './batches.js';
import { FusedAdam } from './fused-adam.js';
import type { History } from './history.js';
import { explodedTasks, nonFiniteStep } from './divergence.js';
import { addEvaluationSums, evaluationFromSums, type Evaluator } from './evaluation.js';
import { memorySource } from './memory-source.js';
import {
  checkTrainingData,
  isTrainingData,
  relativeTaskLoss,
  sliceRows,
  StepLossSums,
  stopReason,
  type LoopSource,
} from './loop-parts.js';
import {
  TrainingDataError,
  TrainingDivergedError,
  type DivergenceKind,
  type Evaluation,
  type FitDatasetOptions,
  type FitOptions,
  type TrainerOptions,
  type TrainingCheckpoint,
  type TrainingLoopOptions,
} from './options.js';

export * from './options.js';

/** With `onNonFinite: 'skip'`, the run stops after this many dropped steps in a row. */
export const MAX_SKIPPED_IN_A_ROW = 10;
export type { TrainingData } from './batches.js';

function positiveInt(path: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${path} must be a positive integer, got ${v}`);
  return v;
}

/**
 * A custom training loop over a multi-task model and a weighting strategy: Adam over the model's
 * weights plus the strategy's variables (a second Adam when the strategy has its own learning rate),
 * seeded shuffling, events per step and epoch, validation, early stopping. No I/O, no drawing.
 */
export class Trainer {
  readonly model: tf.LayersModel;
  readonly tasks: readonly Task[];
  readonly weighting: WeightingStrategy;
  private readonly modelOptimizer: FusedAdam;
  private readonly strategyOptimizer: FusedAdam | null;
  private readonly learningRate: number;
  /** The model weights' rate at the last step (the schedule's, else `learningRate`). */
  private currentLearningRate: number;
  private readonly weightDecay: number;
  private readonly modelVars: tf.Variable[];
  private readonly strategyVars: tf.Variable[];
  private stepCount = 0;
  private gradientStep: GradientLevelStep | undefined;

  constructor(options: TrainerOptions) {
    const { model, tasks, weighting } = options;
    if (tasks.length === 0) throw new Error('Trainer: at least one task is needed');
    if (weighting.tasks.length !== tasks.length) {
      throw new Error(
        `Trainer: the weighting has ${weighting.tasks.length} tasks, the trainer ${tasks.length}`,
      );
    }
    if (model.outputs.length !== tasks.length) {
      throw new Error(
        `Trainer: the model has ${model.outputs.length} outputs but there are ${tasks.length} tasks (one output per task)`,
      );
    }
    const adam = options.optimizer ?? {};
    this.learningRate = adam.learningRate ?? 1e-3;
    this.currentLearningRate = this.learningRate;
    if (!(this.learningRate > 0))
      throw new RangeError(`optimizer.learningRate must be > 0, got ${this.learningRate}`);
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.weightDecay >= 0)) throw new RangeError(`weightDecay must be ≥ 0, got ${this.weightDecay}`);
    const makeAdam = (vars: tf.Variable[], lr: number) =>
      new FusedAdam(vars, {
        learningRate: lr,
        beta1: adam.beta1 ?? 0.9,
        beta2: adam.beta2 ?? 0.999,
        epsilon: adam.epsilon ?? 1e-7,
      });
    this.model = model;
    this.tasks = tasks;
    this.weighting = weighting;
    this.modelVars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.strategyVars = weighting.variables.filter((v) => v.trainable);
    if (this.modelVars.length === 0) throw new Error('Trainer: the model has no trainable weights');
    const ownLr = weighting.learningRate;
    const separate = ownLr !== undefined && ownLr !== this.learningRate && this.strategyVars.length > 0;
    this.modelOptimizer = makeAdam(
      separate ? this.modelVars : [...this.modelVars, ...this.strategyVars],
      this.learningRate,
    );
    this.strategyOptimizer = separate ? makeAdam(this.strategyVars, ownLr) : null;
  }

  /** Total optimiser steps taken. */
  get steps(): number {
    return this.stepCount;
  }

  /** The model's outputs as a list, one per task. */
  forward(x: tf.Tensor, training = false): tf.Tensor[] {
    const out = this.model.apply(x, { training }) as tf.Tensor | tf.Tensor[];
    return Array.isArray(out) ? out : [out];
  }

  /** Predictions for `x`, one tensor per task, in evaluation mode and in chunks. */
  predict(x: tf.Tensor, batchSize = 4096): tf.Tensor[] {
    const n = x.shape[0];
    const chunks: tf.Tensor[][] = [];
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      chunks.push(tf.tidy(() => this.forward(sliceRows(x, start, size), false)));
    }
    const out = this.tasks.map((_, t) =>
      chunks.length === 1 ? chunks[0]![t]! : tf.concat(chunks.map((c) => c[t]!)),
    );
    if (chunks.length > 1) chunks.flat().forEach((c) => c.dispose());
    return out;
  }

  /** Weighted loss, per-task losses and metrics over a whole data set, in chunks of `batchSize` rows. */
  evaluate(data: TrainingData, batchSize = 4096): Evaluation {
    checkTrainingData(this.taskNames, 'data', data);
    const n = data.x.shape[0];
    const sums = this.tasks.map((t) => new Float64Array(1 + t.metricSumNames.length));
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      addEvaluationSums(this.evaluator(), sums, {
        x: sliceRows(data.x, start, size),
        targets: data.targets.map((t) => sliceRows(t, start, size)),
        masks: data.masks?.map((m) => (m === undefined ? undefined : sliceRows(m, start, size))),
      });
    }
    return evaluationFromSums(this.evaluator(), sums);
  }

  /**
   * `evaluate` over streamed batches (a Dataset or iterable, opened afresh): the sums of every batch
   * are added up, so the result is exact over the whole stream. Each batch is disposed after use.
   */
  async evaluateDataset(stream: BatchStream): Promise<Evaluation> {
    const sums = this.tasks.map((t) => new Float64Array(1 + t.metricSumNames.length));
    const it = await openBatches(stream, 'validationData');
    let count = 0;
    try {
      for (let b = await it.next(); b !== undefined; b = await it.next()) {
        try {
          checkTrainingData(this.taskNames, `validation batch ${count + 1}`, b);
          addEvaluationSums(this.evaluator(), sums, b);
        } finally {
          disposeBatch(b);
        }
        count++;
      }
    } finally {
      await it.close();
    }
    if (count === 0) throw new TrainingDataError('validationData yielded no batches');
    return evaluationFromSums(this.evaluator(), sums);
  }

  /** Trains for `options.epochs` epochs on in-memory data; resolves with the history. */
  async fit(data: TrainingData, options: FitOptions): Promise<History> {
    checkTrainingData(this.taskNames, 'data', data);
    if (options.validationData) checkTrainingData(this.taskNames, 'validationData', options.validationData);
    const memory = memorySource(data, options, this.tasks.length, (d) =>
      this.evaluate(d, options.evalBatchSize),
    );
    try {
      return await this.loop(options, memory.source);
    } finally {
      memory.dispose();
    }
  }

  /**
   * Trains on streamed batches — `LayersModel.fitDataset`'s convention: `stream` is a `tf.data.Dataset`
   * (or any async iterable) of `{ x, targets, masks? }` batches; every batch is disposed after its step,
   * so a stream of any length trains in flat memory. Resolves with the history.
   */
  async fitDataset(stream: BatchStream, options: FitDatasetOptions): Promise<History> {
    const perEpoch = options.batchesPerEpoch;
    if (perEpoch !== undefined) positiveInt('batchesPerEpoch', perEpoch);
    const validation = options.validationData;
    const inMemory = validation !== undefined && isTrainingData(validation);
    if (inMemory) checkTrainingData(this.taskNames, 'validationData', validation);
    let shared: BatchIterator | undefined;
    let exhausted = false;
    try {
      return await this.loop(options, {
        epoch: async () => {
          if (perEpoch === undefined) return openBatches(stream);
          shared ??= await openBatches(stream);
          const it = shared;
          let taken = 0;
          return {
            next: async () => {
              if (taken >= perEpoch) return undefined;
              const b = await it.next();
              if (b === undefined) exhausted = true;
              else taken++;
              return b;
            },
            close: () => Promise.resolve(),
          };
        },
        evaluate: async () =>
          validation === undefined
            ? {}
            : {
                validation: inMemory
                  ? this.evaluate(validation, options.evalBatchSize)
                  : await this.evaluateDataset(validation),
              },
        hasValidation: validation !== undefined,
        checkBatches: true,
        exhausted: () => exhausted,
        ...(isResumable(stream)
          ? { state: () => stream.checkpointState(), restore: (s: unknown) => stream.restoreState(s) }
          : {}),
      });
    } finally {
      await shared?.close();
    }
  }

  /**
   * The training loop of `fit` and `fitDataset`: epochs of batches from `source.epoch()`, one step per
   * batch (the batch is disposed after it), then the epoch's event, metrics, validation, the divergence
   * tests, early stopping and checkpoints.
   */
  private async loop(options: TrainingLoopOptions, source: LoopSource): Promise<History> {
    const epochs = positiveInt('epochs', options.epochs);
    const metricsEvery = options.metricsEvery ?? 1;
    if (!Number.isInteger(metricsEvery) || metricsEvery < 0)
      throw new RangeError(`metricsEvery must be an integer ≥ 0, got ${metricsEvery}`);
    const maxSteps = options.maxSteps;
    if (maxSteps !== undefined) positiveInt('maxSteps', maxSteps);
    const stopping = options.earlyStopping;
    if (stopping && !source.hasValidation)
      throw new Error('earlyStopping needs validationSplit or validationData');
    if (stopping) positiveInt('earlyStopping.patience', stopping.patience);
    const schedule = options.learningRateSchedule;
    const every = options.checkpoint?.every ?? 1;
    if (options.checkpoint) positiveInt('checkpoint.every', every);
    const onNonFinite = options.onNonFinite ?? 'stop';
    if (onNonFinite !== 'stop' && onNonFinite !== 'skip')
      throw new RangeError(`onNonFinite must be 'stop' or 'skip', got ${String(onNonFinite)}`);
    const factor = options.divergenceFactor ?? 1000;
    if (!(factor > 1)) throw new RangeError(`divergenceFactor must be > 1, got ${factor}`);

    const started = performance.now();
    let firstStep = this.stepCount;
    let lastYield = started;
    let state: LoopState = {
      epoch: 0,
      steps: this.stepCount,
      history: { tasks: this.tasks.map((t) => t.name), strategy: this.weighting.name, epochs: [] },
      best: { loss: Infinity, epoch: 0, weights: null },
      firstValidation: undefined,
      initialLosses: undefined,
    };
    if (options.resumeFrom) {
      state = restoreRunState(this.parts(), options.resumeFrom, source);
      this.stepCount = state.steps;
      firstStep = 0; // maxSteps counts from the run's start
    }
    // what a diverging run puts back: the state at the end of the last good epoch
    let lastGood = captureRunState(this.parts(), state, source);
    const stepsLeft = () => maxSteps === undefined || this.stepCount - firstStep < maxSteps;
    let inARow = 0;
    try {
      for (let epoch = state.epoch + 1; epoch <= epochs && stepsLeft(); epoch++) {
        const losses = new StepLossSums(this.tasks.length);
        let skipped = 0;
        let means: number[];
        try {
          const batches = await source.epoch(epoch);
          try {
            while (stepsLeft() && !options.signal?.aborted) {
              const batch = await batches.next();
              if (batch === undefined) break;
              let stepLosses: tf.Scalar[] | null;
              try {
                if (source.checkBatches)
                  checkTrainingData(this.taskNames, `batch ${losses.steps + 1} of epoch ${epoch}`, batch);
                if (schedule) this.setLearningRate(schedule(this.stepCount, this.learningRate));
                stepLosses = this.trainStep(batch, onNonFinite === 'skip');
              } finally {
                disposeBatch(batch);
              }
              if (stepLosses === null) {
                skipped++;
                if (++inARow >= MAX_SKIPPED_IN_A_ROW)
                  throw this.diverged(
                    'skipped',
                    `${MAX_SKIPPED_IN_A_ROW} steps in a row (to step ${this.stepCount}, epoch ${epoch}) had a non-finite loss and were skipped`,
                    { epoch, step: this.stepCount, tasks: [] },
                    state,
                    lastGood,
                    source,
                  );
                continue;
              }
              inARow = 0;
              // the yardstick of the divergence test: one read, at the run's first step
              state.initialLosses ??= stepLosses.slice(1).map((t) => t.dataSync()[0]!);
              if (options.onStep) this.emitStep(options, epoch, stepLosses);
              losses.add(stepLosses);
              if (
                options.yieldEveryMs !== undefined &&
                performance.now() - lastYield >= options.yieldEveryMs
              ) {
                await new Promise((resolve) => setTimeout(resolve, 0));
                lastYield = performance.now();
              }
            }
          } finally {
            await batches.close();
          }
          if (losses.steps === 0) {
            if (skipped > 0) continue; // every step of the epoch was dropped
            if (!options.signal?.aborted && epoch === 1 && !source.exhausted?.())
              throw new TrainingDataError('the training data yielded no batches');
            if (source.exhausted?.())
              state.history.stoppedEarly = stopReason(epoch - 1, state.best.epoch, 'dataset exhausted');
            break; // aborted before the epoch's first step, or the stream ran dry
          }
          means = losses.means();
          if (!means.every(Number.isFinite)) {
            const bad = nonFiniteStep(this.taskNames, losses, means, this.stepCount, epoch);
            throw this.diverged('non-finite', bad.message, bad, state, lastGood, source);
          }
        } finally {
          losses.dispose();
        }
        this.weighting.onEpochEnd?.(means.slice(1));
        const event = this.epochEvent(epoch, means, started);
        if (skipped > 0) event.skippedSteps = skipped;
        const last = epoch === epochs || !stepsLeft();
        const wantMetrics = metricsEvery > 0 && (epoch % metricsEvery === 0 || last);
        if (wantMetrics || (stopping && source.hasValidation)) {
          const evals = await source.evaluate(wantMetrics);
          if (wantMetrics) {
            event.metrics = { train: evals.train?.metrics ?? {} };
            if (evals.validation) event.metrics.validation = evals.validation.metrics;
          }
          if (evals.validation)
            event.validation = { loss: evals.validation.loss, taskLosses: evals.validation.taskLosses };
        }
        const history = state.history;
        history.epochs.push(event);
        await options.onEpochEnd?.(event);
        const exploded = explodedTasks(this.taskNames, event, state.initialLosses, factor);
        if (exploded) throw this.diverged('exploded', exploded.message, exploded, state, lastGood, source);
        const best = state.best;
        if (options.signal?.aborted) {
          history.stoppedEarly = stopReason(epoch, best.epoch || epoch, 'aborted');
          break;
        }
        if (source.exhausted?.()) {
          history.stoppedEarly = stopReason(epoch, best.epoch || epoch, 'dataset exhausted');
          break;
        }
        if (stopping && event.validation) {
          const minDelta = stopping.minDelta ?? 0;
          state.firstValidation ??= event.validation.taskLosses;
          const monitored =
            stopping.monitor === 'weighted'
              ? event.validation.loss
              : relativeTaskLoss(event.validation.taskLosses, state.firstValidation);
          if (monitored < best.loss - minDelta) {
            best.weights?.forEach((w) => w.dispose());
            state.best = {
              loss: monitored,
              epoch,
              weights: stopping.restoreBest === false ? null : this.snapshot(),
            };
          } else if (epoch - best.epoch >= stopping.patience) {
            history.stoppedEarly = stopReason(
              epoch,
              best.epoch,
              `validation loss did not improve for ${stopping.patience} epochs`,
            );
            if (best.weights) this.restore(best.weights);
            break;
          }
        }
        state.epoch = epoch;
        state.steps = this.stepCount;
        lastGood = captureRunState(this.parts(), state, source);
        if (options.checkpoint && epoch % every === 0) await options.checkpoint.save(detached(lastGood));
      }
    } finally {
      state.best.weights?.forEach((w) => w.dispose());
    }
    return state.history;
  }

  /**
   * Puts back the state to keep — early stopping's best for an explosion when it has one, else the last
   * good epoch's — and returns the error saying so.
   */
  private diverged(
    kind: DivergenceKind,
    what: string,
    at: { epoch: number; step: number; tasks: string[] },
    state: LoopState,
    lastGood: TrainingCheckpoint,
    source: LoopSource,
  ): TrainingDivergedError {
    let restored: string;
    let restoredEpoch: number;
    const history = structuredClone(state.history);
    if (kind === 'exploded' && state.best.weights) {
      this.restore(state.best.weights);
      restoredEpoch = state.best.epoch;
      restored = `kept the best state (epoch ${restoredEpoch})`;
    } else {
      const back = restoreRunState(this.parts(), lastGood, source);
      back.best.weights?.forEach((w) => w.dispose());
      this.stepCount = back.steps;
      restoredEpoch = lastGood.epoch;
      restored =
        restoredEpoch > 0
          ? `put back the state after epoch ${restoredEpoch}`
          : 'put back the state before training';
    }
    return new TrainingDivergedError(
      `training diverged: ${what}; stopped and ${restored}; lower the learning rate or check the data for extreme values`,
      { kind, ...at, restoredEpoch, history },
    );
  }

  private evaluator(): Evaluator {
    return { tasks: this.tasks, weighting: this.weighting, forward: (x) => this.forward(x, false) };
  }

  private get taskNames(): string[] {
    return this.tasks.map((t) => t.name);
  }

  private parts(): RunParts {
    return {
      model: this.model,
      taskNames: this.taskNames,
      weighting: this.weighting,
      modelOptimizer: this.modelOptimizer,
      strategyOptimizer: this.strategyOptimizer,
      randomTasks: this.tasks.filter(
        (t): t is Task & { randomState(): number; setRandomState(n: number): void } =>
          typeof (t as { randomState?: unknown }).randomState === 'function',
      ),
    };
  }

  dispose(): void {
    this.modelOptimizer.dispose();
    this.strategyOptimizer?.dispose();
  }

  /** The model weights' learning rate from now on (and the strategy's, where they share an optimiser). */
  private setLearningRate(lr: number): void {
    if (!(lr > 0 && Number.isFinite(lr)))
      throw new RangeError(`learningRateSchedule returned ${lr} at step ${this.stepCount}; it must be > 0`);
    this.modelOptimizer.setLearningRate(lr);
    this.currentLearningRate = lr;
  }

  /**
   * One optimiser step on a batch; returns [total, loss_1 … loss_T] (caller disposes) — or, with
   * `skipNonFinite`, null and no update when a loss is not finite (one sync to know).
   */
  private trainStep(batch: TrainingData, skipNonFinite: boolean): tf.Scalar[] | null {
    let kept: tf.Scalar[] = [];
    let skipped = false;
    const allFinite = (ls: tf.Tensor[]) => tf.all(tf.isFinite(tf.stack(ls))).dataSync()[0] === 1;
    tf.tidy(() => {
      const xb = batch.x;
      const targets = batch.targets as tf.Tensor[];
      const masks = this.tasks.map((_, t) => batch.masks?.[t]);
      const modelVars = this.modelVars;
      const strategyVars = this.strategyVars;
      if (isGradientStrategy(this.weighting)) {
        const step = this.gradientLevelStep(
          this.weighting,
          xb,
          targets,
          masks,
          skipNonFinite ? allFinite : undefined,
        );
        if (step === null) {
          skipped = true;
          return;
        }
        kept = step.map((t) => tf.keep(t));
        this.weighting.afterStep?.();
        return;
      }
      const { grads } = tf.variableGrads(() => {
        const outs = this.forward(xb, true);
        const losses = this.tasks.map((task, t) => task.loss(outs[t]!, targets[t]!, masks[t]));
        const total = this.weighting.combine(losses);
        // survives the gradient's tidy; disposed by the caller
        kept = [total, ...losses].map((t) => tf.keep(t));
        return total;
      }, [...modelVars, ...strategyVars]);
      if (skipNonFinite && !allFinite(kept)) {
        kept.forEach((t) => t.dispose());
        kept = [];
        skipped = true;
        return;
      }
      const pick = (vars: readonly tf.Variable[]): tf.NamedTensorMap => {
        const out: tf.NamedTensorMap = {};
        for (const v of vars) if (grads[v.name]) out[v.name] = grads[v.name]!;
        return out;
      };
      if (this.strategyOptimizer) {
        this.modelOptimizer.applyGradients(pick(modelVars));
        this.strategyOptimizer.applyGradients(pick(strategyVars));
      } else {
        this.modelOptimizer.applyGradients(grads);
      }
      this.applyWeightDecay();
      this.weighting.afterStep?.();
    });
    this.stepCount++;
    return skipped ? null : kept;
  }

  private snapshot(): tf.Tensor[] {
    return [...this.model.weights.map((w) => w.read()), ...this.weighting.variables].map((v) => tf.clone(v));
  }

  private restore(saved: tf.Tensor[]): void {
    const targets = [...this.model.weights.map((w) => w.read() as tf.Variable), ...this.weighting.variables];
    targets.forEach((v, i) => v.assign(saved[i]!));
  }

  private perTask(values: readonly number[]): PerTask<number> {
    const out: PerTask<number> = {};
    this.tasks.forEach((t, i) => (out[t.name] = values[i]!));
    return out;
  }

  /**
   * A step of a gradient-level strategy (see GradientLevelStep); returns [total, loss_1 … loss_T], or
   * null without an update when `accept` rejects the task losses.
   */
  private gradientLevelStep(
    strategy: GradientWeightingStrategy,
    xb: tf.Tensor,
    targets: tf.Tensor[],
    masks: (tf.Tensor | undefined)[],
    accept?: (losses: tf.Scalar[]) => boolean,
  ): tf.Scalar[] | null {
    this.gradientStep ??= new GradientLevelStep(this.model, this.tasks, this.modelVars, (x) =>
      this.forward(x, true),
    );
    const step = this.gradientStep.gradients(strategy, xb, targets, masks, accept);
    if (step === null) return null;
    this.modelOptimizer.applyGradients(step.grads);
    this.applyWeightDecay();
    return [strategy.combine(step.losses), ...step.losses];
  }

  /** Decoupled weight decay on the model's weights only (never on the strategy's variables). */
  private applyWeightDecay(): void {
    if (this.weightDecay === 0) return;
    const keep = 1 - this.currentLearningRate * this.weightDecay;
    for (const v of this.modelVars) v.assign(tf.mul(v, keep));
  }

  private emitStep(options: TrainingLoopOptions, epoch: number, losses: readonly tf.Scalar[]): void {
    const v = Float64Array.from(losses, (t) => t.dataSync()[0]!);
    const sigmas = this.weighting.sigmas?.();
    options.onStep!({
      epoch,
      step: this.stepCount,
      loss: v[0]!,
      taskLosses: this.perTask(Array.from(v.subarray(1))),
      weights: this.perTask(this.weighting.weights()),
      ...(sigmas ? { sigmas: this.perTask(sigmas) } : {}),
    });
  }

  private epochEvent(epoch: number, means: number[], started: number): EpochEvent {
    const sigmas = this.weighting.sigmas?.();
    const state = this.weighting.getState();
    const logVar = state['logVariance'];
    return {
      epoch,
      steps: this.stepCount,
      loss: means[0]!,
      taskLosses: this.perTask(means.slice(1)),
      weights: this.perTask(this.weighting.weights()),
      ...(sigmas ? { sigmas: this.perTask(sigmas) } : {}),
      ...(Array.isArray(logVar) ? { logVariances: this.perTask(logVar as number[]) } : {}),
      seconds: (performance.now() - started) / 1000,
    };
  }
}
