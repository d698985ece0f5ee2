import * as tf from '@tensorflow/tfjs';
import { NumpyRandomState, type RandomStateSnapshot } from '../random/numpy-random-state.js';
import type { Task } from '../tasks/task.js';
import {
  isGradientStrategy,
  type GradientWeightingStrategy,
  type WeightingStrategy,
} from '../weighting/strategy.js';
import { GradientLevelStep } from './gradient-step.js';
import type { EpochEvent, PerTask, SplitMetrics } from './events.js';
import { createBatcher } from './batcher.js';
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
import {
  identity,
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
  type Evaluation,
  type FitDatasetOptions,
  type FitOptions,
  type TrainerOptions,
  type TrainingCheckpoint,
  type TrainingLoopOptions,
} from './options.js';

export * from './options.js';
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
    this.checkData('data', data);
    const n = data.x.shape[0];
    const sums = this.tasks.map((t) => new Float64Array(1 + t.metricSumNames.length));
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      this.addEvaluationSums(sums, {
        x: sliceRows(data.x, start, size),
        targets: data.targets.map((t) => sliceRows(t, start, size)),
        masks: data.masks?.map((m) => (m === undefined ? undefined : sliceRows(m, start, size))),
      });
    }
    return this.evaluationFromSums(sums);
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
          this.checkData(`validation batch ${count + 1}`, b);
          this.addEvaluationSums(sums, b);
        } finally {
          disposeBatch(b);
        }
        count++;
      }
    } finally {
      await it.close();
    }
    if (count === 0) throw new TrainingDataError('validationData yielded no batches');
    return this.evaluationFromSums(sums);
  }

  /** Adds one chunk's [Σ loss, metric sums…] per task into `sums` (slices of the chunk are freed here). */
  private addEvaluationSums(sums: Float64Array[], chunk: TrainingData): void {
    const rows = tf.tidy(() => {
      const outs = this.forward(chunk.x, false);
      return this.tasks.map((task, t) => {
        const target = chunk.targets[t]!;
        const mask = chunk.masks?.[t];
        const lossValues = task.sampleLoss(outs[t]!, target);
        const lossSum =
          mask === undefined ? tf.sum(lossValues) : tf.sum(tf.mul(lossValues, tf.reshape(mask, [-1])));
        return tf.concat([tf.reshape(lossSum, [1]), task.metricSums(outs[t]!, target, mask)]);
      });
    });
    rows.forEach((c, t) => {
      const v = c.dataSync();
      const s = sums[t]!;
      for (let k = 0; k < s.length; k++) s[k]! += v[k]!;
      c.dispose();
    });
  }

  private evaluationFromSums(sums: Float64Array[]): Evaluation {
    const taskLosses: PerTask<number> = {};
    const metrics: SplitMetrics = {};
    const lossValues: number[] = [];
    this.tasks.forEach((task, t) => {
      const s = sums[t]!;
      const count = s[1]!; // metric sums start with the labelled count
      const l = count > 0 ? s[0]! / count : NaN;
      taskLosses[task.name] = l;
      lossValues.push(Number.isNaN(l) ? 0 : l);
      metrics[task.name] = task.metricsFromSums(s.subarray(1));
    });
    // strategies with variables (log-variances …) need their regulariser: combine; the others are
    // reported with their current weights, so that evaluating draws no random weights (RLW)
    const total =
      this.weighting.variables.length > 0
        ? tf.tidy(() => this.weighting.combine(lossValues.map((l) => tf.scalar(l))).dataSync()[0]!)
        : this.weighting.weights().reduce((acc, w, t) => acc + w * lossValues[t]!, 0);
    return { loss: total, taskLosses, metrics };
  }

  /** Trains for `options.epochs` epochs on in-memory data; resolves with the history. */
  async fit(data: TrainingData, options: FitOptions): Promise<History> {
    this.checkData('data', data);
    const batchSize = positiveInt('batchSize', options.batchSize ?? 32);
    const split = options.validationSplit ?? 0;
    if (!(split >= 0 && split < 1)) throw new RangeError(`validationSplit must be in [0, 1), got ${split}`);
    if (split > 0 && options.validationData)
      throw new Error('give either validationSplit or validationData, not both');
    const rng = new NumpyRandomState(options.seed ?? 0);

    const owned: tf.Tensor[] = [];
    let train = data;
    let validation = options.validationData;
    if (validation) this.checkData('validationData', validation);
    if (split > 0) {
      const n = data.x.shape[0];
      const nVal = Math.round(n * split);
      if (nVal < 1 || nVal >= n)
        throw new RangeError(`validationSplit ${split} of ${n} samples leaves an empty split`);
      const perm = rng.permutation(n);
      const pick = (idx: Int32Array): TrainingData => {
        const i = tf.tensor1d(idx, 'int32');
        const picked: TrainingData = {
          x: tf.gather(data.x, i),
          targets: data.targets.map((t) => tf.gather(t, i)),
          masks: this.tasks.map((_, k) => (data.masks?.[k] ? tf.gather(data.masks[k], i) : undefined)),
        };
        i.dispose();
        owned.push(
          picked.x,
          ...picked.targets,
          ...picked.masks!.filter((m): m is tf.Tensor => m !== undefined),
        );
        return picked;
      };
      train = pick(perm.slice(0, n - nVal));
      validation = pick(perm.slice(n - nVal));
    }
    const nTrain = train.x.shape[0];
    const batcher = createBatcher(this.batchSources(train));
    const masked = this.tasks.map((_, t) => train.masks?.[t] !== undefined);
    const T = this.tasks.length;
    const val = validation;
    try {
      return await this.loop(options, {
        epoch: () => {
          // one permutation per epoch, drawn when the epoch starts
          const order = options.shuffle === false ? identity(nTrain) : rng.permutation(nTrain);
          let start = 0;
          const next = (): TrainingData | undefined => {
            if (start >= nTrain) return undefined;
            const idx = order.subarray(start, Math.min(start + batchSize, nTrain));
            start += batchSize;
            const [x, ...rest] = batcher.batch(idx);
            let k = T;
            return {
              x: x!,
              targets: rest.slice(0, T),
              masks: masked.map((has) => (has ? rest[k++] : undefined)),
            };
          };
          return Promise.resolve({ next: () => Promise.resolve(next()), close: () => Promise.resolve() });
        },
        evaluate: (wantMetrics) =>
          Promise.resolve({
            ...(wantMetrics ? { train: this.evaluate(train, options.evalBatchSize) } : {}),
            ...(val ? { validation: this.evaluate(val, options.evalBatchSize) } : {}),
          }),
        hasValidation: val !== undefined,
        checkBatches: false,
        // the next epoch's permutation is drawn from this stream
        state: () => rng.getState(),
        restore: (state) => rng.setState(state as RandomStateSnapshot),
      });
    } finally {
      batcher.dispose();
      owned.forEach((t) => t.dispose());
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
    if (inMemory) this.checkData('validationData', validation);
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
   * batch (the batch is disposed after it), then the epoch's event, metrics, validation and early
   * stopping.
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

    let history: History = {
      tasks: this.tasks.map((t) => t.name),
      strategy: this.weighting.name,
      epochs: [],
    };
    const started = performance.now();
    let firstStep = this.stepCount;
    let lastYield = started;
    let best = { loss: Infinity, epoch: 0, weights: null as tf.Tensor[] | null };
    let firstValidation: PerTask<number> | undefined;
    let firstEpoch = 1;
    const resume = options.resumeFrom;
    if (resume) {
      ({ history, best, firstValidation } = this.restoreCheckpoint(resume, source));
      firstEpoch = resume.epoch + 1;
      firstStep = 0; // maxSteps counts from the run's start
    }
    const stepsLeft = () => maxSteps === undefined || this.stepCount - firstStep < maxSteps;
    try {
      for (let epoch = firstEpoch; epoch <= epochs && stepsLeft(); epoch++) {
        const losses = new StepLossSums(this.tasks.length);
        const batches = await source.epoch(epoch);
        try {
          while (stepsLeft() && !options.signal?.aborted) {
            const batch = await batches.next();
            if (batch === undefined) break;
            let stepLosses: tf.Scalar[];
            try {
              if (source.checkBatches) this.checkData(`batch ${losses.steps + 1} of epoch ${epoch}`, batch);
              if (schedule) this.setLearningRate(schedule(this.stepCount, this.learningRate));
              stepLosses = this.trainStep(batch);
            } finally {
              disposeBatch(batch);
            }
            if (options.onStep) this.emitStep(options, epoch, stepLosses);
            losses.add(stepLosses);
            if (options.yieldEveryMs !== undefined && performance.now() - lastYield >= options.yieldEveryMs) {
              await new Promise((resolve) => setTimeout(resolve, 0));
              lastYield = performance.now();
            }
          }
        } finally {
          await batches.close();
        }
        if (losses.steps === 0) {
          losses.dispose();
          if (!options.signal?.aborted && epoch === 1 && !source.exhausted?.())
            throw new TrainingDataError('the training data yielded no batches');
          if (source.exhausted?.())
            history.stoppedEarly = stopReason(epoch - 1, best.epoch, 'dataset exhausted');
          break; // aborted before the epoch's first step, or the stream ran dry
        }
        const means = losses.means();
        this.weighting.onEpochEnd?.(means.slice(1));
        if (!Number.isFinite(means[0]!)) {
          const bad = this.tasks.filter((_, t) => !Number.isFinite(means[t + 1]!)).map((t) => `'${t.name}'`);
          throw new TrainingDivergedError(
            `training diverged in epoch ${epoch}: the loss became ${means[0]}` +
              (bad.length ? ` (task ${bad.join(', ')})` : '') +
              ` by step ${this.stepCount}` +
              '; lower the learning rate or check the targets for extreme values',
          );
        }
        const event = this.epochEvent(epoch, means, started);
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
        history.epochs.push(event);
        await options.onEpochEnd?.(event);
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
          firstValidation ??= event.validation.taskLosses;
          const monitored =
            stopping.monitor === 'weighted'
              ? event.validation.loss
              : relativeTaskLoss(event.validation.taskLosses, firstValidation);
          if (monitored < best.loss - minDelta) {
            best.weights?.forEach((w) => w.dispose());
            best = {
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
        if (options.checkpoint && epoch % every === 0)
          await options.checkpoint.save(this.checkpointState(epoch, history, best, firstValidation, source));
      }
    } finally {
      best.weights?.forEach((w) => w.dispose());
    }
    return history;
  }

  dispose(): void {
    this.modelOptimizer.dispose();
    this.strategyOptimizer?.dispose();
  }

  /** x, the targets, then the masks that exist: what a batch is built from. */
  private batchSources(data: TrainingData): tf.Tensor[] {
    const masks = this.tasks.map((_, t) => data.masks?.[t]).filter((m): m is tf.Tensor => m !== undefined);
    return [data.x, ...data.targets, ...masks];
  }

  /** The model weights' learning rate from now on (and the strategy's, where they share an optimiser). */
  private setLearningRate(lr: number): void {
    if (!(lr > 0 && Number.isFinite(lr)))
      throw new RangeError(`learningRateSchedule returned ${lr} at step ${this.stepCount}; it must be > 0`);
    this.modelOptimizer.setLearningRate(lr);
    this.currentLearningRate = lr;
  }

  /** One optimiser step on a batch; returns [total, loss_1 … loss_T] (caller disposes). */
  private trainStep(batch: TrainingData): tf.Scalar[] {
    let kept: tf.Scalar[] = [];
    tf.tidy(() => {
      const xb = batch.x;
      const targets = batch.targets as tf.Tensor[];
      const masks = this.tasks.map((_, t) => batch.masks?.[t]);
      const modelVars = this.modelVars;
      const strategyVars = this.strategyVars;
      if (isGradientStrategy(this.weighting)) {
        kept = this.gradientLevelStep(this.weighting, xb, targets, masks).map((t) => tf.keep(t));
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
    return kept;
  }

  /** The run's state after `epoch` (see TrainingCheckpoint). */
  private checkpointState(
    epoch: number,
    history: History,
    best: { loss: number; epoch: number; weights: tf.Tensor[] | null },
    firstValidation: PerTask<number> | undefined,
    source: LoopSource,
  ): TrainingCheckpoint {
    const copy = (s: { iterations: number; m: Float32Array; v: Float32Array }) => ({
      iterations: s.iterations,
      m: s.m.slice(),
      v: s.v.slice(),
    });
    const data = source.state?.();
    return {
      version: 1,
      epoch,
      steps: this.stepCount,
      weights: this.model.weights.map((w) => ({
        name: w.originalName,
        shape: [...w.shape] as number[],
        values: Float32Array.from(w.read().dataSync()),
      })),
      optimizer: copy(this.modelOptimizer.getState()),
      ...(this.strategyOptimizer ? { strategyOptimizer: copy(this.strategyOptimizer.getState()) } : {}),
      strategy: structuredClone(this.weighting.getState()),
      ...(data !== undefined ? { data } : {}),
      ...(best.epoch > 0
        ? {
            stopping: {
              bestLoss: best.loss,
              bestEpoch: best.epoch,
              ...(firstValidation ? { firstValidation: { ...firstValidation } } : {}),
              ...(best.weights
                ? { bestWeights: best.weights.map((t) => Float32Array.from(t.dataSync())) }
                : {}),
            },
          }
        : {}),
      history: structuredClone(history),
    };
  }

  /** Puts a checkpoint's state back into the model, optimisers, strategy and batch source. */
  private restoreCheckpoint(
    cp: TrainingCheckpoint,
    source: LoopSource,
  ): {
    history: History;
    best: { loss: number; epoch: number; weights: tf.Tensor[] | null };
    firstValidation: PerTask<number> | undefined;
  } {
    if (cp.version !== 1) throw new Error(`checkpoint: unknown version ${String(cp.version)}`);
    const weights = this.model.weights;
    if (cp.weights.length !== weights.length)
      throw new Error(`checkpoint: ${cp.weights.length} weights for a model with ${weights.length}`);
    weights.forEach((w, i) => {
      const saved = cp.weights[i]!;
      if (!tf.util.arraysEqual(saved.shape, w.shape as number[]))
        throw new Error(
          `checkpoint: weight ${i} ('${saved.name}') is [${saved.shape.join(', ')}], the model's '${w.originalName}' [${w.shape.join(', ')}]`,
        );
    });
    if (cp.history.tasks.join('\u0000') !== this.tasks.map((t) => t.name).join('\u0000'))
      throw new Error(
        `checkpoint: tasks ${cp.history.tasks.join(', ')}, not ${this.tasks.map((t) => t.name).join(', ')}`,
      );
    if (cp.history.strategy !== this.weighting.name)
      throw new Error(`checkpoint: strategy '${cp.history.strategy}', not '${this.weighting.name}'`);
    tf.tidy(() => weights.forEach((w, i) => w.write(tf.tensor(cp.weights[i]!.values, w.shape as number[]))));
    this.modelOptimizer.setState(cp.optimizer);
    if (this.strategyOptimizer) {
      if (!cp.strategyOptimizer) throw new Error('checkpoint: no state of the strategy optimiser');
      this.strategyOptimizer.setState(cp.strategyOptimizer);
    }
    this.weighting.setState(structuredClone(cp.strategy));
    this.stepCount = cp.steps;
    if (cp.data !== undefined) {
      if (!source.restore) throw new Error('checkpoint: the batch source cannot be put back to its position');
      source.restore(cp.data);
    }
    const stop = cp.stopping;
    const shapes = [
      ...weights.map((w) => w.shape as number[]),
      ...this.weighting.variables.map((v) => v.shape),
    ];
    return {
      history: structuredClone(cp.history),
      best: stop
        ? {
            loss: stop.bestLoss,
            epoch: stop.bestEpoch,
            weights: stop.bestWeights ? stop.bestWeights.map((v, i) => tf.tensor(v, shapes[i])) : null,
          }
        : { loss: Infinity, epoch: 0, weights: null },
      firstValidation: stop?.firstValidation ? { ...stop.firstValidation } : undefined,
    };
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

  /** A step of a gradient-level strategy (see GradientLevelStep); returns [total, loss_1 … loss_T]. */
  private gradientLevelStep(
    strategy: GradientWeightingStrategy,
    xb: tf.Tensor,
    targets: tf.Tensor[],
    masks: (tf.Tensor | undefined)[],
  ): tf.Scalar[] {
    this.gradientStep ??= new GradientLevelStep(this.model, this.tasks, this.modelVars, (x) =>
      this.forward(x, true),
    );
    const { grads, losses } = this.gradientStep.gradients(strategy, xb, targets, masks);
    this.modelOptimizer.applyGradients(grads);
    this.applyWeightDecay();
    return [strategy.combine(losses), ...losses];
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

  private checkData(path: string, data: TrainingData): void {
    const tensors = [data.x, ...data.targets, ...(data.masks ?? [])];
    if (tensors.some((t) => t?.isDisposed))
      throw new TrainingDataError(
        `${path} holds a disposed tensor: a stream must yield fresh tensors every time (fitDataset disposes each batch after its step)`,
      );
    const n = data.x.shape[0];
    if (n === undefined || n < 1) throw new TrainingDataError(`${path}.x has no samples`);
    if (data.targets.length !== this.tasks.length) {
      throw new TrainingDataError(
        `${path}.targets has ${data.targets.length} entries for ${this.tasks.length} tasks`,
      );
    }
    data.targets.forEach((t, i) => {
      if (t.shape[0] !== n) {
        throw new TrainingDataError(
          `${path}.targets[${i}] (task '${this.tasks[i]!.name}') has ${t.shape[0]} rows, x has ${n}`,
        );
      }
    });
    data.masks?.forEach((m, i) => {
      if (m !== undefined && m.shape[0] !== n) {
        throw new TrainingDataError(
          `${path}.masks[${i}] (task '${this.tasks[i]!.name}') must have ${n} rows, got [${m.shape.join(', ')}]`,
        );
      }
    });
  }
}
