import { describe, expect, it } from 'vitest';
import {
  comparisonMarkdown,
  deltaM,
  meanStd,
  summarizeComparison,
  SINGLE_TASK,
  type CompareRun,
} from './compare-summary.js';

describe('comparison summary', () => {
  it('Δm is the mean over tasks of the signed relative improvement (LibMTL)', () => {
    const single = { a: { accuracy: 0.8 }, b: { rmse: 10 } };
    // accuracy +10 % relative, rmse 20 % lower: both improvements
    expect(deltaM({ a: { accuracy: 0.88 }, b: { rmse: 8 } }, single)).toBeCloseTo(15, 10);
    // rmse 20 % higher is −20
    expect(deltaM({ a: { accuracy: 0.8 }, b: { rmse: 12 } }, single)).toBeCloseTo(-10, 10);
  });

  it('mean ± sample std over seeds', () => {
    const m = meanStd([1, 2, 3]);
    expect(m.mean).toBe(2);
    expect(m.std).toBeCloseTo(1, 12);
    expect(meanStd([5]).std).toBe(0);
    expect(meanStd([NaN]).n).toBe(0);
  });

  it('summarises per strategy against same-seed single-task runs and renders a table', () => {
    const runs: CompareRun[] = [
      { strategy: SINGLE_TASK, seed: 0, metrics: { a: { accuracy: 0.8, count: 10 } }, trainSeconds: 1 },
      { strategy: SINGLE_TASK, seed: 0, metrics: { b: { rmse: 10 } }, trainSeconds: 2 },
      { strategy: SINGLE_TASK, seed: 1, metrics: { a: { accuracy: 0.9 } }, trainSeconds: 1 },
      { strategy: SINGLE_TASK, seed: 1, metrics: { b: { rmse: 20 } }, trainSeconds: 2 },
      {
        strategy: 'uncertainty',
        seed: 0,
        metrics: { a: { accuracy: 0.88 }, b: { rmse: 8 } },
        trainSeconds: 4,
      },
      {
        strategy: 'uncertainty',
        seed: 1,
        metrics: { a: { accuracy: 0.9 }, b: { rmse: 20 } },
        trainSeconds: 6,
      },
    ];
    const [single, uw] = summarizeComparison(runs);
    expect(single!.trainSeconds.mean).toBe(3);
    expect(single!.metrics['a']!['accuracy']!.mean).toBeCloseTo(0.85, 12);
    expect(single!.metrics['a']!['count']).toBeUndefined();
    expect(uw!.deltaM!.mean).toBeCloseTo((15 + 0) / 2, 10);
    expect(uw!.metrics['b']!['rmse']!.std).toBeCloseTo(Math.SQRT2 * 6, 10);
    const md = comparisonMarkdown([single!, uw!], ['a', 'b']);
    expect(md.split('\n')[0]).toBe('| strategy | a accuracy ↑ | b rmse ↓ | Δm % ↑ | train s |');
    expect(md).toContain('| uncertainty | 0.890 ± 0.014 | 14.0 ± 8.5 | 7.50 ± 10.61 | 5.0 ± 1.4 |');
    expect(md).toContain('| single-task | 0.850 ± 0.071 | 15.0 ± 7.1 | 0 (baseline) | 3.0 ± 0.0 |');
  });
});
