// Kernel breakdown of the seed experiment's training step (tf.profile over a few epochs).
import * as tf from '@tensorflow/tfjs';
import { runSeedToyExperiment } from 'tfjs-mtl';
import { setupBackend } from 'tfjs-mtl/node';
import { kernelRows, printKernelRows } from './kernel-rows.mjs';
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
const rows = kernelRows(info, 'ms');
const total = rows.reduce((s, [, e]) => s + e.ms, 0);
console.log(
  `${steps} steps; unprofiled ${(plain * 1000).toFixed(0)} µs/step; ${(info.kernels.length / steps).toFixed(1)} kernels/step; kernel time ${((total / steps) * 1000).toFixed(0)} µs/step`,
);
printKernelRows(rows, steps);
