import { describe, expect, it } from 'vitest';
import type { SceneMetrics } from './evaluate.js';
import {
  bestFixed,
  meanStd,
  sceneResultsMarkdown,
  summarizeSceneRuns,
  verdict,
  type SceneConfigInfo,
  type SceneRunRecord,
} from './experiment-summary.js';

const metrics = (iou: number, vector: number, depth: number): SceneMetrics => ({
  semantic: { meanIoU: iou, pixelAccuracy: 0.9, classIoU: [] },
  instance: {
    vectorError: vector,
    vectorAbsError: vector / 2,
    ap50: 0.5,
    meanMatchedIoU: 0.5,
    predictedThings: true,
  },
  depth: { meanAbsError: depth, rmse: depth * 2 },
});

const ALL = ['semantic', 'instance', 'depth'] as SceneConfigInfo['tasks'];
const configs: SceneConfigInfo[] = [
  { id: 'learned-all', label: 'learned, all three', group: 'learned', tasks: ALL, weighting: 'uncertainty' },
  {
    id: 'unweighted',
    label: 'unweighted sum',
    group: 'fixed',
    tasks: ALL,
    weighting: 'fixed',
    weights: [1 / 3, 1 / 3, 1 / 3],
  },
  {
    id: 'fixed-a',
    label: 'fixed a',
    group: 'fixed',
    tasks: ALL,
    weighting: 'fixed',
    weights: [0.8, 0.1, 0.1],
  },
  {
    id: 'single-depth',
    label: 'depth only',
    group: 'single',
    tasks: ['depth'],
    weighting: 'fixed',
    weights: [1],
  },
  { id: 'never-run', label: 'never run', group: 'fixed', tasks: ALL, weighting: 'fixed', weights: [1, 1, 1] },
];

const run = (configId: string, seed: number, m: SceneMetrics, s?: number[]): SceneRunRecord => ({
  configId,
  seed,
  metrics: m,
  log: [
    {
      step: 10,
      losses: [1, 1, 1],
      total: 3,
      weights: [1, 2, 3],
      learningRate: 1e-3,
      ...(s ? { logVariances: s } : {}),
    },
  ],
  trainSeconds: 1,
  stepMs: 100 + seed,
  dir: `runs/${configId}-seed${seed}`,
});

const records: SceneRunRecord[] = [
  run('learned-all', 0, metrics(0.7, 2, 0.01), [0, Math.log(2), Math.log(4)]),
  run('learned-all', 1, metrics(0.8, 2, 0.01), [0, Math.log(2), Math.log(4)]),
  run('unweighted', 0, metrics(0.5, 3, 0.02)),
  run('unweighted', 1, metrics(0.6, 3, 0.02)),
  run('fixed-a', 0, metrics(0.75, 2.5, 0.03)),
  run('fixed-a', 1, metrics(0.75, 2.5, 0.03)),
  { ...run('single-depth', 0, { depth: { meanAbsError: 0.012, rmse: 0.02 } }) },
];

describe('meanStd', () => {
  it('gives the mean and the sample std, ignoring non-finite values', () => {
    const v = meanStd([1, 3, NaN]);
    expect(v).toEqual({ mean: 2, std: Math.SQRT2, n: 2 });
    expect(meanStd([5])).toEqual({ mean: 5, std: 0, n: 1 });
    expect(meanStd([]).n).toBe(0);
  });
});

describe('summarizeSceneRuns', () => {
  const summaries = summarizeSceneRuns(configs, records);

  it('averages each column over seeds, in percent and ×10⁻³ where the table says so', () => {
    expect(summaries.map((s) => s.config.id)).toEqual([
      'learned-all',
      'unweighted',
      'fixed-a',
      'single-depth',
    ]);
    const learned = summaries[0]!;
    expect(learned.runs).toBe(2);
    expect(learned.values.iou!.mean).toBeCloseTo(75, 10);
    expect(learned.values.iou!.std).toBeCloseTo(Math.SQRT2 * 5, 10);
    expect(learned.values.depth!.mean).toBeCloseTo(10, 10);
    expect(learned.sigma2).toEqual([1, 2, 4].map((v) => expect.closeTo(v, 10) as unknown as number));
    expect(learned.stepMs.mean).toBe(100.5);
    const single = summaries[3]!;
    expect(single.values.iou).toBeUndefined();
    expect(single.sigma2).toBeUndefined();
  });

  it('picks the best fixed weights by mean rank and words the verdict', () => {
    const best = bestFixed(summaries)!;
    expect(best.config.id).toBe('fixed-a');
    const text = verdict(summaries[0]!, summaries[1]!);
    expect(text).toContain('learned vs unweighted sum');
    expect(text).toContain('seg. IoU % better (75.0 vs 55.0)');
    expect(text).toContain('instance err. px better');
    expect(verdict(summaries[0]!, best)).toMatch(
      /seg\. IoU % better \(75\.0 vs 75\.0, within one std\)|seg\. IoU % worse/,
    );
  });

  it('writes the table, the verdict and the figures into markdown', () => {
    const md = sceneResultsMarkdown(summaries, {
      command: 'tfjs-mtl scenes experiment',
      steps: 10,
      seeds: 2,
      figures: { sweep: 'sweep.png' },
    });
    expect(md).toContain('`tfjs-mtl scenes experiment`');
    expect(md).toContain('| unweighted sum | ⅓ / ⅓ / ⅓ | 55.0 ± 7.1 |');
    expect(md).toContain('| depth only | 0 / 0 / 1 | – | – | – | 12.00 ± 0.00 |');
    expect(md).toContain('1.00 / 2.00 / 4.00');
    expect(md).toContain('## Verdict');
    expect(md).toContain('Best fixed weights by mean rank: fixed a.');
    expect(md).toContain('![sweep](sweep.png)');
    expect(md).not.toContain('not comparable');
    const withInstanceOnly = sceneResultsMarkdown(
      summarizeSceneRuns(
        [
          ...configs,
          {
            id: 'single-instance',
            label: 'instance only',
            group: 'single',
            tasks: ['instance'],
            weighting: 'fixed',
            weights: [1],
          },
        ],
        [...records, run('single-instance', 0, { instance: metrics(0, 2, 0).instance! })],
      ),
      { command: 'x', steps: 1, seeds: 1, figures: {} },
    );
    expect(withInstanceOnly).toContain('true thing pixels');
  });
});
