import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { setupBackend } from '../node/backend.js';
import {
  runSceneExperiment,
  SCENE_EXPERIMENT_DEFAULTS,
  type SceneExperimentOptions,
} from '../node/scenes-experiment.js';
import { renderSceneGrid } from '../node/scenes-figures.js';
import { loadSceneModel, runSceneTraining, testScenes } from '../node/scenes-run.js';
import { parseSceneRunConfig, type SceneRunConfig } from '../scenes/config.js';
import { evaluateSceneModel, type SceneMetrics } from '../scenes/evaluate.js';
import { SCENE_TASKS } from '../scenes/model.js';
import { SCENE_CLASSES } from '../data/synthetic/scenes.js';
import { timestamp } from './demo.js';
import { UsageError } from './errors.js';
import { nonNegativeInt, numberList, positiveInt, positiveNumber } from './parse.js';
import { createProgress } from './progress.js';

interface SceneTrainFlags {
  config?: string;
  tasks?: string;
  weighting?: string;
  weights?: number[];
  steps?: number;
  batchSize?: number;
  lr?: number;
  sigmaLr?: number;
  seed?: number;
  dataSeed?: number;
  trainScenes?: number;
  testScenes?: number;
  height?: number;
  width?: number;
  out?: string;
  backend: string;
  quiet?: boolean;
}

function taskList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Flags override the config file; the file's errors name the file, the flags' the command line. */
async function sceneConfig(flags: SceneTrainFlags): Promise<SceneRunConfig> {
  let raw: Record<string, unknown> = {};
  if (flags.config !== undefined) {
    let text: string;
    try {
      text = await readFile(flags.config, 'utf8');
    } catch {
      throw new UsageError(`--config: cannot read '${flags.config}'`);
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`${flags.config}: not valid JSON (${(err as Error).message})`);
    }
    parseSceneRunConfig(raw, flags.config);
  }
  const fromFlags: Record<string, unknown> = {
    tasks: flags.tasks !== undefined ? taskList(flags.tasks) : undefined,
    weighting: flags.weighting,
    weights: flags.weights,
    steps: flags.steps,
    batchSize: flags.batchSize,
    lr: flags.lr,
    sigmaLr: flags.sigmaLr,
    seed: flags.seed,
    dataSeed: flags.dataSeed,
    trainScenes: flags.trainScenes,
    testScenes: flags.testScenes,
    height: flags.height,
    width: flags.width,
    out: flags.out,
  };
  for (const [k, v] of Object.entries(fromFlags)) if (v !== undefined) raw[k] = v;
  if (flags.weights !== undefined && flags.weighting === undefined) raw['weighting'] = 'fixed';
  return parseSceneRunConfig(
    raw,
    flags.config !== undefined ? `${flags.config} + command line` : 'command line',
  );
}

export function formatSceneMetrics(m: SceneMetrics): string {
  const rows: string[] = [];
  const f = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
  if (m.semantic) {
    rows.push(
      `semantic   mean IoU ${f(100 * m.semantic.meanIoU, 1)} %   pixel accuracy ${f(100 * m.semantic.pixelAccuracy, 1)} %`,
    );
  }
  if (m.instance) {
    rows.push(
      `instance   vector error ${f(m.instance.vectorError, 3)} px   AP50 ${f(100 * m.instance.ap50, 1)} %   matched IoU ${f(100 * m.instance.meanMatchedIoU, 1)} %`,
    );
  }
  if (m.depth)
    rows.push(
      `depth      inverse-depth error ${f(m.depth.meanAbsError, 4)} 1/m   RMSE ${f(m.depth.rmse, 4)}`,
    );
  return rows.join('\n');
}

function trainSubcommand(): Command {
  return new Command('train')
    .description('train the three-task scene network (or a subset) on synthetic street scenes')
    .option('--config <file>', 'a JSON config (flags override it)')
    .option('--tasks <list>', `comma-separated subset of ${SCENE_TASKS.join(',')}`)
    .option('--weighting <name>', 'uncertainty (learned) or fixed')
    .option('--weights <list>', 'fixed task weights, in task order (implies --weighting fixed)', numberList)
    .option('--steps <n>', 'optimiser steps (default 800)', positiveInt)
    .option('--batch-size <n>', 'scenes per step (default 8)', positiveInt)
    .option('--lr <rate>', 'Adam learning rate, poly-decayed (default 2e-3)', positiveNumber)
    .option('--sigma-lr <rate>', 'learning rate of the log-variances (default 0.02)', positiveNumber)
    .option('--seed <n>', 'model initialisation and batch order (default 0)', nonNegativeInt)
    .option('--data-seed <n>', 'scene generator seed (default 0)', nonNegativeInt)
    .option('--train-scenes <n>', 'training scenes (default 2000)', positiveInt)
    .option('--test-scenes <n>', 'test scenes (default 200)', positiveInt)
    .option('--height <px>', 'image height (default 64)', positiveInt)
    .option('--width <px>', 'image width (default 128)', positiveInt)
    .option('--out <dir>', 'model folder (default runs/scenes-<time>)')
    .option('--backend <name>', 'wasm or cpu', 'wasm')
    .option('--quiet', 'no progress output')
    .action(async (flags: SceneTrainFlags) => {
      const config = await sceneConfig(flags);
      const out = resolve(config.out ?? `runs/scenes-${timestamp()}`);
      await setupBackend(flags.backend);
      const quiet = flags.quiet ?? false;
      const progress = createProgress('scenes', config.steps, ['loss', 'σ²'], quiet);
      const result = await runSceneTraining({ ...config, out }, (e) => {
        progress.update(e.step, {
          loss: e.losses.map((v) => v.toFixed(3)).join('/'),
          'σ²': e.logVariances ? e.logVariances.map((s) => Math.exp(s).toPrecision(3)).join('/') : '–',
        });
      });
      progress.stop();
      if (!quiet) {
        process.stdout.write(
          `${formatSceneMetrics(result.metrics)}\n${result.log.at(-1)?.step ?? 0} steps, ${result.stepMs.toFixed(0)} ms/step; model in ${out}\n`,
        );
      }
    });
}

