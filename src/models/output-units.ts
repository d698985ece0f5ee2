import type { Task } from '../tasks/task.js';

/**
 * How many outputs a task's head needs: 1 for regression and Bernoulli (2 for a heteroscedastic
 * regression: mean and log-variance), C logits for softmax.
 */
export function outputUnits(
  task: Pick<Task, 'likelihood' | 'numClasses' | 'name'> & { heteroscedastic?: boolean },
): number {
  if (task.likelihood !== 'softmax') return task.heteroscedastic ? 2 : 1;
  if (task.numClasses === undefined) throw new Error(`task '${task.name}': a softmax task needs numClasses`);
  return task.numClasses;
}
