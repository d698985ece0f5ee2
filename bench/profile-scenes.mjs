// Kernel breakdown of the scene network's training step (tf.profile over a few steps of the real loop,
// default scene config). Usage: node bench/profile-scenes.mjs [backend=wasm] [steps=5] [threads=2]
import * as tf from '@tensorflow/tfjs';
import { backendThreads, setupBackend } from '../dist/node/backend.js';
import { registerConvGradient } from '../dist/backend/conv-gradient.js';
import { generateScenes, SCENE_CLASSES } from '../dist/data/synthetic/scenes.js';
import { sceneRunConfigSchema } from '../dist/scenes/config.js';
import { orderedTasks } from '../dist/scenes/model.js';
import { createSceneWeighting, trainSceneModel } from '../dist/scenes/train.js';
import { sceneModelFor } from '../dist/node/scenes-run.js';
import { kernelRows, printKernelRows } from './kernel-rows.mjs';

const [backend = 'wasm', stepsArg = '5', threads = '2'] = process.argv.slice(2);
const steps = Number(stepsArg);
await setupBackend(backend, { threads: Number(threads) });
registerConvGradient();
const config = sceneRunConfigSchema.parse({});
const tasks = orderedTasks(config.tasks);
const data = generateScenes(16, config.dataSeed, { height: config.height, width: config.width });
const model = sceneModelFor(config, SCENE_CLASSES.length);
const strategy = createSceneWeighting(tasks, { kind: 'uncertainty' }, config.sigmaLr);
const run = (n) =>
  trainSceneModel(model, tasks, data, strategy, {
    steps: n,
    batchSize: config.batchSize,
    learningRate: config.lr,
    seed: config.seed,
    logEvery: n,
  });
await run(3); // warm up
const t0 = performance.now();
await run(steps);
const plain = (performance.now() - t0) / steps;
const info = await tf.profile(() => run(steps));
const rows = kernelRows(info, 'ms');
const total = rows.reduce((s, [, e]) => s + e.ms, 0);
console.log(
  `${backend}, ${backendThreads() ?? '?'} thread(s): ${steps} steps; unprofiled ${plain.toFixed(1)} ms/step; ` +
    `${(info.kernels.length / steps).toFixed(1)} kernels/step; kernel time ${(total / steps).toFixed(1)} ms/step`,
);
printKernelRows(rows, steps);
