// Kernel breakdown of the seed experiment's training step (tf.profile over a few epochs).
import * as tf from '@tensorflow/tfjs';
import { runSeedToyExperiment } from 'tfjs-mtl';
import { setupBackend } from 'tfjs-mtl/node';
const [backend = 'wasm', epochs = '40'] = process.argv.slice(2);
await setupBackend(backend, { threads: 1 });
await runSeedToyExperiment({ epochs: 20 }); // warm up
const t0 = performance.now();
const r = await runSeedToyExperiment({ epochs: Number(epochs) });
const plain = (performance.now() - t0) / r.steps;
let steps = 0;
const info = await tf.profile(async () => {
  const rr = await runSeedToyExperiment({ epochs: Number(epochs) });
  steps = rr.steps;
});
const by = new Map();
for (const k of info.kernels) {
  const e = by.get(k.name) ?? { n: 0, ms: 0 };
  e.n++;
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  by.set(k.name, e);
}
const rows = [...by].sort((a, b) => b[1].ms - a[1].ms);
const total = rows.reduce((s, [, e]) => s + e.ms, 0);
console.log(
  `${steps} steps; unprofiled ${(plain * 1000).toFixed(0)} µs/step; ${(info.kernels.length / steps).toFixed(1)} kernels/step; kernel time ${((total / steps) * 1000).toFixed(0)} µs/step`,
);
for (const [name, e] of rows)
  console.log(
    `${name.padEnd(28)} ${(e.n / steps).toFixed(2).padStart(7)}×  ${((e.ms / steps) * 1000).toFixed(1).padStart(8)} µs`,
  );
