/** The loop's divergence tests: where a non-finite loss first appeared, and losses that exploded. */
import type { EpochEvent } from './events.js';
import type { StepLossSums } from './loop-parts.js';

/** Where and how a run diverged, for TrainingDivergedError. */
export interface DivergencePoint {
  message: string;
  epoch: number;
  step: number;
  tasks: string[];
}

/**
 * The first step of the epoch whose losses were not all finite, and its tasks (`stepCount`: steps taken
 * by the end of the epoch; `means`: the epoch's, used when the step cannot be found).
 */
export function nonFiniteStep(
  taskNames: readonly string[],
  losses: StepLossSums,
  means: number[],
  stepCount: number,
  epoch: number,
): DivergencePoint {
  const bad = losses.firstNonFinite();
  const values = bad?.losses ?? means;
  const step = stepCount - losses.steps + (bad?.index ?? 0) + 1;
  const tasks = taskNames.filter((_, t) => !Number.isFinite(values[t + 1]!));
  const what = tasks.length
    ? `the loss of task ${tasks.map((n) => `'${n}'`).join(', ')} became ${values[taskNames.indexOf(tasks[0]!) + 1]}`
    : `the weighted total loss became ${values[0]}`;
  return { message: `${what} at step ${step} (epoch ${epoch})`, epoch, step, tasks };
}

/**
 * Tasks whose epoch-mean training loss rose above `factor` × their loss at the run's first step; null
 * when none did. The training loss: an optimiser that blows up shows there first, and no shift between
 * training and validation data can fool it.
 */
export function explodedTasks(
  taskNames: readonly string[],
  event: EpochEvent,
  initial: readonly number[] | undefined,
  factor: number,
): DivergencePoint | null {
  if (!initial || factor === Infinity) return null;
  const over = taskNames
    .map((name, i) => ({ name, value: event.taskLosses[name]!, start: initial[i]! }))
    .filter((o) => Number.isFinite(o.value) && o.start > 0 && o.value > factor * o.start);
  if (over.length === 0) return null;
  const o = over[0]!;
  return {
    message:
      `the training loss of task '${o.name}' rose to ${o.value.toPrecision(3)} in epoch ${event.epoch} (step ${event.steps}), ` +
      `over ${factor}× its ${o.start.toPrecision(3)} at the first step`,
    epoch: event.epoch,
    step: event.steps,
    tasks: over.map((t) => t.name),
  };
}
