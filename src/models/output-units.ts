import type { Task } from '../tasks/task.js';

/**
 * How many outputs a task's head needs: 1 for regression and Bernoulli, C logits for softmax — twice
 * that for a heteroscedastic task (a log-variance per output).
 */
export function outputUnits(
  task: Pick<Task, 'likelihood' | 'numClasses' | 'name'> & { heteroscedastic?: boolean },
): number {
  const units = task.likelihood !== 'softmax' ? 1 : task.numClasses;
  if (units === undefined) throw new Error(`task '${task.name}': a softmax task needs numClasses`);
  // a heteroscedastic head adds a log-variance per output
  return task.heteroscedastic ? 2 * units : units;
}
