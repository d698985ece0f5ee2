import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildReportPlots,
  escapeHtml,
  formatNumber,
  inlineSvg,
  renderReportHtml,
  slugify,
  type ReportInput,
  type ReportPlot,
} from '../src/node/report.js';
import type { EpochEvent } from '../src/train/events.js';
import { inspectReport, launchChromium } from './browser.js';

/** Deterministic noise in [-0.5, 0.5) so the fake run looks real without Math.random. */
function noise(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
}

const MASS = 'Body Mass (g)';
const SPECIES = 'Species';
/** Hostile on purpose: must reach the page as text, never as markup. */
const SEX = `Sex <script>document.title='pwned'</script> & "q"`;

function fakeInput(): ReportInput {
  const rnd = noise(11);
  const tasks = [MASS, SPECIES, SEX];
  const epochs: EpochEvent[] = Array.from({ length: 50 }, (_, i) => {
    const e = i + 1;
    const decay = Math.exp(-e / 12);
    const taskLosses: Record<string, number> = {
      [MASS]: 0.12 + 0.9 * decay + 0.02 * rnd(),
      [SPECIES]: 0.05 + 1.0 * decay + 0.01 * rnd(),
      [SEX]: 0.3 + 0.4 * decay + 0.02 * rnd(),
    };
    const sigmas: Record<string, number> = {
      [MASS]: 0.35 + 0.65 * decay,
      [SPECIES]: 0.25 + 0.75 * decay,
      [SEX]: 0.6 + 0.4 * decay,
    };
    const weights = Object.fromEntries(tasks.map((t) => [t, 1 / (2 * sigmas[t]! ** 2)]));
    const loss = tasks.reduce((s, t) => s + weights[t]! * taskLosses[t]! + Math.log(sigmas[t]!), 0);
    const acc = (base: number, gain: number): number =>
      Math.min(0.995, base + gain * (1 - decay) + 0.01 * rnd());
    const split = (offset: number) => ({
      [MASS]: { rmse: 290 + 700 * decay + offset * 40 + 8 * rnd(), mae: 230 + 540 * decay },
      [SPECIES]: { accuracy: acc(0.45, 0.52 - offset * 0.03) },
      [SEX]: { accuracy: acc(0.5, 0.38 - offset * 0.04) },
    });
    return {
      epoch: e,
      steps: e * 9,
      loss,
      taskLosses,
      weights,
      sigmas,
      ...(e % 2 === 0 || e === 1 ? { metrics: { train: split(0), validation: split(1) } } : {}),
      validation: { loss: loss + 0.15 + 0.05 * rnd(), taskLosses },
      seconds: e * 0.04,
    };
  });
  const actual = Array.from({ length: 67 }, () => 4200 + 1600 * rnd() + 600 * rnd());
  const predicted = actual.map((a) => a + 320 * rnd() + 60);
  const last = epochs.at(-1)!;
  return {
    title: 'Palmer penguins <multi-task> & friends',
    createdAt: '2025-06-01T12:00:00.000Z',
    dataSource: 'penguins.csv (333 rows; 266 train / 67 test)',
    settings: {
      epochs: 50,
      batchSize: 32,
      learningRate: 0.001,
      hidden: [64, 32],
      weighting: 'uncertainty',
      'drop <columns>': ['island', 'year'],
      seed: 42,
      standardise: true,
    },
    tasks: [
      { name: MASS, kind: 'regression', unit: 'g', sigma: last.sigmas![MASS], weight: last.weights[MASS] },
      { name: SPECIES, kind: 'classification', classes: ['Adelie', 'Chinstrap', 'Gentoo'] },
      { name: SEX, kind: 'binary', classes: ['female', 'male'] },
    ],
    metrics: {
      train: last.metrics!.train,
      validation: last.metrics!.validation!,
      test: {
        [MASS]: { rmse: 312.4567, mae: 245.1, r2: 0.8531 },
        [SPECIES]: { accuracy: 0.9701, logLoss: 0.0923, macroF1: 0.9655 },
        [SEX]: { accuracy: 0.8806, auc: 0.9412 },
      },
    },
    history: { tasks, strategy: 'uncertainty', epochs },
    regression: [
      {
        task: MASS,
        actual,
        predicted,
        lower: predicted.map((p) => p - 380),
        upper: predicted.map((p) => p + 380),
      },
    ],
    classification: [
      {
        task: SPECIES,
        classes: ['Adelie', 'Chinstrap', 'Gentoo'],
        counts: [
          [29, 1, 0],
          [1, 13, 0],
          [0, 0, 23],
        ],
      },
      {
        task: SEX,
        classes: ['female', 'male'],
        counts: [
          [30, 4],
          [4, 29],
        ],
      },
    ],
    warnings: [
      '11 rows with a missing <sex> were dropped',
      "Column 'year' looks like an identifier & was ignored",
    ],
  };
}

const input = fakeInput();
let plots: ReportPlot[];
let html: string;

beforeAll(async () => {
  plots = await buildReportPlots(input);
  html = renderReportHtml(input, plots);
}, 20_000);

