/** Table 1 from the scene experiment's runs: mean ± std per configuration, and the verdict. Pure. */
import type { SceneMetrics } from './evaluate.js';
import type { SceneTask } from './model.js';
import type { SceneLogEntry } from './train.js';

export interface SceneRunRecord {
  configId: string;
  seed: number;
  metrics: SceneMetrics;
  log: SceneLogEntry[];
  trainSeconds: number;
  stepMs: number;
  /** Run folder, relative to the experiment folder. */
  dir: string;
}

/** What the summary needs of a configuration. */
export interface SceneConfigInfo {
  id: string;
  label: string;
  group: 'single' | 'fixed' | 'sweep' | 'learned';
  tasks: SceneTask[];
  weighting: 'uncertainty' | 'fixed';
  weights?: number[];
}

export interface MeanStd {
  mean: number;
  std: number;
  n: number;
}

/** Table 1's columns (plus instance AP50). */
export const SCENE_COLUMNS = Object.freeze([
  { key: 'iou', title: 'seg. IoU %', better: 'higher', task: 'semantic', digits: 1 },
  { key: 'vector', title: 'instance err. px', better: 'lower', task: 'instance', digits: 3 },
  { key: 'ap50', title: 'instance AP50 %', better: 'higher', task: 'instance', digits: 1 },
  { key: 'depth', title: 'inv. depth err. ×10⁻³ 1/m', better: 'lower', task: 'depth', digits: 2 },
] as const);
export type SceneColumn = (typeof SCENE_COLUMNS)[number]['key'];

export interface SceneConfigSummary {
  config: SceneConfigInfo;
  runs: number;
  values: Partial<Record<SceneColumn, MeanStd>>;
  /** Final σ² = e^s per task (learned configurations), mean over seeds, in config task order. */
  sigma2?: number[];
  /** Final effective weights per task, mean over seeds. */
  weights?: number[];
  stepMs: MeanStd;
}

