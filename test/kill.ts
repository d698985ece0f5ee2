/** Starting the CLI in a child process and SIGKILLing it at a chosen moment of its checkpointing. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, watch } from 'node:fs';
import { join } from 'node:path';
import { CLI } from './cli.js';

/**
 * Runs `tfjs-mtl <args>` and kills it with SIGKILL: `after: n` once n checkpoints are complete in
 * `checkpointDir` (1: `checkpoint/` exists; 2: `checkpoint.previous/` too), `during: 'write'` the
 * moment the second checkpoint's staging folder appears (the write under way). Resolves with whether
 * the process was killed (false: it ended first).
 */
export function runAndKill(
  args: string[],
  checkpointDir: string,
  when: { after: 1 | 2 } | { during: 'write' },
): Promise<boolean> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
  let killed = false;
  const kill = () => {
    if (!killed && child.exitCode === null) {
      killed = child.kill('SIGKILL');
    }
  };
  return new Promise<boolean>((resolve, reject) => {
    const cleanups: (() => void)[] = [];
    if ('during' in when) {
      // inotify tells us as the staging folder is made, before its files are written
      mkdirSync(checkpointDir, { recursive: true });
      const watcher = watch(checkpointDir, (_event, name) => {
        if (name?.endsWith('.staging') && existsSync(join(checkpointDir, 'checkpoint'))) kill();
      });
      cleanups.push(() => watcher.close());
    } else {
      const target = join(checkpointDir, when.after === 1 ? 'checkpoint' : 'checkpoint.previous');
      const timer = setInterval(() => existsSync(target) && kill(), 5);
      cleanups.push(() => clearInterval(timer));
    }
    child.on('exit', () => {
      cleanups.forEach((c) => c());
      resolve(killed);
    });
    child.on('error', reject);
  });
}
