/** One scene-model training run: data, model, training, test metrics, and the model folder. */
import * as tf from '@tensorflow/tfjs';
import { registerConvGradient } from '../backend/conv-gradient.js';
import { generateScenes, type SceneBatch } from '../data/synthetic/scenes.js';
import { TEST_SEED_OFFSET, type SceneRunConfig } from '../scenes/config.js';
import { memorySceneSource, type SceneSource } from '../scenes/data.js';
import { evaluateSceneModel, type SceneMetrics } from '../scenes/evaluate.js';
import { buildSceneModel, orderedTasks, type SceneTask } from '../scenes/model.js';
import {
  createSceneWeighting,
  SCENE_LOG_EVERY,
  trainSceneModel,
  type SceneLogEntry,
} from '../scenes/train.js';
import { loadModelDir, saveModelDir } from './model-dir.js';
import { openSceneData, SceneDataError, type SceneDataset } from './scene-data/datasets.js';
import {
  loadCheckpoint,
  removeCheckpoints,
  resumeRefusal,
  saveCheckpoint,
  settingsDifference,
} from './checkpoint-store.js';
import type { TrainingCheckpoint } from '../train/options.js';
import { UsageError } from '../cli/errors.js';

export const SCENE_RUN_FILE = 'scene-run.json';
export const SCENE_LOG_FILE = 'log.json';
export const SCENE_METRICS_FILE = 'metrics.json';

/** What a run's data were, as recorded in scene-run.json (`dataset`). */
export interface SceneDataInfo {
  format: 'generated' | SceneDataset['format'];
  classes: readonly string[];
  thingClasses: readonly number[];
  palette?: readonly (readonly [number, number, number])[];
  /** Training frames used, and how many were left out as bad. */
  frames: number;
  skipped: number;
  /** Tasks asked for that the data have no labels of (not trained). */
  dropped: SceneTask[];
}

export interface SceneRunResult {
  config: SceneRunConfig;
  dataset: SceneDataInfo;
  log: SceneLogEntry[];
  /** On the test scenes, or the dataset's `evalSplit` (absent when the dataset has none). */
  metrics?: SceneMetrics;
  trainSeconds: number;
  /** Mean wall time of a training step, ms. */
  stepMs: number;
}

export function trainingScenes(config: SceneRunConfig): SceneBatch {
  return generateScenes(config.trainScenes, config.dataSeed, { height: config.height, width: config.width });
}

export function testScenes(config: SceneRunConfig, count = config.testScenes): SceneBatch {
  return generateScenes(count, config.dataSeed + TEST_SEED_OFFSET, {
    height: config.height,
    width: config.width,
  });
}

export function sceneModelFor(
  config: SceneRunConfig,
  numClasses: number,
  tasks = config.tasks,
): tf.LayersModel {
  return buildSceneModel({
    height: config.height,
    width: config.width,
    numClasses,
    tasks,
    encoderChannels: config.encoderChannels,
    asppChannels: config.asppChannels,
    decoderChannels: config.decoderChannels,
    seed: config.seed,
    heteroscedastic: config.uncertainty === 'heteroscedastic',
  });
}

/** Split `split` of a run's dataset at the run's resolution (errors name the file). */
export function openRunData(
  config: Pick<SceneRunConfig, 'data' | 'format' | 'height' | 'width' | 'skipBad'>,
  split: string,
  onSkip?: (error: SceneDataError) => void,
): Promise<SceneDataset> {
  return openSceneData(config.data!, {
    ...(config.format ? { format: config.format } : {}),
    split,
    height: config.height,
    width: config.width,
    skipBad: config.skipBad,
    ...(onSkip ? { onSkip } : {}),
  });
}

export interface SceneRunHooks {
  /**
   * Save a checkpoint every this many steps (rounded to the 25-step log interval) into `<out>.checkpoint/`
   * (0 = never); the checkpoints are removed once the model folder is written.
   */
  checkpointEvery?: number;
  /** Continue the run in `config.out` from its last checkpoint; refused when the settings differ. */
  resume?: boolean;
  /** A step with a NaN/±∞ loss: stop as diverged (default; the checkpoints are kept) or drop it. */
  onNonFinite?: 'stop' | 'skip';
  /** A warning to show (e.g. that the newest checkpoint was damaged and the previous one is used). */
  onWarning?: (message: string) => void;
  onLog?: (entry: SceneLogEntry) => void | Promise<void>;
  /** A frame left out as bad (with `skipBad`). */
  onSkip?: (error: SceneDataError) => void;
  signal?: AbortSignal;
}

/**
 * Trains as `config` says — on generated scenes, or streamed from the dataset folder `config.data` —
 * evaluates on the test scenes (or the dataset's `evalSplit`, when it has one) and, with `config.out`,
 * saves the model folder.
 */
