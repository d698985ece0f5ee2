export type { WeightingState, WeightingStrategy } from './strategy.js';
export {
  uncertaintyWeighting,
  type UncertaintyForm,
  type UncertaintyRegularizer,
  type UncertaintyWeighting,
  type UncertaintyWeightingOptions,
} from './uncertainty.js';
export { equalWeighting } from './equal.js';
export { fixedWeighting, type FixedWeightingOptions } from './fixed.js';
export {
  createWeighting,
  weightingNames,
  WEIGHTING_STRATEGIES,
  type WeightingName,
  type WeightingOptionsByName,
} from './registry.js';
export { imtlLWeighting, type ImtlLWeighting, type ImtlLWeightingOptions } from './imtl-l.js';
export { dwaWeighting, type DwaWeighting, type DwaWeightingOptions } from './dwa.js';
export { rlwWeighting, type RlwWeighting, type RlwWeightingOptions } from './rlw.js';
export { uwSoWeighting, type UwSoWeighting, type UwSoWeightingOptions } from './uw-so.js';
export { pcgradWeighting, type PcgradWeighting, type PcgradWeightingOptions } from './pcgrad.js';
export { mgdaUbWeighting, type MgdaUbWeighting, type MgdaUbWeightingOptions } from './mgda-ub.js';
export { cagradWeighting, type CagradWeighting, type CagradWeightingOptions } from './cagrad.js';
export { gradNormWeighting, type GradNormWeighting, type GradNormWeightingOptions } from './gradnorm.js';
export {
  isGradientStrategy,
  type GradientDecision,
  type GradientWeightingStrategy,
  type TaskGradients,
} from './strategy.js';
