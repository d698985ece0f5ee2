/** Exact evaluation over chunks or streamed batches: per-task loss and metric sums, then the means. */
import * as tf from '@tensorflow/tfjs';
import type { Task } from '../tasks/task.js';
import type { WeightingStrategy } from '../weighting/strategy.js';
import type { TrainingData } from './batches.js';
import type { PerTask, SplitMetrics } from './events.js';
import type { Evaluation } from './options.js';

/** What evaluation needs of a trainer: its tasks, its weighting, and the model in inference mode. */
export interface Evaluator {
  tasks: readonly Task[];
  weighting: WeightingStrategy;
  forward: (x: tf.Tensor) => tf.Tensor[];
}

/** Adds one chunk's [Σ loss, metric sums…] per task into `sums` (slices of the chunk are freed here). */
export function addEvaluationSums(ev: Evaluator, sums: Float64Array[], chunk: TrainingData): void {
  const rows = tf.tidy(() => {
    const outs = ev.forward(chunk.x);
    return ev.tasks.map((task, t) => {
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

/** The weighted loss, per-task mean losses and metrics from summed statistics. */
export function evaluationFromSums(ev: Evaluator, sums: Float64Array[]): Evaluation {
  const taskLosses: PerTask<number> = {};
  const metrics: SplitMetrics = {};
  const lossValues: number[] = [];
  ev.tasks.forEach((task, t) => {
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
    ev.weighting.variables.length > 0
      ? tf.tidy(() => ev.weighting.combine(lossValues.map((l) => tf.scalar(l))).dataSync()[0]!)
      : ev.weighting.weights().reduce((acc, w, t) => acc + w * lossValues[t]!, 0);
  return { loss: total, taskLosses, metrics };
}
