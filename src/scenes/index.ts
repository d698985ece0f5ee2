export {
  generateScenes,
  SCENE_CLASSES,
  THING_CLASSES,
  SCENE_PALETTE,
  IGNORE_LABEL,
  sceneImageRgba,
  semanticRgba,
  inverseDepthRgba,
  instanceOffsetRgba,
  instanceIdRgba,
  type SceneBatch,
  type SceneClass,
  type SceneInstance,
  type SceneOptions,
} from '../data/synthetic/scenes.js';
export {
  buildSceneModel,
  checkSceneModelOptions,
  headChannels,
  heteroscedasticHeads,
  orderedTasks,
  SCENE_OUTPUT_STRIDE,
  SCENE_TASKS,
  type SceneModelOptions,
  type SceneTask,
} from './model.js';
export { SceneConv2D, type SceneConv2DArgs } from './conv.js';
export { FastBatchNorm, batchNormTraining, type FastBatchNormArgs } from './batch-norm.js';
export { maskedL1, maskedSoftmaxCrossEntropy, maskedSparseSoftmaxCrossEntropy } from './losses.js';
export {
  memorySceneSource,
  sceneBatches,
  sceneTrainingBatch,
  transformFrame,
  instanceOffsets,
  framesToSceneBatch,
  loadFrames,
  type SceneFrame,
  type RawSceneFrame,
  type SceneSource,
  type FrameTransform,
  type SceneAugmentation,
  type SceneBatchOptions,
} from './data.js';
export {
  denseClassificationTask,
  denseL1Task,
  denseHeteroscedasticL1Task,
  sceneTasks,
  type DenseClassificationTaskOptions,
  type DenseL1TaskOptions,
  type DenseHeteroscedasticL1TaskOptions,
} from './tasks.js';
export {
  trainSceneModel,
  createSceneWeighting,
  sceneTaskSpecs,
  type SceneLogEntry,
  type SceneTrainOptions,
  type SceneWeighting,
} from './train.js';
export {
  evaluateSceneModel,
  predictScenes,
  type PredictScenesOptions,
  type SceneEvaluationOptions,
  type SceneMetrics,
  type ScenePrediction,
} from './evaluate.js';
export { softmaxEntropy, laplaceSigma } from './uncertainty.js';
export { SemanticConfusion, InstanceVectorError, InverseDepthError } from './metrics.js';
export {
  clusterInstanceVotes,
  InstanceMaskScore,
  allPointAveragePrecision,
  type InstanceClusteringOptions,
  type InstanceMatchResult,
} from './instances.js';
export { sceneRunConfigSchema, parseSceneRunConfig, type SceneRunConfig } from './config.js';
export {
  summarizeSceneRuns,
  sceneResultsMarkdown,
  bestFixed,
  verdict,
  meanStd,
  type SceneConfigSummary,
  type SceneRunRecord,
} from './experiment-summary.js';
