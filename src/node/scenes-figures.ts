/** Figures of the scene system: a qualitative grid (PNG) and the experiment's plots. Node-only. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { encode } from 'fast-png';
import type { TopLevelSpec } from 'vega-lite';
import {
  instanceOffsetRgba,
  inverseDepthRgba,
  sceneImageRgba,
  semanticRgba,
  type SceneBatch,
} from '../data/synthetic/scenes.js';
import { predictScenes, type ScenePrediction } from '../scenes/evaluate.js';
import type { SceneConfigInfo, SceneConfigSummary, SceneRunRecord } from '../scenes/experiment-summary.js';
import { orderedTasks, type SceneTask } from '../scenes/model.js';
import { writeFileAtomic } from './atomic-write.js';
import { svgToPng, writePlot } from './render.js';
import { loadSceneModel, testScenes } from './scenes-run.js';
import { setupBackend } from './backend.js';

export interface GridModel {
  label: string;
  model: tf.LayersModel;
  tasks: readonly SceneTask[];
}

interface Tile {
  rgba: Uint8ClampedArray;
}

const GAP = 2;
/** Tiles are drawn this many times their pixel size, under a header row of column labels. */
const GRID_SCALE = 2;
const HEADER = 28;
/** The caption row under a grid with uncertainty maps: their colour bar and scales. */
const FOOTER = 30;

/** The q-quantile of the finite values of `arrays` (0 when there are none). */
function quantile(arrays: readonly ArrayLike<number>[], q: number, masks?: readonly ArrayLike<number>[]) {
  const values: number[] = [];
  arrays.forEach((a, k) => {
    for (let i = 0; i < a.length; i++) {
      if (masks && masks[k]![i] === 0) continue;
      if (Number.isFinite(a[i]!)) values.push(a[i]!);
    }
  });
  if (values.length === 0) return 0;
  values.sort((x, y) => x - y);
  return values[Math.min(values.length - 1, Math.floor(q * values.length))]!;
}

/** A number for a caption: 3 significant digits. */
const short = (v: number) => (v >= 100 ? v.toFixed(0) : v.toPrecision(3));

export interface SceneGridOptions {
  /**
   * Draw the uncertainty maps beside the predictions (default true): the semantic softmax entropy for
   * every model with a semantic head, and the instance and depth σ of heteroscedastic heads.
   */
  uncertainty?: boolean;
}

/** Colour scales shared by truth and prediction so they compare. */
function scales(data: SceneBatch): { depthMax: number; offsetMax: number } {
  let depthMax = 0;
  for (const v of data.inverseDepth) depthMax = Math.max(depthMax, v);
  let offsetMax = 0;
  for (const v of data.instanceOffset) offsetMax = Math.max(offsetMax, Math.abs(v));
  return { depthMax: depthMax || 1, offsetMax: offsetMax || 1 };
}

/**
 * Writes a PNG grid: one row per scene; columns input, then for each task the truth followed by each
 * model's prediction (black where the model has no such head) and, with `options.uncertainty` (default),
 * each model's uncertainty map of that task where it has one — semantic entropy on [0, log C] nats,
 * instance σ (on instance pixels) and depth σ on [0, their 99th percentile] — in viridis, with the scales
 * in a caption under the grid. Each column is labelled.
 */
