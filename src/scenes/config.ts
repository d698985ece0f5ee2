import { z } from 'zod';
import { ConfigError, formatPath } from '../tabular/config.js';
import { SCENE_OUTPUT_STRIDE, SCENE_TASKS } from './model.js';

const multipleOfStride = z
  .number()
  .int()
  .min(16)
  .refine((v) => v % SCENE_OUTPUT_STRIDE === 0, { message: `must be a multiple of ${SCENE_OUTPUT_STRIDE}` });

/** Everything `tfjs-mtl scenes train` takes, from flags or a JSON config file. */
export const sceneRunConfigSchema = z
  .strictObject({
    tasks: z
      .array(z.enum(SCENE_TASKS))
      .min(1, 'at least one task is needed')
      .refine((t) => new Set(t).size === t.length, { message: 'a task is listed twice' })
      .default([...SCENE_TASKS]),
    weighting: z.enum(['uncertainty', 'fixed']).default('uncertainty'),
    /** Task weights for `fixed` weighting, in the order semantic, instance, depth (tasks present only). */
    weights: z.array(z.number().nonnegative()).optional(),
    steps: z.number().int().positive().default(800),
    batchSize: z.number().int().min(2).default(8),
    lr: z.number().positive().default(2e-3),
    /**
     * `homoscedastic` (default): one learned s per task. `heteroscedastic`: the instance and depth heads
     * also predict a log-scale per pixel and are trained with the per-pixel Laplace NLL; learned weighting
     * then learns only the semantic task's s (the others are held at weight 1, see createSceneWeighting).
     */
    uncertainty: z.enum(['homoscedastic', 'heteroscedastic']).default('homoscedastic'),
    /** Learning rate of the log-variances (uncertainty weighting). */
    sigmaLr: z.number().positive().default(0.02),
    /** Model initialisation and minibatch order. */
    seed: z.number().int().nonnegative().default(0),
    /** Generated scenes: training set = generateScenes(trainScenes, dataSeed), test set from dataSeed + 1000003. */
    dataSeed: z.number().int().nonnegative().default(0),
    trainScenes: z.number().int().positive().default(2000),
    testScenes: z.number().int().positive().default(200),
    height: multipleOfStride.default(64),
    width: multipleOfStride.default(128),
    encoderChannels: z
      .tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()])
      .default([16, 32, 64]),
    asppChannels: z.number().int().positive().default(32),
    decoderChannels: z.number().int().positive().default(32),
    /** Where the model folder goes. */
    out: z.string().min(1).optional(),
    /** A dataset folder to train on instead of generated scenes (Cityscapes layout or `folders`). */
    data: z.string().min(1).optional(),
    /** The dataset's layout; detected when absent. */
    format: z.enum(['cityscapes', 'folders']).optional(),
    /** The dataset split to train on. */
    split: z.string().min(1).default('train'),
    /** The split evaluated after training (skipped when the dataset has none). */
    evalSplit: z.string().min(1).default('val'),
    /** Random zoom-crop (up to 1.5×) and flip of training frames; default on for datasets, off for generated scenes. */
    augment: z.boolean().optional(),
    /** Leave out frames with bad files (and say how many) instead of stopping. */
    skipBad: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if (c.weighting === 'fixed') {
      if (c.weights === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['weights'],
          message: 'fixed weighting needs one weight per task',
        });
      } else if (c.weights.length !== c.tasks.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['weights'],
          message: `${c.weights.length} weights for ${c.tasks.length} tasks`,
        });
      }
    } else if (c.weights !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['weights'],
        message: "weights are only used with weighting 'fixed'",
      });
    }
    if (c.uncertainty === 'heteroscedastic' && !c.tasks.some((t) => t !== 'semantic')) {
      ctx.addIssue({
        code: 'custom',
        path: ['uncertainty'],
        message:
          "'heteroscedastic' predicts a per-pixel scale for the instance and depth tasks; add one of them to tasks (the semantic task's per-pixel uncertainty is its softmax entropy, shown by `scenes show` for every model)",
      });
    }
    if (c.data === undefined && c.batchSize > c.trainScenes) {
      ctx.addIssue({
        code: 'custom',
        path: ['batchSize'],
        message: `exceeds trainScenes (${c.trainScenes})`,
      });
    }
  });

export type SceneRunConfig = z.output<typeof sceneRunConfigSchema>;

/** Offset between the training and test scene seeds. */
export const TEST_SEED_OFFSET = 1_000_003;

export function parseSceneRunConfig(raw: unknown, source: string): SceneRunConfig {
  const result = sceneRunConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map(
    (i) => `${source}: ${formatPath(i.path) || '(top level)'}: ${i.message}`,
  );
  throw new ConfigError(lines.join('\n'));
}
