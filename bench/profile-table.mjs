// Kernel breakdown of a table run's training (the penguins of the README), tf.profile over its epochs.
import * as tf from '@tensorflow/tfjs';
import { parseTrainConfig, trainTable } from 'tfjs-mtl';
import { readTableFile, setupBackend } from 'tfjs-mtl/node';
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
const by = new Map();
for (const k of info.kernels) {
  const e = by.get(k.name) ?? { n: 0, ms: 0 };
  e.n++;
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  by.set(k.name, e);
}
const rows = [...by].sort((a, b) => b[1].n - a[1].n);
console.log(
  `${steps} steps (${seconds.toFixed(2)} s profiled); ${(info.kernels.length / steps).toFixed(1)} kernels per step (whole trainTable)`,
);
for (const [name, e] of rows.slice(0, 30))
  console.log(
    `${name.padEnd(28)} ${(e.n / steps).toFixed(2).padStart(7)}×  ${((e.ms / steps) * 1000).toFixed(1).padStart(8)} µs`,
  );
