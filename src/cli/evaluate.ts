import { Command, Option } from 'commander';
import { readTableFile } from '../node/read-table.js';
import { setupBackend, NODE_BACKENDS } from '../node/backend.js';
import { loadTrainedTable } from '../node/tabular-io.js';
import { scoreTable } from '../tabular/tabular-model.js';
import { formatMetricsTable } from './format.js';

export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description(
      'metrics of a trained model on a table: RMSE, MAE, interval coverage (68 %, 95 %, and 95 % per third of the predictions), 95 % width, NLL and CRPS; accuracy, cross-entropy and calibration error',
    )
    .argument('<modelDir>', 'a folder written by tfjs-mtl train')
    .argument('<file>', 'a CSV/JSON table with the target columns')
    .option('--json', 'print the metrics as JSON')
    .addOption(new Option('--backend <name>', 'TF.js backend').choices([...NODE_BACKENDS]).default('wasm'))
    .action(async (modelDir: string, file: string, flags: { json?: boolean; backend: string }) => {
      await setupBackend(flags.backend);
      const tm = await loadTrainedTable(modelDir);
      const table = await readTableFile(file);
      const scored = scoreTable(tm, table);
      for (const w of scored.warnings) process.stderr.write(`warning: ${w}\n`);
      if (flags.json) {
        process.stdout.write(JSON.stringify({ file, metrics: scored.metrics }, null, 2) + '\n');
      } else {
        process.stdout.write(formatMetricsTable({ [file]: scored.metrics }, tm.tasks) + '\n');
      }
      tm.model.dispose();
    });
}
