import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { readTableFile } from '../node/read-table.js';
import { backendThreads, setupBackend, NODE_BACKENDS } from '../node/backend.js';
import {
  dataFileSha256,
  saveTrainedTable,
  tableRunSettings,
  type TableRunSettings,
} from '../node/tabular-io.js';
import {
  parseTargetFlag,
  parseTrainConfig,
  type TrainConfig,
  type TrainConfigInput,
} from '../tabular/config.js';
import { trainTable } from '../tabular/train-table.js';
import type { TrainingCheckpoint } from '../train/options.js';
import {
  loadCheckpoint,
  removeCheckpoints,
  resumeRefusal,
  saveCheckpoint,
  settingsDifference,
} from '../node/checkpoint-store.js';
import { weightingNames } from '../weighting/registry.js';
import { reportDivergence, UsageError } from './errors.js';
import { formatMetricsTable } from './format.js';
import {
  nonNegativeInt,
  positiveInt,
  fraction,
  positiveNumber,
  intList,
  numberList,
  threadsOption,
} from './parse.js';
import { createProgress } from './progress.js';
import { timestamp } from './demo.js';

export interface TrainFlags {
  target?: string[];
  features?: string[];
  weighting?: string;
  weights?: number[];
  hidden?: number[];
  epochs?: number;
  batchSize?: number;
  lr?: number;
  sigmaLr?: number;
  intervalSigma?: string;
  seed?: number;
  val?: number;
  test?: number;
  patience?: number;
  onNan?: 'stop' | 'skip';
  uncertainty?: 'homoscedastic' | 'heteroscedastic';
  dropout?: number;
  mcSamples?: number;
  out?: string;
  config?: string;
  backend: string;
  threads?: number;
  quiet?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`config file not found: ${path}`);
  }
  const ext = extname(path).toLowerCase();
  try {
    return ext === '.json' ? (JSON.parse(text) as unknown) : (parseYaml(text) as unknown);
  } catch (err) {
    throw new UsageError(
      `${path} is not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
}

/** The options `train` and `compare` share: the data, the targets and every training setting. */
export function addTrainOptions(cmd: Command): Command {
  return cmd
    .option(
      '--target <name[:kind]>',
      'a target column, repeatable; kind = regression|classification|binary (inferred when omitted)',
      collect,
    )
    .option(
      '--features <names>',
      'feature columns, comma-separated (repeatable); default: all other columns',
      collect,
    )
    .addOption(new Option('--weighting <name>', 'loss weighting strategy').choices(weightingNames()))
    .option('--weights <list>', 'task weights for --weighting fixed, comma-separated', numberList)
    .option('--hidden <list>', 'hidden layer widths of the shared trunk (default 64,64)', intList)
    .option('--epochs <count>', 'maximum epochs (default 300)', positiveInt)
    .option('--batch-size <count>', 'batch size (default 32)', positiveInt)
    .option('--lr <rate>', 'Adam learning rate (default 0.001)', positiveNumber)
    .option('--sigma-lr <rate>', 'learning rate of the learned log-variances (default 0.02)', positiveNumber)
    .addOption(
      new Option('--interval-sigma <source>', 'σ of regression intervals (default validation)').choices([
        'validation',
        'learned',
      ]),
    )
    .option('--seed <int>', 'seed of the split, initialisation and shuffling (default 0)', nonNegativeInt)
    .option('--val <fraction>', 'validation fraction (default 0.2)', fraction)
    .option('--test <fraction>', 'test fraction (default 0.2)', fraction)
    .option(
      '--patience <epochs>',
      'early stopping patience on the validation loss, 0 = off (default 30)',
      nonNegativeInt,
    )
    .addOption(
      new Option(
        '--uncertainty <kind>',
        'regression noise: one σ per target, or σ(x) predicted per row (default homoscedastic; heteroscedastic weighs tasks equally unless --weighting says otherwise)',
      ).choices(['homoscedastic', 'heteroscedastic']),
    )
    .option('--dropout <rate>', 'dropout after each trunk layer, in [0, 1) (default 0)', fraction)
    .option(
      '--mc-samples <count>',
      'Monte Carlo dropout passes per prediction: epistemic σ and mutual information (default 30 with --dropout)',
      nonNegativeInt,
    )
    .addOption(
      new Option(
        '--on-nan <policy>',
        'a step with a NaN/infinite loss: stop the run, or skip the step (default stop)',
      ).choices(['stop', 'skip']),
    )
    .option('--out <dir>', 'model folder to write (default runs/train-<timestamp>)')
    .option('--config <file>', 'a YAML or JSON file with the same fields (flags override it)')
    .addOption(new Option('--backend <name>', 'TF.js backend').choices([...NODE_BACKENDS]).default('wasm'))
    .addOption(threadsOption())
    .option('--quiet', 'no progress output');
}

/**
 * The validated config from a `--config` file overridden by the flags given on the command line;
 * `file` is the positional data path, if any.
 */
export async function buildTrainConfig(
  cmd: Command,
  file: string | undefined,
  flags: TrainFlags,
): Promise<{ config: TrainConfig; dataPath: string }> {
  const fromFile = flags.config ? await readConfigFile(flags.config) : {};
  if (fromFile === null || typeof fromFile !== 'object' || Array.isArray(fromFile)) {
    throw new UsageError(`${flags.config}: the config must be a mapping of fields (targets, epochs, …)`);
  }
  const raw: Record<string, unknown> = { ...(fromFile as Record<string, unknown>) };
  const fromCli = (key: keyof TrainFlags) => cmd.getOptionValueSource(key) === 'cli';
  if (flags.target) raw['targets'] = flags.target.map(parseTargetFlag);
  if (flags.features)
    raw['features'] = flags.features.flatMap((f) =>
      f
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
  const direct: (keyof TrainFlags & keyof TrainConfigInput)[] = [
    'weighting',
    'weights',
    'hidden',
    'epochs',
    'batchSize',
    'lr',
    'sigmaLr',
    'intervalSigma',
    'seed',
    'val',
    'test',
    'patience',
    'onNan',
    'uncertainty',
    'dropout',
    'mcSamples',
    'out',
  ];
  for (const key of direct) if (fromCli(key)) raw[key] = flags[key];
  if (file) raw['data'] = file;
  const source = flags.config ?? 'command line';
  if (raw['targets'] === undefined) throw new UsageError(`${source}: give at least one --target`);
  if (raw['data'] === undefined)
    throw new UsageError(`${source}: give the data file (tfjs-mtl train <file>)`);
  const config = parseTrainConfig(raw, source);
  const dataPath = flags.config && !file ? resolve(flags.config, '..', config.data!) : config.data!;
  // paths in a config file are relative to the file (so a sweep's folder can move)
  if (flags.config && config.out !== undefined && !fromCli('out'))
    config.out = resolve(flags.config, '..', config.out);
  return { config, dataPath };
}

interface TrainCommandFlags extends TrainFlags {
  checkpointEvery: number;
  resume?: boolean;
}

export function trainCommand(): Command {
  const cmd = new Command('train')
    .description(
      'train one multi-task model for several target columns of a CSV/JSON table, with learned loss weights',
    )
    .argument('[file]', 'the data: CSV, TSV or a JSON array of records');
  addTrainOptions(cmd);
  cmd
    .option(
      '--checkpoint-every <epochs>',
      'save a checkpoint into <out>.checkpoint/ every this many epochs (0 = never); removed once the model is written',
      nonNegativeInt,
      10,
    )
    .option('--resume', 'continue the run in --out from its last checkpoint (same settings and data)');
  return cmd.action(async (file: string | undefined, flags: TrainCommandFlags) => {
    const { config, dataPath } = await buildTrainConfig(cmd, file, flags);
    if (flags.resume && config.out === undefined)
      throw new UsageError('--resume needs --out: the folder of the run to continue');
    const table = await readTableFile(dataPath);
    const out = resolve(config.out ?? `runs/train-${timestamp()}`);
    const checkpointDir = `${out}.checkpoint`;
    const settings = tableRunSettings(config, await dataFileSha256(dataPath));
    let resumeFrom: TrainingCheckpoint | undefined;
    if (flags.resume) {
      const stored = await loadCheckpoint<TableRunSettings>(checkpointDir).catch((err: Error) => {
        throw new UsageError(`--resume: ${err.message}`);
      });
      if (!stored)
        throw new UsageError(
          existsSync(join(out, 'weights.bin'))
            ? `--resume: ${out} has finished already (its model is written)`
            : `--resume: ${out} has no checkpoint to continue from`,
        );
      if (stored.settings.dataSha256 !== settings.dataSha256)
        throw new UsageError(
          `--resume: ${dataPath} is not the data the run was started on (its contents differ); run it with the same data`,
        );
      const differs = settingsDifference(stored.settings, settings);
      if (differs) throw new UsageError(resumeRefusal(differs));
      if (stored.warning) process.stderr.write(`warning: ${stored.warning}\n`);
      resumeFrom = stored.checkpoint;
    }
    const backend = await setupBackend(flags.backend, {
      ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
      onNotice: (m) => process.stderr.write(`note: ${m}\n`),
    });
    const threads = backendThreads() ?? 1;
    const names = config.targets.map((t) => t.name);
    const progress = createProgress(
      'training',
      config.epochs,
      ['loss', 'val', ...names.map((n) => `σ ${n}`)],
      flags.quiet ?? false,
    );
    let result;
    try {
      result = await trainTable(table, config, {
        onEpochEnd: (e) =>
          progress.update(e.epoch, {
            loss: e.loss.toFixed(4),
            val: e.validation ? e.validation.loss.toFixed(4) : '–',
            ...Object.fromEntries(names.map((n) => [`σ ${n}`, e.sigmas?.[n]?.toFixed(3) ?? '–'])),
          }),
        ...(flags.checkpointEvery > 0
          ? {
              checkpoint: {
                every: flags.checkpointEvery,
                save: (cp: TrainingCheckpoint) => saveCheckpoint(checkpointDir, cp, settings),
              },
            }
          : {}),
        ...(resumeFrom ? { resumeFrom } : {}),
      });
    } catch (err) {
      throw reportDivergence(err, checkpointDir);
    } finally {
      progress.stop();
    }
    await saveTrainedTable(out, result, { data: dataPath, backend, config, settings });
    await removeCheckpoints(checkpointDir);
    const stopped = result.history.stoppedEarly;
    const lines = [
      `trained ${result.history.epochs.length} epochs on ${backend}${backend === 'wasm' ? ` (${threads} thread${threads > 1 ? 's' : ''})` : ''}` +
        (stopped ? ` (early stop; best epoch ${stopped.bestEpoch})` : ''),
      ...result.warnings.map((w) => `warning: ${w}`),
      formatMetricsTable(result.metrics, result.tabular.tasks),
      `wrote ${out}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  });
}
