import type { TabularTaskInfo } from '../tabular/tabular-model.js';

const METRIC_ORDER = [
  'rmse',
  'mae',
  'coverage68',
  'coverage95',
  'coverage95Low',
  'coverage95Mid',
  'coverage95High',
  'width95',
  'nll',
  'crps',
  'accuracy',
  'crossEntropy',
  'ece',
  'eceLearnedTemperature',
  'eceWithoutTemperature',
  'count',
];

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(3) : v.toFixed(4);
}

/** A plain-text table: one block per split, one row per task, its metrics and σ. */
export function formatMetricsTable(
  metrics: Partial<Record<string, Record<string, Record<string, number>>>>,
  tasks: readonly TabularTaskInfo[],
): string {
  const out: string[] = [];
  for (const [split, perTask] of Object.entries(metrics)) {
    if (!perTask) continue;
    out.push(`${split}:`);
    const rows = tasks.map((t) => {
      const m = perTask[t.name] ?? {};
      const keys = METRIC_ORDER.filter((k) => k in m);
      const extra =
        t.kind === 'regression'
          ? t.heteroscedastic
            ? `σ(x) per row${t.sigmaScale !== undefined ? `, ×${formatNumber(t.sigmaScale)} from validation` : ''}`
            : `σ ${formatNumber(t.sigma ?? NaN)}`
          : t.calibrationTemperature !== undefined
            ? `T ${formatNumber(t.calibrationTemperature)} fitted on validation, learned ${formatNumber(t.temperature ?? 1)}`
            : `T ${formatNumber(t.temperature ?? 1)} learned`;
      return [t.name, keys.map((k) => `${k} ${formatNumber(m[k]!)}`).join('  '), extra];
    });
    const w = Math.max(...rows.map((r) => r[0]!.length));
    for (const r of rows) out.push(`  ${r[0]!.padEnd(w)}  ${r[1]}  (${r[2]})`);
  }
  return out.join('\n');
}
