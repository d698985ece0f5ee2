/**
 * Where the Trainer's batches come from: in-memory data cut into (shuffled) minibatches, or a stream —
 * a `tf.data.Dataset` or any async iterable of batches. Browser-safe.
 */
import type * as tf from '@tensorflow/tfjs';

/** Inputs and per-task targets, all with the same first (sample) dimension. */
export interface TrainingData {
  x: tf.Tensor;
  /** One tensor per task, in task order. */
  targets: readonly tf.Tensor[];
  /**
   * Optional per-task masks (1 = labelled, 0 = label missing), first dimension = samples: [N] for one
   * label per sample, or e.g. [N, H, W, 1] for dense tasks' per-pixel labels; undefined means all labelled.
   */
  masks?: readonly (tf.Tensor | undefined)[];
}

/** One element of a `tf.data.Dataset` for `fitDataset` (a type alias, so it is a `TensorContainer`). */
export type DatasetBatch = {
  x: tf.Tensor;
  targets: tf.Tensor[];
  masks?: (tf.Tensor | undefined)[];
};

/** A stream of batches for `Trainer.fitDataset`: a `tf.data.Dataset` or any (async) iterable. */
export type BatchStream =
  tf.data.Dataset<DatasetBatch> | AsyncIterable<TrainingData> | Iterable<TrainingData>;

/**
 * A stream that can report where it is and be put back there, so that a checkpointed run resumes with
 * the same batches (`sceneBatches` is one). `checkpointState()` is the position after the last batch
 * handed out (not after batches loaded ahead); `restoreState` makes the next opened iterator continue
 * from such a position.
 */
export interface ResumableStream {
  checkpointState(): unknown;
  restoreState(state: unknown): void;
}

export function isResumable(stream: unknown): stream is ResumableStream {
  const s = stream as Partial<ResumableStream>;
  return typeof s.checkpointState === 'function' && typeof s.restoreState === 'function';
}

/** Pulls batches one at a time; `undefined` when there are no more. */
export interface BatchIterator {
  next(): Promise<TrainingData | undefined>;
  /** Lets the source release what it holds (open files, a generator's state); optional to call. */
  close(): Promise<void>;
}

function isDataset(s: BatchStream): s is tf.data.Dataset<DatasetBatch> {
  return typeof (s as { iterator?: unknown }).iterator === 'function';
}

/**
 * A fresh iterator over `stream`: a Dataset's `iterator()` (which restarts it), an iterable's
 * `[Symbol.asyncIterator]()` / `[Symbol.iterator]()` (a generator object continues where it was).
 */
export async function openBatches(stream: BatchStream, path = 'dataset'): Promise<BatchIterator> {
  if (isDataset(stream)) {
    const it = await stream.iterator();
    return {
      next: async () => {
        const r = await it.next();
        return r.done ? undefined : r.value;
      },
      close: () => Promise.resolve(),
    };
  }
  const asyncIt = (stream as AsyncIterable<TrainingData>)[Symbol.asyncIterator];
  const syncIt = (stream as Iterable<TrainingData>)[Symbol.iterator];
  if (typeof asyncIt !== 'function' && typeof syncIt !== 'function') {
    throw new TypeError(`${path} must be a tf.data.Dataset or an (async) iterable of batches`);
  }
  const it: AsyncIterator<TrainingData> | Iterator<TrainingData> =
    typeof asyncIt === 'function'
      ? asyncIt.call(stream)
      : (syncIt as () => Iterator<TrainingData>).call(stream);
  return {
    next: async () => {
      const r = await it.next();
      return r.done ? undefined : r.value;
    },
    close: async () => {
      await it.return?.();
    },
  };
}

/** Disposes every tensor of a batch. */
export function disposeBatch(b: TrainingData): void {
  b.x.dispose();
  b.targets.forEach((t) => t.dispose());
  b.masks?.forEach((m) => m?.dispose());
}

/**
 * A learning rate per step: `step` is the number of optimiser steps taken before this one (0-based),
 * `base` the optimiser's configured rate. Must return a rate > 0.
 */
export type LearningRateSchedule = (step: number, base: number) => number;

/**
 * The polynomial decay of DeepLab and of Kendall et al.: base · (1 − step/totalSteps)^power, power 0.9.
 * Steps past `totalSteps` keep the last step's rate.
 */
export function polyDecay(totalSteps: number, power = 0.9): LearningRateSchedule {
  if (!Number.isInteger(totalSteps) || totalSteps < 1)
    throw new RangeError(`polyDecay: totalSteps must be an integer ≥ 1, got ${totalSteps}`);
  if (!(power > 0)) throw new RangeError(`polyDecay: power must be > 0, got ${power}`);
  return (step, base) => base * Math.pow(1 - Math.min(step, totalSteps - 1) / totalSteps, power);
}
