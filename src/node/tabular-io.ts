import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import type { TrainConfig } from '../tabular/config.js';
import type { PreprocessState } from '../data/preprocess.js';
import '../models/parallel-dense.js';
import type { TabularModel, TabularTaskInfo } from '../tabular/tabular-model.js';
import type { TrainTableResult } from '../tabular/train-table.js';
import type { WeightingState } from '../weighting/strategy.js';
import { loadModelDir, saveModelDir, ModelDirError } from './model-dir.js';
import { buildReportPlots, renderReportHtml } from './report.js';

/** weighting.json: how the tasks were weighted and what each output means. */
export interface WeightingFile {
  version: 1;
  strategy: string;
  state: WeightingState;
  weights: Record<string, number>;
  tasks: TabularTaskInfo[];
  /** Monte Carlo dropout passes per prediction (absent: one pass). */
  mcSamples?: number;
}

/** run.json: what a table run must share with another to be the same run. */
export const TABLE_RUN_FILE = 'run.json';

/**
 * The settings that make a table run what it is — every training setting and the data file's contents
 * (not its path, so a run can move) — recorded with checkpoints (`--resume` must match them) and in
 * run.json (`compare` reuses a finished run only when they match).
 */
export interface TableRunSettings extends Omit<TrainConfig, 'out' | 'data'> {
  dataSha256: string;
}

/** The SHA-256 (hex) of a data file's bytes: what table run settings record of the data. */
export async function dataFileSha256(dataPath: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(dataPath))
    .digest('hex');
}

/** The run settings of `config` on data whose file has SHA-256 `dataSha256` (see `dataFileSha256`). */
export function tableRunSettings(config: TrainConfig, dataSha256: string): TableRunSettings {
  const rest: Partial<TrainConfig> = { ...config };
  delete rest.out;
  delete rest.data;
  return { ...(rest as Omit<TrainConfig, 'out' | 'data'>), dataSha256 };
}

/** The settings recorded in a finished run's run.json; undefined when it has none (or it is unreadable). */
export async function readTableRunSettings(dir: string): Promise<TableRunSettings | undefined> {
  try {
    const parsed = JSON.parse(await readFile(`${dir}/${TABLE_RUN_FILE}`, 'utf8')) as {
      settings?: TableRunSettings;
    };
    return parsed.settings;
  } catch {
    return undefined;
  }
}

/**
 * Writes a trained table model and everything about its run into `dir` at once (staged, then swapped
 * in): model.json + weights.bin, preprocess.json, weighting.json, metrics.json, history.json,
 * run.json (with `run.settings`), report.html and the report's plots as PNG.
 */
export async function saveTrainedTable(
  dir: string,
  result: TrainTableResult,
  run: { data: string; backend: string; config: Record<string, unknown>; settings?: TableRunSettings },
): Promise<void> {
  const { tabular, history, metrics, evaluation } = result;
  const weightingFile: WeightingFile = {
    version: 1,
    strategy: tabular.weighting.strategy,
    state: tabular.weighting.state,
    weights: tabular.weighting.weights,
    tasks: tabular.tasks,
    ...(tabular.mcSamples ? { mcSamples: tabular.mcSamples } : {}),
  };
  const reportInput = {
    title: `tfjs-mtl: ${tabular.tasks.map((t) => t.name).join(', ')}`,
    createdAt: new Date().toISOString(),
    dataSource: run.data,
    settings: {
      ...run.config,
      backend: run.backend,
      rows: `${result.split.train.length} train / ${result.split.validation.length} validation / ${result.split.test.length} test`,
      epochs:
        history.epochs.length +
        (history.stoppedEarly ? ` (early stop, best ${history.stoppedEarly.bestEpoch})` : ''),
      features: result.features.map((f) => `${f.name} (${f.kind})`),
    },
    tasks: tabular.tasks.map((t) => ({
      name: t.name,
      kind: t.kind,
      ...(t.sigma !== undefined ? { sigma: t.sigma } : {}),
      weight: tabular.weighting.weights[t.name]!,
      ...(t.classes ? { classes: t.classes } : {}),
    })),
    metrics,
    history,
    regression: evaluation.regression,
    classification: evaluation.classification,
    warnings: result.warnings,
  };
  const plots = await buildReportPlots(reportInput);
  const files: Record<string, string | Uint8Array> = {
    'preprocess.json': JSON.stringify(tabular.preprocess, null, 2) + '\n',
    'weighting.json': JSON.stringify(weightingFile, null, 2) + '\n',
    'metrics.json': JSON.stringify(metrics, null, 2) + '\n',
    'history.json': JSON.stringify(history) + '\n',
    ...(run.settings
      ? { [TABLE_RUN_FILE]: JSON.stringify({ settings: run.settings, backend: run.backend }, null, 2) + '\n' }
      : {}),
    'report.html': renderReportHtml(reportInput, plots),
  };
  for (const p of plots) files[`${p.name}.png`] = p.png;
  await saveModelDir(dir, tabular.model, files);
}

function parseJsonFile<T>(dir: string, name: string, text: string, check: (v: unknown) => boolean): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ModelDirError(`${dir}/${name} is corrupt: ${(err as Error).message}`);
  }
  if (!check(value))
    throw new ModelDirError(`${dir}/${name} is not a tfjs-mtl ${name.replace('.json', '')} file`);
  return value as T;
}

/** Loads a model folder written by `tfjs-mtl train`. */
export async function loadTrainedTable(dir: string): Promise<TabularModel> {
  const { model, files } = await loadModelDir(dir);
  const shown = relative(process.cwd(), dir) || dir;
  const preprocess = parseJsonFile<PreprocessState>(
    shown,
    'preprocess.json',
    await files('preprocess.json'),
    (v) => Array.isArray((v as PreprocessState | null)?.features),
  );
  const w = parseJsonFile<WeightingFile>(shown, 'weighting.json', await files('weighting.json'), (v) =>
    Array.isArray((v as WeightingFile | null)?.tasks),
  );
  if (w.tasks.length !== model.outputs.length) {
    throw new ModelDirError(
      `${shown}: weighting.json describes ${w.tasks.length} tasks, the model has ${model.outputs.length} outputs`,
    );
  }
  return {
    model,
    preprocess,
    tasks: w.tasks,
    weighting: { strategy: w.strategy, state: w.state, weights: w.weights },
    ...(w.mcSamples ? { mcSamples: w.mcSamples } : {}),
  };
}
