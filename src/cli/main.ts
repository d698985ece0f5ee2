#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { compareCommand } from './compare.js';
import { demoCommand } from './demo.js';
import { evaluateCommand } from './evaluate.js';
import { predictCommand } from './predict.js';
import { scenesCommand } from './scenes.js';
import { trainCommand } from './train.js';
import { UsageError } from './errors.js';

export function buildProgram(): Command {
  return new Command('tfjs-mtl')
    .description(
      'Multi-task learning with learned loss weighting (Kendall, Gal & Cipolla 2018) on TensorFlow.js',
    )
    .version('0.1.0')
    .showHelpAfterError()
    .addCommand(demoCommand())
    .addCommand(trainCommand())
    .addCommand(evaluateCommand())
    .addCommand(predictCommand())
    .addCommand(compareCommand())
    .addCommand(scenesCommand());
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode; // commander has printed the message
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tfjs-mtl: ${message}\n`);
    if (process.env['TFJS_MTL_DEBUG'] && err instanceof Error && err.stack)
      process.stderr.write(err.stack + '\n');
    return err instanceof UsageError ? err.exitCode : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
