import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { inShard, type Shard } from '../cli/parse.js';
import { errorBarSpec, lossCurveSpec, sigmaTrajectorySpec } from '../plot/specs.js';
import {
  comparisonMarkdown,
  primaryMetric,
  SINGLE_TASK,
  summarizeComparison,
  type CompareRun,
  type StrategySummary,
} from '../tabular/compare-summary.js';
import type { TrainConfig } from '../tabular/config.js';
import type { History } from '../train/history.js';
import { writeFileAtomic } from './atomic-write.js';
import { loadCheckpoint, removeCheckpoints, settingsDifference } from './checkpoint-store.js';
import { runCliInChild } from './cli-child.js';
import {
  dataFileSha256,
  readTableRunSettings,
  tableRunSettings,
  type TableRunSettings,
} from './tabular-io.js';
import { writePlot } from './render.js';
import { slugify } from './report.js';

export interface CompareOptions {
  /** Validated training settings shared by every run (data path absolute). */
  config: TrainConfig;
  strategies: readonly string[];
  seeds: number;
  /** Parallel training processes. */
  jobs: number;
  out: string;
  backend: string;
  /** wasm threads of each training process (default: the child's own default). */
  threads?: number;
  /**
   * Train only this share of the runs (`inShard`) and write no tables: for one machine of a batch job;
   * the command without a shard on the same folder then trains nothing new and writes the tables.
   */
  shard?: Shard;
  /**
   * Called when a run starts (fresh, or resuming from its checkpoint), finishes, fails, is found finished
   * with the same settings (`cached`), or is found finished with other ones and retrained (`note` says
   * which setting differed).
   */
  onProgress?: (event: {
    run: string;
    state: 'cached' | 'started' | 'resumed' | 'done' | 'failed';
    done: number;
    total: number;
    note?: string;
  }) => void;
}

export interface CompareResult {
  /** Empty for a shard (which writes no tables). */
  summaries: StrategySummary[];
  markdown: string;
  failed: { run: string; error: string }[];
  files: string[];
  /** Runs trained by this call, and runs reused as finished. */
  trained: number;
  reused: number;
}

interface PlannedRun {
  name: string;
  strategy: string;
  seed: number;
  config: TrainConfig;
}

function plan(options: CompareOptions): PlannedRun[] {
  const runs: PlannedRun[] = [];
  const { config } = options;
  for (let seed = 0; seed < options.seeds; seed++) {
    for (const target of config.targets) {
      runs.push({
        name: `${SINGLE_TASK}-${slugify(target.name)}-seed${seed}`,
        strategy: SINGLE_TASK,
        seed,
        config: { ...config, targets: [target], weighting: 'equal', weights: undefined, seed },
      });
    }
    for (const strategy of options.strategies) {
      runs.push({
        name: `${strategy}-seed${seed}`,
        strategy,
        seed,
        config: { ...config, weighting: strategy, seed },
      });
    }
  }
  return runs;
}

async function readRun(dir: string, run: PlannedRun): Promise<CompareRun> {
  const metrics = JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8')) as Record<
    string,
    Record<string, Record<string, number>>
  >;
  const history = JSON.parse(await readFile(join(dir, 'history.json'), 'utf8')) as History;
  const split = metrics['test'] ?? metrics['validation'] ?? metrics['train']!;
  return {
    strategy: run.strategy,
    seed: run.seed,
    metrics: split,
    trainSeconds: history.epochs.at(-1)?.seconds ?? NaN,
  };
}

/**
 * Trains every strategy (and a single-task model per target) for each seed on the same splits, in
 * parallel processes. A finished run is reused when its recorded settings match (else retrained); an
 * unfinished one continues from its checkpoint; so an interrupted comparison resumes where it stopped,
 * and shards trained on several machines into one folder add up. Writes compare.md, compare.json and
 * plots into `out` (not for a shard).
 */