interface SceneEvalFlags {
  scenes?: number;
  dataSeed?: number;
  backend: string;
  json?: boolean;
}

function evalSubcommand(): Command {
  return new Command('eval')
    .description("evaluate a trained scene model on fresh test scenes (Table 1's metrics)")
    .argument('<model-dir>', 'a folder written by `tfjs-mtl scenes train`')
    .option('--scenes <n>', 'test scenes (default: the run config)', positiveInt)
    .option('--data-seed <n>', 'scene seed (default: the run config)', nonNegativeInt)
    .option('--backend <name>', 'wasm or cpu', 'wasm')
    .option('--json', 'print JSON')
    .action(async (dir: string, flags: SceneEvalFlags) => {
      await setupBackend(flags.backend);
      const { model, config, tasks } = await loadSceneModel(dir);
      try {
        const c = { ...config, dataSeed: flags.dataSeed ?? config.dataSeed };
        const data = testScenes(c, flags.scenes ?? config.testScenes);
        const metrics = evaluateSceneModel(model, tasks, data, SCENE_CLASSES.length);
        process.stdout.write(
          flags.json ? JSON.stringify(metrics, null, 2) + '\n' : formatSceneMetrics(metrics) + '\n',
        );
      } finally {
        model.dispose();
      }
    });
}

interface SceneShowFlags {
  scenes: number;
  dataSeed?: number;
  out?: string;
  backend: string;
}

function showSubcommand(): Command {
  return new Command('show')
    .description('render input, truth and prediction of each task for a few test scenes to a PNG')
    .argument('<model-dir>', 'a folder written by `tfjs-mtl scenes train`')
    .option('--scenes <n>', 'how many scenes', positiveInt, 4)
    .option('--data-seed <n>', 'scene seed (default: the run config)', nonNegativeInt)
    .option('--out <file>', 'PNG path (default <model-dir>/scenes.png)')
    .option('--backend <name>', 'wasm or cpu', 'wasm')
    .action(async (dir: string, flags: SceneShowFlags) => {
      await setupBackend(flags.backend);
      const { model, config, tasks } = await loadSceneModel(dir);
      try {
        const c = { ...config, dataSeed: flags.dataSeed ?? config.dataSeed };
        const data = testScenes(c, flags.scenes);
        const out = resolve(flags.out ?? `${dir}/scenes.png`);
        await renderSceneGrid(out, data, [{ label: 'prediction', model, tasks }]);
        process.stdout.write(`${out}\n`);
      } finally {
        model.dispose();
      }
    });
}

type SceneExperimentFlags = Omit<SceneExperimentOptions, 'onProgress'> & { quiet?: boolean };

function experimentSubcommand(): Command {
  const d = SCENE_EXPERIMENT_DEFAULTS;
  return new Command('experiment')
    .description(
      "the paper's Table 1 on synthetic scenes: single-task, unweighted, fixed-weight grid and learned weights; resumes cached runs",
    )
    .option('--out <dir>', 'results folder', d.out)
    .option('--steps <n>', 'steps of every run', positiveInt, d.steps)
    .option('--seeds <n>', 'seeds per configuration', positiveInt, d.seeds)
    .option('--jobs <n>', 'parallel training processes', positiveInt, Math.min(2, availableParallelism()))
    .option('--train-scenes <n>', 'training scenes', positiveInt, d.trainScenes)
    .option('--test-scenes <n>', 'test scenes', positiveInt, d.testScenes)
    .option('--height <px>', 'image height', positiveInt, d.height)
    .option('--width <px>', 'image width', positiveInt, d.width)
    .option('--backend <name>', 'wasm or cpu', 'wasm')
    .option('--quiet', 'no progress output')
    .action(async (flags: SceneExperimentFlags) => {
      const { quiet = false, ...options } = flags;
      const result = await runSceneExperiment({
        ...options,
        out: resolve(options.out),
        onProgress: quiet
          ? undefined
          : (p) =>
              process.stderr.write(
                `[${p.done}/${p.total}] ${p.state} ${p.run}${p.error ? `: ${p.error}` : ''}\n`,
              ),
      });
      if (!quiet) process.stdout.write(`${result.markdownPath}\n`);
      if (result.failed.length > 0) {
        throw new Error(
          `${result.failed.length} run(s) failed: ${result.failed.map((f) => f.run).join(', ')}`,
        );
      }
    });
}

export function scenesCommand(): Command {
  return new Command('scenes')
    .description("the paper's scene geometry & semantics system on synthetic street scenes")
    .addCommand(trainSubcommand())
    .addCommand(evalSubcommand())
    .addCommand(showSubcommand())
    .addCommand(experimentSubcommand());
}
