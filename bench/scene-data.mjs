// The scene input pipeline against training: (1) frames/s that the Cityscapes reader delivers at the
// training size (decode with sharp + resize + zoom-crop/flip augmentation, batches prefetched), against
// the frames/s one training step consumes; (2) peak RSS of `scenes train --data` on a split of 40 vs 400
// frames (the reader streams: memory must not grow with the split). Writes its datasets to a temp folder.
// Usage: npm run bench:data -- [--source 1024x2048] [--size 128x256] [--batches 20] [--steps 20] [--rss-steps 30]
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setupBackend } from '../dist/node/backend.js';
import { openSceneData } from '../dist/node/scene-data/datasets.js';
import { writeCityscapesScenes } from '../dist/node/scene-data/export.js';
import { sceneBatches } from '../dist/scenes/data.js';
import { disposeBatch } from '../dist/train/batches.js';
import { buildSceneModel } from '../dist/scenes/model.js';
import { createSceneWeighting, trainSceneModel } from '../dist/scenes/train.js';

const { values } = parseArgs({
  options: {
    source: { type: 'string', default: '1024x2048' },
    size: { type: 'string', default: '128x256' },
    unique: { type: 'string', default: '40' },
    batches: { type: 'string', default: '20' },
    steps: { type: 'string', default: '20' },
    'rss-steps': { type: 'string', default: '30' },
    keep: { type: 'boolean', default: false },
  },
});
const dims = (s) => s.split('x').map(Number);
const [H0, W0] = dims(values.source);
const [H, W] = dims(values.size);
const unique = Number(values.unique);
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'tfjs-mtl-bench-data-'));
const log = (s) => process.stdout.write(s + '\n');

/** A Cityscapes split of `n` frames: the `unique` written frames repeated under new names. */
function replicate(from, to, n) {
  for (const kind of ['leftImg8bit', 'gtFine', 'disparity', 'camera']) {
    const src = join(from, kind, 'train', 'testville');
    const dst = join(to, kind, 'train', 'testville');
    mkdirSync(dst, { recursive: true });
    const files = readdirSync(src).sort();
    const perFrame = files.length / unique;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < perFrame; k++) {
        const f = files[(i % unique) * perFrame + k];
        copyFileSync(join(src, f), join(dst, f.replace(/_\d{6}_/, `_${String(i).padStart(6, '0')}_`)));
      }
    }
  }
}

try {
  let t = performance.now();
  const base = join(dir, 'base');
  writeCityscapesScenes(base, { train: unique }, { height: H0, width: W0, seed: 1 });
  log(`wrote ${unique} frames at ${H0}×${W0} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const d40 = join(dir, 'd40');
  const d400 = join(dir, 'd400');
  replicate(base, d40, 40);
  replicate(base, d400, 400);

  // (1) the pipeline alone, then training steps alone, at the training size
  await setupBackend('wasm');
  const tasks = ['semantic', 'instance', 'depth'];
  const source = await openSceneData(d40, { split: 'train', height: H, width: W });
  const it = sceneBatches(source, { tasks, batchSize: 8, seed: 0, augment: {} })[Symbol.asyncIterator]();
  await it.next().then((r) => disposeBatch(r.value)); // warm-up (sharp's thread pool, JIT)
  t = performance.now();
  const nb = Number(values.batches);
  for (let b = 0; b < nb; b++) disposeBatch((await it.next()).value);
  const pipeFps = (nb * 8) / ((performance.now() - t) / 1000);
  await it.return();

  const model = buildSceneModel({ height: H, width: W, numClasses: 19, tasks, seed: 0 });
  const w = createSceneWeighting(tasks, { kind: 'uncertainty' }, 0.02);
  const steps = Number(values.steps);
  const stamps = [];
  await trainSceneModel(
    model,
    tasks,
    source,
    w,
    { steps: steps + 3, batchSize: 8, logEvery: 1, augment: {} },
    () => stamps.push(performance.now()),
  );
  const trainMs = (stamps.at(-1) - stamps[2]) / steps; // steps after 3 warm-up steps, loading overlapped
  log(
    `pipeline: ${pipeFps.toFixed(1)} frames/s (decode ${H0}×${W0} + resize to ${H}×${W} + augment, batches of 8)`,
  );
  log(
    `training with the pipeline: ${trainMs.toFixed(0)} ms/step = ${((8 * 1000) / trainMs).toFixed(1)} frames/s consumed`,
  );
  log(
    `pipeline / consumption ratio ${(pipeFps / ((8 * 1000) / trainMs)).toFixed(2)} (> 1: loading is not the bottleneck)`,
  );

  // (2) peak RSS of the CLI on 40 vs 400 frames
  const rss = {};
  for (const [name, data] of [
    ['40', d40],
    ['400', d400],
  ]) {
    const r = spawnSync(
      '/usr/bin/time',
      [
        '-f',
        '%M',
        process.execPath,
        cli,
        'scenes',
        'train',
        '--data',
        data,
        '--height',
        String(H),
        '--width',
        String(W),
      ].concat(['--steps', values['rss-steps'], '--quiet', '--out', join(dir, `model-${name}`)]),
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`scenes train on ${name} frames failed: ${r.stderr}`);
    rss[name] = Number(r.stderr.trim().split('\n').at(-1)) / 1024;
    log(
      `scenes train --data (${name} frames, ${values['rss-steps']} steps): peak RSS ${rss[name].toFixed(0)} MB`,
    );
  }
  log(`peak RSS 400 / 40 frames ${(rss['400'] / rss['40']).toFixed(3)}`);
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  else log(`datasets kept in ${dir}`);
}
