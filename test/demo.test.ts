import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

interface Summary {
  backend: string;
  steps: number;
  trainSeconds: number;
  tasks: { name: string; sigma: number; trueSigma: number; logVariance: number }[];
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('tfjs-mtl demo', () => {
  it("reproduces the seed document's result: σ̂ within 1 % of PyTorch's 8.60 and 0.903", () => {
    const out = join(mkdtempSync(join(tmpdir(), 'demo-')), 'run');
    const r = runCli(['demo', '--out', out]);
    expect(r.stderr).not.toMatch(/Error|at .*\.js:\d+/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/y1: σ̂ = 8\.\d+ +\(true 10/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    expect(summary.backend).toBe('wasm');
    expect(summary.steps).toBe(10_000);
    expect(summary.trainSeconds).toBeGreaterThan(0);
    const [s1, s2] = summary.tasks;
    // PyTorch 1.13 on the same data: 8.5992 and 0.90268 (../shared/reference/README.md)
    expect(Math.abs(s1!.sigma / 8.5992 - 1)).toBeLessThan(0.01);
    expect(Math.abs(s2!.sigma / 0.90268 - 1)).toBeLessThan(0.01);
    expect(s1!.trueSigma).toBe(10);
    expect(s2!.logVariance).toBeCloseTo(2 * Math.log(s2!.sigma), 6);
    for (const plot of ['data', 'loss', 'sigma']) {
      expect(readFileSync(join(out, `${plot}.png`)).subarray(0, 8)).toEqual(PNG);
      expect(readFileSync(join(out, `${plot}.svg`), 'utf8')).toContain('<svg');
    }
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as { epochs: unknown[] };
    expect(history.epochs).toHaveLength(2000);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('recovers the true σ (10, 1) within 3 % with N = 10,000', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'demo-')), 'big');
    const r = runCli(['demo', '--n', '10000', '--epochs', '50', '--seed', '0', '--out', out, '--quiet']);
    expect(r.status).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    expect(Math.abs(summary.tasks[0]!.sigma / 10 - 1)).toBeLessThan(0.03);
    expect(Math.abs(summary.tasks[1]!.sigma / 1 - 1)).toBeLessThan(0.03);
  });

  it('runs on the cpu backend and writes into a default runs/ folder', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'demo-cwd-'));
    const r = runCli(['demo', '--epochs', '3', '--n', '40', '--backend', 'cpu', '--quiet'], cwd);
    expect(r.status).toBe(0);
    const runs = readdirSync(join(cwd, 'runs'));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(/^demo-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d$/);
    const summary = JSON.parse(readFileSync(join(cwd, 'runs', runs[0]!, 'summary.json'), 'utf8')) as Summary;
    expect(summary.backend).toBe('cpu');
    expect(summary.steps).toBe(6);
  });

  it.each([
    [['demo', '--n', 'abc'], /option '--n <count>' argument 'abc' is invalid\. must be a positive integer/],
    [['demo', '--epochs', '0'], /--epochs <count>' argument '0' is invalid/],
    [['demo', '--seed', '-3'], /--seed <int>' argument '-3' is invalid/],
    [['demo', '--backend', 'webgl'], /argument 'webgl' is invalid\. Allowed choices are wasm, cpu/],
    [['demo', '--bogus'], /unknown option '--bogus'/],
    [['nonsense'], /unknown command 'nonsense'/],
  ])('rejects %j with a clear one-line error', (args, message) => {
    const r = runCli(args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses an --out path that is a file, keeps the file, prints no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-bad-'));
    expect(runCli(['demo', '--epochs', '1', '--n', '20', '--out', join(dir, 'ok'), '--quiet']).status).toBe(
      0,
    );
    const summaryPath = join(dir, 'ok', 'summary.json');
    const before = readFileSync(summaryPath, 'utf8');
    const r = runCli(['demo', '--epochs', '1', '--n', '20', '--out', summaryPath, '--quiet']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^tfjs-mtl: .*summary\.json/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(summaryPath, 'utf8')).toBe(before);
  });
});
