// Per-pixel uncertainty of trained scene models (docs/scenes.md, "Per-pixel uncertainty"): on each run's
// test scenes, the Table 1 metrics (from metrics.json), and where the maps are large — mean semantic
// entropy, instance σ and inverse-depth σ (with the mean |error| beside each σ) on object-edge pixels vs
// interior pixels, and inverse-depth σ and |error| per third of the true inverse depth (far → near).
// Edge pixels: a 4-neighbour of the pixel has another true class or instance id. Also: σ/inverse depth
// (≈ the relative σ of depth, σ_z/z) per third, and the mean |error| of the 20 % of pixels with the
// largest σ (or entropy) against the 20 % with the smallest — whether the map ranks the errors.
// Usage: npm run build && node bench/scenes-uncertainty.mjs RUN [RUN …] [--scenes 200] [--backend wasm]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setupBackend } from '../dist/node/backend.js';
import { loadSceneModel, testScenes } from '../dist/node/scenes-run.js';
import { predictScenes } from '../dist/scenes/evaluate.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    scenes: { type: 'string' },
    backend: { type: 'string', default: 'wasm' },
  },
});
if (positionals.length === 0) {
  process.stderr.write('usage: node bench/scenes-uncertainty.mjs RUN [RUN …] [--scenes N]\n');
  process.exit(2);
}
await setupBackend(values.backend);

/** Running means by named group. */
class Means {
  sums = new Map();
  add(key, v) {
    const s = this.sums.get(key) ?? [0, 0];
    s[0] += v;
    s[1] += 1;
    this.sums.set(key, s);
  }
  get(key) {
    const s = this.sums.get(key);
    return s && s[1] > 0 ? s[0] / s[1] : NaN;
  }
}

const fmt = (v, d = 4) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