export async function runComparison(options: CompareOptions): Promise<CompareResult> {
  const out = resolve(options.out);
  const runs = plan(options);
  const mine = runs.filter((_, k) => inShard(k, options.shard));
  const failed: CompareResult['failed'] = [];
  let done = 0;
  let trained = 0;
  let reused = 0;
  const total = mine.length;
  const queue = [...mine];
  const dataPath = options.config.data!;
  const dataSha256 = await dataFileSha256(dataPath); // every run trains on the same file
  const worker = async () => {
    for (let run = queue.shift(); run; run = queue.shift()) {
      const dir = join(out, 'runs', run.name);
      const settings = tableRunSettings(run.config, dataSha256);
      let note: string | undefined;
      if (existsSync(join(dir, 'metrics.json'))) {
        const recorded = await readTableRunSettings(dir);
        const differs = recorded ? settingsDifference(recorded, settings) : undefined;
        if (recorded && differs === undefined) {
          reused++;
          options.onProgress?.({ run: run.name, state: 'cached', done: ++done, total });
          continue;
        }
        note = `retraining: ${differs ? `it was trained ${differs}` : 'it records no settings (run.json)'}`;
      }
      // an unfinished run continues from its checkpoint when that was made with these settings
      const checkpoints = `${dir}.checkpoint`;
      const stored = await loadCheckpoint<TableRunSettings>(checkpoints).catch(() => undefined);
      const resume = stored !== undefined && settingsDifference(stored.settings, settings) === undefined;
      if (!resume) await removeCheckpoints(checkpoints);
      // paths relative to the configs folder: the sweep's folder can move between machines
      const configs = join(out, 'configs');
      const configPath = join(configs, `${run.name}.json`);
      await writeFileAtomic(
        configPath,
        JSON.stringify(
          { ...run.config, data: relative(configs, dataPath), out: relative(configs, dir) },
          null,
          2,
        ) + '\n',
      );
      options.onProgress?.({
        run: run.name,
        state: resume ? 'resumed' : 'started',
        done,
        total,
        ...(note ? { note } : {}),
      });
      const error = await runCliInChild([
        'train',
        '--config',
        configPath,
        '--quiet',
        '--backend',
        options.backend,
        ...(options.threads !== undefined ? ['--threads', String(options.threads)] : []),
        ...(resume ? ['--resume'] : []),
      ]);
      if (error) failed.push({ run: run.name, error });
      else trained++;
      options.onProgress?.({ run: run.name, state: error ? 'failed' : 'done', done: ++done, total });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, worker));
  if (options.shard) return { summaries: [], markdown: '', failed, files: [], trained, reused };

  const finished = runs.filter((r) => !failed.some((f) => f.run === r.name));
  const results = await Promise.all(finished.map((r) => readRun(join(out, 'runs', r.name), r)));
  const summaries = summarizeComparison(results);
  const tasks = options.config.targets.map((t) => t.name);
  const markdown = comparisonMarkdown(summaries, tasks);
  const files = [join(out, 'compare.md'), join(out, 'compare.json')];
  await writeFileAtomic(files[0]!, markdown);
  await writeFileAtomic(
    files[1]!,
    JSON.stringify(
      { tasks, seeds: options.seeds, strategies: options.strategies, summaries, failed },
      null,
      2,
    ) + '\n',
  );
  for (const task of tasks) {
    const rows = summaries
      .filter((s) => s.metrics[task])
      .map((s) => {
        const metric = primaryMetric(
          Object.fromEntries(Object.keys(s.metrics[task]!).map((k) => [k, 0])),
        ).name;
        const m = s.metrics[task]![metric]!;
        return { label: s.strategy, metric, mean: m.mean, std: m.std };
      });
    const metric = rows[0]?.metric ?? 'metric';
    const spec = errorBarSpec({
      title: `${task}: test ${metric} per strategy (mean ± std over seeds)`,
      rows,
      yTitle: metric,
    });
    const p = await writePlot(spec, join(out, `metric-${slugify(task)}`));
    files.push(p.png);
  }
  for (const strategy of options.strategies) {
    const dir = join(out, 'runs', `${strategy}-seed0`);
    if (!existsSync(join(dir, 'history.json'))) continue;
    const history = JSON.parse(await readFile(join(dir, 'history.json'), 'utf8')) as History;
    const epochs = history.epochs.map((e) => e.epoch);
    const weights = await writePlot(
      lossCurveSpec({
        title: `${strategy}: task weights (seed 0)`,
        epochs,
        series: tasks.map((t) => ({ name: t, values: history.epochs.map((e) => e.weights[t] ?? NaN) })),
        yTitle: 'weight',
        totalSeries: '',
      }),
      join(out, `weights-${slugify(strategy)}`),
    );
    files.push(weights.png);
    if (history.epochs.some((e) => e.sigmas)) {
      const sigma = await writePlot(
        sigmaTrajectorySpec({
          title: `${strategy}: learned σ (seed 0)`,
          epochs,
          tasks: tasks.map((t) => ({ name: t, sigma: history.epochs.map((e) => e.sigmas?.[t] ?? NaN) })),
        }),
        join(out, `sigma-${slugify(strategy)}`),
      );
      files.push(sigma.png);
    }
  }
  return { summaries, markdown, failed, files, trained, reused };
}
