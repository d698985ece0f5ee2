/**
 * A self-contained HTML report of a training run: metrics tables, learned σ and weights, settings and
 * every plot inline, with no external resources (no fonts, scripts or CDNs), so it opens offline and
 * can be mailed or archived as one file.
 */
import type { TopLevelSpec } from 'vega-lite';
import { Z95 } from '../tabular/calibration.js';
import {
  observedCoverage,
  RELIABILITY_LEVELS,
  reliabilitySpec,
  widthVsErrorSpec,
} from '../plot/uncertainty-specs.js';
import {
  confusionMatrixSpec,
  lossCurveSpec,
  metricCurveSpec,
  predictedVsActualSpec,
  sigmaTrajectorySpec,
  type MetricSeries,
} from '../plot/specs.js';
import type { EpochEvent } from '../train/events.js';
import type { History } from '../train/history.js';
import { renderSvg, svgToPng } from './render.js';

export interface ReportTask {
  name: string;
  kind: 'regression' | 'classification' | 'binary';
  sigma?: number;
  weight?: number;
  unit?: string;
  classes?: string[];
}

export type ReportSplit = 'train' | 'validation' | 'test';

export interface ReportInput {
  title: string;
  createdAt: string;
  dataSource: string;
  /** Shown as a key/value table (arrays joined). */
  settings: Record<string, unknown>;
  tasks: ReportTask[];
  /** split → task → metric → value */
  metrics: Partial<Record<ReportSplit, Record<string, Record<string, number>>>>;
  history: History;
  /** Test split, original units. */
  regression: { task: string; actual: number[]; predicted: number[]; lower?: number[]; upper?: number[] }[];
  /** Test split confusion matrices, `counts[actual][predicted]`. */
  classification: { task: string; classes: string[]; counts: number[][] }[];
  warnings: string[];
}

export interface ReportPlot {
  /** File-name-safe, unique within the report: 'loss', 'sigma', 'metric-<task>-<metric>', … */
  name: string;
  title: string;
  svg: string;
  png: Uint8Array;
}

const SPLITS: readonly ReportSplit[] = ['train', 'validation', 'test'];

/** 'Body Mass (g)' → 'body-mass-g'; never empty. */
export function slugify(text: string): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return slug === '' ? 'x' : slug;
}

/** The metric drawn per epoch for a task of this kind. */
function epochMetric(kind: ReportTask['kind']): string {
  return kind === 'regression' ? 'rmse' : 'accuracy';
}

/** Hands out file-name-safe names, suffixing '-2', '-3', … where two task names slug alike. */
function uniqueNamer(): (name: string) => string {
  const used = new Set<string>();
  return (name) => {
    let candidate = name;
    for (let i = 2; used.has(candidate); i++) candidate = `${name}-${i}`;
    used.add(candidate);
    return candidate;
  };
}

/** Series names that cannot clash with a task's: a task called 'total' gets a 'task: ' prefix. */
function lossSeriesNames(): {
  total: string;
  validation: string;
  task: (t: string) => string;
} {
  const total = 'total';
  const validation = 'validation total';
  const reserved = new Set([total, validation]);
  return { total, validation, task: (t) => (reserved.has(t) ? `task: ${t}` : t) };
}

const valueOr = (v: number | undefined): number => v ?? NaN;

