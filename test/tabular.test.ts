import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { inspectReport, launchChromium } from './browser.js';
import { runCli, type CliRun } from './cli.js';

const PENGUINS = fileURLToPath(new URL('../node_modules/vega-datasets/data/penguins.json', import.meta.url));
const TARGETS = ['--target', 'Species', '--target', 'Sex', '--target', 'Body Mass (g)'];
const FEATURES = ['--features', 'Beak Length (mm),Beak Depth (mm),Flipper Length (mm),Island'];

type Metrics = Record<string, Record<string, Record<string, number>>>;

const work = mkdtempSync(join(tmpdir(), 'tabular-'));
const modelDir = join(work, 'penguins-model');
let trainRun: CliRun;
let trainSeconds = 0;

beforeAll(() => {
  const t0 = performance.now();
  trainRun = runCli(['train', PENGUINS, ...TARGETS, ...FEATURES, '--out', modelDir, '--quiet']);
  trainSeconds = (performance.now() - t0) / 1000;
}, 120_000);

describe('tfjs-mtl train on the Palmer penguins', () => {
  it('finishes in under 60 s and meets the accuracy bar on the test split', () => {
    expect(trainRun.stderr).toBe('');
    expect(trainRun.status).toBe(0);
    expect(trainSeconds).toBeLessThan(60);
    const metrics = JSON.parse(readFileSync(join(modelDir, 'metrics.json'), 'utf8')) as Metrics;
    expect(Object.keys(metrics)).toEqual(['train', 'validation', 'test']);
    const test = metrics['test']!;
    expect(test['Species']!['accuracy']).toBeGreaterThanOrEqual(0.95);
    expect(test['Sex']!['accuracy']).toBeGreaterThanOrEqual(0.85);
    expect(test['Body Mass (g)']!['rmse']).toBeLessThanOrEqual(400);
    expect(test['Body Mass (g)']!['coverage95']).toBeGreaterThanOrEqual(0.9);
    expect(test['Body Mass (g)']!['coverage95']).toBeLessThanOrEqual(0.99);
    expect(trainRun.stdout).toMatch(/test:\n(.*\n)*\s+Body Mass \(g\)\s+rmse \d+/);
  });

  it('writes the model, its preprocessing, weighting, metrics, history, report and plots', () => {
    const files = readdirSync(modelDir).sort();
    for (const f of [
      'model.json',
      'weights.bin',
      'preprocess.json',
      'weighting.json',
      'metrics.json',
      'history.json',
      'report.html',
    ]) {
      expect(files).toContain(f);
    }
    for (const p of [
      'loss',
      'sigma',
      'metric-species-accuracy',
      'metric-body-mass-g-rmse',
      'predicted-body-mass-g',
      'reliability-body-mass-g',
      'sigma-error-body-mass-g',
      'confusion-species',
      'confusion-sex',
    ]) {
      expect(files).toContain(`${p}.png`);
    }
    const model = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as {
      weightsManifest: { paths: string[] }[];
    };
    expect(model.weightsManifest[0]!.paths).toEqual(['weights.bin']);
    const weighting = JSON.parse(readFileSync(join(modelDir, 'weighting.json'), 'utf8')) as {
      strategy: string;
      tasks: {
        name: string;
        kind: string;
        sigma?: number;
        temperature?: number;
        calibrationTemperature?: number;
        calibrationSource?: string;
      }[];
    };
    expect(weighting.strategy).toBe('uncertainty');
    expect(weighting.tasks.map((t) => [t.name, t.kind])).toEqual([
      ['Species', 'classification'],
      ['Sex', 'binary'],
      ['Body Mass (g)', 'regression'],
    ]);
    // σ of body mass in grams, near the RMSE
    expect(weighting.tasks[2]!.sigma).toBeGreaterThan(200);
    expect(weighting.tasks[2]!.sigma).toBeLessThan(500);
    // classifiers: the learned temperature and the one fitted on the validation rows, side by side
    for (const t of weighting.tasks.slice(0, 2)) {
      expect(t.temperature).toBeGreaterThan(0);
      expect(t.calibrationTemperature).toBeGreaterThan(0);
      expect(t.calibrationSource).toBe('validation');
    }
    expect(readdirSync(work).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('evaluate reports metrics and 95 % interval coverage for body mass', () => {
    const r = runCli(['evaluate', modelDir, PENGUINS, '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { metrics: Metrics[string] };
    const mass = out.metrics['Body Mass (g)']!;
    expect(mass['coverage95']).toBeGreaterThanOrEqual(0.9);
    expect(mass['coverage95']).toBeLessThanOrEqual(0.99);
    expect(mass['coverage68']).toBeLessThan(mass['coverage95']!);
    expect(out.metrics['Species']!['ece']).toBeTypeOf('number');
    expect(out.metrics['Species']!['eceWithoutTemperature']).toBeTypeOf('number');
    expect(out.metrics['Sex']!['eceLearnedTemperature']).toBeTypeOf('number');
    const text = runCli(['evaluate', modelDir, PENGUINS]);
    expect(text.stdout).toMatch(
      /Body Mass \(g\)\s+rmse [\d.]+\s+mae [\d.]+\s+coverage68 [\d.]+\s+coverage95/,
    );
  });

  it('predict writes intervals and class probabilities as CSV and JSON', () => {
    const csv = join(work, 'preds.csv');
    expect(runCli(['predict', modelDir, PENGUINS, '--out', csv]).status).toBe(0);
    const [header, first] = readFileSync(csv, 'utf8').split('\n');
    expect(header).toContain('Body Mass (g) lower95');
    expect(header).toContain('Species P(Adelie)');
    expect(first).toMatch(/^record 1,/);
    const json = join(work, 'preds.json');
    expect(runCli(['predict', modelDir, PENGUINS, '--out', json]).status).toBe(0);
    const recs = JSON.parse(readFileSync(json, 'utf8')) as Record<string, Record<string, unknown>>[];
    expect(recs).toHaveLength(344);
    const mass = recs[0]!['Body Mass (g)'] as { prediction: number; lower95: number; upper95: number };
    expect(mass.lower95).toBeLessThan(mass.prediction);
    expect(mass.upper95).toBeGreaterThan(mass.prediction);
    const probs = (recs[0]!['Species'] as { probabilities: Record<string, number> }).probabilities;
    expect(Object.values(probs).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // stdout by default
    expect(runCli(['predict', modelDir, PENGUINS]).stdout.split('\n')[0]).toBe(header);
  });

  describe('report.html in headless Chromium', () => {
    let browser: Browser | undefined;
    afterAll(async () => {
      await browser?.close();
    });
    it('opens with no console errors and shows every plot', async () => {
      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const url = pathToFileURL(join(modelDir, 'report.html')).href;
      const state = await inspectReport(page, url);
      expect(state.ok).toBe(true);
      expect(state.problems).toEqual([]);
      expect(state.requests).toEqual([url]);
      const pngs = readdirSync(modelDir).filter((f) => f.endsWith('.png'));
      expect(state.figures).toBe(pngs.length);
      for (const item of state.items) {
        expect(item.width).toBeGreaterThan(100);
        expect(item.height).toBeGreaterThan(100);
      }
      expect(state.text).toContain('Body Mass (g)');
      await page.screenshot({ path: join(work, 'report.png'), fullPage: true });
    }, 30_000);
  });
});

describe('bad input: one clear line, exit code ≠ 0, no stack trace, no finished-looking model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tabular-bad-'));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const good = 'a,b,y,c\n1,2,3.5,x\n2,3,4.5,y\n3,1,2.5,x\n4,4,1.0,y\n5,2,2.0,x\n6,3,3.0,y\n';
  const expectFailure = (r: CliRun, message: RegExp, out?: string) => {
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at |Error:/);
    if (out) expect(existsSync(join(out, 'model.json'))).toBe(false);
  };
  let runs = 0;
  const train = (data: string, ...extra: string[]) => {
    const out = join(dir, `out-${++runs}`);
    const target = extra.includes('--target') ? [] : ['--target', 'y'];
    return { r: runCli(['train', data, ...target, '--epochs', '2', '--out', out, '--quiet', ...extra]), out };
  };

  it.each([
    ['missing file', () => train(join(dir, 'nope.csv')), /file not found: .*nope\.csv/],
    ['empty file', () => train(file('empty.csv', '')), /empty\.csv is empty/],
    ['header only', () => train(file('header.csv', 'a,b,y\n')), /header\.csv has a header but no data rows/],
    [
      'ragged rows',
      () => train(file('ragged.csv', 'a,b,y\n1,2,3\n4,5\n')),
      /ragged\.csv line 3 has 2 fields, the header has 3/,
    ],
    [
      'target not found',
      () => train(file('good.csv', good), '--target', 'y', '--target', 'zz'),
      /target column 'zz' not found/,
    ],
    [
      'numeric target with text',
      () => train(file('text.csv', 'a,y\n1,2\n2,3\n3,heavy\n4,5\n')),
      /text\.csv line 4, column 'y': expected a number, got 'heavy'/,
    ],
    [
      'one-class classification target',
      () => train(file('oneclass.csv', 'a,y\n1,p\n2,p\n3,p\n4,p\n5,p\n'), '--target', 'y:classification'),
      /'y'.*(one class|only one)/,
    ],
    [
      'every target missing',
      () => train(file('nolabels.csv', 'a,y\n1,NA\n2,\n3,.\n4,NaN\n5,null\n')),
      /(no training row has any target value|has no values)/,
    ],
    [
      'Infinity in data',
      () => train(file('inf.csv', 'a,y\n1,2\nInfinity,3\n3,4\n4,5\n')),
      /inf\.csv line 3, column 'a': Infinity is not a valid value/,
    ],
    ['duplicate columns', () => train(file('dup.csv', 'a,a,y\n1,2,3\n')), /column 'a' appears twice/],
    [
      '--val + --test ≥ 1',
      () => train(file('good2.csv', good), '--val', '0.6', '--test', '0.5'),
      /val \+ test must be < 1/,
    ],
    [
      'bad flag value',
      () => train(file('good3.csv', good), '--val', '1.5'),
      /--val <fraction>' argument '1.5' is invalid/,
    ],
  ])('train: %s', (_name, run, message) => {
    const { r, out } = run();
    expectFailure(r, message, out);
  });

  it('an all-empty column is left out of the features with one warning, unless asked for by name', () => {
    const text =
      'a,notes,y\n' + Array.from({ length: 12 }, (_, i) => `${i},,${(i * 0.7).toFixed(1)}`).join('\n') + '\n';
    const data = file('empty-column.csv', text);
    const { r, out } = train(data);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^warning: .*empty-column\.csv: column 'notes' has no values \(every row is missing\); left out of the features$/m,
    );
    expect(existsSync(join(out, 'weights.bin'))).toBe(true);
    const named = train(data, '--features', 'a,notes');
    expectFailure(named.r, /column 'notes' has no values \(every row is missing\)/, named.out);
  });

  it('a config file error names the config path', () => {
    const cfg = file('exp.yaml', 'targets:\n  - name: y\n    kind: regresion\nepochs: -1\n');
    const r = runCli(['train', file('good4.csv', good), '--config', cfg]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/exp\.yaml: targets\[0\]\.kind: /);
    expect(r.stderr).toMatch(/exp\.yaml: epochs: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('model folder errors: missing, corrupt model.json, weights outside the folder', () => {
    expectFailure(
      runCli(['evaluate', join(dir, 'no-model'), PENGUINS]),
      /model folder not found: .*no-model/,
    );
    const corrupt = join(dir, 'corrupt');
    mkdirSync(corrupt);
    writeFileSync(join(corrupt, 'model.json'), '{"modelTopology": ');
    expectFailure(runCli(['predict', corrupt, PENGUINS]), /corrupt.*model\.json is corrupt/);
    const escape = join(dir, 'escape');
    mkdirSync(escape);
    writeFileSync(
      join(escape, 'model.json'),
      JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['../secret.bin'], weights: [] }] }),
    );
    expectFailure(
      runCli(['predict', escape, PENGUINS]),
      /points to weights outside the model folder: '\.\.\/secret\.bin'/,
    );
  });

  it('predict input missing a feature column', () => {
    const noIsland = file(
      'no-island.csv',
      'Beak Length (mm),Beak Depth (mm),Flipper Length (mm)\n39.1,18.7,181\n',
    );
    expectFailure(
      runCli(['predict', modelDir, noIsland]),
      /no-island\.csv: feature column 'Island' is missing/,
    );
  });
});
