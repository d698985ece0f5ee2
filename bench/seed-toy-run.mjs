// One run of the seed experiment through the public API; prints one JSON line.
import { runSeedToyExperiment } from 'tfjs-mtl';
import { backendThreads, setupBackend } from 'tfjs-mtl/node';

const [backend = 'wasm', epochs = '2000', seed = '0', threads = '1'] = process.argv.slice(2);
const t0 = performance.now();
await setupBackend(backend, { threads: Number(threads) });
const r = await runSeedToyExperiment({ epochs: Number(epochs), seed: Number(seed) });
console.log(
  JSON.stringify({
    impl: `tfjs-mtl/${r.backend}`,
    threads: backendThreads(),
    steps: r.steps,
    train_s: r.trainSeconds,
    process_s: (performance.now() - t0) / 1000,
    stds: r.tasks.map((t) => t.sigma),
  }),
);
