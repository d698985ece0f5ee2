import type { TaskSpec } from '../tasks/task.js';
import { constantWeighting } from './fixed.js';
import type { WeightingStrategy } from './strategy.js';

/** The unweighted sum Σ L_t. */
export function equalWeighting(tasks: readonly TaskSpec[]): WeightingStrategy {
  return constantWeighting(
    'equal',
    tasks,
    tasks.map(() => 1),
  );
}
