import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from './cli.js';

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

/** compare.json's summaries without wall times: what must not depend on how the runs were scheduled. */
const metricsOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'compare.json'), 'utf8'), (k, v: unknown) =>
    /seconds/i.test(k) ? undefined : v,
  ) as unknown;

const root = mkdtempSync(join(tmpdir(), 'compare-'));

describe('tfjs-mtl compare', () => {
  const out = join(root, 'cmp');
  it('trains strategies × seeds, tabulates them, and resumes from cached runs', () => {
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

  it('--shard 1/2 and 2/2 into one folder, then no shard: nothing retrained, the same compare.json', () => {
    const sharded = join(root, 'sharded');
    for (const share of ['1/2', '2/2']) {
      const r = runCli([
        'compare',
        ...ARGS,
        '--strategies',
        'uncertainty,rlw',
        '--out',
        sharded,
        '--shard',
        share,
      ]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^shard ${share}: trained 4 run\\(s\\), 0 already finished`));
      expect(existsSync(join(sharded, 'compare.json'))).toBe(false);
    }
    const all = runCli(['compare', ...ARGS, '--strategies', 'uncertainty,rlw', '--out', sharded]);
    expect(all.status).toBe(0);
    expect(all.stderr.match(/: cached/g)).toHaveLength(8);
    expect(metricsOf(sharded)).toEqual(metricsOf(out));
    // run configs hold paths relative to the sweep's folder
    const config = JSON.parse(readFileSync(join(sharded, 'configs', 'uncertainty-seed0.json'), 'utf8')) as {
      data: string;
      out: string;
    };
    expect(config.out).toBe('../runs/uncertainty-seed0');
    expect(config.data.startsWith('/')).toBe(false);
    expect(runCli(['compare', ...ARGS, '--shard', '3/2']).stderr).toMatch(
      /--shard.*must be i\/n with 1 ≤ i ≤ n/,
    );
  }, 240_000);

  it('retrains finished runs made with other settings, naming the setting', () => {
    const r = runCli(['compare', ...ARGS, '--epochs', '4', '--strategies', 'uncertainty,rlw', '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stderr.match(/retraining: it was trained with epochs 3, this command has 4/g)).toHaveLength(8);
  }, 240_000);

  it('continues a killed comparison from the runs’ checkpoints, ending as an uninterrupted one', async () => {
    const args = (dir: string) => [
      CLI,
      'compare',
      PENGUINS,
      '--target',
      'Species',
      '--target',
      'Body Mass (g)',
      '--epochs',
      '60',
      '--patience',
      '0',
      '--seeds',
      '1',
      '--jobs',
      '1',
      '--strategies',
      'uncertainty',
      '--quiet',
      '--out',
      dir,
    ];
    const clean = join(root, 'clean');
    expect(runCli(args(clean).slice(1)).status).toBe(0);
    // the whole process group (compare and its training child) killed once a run has a checkpoint
    const killed = join(root, 'killed');
    const child = spawn(process.execPath, args(killed), { stdio: 'ignore', detached: true });
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const runs = join(killed, 'runs');
        const cp = existsSync(runs) && readdirSync(runs).find((n) => n.endsWith('.checkpoint'));
        if (cp && existsSync(join(runs, cp, 'checkpoint.previous'))) {
          clearInterval(timer);
          process.kill(-child.pid!, 'SIGKILL');
        }
      }, 5);
      child.on('exit', () => (clearInterval(timer), resolve()));
    });
    const resumed = runCli(
      args(killed)
        .slice(1)
        .filter((a) => a !== '--quiet'),
    );
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(/uncertainty-seed0: resumed|single-task-.*: resumed/);
    expect(readdirSync(join(killed, 'runs')).some((n) => n.endsWith('.checkpoint'))).toBe(false);
    for (const run of readdirSync(join(clean, 'runs')))
      expect(
        readFileSync(join(killed, 'runs', run, 'weights.bin')).equals(
          readFileSync(join(clean, 'runs', run, 'weights.bin')),
        ),
      ).toBe(true);
    expect(metricsOf(killed)).toEqual(metricsOf(clean));
  }, 240_000);

  it('names an unknown strategy', () => {
    const r = runCli(['compare', ...ARGS, '--strategies', 'uncertainty,nope']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--strategies: unknown strategy 'nope'; known: uncertainty, equal/);
    const het = runCli(['compare', ...ARGS, '--uncertainty', 'heteroscedastic', '--strategies', 'equal,dwa']);
    expect(het.status).not.toBe(0);
    expect(het.stderr).toMatch(/--strategies: dwa need positive task losses/);
  });
});
