/**
 * The paper's Table 1 on synthetic scenes: every configuration × seed trained in a child process
 * (`tfjs-mtl scenes train --config`), cached by run folder (reused only under the same settings),
 * checkpointed and resumed, optionally one shard at a time, then tabulated with figures.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, realpath, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { inShard, type Shard } from '../cli/parse.js';
import { parseSceneRunConfig, type SceneRunConfig } from '../scenes/config.js';
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
import { loadCheckpoint, removeCheckpoints, settingsDifference } from './checkpoint-store.js';
import { runCliInChild } from './cli-child.js';
import { writeSceneFigures } from './scenes-figures.js';
import { SCENE_LOG_FILE, SCENE_METRICS_FILE, SCENE_RUN_FILE } from './scenes-run.js';

/** The committed experiment's settings (the defaults of `tfjs-mtl scenes experiment`). */
export const SCENE_EXPERIMENT_DEFAULTS = Object.freeze({
  out: 'experiments/scenes',
  steps: 1000,
  seeds: 2,
  trainScenes: 2000,
  testScenes: 200,
  height: 64,
  width: 128,
  /** Steps between a run's checkpoints (rounded to the 25-step log interval). */
  checkpointEvery: 100,
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

/** What happened to one run: reused, trained from scratch, continued from its checkpoint, finished or failed. */
export interface SceneExperimentProgress {
  run: string;
  state: 'cached' | 'started' | 'resumed' | 'done' | 'failed';
  /** Runs of this command (its shard) finished so far, and how many it has. */
  done: number;
  total: number;
  error?: string;
  /** Why a run is trained (again, or afresh): the setting that differed, or a checkpoint that is unusable. */
  note?: string;
}

/** Settings of `runSceneExperiment`; the sweep's own settings (steps … width) make up every run's config. */
export interface SceneExperimentOptions {
  /** The experiment folder: configs/, runs/ and the tables and figures. */
  out: string;
  steps: number;
  seeds: number;
  jobs: number;
  trainScenes: number;
  testScenes: number;
  height: number;
  width: number;
  backend: string;
  /** wasm threads of each training process (default: the child's own default). */
  threads?: number;
  /** Train only this share of the runs, and write no tables (a later run without a shard writes them). */
  shard?: Shard;
  /** Steps between checkpoints of each run (default SCENE_EXPERIMENT_DEFAULTS.checkpointEvery; 0 = none). */
  checkpointEvery?: number;
  onProgress?: (p: SceneExperimentProgress) => void;
}

/** What `runSceneExperiment` did; tables (summaries, markdownPath) only without a shard. */
export interface SceneExperimentResult {
  summaries: SceneConfigSummary[];
  failed: { run: string; error: string }[];
  /** results.md, or undefined when a shard was run (no tables written). */
  markdownPath: string | undefined;
  /** Runs trained (or continued) by this command, and runs reused as finished. */
  trained: string[];
  reused: string[];
}

/** A run config of the experiment with `out` relative to the experiment folder (as written to configs/). */
function relativeRunConfig(run: SceneRunConfig, name: string): SceneRunConfig {
  return { ...run, out: join('runs', name) };
}

/**
 * How a recorded run config (scene-run.json, or a checkpoint's settings) differs from `wanted`, both with
 * their defaults filled in — "with lr 0.003, this command has 0.002" — or undefined when it does not;
 * `dataset` is ignored, and `out` unless `compareOut`.
 */
function sceneRunDifference(
  recorded: Record<string, unknown>,
  wanted: SceneRunConfig,
  compareOut = false,
): string | undefined {
  const { out: recordedOut, ...rest } = recorded;
  delete rest['dataset'];
  let a: Record<string, unknown>;
  try {
    a = parseSceneRunConfig(compareOut ? { ...rest, out: recordedOut } : rest, 'recorded settings');
  } catch (err) {
    return `with settings this version cannot read (${(err as Error).message.split('\n')[0]!})`;
  }
  const b: Record<string, unknown> = { ...wanted };
  if (!compareOut) delete b['out'];
  return settingsDifference(a, b);
}

type RunPlan = { kind: 'finished' } | { kind: 'train'; resume: boolean; note?: string };

/**
 * Whether run `run` (its absolute `out` as the training child will see it) is finished under the same
 * settings, can continue from its checkpoint, or must be trained from scratch — clearing what is stale.
 */
async function planRun(run: SceneRunConfig): Promise<RunPlan> {
  const dir = run.out!;
  const checkpointDir = `${dir}.checkpoint`;
  let note: string | undefined;
  if (existsSync(join(dir, SCENE_METRICS_FILE))) {
    let recorded: Record<string, unknown> | undefined;
    try {
      recorded = JSON.parse(await readFile(join(dir, SCENE_RUN_FILE), 'utf8')) as Record<string, unknown>;
    } catch (err) {
      note = `retraining: its ${SCENE_RUN_FILE} is unreadable (${(err as Error).message})`;
    }
    const diff = recorded && sceneRunDifference(recorded, run);
    if (recorded && !diff) {
      // a run killed between saving its model and removing its checkpoints
      await removeCheckpoints(checkpointDir);
      return { kind: 'finished' };
    }
    if (diff) note = `retraining: it was trained ${diff}`;
    // the stale run folder goes, so the new run can take its place
    await rm(dir, { recursive: true, force: true });
    await removeCheckpoints(checkpointDir);
    return { kind: 'train', resume: false, ...(note ? { note } : {}) };
  }
  if (!existsSync(checkpointDir)) return { kind: 'train', resume: false };
  try {
    const stored = await loadCheckpoint<Record<string, unknown>>(checkpointDir);
    const diff = stored && sceneRunDifference(stored.settings, run, true);
    if (stored && !diff) return { kind: 'train', resume: true };
    if (diff) note = `starting afresh: its checkpoint was made ${diff}`;
  } catch (err) {
    note = `starting afresh: ${(err as Error).message}`;
  }
  await removeCheckpoints(checkpointDir);
  return { kind: 'train', resume: false, ...(note ? { note } : {}) };
}

/**
 * Runs (or reuses) every run of the sweep — or, with `shard`, only that share of them — then, without a
 * shard, writes results.json, results.md and the figures into `out`. A finished run is reused only when
 * its scene-run.json records the settings this command would train with; an unfinished one continues from
 * its checkpoint.
 */
export async function runSceneExperiment(options: SceneExperimentOptions): Promise<SceneExperimentResult> {
  const out = resolve(options.out);
  const configs = sceneExperimentConfigs();
  await mkdir(join(out, 'configs'), { recursive: true });
  // the training child runs in the experiment folder, where getcwd() reports the real path
  const realOut = await realpath(out);
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
        uncertainty: 'homoscedastic',
        seed,
        dataSeed: 0,
        trainScenes: options.trainScenes,
        testScenes: options.testScenes,
        height: options.height,
        width: options.width,
        encoderChannels: [16, 32, 64],
        asppChannels: 32,
        decoderChannels: 32,
        out: join(realOut, 'runs', name),
        split: 'train',
        evalSplit: 'val',
        skipBad: false,
      };
      runs.push({ name, config, seed, run });
    }
  }
  const failed: SceneExperimentResult['failed'] = [];
  const trained: string[] = [];
  const reused: string[] = [];
  const mine = runs.filter((_, k) => inShard(k, options.shard));
  const checkpointEvery = options.checkpointEvery ?? SCENE_EXPERIMENT_DEFAULTS.checkpointEvery;
  let done = 0;
  const queue = [...mine];
  const worker = async () => {
    for (let r = queue.shift(); r; r = queue.shift()) {
      const report = options.onProgress;
      const total = mine.length;
      const plan = await planRun(r.run);
      if (plan.kind === 'finished') {
        reused.push(r.name);
        report?.({ run: r.name, state: 'cached', done: ++done, total });
        continue;
      }
      // paths in the config are relative to the experiment folder, where the child runs
      const configFile = join('configs', `${r.name}.json`);
      await writeFileAtomic(
        join(out, configFile),
        JSON.stringify(relativeRunConfig(r.run, r.name), null, 2) + '\n',
      );
      trained.push(r.name);
      report?.({
        run: r.name,
        state: plan.resume ? 'resumed' : 'started',
        done,
        total,
        ...(plan.note ? { note: plan.note } : {}),
      });
      const error = await runCliInChild(
        [
          'scenes',
          'train',
          '--config',
          configFile,
          '--quiet',
          '--backend',
          options.backend,
          ...(options.threads !== undefined ? ['--threads', String(options.threads)] : []),
          '--checkpoint-every',
          String(checkpointEvery),
          ...(plan.resume ? ['--resume'] : []),
        ],
        { cwd: realOut },
      );
      if (error) failed.push({ run: r.name, error });
      else await relativizeRecordedOut(r.run.out!, r.name);
      report?.({
        run: r.name,
        state: error ? 'failed' : 'done',
        done: ++done,
        total,
        ...(error ? { error } : {}),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, worker));
  if (options.shard) return { summaries: [], failed, markdownPath: undefined, trained, reused };

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
      dir: relative(realOut, dir),
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
  return { summaries, failed, markdownPath, trained, reused };
}

/** scene-run.json records `out` relative to the experiment folder, so the folder can move (or be committed). */
async function relativizeRecordedOut(dir: string, name: string): Promise<void> {
  const file = join(dir, SCENE_RUN_FILE);
  const recorded = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  await writeFileAtomic(file, JSON.stringify({ ...recorded, out: join('runs', name) }, null, 2) + '\n');
}
