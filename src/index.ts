/**
 * tfjs-mtl: multi-task learning with learned loss weighting on TensorFlow.js. Browser-safe: the
 * Node-only pieces (files, plots to PNG, backend set-up) are in 'tfjs-mtl/node'.
 */
export * from './tasks/index.js';
export * from './weighting/index.js';
export * from './models/index.js';
export { Trainer, TrainingDataError, TrainingDivergedError } from './train/trainer.js';
export type {
  AdamOptions,
  EarlyStoppingOptions,
  Evaluation,
  FitOptions,
  FitDatasetOptions,
  TrainingLoopOptions,
  TrainingCheckpoint,
  CheckpointOptions,
  AdamState,
  TrainerOptions,
  TrainingData,
} from './train/trainer.js';
export {
  polyDecay,
  openBatches,
  disposeBatch,
  type BatchStream,
  type BatchIterator,
  type DatasetBatch,
  type LearningRateSchedule,
  type ResumableStream,
} from './train/batches.js';
export { FusedAdam, type FusedAdamOptions } from './train/fused-adam.js';
export type { EpochEvent, PerTask, SplitMetrics, StepEvent, TrainCallbacks } from './train/events.js';
export { historySeries, type History } from './train/history.js';
export { NumpyRandomState } from './random/numpy-random-state.js';
export {
  generateSeedToyData,
  seedToyNoiseFactor,
  SEED_TOY_TRUE_SIGMA,
  type SeedToyData,
  type SeedToyNoise,
  type SeedToyOptions,
} from './data/synthetic/seed-toy.js';
export {
  runSeedToyExperiment,
  type SeedToyExperimentOptions,
  type SeedToyResult,
  type SeedToyTaskResult,
} from './experiments/seed-toy.js';
export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './backend/wasm-kernels.js';
export { registerLeanGradients, LEAN_GRADIENT_KERNELS } from './backend/lean-gradients.js';
export { setSimdKernelsEnabled } from './backend/simd/simd.js';
export {
  registerConvGradient,
  dilatedConv2dInputGradient,
  dilatedConv2dFilterGradient,
} from './backend/conv-gradient.js';
export * from './scenes/index.js';
export * from './plot/specs.js';
export * from './tabular/index.js';
export {
  parseCsv,
  parseJsonRecords,
  inferColumnKind,
  DataError,
  MISSING_TOKENS,
  type Cell,
  type Table,
} from './data/table.js';
export {
  fitPreprocess,
  encodeFeatures,
  encodeTargets,
  inferTargetKind,
  type PreprocessState,
  type TargetKind,
  type FeatureColumn,
  type TargetColumn,
} from './data/preprocess.js';
export { splitRows } from './data/split.js';
export { pngInfo, pngHeaderInfo, type PngInfo } from './data/images/png-info.js';
export { decodePngJs, type DecodedImage, type DecodeImageOptions } from './data/images/decode-png.js';
export { resizeBilinearArea, resizeNearest, type Crop } from './data/images/resample.js';
