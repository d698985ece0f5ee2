// Kernel breakdown of a table run's training (the penguins of the README), tf.profile over its epochs.
import * as tf from '@tensorflow/tfjs';
import { parseTrainConfig, trainTable } from 'tfjs-mtl';
import { readTableFile, setupBackend } from 'tfjs-mtl/node';
import { kernelRows, printKernelRows } from './kernel-rows.mjs';
const [backend = 'wasm', epochs = '30', file = 'node_modules/vega-datasets/data/penguins.json'] =
  process.argv.slice(2);
await setupBackend(backend, { threads: 1 });
const table = await readTableFile(file);
const config = parseTrainConfig(
  {
    targets: [{ name: 'Species' }, { name: 'Sex' }, { name: 'Body Mass (g)' }],
    features: ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Island'],
    epochs: Number(epochs),
  },
  'bench',
);
await trainTable(table, config); // warm up
let steps = 0;
let seconds = 0;
const info = await tf.profile(async () => {
  const r = await trainTable(table, config);
  steps = r.history.epochs.at(-1).steps;
  seconds = r.history.epochs.at(-1).seconds;
});
const t0 = performance.now();
const r2 = await trainTable(table, config);
console.log(
  `unprofiled: training ${r2.history.epochs.at(-1).seconds.toFixed(3)} s, whole trainTable ${((performance.now() - t0) / 1000).toFixed(3)} s`,
);
const rows = kernelRows(info, 'n');
console.log(
  `${steps} steps (${seconds.toFixed(2)} s profiled); ${(info.kernels.length / steps).toFixed(1)} kernels per step (whole trainTable)`,
);
printKernelRows(rows.slice(0, 30), steps);
