import type { TaskSpec } from '../tasks/task.js';
import { equalWeighting } from './equal.js';
import { fixedWeighting, type FixedWeightingOptions } from './fixed.js';
import type { WeightingStrategy } from './strategy.js';
import { uncertaintyWeighting, type UncertaintyWeightingOptions } from './uncertainty.js';
import { imtlLWeighting, type ImtlLWeightingOptions } from './imtl-l.js';
import { dwaWeighting, type DwaWeightingOptions } from './dwa.js';
import { rlwWeighting, type RlwWeightingOptions } from './rlw.js';
import { uwSoWeighting, type UwSoWeightingOptions } from './uw-so.js';
import { pcgradWeighting, type PcgradWeightingOptions } from './pcgrad.js';
import { mgdaUbWeighting, type MgdaUbWeightingOptions } from './mgda-ub.js';
import { cagradWeighting, type CagradWeightingOptions } from './cagrad.js';
import { gradNormWeighting, type GradNormWeightingOptions } from './gradnorm.js';

export interface WeightingOptionsByName {
  uncertainty: UncertaintyWeightingOptions;
  equal: Record<string, never>;
  fixed: FixedWeightingOptions;
  'imtl-l': ImtlLWeightingOptions;
  dwa: DwaWeightingOptions;
  rlw: RlwWeightingOptions;
  'uw-so': UwSoWeightingOptions;
  pcgrad: PcgradWeightingOptions;
  'mgda-ub': MgdaUbWeightingOptions;
  cagrad: CagradWeightingOptions;
  gradnorm: GradNormWeightingOptions;
}
export type WeightingName = keyof WeightingOptionsByName;

type Factory = (tasks: readonly TaskSpec[], options: never) => WeightingStrategy;

/** Strategies by name; frozen so that a lookup can't be redirected at run time. */
export const WEIGHTING_STRATEGIES: Readonly<Record<WeightingName, Factory>> = Object.freeze({
  uncertainty: uncertaintyWeighting,
  equal: equalWeighting,
  fixed: fixedWeighting,
  'imtl-l': imtlLWeighting,
  dwa: dwaWeighting,
  rlw: rlwWeighting,
  'uw-so': uwSoWeighting,
  pcgrad: pcgradWeighting,
  'mgda-ub': mgdaUbWeighting,
  cagrad: cagradWeighting,
  gradnorm: gradNormWeighting,
});

export function weightingNames(): WeightingName[] {
  return Object.keys(WEIGHTING_STRATEGIES) as WeightingName[];
}

/** Builds a strategy by name, e.g. `createWeighting('uncertainty', tasks, { form: 'seed' })`. */
export function createWeighting<N extends WeightingName>(
  name: N,
  tasks: readonly TaskSpec[],
  options?: WeightingOptionsByName[N],
): WeightingStrategy {
  if (!Object.hasOwn(WEIGHTING_STRATEGIES, name)) {
    throw new Error(`unknown weighting '${String(name)}'; known: ${weightingNames().join(', ')}`);
  }
  const factory = WEIGHTING_STRATEGIES[name] as (
    t: readonly TaskSpec[],
    o?: WeightingOptionsByName[N],
  ) => WeightingStrategy;
  return factory(tasks, options);
}