export function meanStd(values: readonly number[]): MeanStd {
  const finite = values.filter(Number.isFinite);
  const n = finite.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = finite.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

function columnValue(m: SceneMetrics, key: SceneColumn): number | undefined {
  switch (key) {
    case 'iou':
      return m.semantic ? 100 * m.semantic.meanIoU : undefined;
    case 'vector':
      return m.instance?.vectorError;
    case 'ap50':
      return m.instance ? 100 * m.instance.ap50 : undefined;
    case 'depth':
      return m.depth ? 1000 * m.depth.meanAbsError : undefined;
  }
}

function meanVectors(rows: readonly (readonly number[])[]): number[] | undefined {
  if (rows.length === 0) return undefined;
  return rows[0]!.map((_, i) => rows.reduce((a, r) => a + r[i]!, 0) / rows.length);
}

export function summarizeSceneRuns(
  configs: readonly SceneConfigInfo[],
  records: readonly SceneRunRecord[],
): SceneConfigSummary[] {
  return configs
    .map((config) => {
      const runs = records.filter((r) => r.configId === config.id);
      const values: SceneConfigSummary['values'] = {};
      for (const col of SCENE_COLUMNS) {
        const v = runs
          .map((r) => columnValue(r.metrics, col.key))
          .filter((x): x is number => x !== undefined);
        if (v.length > 0) values[col.key] = meanStd(v);
      }
      const last = runs.map((r) => r.log.at(-1)).filter((e): e is SceneLogEntry => e !== undefined);
      const s = last.map((e) => e.logVariances).filter((x): x is number[] => x !== undefined);
      const summary: SceneConfigSummary = {
        config,
        runs: runs.length,
        values,
        stepMs: meanStd(runs.map((r) => r.stepMs)),
      };
      const sigma2 = meanVectors(s.map((row) => row.map(Math.exp)));
      if (sigma2) summary.sigma2 = sigma2;
      const weights = meanVectors(last.map((e) => e.weights));
      if (weights) summary.weights = weights;
      return summary;
    })
    .filter((s) => s.runs > 0);
}

function cell(v: MeanStd | undefined, digits: number): string {
  if (!v || v.n === 0 || !Number.isFinite(v.mean)) return '–';
  return `${v.mean.toFixed(digits)} ± ${v.std.toFixed(digits)}`;
}

function weightsText(c: SceneConfigInfo): string {
  if (c.weighting === 'uncertainty') return 'learned';
  const all: SceneTask[] = ['semantic', 'instance', 'depth'];
  return all
    .map((t) => {
      const i = c.tasks.indexOf(t);
      const w = i < 0 ? 0 : c.weights![i]!;
      return Math.abs(w - 1 / 3) < 1e-9 ? '⅓' : String(Number(w.toFixed(3)));
    })
    .join(' / ');
}

/** Is `a` better than `b` on column `key` (by mean)? */
function better(key: SceneColumn, a: MeanStd, b: MeanStd): boolean {
  const col = SCENE_COLUMNS.find((c) => c.key === key)!;
  return col.better === 'higher' ? a.mean > b.mean : a.mean < b.mean;
}

/** Mean rank over the table's columns among the 3-task fixed configurations (1 = best). */
export function bestFixed(summaries: readonly SceneConfigSummary[]): SceneConfigSummary | undefined {
  const fixed = summaries.filter((s) => s.config.group === 'fixed');
  if (fixed.length === 0) return undefined;
  const cols = SCENE_COLUMNS.filter((c) => c.key !== 'ap50');
  const rank = (s: SceneConfigSummary) =>
    cols.reduce(
      (acc, c) => acc + fixed.filter((o) => better(c.key, o.values[c.key]!, s.values[c.key]!)).length,
      0,
    );
  return [...fixed].sort((a, b) => rank(a) - rank(b))[0];
}

/** Plain-language comparison of the learned 3-task weights with another configuration, column by column. */
export function verdict(learned: SceneConfigSummary, other: SceneConfigSummary): string {
  const parts = SCENE_COLUMNS.map((c) => {
    const a = learned.values[c.key];
    const b = other.values[c.key];
    if (!a || !b) return undefined;
    const overlap = Math.abs(a.mean - b.mean) <= Math.max(a.std, b.std);
    const word = better(c.key, a, b) ? 'better' : 'worse';
    return `${c.title} ${word} (${a.mean.toFixed(c.digits)} vs ${b.mean.toFixed(c.digits)}${overlap ? ', within one std' : ''})`;
  }).filter((p): p is string => p !== undefined);
  return `learned vs ${other.config.label}: ${parts.join('; ')}.`;
}

export interface SceneMarkdownInfo {
  command: string;
  steps: number;
  seeds: number;
  figures: Record<string, string>;
}

export function sceneResultsMarkdown(
  summaries: readonly SceneConfigSummary[],
  info: SceneMarkdownInfo,
): string {
  const lines: string[] = [];
  lines.push('# Scene geometry & semantics on synthetic street scenes (Table 1)');
  lines.push('');
  lines.push(
    `Generated by \`${info.command}\` — ${info.steps} steps of 8 scenes per run, ${info.seeds} seeds per row (mean ± sample std), evaluated on the same held-out test scenes.`,
  );
  lines.push('');
  const table = (rows: readonly SceneConfigSummary[]) => {
    lines.push(
      `| loss | weights seg / inst / depth | ${SCENE_COLUMNS.map((c) => c.title).join(' | ')} | learned σ² seg / inst / depth | ms/step |`,
    );
    lines.push(`|---|---|${SCENE_COLUMNS.map(() => '---').join('|')}|---|---|`);
    for (const s of rows) {
      const sigma = s.sigma2
        ? (['semantic', 'instance', 'depth'] as SceneTask[])
            .map((t) => {
              const i = s.config.tasks.indexOf(t);
              return i < 0 ? '–' : s.sigma2![i]!.toPrecision(3);
            })
            .join(' / ')
        : '';
      lines.push(
        `| ${s.config.label} | ${weightsText(s.config)} | ${SCENE_COLUMNS.map((c) => cell(s.values[c.key], c.digits)).join(' | ')} | ${sigma} | ${s.stepMs.mean.toFixed(0)} |`,
      );
    }
  };
  const order: SceneConfigSummary['config']['group'][] = ['single', 'fixed', 'learned'];
  const rows = order.flatMap((g) => summaries.filter((s) => s.config.group === g));
  table(rows);
  lines.push('');
  if (rows.some((r) => r.config.tasks.includes('instance') && !r.config.tasks.includes('semantic'))) {
    lines.push(
      'Models without a semantic head cluster the votes of the true thing pixels, so their instance AP50 is not comparable with the others (which must also find the things).',
    );
    lines.push('');
  }
  const learned = summaries.find((s) => s.config.id === 'learned-all');
  const unweighted = summaries.find((s) => s.config.id === 'unweighted');
  const best = bestFixed(summaries);
  if (learned) {
    lines.push('## Verdict');
    lines.push('');
    if (unweighted) lines.push(`- ${verdict(learned, unweighted)}`);
    if (best && best !== unweighted)
      lines.push(`- Best fixed weights by mean rank: ${best.config.label}. ${verdict(learned, best)}`);
    lines.push('');
  }
  const sweep = summaries.filter((s) => s.config.group === 'sweep');
  if (sweep.length > 0) {
    lines.push("## Fixed-weight sweep, semantic + depth (the paper's Fig. 2)");
    lines.push('');
    table(sweep);
    lines.push('');
  }
  const figures = Object.entries(info.figures);
  if (figures.length > 0) {
    lines.push('## Figures');
    lines.push('');
    for (const [title, file] of figures) lines.push(`- ${title}: ![${title}](${file})`);
    lines.push('');
  }
  return lines.join('\n');
}
