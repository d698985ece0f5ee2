import { describe, expect, it } from 'vitest';
import { classificationPredictive, entropy, regressionPredictive } from './predictive.js';

const state = { kind: 'regression' as const, name: 'y', mean: 10, std: 2 };

describe('predictive distributions from Monte Carlo passes', () => {
  it('regression: mean of the passes, epistemic = their spread, aleatoric = mean predicted variance', () => {
    // two rows, three passes of a heteroscedastic head [mean, log σ²] on the standardised scale
    const passes = [
      [
        [0, Math.log(1)],
        [1, Math.log(4)],
      ],
      [
        [1, Math.log(1)],
        [1, Math.log(4)],
      ],
      [
        [2, Math.log(4)],
        [1, Math.log(1)],
      ],
    ];
    const r = regressionPredictive(passes, state, { heteroscedastic: true, sigma: NaN, scale: 1 });
    // row 0: means 10, 12, 14 → 12, spread √(8/3); aleatoric √(mean(1,1,4)·4) = √8
    expect(r.prediction[0]).toBeCloseTo(12, 10);
    expect(r.epistemic![0]).toBeCloseTo(Math.sqrt(8 / 3), 10);
    expect(r.aleatoric![0]).toBeCloseTo(Math.sqrt(8), 10);
    expect(r.sigmas[0]).toBeCloseTo(Math.sqrt(8 + 8 / 3), 10);
    // row 1: passes agree → no epistemic part
    expect(r.epistemic![1]).toBeCloseTo(0, 10);
    expect(r.aleatoric![1]).toBeCloseTo(Math.sqrt(((4 + 4 + 1) / 3) * 4), 10);
    // one pass, homoscedastic: the task's σ, no parts
    const one = regressionPredictive([[[0.5]]], state, {
      heteroscedastic: false,
      sigma: 3,
      scale: 1,
    });
    expect(one.prediction[0]).toBe(11);
    expect(one.sigmas[0]).toBe(3);
    expect(one.epistemic).toBeUndefined();
  });

  it('classification: entropy of the mean, mutual information = what the passes disagree on', () => {
    expect(entropy([0.5, 0.5])).toBeCloseTo(Math.log(2), 12);
    expect(entropy([1, 0])).toBeCloseTo(0, 12);
    // two confident passes that disagree: mean uniform (H = log 2), each pass H ≈ 0 → MI ≈ log 2
    const big = 40;
    const disagree = classificationPredictive([[[big, 0]], [[0, big]]], 'classification', 1);
    expect(disagree.probabilities[0]![0]).toBeCloseTo(0.5, 10);
    expect(disagree.entropy![0]).toBeCloseTo(Math.log(2), 10);
    expect(disagree.mutualInformation![0]).toBeCloseTo(Math.log(2), 10);
    // passes that agree on 50/50: all aleatoric, MI 0
    const agree = classificationPredictive([[[0, 0]], [[0, 0]]], 'classification', 1);
    expect(agree.entropy![0]).toBeCloseTo(Math.log(2), 10);
    expect(agree.mutualInformation![0]).toBeCloseTo(0, 10);
    // binary logits through the sigmoid, at a temperature
    const bin = classificationPredictive([[[2]], [[-2]]], 'binary', 2);
    const p = 1 / (1 + Math.exp(-1));
    expect(bin.probabilities[0]).toEqual([expect.closeTo(0.5, 10), expect.closeTo(0.5, 10)]);
    expect(bin.mutualInformation![0]).toBeCloseTo(Math.log(2) - entropy([p, 1 - p]), 10);
  });
});
