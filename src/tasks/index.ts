export type { Likelihood, Task, TaskKind, TaskSpec } from './task.js';
export { LIKELIHOODS } from './task.js';
export { regressionTask, type RegressionTaskOptions } from './regression.js';
export { classificationTask, type ClassificationTaskOptions } from './classification.js';
export { maskedMean } from './masked-mean.js';
export {
  heteroscedasticNll,
  heteroscedasticRegressionTask,
  splitMeanLogVariance,
  LOG_VARIANCE_LIMIT,
  type HeteroscedasticRegressionOptions,
} from './heteroscedastic.js';
export {
  heteroscedasticClassificationTask,
  type HeteroscedasticClassificationOptions,
  type HeteroscedasticClassificationTask,
} from './heteroscedastic-classification.js';
