/** Pieces of the Trainer's loop: step-loss sums, the loop's data source, early-stopping's measure, row slicing. */
import * as tf from '@tensorflow/tfjs';
import type { BatchIterator, BatchStream, TrainingData } from './batches.js';
import type { PerTask } from './events.js';
import type { History } from './history.js';
import type { Evaluation } from './options.js';

/** What the training loop needs from `fit` or `fitDataset`. */
export interface LoopSource {
  /** The batches of epoch `epoch` (1-based). */
  epoch(epoch: number): Promise<BatchIterator>;
  /** Evaluations after an epoch: the training set's (when metrics are wanted and it can be had), the validation set's. */
  evaluate(wantMetrics: boolean): Promise<{ train?: Evaluation; validation?: Evaluation }>;
  hasValidation: boolean;
  /** Check every batch's shapes (streams; in-memory data are checked once). */
  checkBatches: boolean;
  /** Whether a stream meant to run across epochs ran dry. */
  exhausted?: () => boolean;
  /** The source's position after the last batch consumed, for checkpoints; and putting it back. */
  state?: () => unknown;
  restore?: (state: unknown) => void;
}

export function isTrainingData(v: TrainingData | BatchStream): v is TrainingData {
  return (v as TrainingData).x instanceof tf.Tensor && Array.isArray((v as TrainingData).targets);
}

export function stopReason(
  epoch: number,
  bestEpoch: number,
  reason: string,
): NonNullable<History['stoppedEarly']> {
  return { epoch, bestEpoch, reason };
}

/**
 * The epoch's step losses [total, loss_1 … loss_T], kept on the device and summed once at the end (no
 * accumulation kernel per step); folded into a running sum every 1024 steps so long epochs stay flat.
 */
export class StepLossSums {
  steps = 0;
  private pending: tf.Scalar[] = [];
  private folded: tf.Tensor1D | null = null;

  constructor(private readonly tasks: number) {}

  add(losses: tf.Scalar[]): void {
    this.pending.push(...losses);
    this.steps++;
    if (this.pending.length >= 1024 * (this.tasks + 1)) this.fold();
  }

  /** Means over the steps; disposes everything held. */
  means(): number[] {
    this.fold();
    const sums = this.folded!.dataSync();
    this.dispose();
    return Array.from(sums, (v) => v / this.steps);
  }

  dispose(): void {
    this.pending.forEach((t) => t.dispose());
    this.pending = [];
    this.folded?.dispose();
    this.folded = null;
  }

  private fold(): void {
    if (this.pending.length === 0) return;
    const n = this.pending.length / (this.tasks + 1);
    const prev = this.folded;
    this.folded = tf.tidy(() => {
      const s = tf.sum<tf.Tensor1D>(tf.reshape(tf.stack(this.pending), [n, -1]), 0);
      return prev ? tf.add<tf.Tensor1D>(prev, s) : s;
    });
    prev?.dispose();
    this.pending.forEach((t) => t.dispose());
    this.pending = [];
  }
}

/** Mean over tasks of loss / first-epoch loss (tasks without a usable first value count as is). */
export function relativeTaskLoss(losses: PerTask<number>, first: PerTask<number>): number {
  const names = Object.keys(losses).filter((k) => Number.isFinite(losses[k]));
  if (names.length === 0) return NaN;
  const sum = names.reduce((acc, k) => {
    const f = first[k];
    return acc + (f !== undefined && Number.isFinite(f) && f > 0 ? losses[k]! / f : losses[k]!);
  }, 0);
  return sum / names.length;
}

export function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

export function sliceRows(t: tf.Tensor, start: number, size: number): tf.Tensor {
  if (start === 0 && size === t.shape[0]) return t;
  const begin = t.shape.map((_, i) => (i === 0 ? start : 0));
  const sz = t.shape.map((d, i) => (i === 0 ? size : d));
  return tf.slice(t, begin, sz);
}