/** Renders every plot of the report to SVG and PNG, in display order. */
export async function buildReportPlots(input: ReportInput): Promise<ReportPlot[]> {
  const { history } = input;
  const epochs = history.epochs.map((e) => e.epoch);
  const taskNames = input.tasks.length > 0 ? input.tasks.map((t) => t.name) : history.tasks;
  const specs: { name: string; title: string; spec: TopLevelSpec }[] = [];
  const name = uniqueNamer();

  if (history.epochs.length > 0) {
    const n = lossSeriesNames();
    const hasValidation = history.epochs.some((e) => e.validation !== undefined);
    const title = 'Training loss (mean over each epoch)';
    specs.push({
      name: name('loss'),
      title,
      spec: lossCurveSpec({
        title,
        epochs,
        series: [
          { name: n.total, values: history.epochs.map((e) => e.loss) },
          ...taskNames.map((t) => ({
            name: n.task(t),
            values: history.epochs.map((e) => valueOr(e.taskLosses[t])),
          })),
          // after the tasks, so they take the category colours in the σ plot's order
          ...(hasValidation
            ? [{ name: n.validation, values: history.epochs.map((e) => valueOr(e.validation?.loss)) }]
            : []),
        ],
        logY: true,
        totalSeries: n.total,
      }),
    });
  }

  const sigmaTasks = taskNames.filter((t) => history.epochs.some((e) => e.sigmas?.[t] !== undefined));
  if (sigmaTasks.length > 0) {
    const title = 'Learned σ per task';
    specs.push({
      name: name('sigma'),
      title,
      spec: sigmaTrajectorySpec({
        title,
        epochs,
        tasks: sigmaTasks.map((t) => ({
          name: t,
          sigma: history.epochs.map((e) => valueOr(e.sigmas?.[t])),
        })),
        logY: true,
      }),
    });
  }

  const withMetrics = history.epochs.filter((e) => e.metrics !== undefined);
  for (const task of input.tasks) {
    const metric = epochMetric(task.kind);
    const pick = (split: 'train' | 'validation') => (e: EpochEvent) =>
      valueOr(e.metrics?.[split]?.[task.name]?.[metric]);
    const series: MetricSeries[] = (['train', 'validation'] as const)
      .map((split) => ({ name: metric, split, values: withMetrics.map(pick(split)) }))
      .filter((s) => s.values.some(Number.isFinite));
    if (series.length === 0) continue;
    const title = `${task.name}: ${metric} per epoch`;
    const yTitle = task.kind === 'regression' && task.unit ? `${metric} (${task.unit})` : metric;
    specs.push({
      name: name(`metric-${slugify(task.name)}-${slugify(metric)}`),
      title,
      spec: metricCurveSpec({ title, epochs: withMetrics.map((e) => e.epoch), series, yTitle }),
    });
  }

  const unitOf = (task: string): string | undefined => input.tasks.find((t) => t.name === task)?.unit;
  for (const r of input.regression) {
    const title = `${r.task}: predicted vs actual (test)`;
    specs.push({
      name: name(`predicted-${slugify(r.task)}`),
      title,
      spec: predictedVsActualSpec({ title, ...r, unit: unitOf(r.task) }),
    });
    if (!r.lower || !r.upper) continue;
    // each row's σ, back from its 95 % interval
    const sigma = r.lower.map((lo, i) => (r.upper![i]! - lo) / (2 * Z95));
    const reliability = `${r.task}: interval reliability (test)`;
    specs.push({
      name: name(`reliability-${slugify(r.task)}`),
      title: reliability,
      spec: reliabilitySpec({
        title: reliability,
        levels: RELIABILITY_LEVELS,
        observed: observedCoverage(r.actual, r.predicted, sigma),
      }),
    });
    const widthTitle = `${r.task}: error against predicted σ (test)`;
    specs.push({
      name: name(`sigma-error-${slugify(r.task)}`),
      title: widthTitle,
      spec: widthVsErrorSpec({
        title: widthTitle,
        sigma,
        absError: r.actual.map((a, i) => Math.abs(a - r.predicted[i]!)),
        ...(unitOf(r.task) ? { unit: unitOf(r.task)! } : {}),
      }),
    });
  }
  for (const c of input.classification) {
    const title = `${c.task}: confusion matrix (test)`;
    specs.push({
      name: name(`confusion-${slugify(c.task)}`),
      title,
      spec: confusionMatrixSpec({ title, classes: c.classes, counts: c.counts }),
    });
  }

  const plots: ReportPlot[] = [];
  // one at a time: vega views are cheap but a 2-core CI box gains nothing from interleaving them
  for (const s of specs) {
    const svg = await renderSvg(s.spec);
    plots.push({ name: s.name, title: s.title, svg, png: svgToPng(svg) });
  }
  return plots;
}

// ---------------------------------------------------------------------------------------------------
// HTML

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

const significant = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Four significant digits; exponent notation only for very small or very large magnitudes. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a < 1e-3 || a >= 1e9) return v.toExponential(3).replace(/\.?0+e/, 'e');
  if (Number.isInteger(v)) return integer.format(v);
  return significant.format(v);
}

