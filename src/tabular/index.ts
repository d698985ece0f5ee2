export {
  trainConfigSchema,
  parseTrainConfig,
  parseTargetFlag,
  ConfigError,
  TARGET_KINDS,
  type TrainConfig,
  type TrainConfigInput,
} from './config.js';
export {
  predictTable,
  scoreTable,
  tableOutputs,
  type Predictions,
  type ScoreResult,
  type TabularModel,
  type TabularTaskInfo,
  type TaskMetrics,
  type TaskPredictions,
} from './tabular-model.js';
export { trainTable, type SplitName, type TrainTableOptions, type TrainTableResult } from './train-table.js';
export {
  expectedCalibrationError,
  fitTemperature,
  intervalCoverage,
  TEMPERATURE_BOUNDS,
  type TemperatureFit,
  Z68,
  Z95,
} from './calibration.js';
