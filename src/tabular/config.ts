import { z } from 'zod';
import { weightingNames } from '../weighting/registry.js';

export const TARGET_KINDS = ['regression', 'classification', 'binary'] as const;

const targetSchema = z.strictObject({
  name: z.string().min(1, 'a target needs a column name'),
  kind: z.enum(TARGET_KINDS).optional(),
});

/** Monte Carlo dropout passes per prediction when dropout is on and no count is given. */
export const DEFAULT_MC_SAMPLES = 30;

/** Strategies built on task losses being positive (ratios, e^(−s)·L, loss histories). */
export const POSITIVE_LOSS_STRATEGIES: readonly string[] = [
  'uncertainty',
  'imtl-l',
  'dwa',
  'uw-so',
  'gradnorm',
];

/** Everything `tfjs-mtl train` takes, from flags or a YAML/JSON config file. */
export const trainConfigSchema = z
  .strictObject({
    /** The data file (CSV or JSON records); the command line's positional argument wins. */
    data: z.string().min(1).optional(),
    targets: z.array(targetSchema).min(1, 'at least one target is needed'),
    /** Feature columns; default: every column that is not a target. */
    features: z.array(z.string().min(1)).min(1).optional(),
    /** Override the inferred kind of feature columns. */
    featureKinds: z.record(z.string(), z.enum(['numeric', 'categorical'])).optional(),
    /** A registered weighting strategy (see `weightingNames()`). */
    weighting: z
      .string()
      .refine((w) => (weightingNames() as string[]).includes(w), {
        message: `must be one of ${weightingNames().join(', ')}`,
      })
      .default('uncertainty'),
    /** Task weights for `fixed` weighting, in target order. */
    weights: z.array(z.number().nonnegative()).optional(),
    /** Hidden layer widths of the shared trunk. */
    hidden: z.array(z.number().int().positive()).min(1).default([64, 64]),
    epochs: z.number().int().positive().default(300),
    batchSize: z.number().int().positive().default(32),
    lr: z.number().positive().default(1e-3),
    /**
     * Learning rate of a strategy's learned log-parameters: uncertainty weighting's log-variances and
     * IMTL-L's log-scales (both also clamped to a sane range). They should track the task losses closely
     * — σ is used for the prediction intervals — so they get a larger rate than the net. GradNorm's task
     * weights keep their own rule (a plain gradient step of 0.025, renormalised), as in its paper.
     */
    sigmaLr: z.number().positive().default(0.02),
    /**
     * σ of the regression intervals: `validation` (default), the RMSE on the validation rows, honest on
     * new data; `learned`, uncertainty weighting's σ, the noise on the training rows.
     */
    intervalSigma: z.enum(['validation', 'learned']).default('validation'),
    seed: z.number().int().nonnegative().default(0),
    /** Fraction of rows held out for validation (early stopping, σ for non-learned weightings). */
    val: z.number().min(0).lt(1).default(0.2),
    /** Fraction of rows held out for the final test metrics. */
    test: z.number().min(0).lt(1).default(0.2),
    /** Stop when the validation loss has not improved for this many epochs; 0 = never. */
    patience: z.number().int().nonnegative().default(30),
    /**
     * A step whose loss is NaN or ±∞: `stop` (default) ends the run as diverged, with the last good state
     * put back; `skip` drops such steps and stops after 10 in a row.
     */
    onNan: z.enum(['stop', 'skip']).default('stop'),
    /**
     * Regression noise: `homoscedastic` (default) — one σ per target; `heteroscedastic` — the head also
     * predicts log σ²(x) per row (Gaussian NLL), so intervals widen where the data are noisier. Its loss
     * is already a full negative log-likelihood (it can be negative): the weighting defaults to `equal`,
     * and strategies that need positive losses are refused.
     */
    uncertainty: z.enum(['homoscedastic', 'heteroscedastic']).default('homoscedastic'),
    /** Dropout rate after each trunk layer (seeded; exact resume keeps its stream); default 0. */
    dropout: z.number().min(0).lt(1).default(0),
    /**
     * Monte Carlo dropout passes per prediction (epistemic uncertainty: the spread of the passes);
     * default 30 with `dropout` > 0, else 0; needs `dropout` > 0.
     */
    mcSamples: z.number().int().nonnegative().optional(),
    out: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.mcSamples ?? 0) > 0 && c.dropout === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['mcSamples'],
        message: 'Monte Carlo passes need dropout: give dropout > 0 (--dropout) too',
      });
    if (c.mcSamples === 1)
      ctx.addIssue({
        code: 'custom',
        path: ['mcSamples'],
        message: 'one pass measures no spread: give 0 or ≥ 2',
      });
    if (c.uncertainty === 'heteroscedastic' && POSITIVE_LOSS_STRATEGIES.includes(c.weighting))
      ctx.addIssue({
        code: 'custom',
        path: ['weighting'],
        message: `'${c.weighting}' needs positive task losses, and a heteroscedastic head's loss (a full negative log-likelihood that already weighs every row by its σ(x)) can be negative; use equal (the default with heteroscedastic), fixed, rlw, pcgrad, mgda-ub or cagrad`,
      });
    if (c.val + c.test >= 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['test'],
        message: `val + test must be < 1, got ${c.val + c.test}`,
      });
    }
    if (c.weighting === 'fixed' && c.weights?.length !== c.targets.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['weights'],
        message: `fixed weighting needs one weight per target (${c.targets.length})`,
      });
    }
    const names = c.targets.map((t) => t.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined)
      ctx.addIssue({ code: 'custom', path: ['targets'], message: `target '${dup}' is given twice` });
  });

export type TrainConfigInput = z.input<typeof trainConfigSchema>;
export type TrainConfig = z.output<typeof trainConfigSchema>;

/** A config that failed validation; the message names each offending path. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );
}

/** Validates a raw config object; `source` (a file name or 'command line') prefixes the errors. */
export function parseTrainConfig(raw: unknown, source: string): TrainConfig {
  // heteroscedastic heads carry their own per-row weights: unless told otherwise, weigh tasks equally
  const input =
    raw !== null &&
    typeof raw === 'object' &&
    (raw as Record<string, unknown>)['uncertainty'] === 'heteroscedastic' &&
    (raw as Record<string, unknown>)['weighting'] === undefined
      ? { ...raw, weighting: 'equal' }
      : raw;
  const result = trainConfigSchema.safeParse(input);
  if (result.success)
    return {
      ...result.data,
      mcSamples: result.data.mcSamples ?? (result.data.dropout > 0 ? DEFAULT_MC_SAMPLES : 0),
    };
  const lines = result.error.issues.map(
    (i) => `${source}: ${formatPath(i.path) || '(top level)'}: ${i.message}`,
  );
  throw new ConfigError(lines.join('\n'));
}

/**
 * `--target` values: `name`, or `name:kind` where kind is the text after the LAST colon and is one of
 * the target kinds — so names may hold spaces, parentheses and colons ('Body Mass (g):regression').
 */
export function parseTargetFlag(value: string): { name: string; kind?: (typeof TARGET_KINDS)[number] } {
  const colon = value.lastIndexOf(':');
  if (colon > 0) {
    const kind = value.slice(colon + 1).trim();
    if ((TARGET_KINDS as readonly string[]).includes(kind)) {
      return { name: value.slice(0, colon), kind: kind as (typeof TARGET_KINDS)[number] };
    }
  }
  return { name: value };
}
