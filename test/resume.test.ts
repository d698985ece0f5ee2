/**
 * `scenes train --resume`: a run killed with SIGKILL after a checkpoint, then resumed, ends with the
 * uninterrupted run's weights.bin byte for byte; a damaged newest checkpoint falls back to the previous
 * one with a warning; other settings are refused, naming the setting.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from './cli.js';

const args = (out: string) => [
  'scenes',
  'train',
  '--height',
  '32',
  '--width',
  '64',
  '--train-scenes',
  '32',
  '--test-scenes',
  '4',
  '--steps',
  '150',
  '--batch-size',
  '4',
  '--checkpoint-every',
  '25',
  '--quiet',
  '--out',
  out,
];

/** Starts the run and SIGKILLs it once `count` checkpoints have been written. */
async function killAfterCheckpoints(out: string, count: number): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...args(out)], { stdio: 'ignore' });
  const previous = join(`${out}.checkpoint`, 'checkpoint.previous');
  const current = join(`${out}.checkpoint`, 'checkpoint');
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if ((count === 1 && existsSync(current)) || (count > 1 && existsSync(previous))) {
        clearInterval(timer);
        child.kill('SIGKILL');
      }
    }, 5);
    child.on('exit', () => {
      clearInterval(timer);
      resolve();
    });
    child.on('error', reject);
  });
}

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
