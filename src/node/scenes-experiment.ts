/**
 * The paper's Table 1 on synthetic scenes: every configuration × seed trained in a child process
 * (`tfjs-mtl scenes train --config`), cached by run folder, then tabulated with figures.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { SceneRunConfig } from '../scenes/config.js';
import type { SceneMetrics } from '../scenes/evaluate.js';
import type { SceneTask } from '../scenes/model.js';
import type { SceneLogEntry } from '../scenes/train.js';
import {
  summarizeSceneRuns,
  sceneResultsMarkdown,
  type SceneConfigSummary,
  type SceneRunRecord,
} from '../scenes/experiment-summary.js';
import { writeFileAtomic } from './atomic-write.js';
import { runCliInChild } from './cli-child.js';
import { writeSceneFigures } from './scenes-figures.js';
import { SCENE_LOG_FILE, SCENE_METRICS_FILE } from './scenes-run.js';

export const SCENE_EXPERIMENT_DEFAULTS = Object.freeze({
  out: 'experiments/scenes',
  steps: 1000,
  seeds: 2,
  trainScenes: 2000,
  testScenes: 200,
  height: 64,
  width: 128,
});

/** One configuration of the experiment (a row of the table). */
export interface SceneExperimentConfig {
  /** Folder-safe id. */
  id: string;
  label: string;
  group: 'single' | 'fixed' | 'sweep' | 'learned';
  tasks: SceneTask[];
  weighting: 'uncertainty' | 'fixed';
  weights?: number[];
}

const ALL: SceneTask[] = ['semantic', 'instance', 'depth'];
const THIRD = 1 / 3;

/** Weights of depth in the semantic + depth sweep (the paper's Fig. 2); semantic gets 1 − w. */
export const SWEEP_DEPTH_WEIGHTS = Object.freeze([0.05, 0.25, 0.5, 0.75, 0.95]);

/** The fixed 3-task grid (semantic, instance, depth); the first is the unweighted sum, the second the
 * paper's approximately optimal weights. */
export const FIXED_GRID: readonly (readonly [number, number, number])[] = Object.freeze([
  [THIRD, THIRD, THIRD],
  [0.89, 0.01, 0.1],
  [0.5, 0.01, 0.49],
  [0.1, 0.01, 0.89],
]);

const fmtW = (w: readonly number[]) => w.map((v) => (Math.abs(v - THIRD) < 1e-9 ? '⅓' : String(v))).join('/');

/** The configurations, most important first (an interrupted experiment has the table rows first). */
export function sceneExperimentConfigs(): SceneExperimentConfig[] {
  const configs: SceneExperimentConfig[] = [];
  configs.push({
    id: 'learned-all',
    label: 'learned, all three',
    group: 'learned',
    tasks: ALL,
    weighting: 'uncertainty',
  });
  FIXED_GRID.forEach((w, i) =>
    configs.push({
      id: i === 0 ? 'unweighted' : `fixed-${w.join('-')}`,
      label: i === 0 ? 'unweighted sum' : `fixed ${fmtW(w)}`,
      group: 'fixed',
      tasks: ALL,
      weighting: 'fixed',
      weights: [...w],
    }),
  );
  for (const t of ALL) {
    configs.push({
      id: `single-${t}`,
      label: `${t} only`,
      group: 'single',
      tasks: [t],
      weighting: 'fixed',
      weights: [1],
    });
  }
  const pairs: [SceneTask, SceneTask][] = [
    ['semantic', 'instance'],
    ['semantic', 'depth'],
    ['instance', 'depth'],
  ];
  for (const [a, b] of pairs) {
    configs.push({
      id: `learned-${a}-${b}`,
      label: `learned, ${a} + ${b}`,
      group: 'learned',
      tasks: [a, b],
      weighting: 'uncertainty',
    });
  }
  for (const w of SWEEP_DEPTH_WEIGHTS) {
    configs.push({
      id: `sweep-depth-${w}`,
      label: `semantic + depth, depth weight ${w}`,
      group: 'sweep',
      tasks: ['semantic', 'depth'],
      weighting: 'fixed',
      weights: [Number((1 - w).toFixed(10)), w],
    });
  }
  return configs;
}

export interface SceneExperimentOptions {
  out: string;
  steps: number;
  seeds: number;
  jobs: number;
  trainScenes: number;
  testScenes: number;
  height: number;
  width: number;
  backend: string;
  onProgress?: (p: {
    run: string;
    state: 'cached' | 'started' | 'done' | 'failed';
    done: number;
    total: number;
    error?: string;
  }) => void;
}