export async function renderSceneGrid(
  path: string,
  data: SceneBatch,
  models: readonly GridModel[],
  palette?: readonly (readonly [number, number, number])[],
  options: SceneGridOptions = {},
): Promise<void> {
  const { height: H, width: W } = data;
  const P = H * W;
  const withMaps = options.uncertainty ?? true;
  const indices = Array.from({ length: data.count }, (_, i) => i);
  const predictions: ScenePrediction[][] = models.map((m) =>
    predictScenes(m.model, m.tasks, data, indices, { uncertainty: withMaps }),
  );
  const { depthMax, offsetMax } = scales(data);
  const instanceMasks = indices.map((s) =>
    Uint8Array.from(data.instance.subarray(s * P, (s + 1) * P), (v) => (v > 0 ? 1 : 0)),
  );
  // which models draw which map, and the maps' colour scales
  const has = (key: 'semanticEntropy' | 'instanceSigma' | 'depthSigma') =>
    predictions.map((p) => p[0]?.[key] !== undefined);
  const mapModels = {
    semantic: has('semanticEntropy'),
    instance: has('instanceSigma'),
    depth: has('depthSigma'),
  };
  // the entropy's scale is fixed, [0, log C]: the semantic head (the first output) has C channels
  const semanticModel = models.find((m) => m.tasks.includes('semantic'));
  const numClasses = Number(semanticModel?.model.outputs[0]!.shape.at(-1) ?? 2);
  const entropyMax = Math.log(numClasses);
  const instanceSigmaMax = quantile(
    predictions.flatMap((p) => p.flatMap((q) => (q.instanceSigma ? [q.instanceSigma] : []))),
    0.99,
    predictions.flatMap((p) => p.flatMap((q, s) => (q.instanceSigma ? [instanceMasks[s]!] : []))),
  );
  const depthSigmaMax = quantile(
    predictions.flatMap((p) => p.flatMap((q) => (q.depthSigma ? [q.depthSigma] : []))),
    0.99,
  );
  const mapTile = (values: Float32Array, max: number, mask?: ArrayLike<number>): Tile => ({
    rgba: inverseDepthRgba(values, H, W, max > 0 ? max : 1, mask),
  });
  const tasks: SceneTask[] = orderedTasks(models.flatMap((m) => [...m.tasks]));
  const black = new Uint8ClampedArray(P * 4).fill(0);
  for (let i = 3; i < black.length; i += 4) black[i] = 255;
  const rows: Tile[][] = indices.map((s) => {
    const row: Tile[] = [{ rgba: sceneImageRgba(data, s) }];
    for (const task of tasks) {
      if (task === 'semantic') {
        row.push({ rgba: semanticRgba(data.semantic.subarray(s * P, (s + 1) * P), H, W, palette) });
        for (const p of predictions)
          row.push({ rgba: p[s]!.semantic ? semanticRgba(p[s]!.semantic, H, W, palette) : black });
        predictions.forEach((p, k) => {
          if (mapModels.semantic[k]) row.push(mapTile(p[s]!.semanticEntropy!, entropyMax));
        });
      } else if (task === 'instance') {
        const mask = instanceMasks[s]!;
        row.push({
          rgba: instanceOffsetRgba(
            data.instanceOffset.subarray(s * P * 2, (s + 1) * P * 2),
            H,
            W,
            offsetMax,
            mask,
          ),
        });
        for (const p of predictions) {
          row.push({
            rgba: p[s]!.instance ? instanceOffsetRgba(p[s]!.instance, H, W, offsetMax, mask) : black,
          });
        }
        predictions.forEach((p, k) => {
          if (mapModels.instance[k]) row.push(mapTile(p[s]!.instanceSigma!, instanceSigmaMax, mask));
        });
      } else {
        const mask = data.depthMask.subarray(s * P, (s + 1) * P);
        row.push({
          rgba: inverseDepthRgba(data.inverseDepth.subarray(s * P, (s + 1) * P), H, W, depthMax, mask),
        });
        for (const p of predictions)
          row.push({ rgba: p[s]!.depth ? inverseDepthRgba(p[s]!.depth, H, W, depthMax) : black });
        predictions.forEach((p, k) => {
          if (mapModels.depth[k]) row.push(mapTile(p[s]!.depthSigma!, depthSigmaMax));
        });
      }
    }
    return row;
  });
  const labels = ['input'];
  const mapName = { semantic: 'entropy', instance: 'σ', depth: 'σ' } as const;
  for (const task of tasks) {
    labels.push(`${task}: truth`);
    for (const m of models) labels.push(`${task}: ${m.label}`);
    models.forEach((m, k) => {
      if (mapModels[task][k])
        labels.push(`${task}: ${mapName[task]}${models.length > 1 ? ` (${m.label})` : ''}`);
    });
  }
  const captions: string[] = [];
  if (mapModels.semantic.some(Boolean))
    captions.push(`entropy 0–${short(entropyMax)} nats (ln ${numClasses}: uniform)`);
  if (mapModels.instance.some(Boolean)) captions.push(`instance σ 0–${short(instanceSigmaMax)} px`);
  if (mapModels.depth.some(Boolean)) captions.push(`inverse-depth σ 0–${short(depthSigmaMax)}`);
  const cols = rows[0]?.length ?? 0;
  const S = GRID_SCALE;
  const width = S * (cols * W + (cols - 1) * GAP);
  const height = S * (rows.length * H + (rows.length - 1) * GAP);
  const body = new Uint8ClampedArray(width * height * 4).fill(255);
  rows.forEach((row, r) =>
    row.forEach((tile, c) => {
      // nearest-neighbour upscaling: the pixels are the data
      for (let y = 0; y < H * S; y++) {
        const src = Math.floor(y / S) * W * 4;
        let dst = ((S * r * (H + GAP) + y) * width + S * c * (W + GAP)) * 4;
        for (let x = 0; x < W * S; x++, dst += 4) {
          const k = src + Math.floor(x / S) * 4;
          body[dst] = tile.rgba[k]!;
          body[dst + 1] = tile.rgba[k + 1]!;
          body[dst + 2] = tile.rgba[k + 2]!;
          body[dst + 3] = tile.rgba[k + 3]!;
        }
      }
    }),
  );
  const png = encode({ width, height, data: body, channels: 4, depth: 8 });
  const escape = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const footer = captions.length > 0 ? FOOTER : 0;
  // the colour bar (viridis, 0 → max) and the maps' scales (σ maps: up to their 99th percentile)
  const bar = Array.from({ length: 11 }, (_, i) => {
    const rgba = inverseDepthRgba([i / 10], 1, 1, 1);
    return `<rect x="${8 + 12 * i}" y="${HEADER + height + 8}" width="12" height="14" fill="rgb(${rgba[0]},${rgba[1]},${rgba[2]})"/>`;
  }).join('');
  const caption =
    footer > 0
      ? `${bar}<text x="${8 + 12 * 11 + 8}" y="${HEADER + height + 20}">${escape(
          `uncertainty colour scale 0 → max: ${captions.join('; ')}${
            mapModels.instance.some(Boolean) || mapModels.depth.some(Boolean)
              ? ' (σ max = 99th percentile shown)'
              : ''
          }`,
        )}</text>`
      : '';
  const texts = labels
    .slice(0, cols)
    .map(
      (label, c) =>
        `<text x="${S * c * (W + GAP) + (S * W) / 2}" y="${HEADER - 9}" text-anchor="middle">${escape(label)}</text>`,
    )
    .join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + HEADER + footer}">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<g font-family="DejaVu Sans" font-size="13" fill="#222">${texts}${caption}</g>` +
    `<image x="0" y="${HEADER}" width="${width}" height="${height}" image-rendering="pixelated" ` +
    `href="data:image/png;base64,${Buffer.from(png).toString('base64')}"/></svg>`;
  await writeFileAtomic(path, svgToPng(svg, { scale: 1 }));
}

