// Soak test (not CI): long runs through the one training loop, sampling tf.memory().numTensors/numBytes
// and the process RSS as they go; they must stay flat. 10,000 steps of the seed toy, then 2,000 steps of
// scene training (64×128, batch 8, checkpoints every 100 steps, as `scenes train` does).
// Usage: npm run bench:soak -- [--backend wasm] [--toy-epochs 2000] [--scene-steps 2000]
// (run as node --expose-gc bench/soak.mjs to see the live JS heap after a collection)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { runSeedToyExperiment } from '../dist/index.js';
import { runSceneTraining, setupBackend } from '../dist/node/index.js';
import { parseSceneRunConfig } from '../dist/scenes/config.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    'toy-epochs': { type: 'string', default: '2000' },
    'scene-steps': { type: 'string', default: '2000' },
  },
});
await setupBackend(values.backend);

const mb = (b) => (b / 2 ** 20).toFixed(1);
function sample(label, step) {
  const m = tf.memory();
  globalThis.gc?.(); // with node --expose-gc: the live JS heap, not garbage not yet collected
  const { rss, heapUsed } = process.memoryUsage();
  return { label, step, tensors: m.numTensors, bytes: m.numBytes, rss, heap: heapUsed };
}
function report(name, samples) {
  // after a warm-up of a tenth of the run, the rest must not grow
  const warm = samples.filter((s) => s.step >= samples.at(-1).step / 10);
  const first = warm[0];
  const last = samples.at(-1);
  const peak = (k) => Math.max(...warm.map((s) => s[k]));
  console.log(`\n${name}: ${samples.length} samples, steps ${samples[0].step}…${last.step}`);
  console.log(
    '| | after warm-up (step ' + first.step + ') | end (step ' + last.step + ') | peak after warm-up |',
  );
  console.log('|---|---|---|---|');
  console.log(`| numTensors | ${first.tensors} | ${last.tensors} | ${peak('tensors')} |`);
  console.log(`| numBytes MB | ${mb(first.bytes)} | ${mb(last.bytes)} | ${mb(peak('bytes'))} |`);
  console.log(`| RSS MB | ${mb(first.rss)} | ${mb(last.rss)} | ${mb(peak('rss'))} |`);
  console.log(`| JS heap MB | ${mb(first.heap)} | ${mb(last.heap)} | ${mb(peak('heap'))} |`);
  const flat = last.tensors === first.tensors && last.bytes === first.bytes;
  console.log(
    `${name} tensors ${flat ? 'flat' : 'GREW'}; RSS end/warm-up ratio ${(last.rss / first.rss).toFixed(3)}`,
  );
  return flat;
}

const toy = [];
const epochs = Number(values['toy-epochs']);
await runSeedToyExperiment({
  epochs,
  onEpochEnd: (e) => {
    if (e.epoch % Math.max(1, Math.floor(epochs / 40)) === 0) toy.push(sample('toy', e.steps));
  },
});
const toyFlat = report('seed toy', toy);

const out = join(mkdtempSync(join(tmpdir(), 'tfjs-mtl-soak-')), 'scenes');
const scenes = [];
const steps = Number(values['scene-steps']);
const config = parseSceneRunConfig({ steps, out }, 'soak');
await runSceneTraining(config, {
  checkpointEvery: 100,
  onLog: (e) => {
    scenes.push(sample('scenes', e.step));
  },
});
rmSync(join(out, '..'), { recursive: true, force: true });
const scenesFlat = report('scene training', scenes);
console.log(`\nsoak ${toyFlat && scenesFlat ? 'passed' : 'FAILED'} on ${tf.getBackend()}`);
process.exitCode = toyFlat && scenesFlat ? 0 : 1;