export interface SceneExperimentResult {
  summaries: SceneConfigSummary[];
  failed: { run: string; error: string }[];
  markdownPath: string;
}

/** Runs (or reuses) every run, then writes results.json, results.md and the figures into `out`. */
export async function runSceneExperiment(options: SceneExperimentOptions): Promise<SceneExperimentResult> {
  const { out } = options;
  const configs = sceneExperimentConfigs();
  const runs: { name: string; config: SceneExperimentConfig; seed: number; run: SceneRunConfig }[] = [];
  for (const config of configs) {
    for (let seed = 0; seed < options.seeds; seed++) {
      const name = `${config.id}-seed${seed}`;
      const run: SceneRunConfig = {
        tasks: config.tasks,
        weighting: config.weighting,
        ...(config.weights ? { weights: config.weights } : {}),
        steps: options.steps,
        batchSize: 8,
        lr: 2e-3,
        sigmaLr: 0.02,
        seed,
        dataSeed: 0,
        trainScenes: options.trainScenes,
        testScenes: options.testScenes,
        height: options.height,
        width: options.width,
        encoderChannels: [16, 32, 64],
        asppChannels: 32,
        decoderChannels: 32,
        out: join(out, 'runs', name),
        split: 'train',
        evalSplit: 'val',
        skipBad: false,
      };
      runs.push({ name, config, seed, run });
    }
  }
  await mkdir(join(out, 'configs'), { recursive: true });
  const failed: SceneExperimentResult['failed'] = [];
  let done = 0;
  const queue = [...runs];
  const worker = async () => {
    for (let r = queue.shift(); r; r = queue.shift()) {
      const report = options.onProgress;
      if (existsSync(join(r.run.out!, SCENE_METRICS_FILE))) {
        report?.({ run: r.name, state: 'cached', done: ++done, total: runs.length });
        continue;
      }
      const configPath = join(out, 'configs', `${r.name}.json`);
      await writeFileAtomic(configPath, JSON.stringify(r.run, null, 2) + '\n');
      report?.({ run: r.name, state: 'started', done, total: runs.length });
      const error = await runCliInChild([
        'scenes',
        'train',
        '--config',
        configPath,
        '--quiet',
        '--backend',
        options.backend,
      ]);
      if (error) failed.push({ run: r.name, error });
      report?.({
        run: r.name,
        state: error ? 'failed' : 'done',
        done: ++done,
        total: runs.length,
        ...(error ? { error } : {}),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, worker));

  const records: SceneRunRecord[] = [];
  for (const r of runs) {
    if (failed.some((f) => f.run === r.name)) continue;
    const dir = r.run.out!;
    const metrics = JSON.parse(await readFile(join(dir, SCENE_METRICS_FILE), 'utf8')) as SceneMetrics;
    const logFile = JSON.parse(await readFile(join(dir, SCENE_LOG_FILE), 'utf8')) as {
      log: SceneLogEntry[];
      trainSeconds: number;
      stepMs: number;
    };
    records.push({
      configId: r.config.id,
      seed: r.seed,
      metrics,
      log: logFile.log,
      trainSeconds: logFile.trainSeconds,
      stepMs: logFile.stepMs,
      dir: relative(out, dir),
    });
  }
  const summaries = summarizeSceneRuns(configs, records);
  const command =
    `tfjs-mtl scenes experiment --out ${relative(process.cwd(), out) || '.'} --steps ${options.steps} --seeds ${options.seeds}` +
    ` --train-scenes ${options.trainScenes} --test-scenes ${options.testScenes} --height ${options.height} --width ${options.width}`;
  const figures = await writeSceneFigures(out, configs, summaries, records, options.backend);
  const markdown = sceneResultsMarkdown(summaries, {
    command,
    steps: options.steps,
    seeds: options.seeds,
    figures,
  });
  const markdownPath = join(out, 'results.md');
  await writeFileAtomic(markdownPath, markdown);
  await writeFileAtomic(
    join(out, 'results.json'),
    JSON.stringify(
      {
        command,
        settings: {
          steps: options.steps,
          seeds: options.seeds,
          jobs: options.jobs,
          trainScenes: options.trainScenes,
          testScenes: options.testScenes,
          height: options.height,
          width: options.width,
          backend: options.backend,
        },
        configs,
        summaries,
        runs: records.map(({ log, ...rest }) => ({ ...rest, finalLog: log.at(-1) })),
        failed,
      },
      null,
      2,
    ) + '\n',
  );
  return { summaries, failed, markdownPath };
}