describe('report helpers', () => {
  it('slugifies task names into file-name-safe plot names', () => {
    expect(slugify('Body Mass (g)')).toBe('body-mass-g');
    expect(slugify('Flipper length — mm')).toBe('flipper-length-mm');
    expect(slugify('Crème brûlée')).toBe('creme-brulee');
    expect(slugify('<>')).toBe('x');
  });

  it('formats numbers with four significant digits', () => {
    expect(formatNumber(312.4567)).toBe('312.5');
    expect(formatNumber(0.97014)).toBe('0.9701');
    expect(formatNumber(12_345.678)).toBe('12,350');
    expect(formatNumber(42)).toBe('42');
    expect(formatNumber(0.00012346)).toBe('1.235e-4');
    expect(formatNumber(-2.5)).toBe('-2.5');
    expect(formatNumber(NaN)).toBe('NaN');
  });

  it('escapes every HTML-significant character', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('prefixes SVG ids and their references so inline plots do not share clip paths', () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="1"><g clip-path="url(#clip1)"><text>id="a"</text>' +
      '<use href="#g1"/></g><defs><clipPath id="clip1"/></defs></svg>';
    expect(inlineSvg(svg, 'p3-')).toBe(
      '<svg width="1"><g clip-path="url(#p3-clip1)"><text>id="a"</text><use href="#p3-g1"/></g>' +
        '<defs><clipPath id="p3-clip1"/></defs></svg>',
    );
  });
});

describe('buildReportPlots', () => {
  it('names every plot file-name-safely, in display order', () => {
    expect(plots.map((p) => p.name)).toEqual([
      'loss',
      'sigma',
      'metric-body-mass-g-rmse',
      'metric-species-accuracy',
      'metric-sex-script-document-title-pwned-script-q-accuracy',
      'predicted-body-mass-g',
      'reliability-body-mass-g',
      'sigma-error-body-mass-g',
      'confusion-species',
      'confusion-sex-script-document-title-pwned-script-q',
    ]);
    for (const p of plots) {
      expect(p.name).toMatch(/^[a-z0-9-]+$/);
      expect(p.svg).toMatch(/^<svg/);
      expect([...p.png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    }
  });

  it('leaves out the σ plot when the strategy learns no σ', async () => {
    const epochs = input.history.epochs.slice(0, 3).map(({ sigmas: _s, metrics: _m, ...e }) => e);
    const names = (
      await buildReportPlots({
        ...input,
        history: { ...input.history, strategy: 'equal', epochs },
        regression: [],
        classification: [],
      })
    ).map((p) => p.name);
    expect(names).toEqual(['loss']);
  });
});

describe('renderReportHtml', () => {
  it('is self-contained: no scripts and no URLs of any kind', () => {
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/https?:|\/\/[a-z]|<link|@import|src="(?!data:)/i);
    expect(html.match(/<svg/g)).toHaveLength(plots.length);
  });

  it('escapes user strings and shows the metrics, σ, settings, warnings and the negative-loss note', () => {
    expect(html).toContain(escapeHtml(SEX));
    expect(html).toContain('Palmer penguins &lt;multi-task&gt; &amp; friends');
    expect(html).toContain('drop &lt;columns&gt;');
    expect(html).toContain('<td>island, year</td>');
    expect(html).toContain('<td>64, 32</td>');
    expect(html).toContain('<li>11 rows with a missing &lt;sex&gt; were dropped</li>');
    expect(html).toContain('<td>312.5</td>');
    expect(html).toContain('<td>0.9701</td>');
    expect(html).toMatch(/total loss can be negative/);
    for (const split of ['train', 'validation', 'test']) expect(html).toContain(`<h3>${split}</h3>`);
  });
});

describe('report in headless Chromium', () => {
  let browser: Browser | undefined;
  let dir: string;

  beforeAll(async () => {
    // kept after the run (a few hundred kB) so the report and its screenshot can be looked at
    dir = await mkdtemp(join(tmpdir(), 'tfjs-mtl-report-'));
    await writeFile(join(dir, 'report.html'), html);
  }, 20_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('renders every plot with no errors and no network access', async () => {
    // launched here, not in a hook: a missing browser must fail this test, not skip it
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const url = pathToFileURL(join(dir, 'report.html')).href;
    const state = await inspectReport(page, url);
    const { problems, requests } = state;
    expect(state.ok).toBe(true);
    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
    expect(state.scripts).toBe(0);
    expect(state.title).toBe(input.title);
    expect(state.duplicateIds).toEqual([]);
    expect(state.figures).toBe(plots.length);
    expect(state.items).toHaveLength(plots.length);
    for (const item of state.items) {
      expect(item.width).toBeGreaterThan(100);
      expect(item.height).toBeGreaterThan(100);
      expect(item.natural).toBeGreaterThan(0);
      if (item.tag === 'svg') expect(item.marks).toBeGreaterThan(10);
    }
    // the hostile task name arrives as text, both in the tables and in the plots' legends and titles
    expect(state.text).toContain(SEX);
    expect(state.text).toContain('Body Mass (g)');
    expect(
      await page.locator('svg text', { hasText: "<script>document.title='pwned'</script>" }).count(),
    ).toBeGreaterThan(0);

    const shot = join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = await readFile(shot);
    expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(png.length).toBeGreaterThan(50_000);
    console.log(`report: ${join(dir, 'report.html')}\nscreenshot: ${shot}`);
    await page.close();
  }, 20_000);
});
