import { extname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import Papa from 'papaparse';
import { readTableFile } from '../node/read-table.js';
import { setupBackend, NODE_BACKENDS } from '../node/backend.js';
import { loadTrainedTable } from '../node/tabular-io.js';
import { writeFileAtomic } from '../node/atomic-write.js';
import { predictTable, type Predictions } from '../tabular/tabular-model.js';
import type { Table } from '../data/table.js';
import { UsageError } from './errors.js';

/** One record per input row: the row's label, then per task its prediction and uncertainty. */
export function predictionRecords(table: Table, preds: Predictions): Record<string, unknown>[] {
  return Array.from({ length: preds.rows }, (_, i) => {
    const rec: Record<string, unknown> = { row: table.rowLabel(i) };
    for (const t of preds.tasks) {
      if (t.kind === 'regression') {
        rec[t.task] = {
          prediction: t.prediction[i],
          sigma: t.sigmas[i],
          lower68: t.lower68[i],
          upper68: t.upper68[i],
          lower95: t.lower95[i],
          upper95: t.upper95[i],
          ...(t.aleatoricSigmas && t.epistemicSigmas
            ? { aleatoricSigma: t.aleatoricSigmas[i], epistemicSigma: t.epistemicSigmas[i] }
            : {}),
        };
      } else {
        rec[t.task] = {
          label: t.labels[i],
          probabilities: Object.fromEntries(t.classes.map((c, k) => [c, t.probabilities[i]![k]])),
          ...(t.entropy && t.mutualInformation
            ? { entropy: t.entropy[i], mutualInformation: t.mutualInformation[i] }
            : {}),
        };
      }
    }
    return rec;
  });
}

/** The same as flat CSV columns: `<task>`, `<task> sigma`, `<task> lower95` …, `<task> P(<class>)`. */
export function predictionCsv(table: Table, preds: Predictions): string {
  const rows = Array.from({ length: preds.rows }, (_, i) => {
    const rec: Record<string, string | number> = { row: table.rowLabel(i) };
    for (const t of preds.tasks) {
      if (t.kind === 'regression') {
        rec[t.task] = t.prediction[i]!;
        rec[`${t.task} sigma`] = t.sigmas[i]!;
        rec[`${t.task} lower95`] = t.lower95[i]!;
        rec[`${t.task} upper95`] = t.upper95[i]!;
        if (t.aleatoricSigmas && t.epistemicSigmas) {
          rec[`${t.task} aleatoric sigma`] = t.aleatoricSigmas[i]!;
          rec[`${t.task} epistemic sigma`] = t.epistemicSigmas[i]!;
        }
      } else {
        rec[t.task] = t.labels[i]!;
        t.classes.forEach((c, k) => (rec[`${t.task} P(${c})`] = t.probabilities[i]![k]!));
        if (t.entropy && t.mutualInformation) {
          rec[`${t.task} entropy`] = t.entropy[i]!;
          rec[`${t.task} mutual information`] = t.mutualInformation[i]!;
        }
      }
    }
    return rec;
  });
  return Papa.unparse(rows) + '\n';
}

export function predictCommand(): Command {
  return new Command('predict')
    .description(
      'predict every target of a trained model, with intervals (regression) and class probabilities',
    )
    .argument('<modelDir>', 'a folder written by tfjs-mtl train')
    .argument('<file>', 'a CSV/JSON table with the feature columns')
    .option('--out <file>', 'write predictions to a .csv or .json file (default: CSV on stdout)')
    .addOption(new Option('--backend <name>', 'TF.js backend').choices([...NODE_BACKENDS]).default('wasm'))
    .action(async (modelDir: string, file: string, flags: { out?: string; backend: string }) => {
      const format = flags.out ? extname(flags.out).toLowerCase() : '.csv';
      if (format !== '.csv' && format !== '.json')
        throw new UsageError(`--out must end in .csv or .json, got '${flags.out}'`);
      await setupBackend(flags.backend);
      const tm = await loadTrainedTable(modelDir);
      const table = await readTableFile(file);
      const preds = predictTable(tm, table);
      for (const w of preds.warnings) process.stderr.write(`warning: ${w}\n`);
      const text =
        format === '.json'
          ? JSON.stringify(predictionRecords(table, preds), null, 2) + '\n'
          : predictionCsv(table, preds);
      if (flags.out) {
        await writeFileAtomic(resolve(flags.out), text);
        process.stderr.write(`wrote ${preds.rows} predictions to ${flags.out}\n`);
      } else {
        process.stdout.write(text);
      }
      tm.model.dispose();
    });
}
