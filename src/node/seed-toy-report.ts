import { join } from 'node:path';
import type { SeedToyResult } from '../experiments/seed-toy.js';
import { lossCurveSpec, scatterSpec, sigmaTrajectorySpec } from '../plot/specs.js';
import { historySeries } from '../train/history.js';
import { writeFileAtomic } from './atomic-write.js';
import { writePlot } from './render.js';

export interface SeedToyReportFiles {
  summary: string;
  history: string;
  plots: string[];
}

/** Writes `summary.json`, `history.json` and PNG + SVG plots (data, loss, σ) of a seed-toy run into `dir`. */
export async function writeSeedToyReport(
  result: SeedToyResult,
  dir: string,
  settings: Record<string, unknown>,
): Promise<SeedToyReportFiles> {
  const { data, history } = result;
  const summary = {
    experiment: 'seed-toy',
    ...settings,
    backend: result.backend,
    steps: result.steps,
    trainSeconds: result.trainSeconds,
    msPerStep: (1000 * result.trainSeconds) / Math.max(result.steps, 1),
    tasks: result.tasks,
    finalLoss: history.epochs.at(-1)?.loss ?? null,
    createdAt: new Date().toISOString(),
  };
  const summaryPath = join(dir, 'summary.json');
  const historyPath = join(dir, 'history.json');
  await writeFileAtomic(historyPath, JSON.stringify(history));
  const names = result.tasks.map((t) => t.name);
  const plots = [
    await writePlot(
      scatterSpec({
        title: `Seed toy data (N = ${data.x.length}, seed ${JSON.stringify(settings['seed'] ?? 0)})`,
        series: names.map((name, i) => ({ name, x: data.x, y: data.y[i]! })),
        xTitle: 'x',
        yTitle: 'y',
      }),
      join(dir, 'data'),
    ),
    await writePlot(
      lossCurveSpec({
        title: 'Training loss (mean over each epoch)',
        epochs: history.epochs.map((e) => e.epoch),
        series: [
          { name: 'total', values: history.epochs.map((e) => e.loss) },
          ...names.map((name) => ({
            name,
            values: historySeries(history, (e) => e.taskLosses[name]).values,
          })),
        ],
        yTitle: 'loss',
        logY: true,
      }),
      join(dir, 'loss'),
    ),
    await writePlot(
      sigmaTrajectorySpec({
        title: 'Learned σ per task',
        epochs: history.epochs.map((e) => e.epoch),
        tasks: result.tasks.map((t) => ({
          name: t.name,
          sigma: historySeries(history, (e) => e.sigmas?.[t.name]).values,
          trueSigma: t.trueSigma,
        })),
        logY: true,
      }),
      join(dir, 'sigma'),
    ),
  ];
  // the summary last: its presence marks a finished run
  await writeFileAtomic(summaryPath, JSON.stringify(summary, null, 2) + '\n');
  return { summary: summaryPath, history: historyPath, plots: plots.flatMap((p) => [p.png, p.svg]) };
}