function formatSetting(v: unknown): string {
  if (v === undefined || v === null) return '—';
  if (Array.isArray(v)) return v.map((x) => formatSetting(x)).join(', ');
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v !== 'object') return `(${typeof v})`; // functions and symbols
  try {
    return JSON.stringify(v);
  } catch {
    return '(unserialisable object)'; // e.g. circular
  }
}

/** The last value a task had in the history, for σ and weights the caller didn't pass. */
function lastRecorded(history: History, pick: (e: EpochEvent) => number | undefined): number | undefined {
  for (let i = history.epochs.length - 1; i >= 0; i--) {
    const v = pick(history.epochs[i]!);
    if (v !== undefined) return v;
  }
  return undefined;
}

/**
 * Makes an SVG safe to inline next to others: vega numbers its clip paths and gradients per render
 * ('clip1', …), so two inline plots would otherwise share ids and clip each other. Rewrites ids and
 * their references inside tags only (vega escapes '<' and '>' in text and attribute values), and drops
 * the namespace declarations, which the HTML parser does not need.
 */
export function inlineSvg(svg: string, idPrefix: string): string {
  return svg
    .replace(/<\?xml[^>]*>\s*/, '')
    .replace(/<[^>]+>/g, (tag) =>
      tag
        .replace(/\s(id)="([^"]*)"/g, (_, attr: string, id: string) => ` ${attr}="${idPrefix}${id}"`)
        .replace(/url\(#([^)]*)\)/g, (_, id: string) => `url(#${idPrefix}${id})`)
        .replace(
          /(\s(?:xlink:)?href)="#([^"]*)"/g,
          (_, attr: string, id: string) => `${attr}="#${idPrefix}${id}"`,
        ),
    )
    .replace(/^<svg\b[^>]*>/, (tag) => tag.replace(/\sxmlns(?::\w+)?="[^"]*"/g, ''));
}

