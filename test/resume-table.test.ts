/**
 * `train --resume` on a table: a run killed with SIGKILL — after a checkpoint, or while one is being
 * written — and resumed ends with the uninterrupted run's weights.bin byte for byte and the same history,
 * on cpu and on wasm; other settings or changed data are refused, naming what differs.
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { runAndKill } from './kill.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-mtl-resume-table-'));

/** 300 rows, two regression targets and a class from three numeric features, with noise. */
function writeTable(path: string, rows = 300): void {
  let seed = 7;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const lines = ['a,b,c,y,z,k'];
  for (let i = 0; i < rows; i++) {
    const [a, b, c] = [rand(), rand(), rand()];
    lines.push(
      [a, b, c, 3 * a - b + 0.5 * rand(), a * b + c + 0.1 * rand(), a + c > 0 ? 'up' : 'down']
        .map((v) => (typeof v === 'number' ? v.toFixed(5) : v))
        .join(','),
    );
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

const data = join(dir, 'table.csv');
writeTable(data);

const args = (out: string, backend: string, extra: string[] = []) => [
  'train',
  data,
  '--target',
  'y',
  '--target',
  'z',
  '--target',
  'k',
  '--epochs',
  '40',
  '--patience',
  '8',
  // dropout: its mask stream must resume exactly too
  '--dropout',
  '0.1',
  '--checkpoint-every',
  '2',
  '--backend',
  backend,
  '--quiet',
  '--out',
  out,
  ...extra,
];

const same = (a: string, b: string, file: string) =>
  readFileSync(join(a, file)).equals(readFileSync(join(b, file)));
/** The history without wall times (the one thing a resumed run cannot share). */
const history = (p: string) =>
  JSON.parse(readFileSync(join(p, 'history.json'), 'utf8'), (k, v: unknown) =>
    k === 'seconds' ? undefined : v,
  ) as unknown;

describe.each(['cpu', 'wasm'])('tfjs-mtl train --resume on %s', (backend) => {
  const full = join(dir, `full-${backend}`);

  it('killed after a checkpoint and resumed, ends with the uninterrupted weights.bin and history', async () => {
    const done = runCli(args(full, backend));
    expect(done.stderr).toBe('');
    expect(done.status).toBe(0);
    expect(existsSync(`${full}.checkpoint`)).toBe(false); // removed once the model is written

    const part = join(dir, `part-${backend}`);
    expect(await runAndKill(args(part, backend), `${part}.checkpoint`, { after: 2 })).toBe(true);
    expect(existsSync(join(part, 'weights.bin'))).toBe(false);
    const resumed = runCli(args(part, backend, ['--resume']));
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    expect(same(part, full, 'weights.bin')).toBe(true);
    expect(history(part)).toEqual(history(full));
    // learned σ and temperatures, the metrics on every split
    for (const file of ['weighting.json', 'metrics.json', 'model.json'])
      expect(same(part, full, file)).toBe(true);
  }, 120_000);

  it('killed while a checkpoint is being written, resumes exactly', async () => {
    const part = join(dir, `torn-${backend}`);
    expect(await runAndKill(args(part, backend), `${part}.checkpoint`, { during: 'write' })).toBe(true);
    const resumed = runCli(args(part, backend, ['--resume']));
    expect(resumed.status).toBe(0);
    expect(same(part, full, 'weights.bin')).toBe(true);
  }, 120_000);
});

describe('the moments of a checkpoint write, each left as a kill would leave it', () => {
  const full = join(dir, 'full-cpu');
  // a clean kill after two checkpoints, then the folder rearranged into each state the write passes through
  const states: [string, (cp: string) => void][] = [
    [
      'a staging folder with only tensors.bin',
      (cp) => {
        renameSync(join(cp, 'checkpoint'), join(cp, 'checkpoint.1.staging'));
        rmSync(join(cp, 'checkpoint.1.staging', 'checkpoint.json'));
        renameSync(join(cp, 'checkpoint.previous'), join(cp, 'checkpoint'));
      },
    ],
    [
      'the newest renamed away, the staged one not yet in place',
      (cp) => {
        rmSync(join(cp, 'checkpoint.previous'), { recursive: true });
        renameSync(join(cp, 'checkpoint'), join(cp, 'checkpoint.previous'));
      },
    ],
    [
      'a half-written tensors.bin in place',
      (cp) => {
        const f = join(cp, 'checkpoint', 'tensors.bin');
        writeFileSync(f, readFileSync(f).subarray(0, 100));
      },
    ],
  ];
  it.each(states)(
    '%s',
    async (_name, arrange) => {
      const part = join(dir, `state-${states.findIndex((s) => s[0] === _name)}`);
      expect(await runAndKill(args(part, 'cpu'), `${part}.checkpoint`, { after: 2 })).toBe(true);
      arrange(`${part}.checkpoint`);
      const resumed = runCli(args(part, 'cpu', ['--resume']));
      expect(resumed.status).toBe(0);
      expect(same(part, full, 'weights.bin')).toBe(true);
    },
    120_000,
  );
});

describe('train --resume refuses what it cannot continue exactly', () => {
  it('names a differing setting, changed data, a finished run and a run without checkpoints', async () => {
    const part = join(dir, 'refuse');
    expect(await runAndKill(args(part, 'cpu'), `${part}.checkpoint`, { after: 1 })).toBe(true);
    const other = runCli(args(part, 'cpu', ['--resume', '--lr', '0.002']));
    expect(other.status).not.toBe(0);
    expect(other.stderr).toMatch(/--resume: the checkpoint was made with lr 0\.001, this command has 0\.002/);
    expect(other.stderr.trim().split('\n')).toHaveLength(1);

    const moved = join(dir, 'table-moved.csv');
    writeTable(moved, 301);
    const changed = runCli(args(part, 'cpu', ['--resume']).map((a) => (a === data ? moved : a)));
    expect(changed.stderr).toMatch(/--resume: .*table-moved\.csv is not the data the run was started on/);

    const finished = runCli(args(join(dir, 'full-cpu'), 'cpu', ['--resume']));
    expect(finished.stderr).toMatch(/has finished already/);
    const none = runCli(args(join(dir, 'never'), 'cpu', ['--resume']));
    expect(none.stderr).toMatch(/has no checkpoint to continue from/);
  }, 120_000);
});

describe('train stops a diverging run', () => {
  it('penguins at --lr 10: one line saying it diverged, exit ≠ 0, no model written', () => {
    const penguins = join('node_modules', 'vega-datasets', 'data', 'penguins.json');
    const out = join(dir, 'penguins-lr10');
    const r = runCli([
      'train',
      penguins,
      '--target',
      'Species',
      '--target',
      'Body Mass (g)',
      '--features',
      'Beak Length (mm),Beak Depth (mm),Flipper Length (mm),Island',
      '--lr',
      '10',
      '--quiet',
      '--out',
      out,
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/training diverged: the training loss of task '.*' rose to .* in epoch 1/);
    expect(r.stderr).toMatch(/no model was written/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
