import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { defaultThreads, setupBackend } from '../node/backend.js';
import {
  runSceneExperiment,
  SCENE_EXPERIMENT_DEFAULTS,
  type SceneExperimentOptions,
} from '../node/scenes-experiment.js';
import { renderSceneGrid } from '../node/scenes-figures.js';
import { loadSceneModel, openRunData, runSceneTraining, testScenes } from '../node/scenes-run.js';
import { SCENE_DATA_FORMATS, type SceneDataFormat } from '../node/scene-data/datasets.js';
import { writeCityscapesScenes, writeFoldersScenes } from '../node/scene-data/export.js';
import { parseSceneRunConfig, type SceneRunConfig } from '../scenes/config.js';
import { framesToSceneBatch, loadFrames, memorySceneSource, type SceneSource } from '../scenes/data.js';
import { evaluateSceneModel, type SceneMetrics } from '../scenes/evaluate.js';
import { SCENE_TASKS } from '../scenes/model.js';
import { SCENE_CLASSES } from '../data/synthetic/scenes.js';
import { timestamp } from './demo.js';
import { reportDivergence, UsageError } from './errors.js';
import {
  nonNegativeInt,
  numberList,
  positiveInt,
  positiveNumber,
  shard,
  threadsOption,
  threadsPerJob,
} from './parse.js';
import { createProgress } from './progress.js';