function table(head: string[], rows: string[][], cls = ''): string {
  const th = head.map((h) => `<th scope="col">${h}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`,
    )
    .join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const num = (v: number | undefined): string =>
  v === undefined ? '<span class="na">—</span>' : formatNumber(v);

function metricsSection(input: ReportInput): string {
  const parts: string[] = [];
  const order = input.tasks.map((t) => t.name);
  for (const split of SPLITS) {
    const bySplit = input.metrics[split];
    if (bySplit === undefined) continue;
    const tasks = [
      ...order.filter((t) => t in bySplit),
      ...Object.keys(bySplit).filter((t) => !order.includes(t)),
    ];
    if (tasks.length === 0) continue;
    const metricNames = [...new Set(tasks.flatMap((t) => Object.keys(bySplit[t] ?? {})))];
    const rows = tasks.map((t) => [escapeHtml(t), ...metricNames.map((m) => num(bySplit[t]?.[m]))]);
    parts.push(
      `<h3>${escapeHtml(split)}</h3>\n` + table(['task', ...metricNames.map(escapeHtml)], rows, 'numeric'),
    );
  }
  if (parts.length === 0) parts.push('<p class="na">No metrics were recorded.</p>');
  return `<section id="metrics"><h2>Metrics</h2>\n${parts.join('\n')}\n</section>`;
}

function tasksSection(input: ReportInput): string {
  const { history } = input;
  const rows = input.tasks.map((t) => {
    const sigma = t.sigma ?? lastRecorded(history, (e) => e.sigmas?.[t.name]);
    const weight = t.weight ?? lastRecorded(history, (e) => e.weights[t.name]);
    const detail =
      t.kind === 'regression'
        ? t.unit
          ? `unit: ${escapeHtml(t.unit)}`
          : ''
        : t.classes
          ? `${t.classes.length} classes: ${t.classes.map(escapeHtml).join(', ')}`
          : '';
    return [escapeHtml(t.name), escapeHtml(t.kind), detail, num(sigma), num(weight)];
  });
  const note =
    '<p class="note">Under uncertainty weighting each task’s loss is scaled by a learned precision ' +
    '(weight ∝ 1/σ²) and a regulariser in log σ is added. That term is negative whenever σ &lt; 1, so ' +
    '<strong>the total loss can be negative</strong>; only its decrease matters, and totals are not ' +
    'comparable across weighting strategies. σ is on the scale the task’s loss is computed on, not ' +
    'necessarily in the target’s original units.</p>';
  return (
    `<section id="tasks"><h2>Tasks, learned σ and weights</h2>\n` +
    table(['task', 'kind', 'details', 'learned σ', 'weight'], rows, 'tasks') +
    `\n${note}\n</section>`
  );
}

function plotsSection(plots: ReportPlot[]): string {
  const figures = plots.map((p, i) => {
    const label = escapeHtml(p.title);
    return (
      `<figure class="plot" id="plot-${escapeHtml(p.name)}" role="group" aria-label="${label}">` +
      `${inlineSvg(p.svg, `p${i}-`)}</figure>`
    );
  });
  return `<section id="plots"><h2>Plots</h2>\n<div class="plots">\n${figures.join('\n')}\n</div>\n</section>`;
}

function settingsSection(settings: Record<string, unknown>): string {
  const entries = Object.entries(settings);
  if (entries.length === 0) return '';
  const rows = entries.map(([k, v]) => [escapeHtml(k), escapeHtml(formatSetting(v))]);
  return `<section id="settings"><h2>Settings</h2>\n${table(['setting', 'value'], rows, 'settings')}\n</section>`;
}

function warningsSection(warnings: string[]): string {
  if (warnings.length === 0) return '';
  const items = warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('\n');
  return `<section id="warnings" class="warnings"><h2>Warnings</h2>\n<ul>\n${items}\n</ul>\n</section>`;
}

const STYLE = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-alt: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg); background: #fff; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.25em; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1em; margin: 18px 0 6px; text-transform: capitalize; }
.meta { color: var(--muted); margin: 0; }
.meta span + span::before { content: " · "; }
table { border-collapse: collapse; margin: 4px 0 8px; font-size: 0.93em; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--bg-alt); font-weight: 600; }
tbody th { font-weight: 500; }
table.numeric td, table.tasks td:nth-child(n+4) { text-align: right; font-variant-numeric: tabular-nums; }
table.numeric thead th:not(:first-child), table.tasks thead th:nth-child(n+4) { text-align: right; }
table.settings td { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.92em; word-break: break-word; }
.na { color: var(--muted); }
.note { color: var(--muted); max-width: 60em; font-size: 0.92em; }
.warnings { border-left: 4px solid #d4a72c; background: #fff8c5; padding: 2px 16px 8px; margin-top: 24px; }
.warnings h2 { border: 0; margin-top: 10px; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 540px), 1fr)); gap: 16px; align-items: start; }
figure.plot { margin: 0; padding: 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; min-width: 0; }
figure.plot > svg { display: block; margin: 0 auto; max-width: 100%; height: auto; }
footer { margin-top: 40px; color: var(--muted); font-size: 0.85em; }
@media print { main { padding: 0; } figure.plot { break-inside: avoid; } }
`;

/**
 * The report as one self-contained HTML5 document: a Content-Security-Policy forbids every external
 * load and all scripts, and user strings (task and column names, settings, warnings) are escaped.
 */
export function renderReportHtml(input: ReportInput, plots: ReportPlot[]): string {
  const { history } = input;
  const last = history.epochs.at(-1);
  const meta = [
    `created ${escapeHtml(input.createdAt)}`,
    `data: ${escapeHtml(input.dataSource)}`,
    `weighting: ${escapeHtml(history.strategy)}`,
    `${history.epochs.length} epoch${history.epochs.length === 1 ? '' : 's'}`,
    ...(last !== undefined ? [`final loss ${formatNumber(last.loss)}`] : []),
    ...(history.stoppedEarly
      ? [
          `stopped early at epoch ${history.stoppedEarly.epoch} (best ${history.stoppedEarly.bestEpoch}: ` +
            `${escapeHtml(history.stoppedEarly.reason)})`,
        ]
      : []),
  ];
  const csp =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="generator" content="tfjs-mtl">
<title>${escapeHtml(input.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(input.title)}</h1>
<p class="meta">${meta.map((m) => `<span>${m}</span>`).join('')}</p>
</header>
${warningsSection(input.warnings)}
${metricsSection(input)}
${tasksSection(input)}
${plots.length > 0 ? plotsSection(plots) : ''}
${settingsSection(input.settings)}
<footer>Generated by tfjs-mtl. Self-contained: no scripts, fonts or other external resources.</footer>
</main>
</body>
</html>
`;
}
