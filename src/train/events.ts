/** Per-task numbers keyed by task name. */
export type PerTask<T> = Record<string, T>;

/** Metrics of one split: task name → metric name → value (e.g. { y1: { rmse: 9.1, mae: 7.2 } }). */
export type SplitMetrics = PerTask<Record<string, number>>;

export interface StepEvent {
  epoch: number;
  /** Steps taken so far, counting this one (1-based). */
  step: number;
  /** The weighted total the optimiser minimised. */
  loss: number;
  taskLosses: PerTask<number>;
  weights: PerTask<number>;
  sigmas?: PerTask<number>;
}

export interface EpochEvent {
  /** 1-based. */
  epoch: number;
  /** Steps taken so far. */
  steps: number;
  /** Mean over the epoch's batches of the weighted total (may be negative under uncertainty weighting). */
  loss: number;
  /** Mean over the epoch's batches of each task's own (unweighted) loss. */
  taskLosses: PerTask<number>;
  /** Each task's effective weight at the end of the epoch. */
  weights: PerTask<number>;
  /** Each task's learned σ at the end of the epoch, where the strategy learns one. */
  sigmas?: PerTask<number>;
  /** Log-variances s = log σ², where the strategy has them. */
  logVariances?: PerTask<number>;
  /** Metrics over the whole training set and, if any, the validation set (every `metricsEvery` epochs). */
  metrics?: { train: SplitMetrics; validation?: SplitMetrics };
  /** Weighted total and per-task losses over the validation set. */
  validation?: { loss: number; taskLosses: PerTask<number> };
  /** Steps dropped for a non-finite loss (`onNonFinite: 'skip'`); absent when none. */
  skippedSteps?: number;
  /** Wall time since training began. */
  seconds: number;
}

export interface TrainCallbacks {
  /** Called after every step; requesting it makes every step read its losses back (a sync). */
  onStep?: (event: StepEvent) => void;
  onEpochEnd?: (event: EpochEvent) => void | Promise<void>;
}
