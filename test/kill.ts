/** Starting the CLI in a child process and SIGKILLing it at a chosen moment of its checkpointing. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, watch } from 'node:fs';
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
      // complete: the checkpoint(s) in place and no write under way (the second write renames
      // checkpoint/ to checkpoint.previous/ before its staged folder becomes checkpoint/ — a kill between
      // the two, which a loaded machine's polling can land, is the 'renamed away' state, not this one)
      const complete = () => {
        if (!existsSync(join(checkpointDir, 'checkpoint'))) return false;
        if (when.after === 2 && !existsSync(join(checkpointDir, 'checkpoint.previous'))) return false;
        try {
          return !readdirSync(checkpointDir).some((name) => name.endsWith('.staging'));
        } catch {
          return false; // removed meanwhile (the run finished)
        }
      };
      const timer = setInterval(() => complete() && kill(), 5);
      cleanups.push(() => clearInterval(timer));
    }
    child.on('exit', () => {
      cleanups.forEach((c) => c());
      resolve(killed);
    });
    child.on('error', reject);
  });
}
