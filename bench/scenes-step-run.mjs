// One tfjs-mtl side of bench/scenes-step.mjs: times steps of the real scene training loop (trainSceneModel → Trainer.fitDataset,
// default scene network and config) from the built library; prints one JSON line.
// Usage: node bench/scenes-step-run.mjs [--steps 30] [--warmup 5] [--backend wasm] [--scenes 64] [--burst K]
// --burst K (for the paired driver): log every K steps; after the warm-up and after every K timed steps,
// print {"paused": [mean ms/step of those K]} and wait for a line on stdin (the wait is not timed).
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { backendThreads, setupBackend } from '../dist/node/backend.js';
import { registerConvGradient } from '../dist/backend/conv-gradient.js';
import { generateScenes, SCENE_CLASSES } from '../dist/data/synthetic/scenes.js';
import { sceneRunConfigSchema } from '../dist/scenes/config.js';
import { orderedTasks } from '../dist/scenes/model.js';
import { createSceneWeighting, trainSceneModel } from '../dist/scenes/train.js';
import { sceneModelFor } from '../dist/node/scenes-run.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'wasm' },
    scenes: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    burst: { type: 'string', default: '0' },
  },
});
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const burst = Number(values.burst);
const input = burst > 0 ? createInterface({ input: process.stdin }) : undefined;
const commands = input?.[Symbol.asyncIterator]();

const backend = await setupBackend(values.backend, { threads: Number(values.threads) });
registerConvGradient();
const config = sceneRunConfigSchema.parse({});
const tasks = orderedTasks(config.tasks);
const data = generateScenes(Number(values.scenes), config.dataSeed, {
  height: config.height,
  width: config.width,
});
const model = sceneModelFor(config, SCENE_CLASSES.length);
const strategy = createSceneWeighting(tasks, { kind: 'uncertainty' }, config.sigmaLr);
const params = model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);

// onLog runs after every `logEvery` steps, once their losses are read back (so the steps are finished):
// each entry of `times` is the mean ms/step of one such period, from the end of the previous one (or
// of a pause) to its onLog. Standalone, a period is a step; under the driver it is a burst, as a run
// logging every few steps has it (logging every step would add reading every weight back to each —
// the loop keeps the last good epoch's state to roll back to).
const logEvery = burst > 0 ? burst : 1;
if (warmup % logEvery !== 0 || steps % logEvery !== 0)
  throw new Error(`--warmup ${warmup} and --steps ${steps} must be multiples of --burst ${burst}`);
const times = [];
let last;
let since = performance.now();
await trainSceneModel(
  model,
  tasks,
  data,
  strategy,
  {
    steps: warmup + steps,
    batchSize: config.batchSize,
    learningRate: config.lr,
    seed: config.seed,
    logEvery,
  },
  async (entry) => {
    times.push((performance.now() - since) / logEvery);
    last = entry;
    const timed = times.length * logEvery - warmup;
    if (commands !== undefined && timed >= 0 && timed < steps) {
      console.log(JSON.stringify({ paused: timed > 0 ? [times.at(-1)] : [] }));
      if ((await commands.next()).done) process.exit(1); // the driver went away
    }
    since = performance.now();
  },
);
times.splice(0, warmup / logEvery);
input?.close();
const sorted = [...times].sort((a, b) => a - b);
const m = sorted.length >> 1;
const median = sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;

console.log(`trainable parameters: ${params} (+ ${strategy.variables.length} log-variances)`);
console.log(
  JSON.stringify({
    impl: `tfjs-mtl/${backend}`,
    msPerStep: median,
    params,
    // the threads the backend reports it runs its kernels on
    threads: backendThreads() ?? null,
    steps,
    warmup,
    // mean ms/step of each logging period (a step, or a burst)
    times,
    batch: config.batchSize,
    losses: last.losses,
  }),
);
strategy.dispose();
model.dispose();
