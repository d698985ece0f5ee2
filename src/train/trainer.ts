import * as tf from '@tensorflow/tfjs';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import type { Task } from '../tasks/task.js';
import {
  isGradientStrategy,
  type GradientWeightingStrategy,
  type WeightingStrategy,
} from '../weighting/strategy.js';
import { headChains, parameterRoles, representationLayer, type ParameterRoles } from './parameter-roles.js';
import type { EpochEvent, PerTask, SplitMetrics, TrainCallbacks } from './events.js';
import { createBatcher, type Batcher } from './batcher.js';
import { FusedAdam } from './fused-adam.js';
import type { History } from './history.js';

export interface AdamOptions {
  /** Default 1e-3. */
  learningRate?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7 (Keras's, and the seed's). */
  epsilon?: number;
}

export interface TrainerOptions {
  /** Any model with one output per task, in task order. */
  model: tf.LayersModel;
  tasks: readonly Task[];
  weighting: WeightingStrategy;
  /** Adam's settings for the model's weights (the strategy's variables use its own learning rate if it sets one). */
  optimizer?: AdamOptions;
  /** Decoupled weight decay (AdamW-style) on the model's weights; never on the strategy's variables. Default 0. */
  weightDecay?: number;
}

/** Inputs and per-task targets, all with the same first (sample) dimension. */
export interface TrainingData {
  x: tf.Tensor;
  /** One tensor per task, in task order. */
  targets: readonly tf.Tensor[];
  /** Optional per-task masks [N] (1 = labelled, 0 = label missing); undefined means all labelled. */
  masks?: readonly (tf.Tensor | undefined)[];
}

export interface EarlyStoppingOptions {
  /** Epochs without improvement of the validation loss before stopping. */
  patience: number;
  /** Smallest decrease that counts as an improvement; default 0. */
  minDelta?: number;
  /** Put back the weights of the best epoch when stopping; default true. */
  restoreBest?: boolean;
  /**
   * What must keep improving: `tasks` (default) — the mean over tasks of each task's validation loss
   * relative to its first epoch, scale-free and blind to the weighting; `weighted` — the strategy's
   * weighted total, which uncertainty weighting keeps lowering by sharpening σ even while the tasks
   * over-fit.
   */
  monitor?: 'tasks' | 'weighted';
}

export interface FitOptions extends TrainCallbacks {
  epochs: number;
  /** Default 32. */
  batchSize?: number;
  /** Reshuffle the training samples every epoch; default true. */
  shuffle?: boolean;
  /** Seed of the shuffling and of the validation split; default 0. */
  seed?: number;
  /** Fraction of the samples held out for validation (seeded random split); default 0. */
  validationSplit?: number;
  validationData?: TrainingData;
  /** Compute metrics over the whole training (and validation) set every this many epochs; 0 = never. Default 1. */
  metricsEvery?: number;
  /** Rows per forward pass when evaluating; default 4096. */
  evalBatchSize?: number;
  /** Stop when the validation loss stops improving (needs validation data). */
  earlyStopping?: EarlyStoppingOptions;
  /** Stops training after the current step. */
  signal?: AbortSignal;
  /** In a browser: yield to the event loop at least this often (ms) so the page stays responsive. */
  yieldEveryMs?: number;
}

export interface Evaluation {
  /** The strategy's weighted total over the set. */
  loss: number;
  taskLosses: PerTask<number>;
  metrics: SplitMetrics;
}

/** Training data were inconsistent (shapes, counts, values); the message names what and where. */
export class TrainingDataError extends Error {
  override name = 'TrainingDataError';
}