for (const dir of positionals) {
  const { model, config, tasks } = await loadSceneModel(dir);
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
  const count = values.scenes !== undefined ? Number(values.scenes) : config.testScenes;
  const data = testScenes(config, count);
  const { height: H, width: W } = data;
  const P = H * W;
  // thresholds of the thirds of the true inverse depth over labelled, non-sky pixels
  const inv = [];
  for (let i = 0; i < data.count * P; i++)
    if (data.depthMask[i] !== 0 && data.inverseDepth[i] > 0) inv.push(data.inverseDepth[i]);
  inv.sort((a, b) => a - b);
  const t1 = inv[Math.floor(inv.length / 3)];
  const t2 = inv[Math.floor((2 * inv.length) / 3)];
  const m = new Means();
  /** [uncertainty, error] pairs per map, for the ranking. */
  const pairs = { entropy: [], instance: [], depth: [] };
  const chunk = 20;
  for (let start = 0; start < data.count; start += chunk) {
    const indices = Array.from({ length: Math.min(chunk, data.count - start) }, (_, k) => start + k);
    const predictions = predictScenes(model, tasks, data, indices, { uncertainty: true });
    predictions.forEach((p, b) => {
      const s = indices[b];
      const cls = data.semantic.subarray(s * P, (s + 1) * P);
      const ids = data.instance.subarray(s * P, (s + 1) * P);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const i = y * W + x;
          let edge = false;
          for (const [dy, dx] of [
            [-1, 0],
            [1, 0],
            [0, -1],
            [0, 1],
          ]) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
            const j = yy * W + xx;
            if (cls[j] !== cls[i] || ids[j] !== ids[i]) edge = true;
          }
          const where = edge ? 'edge' : 'interior';
          if (p.semanticEntropy && cls[i] >= 0) {
            m.add(`entropy ${where}`, p.semanticEntropy[i]);
            m.add(`semantic error ${where}`, p.semantic[i] !== cls[i] ? 1 : 0);
            pairs.entropy.push([p.semanticEntropy[i], p.semantic[i] !== cls[i] ? 1 : 0]);
          }
          if (p.instance && ids[i] > 0) {
            const g = (s * P + i) * 2;
            const err = Math.hypot(
              p.instance[2 * i] - data.instanceOffset[g],
              p.instance[2 * i + 1] - data.instanceOffset[g + 1],
            );
            m.add(`instance error ${where}`, err);
            if (p.instanceSigma) {
              m.add(`instance σ ${where}`, p.instanceSigma[i]);
              pairs.instance.push([p.instanceSigma[i], err]);
            }
          }
          if (p.depth && data.depthMask[s * P + i] !== 0) {
            const truth = data.inverseDepth[s * P + i];
            const err = Math.abs(p.depth[i] - truth);
            m.add(`depth error ${where}`, err);
            if (p.depthSigma) m.add(`depth σ ${where}`, p.depthSigma[i]);
            const third = truth === 0 ? 'sky' : truth < t1 ? 'far' : truth < t2 ? 'middle' : 'near';
            m.add(`depth error ${third}`, err);
            if (p.depthSigma) {
              m.add(`depth σ ${third}`, p.depthSigma[i]);
              if (truth > 0) m.add(`depth relative σ ${third}`, p.depthSigma[i] / truth);
              pairs.depth.push([p.depthSigma[i], err]);
            }
          }
        }
      }
    });
  }
  model.dispose();
  /** Mean error of the top and bottom 20 % of pixels by uncertainty. */
  const ranked = (list) => {
    if (list.length === 0) return 'n/a';
    list.sort((a, b) => a[0] - b[0]);
    const k = Math.floor(list.length / 5);
    const mean = (xs) => xs.reduce((acc, x) => acc + x[1], 0) / xs.length;
    return `most uncertain 20 % ${fmt(mean(list.slice(-k)))}, least uncertain 20 % ${fmt(mean(list.slice(0, k)))}`;
  };
  const lines = [
    `${dir} (${config.uncertainty}, ${config.steps} steps, seed ${config.seed}, ${data.count} test scenes ${H}×${W})`,
    `  metrics: IoU ${fmt(100 * (metrics.semantic?.meanIoU ?? NaN), 1)} %, instance vector error ${fmt(metrics.instance?.vectorError ?? NaN, 3)} px, inverse-depth error ${fmt(metrics.depth?.meanAbsError ?? NaN, 4)} 1/m`,
    `  semantic entropy (nats)   edge ${fmt(m.get('entropy edge'), 3)}  interior ${fmt(m.get('entropy interior'), 3)}   (pixel error rate edge ${fmt(m.get('semantic error edge'), 3)}, interior ${fmt(m.get('semantic error interior'), 3)})`,
    `  instance |error| (px)     edge ${fmt(m.get('instance error edge'), 3)}  interior ${fmt(m.get('instance error interior'), 3)}`,
    `  instance σ (px)           edge ${fmt(m.get('instance σ edge'), 3)}  interior ${fmt(m.get('instance σ interior'), 3)}`,
    `  depth |error| (1/m)       edge ${fmt(m.get('depth error edge'))}  interior ${fmt(m.get('depth error interior'))}   far ${fmt(m.get('depth error far'))}  middle ${fmt(m.get('depth error middle'))}  near ${fmt(m.get('depth error near'))}  sky ${fmt(m.get('depth error sky'))}`,
    `  depth σ (1/m)             edge ${fmt(m.get('depth σ edge'))}  interior ${fmt(m.get('depth σ interior'))}   far ${fmt(m.get('depth σ far'))}  middle ${fmt(m.get('depth σ middle'))}  near ${fmt(m.get('depth σ near'))}  sky ${fmt(m.get('depth σ sky'))}`,
    `  depth σ / inverse depth   far ${fmt(m.get('depth relative σ far'), 3)}  middle ${fmt(m.get('depth relative σ middle'), 3)}  near ${fmt(m.get('depth relative σ near'), 3)}`,
    `  pixel error rate by entropy: ${ranked(pairs.entropy)}`,
    `  instance |error| by σ: ${ranked(pairs.instance)}`,
    `  depth |error| by σ: ${ranked(pairs.depth)}`,
    `  inverse-depth thirds: far < ${fmt(t1)} ≤ middle < ${fmt(t2)} ≤ near (1/m)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
