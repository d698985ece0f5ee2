export {
  backendThreads,
  defaultThreads,
  setupBackend,
  NODE_BACKENDS,
  type BackendOptions,
  type NodeBackend,
} from './backend.js';
export { writeFileAtomic } from './atomic-write.js';
export { renderSvg, svgToPng, writePlot } from './render.js';
export { writeSeedToyReport, type SeedToyReportFiles } from './seed-toy-report.js';
export { readTableFile } from './read-table.js';
export { fileSystemHandler, saveModelDir, loadModelDir, ModelDirError } from './model-dir.js';
export {
  buildReportPlots,
  renderReportHtml,
  type ReportInput,
  type ReportPlot,
  type ReportTask,
} from './report.js';
export { saveTrainedTable, loadTrainedTable, type WeightingFile } from './tabular-io.js';
export {
  runSceneTraining,
  loadSceneModel,
  sceneModelFor,
  trainingScenes,
  testScenes,
  openRunData,
  type SceneRunResult,
  type SceneRunHooks,
  type SceneDataInfo,
} from './scenes-run.js';
export {
  openSceneData,
  detectSceneDataFormat,
  SceneDataError,
  SCENE_DATA_FORMATS,
  type SceneDataFormat,
  type SceneDataset,
  type OpenSceneDataOptions,
  type FolderDatasetSpec,
} from './scene-data/datasets.js';
export {
  CITYSCAPES_CLASSES,
  CITYSCAPES_THING_CLASSES,
  CITYSCAPES_TRAIN_ID,
  cityscapesSemantic,
  cityscapesInstances,
  cityscapesInverseDepth,
  parseCityscapesCamera,
} from './scene-data/cityscapes.js';
export { decodeImage } from './image-decode.js';
export {
  runSceneExperiment,
  sceneExperimentConfigs,
  SCENE_EXPERIMENT_DEFAULTS,
  type SceneExperimentOptions,
} from './scenes-experiment.js';
export { renderSceneGrid, type GridModel } from './scenes-figures.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  removeCheckpoints,
  type StoredCheckpoint,
} from './checkpoint-store.js';