/** The loss became NaN or infinite. */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
}

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
  private readonly weightDecay: number;
  private readonly modelVars: tf.Variable[];
  private readonly strategyVars: tf.Variable[];
  private stepCount = 0;
  private roles: ParameterRoles | null = null;
  /** The trunk up to the shared representation Z, and each task's layers after it (when the model allows). */
  private split: { trunk: tf.LayersModel; heads: tf.layers.Layer[][] } | null | undefined;

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

  /** Weighted loss, per-task losses and metrics over a whole data set. */
  evaluate(data: TrainingData, batchSize = 4096): Evaluation {
    this.checkData('data', data);
    const n = data.x.shape[0];
    const sums = this.tasks.map((t) => new Float64Array(1 + t.metricSumNames.length));
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const chunk = tf.tidy(() => {
        const outs = this.forward(sliceRows(data.x, start, size), false);
        return this.tasks.map((task, t) => {
          const target = sliceRows(data.targets[t]!, start, size);
          const m = data.masks?.[t];
          const mask = m === undefined ? undefined : sliceRows(m, start, size);
          const lossValues = task.sampleLoss(outs[t]!, target);
          const lossSum =
            mask === undefined ? tf.sum(lossValues) : tf.sum(tf.mul(lossValues, tf.reshape(mask, [-1])));
          return tf.concat([tf.reshape(lossSum, [1]), task.metricSums(outs[t]!, target, mask)]);
        });
      });
      chunk.forEach((c, t) => {
        const v = c.dataSync();
        const s = sums[t]!;
        for (let k = 0; k < s.length; k++) s[k]! += v[k]!;
        c.dispose();
      });
    }
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

  /** Trains for `options.epochs` epochs; resolves with the history. */
  async fit(data: TrainingData, options: FitOptions): Promise<History> {
    this.checkData('data', data);
    const epochs = positiveInt('epochs', options.epochs);
    const batchSize = positiveInt('batchSize', options.batchSize ?? 32);
    const metricsEvery = options.metricsEvery ?? 1;
    if (!Number.isInteger(metricsEvery) || metricsEvery < 0)
      throw new RangeError(`metricsEvery must be an integer ≥ 0, got ${metricsEvery}`);
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
    const stopping = options.earlyStopping;
    if (stopping && !validation) throw new Error('earlyStopping needs validationSplit or validationData');
    if (stopping) positiveInt('earlyStopping.patience', stopping.patience);

    const history: History = {
      tasks: this.tasks.map((t) => t.name),
      strategy: this.weighting.name,
      epochs: [],
    };
    const nTrain = train.x.shape[0];
    const batcher = createBatcher(this.batchSources(train));
    const masked = this.tasks.map((_, t) => train.masks?.[t] !== undefined);
    const started = performance.now();
    let lastYield = started;
    let best = { loss: Infinity, epoch: 0, weights: null as tf.Tensor[] | null };
    let firstValidation: PerTask<number> | undefined;
    try {
      for (let epoch = 1; epoch <= epochs; epoch++) {
        const order = options.shuffle === false ? identity(nTrain) : rng.permutation(nTrain);
        const stepLosses: tf.Scalar[] = [];
        let batches = 0;
        for (let start = 0; start < nTrain; start += batchSize) {
          if (options.signal?.aborted) break;
          const idx = order.subarray(start, Math.min(start + batchSize, nTrain));
          const losses = this.trainStep(batcher, idx, masked);
          if (options.onStep) this.emitStep(options, epoch, losses);
          stepLosses.push(...losses);
          batches++;
          if (options.yieldEveryMs !== undefined && performance.now() - lastYield >= options.yieldEveryMs) {
            await new Promise((resolve) => setTimeout(resolve, 0));
            lastYield = performance.now();
          }
        }
        if (stepLosses.length === 0) break; // aborted before the epoch's first step
        // the epoch's losses are summed once here: no accumulation kernel per step
        const means = this.epochMeans(stepLosses, batches);
        this.weighting.onEpochEnd?.(means.slice(1));
        if (!Number.isFinite(means[0]!)) {
          const bad = this.tasks.filter((_, t) => !Number.isFinite(means[t + 1]!)).map((t) => `'${t.name}'`);
          throw new TrainingDivergedError(
            `training diverged in epoch ${epoch}: the loss became ${means[0]}` +
              (bad.length ? ` (task ${bad.join(', ')})` : '') +
              '; lower the learning rate or check the targets for extreme values',
          );
        }
        const event = this.epochEvent(epoch, means, started);
        if (metricsEvery > 0 && (epoch % metricsEvery === 0 || epoch === epochs)) {
          const trainEval = this.evaluate(train, options.evalBatchSize);
          event.metrics = { train: trainEval.metrics };
          if (validation) {
            const v = this.evaluate(validation, options.evalBatchSize);
            event.metrics.validation = v.metrics;
            event.validation = { loss: v.loss, taskLosses: v.taskLosses };
          }
        } else if (validation && stopping) {
          const v = this.evaluate(validation, options.evalBatchSize);
          event.validation = { loss: v.loss, taskLosses: v.taskLosses };
        }
        history.epochs.push(event);
        await options.onEpochEnd?.(event);
        if (options.signal?.aborted) {
          history.stoppedEarly = { epoch, bestEpoch: best.epoch || epoch, reason: 'aborted' };
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
            history.stoppedEarly = {
              epoch,
              bestEpoch: best.epoch,
              reason: `validation loss did not improve for ${stopping.patience} epochs`,
            };
            if (best.weights) this.restore(best.weights);
            break;
          }
        }
      }
    } finally {
      batcher.dispose();
      best.weights?.forEach((w) => w.dispose());
      owned.forEach((t) => t.dispose());
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

  /** One optimiser step on the rows `idx`; returns [total, loss_1 … loss_T] (caller disposes). */
  private trainStep(batcher: Batcher, idx: Int32Array, masked: readonly boolean[]): tf.Scalar[] {
    let kept: tf.Scalar[] = [];
    tf.tidy(() => {
      const [xb, ...rest] = batcher.batch(idx);
      const T = this.tasks.length;
      const targets = rest.slice(0, T);
      let next = T;
      const masks = masked.map((has) => (has ? rest[next++] : undefined));
      const modelVars = this.modelVars;
      const strategyVars = this.strategyVars;
      if (isGradientStrategy(this.weighting)) {
        kept = this.gradientLevelStep(this.weighting, xb!, targets, masks).map((t) => tf.keep(t));
        this.weighting.afterStep?.();
        return;
      }
      const { grads } = tf.variableGrads(() => {
        const outs = this.forward(xb!, true);
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
   * A step of a gradient-level strategy: one gradient pass per task over the shared parameters and its
   * own head, the strategy's aggregate of the shared gradients, each head's gradient scaled by its task
   * weight. Returns [total, loss_1 … loss_T].
   */
  private gradientLevelStep(
    strategy: GradientWeightingStrategy,
    xb: tf.Tensor,
    targets: tf.Tensor[],
    masks: (tf.Tensor | undefined)[],
  ): tf.Scalar[] {
    const T = this.tasks.length;
    const taskLoss = (t: number) => this.tasks[t]!.loss(this.forward(xb, true)[t]!, targets[t]!, masks[t]);
    this.roles ??= parameterRoles(this.model, this.modelVars, taskLoss, T);
    const { shared, lastShared, own } = this.roles;
    const flat = (grads: tf.NamedTensorMap, vars: readonly tf.Variable[]): tf.Tensor1D =>
      tf.concat<tf.Tensor1D>(
        vars.map((v) => tf.reshape<tf.Rank.R1>(grads[v.name] ?? tf.zeros(v.shape), [-1])),
      );
    const perTask = Array.from({ length: T }, (_, t) =>
      tf.variableGrads(() => taskLoss(t), [...shared, ...own[t]!]),
    );
    const losses = perTask.map((g) => g.value);
    const representation = this.representationGradients(xb, targets, masks);
    const decision = strategy.aggregate({
      shared: perTask.map((g) => flat(g.grads, shared)),
      lastShared: perTask.map((g) => flat(g.grads, lastShared)),
      ...(representation ? { representation } : {}),
      losses,
    });
    const grads: tf.NamedTensorMap = {};
    const parts = tf.split(
      decision.shared,
      shared.map((v) => v.size),
    );
    shared.forEach((v, i) => (grads[v.name] = tf.reshape(parts[i]!, v.shape)));
    perTask.forEach((g, t) => {
      for (const v of own[t]!)
        if (g.grads[v.name]) grads[v.name] = tf.mul(g.grads[v.name]!, decision.taskWeights[t]!);
    });
    this.modelOptimizer.applyGradients(grads);
    this.applyWeightDecay();
    return [strategy.combine(losses), ...losses];
  }

  /**
   * ∂L_t/∂Z per task for the shared representation Z (the output of the layer owning the last shared
   * variables), flattened — when the model is a trunk followed by one chain of layers per task.
   */
  private representationGradients(
    xb: tf.Tensor,
    targets: tf.Tensor[],
    masks: (tf.Tensor | undefined)[],
  ): tf.Tensor1D[] | undefined {
    if (this.split === undefined) {
      const layer = representationLayer(this.model, this.roles!.lastShared);
      const heads = layer ? headChains(this.model, layer) : null;
      this.split =
        layer && heads
          ? {
              trunk: tf.model({ inputs: this.model.inputs, outputs: layer.output }),
              heads,
            }
          : null;
    }
    if (this.split === null) return undefined;
    const { trunk, heads } = this.split;
    const z = trunk.apply(xb, { training: true }) as tf.Tensor;
    return heads.map((chain, t) => {
      const lossOfZ = (zz: tf.Tensor) => {
        let h = zz;
        for (const layer of chain) h = layer.apply(h, { training: true }) as tf.Tensor;
        return this.tasks[t]!.loss(h, targets[t]!, masks[t]);
      };
      return tf.reshape<tf.Rank.R1>(tf.grad(lossOfZ)(z), [-1]);
    });
  }

  /** Decoupled weight decay on the model's weights only (never on the strategy's variables). */
  private applyWeightDecay(): void {
    if (this.weightDecay === 0) return;
    const keep = 1 - this.learningRate * this.weightDecay;
    for (const v of this.modelVars) v.assign(tf.mul(v, keep));
  }

  /** Mean over the epoch's steps of [total, loss_1 … loss_T]; disposes the step losses. */
  private epochMeans(stepLosses: tf.Scalar[], steps: number): number[] {
    const sums = tf.tidy(() => tf.sum(tf.reshape(tf.stack(stepLosses), [steps, -1]), 0).dataSync());
    stepLosses.forEach((t) => t.dispose());
    return Array.from(sums, (v) => v / steps);
  }

  private emitStep(options: FitOptions, epoch: number, losses: readonly tf.Scalar[]): void {
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
      if (m !== undefined && (m.shape[0] !== n || m.size !== n)) {
        throw new TrainingDataError(
          `${path}.masks[${i}] (task '${this.tasks[i]!.name}') must be [${n}], got [${m.shape.join(', ')}]`,
        );
      }
    });
  }
}

/** Mean over tasks of loss / first-epoch loss (tasks without a usable first value count as is). */
function relativeTaskLoss(losses: PerTask<number>, first: PerTask<number>): number {
  const names = Object.keys(losses).filter((k) => Number.isFinite(losses[k]));
  if (names.length === 0) return NaN;
  const sum = names.reduce((acc, k) => {
    const f = first[k];
    return acc + (f !== undefined && Number.isFinite(f) && f > 0 ? losses[k]! / f : losses[k]!);
  }, 0);
  return sum / names.length;
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

function sliceRows(t: tf.Tensor, start: number, size: number): tf.Tensor {
  if (start === 0 && size === t.shape[0]) return t;
  const begin = t.shape.map((_, i) => (i === 0 ? start : 0));
  const sz = t.shape.map((d, i) => (i === 0 ? size : d));
  return tf.slice(t, begin, sz);
}
