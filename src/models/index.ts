export { towersModel, type TowersModelOptions } from './towers.js';
export { sharedTrunkModel, type SharedTrunkModelOptions } from './sharing.js';
export { fusedDense } from './fused-dense.js';
export { ParallelDense, UnstackTowers, type ParallelDenseArgs, type Initializer } from './parallel-dense.js';
export { denseInitializers, type DenseInit } from './init.js';
export { outputUnits } from './output-units.js';
