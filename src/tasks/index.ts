export type { Likelihood, Task, TaskKind, TaskSpec } from './task.js';
export { LIKELIHOODS } from './task.js';
export { regressionTask, type RegressionTaskOptions } from './regression.js';
export { classificationTask, type ClassificationTaskOptions } from './classification.js';
export { maskedMean } from './masked-mean.js';