interface SceneTrainFlags {
  threads?: number;
  config?: string;
  tasks?: string;
  weighting?: string;
  weights?: number[];
  uncertainty?: string;
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
  data?: string;
  format?: string;
  split?: string;
  evalSplit?: string;
  augment?: boolean;
  skipBad?: boolean;
  checkpointEvery: number;
  resume?: boolean;
  onNan?: 'stop' | 'skip';
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
    uncertainty: flags.uncertainty,
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
    data: flags.data,
    format: flags.format,
    split: flags.split,
    evalSplit: flags.evalSplit,
    augment: flags.augment,
    skipBad: flags.skipBad,
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

function formatOption(value: string): SceneDataFormat {
  if (!(SCENE_DATA_FORMATS as readonly string[]).includes(value))
    throw new UsageError(`--format must be one of ${SCENE_DATA_FORMATS.join(', ')}, got '${value}'`);
  return value as SceneDataFormat;
}

function trainSubcommand(): Command {
  return new Command('train')
    .description(
      'train the three-task scene network (or a subset) on a dataset folder (--data) or on generated street scenes',
    )
    .option('--config <file>', 'a JSON config (flags override it)')
    .option('--data <dir>', 'dataset folder: the Cityscapes layout or `folders` (see docs/scenes.md)')
    .option(
      '--format <name>',
      `dataset layout, ${SCENE_DATA_FORMATS.join(' or ')} (default: detected)`,
      formatOption,
    )
    .option('--split <name>', 'dataset split to train on (default train)')
    .option('--eval-split <name>', 'dataset split evaluated after training, if present (default val)')
    .option('--no-augment', 'no random zoom-crop and flip (on by default with --data)')
    .option('--skip-bad', 'leave out frames with bad files and say how many, instead of stopping')
    .option('--tasks <list>', `comma-separated subset of ${SCENE_TASKS.join(',')}`)
    .option('--weighting <name>', 'uncertainty (learned) or fixed')
    .option('--weights <list>', 'fixed task weights, in task order (implies --weighting fixed)', numberList)
    .addOption(
      new Option(
        '--uncertainty <kind>',
        "homoscedastic: one learned σ per task (default); heteroscedastic: instance and depth heads also predict a per-pixel scale (Laplace NLL; learned weighting then learns only the semantic task's σ)",
      ).choices(['homoscedastic', 'heteroscedastic']),
    )
    .option('--steps <n>', 'optimiser steps (default 800)', positiveInt)
    .option('--batch-size <n>', 'frames per step (default 8)', positiveInt)
    .option('--lr <rate>', 'Adam learning rate, poly-decayed (default 2e-3)', positiveNumber)
    .option('--sigma-lr <rate>', 'learning rate of the log-variances (default 0.02)', positiveNumber)
    .option('--seed <n>', 'model initialisation, batch order and augmentation (default 0)', nonNegativeInt)
    .option('--data-seed <n>', 'generated scenes: generator seed (default 0)', nonNegativeInt)
    .option('--train-scenes <n>', 'generated scenes: training scenes (default 2000)', positiveInt)
    .option('--test-scenes <n>', 'generated scenes: test scenes (default 200)', positiveInt)
    .option('--height <px>', 'frame height the network sees (default 64)', positiveInt)
    .option('--width <px>', 'frame width the network sees (default 128)', positiveInt)
    .option('--out <dir>', 'model folder (default runs/scenes-<time>)')
    .option(
      '--checkpoint-every <steps>',
      'save a checkpoint into <out>.checkpoint/ every this many steps, rounded to the 25-step log interval (0 = never)',
      nonNegativeInt,
      100,
    )
    .option('--resume', 'continue the run in --out from its last checkpoint (same settings)')
    .addOption(
      new Option(
        '--on-nan <policy>',
        'a step with a NaN/infinite loss: stop the run, or skip the step (default stop)',
      ).choices(['stop', 'skip']),
    )
    .option('--backend <name>', 'wasm or cpu', 'wasm')
    .addOption(threadsOption())
    .option('--quiet', 'no progress output')
    .action(async (flags: SceneTrainFlags, command: Command) => {
      // commander sets augment to true unless --no-augment: only an explicit flag overrides the config
      if (command.getOptionValueSource('augment') === 'default') delete flags.augment;
      const config = await sceneConfig(flags);
      if (flags.resume && config.out === undefined)
        throw new UsageError('--resume needs --out: the folder of the run to continue');
      const out = resolve(config.out ?? `runs/scenes-${timestamp()}`);
      await setupBackend(flags.backend, {
        ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
        onNotice: (m) => process.stderr.write(`note: ${m}\n`),
      });
      const quiet = flags.quiet ?? false;
      let skipped = 0;
      const progress = createProgress('scenes', config.steps, ['loss', 'σ²'], quiet);
      const result = await runSceneTraining(
        { ...config, out },
        {
          checkpointEvery: flags.checkpointEvery,
          resume: flags.resume ?? false,
          ...(flags.onNan ? { onNonFinite: flags.onNan } : {}),
          onWarning: (message) => process.stderr.write(`warning: ${message}\n`),
          onLog: (e) => {
            progress.update(e.step, {
              loss: e.losses.map((v) => v.toFixed(3)).join('/'),
              'σ²': e.logVariances ? e.logVariances.map((v) => Math.exp(v).toPrecision(3)).join('/') : '–',
            });
          },
          onSkip: (err) => {
            skipped++;
            if (!quiet) process.stderr.write(`skipped ${err.message}\n`);
          },
        },
      ).catch((err: unknown) => {
        progress.stop();
        throw reportDivergence(err, `${out}.checkpoint`);
      });
      progress.stop();
      const notes: string[] = [];
      if (result.dataset.dropped.length > 0)
        notes.push(`not trained (no labels in the data): ${result.dataset.dropped.join(', ')}`);
      if (skipped > 0) notes.push(`${skipped} bad frame(s) skipped`);
      if (!quiet) {
        const metrics = result.metrics
          ? formatSceneMetrics(result.metrics)
          : `(no '${config.evalSplit}' split to evaluate on)`;
        process.stdout.write(
          `${[...notes, metrics].join('\n')}\n${result.log.at(-1)?.step ?? 0} steps on ${result.dataset.frames} frames, ${result.stepMs.toFixed(0)} ms/step; model in ${out}\n`,
        );
      } else if (skipped > 0) {
        process.stderr.write(`${skipped} bad frame(s) skipped\n`);
      }
    });
}

/** The frames to evaluate or draw: split `split` of `--data` (at the model's size), else generated test scenes. */
async function framesFor(
  config: SceneRunConfig,
  flags: { data?: string; format?: SceneDataFormat; split: string; dataSeed?: number; skipBad?: boolean },
  count: number | undefined,
): Promise<SceneSource> {
  if (flags.data !== undefined) {
    return openRunData(
      {
        data: flags.data,
        ...(flags.format ? { format: flags.format } : {}),
        height: config.height,
        width: config.width,
        skipBad: flags.skipBad ?? false,
      },
      flags.split,
    );
  }
  const c = { ...config, dataSeed: flags.dataSeed ?? config.dataSeed };
  return memorySceneSource(testScenes(c, count ?? config.testScenes), { name: 'test scene' });
}

interface SceneEvalFlags {
  scenes?: number;
  dataSeed?: number;
  data?: string;
  format?: SceneDataFormat;
  split: string;
  skipBad?: boolean;
  backend: string;
  json?: boolean;
}

/** The frames eval and show read: a dataset split, or else generated test scenes. */
function withDataOptions(command: Command): Command {
  return command
    .option('--data <dir>', 'dataset folder (Cityscapes layout or `folders`); default: generated test scenes')
    .option(
      '--format <name>',
      `dataset layout, ${SCENE_DATA_FORMATS.join(' or ')} (default: detected)`,
      formatOption,
    )
    .option('--split <name>', 'dataset split', 'val')
    .option('--skip-bad', 'leave out frames with bad files instead of stopping')
    .option('--data-seed <n>', 'generated scenes: seed (default: the run config)', nonNegativeInt);
}

function evalSubcommand(): Command {
  return withDataOptions(new Command('eval'))
    .description(
      "evaluate a trained scene model on a dataset split or on fresh generated scenes (Table 1's metrics)",
    )
    .argument('<model-dir>', 'a folder written by `tfjs-mtl scenes train`')
    .option(
      '--scenes <n>',
      "how many frames (default: the whole split, or the run config's test scenes)",
      positiveInt,
    )
    .option('--backend <name>', 'wasm or cpu', 'wasm')
    .option('--json', 'print JSON')
    .action(async (dir: string, flags: SceneEvalFlags) => {
      await setupBackend(flags.backend);
      const { model, config, tasks, dataset } = await loadSceneModel(dir);
      try {
        const source = await framesFor(config, flags, flags.scenes);
        checkClasses(dir, dataset?.classes, source);
        const metrics = await evaluateSceneModel(model, tasks, source, {
          ...(flags.scenes !== undefined ? { limit: flags.scenes } : {}),
        });
        process.stdout.write(
          flags.json ? JSON.stringify(metrics, null, 2) + '\n' : formatSceneMetrics(metrics) + '\n',
        );
      } finally {
        model.dispose();
      }
    });
}

/** A model trained on one set of classes cannot be scored on another. */
function checkClasses(dir: string, trained: readonly string[] | undefined, source: SceneSource): void {
  const classes = trained ?? SCENE_CLASSES;
  if (classes.length !== source.classes.length || classes.some((c, i) => c !== source.classes[i]))
    throw new UsageError(
      `${dir} was trained on the classes ${classes.join(', ')}; the data have ${source.classes.join(', ')}`,
    );
}

interface SceneShowFlags {
  scenes: number;
  dataSeed?: number;
  data?: string;
  format?: SceneDataFormat;
  split: string;
  skipBad?: boolean;
  out?: string;
  backend: string;
}

function showSubcommand(): Command {
  return withDataOptions(new Command('show'))
    .description('render input, truth and prediction of each task for a few frames to a PNG')
    .argument('<model-dir>', 'a folder written by `tfjs-mtl scenes train`')
    .option('--scenes <n>', 'how many frames', positiveInt, 4)
    .option('--out <file>', 'PNG path (default <model-dir>/scenes.png)')
    .option('--backend <name>', 'wasm or cpu', 'wasm')
    .action(async (dir: string, flags: SceneShowFlags) => {
      await setupBackend(flags.backend);
      const { model, config, tasks, dataset } = await loadSceneModel(dir);
      try {
        const source = await framesFor(config, flags, flags.scenes);
        checkClasses(dir, dataset?.classes, source);
        const count = Math.min(flags.scenes, source.size);
        const frames = await loadFrames(
          source,
          Array.from({ length: count }, (_, i) => i),
        );
        const out = resolve(flags.out ?? `${dir}/scenes.png`);
        await renderSceneGrid(
          out,
          framesToSceneBatch(frames),
          [{ label: 'prediction', model, tasks }],
          source.palette,
        );
        process.stdout.write(`${out}\n`);
      } finally {
        model.dispose();
      }
    });
}

interface SceneExportFlags {
  out: string;
  format: SceneDataFormat;
  train: number;
  val: number;
  height: number;
  width: number;
  seed: number;
}

function exportSubcommand(): Command {
  return new Command('export')
    .description(
      'write generated scenes as a dataset folder (Cityscapes layout or `folders`), to try --data with',
    )
    .requiredOption('--out <dir>', 'the dataset folder to create (must not exist or be empty)')
    .option('--format <name>', `layout, ${SCENE_DATA_FORMATS.join(' or ')}`, formatOption, 'folders')
    .option('--train <n>', 'frames in the train split', positiveInt, 200)
    .option('--val <n>', 'frames in the val split', positiveInt, 50)
    .option('--height <px>', 'frame height', positiveInt, 128)
    .option('--width <px>', 'frame width', positiveInt, 256)
    .option('--seed <n>', 'generator seed of the train split (val takes the next)', nonNegativeInt, 0)
    .action(async (flags: SceneExportFlags) => {
      const out = resolve(flags.out);
      const existing = await readdir(out).catch(() => null);
      if (existing !== null && existing.length > 0)
        throw new UsageError(`--out: ${out} exists and is not empty; choose a new folder`);
      // written into a sibling staging folder, then renamed: an interrupted export leaves nothing half-made
      const staging = `${out}.${process.pid}.tmp`;
      await rm(staging, { recursive: true, force: true });
      const write = flags.format === 'cityscapes' ? writeCityscapesScenes : writeFoldersScenes;
      try {
        write(
          staging,
          { train: flags.train, val: flags.val },
          { height: flags.height, width: flags.width, seed: flags.seed },
        );
        if (existing !== null) await rm(out, { recursive: true });
        await rename(staging, out);
      } catch (err) {
        await rm(staging, { recursive: true, force: true });
        throw err;
      }
      process.stdout.write(
        `${out}: ${flags.train} train + ${flags.val} val frames, ${flags.format} layout\n`,
      );
    });
}

type SceneExperimentFlags = Omit<SceneExperimentOptions, 'onProgress'> & { quiet?: boolean };

function experimentSubcommand(): Command {
  const d = SCENE_EXPERIMENT_DEFAULTS;
  return new Command('experiment')
    .description(
      "the paper's Table 1 on synthetic scenes: single-task, unweighted, fixed-weight grid and learned weights; reuses finished runs with the same settings and continues unfinished ones from their checkpoints",
    )
    .option('--out <dir>', 'results folder', d.out)
    .option('--steps <n>', 'steps of every run', positiveInt, d.steps)
    .option('--seeds <n>', 'seeds per configuration', positiveInt, d.seeds)
    .option('--jobs <n>', 'parallel training processes', positiveInt, Math.min(2, availableParallelism()))
    .option('--train-scenes <n>', 'training scenes', positiveInt, d.trainScenes)
    .option('--test-scenes <n>', 'test scenes', positiveInt, d.testScenes)
    .option('--height <px>', 'image height', positiveInt, d.height)
    .option('--width <px>', 'image width', positiveInt, d.width)
    .option(
      '--checkpoint-every <steps>',
      'checkpoint every run this often, to continue it if interrupted (0 = never)',
      nonNegativeInt,
      d.checkpointEvery,
    )
    .option(
      '--shard <i/n>',
      'train only share i of n of the runs (run k belongs to share k mod n + 1) and write no tables',
      shard,
    )
    .option('--backend <name>', 'wasm or cpu', 'wasm')
    .addOption(threadsOption())
    .option('--quiet', 'no progress output')
    .action(async (flags: SceneExperimentFlags) => {
      const { quiet = false, ...options } = flags;
      const out = resolve(options.out);
      const result = await runSceneExperiment({
        ...options,
        // the cores shared out between the parallel training processes
        threads: threadsPerJob(flags.threads, flags.jobs, defaultThreads()),
        out,
        onProgress: quiet
          ? undefined
          : (p) =>
              process.stderr.write(
                `[${p.done}/${p.total}] ${p.state} ${p.run}${p.note ? ` (${p.note})` : ''}${p.error ? `: ${p.error}` : ''}\n`,
              ),
      });
      if (result.failed.length > 0) {
        throw new Error(
          `${result.failed.length} run(s) failed: ${result.failed.map((f) => f.run).join(', ')}`,
        );
      }
      if (quiet) return;
      if (options.shard) {
        const { index, count } = options.shard;
        process.stdout.write(
          `shard ${index}/${count}: trained ${result.trained.length}, reused ${result.reused.length} of its runs; ` +
            `run the same command without --shard on ${out} to write the tables once every shard is done\n`,
        );
      } else if (result.markdownPath) process.stdout.write(`${result.markdownPath}\n`);
    });
}

export function scenesCommand(): Command {
  return new Command('scenes')
    .description(
      "the paper's scene geometry & semantics system, on dataset folders or synthetic street scenes",
    )
    .addCommand(trainSubcommand())
    .addCommand(evalSubcommand())
    .addCommand(showSubcommand())
    .addCommand(experimentSubcommand())
    .addCommand(exportSubcommand());
}
