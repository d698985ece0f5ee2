/** Pieces of the Trainer's loop: step-loss sums, the loop's data source, early-stopping's measure, row slicing. */
import * as tf from '@tensorflow/tfjs';
import { jsKernelsUsable, registerJsKernel, runJsKernel } from '../backend/js-kernels.js';
import type { BatchIterator, BatchStream, TrainingData } from './batches.js';
import type { PerTask } from './events.js';
import type { History } from './history.js';
import { TrainingDataError, type Evaluation } from './options.js';

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
 * Each fold also notes, on the device, its first step with a non-finite loss, read only when the epoch's
 * sum turns out non-finite.
 */
const FOLD_KERNEL = 'TfjsMtlFoldLosses';

/**
 * StepLossSums' fold on cpu/wasm: inputs the steps' losses (`width` scalars per step, in order); outputs
 * their column sums, the first row whose values are not all finite (0 when every row is finite) and that
 * row's values — one launch instead of ~9 kernels per epoch.
 */
function registerFoldKernel(): void {
  registerJsKernel(FOLD_KERNEL, (xs, attrs) => {
    const width = attrs['width'] as number;
    const rows = xs.length / width;
    const sums = new Float64Array(width);
    let first = -1;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < width; c++) {
        const v = xs[r * width + c]![0]!;
        sums[c] = sums[c]! + v;
        if (first < 0 && !Number.isFinite(v)) first = r;
      }
    }
    const row = Math.max(first, 0);
    const values = Array.from({ length: width }, (_, c) => xs[row * width + c]![0]!);
    return [
      { shape: [width], values: sums },
      { shape: [], values: [row] },
      { shape: [width], values },
    ];
  });
}

export class StepLossSums {
  steps = 0;
  private pending: tf.Scalar[] = [];
  private folded: tf.Tensor1D | null = null;
  /** Per fold: the step index it starts at, its first non-finite row's index and values. */
  private chunks: { offset: number; row: tf.Scalar; values: tf.Tensor1D }[] = [];

  constructor(private readonly tasks: number) {}

  add(losses: tf.Scalar[]): void {
    this.pending.push(...losses);
    this.steps++;
    if (this.pending.length >= 1024 * (this.tasks + 1)) this.fold();
  }

  /** Means over the steps [total, loss_1 … loss_T]. */
  means(): number[] {
    this.fold();
    return Array.from(this.folded!.dataSync(), (v) => v / this.steps);
  }

  /**
   * The epoch's first step (0-based) whose losses were not all finite, with those losses; undefined
   * when every step's were.
   */
  firstNonFinite(): { index: number; losses: number[] } | undefined {
    this.fold();
    for (const c of this.chunks) {
      const values = Array.from(c.values.dataSync());
      if (values.some((v) => !Number.isFinite(v)))
        return { index: c.offset + c.row.dataSync()[0]!, losses: values };
    }
    return undefined;
  }

  dispose(): void {
    this.pending.forEach((t) => t.dispose());
    this.pending = [];
    this.folded?.dispose();
    this.folded = null;
    this.chunks.forEach((c) => (c.row.dispose(), c.values.dispose()));
    this.chunks = [];
  }

  private fold(): void {
    if (this.pending.length === 0) return;
    const n = this.pending.length / (this.tasks + 1);
    const prev = this.folded;
    const offset = this.steps - n;
    const [folded, row, values] = tf.tidy((): [tf.Tensor1D, tf.Scalar, tf.Tensor1D] => {
      if (jsKernelsUsable()) {
        // cpu/wasm: the same sums and first non-finite row as one JS kernel (see registerFoldKernel)
        registerFoldKernel();
        const [s, first, firstValues] = runJsKernel(FOLD_KERNEL, this.pending, { width: this.tasks + 1 }) as [
          tf.Tensor1D,
          tf.Scalar,
          tf.Tensor1D,
        ];
        return [prev ? tf.add<tf.Tensor1D>(prev, s) : s, first, firstValues];
      }
      const stacked = tf.reshape(tf.stack(this.pending), [n, -1]);
      const s = tf.sum<tf.Tensor1D>(stacked, 0);
      // the first row that is not all finite (row 0 when every row is: its values then say so)
      const finite = tf.cast(tf.all(tf.isFinite(stacked), 1), 'int32');
      const first = tf.argMin<tf.Scalar>(finite);
      return [prev ? tf.add<tf.Tensor1D>(prev, s) : s, first, tf.reshape(tf.gather(stacked, first), [-1])];
    });
    this.folded = folded;
    this.chunks.push({ offset, row, values });
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

/** Checks that a batch (or data set) fits the tasks: fresh tensors, one row count, one target per task. */
export function checkTrainingData(taskNames: readonly string[], path: string, data: TrainingData): void {
  const tensors = [data.x, ...data.targets, ...(data.masks ?? [])];
  if (tensors.some((t) => t?.isDisposed))
    throw new TrainingDataError(
      `${path} holds a disposed tensor: a stream must yield fresh tensors every time (fitDataset disposes each batch after its step)`,
    );
  const n = data.x.shape[0];
  if (n === undefined || n < 1) throw new TrainingDataError(`${path}.x has no samples`);
  if (data.targets.length !== taskNames.length) {
    throw new TrainingDataError(
      `${path}.targets has ${data.targets.length} entries for ${taskNames.length} tasks`,
    );
  }
  data.targets.forEach((t, i) => {
    if (t.shape[0] !== n) {
      throw new TrainingDataError(
        `${path}.targets[${i}] (task '${taskNames[i]}') has ${t.shape[0]} rows, x has ${n}`,
      );
    }
  });
  data.masks?.forEach((m, i) => {
    if (m !== undefined && m.shape[0] !== n) {
      throw new TrainingDataError(
        `${path}.masks[${i}] (task '${taskNames[i]}') must have ${n} rows, got [${m.shape.join(', ')}]`,
      );
    }
  });
}
