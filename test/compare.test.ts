import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const PENGUINS = fileURLToPath(new URL('../node_modules/vega-datasets/data/penguins.json', import.meta.url));
const ARGS = [
  PENGUINS,
  '--target',
  'Species',
  '--target',
  'Body Mass (g)',
  '--features',
  'Beak Length (mm),Flipper Length (mm),Island',
  '--epochs',
  '3',
  '--seeds',
  '2',
  '--jobs',
  '2',
];

describe('tfjs-mtl compare', () => {
  it('trains strategies × seeds, tabulates them, and resumes from cached runs', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'compare-')), 'cmp');
    const first = runCli(['compare', ...ARGS, '--strategies', 'uncertainty,rlw', '--out', out]);
    expect(first.stderr).toMatch(/\[8\/8\] /);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(
      /^\| strategy \| Species accuracy ↑ \| Body Mass \(g\) rmse ↓ \| Δm % ↑ \| train s \|/,
    );
    expect(first.stdout).toMatch(/\| uncertainty \| [\d.]+ ± [\d.]+ \|/);
    const files = readdirSync(out);
    for (const f of [
      'compare.md',
      'compare.json',
      'metric-species.png',
      'metric-body-mass-g.png',
      'weights-rlw.png',
      'sigma-uncertainty.png',
    ]) {
      expect(files).toContain(f);
    }
    const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as {
      summaries: { strategy: string; deltaM?: { n: number } }[];
    };
    expect(json.summaries.map((s) => s.strategy)).toEqual(['single-task', 'uncertainty', 'rlw']);
    expect(json.summaries[1]!.deltaM!.n).toBe(2);
    // 2 seeds × (2 single-task + 2 strategies)
    expect(readdirSync(join(out, 'runs'))).toHaveLength(8);
    const again = runCli(['compare', ...ARGS, '--strategies', 'uncertainty,rlw', '--out', out]);
    expect(again.status).toBe(0);
    expect(again.stderr.match(/: cached/g)).toHaveLength(8);
    expect(again.stdout).toBe(first.stdout);
  }, 240_000);

  it('names an unknown strategy', () => {
    const r = runCli(['compare', ...ARGS, '--strategies', 'uncertainty,nope']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--strategies: unknown strategy 'nope'; known: uncertainty, equal/);
  });
});
