import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
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
import { runCliInChild } from './cli-child.js';
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
  /** Called when a run starts, finishes, fails or is found in the cache. */
  onProgress?: (event: {
    run: string;
    state: 'cached' | 'started' | 'done' | 'failed';
    done: number;
    total: number;
  }) => void;
}

export interface CompareResult {
  summaries: StrategySummary[];
  markdown: string;
  failed: { run: string; error: string }[];
  files: string[];
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
 * parallel processes; a run whose folder already holds metrics.json is reused, so an interrupted
 * comparison resumes where it stopped. Writes compare.md, compare.json and plots into `out`.
 */
export async function runComparison(options: CompareOptions): Promise<CompareResult> {
  const out = resolve(options.out);
  const runs = plan(options);
  const failed: CompareResult['failed'] = [];
  let done = 0;
  const queue = [...runs];
  const worker = async () => {
    for (let run = queue.shift(); run; run = queue.shift()) {
      const dir = join(out, 'runs', run.name);
      if (existsSync(join(dir, 'metrics.json'))) {
        options.onProgress?.({ run: run.name, state: 'cached', done: ++done, total: runs.length });
        continue;
      }
      const configPath = join(out, 'configs', `${run.name}.json`);
      await writeFileAtomic(configPath, JSON.stringify({ ...run.config, out: dir }, null, 2) + '\n');
      options.onProgress?.({ run: run.name, state: 'started', done, total: runs.length });
      const error = await runCliInChild([
        'train',
        '--config',
        configPath,
        '--quiet',
        '--backend',
        options.backend,
      ]);
      if (error) failed.push({ run: run.name, error });
      options.onProgress?.({
        run: run.name,
        state: error ? 'failed' : 'done',
        done: ++done,
        total: runs.length,
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, worker));

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
  return { summaries, markdown, failed, files };
}
