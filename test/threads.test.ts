/**
 * `--threads`: the threaded wasm build under Node trains with the count asked for, reports it, ends
 * with the single-threaded run's weights byte for byte, and lets the process exit normally.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-mtl-threads-'));
const penguins = join('node_modules', 'vega-datasets', 'data', 'penguins.json');
const same = (a: string, b: string) =>
  readFileSync(join(a, 'weights.bin')).equals(readFileSync(join(b, 'weights.bin')));

describe('wasm threads', () => {
  it('train --threads 2 reports 2 threads and equals --threads 1', () => {
    const run = (threads: number) => {
      const out = join(dir, `table-${threads}`);
      const args = ['train', penguins, '--target', 'Species', '--target', 'Body Mass (g)'];
      const r = runCli([...args, '--epochs', '15', '--threads', String(threads), '--out', out]);
      expect(r.status).toBe(0); // and it ended: idle pthread workers do not hold the process
      return { out, stdout: r.stdout };
    };
    const one = run(1);
    const two = run(2);
    expect(one.stdout).toMatch(/on wasm \(1 thread\)/);
    expect(two.stdout).toMatch(/on wasm \(2 threads\)/);
    expect(same(one.out, two.out)).toBe(true);
  }, 120_000);

  it('scenes train --threads 2 equals --threads 1 (convolutions split over threads)', () => {
    const run = (threads: number) => {
      const out = join(dir, `scenes-${threads}`);
      const r = runCli([
        'scenes',
        'train',
        '--height',
        '32',
        '--width',
        '64',
        '--train-scenes',
        '16',
        '--test-scenes',
        '2',
        '--steps',
        '10',
        '--batch-size',
        '4',
        '--threads',
        String(threads),
        '--quiet',
        '--out',
        out,
      ]);
      expect(r.status).toBe(0);
      return out;
    };
    expect(same(run(1), run(2))).toBe(true);
  }, 120_000);

  it('rejects a thread count that is not a positive integer, naming the flag', () => {
    const r = runCli(['train', penguins, '--target', 'Species', '--threads', '0']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--threads.*must be a positive integer/);
  });
});
