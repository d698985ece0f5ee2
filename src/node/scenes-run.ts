/** One scene-model training run: data, model, training, test metrics, and the model folder. */
import * as tf from '@tensorflow/tfjs';
import { registerConvGradient } from '../backend/conv-gradient.js';
import { generateScenes, SCENE_CLASSES, type SceneBatch } from '../data/synthetic/scenes.js';
import { TEST_SEED_OFFSET, type SceneRunConfig } from '../scenes/config.js';
import { evaluateSceneModel, type SceneMetrics } from '../scenes/evaluate.js';
import { buildSceneModel, orderedTasks, type SceneTask } from '../scenes/model.js';
import { createSceneWeighting, trainSceneModel, type SceneLogEntry } from '../scenes/train.js';
import { loadModelDir, saveModelDir } from './model-dir.js';

export const SCENE_RUN_FILE = 'scene-run.json';
export const SCENE_LOG_FILE = 'log.json';
export const SCENE_METRICS_FILE = 'metrics.json';

export interface SceneRunResult {
  config: SceneRunConfig;
  log: SceneLogEntry[];
  metrics: SceneMetrics;
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

export function sceneModelFor(config: SceneRunConfig): tf.LayersModel {
  return buildSceneModel({
    height: config.height,
    width: config.width,
    numClasses: SCENE_CLASSES.length,
    tasks: config.tasks,
    encoderChannels: config.encoderChannels,
    asppChannels: config.asppChannels,
    decoderChannels: config.decoderChannels,
    seed: config.seed,
  });
}

/** Trains as `config` says, evaluates on the test scenes and, with `config.out`, saves the model folder. */
export async function runSceneTraining(
  config: SceneRunConfig,
  onLog?: (entry: SceneLogEntry) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<SceneRunResult> {
  registerConvGradient();
  const tasks = orderedTasks(config.tasks);
  const train = trainingScenes(config);
  const test = testScenes(config);
  const model = sceneModelFor(config);
  const strategy = createSceneWeighting(
    tasks,
    config.weighting === 'fixed' ? { kind: 'fixed', weights: config.weights! } : { kind: 'uncertainty' },
    config.sigmaLr,
  );
  try {
    const started = performance.now();
    const log = await trainSceneModel(
      model,
      tasks,
      train,
      SCENE_CLASSES.length,
      strategy,
      {
        steps: config.steps,
        batchSize: config.batchSize,
        learningRate: config.lr,
        sigmaLearningRate: config.sigmaLr,
        seed: config.seed,
      },
      onLog,
      signal,
    );
    const trainSeconds = (performance.now() - started) / 1000;
    const metrics = evaluateSceneModel(model, tasks, test, SCENE_CLASSES.length);
    const steps = log.at(-1)?.step ?? 0;
    const result: SceneRunResult = {
      config,
      log,
      metrics,
      trainSeconds,
      stepMs: steps > 0 ? (trainSeconds * 1000) / steps : NaN,
    };
    if (config.out !== undefined) {
      await saveModelDir(config.out, model, {
        [SCENE_RUN_FILE]: JSON.stringify(config, null, 2) + '\n',
        [SCENE_LOG_FILE]: JSON.stringify({ log, trainSeconds, stepMs: result.stepMs }, null, 2) + '\n',
        [SCENE_METRICS_FILE]: JSON.stringify(metrics, null, 2) + '\n',
      });
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
): Promise<{ model: tf.LayersModel; config: SceneRunConfig; tasks: SceneTask[] }> {
  registerConvGradient();
  const { model, files } = await loadModelDir(dir);
  let config: SceneRunConfig;
  try {
    config = JSON.parse(await files(SCENE_RUN_FILE)) as SceneRunConfig;
  } catch (err) {
    model.dispose();
    throw new Error(`${dir} is not a scene model folder (${SCENE_RUN_FILE}: ${(err as Error).message})`);
  }
  return { model, config, tasks: orderedTasks(config.tasks) };
}