const TASK_NAMES: Record<SceneTask, string> = { semantic: 'semantic', instance: 'instance', depth: 'depth' };

/** The sweep's metrics against the depth weight, with the learned semantic + depth result as a rule. */
export function sweepSpec(summaries: readonly SceneConfigSummary[]): TopLevelSpec {
  const rows: Record<string, unknown>[] = [];
  const rules: Record<string, unknown>[] = [];
  const metrics = [
    { key: 'iou', name: 'semantic IoU % (higher is better)' },
    { key: 'depth', name: 'inverse-depth error ×10⁻³ (lower is better)' },
  ] as const;
  for (const s of summaries) {
    for (const m of metrics) {
      const v = s.values[m.key];
      if (!v) continue;
      if (s.config.group === 'sweep') {
        const w = s.config.weights![1]!;
        rows.push({ depthWeight: w, metric: m.name, mean: v.mean, lo: v.mean - v.std, hi: v.mean + v.std });
      } else if (s.config.id === 'learned-semantic-depth') {
        rules.push({ metric: m.name, mean: v.mean, label: 'learned weights' });
      }
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: {
      values: [
        ...rows.map((r) => ({ ...r, kind: 'fixed' })),
        ...rules.map((r) => ({ ...r, kind: 'learned' })),
      ],
    },
    facet: { column: { field: 'metric', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 260,
      height: 200,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'fixed'" }],
          mark: { type: 'errorbar' },
          encoding: {
            x: { field: 'depthWeight', type: 'quantitative', title: 'depth weight (semantic = 1 − w)' },
            y: { field: 'lo', type: 'quantitative', title: null, scale: { zero: false } },
            y2: { field: 'hi' },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'fixed'" }],
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'depthWeight', type: 'quantitative' },
            y: { field: 'mean', type: 'quantitative', scale: { zero: false } },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'learned'" }],
          mark: { type: 'rule', color: '#d62728', strokeDash: [4, 3] },
          encoding: { y: { field: 'mean', type: 'quantitative' } },
        },
      ],
    },
  } as unknown as TopLevelSpec;
}

