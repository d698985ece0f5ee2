import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { runComparison } from '../node/compare.js';
import { POSITIVE_LOSS_STRATEGIES } from '../tabular/config.js';
import { weightingNames } from '../weighting/registry.js';
import { timestamp } from './demo.js';
import { UsageError } from './errors.js';
import { positiveInt, shard, threadsPerJob, type Shard } from './parse.js';
import { defaultThreads } from '../node/backend.js';
import { addTrainOptions, buildTrainConfig, type TrainFlags } from './train.js';

interface CompareFlags extends TrainFlags {
  strategies?: string;
  seeds: number;
  jobs: number;
  shard?: Shard;
}

/** Every registered strategy that needs no user input (`fixed` needs weights). */
export function defaultStrategies(): string[] {
  return weightingNames().filter((n) => n !== 'fixed');
}

export function compareCommand(): Command {
  const cmd = new Command('compare')
    .description(
      'train every weighting strategy (and single-task models) over several seeds on the same splits and tabulate mean ± std, Δm % and time',
    )
    .argument('[file]', 'the data: CSV, TSV or a JSON array of records')
    .option('--strategies <names>', `comma-separated (default: ${defaultStrategies().join(',')})`)
    .option('--seeds <count>', 'seeds per strategy', positiveInt, 3)
    .option(
      '--jobs <count>',
      'parallel training processes (default: the core count)',
      positiveInt,
      availableParallelism(),
    )
    .option(
      '--shard <i/n>',
      'train only share i of n of the runs (one machine of a batch job) and write no tables; run again without --shard on the same folder to write them',
      shard,
    );
  addTrainOptions(cmd);
  return cmd.action(async (file: string | undefined, flags: CompareFlags) => {
    const known = weightingNames();
    // heteroscedastic heads: strategies that need positive task losses are left out of the default list
    // (and refused when asked for: see the config's check)
    const heteroscedastic = flags.uncertainty === 'heteroscedastic';
    const strategies = flags.strategies
      ? flags.strategies
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : defaultStrategies().filter((s) => !heteroscedastic || !POSITIVE_LOSS_STRATEGIES.includes(s));
    for (const s of strategies) {
      if (!(known as string[]).includes(s))
        throw new UsageError(`--strategies: unknown strategy '${s}'; known: ${known.join(', ')}`);
    }
    if (strategies.includes('fixed') && !flags.weights)
      throw new UsageError('--strategies fixed needs --weights');
    const refused = heteroscedastic ? strategies.filter((s) => POSITIVE_LOSS_STRATEGIES.includes(s)) : [];
    if (refused.length > 0)
      throw new UsageError(
        `--strategies: ${refused.join(', ')} need positive task losses, which heteroscedastic heads do not have (--uncertainty heteroscedastic)`,
      );
    const { config, dataPath } = await buildTrainConfig(cmd, file, flags);
    const out = resolve(config.out ?? `runs/compare-${timestamp()}`);
    const quiet = flags.quiet ?? false;
    const result = await runComparison({
      config: { ...config, data: resolve(dataPath), out: undefined },
      strategies,
      seeds: flags.seeds,
      jobs: flags.jobs,
      out,
      backend: flags.backend,
      // the cores shared out between the parallel training processes
      threads: threadsPerJob(flags.threads, flags.jobs, defaultThreads()),
      ...(flags.shard ? { shard: flags.shard } : {}),
      onProgress: (e) => {
        if (!quiet && (e.state !== 'started' || e.note))
          process.stderr.write(`[${e.done}/${e.total}] ${e.run}: ${e.note ?? e.state}\n`);
      },
    });
    if (flags.shard)
      process.stdout.write(
        `shard ${flags.shard.index}/${flags.shard.count}: trained ${result.trained} run(s), ${result.reused} already finished, into ${out}/runs; ` +
          `run the command without --shard on ${out} to write the tables\n`,
      );
    else process.stdout.write(result.markdown + `wrote ${out}: compare.md, compare.json, plots, runs/\n`);
    if (result.failed.length > 0) {
      throw new Error(
        `${result.failed.length} run(s) failed: ${result.failed.map((f) => `${f.run} (${f.error})`).join('; ')}`,
      );
    }
  });
}
