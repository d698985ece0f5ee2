/** Per run: the test metrics (task → metric → value) and the training time. */
export interface CompareRun {
  strategy: string;
  seed: number;
  metrics: Record<string, Record<string, number>>;
  trainSeconds: number;
}

export interface MeanStd {
  mean: number;
  std: number;
  n: number;
}

export interface StrategySummary {
  strategy: string;
  /** task → metric → mean ± std over seeds. */
  metrics: Record<string, Record<string, MeanStd>>;
  /** Average relative improvement over the single-task models, in % (positive = better). */
  deltaM?: MeanStd;
  trainSeconds: MeanStd;
}

/** The metric each task is judged by, and whether higher is better. */
export function primaryMetric(metrics: Record<string, number>): { name: string; higherIsBetter: boolean } {
  return 'accuracy' in metrics
    ? { name: 'accuracy', higherIsBetter: true }
    : { name: 'rmse', higherIsBetter: false };
}

export function meanStd(values: readonly number[]): MeanStd {
  const v = values.filter(Number.isFinite);
  const n = v.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  // sample standard deviation over seeds
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/**
 * Δm % as LibMTL reports it: the mean over tasks of ±(M_mtl − M_single)/M_single·100, + when higher
 * is better, − when lower is better, on each task's primary metric.
 */
export function deltaM(
  mtl: Record<string, Record<string, number>>,
  single: Record<string, Record<string, number>>,
): number {
  const tasks = Object.keys(mtl).filter((t) => single[t] !== undefined);
  if (tasks.length === 0) return NaN;
  const terms = tasks.map((t) => {
    const { name, higherIsBetter } = primaryMetric(mtl[t]!);
    const m = mtl[t]![name]!;
    const b = single[t]![name]!;
    return ((higherIsBetter ? 1 : -1) * (m - b)) / b;
  });
  return (100 * terms.reduce((a, b) => a + b, 0)) / terms.length;
}

export const SINGLE_TASK = 'single-task';

/**
 * Mean ± std per strategy and task metric over seeds, and Δm against the single-task runs of the same
 * seed (runs with strategy `single-task` hold one task each).
 */
export function summarizeComparison(runs: readonly CompareRun[]): StrategySummary[] {
  const strategies = [...new Set(runs.map((r) => r.strategy))];
  const singleBySeed = new Map<number, Record<string, Record<string, number>>>();
  for (const r of runs.filter((r) => r.strategy === SINGLE_TASK)) {
    singleBySeed.set(r.seed, { ...(singleBySeed.get(r.seed) ?? {}), ...r.metrics });
  }
  return strategies.map((strategy) => {
    const mine = runs.filter((r) => r.strategy === strategy);
    const metrics: StrategySummary['metrics'] = {};
    const tasks = [...new Set(mine.flatMap((r) => Object.keys(r.metrics)))];
    for (const task of tasks) {
      const names = [...new Set(mine.flatMap((r) => Object.keys(r.metrics[task] ?? {})))].filter(
        (m) => m !== 'count',
      );
      metrics[task] = Object.fromEntries(
        names.map((m) => [m, meanStd(mine.map((r) => r.metrics[task]?.[m] ?? NaN))]),
      );
    }
    // for single-task runs the seconds of one seed are the sum over its tasks' models
    const seconds =
      strategy === SINGLE_TASK
        ? [...new Set(mine.map((r) => r.seed))].map((s) =>
            mine.filter((r) => r.seed === s).reduce((a, r) => a + r.trainSeconds, 0),
          )
        : mine.map((r) => r.trainSeconds);
    const summary: StrategySummary = { strategy, metrics, trainSeconds: meanStd(seconds) };
    if (strategy !== SINGLE_TASK && singleBySeed.size > 0) {
      summary.deltaM = meanStd(
        mine.filter((r) => singleBySeed.has(r.seed)).map((r) => deltaM(r.metrics, singleBySeed.get(r.seed)!)),
      );
    }
    return summary;
  });
}

function fmt(m: MeanStd | undefined, digits: number): string {
  if (!m || !Number.isFinite(m.mean)) return '–';
  return m.n > 1 ? `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}` : m.mean.toFixed(digits);
}

/** A markdown table: one row per strategy; each task's primary metric, Δm % and training time. */
export function comparisonMarkdown(summaries: readonly StrategySummary[], tasks: readonly string[]): string {
  const first = summaries.find((s) => tasks.every((t) => s.metrics[t]));
  const primaries = tasks.map((t) =>
    primaryMetric(Object.fromEntries(Object.keys(first?.metrics[t] ?? {}).map((k) => [k, 0]))),
  );
  const header = [
    'strategy',
    ...tasks.map((t, i) => `${t} ${primaries[i]!.name} ${primaries[i]!.higherIsBetter ? '↑' : '↓'}`),
    'Δm % ↑',
    'train s',
  ];
  const rows = summaries.map((s) => [
    s.strategy,
    ...tasks.map((t, i) => {
      const m = s.metrics[t]?.[primaries[i]!.name];
      return fmt(m, primaries[i]!.name === 'accuracy' ? 3 : 1);
    }),
    s.strategy === SINGLE_TASK ? '0 (baseline)' : fmt(s.deltaM, 2),
    fmt(s.trainSeconds, 1),
  ]);
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}
