/**
 * `train --uncertainty heteroscedastic` on data whose noise grows with |x| (σ(x) = 0.5 + 0.5|x|, 16,000
 * rows): the learned σ(x) follows the truth, the intervals keep 95 % coverage within every third of the
 * predictions while one σ per target misses, and the NLL improves.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-mtl-het-'));
const trueSigma = (x: number) => 0.5 + 0.5 * Math.abs(x);

/** y = 2 sin x + x + N(0, σ(x)²), x uniform on [−3, 3]; seeded. */
function writeData(path: string, n: number, seed: number): void {
  let state = seed;
  const u = () => (state = (state * 16807) % 2147483647) / 2147483647;
  const lines = ['x,y'];
  for (let i = 0; i < n; i++) {
    const x = -3 + 6 * u();
    const noise = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    lines.push(`${x.toFixed(5)},${(2 * Math.sin(x) + x + trueSigma(x) * noise).toFixed(5)}`);
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

const data = join(dir, 'data.csv');
writeData(data, 16000, 1);
const grid = Array.from({ length: 61 }, (_, k) => -3 + k * 0.1);
writeFileSync(join(dir, 'grid.csv'), ['x', ...grid.map((x) => x.toFixed(2))].join('\n') + '\n');

type Scores = Record<string, number>;
const train = (uncertainty: string) => {
  const out = join(dir, uncertainty);
  const r = runCli([
    'train',
    data,
    '--target',
    'y',
    '--uncertainty',
    uncertainty,
    '--epochs',
    '60',
    '--batch-size',
    '128',
    '--lr',
    '0.002',
    '--patience',
    '0',
    '--quiet',
    '--out',
    out,
  ]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { test: { y: Scores } };
  return { out, test: metrics.test.y };
};

describe('heteroscedastic regression on a table whose noise varies with x', () => {
  it('learns σ(x), covers 95 % in every third, and beats one σ in NLL', () => {
    const het = train('heteroscedastic');
    const homo = train('homoscedastic');

    // σ(x) on a grid: averaged over each sixth of the range, within 10 % of the truth
    const predict = runCli(['predict', het.out, join(dir, 'grid.csv')]);
    expect(predict.status).toBe(0);
    const [header, ...rows] = predict.stdout.trim().split(/\r?\n/);
    expect(header).toBe('row,y,y sigma,y lower95,y upper95');
    const sigma = rows.map((r) => Number(r.split(',')[2]));
    for (let b = 0; b < 6; b++) {
      const inBin = grid
        .map((x, i) => i)
        .filter((i) => grid[i]! >= -3 + b - 1e-9 && (grid[i]! < -2 + b || b === 5));
      const learned = inBin.reduce((a, i) => a + sigma[i]!, 0);
      const truth = inBin.reduce((a, i) => a + trueSigma(grid[i]!), 0);
      expect(Math.abs(learned / truth - 1)).toBeLessThan(0.1);
    }
    // the interval is clearly narrower where the noise is low
    const quiet = grid.map((x, i) => i).filter((i) => Math.abs(grid[i]!) <= 0.5);
    const hetQuiet = quiet.reduce((a, i) => a + sigma[i]!, 0) / quiet.length;
    const homoSigma = (homo.test['width95'] ?? NaN) / (2 * 1.959963984540054);
    expect(hetQuiet).toBeLessThan(0.6 * homoSigma);

    const thirds = (s: Scores) => [s['coverage95Low']!, s['coverage95Mid']!, s['coverage95High']!];
    for (const c of thirds(het.test)) expect(Math.abs(c - 0.95)).toBeLessThanOrEqual(0.04);
    expect(thirds(homo.test).some((c) => Math.abs(c - 0.95) > 0.04)).toBe(true);
    expect(het.test['nll']!).toBeLessThan(homo.test['nll']! - 0.05);
    expect(het.test['crps']!).toBeLessThan(homo.test['crps']!);
  }, 180_000);

  it('refuses a weighting that needs positive losses, naming the setting', () => {
    const r = runCli([
      'train',
      data,
      '--target',
      'y',
      '--uncertainty',
      'heteroscedastic',
      '--weighting',
      'dwa',
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/weighting: 'dwa' needs positive task losses/);
  });
});

describe('Monte Carlo dropout: epistemic uncertainty', () => {
  it('splits σ into aleatoric and epistemic parts, the latter growing off the data; repeatable', () => {
    const small = join(dir, 'small.csv');
    writeData(small, 4000, 2);
    const out = join(dir, 'mc');
    const r = runCli([
      'train',
      small,
      '--target',
      'y',
      '--uncertainty',
      'heteroscedastic',
      '--dropout',
      '0.1',
      '--mc-samples',
      '20',
      '--epochs',
      '40',
      '--batch-size',
      '64',
      '--lr',
      '0.002',
      '--patience',
      '0',
      '--quiet',
      '--out',
      out,
    ]);
    expect(r.status).toBe(0);
    const points = join(dir, 'points.csv');
    writeFileSync(points, 'x\n-5\n0\n5\n');
    const first = runCli(['predict', out, points]);
    expect(first.status).toBe(0);
    const [header, ...rows] = first.stdout.trim().split(/\r?\n/);
    expect(header).toBe('row,y,y sigma,y lower95,y upper95,y aleatoric sigma,y epistemic sigma');
    const cells = rows.map((row) => row.split(',').map(Number));
    for (const c of cells) expect(c[2]).toBeCloseTo(Math.hypot(c[5]!, c[6]!), 6);
    const [left, mid, right] = cells.map((c) => c[6]!);
    // two units beyond the data on either side, the passes disagree more than in the middle
    expect(Math.min(left!, right!)).toBeGreaterThan(1.5 * mid!);
    expect(runCli(['predict', out, points]).stdout).toBe(first.stdout);
    const bad = runCli(['train', small, '--target', 'y', '--mc-samples', '10']);
    expect(bad.stderr).toMatch(/mcSamples: Monte Carlo passes need dropout/);
  }, 120_000);

  it('classifiers get predictive entropy and mutual information', () => {
    const penguins = join('node_modules', 'vega-datasets', 'data', 'penguins.json');
    const out = join(dir, 'penguins-mc');
    const r = runCli([
      'train',
      penguins,
      '--target',
      'Species',
      '--features',
      'Beak Length (mm),Flipper Length (mm)',
      '--dropout',
      '0.2',
      '--mc-samples',
      '10',
      '--epochs',
      '30',
      '--quiet',
      '--out',
      out,
    ]);
    expect(r.status).toBe(0);
    const p = runCli(['predict', out, penguins, '--out', join(dir, 'p.json')]);
    expect(p.status).toBe(0);
    const records = JSON.parse(readFileSync(join(dir, 'p.json'), 'utf8')) as {
      Species: { probabilities: Record<string, number>; entropy: number; mutualInformation: number };
    }[];
    for (const rec of records.slice(0, 20)) {
      const probs = Object.values(rec.Species.probabilities);
      const h = -probs.reduce((a, v) => (v > 0 ? a + v * Math.log(v) : a), 0);
      expect(rec.Species.entropy).toBeCloseTo(h, 6);
      expect(rec.Species.mutualInformation).toBeGreaterThanOrEqual(0);
      expect(rec.Species.mutualInformation).toBeLessThanOrEqual(rec.Species.entropy + 1e-12);
    }
  }, 120_000);
});
