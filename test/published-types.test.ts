/**
 * A TypeScript user's program against the published package (`import … from 'tfjs-mtl'`, resolved by
 * the package's own name to dist/ and its .d.ts): `trainer.fitDataset(tf.data.generator(…), { epochs })`
 * type-checks under strict settings, and runs, learning the tasks' σ.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
// inside the package, so that 'tfjs-mtl' resolves to this package (self-reference through "exports")
const dir = join(root, 'test', `.published-types-${process.pid}`);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const program = `
import * as tf from '@tensorflow/tfjs';
import { classificationTask, outputUnits, regressionTask, sharedTrunkModel, Trainer, uncertaintyWeighting } from 'tfjs-mtl';
import { setupBackend } from 'tfjs-mtl/node';

await setupBackend('cpu');
const tasks = [regressionTask({ name: 'size' }), classificationTask({ name: 'kind', numClasses: 2 })];
const model = sharedTrunkModel({ inputDim: 2, outputs: tasks.map(outputUnits), trunk: [16], seed: 1 });
const weighting = uncertaintyWeighting(tasks, { learningRate: 0.05 });
const trainer = new Trainer({ model, tasks, weighting, optimizer: { learningRate: 0.01 } });

// a stream of batches, as a user would write it: size = a + b + noise 0.3, kind = a > b
let seed = 1;
const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
const stream = tf.data.generator(function* () {
  for (let b = 0; b < 40; b++) {
    const xs = Array.from({ length: 32 }, () => [rand(), rand()] as [number, number]);
    yield {
      x: tf.tensor2d(xs),
      targets: [
        tf.tensor2d(xs.map(([a, c]) => [a + c + 0.3 * rand()])),
        tf.tensor1d(xs.map(([a, c]) => (a > c ? 1 : 0)), 'int32'),
      ],
    };
  }
});
const history = await trainer.fitDataset(stream, { epochs: 8 });
const last = history.epochs.at(-1)!;
console.log(JSON.stringify({ sigmas: weighting.sigmas(), first: history.epochs[0]!.taskLosses, last: last.taskLosses }));
`;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the published types', () => {
  it('type-check and run trainer.fitDataset(tf.data.generator(…), { epochs }) with learned weights', () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'user.mts'), program);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: true,
          types: ['node'],
          outDir: 'out',
          rootDir: '.',
        },
        files: ['user.mts'],
      }),
    );
    const compiled = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
    expect(compiled.stdout + compiled.stderr).toBe('');
    expect(compiled.status).toBe(0);
    const ran = spawnSync(process.execPath, [join(dir, 'out', 'user.mjs')], { encoding: 'utf8', cwd: root });
    expect(ran.status, ran.stderr).toBe(0);
    const result = JSON.parse(ran.stdout.trim().split('\n').at(-1)!) as {
      sigmas: number[];
      first: Record<string, number>;
      last: Record<string, number>;
    };
    expect(result.last['size']!).toBeLessThan(result.first['size']! / 2);
    expect(result.last['kind']!).toBeLessThan(result.first['kind']!);
    // the regression's σ moves from 1 towards its noise level (0.3 uniform: sd ≈ 0.17) plus what is unfit
    expect(result.sigmas[0]!).toBeLessThan(0.8);
  }, 120_000);
});
