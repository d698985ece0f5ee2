import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { runSeedToyExperiment } from '../experiments/seed-toy.js';
import { setupBackend, NODE_BACKENDS } from '../node/backend.js';
import { writeSeedToyReport } from '../node/seed-toy-report.js';
import { positiveInt, nonNegativeInt, threadsOption } from './parse.js';
import { createProgress } from './progress.js';

interface DemoFlags {
  n: number;
  epochs: number;
  seed: number;
  batchSize: number;
  backend: string;
  threads?: number;
  out?: string;
  quiet?: boolean;
}

export function timestamp(date = new Date()): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/:/g, '-');
}

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      "reproduce the seed document's experiment: two noisy regressions (true σ 10 and 1), two towers, learned loss weights",
    )
    .option('--n <count>', 'number of samples', positiveInt, 100)
    .option('--epochs <count>', 'training epochs', positiveInt, 2000)
    .option('--seed <int>', 'data seed (np.random.seed), also seeds init and shuffling', nonNegativeInt, 0)
    .option('--batch-size <count>', 'batch size', positiveInt, 20)
    .addOption(new Option('--backend <name>', 'TF.js backend').choices([...NODE_BACKENDS]).default('wasm'))
    .addOption(threadsOption())
    .option('--out <dir>', 'output folder (default: runs/demo-<timestamp>)')
    .option('--quiet', 'no progress output')
    .action(async (flags: DemoFlags) => {
      const out = resolve(flags.out ?? `runs/demo-${timestamp()}`);
      const backend = await setupBackend(flags.backend, {
        ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
        onNotice: (m) => process.stderr.write(`note: ${m}\n`),
      });
      const progress = createProgress(
        'training',
        flags.epochs,
        ['loss', 'σ y1', 'σ y2'],
        flags.quiet ?? false,
      );
      const result = await runSeedToyExperiment({
        n: flags.n,
        epochs: flags.epochs,
        seed: flags.seed,
        batchSize: flags.batchSize,
        metricsEvery: Math.max(1, Math.round(flags.epochs / 100)),
        onEpochEnd: (e) =>
          progress.update(e.epoch, {
            loss: e.loss.toFixed(3),
            'σ y1': (e.sigmas?.['y1'] ?? NaN).toFixed(3),
            'σ y2': (e.sigmas?.['y2'] ?? NaN).toFixed(3),
          }),
      });
      progress.stop();
      const files = await writeSeedToyReport(result, out, {
        n: flags.n,
        epochs: flags.epochs,
        seed: flags.seed,
        batchSize: flags.batchSize,
        form: 'seed',
        hidden: 1024,
        learningRate: 1e-3,
      });
      const lines = [
        'learned noise σ (truth):',
        ...result.tasks.map(
          (t) =>
            `  ${t.name}: σ̂ = ${t.sigma.toPrecision(4)}  (true ${t.trueSigma}; log σ² = ${t.logVariance.toFixed(4)})`,
        ),
        `trained ${result.steps} steps in ${result.trainSeconds.toFixed(1)} s on ${backend} ` +
          `(${((1000 * result.trainSeconds) / result.steps).toFixed(2)} ms/step)`,
        `wrote ${out}: summary.json, history.json, ${files.plots.map((p) => p.slice(out.length + 1)).join(', ')}`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