/** σ² = e^s against the step for every learned run, one panel per configuration. */
export function sigmaTrajectoriesSpec(
  configs: readonly SceneConfigInfo[],
  records: readonly SceneRunRecord[],
): TopLevelSpec {
  const values: Record<string, unknown>[] = [];
  for (const r of records) {
    const config = configs.find((c) => c.id === r.configId);
    if (!config || config.weighting !== 'uncertainty') continue;
    for (const e of r.log) {
      e.logVariances?.forEach((s, i) =>
        values.push({
          step: e.step,
          sigma2: Math.exp(s),
          task: TASK_NAMES[config.tasks[i]!],
          config: config.label,
          seed: r.seed,
        }),
      );
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    facet: { column: { field: 'config', type: 'nominal', title: null } },
    spec: {
      width: 200,
      height: 180,
      mark: { type: 'line' },
      encoding: {
        x: { field: 'step', type: 'quantitative' },
        y: { field: 'sigma2', type: 'quantitative', scale: { type: 'log' }, title: 'learned σ² = exp(s)' },
        color: { field: 'task', type: 'nominal' },
        detail: { field: 'seed', type: 'nominal' },
      },
    },
  } as unknown as TopLevelSpec;
}

/** Writes the experiment's figures into `out`; returns title → file (relative to `out`). */
export async function writeSceneFigures(
  out: string,
  configs: readonly SceneConfigInfo[],
  summaries: readonly SceneConfigSummary[],
  records: readonly SceneRunRecord[],
  backend = 'wasm',
): Promise<Record<string, string>> {
  const figures: Record<string, string> = {};
  if (summaries.some((s) => s.config.group === 'sweep')) {
    await writePlot(sweepSpec(summaries), join(out, 'sweep'));
    figures['fixed-weight sweep (Fig. 2)'] = 'sweep.png';
  }
  if (records.some((r) => configs.find((c) => c.id === r.configId)?.weighting === 'uncertainty')) {
    await writePlot(sigmaTrajectoriesSpec(configs, records), join(out, 'sigma'));
    figures['learned σ² during training'] = 'sigma.png';
  }
  // Run folders may keep only their metrics (the experiment commits the weights of these two alone).
  const gridRuns = ['unweighted', 'learned-all']
    .map((id) => records.find((r) => r.configId === id && r.seed === 0))
    .filter((r): r is SceneRunRecord => r !== undefined && existsSync(join(out, r.dir, 'weights.bin')));
  const gridTitle =
    'qualitative: input, then per task the truth, the unweighted sum and learned weights (seed 0)';
  if (gridRuns.length === 0 && existsSync(join(out, 'qualitative.png')))
    figures[gridTitle] = 'qualitative.png';
  if (gridRuns.length > 0) {
    await setupBackend(backend);
    const loaded = await Promise.all(gridRuns.map((r) => loadSceneModel(join(out, r.dir))));
    try {
      const data = testScenes(loaded[0]!.config, 4);
      await renderSceneGrid(
        join(out, 'qualitative.png'),
        data,
        loaded.map((l, i) => ({ label: gridRuns[i]!.configId, model: l.model, tasks: l.tasks })),
        undefined,
        { uncertainty: false },
      );
      figures[gridTitle] = 'qualitative.png';
    } finally {
      loaded.forEach((l) => l.model.dispose());
    }
  }
  return figures;
}
