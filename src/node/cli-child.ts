import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/**
 * Runs `tfjs-mtl <args>` in a child Node process (one training per process: a fresh TF.js engine, and
 * parallel jobs on separate cores), in the folder `options.cwd` if given. Resolves with null on success,
 * else the last line of its stderr.
 */
export function runCliInChild(
  args: readonly string[],
  options: { cwd?: string } = {},
): Promise<string | null> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) =>
      done(code === 0 ? null : stderr.trim().split('\n').at(-1) || `exit code ${code}`),
    );
  });
}
