/**
 * `scenes train --resume`: a run killed with SIGKILL after a checkpoint, then resumed, ends with the
 * uninterrupted run's weights.bin byte for byte; a damaged newest checkpoint falls back to the previous
 * one with a warning; other settings are refused, naming the setting.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { runAndKill } from './kill.js';

/** 150 steps of 4 generated 32×64 frames on wasm; on cpu (slow convolutions) 50 steps of 2 at 16×32. */
const args = (out: string, backend = 'wasm') => [
  'scenes',
  'train',
  ...(backend === 'cpu'
    ? ['--height', '16', '--width', '32', '--train-scenes', '8', '--steps', '50', '--batch-size', '2']
    : ['--height', '32', '--width', '64', '--train-scenes', '32', '--steps', '150', '--batch-size', '4']),
  '--test-scenes',
  '4',
  '--checkpoint-every',
  '25',
  '--quiet',
  '--backend',
  backend,
  '--out',
  out,
];

/** Starts the run and SIGKILLs it once `count` checkpoints have been written. */
async function killAfterCheckpoints(out: string, count: 1 | 2): Promise<void> {
  expect(await runAndKill(args(out), `${out}.checkpoint`, { after: count })).toBe(true);
}

describe.each(['cpu', 'wasm'])('tfjs-mtl scenes train on %s, killed during a checkpoint write', (backend) => {
  it('resumes to the uninterrupted weights.bin', async () => {
    const dir = mkdtempSync(join(tmpdir(), `tfjs-mtl-resume-${backend}-`));
    const full = join(dir, 'full');
    expect(runCli(args(full, backend)).status).toBe(0);
    const torn = join(dir, 'torn');
    expect(await runAndKill(args(torn, backend), `${torn}.checkpoint`, { during: 'write' })).toBe(true);
    const resumed = runCli([...args(torn, backend), '--resume']);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    expect(readFileSync(join(torn, 'weights.bin')).equals(readFileSync(join(full, 'weights.bin')))).toBe(
      true,
    );
  }, 300_000);
});

describe('tfjs-mtl scenes train --resume', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-mtl-resume-'));
  const full = join(dir, 'full');

  it('killed with SIGKILL and resumed, ends with the uninterrupted weights.bin', async () => {
    expect(runCli(args(full)).status).toBe(0);
    expect(existsSync(`${full}.checkpoint`)).toBe(false); // removed once the model is written

    const part = join(dir, 'part');
    await killAfterCheckpoints(part, 2);
    expect(existsSync(join(part, 'weights.bin'))).toBe(false);
    const resumed = runCli([...args(part), '--resume']);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    expect(readFileSync(join(part, 'weights.bin')).equals(readFileSync(join(full, 'weights.bin')))).toBe(
      true,
    );
    const log = (p: string) =>
      (JSON.parse(readFileSync(join(p, 'log.json'), 'utf8')) as { log: unknown }).log;
    expect(log(part)).toEqual(log(full));
  }, 180_000);

  it('passes over a damaged newest checkpoint for the previous one, with a warning', async () => {
    const part = join(dir, 'damaged');
    await killAfterCheckpoints(part, 2);
    writeFileSync(join(`${part}.checkpoint`, 'checkpoint', 'tensors.bin'), 'torn');
    const resumed = runCli([...args(part), '--resume']);
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(
      /warning: .*tensors\.bin is damaged \(checksum mismatch\); using .*checkpoint\.previous/,
    );
    expect(readFileSync(join(part, 'weights.bin')).equals(readFileSync(join(full, 'weights.bin')))).toBe(
      true,
    );
  }, 180_000);

  it('refuses other settings, naming the setting, and a run without checkpoints', async () => {
    const part = join(dir, 'other');
    await killAfterCheckpoints(part, 1);
    const changed = runCli([...args(part).map((a) => (a === '150' ? '200' : a)), '--resume']);
    expect(changed.status).not.toBe(0);
    expect(changed.stderr).toMatch(/--resume: the checkpoint was made with steps 150, this command has 200/);
    const none = runCli([...args(join(dir, 'never')), '--resume']);
    expect(none.status).not.toBe(0);
    expect(none.stderr).toMatch(/has no checkpoint to continue from/);
  }, 180_000);
});

describe('tfjs-mtl scenes train --uncertainty heteroscedastic --resume', () => {
  it('resumes a heteroscedastic run exactly (per-pixel scales, semantic σ only learned)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-mtl-resume-het-'));
    const het = (out: string) => [...args(out), '--uncertainty', 'heteroscedastic'];
    const full = join(dir, 'full');
    expect(runCli(het(full)).status).toBe(0);
    const part = join(dir, 'part');
    expect(await runAndKill(het(part), `${part}.checkpoint`, { after: 2 })).toBe(true);
    const resumed = runCli([...het(part), '--resume']);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    expect(readFileSync(join(part, 'weights.bin')).equals(readFileSync(join(full, 'weights.bin')))).toBe(
      true,
    );
  }, 300_000);
});