export async function runSceneTraining(
  config: SceneRunConfig,
  hooks: SceneRunHooks = {},
): Promise<SceneRunResult> {
  registerConvGradient();
  let source: SceneSource;
  let test: SceneSource | undefined;
  let info: SceneDataInfo;
  if (config.data !== undefined) {
    const train = await openRunData(config, config.split, hooks.onSkip);
    source = train;
    test = await openRunData(config, config.evalSplit).catch((err: unknown) => {
      // a dataset without the evaluation split is fine; a broken one is not
      if (err instanceof SceneDataError && /empty split/.test(err.problem)) return undefined;
      throw err;
    });
    const has = (t: SceneTask) => train.labels[t === 'depth' ? 'depth' : t];
    info = {
      format: train.format,
      classes: train.classes,
      thingClasses: train.thingClasses,
      ...(train.palette ? { palette: train.palette } : {}),
      frames: train.size,
      skipped: train.skipped.length,
      dropped: config.tasks.filter((t) => !has(t)),
    };
    if (info.dropped.length === config.tasks.length)
      throw new SceneDataError(config.data, `no labels for any of the tasks ${config.tasks.join(', ')}`);
  } else {
    source = memorySceneSource(trainingScenes(config));
    test = memorySceneSource(testScenes(config), { name: 'test scene' });
    info = {
      format: 'generated',
      classes: source.classes,
      thingClasses: source.thingClasses,
      frames: source.size,
      skipped: 0,
      dropped: [],
    };
  }
  const tasks = orderedTasks(config.tasks.filter((t) => !info.dropped.includes(t)));
  const run: SceneRunConfig =
    info.dropped.length > 0
      ? {
          ...config,
          tasks,
          ...(config.weights
            ? { weights: config.weights.filter((_, i) => !info.dropped.includes(config.tasks[i]!)) }
            : {}),
        }
      : config;
  const checkpointDir = run.out !== undefined ? `${run.out}.checkpoint` : undefined;
  const every = hooks.checkpointEvery ?? 0;
  let resumeFrom: TrainingCheckpoint | undefined;
  if (hooks.resume) {
    if (checkpointDir === undefined) throw new UsageError('--resume needs --out (the run to continue)');
    const stored = await loadCheckpoint<SceneRunConfig>(checkpointDir);
    if (!stored) throw new UsageError(`--resume: ${run.out} has no checkpoint to continue from`);
    // checkpoints made before `uncertainty` existed were homoscedastic
    const differs = settingsDifference(
      { uncertainty: 'homoscedastic', ...(stored.settings as Partial<SceneRunConfig>) },
      run,
    );
    if (differs) throw new UsageError(resumeRefusal(differs));
    if (stored.warning) hooks.onWarning?.(stored.warning);
    resumeFrom = stored.checkpoint;
  }
  const model = sceneModelFor(run, info.classes.length, tasks);
  const strategy = createSceneWeighting(
    tasks,
    run.weighting === 'fixed' ? { kind: 'fixed', weights: run.weights! } : { kind: 'uncertainty' },
    run.sigmaLr,
    run.uncertainty === 'heteroscedastic',
  );
  try {
    const started = performance.now();
    const log = await trainSceneModel(
      model,
      tasks,
      source,
      strategy,
      {
        steps: run.steps,
        batchSize: run.batchSize,
        learningRate: run.lr,
        seed: run.seed,
        augment: (run.augment ?? run.data !== undefined) ? {} : false,
        ...(checkpointDir !== undefined && every > 0
          ? {
              checkpoint: {
                every: Math.max(1, Math.round(every / SCENE_LOG_EVERY)),
                save: (cp: TrainingCheckpoint) => saveCheckpoint(checkpointDir, cp, run),
              },
            }
          : {}),
        ...(resumeFrom ? { resumeFrom } : {}),
        ...(hooks.onNonFinite ? { onNonFinite: hooks.onNonFinite } : {}),
        skipBad: run.skipBad,
        heteroscedastic: run.uncertainty === 'heteroscedastic',
        ...(hooks.onSkip
          ? {
              // frames that fail while training (corrupt data, bad label values): the reader's errors name the file
              onSkip: (index: number, err: Error) =>
                hooks.onSkip!(
                  err instanceof SceneDataError
                    ? err
                    : new SceneDataError(source.describe(index), err.message),
                ),
            }
          : {}),
      },
      hooks.onLog,
      hooks.signal,
    );
    const trainSeconds = (performance.now() - started) / 1000;
    const metrics = test ? await evaluateSceneModel(model, tasks, test) : undefined;
    const steps = log.at(-1)?.step ?? 0;
    const result: SceneRunResult = {
      config: run,
      dataset: info,
      log,
      ...(metrics ? { metrics } : {}),
      trainSeconds,
      stepMs: steps > 0 ? (trainSeconds * 1000) / steps : NaN,
    };
    if (run.out !== undefined) {
      await saveModelDir(run.out, model, {
        [SCENE_RUN_FILE]: JSON.stringify({ ...run, dataset: info }, null, 2) + '\n',
        [SCENE_LOG_FILE]: JSON.stringify({ log, trainSeconds, stepMs: result.stepMs }, null, 2) + '\n',
        ...(metrics ? { [SCENE_METRICS_FILE]: JSON.stringify(metrics, null, 2) + '\n' } : {}),
      });
      if (checkpointDir !== undefined) await removeCheckpoints(checkpointDir);
    }
    return result;
  } finally {
    strategy.dispose();
    model.dispose();
  }
}

/** A saved scene model with its run config. */
export async function loadSceneModel(
  dir: string,
): Promise<{ model: tf.LayersModel; config: SceneRunConfig; tasks: SceneTask[]; dataset?: SceneDataInfo }> {
  registerConvGradient();
  const { model, files } = await loadModelDir(dir);
  let config: SceneRunConfig & { dataset?: SceneDataInfo };
  try {
    config = JSON.parse(await files(SCENE_RUN_FILE)) as SceneRunConfig & { dataset?: SceneDataInfo };
  } catch (err) {
    model.dispose();
    throw new Error(`${dir} is not a scene model folder (${SCENE_RUN_FILE}: ${(err as Error).message})`);
  }
  const { dataset, ...recorded } = config;
  // runs recorded before `uncertainty` existed were homoscedastic
  const run: SceneRunConfig = { ...recorded, uncertainty: recorded.uncertainty ?? 'homoscedastic' };
  return { model, config: run, tasks: orderedTasks(run.tasks), ...(dataset ? { dataset } : {}) };
}
