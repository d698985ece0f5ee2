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
